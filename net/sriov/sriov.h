/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SR-IOV physical/virtual function management and vfio-pci binding (ARCHITECTURE.md data path 3).
 *
 * Discovery reads the SR-IOV Extended Capability (PCIe Base 4.0 s9.3.3, capability ID 0x0010)
 * through libpci: TotalVFs, NumVFs, First VF Offset, VF Stride and VF Device ID. A VF's routing ID
 * is PF RID + First VF Offset + n * VF Stride (s9.3.3.9, s9.3.3.10); the kernel's virtfnN links
 * must agree and are what we follow.
 * The VF count is set through sysfs sriov_numvfs, each VF is configured through rtnetlink on the
 * PF's netdev (IFLA_VFINFO_LIST, via libnl-route-3), and a VF is handed to a guest by binding it to
 * vfio-pci (driver_override + unbind + drivers_probe) once its IOMMU group is viable: every device
 * in /sys/kernel/iommu_groups/N/devices is bound to vfio-pci or to no driver.
 *
 * All sysfs paths are relative to a root (default "/sys") so that the unit tests run against a fake
 * tree in a temporary directory. Everything read from sysfs and config space is bounds-checked.
 *
 * Errors (returned as -errno; the message is logged once by the function that failed):
 *   -ENODEV      no such PCI device / VF index beyond NumVFs
 *   -ENOTSUP     the PF has no SR-IOV capability (or the driver does not support sriov_numvfs)
 *   -ENXIO       no IOMMU: the VF has no iommu_group (kernel booted without intel_iommu=on /
 *                amd_iommu, or no IOMMU hardware)
 *   -EPERM       the VF's IOMMU group is shared with a device bound to another host driver
 *   -ENOENT      the vfio-pci driver is not available (module missing: modprobe vfio-pci)
 *   -EBUSY       the VF is already in use (bound to vfio-pci or opened by someone else), or
 *                changing NumVFs while VFs are assigned
 *   -ERANGE      a value beyond the device's limits (NumVFs > TotalVFs, VLAN > 4095, QoS > 7)
 *
 * Library API for nfvd (one context per process; not thread-safe: serialise calls):
 *     sriov_create(NULL, &s);
 *     sriov_vf_prepare(s, "0000:01:00.0", 3, &cfg, &lease);   MAC/VLAN..., bind vfio-pci
 *     ... start nfv-vmm with --device vfio-pci,host=<lease->vf_addr> ...
 *     sriov_vf_release(s, lease);                             on stop or crash
 *     sriov_destroy(s);
 */
#ifndef NFV_NET_SRIOV_H
#define NFV_NET_SRIOV_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#define SRIOV_ADDR_LEN 16   /* "dddd:bb:dd.f" plus NUL, rounded up */
#define SRIOV_DRIVER_LEN 64 /* driver name; "" when unbound */
#define SRIOV_MAX_PFS 64

struct sriov;

struct sriov_cfg {
	const char *sysfs_root; /* NULL: "/sys" */
	/*
	 * Optional: how long sriov_set_num_vfs waits for the VFs' sysfs entries and netdevs to
	 * appear (0: 5000 ms).
	 */
	unsigned settle_ms;
};

/* Create a context; cfg may be NULL. Returns 0 or -ENOMEM / -EINVAL (root too long). */
int sriov_create(const struct sriov_cfg *cfg, struct sriov **out)
	__attribute__((warn_unused_result));
/* NULL-safe. Does not release leases: call sriov_vf_release for each first. */
void sriov_destroy(struct sriov *s);

/* A PCI address "dddd:bb:dd.f" (also accepted: "bb:dd.f", domain 0). Returns 0 or -EINVAL. */
int sriov_parse_addr(const char *s, char out[SRIOV_ADDR_LEN]) __attribute__((warn_unused_result));

