/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfv-vmm's vfio-pci device: a host PCI function (an SR-IOV VF bound to vfio-pci) assigned to the
 * guest on the vmm/pci host bridge (ARCHITECTURE.md data path 3).
 *
 * Config space is virtualised: the header (IDs, class, BARs, command/status, interrupt pin) and the
 * MSI-X / MSI / PCI Express capabilities are emulated by vmm/pci with the host device's values;
 * the command register's bus-master, memory/I-O enable, SERR/parity and INTx-disable bits are
 * written through to the device (VFIO config region); other capabilities of the device's list
 * (power management, vendor-specific, ...) are re-listed with their live contents and are
 * read-only to the guest; extended capabilities (SR-IOV internals, AER) are hidden.
 *
 * BARs: sized from the VFIO regions, placed by the guest. Until the VMM registers them as KVM
 * memslots (vfio_pci_cfg.map_bar, fed by vfio_dev_bar_mmap), accesses trap and are forwarded with
 * pread/pwrite on the region (correct, slow). The MSI-X table and PBA are always trapped and
 * emulated by vmm/pci; memslots never cover their pages.
 *
 * Interrupts: one eventfd per MSI-X (or MSI) vector, bound both to the vmm/pci vector
 * (pci_msi_set_vector_fd: KVM irqfd while the guest has it unmasked) and to the device
 * (VFIO_DEVICE_SET_IRQS) while the guest has MSI-X (MSI) enabled; the data path then has no exits.
 * INTx is the fallback while neither is enabled: VFIO signals a trigger eventfd and auto-masks; the
 * VMM binds it with KVM_IRQFD_FLAG_RESAMPLE to the device's INTx GSI using the unmask eventfd as
 * resamplefd (vfio_pci_intx_fds), or, without resample, calls vfio_pci_intx_service().
 *
 * The device is reset (VFIO_DEVICE_RESET) when opened and when destroyed.
 */
#ifndef NFV_VMM_VFIO_PCI_H
#define NFV_VMM_VFIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"
#include "vfio.h"

struct vfio_pci;

struct vfio_pci_cfg {
	struct pci_host *host;
	unsigned slot;
	struct vfio_dev *dev; /* opened; owned by the vfio_pci from create on (also on failure) */
	/*
	 * Optional: map/unmap [gpa, gpa+size) to the host mapping @hva as guest memory (a KVM
	 * memslot). Called with the PCI device lock held, for each device-backed piece of a BAR.
	 * Return 0 or -errno (the BAR then stays trapped).
	 */
	int (*map_bar)(void *opaque, uint64_t gpa, void *hva, uint64_t size, bool map);
	void *map_opaque;
};

/* Counters of the trapped paths (for the management API and tests). */
struct vfio_pci_stats {
	uint64_t bar_trapped;	  /* BAR accesses forwarded with pread/pwrite */
	uint64_t bar_errors;	  /* of those, failed (reads returned all-ones) */
	uint64_t cfg_passthrough; /* config writes forwarded to the device */
	uint64_t irq_changes;	  /* VFIO_DEVICE_SET_IRQS calls */
	uint64_t irq_errors;
};

/*
 * Create the device at @cfg->slot: read the host config space, build the emulated header and
 * capabilities, create the vector eventfds and enable INTx. Returns 0, -ENOTSUP (MSI-X table and
 * PBA in different BARs; a BAR size vmm/pci cannot represent), -EINVAL, -ENOMEM, or pci_dev_add's
 * error.
 */
int vfio_pci_create(const struct vfio_pci_cfg *cfg, struct vfio_pci **out)
	__attribute__((warn_unused_result));
/* Remove the PCI function, disable interrupts, reset and close the VFIO device. NULL-safe. */
void vfio_pci_destroy(struct vfio_pci *vp);

struct pci_dev *vfio_pci_dev(struct vfio_pci *vp);
void vfio_pci_stats(struct vfio_pci *vp, struct vfio_pci_stats *out);
/* The eventfd of MSI-X (@msix) or MSI vector @v, or -1. */
int vfio_pci_vector_fd(struct vfio_pci *vp, bool msix, unsigned v);
/* INTx trigger and unmask (resample) eventfds, -1 when the device has no INTx. */
void vfio_pci_intx_fds(struct vfio_pci *vp, int *trigger, int *unmask);
/*
 * Without KVM resample: consume the trigger eventfd; when it fired, assert INTx. The guest's
 * acknowledgement is not visible to us, so the line is deasserted and the device unmasked on the
 * next call that finds no new trigger (a poll period later). Returns true when it was asserted.
 */
bool vfio_pci_intx_service(struct vfio_pci *vp);

#endif
