/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfvisor PCI test device (PCI_VENDOR_NFVISOR:PCI_DEVICE_NFV_TESTDEV, class 0xff0000 "unassigned"),
 * for guest tests of enumeration, BAR sizing/placement, INTx, MSI and MSI-X.
 *
 *   BAR0  32-bit memory, 4 KiB: registers at 0x000-0x7ff, MSI-X table at 0x800, PBA at 0xc00
 *   BAR1  I/O, 32 bytes: the same registers (0x00-0x1f)
 *   BAR2  64-bit prefetchable memory, 16 KiB: the same registers, the rest a 4 KiB scratch RAM at
 * 0x1000 MSI-X with PCI_TESTDEV_VECTORS vectors, MSI with 1 vector, INTA#.
 *
 * Registers (32-bit, little endian; narrower accesses see the low bytes of the register):
 *   0x00 ID       RO  PCI_TESTDEV_MAGIC
 *   0x04 SCRATCH  RW
 *   0x08 FIRE     WO  writing v fires interrupt vector v (MSI-X, else MSI, else INTx assert)
 *   0x0c COUNT    RO  interrupts fired (guest writes to FIRE plus pci_testdev_fire())
 *   0x10 INTX     RW  bit 0: INTx level (write 0 to deassert)
 *   0x14 STATUS   RO  result of the last fire: 0 ok, else the negated errno (e.g. -EAGAIN, -EINVAL)
 *   0x18 HOSTVAL  RO  value set by the host (pci_testdev_set_hostval)
 */
#ifndef NFV_VMM_PCI_TESTDEV_H
#define NFV_VMM_PCI_TESTDEV_H

#include <stdint.h>

#include "pci.h"

#define PCI_TESTDEV_MAGIC 0x5450464eu /* "NFPT" */
#define PCI_TESTDEV_VECTORS 4

enum {
	PCI_TESTDEV_REG_ID = 0x00,
	PCI_TESTDEV_REG_SCRATCH = 0x04,
	PCI_TESTDEV_REG_FIRE = 0x08,
	PCI_TESTDEV_REG_COUNT = 0x0c,
	PCI_TESTDEV_REG_INTX = 0x10,
	PCI_TESTDEV_REG_STATUS = 0x14,
	PCI_TESTDEV_REG_HOSTVAL = 0x18,
};

struct pci_testdev;

/* Add the test device at @slot of @host. 0 or -errno from pci_dev_add / -ENOMEM. */
int pci_testdev_create(struct pci_host *host, unsigned slot, struct pci_testdev **out)
	__attribute__((warn_unused_result));
/*
 * Remove it from the host and free it (vCPUs stopped). NULL-safe. Call it before pci_host_destroy:
 * the host frees the PCI function it still holds, after which only free()ing @td would be left.
 */
void pci_testdev_destroy(struct pci_testdev *td);

struct pci_dev *pci_testdev_pci(struct pci_testdev *td);
/* Fire @vector from the host side; returns what pci_irq_notify returned. */
int pci_testdev_fire(struct pci_testdev *td, unsigned vector);
/* Value the guest reads from HOSTVAL. */
void pci_testdev_set_hostval(struct pci_testdev *td, uint32_t val);
/* Last value the guest wrote to SCRATCH. */
uint32_t pci_testdev_scratch(struct pci_testdev *td);

#endif
