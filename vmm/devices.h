/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Devices of a VM, listed in one table (devices.c) and created from --device specs:
 *
 *   --device TYPE[,slot=N][,key=value...]
 *
 *   virtio-net   socket=PATH (vhost-user), mode=client|server (who connects; default client: the
 *                backend listens, libvirt <source mode='client'>), mac=52:54:00:xx:xx:xx, queues=N,
 *                queue_size=N, mtu=N
 *   virtio-blk   path=FILE, readonly=on|off, serial=STR, queues=N, cache=none|writeback|directsync,
 *                io=io_uring|threads
 *   ne2k-pci     mac=..., backend=tap:IFNAME | vhost-user:PATH[:server]
 *   vfio-pci     host=dddd:bb:dd.f (a device, e.g. an SR-IOV VF, bound to vfio-pci; see net/sriov)
 *   pci-testdev  (the nfvisor PCI test device)
 *
 * The PCI host bridge (CF8/CFC and ECAM) is always present; BARs are placed by the VMM (no firmware)
 * in the MMIO hole and above RAM, and the guest may move them.
 */
#ifndef NFV_VMM_DEVICES_H
#define NFV_VMM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#define VM_MAX_DEVICES 16
#define VM_DEVICE_SPEC_MAX 512

struct vm;
struct jbuf;

struct vm_device_spec {
	char spec[VM_DEVICE_SPEC_MAX]; /* as given on the command line */
};

/* Check a spec's syntax, type and keys without creating anything (for early CLI errors). */
int devices_check_spec(const char *spec, char *why, size_t whylen) __attribute__((warn_unused_result));

/* Create the PCI host and every configured device; on error nothing is left half-created. */
int devices_create(struct vm *vm) __attribute__((warn_unused_result));
void devices_destroy(struct vm *vm);
/* Signal the eventfd bound to MSI-X @vector of the pci-testdev in @slot (host-side interrupt source). */
int devices_fire(struct vm *vm, unsigned slot, unsigned vector) __attribute__((warn_unused_result));
/* "devices":[...] for the control socket's info. */
void devices_info(struct vm *vm, struct jbuf *b);

#endif