struct sriov_pf_info {
	char addr[SRIOV_ADDR_LEN];
	uint16_t vendor_id, device_id;
	uint16_t total_vfs, initial_vfs, num_vfs; /* from the capability (NumVFs as programmed) */
	uint16_t vf_offset, vf_stride, vf_device_id;
	unsigned cap_offset;	       /* of the SR-IOV capability in config space */
	char driver[SRIOV_DRIVER_LEN]; /* "" when no driver is bound */
	char ifname[IF_NAMESIZE];      /* first netdev of the PF, "" when none */
};

/*
 * Every SR-IOV capable PF on the system, sorted by address; VFs themselves are skipped.
 * Returns 0 (with *nr <= max filled) or -errno (libpci could not scan the bus).
 */
int sriov_pf_list(struct sriov *s, struct sriov_pf_info *out, unsigned max, unsigned *nr)
	__attribute__((warn_unused_result));
/* One PF; -ENODEV (no such device) or -ENOTSUP (no SR-IOV capability). */
int sriov_pf_get(struct sriov *s, const char *pf, struct sriov_pf_info *out)
	__attribute__((warn_unused_result));

/*
 * Set NumVFs through sriov_numvfs (the kernel requires going through 0 to change a non-zero
 * count; done here) and wait until the VFs' virtfnN links appear. Refuses with -EBUSY while any
 * VF is bound to vfio-pci, -ERANGE above TotalVFs.
 */
int sriov_set_num_vfs(struct sriov *s, const char *pf, unsigned n)
	__attribute__((warn_unused_result));

struct sriov_vf_info {
	char addr[SRIOV_ADDR_LEN];
	unsigned index;
	uint16_t vendor_id, device_id;
	char driver[SRIOV_DRIVER_LEN];
	int iommu_group; /* -1: none (no IOMMU) */
	char ifname[IF_NAMESIZE];
};

/*
 * VF @vf of @pf (via the PF's virtfnN link; the address is checked against First VF Offset and
 * VF Stride). Returns 0, -ENODEV (no such VF), -EIO (the link disagrees with the capability).
 */
int sriov_vf_get(struct sriov *s, const char *pf, unsigned vf, struct sriov_vf_info *out)
	__attribute__((warn_unused_result));

/* Per-VF settings; a field at its "leave" value is not sent. */
enum sriov_link_state {
	SRIOV_LINK_LEAVE = -1,
	SRIOV_LINK_AUTO = 0, /* IFLA_VF_LINK_STATE_AUTO: follow the PF */
	SRIOV_LINK_ENABLE = 1,
	SRIOV_LINK_DISABLE = 2,
};

struct sriov_vf_cfg {
	bool set_mac;
	uint8_t mac[6];
	int vlan;	     /* -1 leave, 0 none, 1..4095 */
	int qos;	     /* 802.1p priority 0..7, with vlan */
	int spoofchk;	     /* -1 leave, 0 off, 1 on */
	int trust;	     /* -1 leave, 0 off, 1 on */
	int link_state;	     /* enum sriov_link_state */
	int64_t min_tx_rate; /* Mbit/s; -1 leave (both rates are sent together) */
	int64_t max_tx_rate; /* Mbit/s, 0 = unlimited; -1 leave */
};
/* Everything at "leave". */
void sriov_vf_cfg_init(struct sriov_vf_cfg *cfg);

/* What the PF driver reports for a VF (IFLA_VF_INFO). */
struct sriov_vf_state {
	uint8_t mac[6];
	unsigned vlan, qos;
	int spoofchk, trust, link_state; /* -1 when the driver does not report it */
	uint32_t min_tx_rate, max_tx_rate;
};

/*
 * Apply @cfg to VF @vf through rtnetlink on the PF's netdev (RTM_SETLINK, IFLA_VFINFO_LIST).
 * Returns 0, -EINVAL/-ERANGE (bad cfg: nothing sent), -ENODEV (PF has no netdev), or the kernel's
 * error (-EOPNOTSUPP when the PF driver lacks that setting).
 */
int sriov_vf_configure(struct sriov *s, const char *pf, unsigned vf, const struct sriov_vf_cfg *cfg)
	__attribute__((warn_unused_result));
int sriov_vf_query(struct sriov *s, const char *pf, unsigned vf, struct sriov_vf_state *out)
	__attribute__((warn_unused_result));

