/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfvd's part of SR-IOV device assignment (ARCHITECTURE.md data path 3): the PCI functions of a
 * domain's <interface type='hostdev'> and <hostdev mode='subsystem' type='pci'>.
 *
 * managed='yes': at start nfvd finds the VF's PF and index (physfn / virtfnN), sets the VF's MAC
 * and port VLAN from the interface's <mac> and <vlan><tag> through the PF (a <hostdev> is only
 * bound, no settings change), binds it to vfio-pci and keeps the lease. Leases are persisted in
 * STATE/runtime/NAME.vf.json after each step, so an nfvd restarted while the domain runs (or after
 * its nfv-vmm died) can still release them. On stop, crash or a start that fails halfway they are
 * released in reverse order: the original driver and VF settings come back.
 * managed='no': the device must already be bound to vfio-pci; nfvd does not touch it.
 *
 * A host PCI function is assigned to at most one running domain: nfvd refuses a second one before
 * it touches the device.
 *
 * sysfs is read below nfvd_cfg.sysfs_root (default "/sys"; nfvd --sysfs-root exists for tests
 * against a fake tree).
 */
#ifndef NFV_MGMT_NFVD_VF_H
#define NFV_MGMT_NFVD_VF_H

#include "nfvd.h"

/*
 * Checks that change nothing: no host function of @dom is used by another running domain
 * (-EBUSY), and every managed='no' one exists (-ENODEV) and is bound to vfio-pci (-ENODEV).
 * 0 or -errno with a message in *@err.
 */
int nfvd_vf_check(struct nfvd *d, const struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));

/*
 * Prepare every managed='yes' function of @dom's definition, in device order (interfaces, then
 * hostdevs), recording each lease in @dom and in the runtime record. On failure the functions
 * already prepared stay recorded (nfvd_vf_release undoes them) and -errno is returned with a
 * message in *@err: -ENXIO no IOMMU, -EPERM IOMMU group shared with a host driver, -ENOENT
 * vfio-pci not loaded, -ENOTSUP not a VF / PF without SR-IOV, -EBUSY already on vfio-pci,
 * -ENODEV no such device.
 */
int nfvd_vf_prepare(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));

/*
 * Release every lease of @dom in reverse order (those in memory, or else those of the runtime
 * record left by an earlier nfvd) and remove the record. Failures are logged; every lease is
 * tried.
 */
void nfvd_vf_release(struct nfvd *d, struct nfvd_dom *dom);

/*
 * Append @dom's leases as a JSON array to @sb: [{"addr","pf","vf","orig_driver"}] ("pf" null and
 * "vf" absent for a non-VF <hostdev>). A running domain adopted after an nfvd restart has its
 * leases read from the runtime record first.
 */
void nfvd_vf_json(struct nfvd *d, struct nfvd_dom *dom, struct strbuf *sb);

/* Free @dom's in-memory leases without releasing anything (nfvd exits, the domain runs on). */
void nfvd_vf_forget(struct nfvd_dom *dom);

/* Free the sysfs context (at nfvd exit). */
void nfvd_vf_fini(struct nfvd *d);

#endif
