// SPDX-License-Identifier: GPL-2.0-only
/* RTL8029AS PCI glue for the DP8390 model: one I/O BAR, INTA#, no state of its own. */
#include "ne2k_pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ne2k_pci {
	struct dp8390 *chip;
	struct pci_dev *pci;
};

/* One byte of the window at @off (< 32): register, data port (byte wide), or reset port. */
static uint8_t ne2k_byte_read(struct ne2k_pci *n, unsigned off)
{
	if (off < NE2K_PCI_DATA)
		return dp8390_read(n->chip, off);
	if (off < 0x18)
		return (uint8_t)dp8390_data_read(n->chip, 1);
	/* NE2000 reset port: reading it resets the chip (RTL8029AS: ports 0x18-0x1F). */
	dp8390_reset(n->chip);
	return 0;
}

static void ne2k_byte_write(struct ne2k_pci *n, unsigned off, uint8_t v)
{
	if (off < NE2K_PCI_DATA)
		dp8390_write(n->chip, off, v);
	else if (off < 0x18)
		dp8390_data_write(n->chip, 1, v);
	else
		dp8390_reset(n->chip);
}

uint64_t ne2k_pci_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct ne2k_pci *n = opaque;
	uint64_t v = 0;

	if (off >= NE2K_PCI_BAR_SIZE)
		return ~0ull;
	/* 16/32-bit data port accesses are whole words (rep insw/insl: once per element). */
	if (off >= NE2K_PCI_DATA && off < 0x18 && (size == 2 || size == 4))
		return dp8390_data_read(n->chip, size);
	for (unsigned i = 0; i < size && off + i < NE2K_PCI_BAR_SIZE; i++)
		v |= (uint64_t)ne2k_byte_read(n, (unsigned)off + i) << (8 * i);
	return v;
}

void ne2k_pci_io_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct ne2k_pci *n = opaque;

	if (off >= NE2K_PCI_BAR_SIZE)
		return;
	if (off >= NE2K_PCI_DATA && off < 0x18 && (size == 2 || size == 4)) {
		dp8390_data_write(n->chip, size, (uint32_t)val);
		return;
	}
	for (unsigned i = 0; i < size && off + i < NE2K_PCI_BAR_SIZE; i++)
		ne2k_byte_write(n, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

static const struct bus_ops ne2k_pci_ops = {.read = ne2k_pci_io_read, .write = ne2k_pci_io_write};

int ne2k_pci_create(struct pci_host *host, const struct ne2k_pci_cfg *cfg, struct ne2k_pci **out)
{
	struct dp8390_cfg ccfg = {.rtl8029 = true};
	struct pci_dev_cfg pcfg = {
		.vendor_id = NE2K_PCI_VENDOR,
		.device_id = NE2K_PCI_DEVICE,
		.subsys_vendor_id = NE2K_PCI_VENDOR,
		.subsys_id = NE2K_PCI_DEVICE,
		.revision = 0,
		.class_code = NE2K_PCI_CLASS,
		.intx_pin = 1,
		.bar = {[0] = {.type = PCI_BAR_IO,
			       .size = NE2K_PCI_BAR_SIZE,
			       .ops = &ne2k_pci_ops}},
	};
	struct ne2k_pci *n;
	int ret;

	if (!host || !cfg || !out)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pcfg.name = cfg->name ? cfg->name : "ne2k-pci";
	pcfg.bar[0].opaque = n;
	/* The function goes first so the chip can be wired to its INTx line; no access happens yet.
	 */
	ret = pci_dev_add(host, cfg->slot, &pcfg, &n->pci);
	if (ret) {
		free(n);
		return ret;
	}
	ccfg.name = pcfg.name;
	memcpy(ccfg.mac, cfg->mac, sizeof(ccfg.mac));
	ccfg.backend = cfg->backend;
	pci_intx_line(n->pci, &ccfg.irq);
	ret = dp8390_create(&ccfg, &n->chip);
	if (ret) {
		pci_dev_remove(n->pci);
		free(n);
		return ret;
	}
	*out = n;
	return 0;
}

void ne2k_pci_destroy(struct ne2k_pci *n)
{
	if (!n)
		return;
	pci_dev_remove(n->pci);
	dp8390_destroy(n->chip);
	free(n);
}

struct dp8390 *ne2k_pci_chip(struct ne2k_pci *n)
{
	return n->chip;
}

struct pci_dev *ne2k_pci_dev(struct ne2k_pci *n)
{
	return n->pci;
}
