/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ne2k-pci: the DP8390 model behind Realtek RTL8029AS PCI glue (10ec:8029, class 0x020000,
 * Ethernet controller), as guests' ne2k-pci / ed(4) / NE2000 packet drivers expect it:
 *
 *   BAR0  I/O, 32 ports
 *     0x00-0x0F  DP8390 registers (page selected by CR.PS)
 *     0x10-0x17  data port (remote DMA): 8/16-bit, and 32-bit as the RTL8029AS allows
 *     0x18-0x1F  reset port: a read or a write resets the chip (drivers read then write 0x1F)
 *   INTA#: level = (ISR & IMR) != 0
 *
 * Wider accesses to the register block are split into byte accesses of consecutive registers.
 * The glue itself keeps no state and takes no lock: the chip serialises.
 *
 * Wiring in a VMM (backend on the control evloop thread):
 *   tap:        tap_create(&(struct tap_cfg){ .ifname, .fd = -1, .loop }, &tap);
 *               tap_backend(tap, &cfg.backend); ne2k_pci_create(host, &cfg, &nic);
 *               dp8390_frontend(ne2k_pci_chip(nic), &fe); tap_attach(tap, &fe);
 *   switch:     vun_port_create(...) (net/virtio/vun_port.h, thread-safe send);
 *               vun_port_backend(port, &cfg.backend); ne2k_pci_create(...);
 *               dp8390_frontend(ne2k_pci_chip(nic), &fe); vun_port_attach(port, &fe);
 * pci_host_assign_bars() (or the guest's firmware) places BAR0; the guest enables I/O decode.
 */
#ifndef NFV_NET_NE2000_NE2K_PCI_H
#define NFV_NET_NE2000_NE2K_PCI_H

#include <stdint.h>

#include "dp8390.h"
#include "netdev.h"
#include "pci.h"

#define NE2K_PCI_VENDOR 0x10ec
#define NE2K_PCI_DEVICE 0x8029
#define NE2K_PCI_CLASS 0x020000
#define NE2K_PCI_BAR_SIZE 32u
#define NE2K_PCI_DATA 0x10
#define NE2K_PCI_RESET 0x1f

struct ne2k_pci;

struct ne2k_pci_cfg {
	const char *name; /* for messages; NULL: "ne2k-pci" */
	unsigned slot;	  /* PCI slot on @host, 1..31 */
	uint8_t mac[6];
	struct netdev_backend backend; /* may be empty and set later with dp8390_set_backend() */
};

/*
 * Create the chip and add it as a PCI function at cfg->slot. 0, -EINVAL (cfg), -EEXIST (slot
 * taken), -ENOMEM, or another -errno from pci_dev_add (its message names the field).
 */
int ne2k_pci_create(struct pci_host *host, const struct ne2k_pci_cfg *cfg, struct ne2k_pci **out)
	__attribute__((warn_unused_result));
/* Remove the PCI function and free the chip; vCPUs and the backend stopped. NULL-safe. */
void ne2k_pci_destroy(struct ne2k_pci *n);

/* The chip: for dp8390_frontend() (to attach a backend), statistics, the backend seam. */
struct dp8390 *ne2k_pci_chip(struct ne2k_pci *n);
struct pci_dev *ne2k_pci_dev(struct ne2k_pci *n);

/* BAR0 access, as the PCI core dispatches it (exposed for tests and fuzzing). */
uint64_t ne2k_pci_io_read(void *opaque, uint64_t off, unsigned size);
void ne2k_pci_io_write(void *opaque, uint64_t off, unsigned size, uint64_t val);

#endif