/*
 * Build the RTM_SETLINK message sriov_vf_configure would send for PF @ifindex, without sending it
 * (for tests and dry runs). On success *buf (malloc'd, free it) holds the netlink message of *len
 * bytes.
 */
int sriov_vf_build_msg(int ifindex, unsigned vf, const struct sriov_vf_cfg *cfg, void **buf,
		       size_t *len) __attribute__((warn_unused_result));

/*
 * IOMMU group checks. sriov_iommu_group returns the group number of @dev, -ENXIO without one.
 * sriov_group_viable returns 0 when every device of the group is bound to vfio-pci or to no
 * driver, -EPERM otherwise (the first offender is logged, with its driver).
 */
int sriov_iommu_group(struct sriov *s, const char *dev) __attribute__((warn_unused_result));
int sriov_group_viable(struct sriov *s, int group) __attribute__((warn_unused_result));

/* The driver bound to @dev into @drv ("" when none). Returns 0 or -ENODEV. */
int sriov_dev_driver(struct sriov *s, const char *dev, char drv[SRIOV_DRIVER_LEN])
	__attribute__((warn_unused_result));

/*
 * Bind @dev to vfio-pci: checks vfio-pci is available, the device is not already bound to it
 * (-EBUSY), the IOMMU group exists and is viable once @dev moves; writes driver_override, unbinds
 * the current driver and probes. On success *orig_driver holds the driver to restore ("" if none).
 * On failure the original binding is restored.
 */
int sriov_bind_vfio(struct sriov *s, const char *dev, char orig_driver[SRIOV_DRIVER_LEN])
	__attribute__((warn_unused_result));
/* Unbind @dev from vfio-pci, clear driver_override and bind @orig_driver again (none if ""). */
int sriov_unbind_vfio(struct sriov *s, const char *dev, const char *orig_driver)
	__attribute__((warn_unused_result));

/*
 * Which PF and VF index @vf_addr is: follows the VF's physfn link, then the PF's virtfnN links
 * back to it. Returns 0 (*@pf and *@index filled), -EINVAL (not a PCI address), -ENODEV (no such
 * device), -ENOTSUP (not an SR-IOV VF: no physfn link), -EIO (the links disagree).
 */
int sriov_vf_locate(struct sriov *s, const char *vf_addr, char pf[SRIOV_ADDR_LEN], unsigned *index)
	__attribute__((warn_unused_result));
/*
 * The checks sriov_bind_vfio makes before it changes anything, without changing anything:
 * -ENODEV (no device), -EBUSY (already on vfio-pci), -ENXIO (no IOMMU group), -ENOENT (vfio-pci
 * not loaded), -EPERM (IOMMU group shared with a device on another host driver). 0 when a bind
 * may proceed.
 */
int sriov_vf_check(struct sriov *s, const char *dev) __attribute__((warn_unused_result));

/* What sriov_vf_prepare did, so that sriov_vf_release can undo exactly that. */
struct sriov_lease {
	char pf[SRIOV_ADDR_LEN];
	unsigned vf;
	char vf_addr[SRIOV_ADDR_LEN]; /* for nfv-vmm: --device vfio-pci,host=<vf_addr> */
	int iommu_group;
	char orig_driver[SRIOV_DRIVER_LEN];
	bool have_state;
	struct sriov_vf_state orig_state; /* MAC/VLAN/... before prepare, restored on release */
};

/*
 * Configure VF @vf of @pf with @cfg (may be NULL) and bind it to vfio-pci. On failure everything
 * done is undone. *out is malloc'd; free it with sriov_vf_release.
 */
int sriov_vf_prepare(struct sriov *s, const char *pf, unsigned vf, const struct sriov_vf_cfg *cfg,
		     struct sriov_lease **out) __attribute__((warn_unused_result));
/*
 * Undo a prepare: unbind vfio-pci, restore the original driver and VF settings, free @lease.
 * Best effort: every step is tried; returns the first error. NULL-safe.
 */
int sriov_vf_release(struct sriov *s, struct sriov_lease *lease);

#endif
