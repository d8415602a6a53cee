// SPDX-License-Identifier: GPL-2.0-only
/* nfvisor PCI test device: a few registers behind three BAR kinds, MSI-X, MSI and INTx. */
#include "pci_testdev.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define TD_BAR0_SIZE 4096
#define TD_MSIX_TABLE 0x800
#define TD_MSIX_PBA 0xc00
#define TD_BAR1_SIZE 32
#define TD_BAR2_SIZE (16 * 1024)
#define TD_RAM_OFF 0x1000
#define TD_RAM_SIZE 4096
#define TD_NR_REGS 8

struct pci_testdev {
	struct pci_dev *pci;
	pthread_mutex_t lock;
	uint32_t scratch;
	uint32_t count;
	uint32_t intx;
	uint32_t status;
	uint32_t hostval;
	uint8_t ram[TD_RAM_SIZE];
};

static int td_fire(struct pci_testdev *td, unsigned vector)
{
	int ret = pci_irq_notify(td->pci, vector);

	pthread_mutex_lock(&td->lock);
	td->count++;
	td->status = (uint32_t)ret;
	if (ret == 0 && !pci_msix_enabled(td->pci) && !pci_msi_enabled(td->pci))
		td->intx = 1;
	pthread_mutex_unlock(&td->lock);
	return ret;
}

static uint32_t td_reg_read(struct pci_testdev *td, unsigned reg)
{
	uint32_t v = 0;

	pthread_mutex_lock(&td->lock);
	switch (reg) {
	case PCI_TESTDEV_REG_ID:
		v = PCI_TESTDEV_MAGIC;
		break;
	case PCI_TESTDEV_REG_SCRATCH:
		v = td->scratch;
		break;
	case PCI_TESTDEV_REG_COUNT:
		v = td->count;
		break;
	case PCI_TESTDEV_REG_INTX:
		v = td->intx;
		break;
	case PCI_TESTDEV_REG_STATUS:
		v = td->status;
		break;
	case PCI_TESTDEV_REG_HOSTVAL:
		v = td->hostval;
		break;
	}
	pthread_mutex_unlock(&td->lock);
	return v;
}

static void td_reg_write(struct pci_testdev *td, unsigned reg, uint32_t val)
{
	switch (reg) {
	case PCI_TESTDEV_REG_SCRATCH:
		pthread_mutex_lock(&td->lock);
		td->scratch = val;
		pthread_mutex_unlock(&td->lock);
		break;
	case PCI_TESTDEV_REG_FIRE:
		(void)td_fire(td, val);
		break;
	case PCI_TESTDEV_REG_INTX:
		pthread_mutex_lock(&td->lock);
		td->intx = val & 1;
		pthread_mutex_unlock(&td->lock);
		pci_set_intx(td->pci, (int)(val & 1));
		break;
	}
}

/*
 * Registers are dwords; a narrower or unaligned access reads the bytes it covers of the dword(s)
 * and writes merge into the covered register (only the dword at the access's start).
 */
static uint64_t td_regs_read(struct pci_testdev *td, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		uint32_t r = o < 4 * TD_NR_REGS ? td_reg_read(td, (unsigned)(o & ~3ull)) : 0;

		v |= (uint64_t)((r >> (8 * (o & 3))) & 0xff) << (8 * i);
	}
	return v;
}

static void td_regs_write(struct pci_testdev *td, uint64_t off, unsigned size, uint64_t val)
{
	unsigned reg = (unsigned)(off & ~3ull), shift = (unsigned)(off & 3) * 8;
	uint32_t cur, mask;

	if (off >= 4 * TD_NR_REGS)
		return;
	if (size >= 4 && shift == 0) {
		td_reg_write(td, reg, (uint32_t)val);
		return;
	}
	mask = (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
	cur = td_reg_read(td, reg);
	td_reg_write(td, reg, (cur & ~mask) | (((uint32_t)val << shift) & mask));
}

static uint64_t td_bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_testdev *td = opaque;
	uint64_t v = 0;

	if (off >= TD_RAM_OFF && off - TD_RAM_OFF + size <= TD_RAM_SIZE) {
		pthread_mutex_lock(&td->lock);
		memcpy(&v, &td->ram[off - TD_RAM_OFF], size);
		pthread_mutex_unlock(&td->lock);
		return v;
	}
	return td_regs_read(td, off, size);
}

static void td_bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_testdev *td = opaque;

	if (off >= TD_RAM_OFF && off - TD_RAM_OFF + size <= TD_RAM_SIZE) {
		pthread_mutex_lock(&td->lock);
		memcpy(&td->ram[off - TD_RAM_OFF], &val, size);
		pthread_mutex_unlock(&td->lock);
		return;
	}
	td_regs_write(td, off, size, val);
}

static const struct bus_ops td_ops = {.read = td_bar_read, .write = td_bar_write};

int pci_testdev_create(struct pci_host *host, unsigned slot, struct pci_testdev **out)
{
	struct pci_testdev *td = calloc(1, sizeof(*td));
	struct pci_dev_cfg cfg = {
		.name = "nfv-testdev",
		.vendor_id = PCI_VENDOR_NFVISOR,
		.device_id = PCI_DEVICE_NFV_TESTDEV,
		.subsys_vendor_id = PCI_VENDOR_NFVISOR,
		.subsys_id = PCI_DEVICE_NFV_TESTDEV,
		.revision = 1,
		.class_code = 0xff0000,
		.intx_pin = 1,
		.bar =
			{
				[0] = {.type = PCI_BAR_MEM32, .size = TD_BAR0_SIZE, .ops = &td_ops},
				[1] = {.type = PCI_BAR_IO, .size = TD_BAR1_SIZE, .ops = &td_ops},
				[2] = {.type = PCI_BAR_MEM64,
				       .prefetchable = true,
				       .size = TD_BAR2_SIZE,
				       .ops = &td_ops},
			},
		.msix_vectors = PCI_TESTDEV_VECTORS,
		.msix_bar = 0,
		.msix_table_offset = TD_MSIX_TABLE,
		.msix_pba_offset = TD_MSIX_PBA,
		.msi_vectors = 1,
		.pcie = true,
	};
	int ret;

	if (!td)
		return -ENOMEM;
	pthread_mutex_init(&td->lock, NULL);
	for (unsigned i = 0; i < 3; i++)
		cfg.bar[i].opaque = td;
	ret = pci_dev_add(host, slot, &cfg, &td->pci);
	if (ret) {
		pthread_mutex_destroy(&td->lock);
		free(td);
		return ret;
	}
	*out = td;
	return 0;
}

void pci_testdev_destroy(struct pci_testdev *td)
{
	if (!td)
		return;
	pci_dev_remove(td->pci);
	pthread_mutex_destroy(&td->lock);
	free(td);
}

struct pci_dev *pci_testdev_pci(struct pci_testdev *td)
{
	return td->pci;
}

int pci_testdev_fire(struct pci_testdev *td, unsigned vector)
{
	return td_fire(td, vector);
}

void pci_testdev_set_hostval(struct pci_testdev *td, uint32_t val)
{
	pthread_mutex_lock(&td->lock);
	td->hostval = val;
	pthread_mutex_unlock(&td->lock);
}

uint32_t pci_testdev_scratch(struct pci_testdev *td)
{
	uint32_t v;

	pthread_mutex_lock(&td->lock);
	v = td->scratch;
	pthread_mutex_unlock(&td->lock);
	return v;
}
