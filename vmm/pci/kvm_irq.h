/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM interrupt plumbing for one VM, given only its VM fd: the GSI routing table, irqfds, MSI
 * injection, IRQ lines and ioeventfds.
 *
 * Routing table (KVM_SET_GSI_ROUTING replaces the whole table, so this module keeps the copy):
 *   - GSI 0..23 -> IOAPIC pins 0..23 (irqchip 2) and GSI 0..15 -> PIC master/slave pins (irqchip
 *     0/1): exactly the default table KVM builds at KVM_CREATE_IRQCHIP, so installing it changes
 *     nothing for legacy devices (identity mapping: no interrupt source override is implied).
 *   - MSI routes on GSI 24 and up, allocated by kvm_irq_msi_route_add().
 * Call kvm_irq_create() after KVM_CREATE_IRQCHIP. PCI INTx uses GSI 16..19 (see PCI_INTX_GSI in
 * pci.h), level-triggered.
 *
 * pci_kvm_irq_ops (below) implements struct pci_irq_ops on top of this, including the masking
 * protocol for eventfd-driven vectors: while a vector is deliverable its eventfd is an irqfd on its
 * own MSI route; while masked the irqfd is detached, so the eventfd keeps its count (the PCI core
 * shows it as the pending bit), and re-attaching it on unmask makes KVM inject the held message.
 *
 * All functions are thread-safe (one mutex per struct kvm_irq). Return 0 or -errno.
 */
#ifndef NFV_VMM_KVM_IRQ_H
#define NFV_VMM_KVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

#define KVM_IRQ_NR_LEGACY 24 /* IOAPIC pins */

struct kvm_irq;

/*
 * Set up the routing table for @vm_fd (which stays owned by the caller) and install it.
 * Returns 0, -ENOMEM, or the ioctl's -errno (e.g. -ENXIO without an in-kernel irqchip).
 */
int kvm_irq_create(int vm_fd, struct kvm_irq **out) __attribute__((warn_unused_result));
/* Remove the MSI routes and irqfds/ioeventfds still registered through this object. NULL-safe. */
void kvm_irq_destroy(struct kvm_irq *ki);

/* Allocate a GSI routed to the MSI message (@addr, @data) and install the table; *gsi_out >= 24. */
int kvm_irq_msi_route_add(struct kvm_irq *ki, uint64_t addr, uint32_t data, unsigned *gsi_out)
	__attribute__((warn_unused_result));
/* Re-point an MSI route (the guest reprogrammed the vector). -ENOENT if @gsi is not ours. */
int kvm_irq_msi_route_update(struct kvm_irq *ki, unsigned gsi, uint64_t addr, uint32_t data)
	__attribute__((warn_unused_result));
/* Free an MSI route (detach its irqfds first). -ENOENT if @gsi is not an MSI route of ours. */
int kvm_irq_msi_route_remove(struct kvm_irq *ki, unsigned gsi) __attribute__((warn_unused_result));
/* Number of routing entries currently installed (tests and diagnostics). */
unsigned kvm_irq_nr_routes(struct kvm_irq *ki);

/*
 * KVM_IRQFD: signalling @fd raises @gsi. @resample_fd >= 0 makes it a level-triggered INTx irqfd
 * (KVM deasserts on EOI and signals @resample_fd so the device can re-assert); -1 for MSI.
 */
int kvm_irq_irqfd_assign(struct kvm_irq *ki, int fd, unsigned gsi, int resample_fd)
	__attribute__((warn_unused_result));
int kvm_irq_irqfd_deassign(struct kvm_irq *ki, int fd, unsigned gsi)
	__attribute__((warn_unused_result));

/*
 * KVM_SIGNAL_MSI. Returns 1 when delivered, 0 when the guest blocked it, or -errno; -EPERM means no
 * local APIC matched the destination (KVM reports "no destination" as -1).
 */
int kvm_irq_signal_msi(struct kvm_irq *ki, uint64_t addr, uint32_t data)
	__attribute__((warn_unused_result));
/* KVM_IRQ_LINE: set the level of @gsi (0..23, or an MSI GSI for edge: level 1 then 0). */
int kvm_irq_line(struct kvm_irq *ki, unsigned gsi, int level) __attribute__((warn_unused_result));

/*
 * KVM_IOEVENTFD: a guest write of @len bytes (1, 2, 4, 8; 0 = any length, MMIO only) to @addr on
 * the PIO (@pio) or MMIO bus signals @fd instead of exiting. With @datamatch only writes of @data
 * match. Deassign with the same arguments.
 */
struct kvm_ioevent {
	bool pio;
	uint64_t addr;
	unsigned len;
	bool datamatch;
	uint64_t data;
	int fd;
};
int kvm_irq_ioeventfd_assign(struct kvm_irq *ki, const struct kvm_ioevent *ev)
	__attribute__((warn_unused_result));
int kvm_irq_ioeventfd_deassign(struct kvm_irq *ki, const struct kvm_ioevent *ev)
	__attribute__((warn_unused_result));

/*
 * struct pci_irq_ops for pci_host_cfg with opaque = the struct kvm_irq:
 *   route_msi -> KVM_SIGNAL_MSI, set_intx -> KVM_IRQ_LINE,
 *   vector_update -> MSI route + irqfd while deliverable, irqfd detached while masked, route freed
 *   when the fd is unbound. Destroy the pci_host before the kvm_irq.
 */
extern const struct pci_irq_ops pci_kvm_irq_ops;

#endif
