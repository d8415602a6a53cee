// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI host bridge: configuration mechanism #1 and ECAM, the type-0 header of every function,
 * capability list, BAR sizing and placement, INTx wired-OR, and the firmware-less BAR assignment.
 * MSI and MSI-X live in pci_msi.c.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pci_priv.h"
#include "util.h"

#define PCI_CF8_PORT 0xcf8
#define PCI_CF8_ENABLE 0x80000000u
#define PCI_PIO_LIMIT 0x10000ull

/* Command bits the guest may set (PCI 3.0 s6.2.2); the rest are hardwired to 0 for us. */
#define PCI_COMMAND_WMASK                                                                          \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |           \
	 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* Status error bits are RW1C (PCI 3.0 s6.2.3). */
#define PCI_STATUS_W1C                                                                             \
	(PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_TARGET_ABORT |           \
	 PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

static inline uint16_t cfg16(const struct pci_dev *dev, unsigned off)
{
	return (uint16_t)pci_le_get(&dev->config[off], 2);
}

static inline uint32_t cfg32(const struct pci_dev *dev, unsigned off)
{
	return pci_le_get(&dev->config[off], 4);
}

uint32_t pci_cfg_get(struct pci_dev *dev, unsigned off, unsigned size)
{
	uint32_t v;

	if (!dev || size == 0 || size > 4 || off >= PCI_CFG_EXT_SIZE ||
	    size > PCI_CFG_EXT_SIZE - off)
		return 0;
	pci_dev_lock(dev);
	v = pci_le_get(&dev->config[off], size);
	pci_dev_unlock(dev);
	return v;
}

static bool pci_cfg_range_ok(unsigned off, unsigned size)
{
	return size >= 1 && size <= 4 && off < PCI_CFG_EXT_SIZE && size <= PCI_CFG_EXT_SIZE - off;
}

void pci_cfg_set(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	if (!dev || !pci_cfg_range_ok(off, size))
		return;
	pci_dev_lock(dev);
	pci_le_set(&dev->config[off], size, val);
	pci_dev_unlock(dev);
}

void pci_cfg_set_wmask(struct pci_dev *dev, unsigned off, unsigned size, uint32_t wmask)
{
	if (!dev || !pci_cfg_range_ok(off, size))
		return;
	pci_dev_lock(dev);
	pci_le_set(&dev->wmask[off], size, wmask);
	pci_dev_unlock(dev);
}

void pci_cfg_set_w1cmask(struct pci_dev *dev, unsigned off, unsigned size, uint32_t w1cmask)
{
	if (!dev || !pci_cfg_range_ok(off, size))
		return;
	pci_dev_lock(dev);
	pci_le_set(&dev->w1cmask[off], size, w1cmask);
	pci_dev_unlock(dev);
}

/* ---- INTx ---- */

/* Wired-OR of the devices sharing a GSI; set_intx only on a change of the OR. */
static void pci_host_intx_change(struct pci_host *host, unsigned gsi, bool assert)
{
	unsigned i = gsi - 16;
	bool changed;

	if (i >= ARRAY_SIZE(host->intx_count))
		return;
	pthread_mutex_lock(&host->lock);
	if (assert)
		changed = host->intx_count[i]++ == 0;
	else
		changed = host->intx_count[i] > 0 && --host->intx_count[i] == 0;
	if (changed && host->cfg.irq_ops->set_intx)
		host->cfg.irq_ops->set_intx(host->cfg.irq_opaque, gsi, assert);
	pthread_mutex_unlock(&host->lock);
}

void pci_intx_update(struct pci_dev *dev)
{
	uint16_t status = cfg16(dev, PCI_STATUS);
	bool want;

	if (!dev->cfg.intx_pin)
		return;
	/* Interrupt Status follows the device's level whatever the disable bit says (s6.2.3). */
	if (dev->intx_level)
		status |= PCI_STATUS_INTERRUPT;
	else
		status &= (uint16_t)~PCI_STATUS_INTERRUPT;
	pci_le_set(&dev->config[PCI_STATUS], 2, status);

	want = dev->intx_level && !(cfg16(dev, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) &&
	       !pci_msi_any_enabled(dev);
	if (want == dev->intx_asserted)
		return;
	dev->intx_asserted = want;
	pci_host_intx_change(dev->host, PCI_INTX_GSI(dev->devfn >> 3, dev->cfg.intx_pin), want);
}

void pci_set_intx(struct pci_dev *dev, int level)
{
	if (!dev || !dev->cfg.intx_pin)
		return;
	pci_dev_lock(dev);
	dev->intx_level = level ? 1 : 0;
	pci_intx_update(dev);
	pci_dev_unlock(dev);
}

static void pci_intx_line_set(void *opaque, int level)
{
	pci_set_intx(opaque, level);
}

void pci_intx_line(struct pci_dev *dev, struct irq_line *out)
{
	out->set_level = pci_intx_line_set;
	out->opaque = dev;
}

int pci_dev_intx_gsi(const struct pci_dev *dev)
{
	if (!dev || !dev->cfg.intx_pin)
		return -1;
	return (int)PCI_INTX_GSI(dev->devfn >> 3, dev->cfg.intx_pin);
}

/* ---- BARs ---- */

static uint64_t pci_bar_dispatch_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_bar *bar = opaque;
	uint64_t v;

	if (pci_msix_bar_read(bar->dev, bar->idx, off, size, &v))
		return v;
	if (bar->ops)
		return bar->ops->read(bar->opaque, off, size);
	return 0;
}

static void pci_bar_dispatch_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_bar *bar = opaque;

	if (pci_msix_bar_write(bar->dev, bar->idx, off, size, val))
		return;
	if (bar->ops)
		bar->ops->write(bar->opaque, off, size, val);
}

static const struct bus_ops pci_bar_bus_ops = {
	.read = pci_bar_dispatch_read,
	.write = pci_bar_dispatch_write,
};

/* Address the guest programmed into BAR @i (flag bits stripped). */
static uint64_t pci_bar_guest_addr(const struct pci_dev *dev, const struct pci_bar *bar)
{
	unsigned reg = PCI_BASE_ADDRESS_0 + 4 * bar->idx;
	uint32_t lo = cfg32(dev, reg);

	switch (bar->type) {
	case PCI_BAR_IO:
		return lo & PCI_BASE_ADDRESS_IO_MASK;
	case PCI_BAR_MEM32:
		return lo & PCI_BASE_ADDRESS_MEM_MASK;
	case PCI_BAR_MEM64:
		return (lo & PCI_BASE_ADDRESS_MEM_MASK) | (uint64_t)cfg32(dev, reg + 4) << 32;
	default:
		return 0;
	}
}

/*
 * Is @addr a placement we map? Zero means "unassigned". The sizing pattern (all-ones written)
 * leaves the top-most naturally aligned address, whose last byte is 0xffffffff (or beyond 64 KiB
 * for I/O): refuse those, as real chipsets would decode them to nothing.
 */
static bool pci_bar_addr_valid(const struct pci_bar *bar, uint64_t addr)
{
	uint64_t last = addr + bar->size - 1;

	if (addr == 0 || last < addr)
		return false;
	switch (bar->type) {
	case PCI_BAR_IO:
		return last < PCI_PIO_LIMIT;
	case PCI_BAR_MEM32:
		return last < 0xffffffffull;
	case PCI_BAR_MEM64:
		return last != 0xffffffffull && last != ~0ull;
	default:
		return false;
	}
}

static struct bus *pci_bar_bus(const struct pci_dev *dev, const struct pci_bar *bar)
{
	return bar->type == PCI_BAR_IO ? dev->host->cfg.pio : dev->host->cfg.mmio;
}

static void pci_bar_notify(struct pci_dev *dev, struct pci_bar *bar, bool mapped)
{
	if (dev->cfg.bar_map)
		dev->cfg.bar_map(dev->cfg.opaque, bar->idx, bar->addr, mapped);
}

static void pci_bar_unmap(struct pci_dev *dev, struct pci_bar *bar)
{
	if (!bar->mapped)
		return;
	if (bus_unregister(pci_bar_bus(dev, bar), bar->addr, bar) < 0)
		log_err("pci %s: BAR%u window at 0x%llx vanished from the bus", dev->name, bar->idx,
			(unsigned long long)bar->addr);
	bar->mapped = false;
	pci_bar_notify(dev, bar, false);
}

/*
 * Bring BAR @bar's bus window in line with the command register and the BAR register: mapped at the
 * programmed address while decode is on and the address valid, else unmapped (PCI 3.0 s6.2.2: with
 * the decode bit clear the function does not respond). A refused placement leaves it unmapped.
 */
static void pci_bar_update(struct pci_dev *dev, struct pci_bar *bar)
{
	uint16_t cmd = cfg16(dev, PCI_COMMAND);
	struct bus *bus = pci_bar_bus(dev, bar);
	uint64_t addr = pci_bar_guest_addr(dev, bar);
	bool decode = cmd & (bar->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
	bool want = decode && bus && pci_bar_addr_valid(bar, addr);
	uint64_t last = addr + bar->size - 1;
	int ret;

	if (bar->type == PCI_BAR_NONE)
		return;
	/* The sizing pattern is not a placement; anything else invalid is refused loudly. */
	if (decode && bus && addr && !want && last != 0xffffffffull && last != ~0ull) {
		PCI_STAT_INC(dev->host, bar_refused);
		log_rl(LOGL_WARN,
		       "pci %s: BAR%u address 0x%llx (size 0x%llx) outside its space; unmapped",
		       dev->name, bar->idx, (unsigned long long)addr,
		       (unsigned long long)bar->size);
	}
	if (bar->mapped && want && bar->addr == addr)
		return;
	if (bar->mapped && want) {
		uint64_t old = bar->addr;

		ret = bus_move(bus, old, bar, addr);
		if (ret == 0) {
			/* Seen by the hook as unmap + map, so memslot owners can follow. */
			bar->mapped = false;
			pci_bar_notify(dev, bar, false);
			bar->addr = addr;
			bar->mapped = true;
			pci_bar_notify(dev, bar, true);
			return;
		}
		/* The device no longer answers at the old address; it answers nowhere. */
		pci_bar_unmap(dev, bar);
	} else if (bar->mapped) {
		pci_bar_unmap(dev, bar);
		return;
	} else if (!want) {
		return;
	} else {
		ret = bus_register(bus, addr, bar->size, &pci_bar_bus_ops, bar, bar->name);
		if (ret == 0) {
			bar->mapped = true;
			bar->addr = addr;
			pci_bar_notify(dev, bar, true);
			return;
		}
	}
	PCI_STAT_INC(dev->host, bar_refused);
	log_rl(LOGL_WARN,
	       "pci %s: BAR%u placement at 0x%llx+0x%llx refused (%s); BAR left unmapped",
	       dev->name, bar->idx, (unsigned long long)addr, (unsigned long long)bar->size,
	       strerror(-ret));
}

static void pci_bars_update(struct pci_dev *dev, bool io, bool mem)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &dev->bar[i];

		if ((bar->type == PCI_BAR_IO && io) ||
		    ((bar->type == PCI_BAR_MEM32 || bar->type == PCI_BAR_MEM64) && mem))
			pci_bar_update(dev, bar);
	}
}

bool pci_dev_bar_addr(struct pci_dev *dev, unsigned bar, uint64_t *addr)
{
	bool mapped;

	if (!dev || bar >= PCI_NUM_BARS)
		return false;
	pci_dev_lock(dev);
	mapped = dev->bar[bar].mapped;
	if (mapped && addr)
		*addr = dev->bar[bar].addr;
	pci_dev_unlock(dev);
	return mapped;
}

/* ---- Config space accesses ---- */

static uint32_t pci_dev_cfg_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	uint32_t v;

	pci_dev_lock(dev);
	pci_msi_cfg_before_read(dev, off, size);
	v = pci_le_get(&dev->config[off], size);
	if (dev->cfg.cfg_read)
		v = dev->cfg.cfg_read(dev->cfg.opaque, off, size, v);
	pci_dev_unlock(dev);
	return v;
}

static void pci_dev_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	uint16_t old_cmd, cmd;
	bool bar_written;

	pci_dev_lock(dev);
	old_cmd = cfg16(dev, PCI_COMMAND);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t n = (uint8_t)((dev->config[o] & ~dev->wmask[o]) | (b & dev->wmask[o]));

		dev->config[o] = (uint8_t)(n & ~(b & dev->w1cmask[o]));
	}
	cmd = cfg16(dev, PCI_COMMAND);
	bar_written = range_overlaps(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS);
	if (bar_written || ((cmd ^ old_cmd) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
		pci_bars_update(dev, bar_written || ((cmd ^ old_cmd) & PCI_COMMAND_IO),
				bar_written || ((cmd ^ old_cmd) & PCI_COMMAND_MEMORY));
	if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE)
		pci_intx_update(dev);
	pci_msi_cfg_written(dev, off, size);
	if (dev->cfg.cfg_write)
		dev->cfg.cfg_write(dev->cfg.opaque, off, size, val);
	pci_dev_unlock(dev);
}

static struct pci_dev *pci_host_lookup(struct pci_host *host, uint8_t devfn)
{
	if (devfn & 7)
		return NULL; /* function 0 only */
	return __atomic_load_n(&host->slot[devfn >> 3], __ATOMIC_ACQUIRE);
}

/* Accesses must stay inside one dword (PCI 3.0 s3.2.2.3.2 byte enables; PCIe s7.2.2). */
static bool pci_cfg_access_ok(struct pci_host *host, unsigned off, unsigned size, unsigned limit)
{
	if ((size == 1 || size == 2 || size == 4) && off < limit && (off & 3) + size <= 4)
		return true;
	PCI_STAT_INC(host, cfg_bad_access);
	log_rl(LOGL_DEBUG, "pci: bad config access of %u bytes at 0x%x", size, off);
	return false;
}

static uint32_t pci_size_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t pci_host_cfg_read_lim(struct pci_host *host, uint8_t devfn, unsigned off,
				      unsigned size, unsigned limit)
{
	struct pci_dev *dev;

	if (!pci_cfg_access_ok(host, off, size, limit))
		return pci_size_mask(size);
	dev = pci_host_lookup(host, devfn);
	if (!dev) {
		/* Master abort: all-ones (PCI 3.0 s6.1), so enumeration sees "no device". */
		PCI_STAT_INC(host, cfg_absent);
		return pci_size_mask(size);
	}
	return pci_dev_cfg_read(dev, off, size) & pci_size_mask(size);
}

static void pci_host_cfg_write_lim(struct pci_host *host, uint8_t devfn, unsigned off,
				   unsigned size, uint32_t val, unsigned limit)
{
	struct pci_dev *dev;

	if (!pci_cfg_access_ok(host, off, size, limit))
		return;
	dev = pci_host_lookup(host, devfn);
	if (!dev) {
		PCI_STAT_INC(host, cfg_absent);
		return;
	}
	pci_dev_cfg_write(dev, off, size, val & pci_size_mask(size));
}

uint32_t pci_host_cfg_read(struct pci_host *host, uint8_t devfn, unsigned off, unsigned size)
{
	return pci_host_cfg_read_lim(host, devfn, off, size, PCI_CFG_EXT_SIZE);
}

void pci_host_cfg_write(struct pci_host *host, uint8_t devfn, unsigned off, unsigned size,
			uint32_t value)
{
	pci_host_cfg_write_lim(host, devfn, off, size, value, PCI_CFG_EXT_SIZE);
}

/*
 * Configuration mechanism #1 (PCI 3.0 s3.2.2.3.2): window 0xCF8-0xCFF. Only a dword access to 0xCF8
 * is the address register; 0xCF9 as a byte is the PC reset control register; 0xCFC-0xCFF is the
 * data window into the dword the address register selects.
 */
static uint64_t pci_cf8_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_host *host = opaque;
	uint32_t addr;

	if (off == 0 && size == 4)
		return __atomic_load_n(&host->cf8, __ATOMIC_RELAXED);
	if (off < 4 || size > 4)
		return off == 1 && size == 1 ? 0 : pci_size_mask(MIN(size, 4u));
	addr = __atomic_load_n(&host->cf8, __ATOMIC_RELAXED);
	if (!(addr & PCI_CF8_ENABLE) || ((addr >> 16) & 0xff) != 0) {
		PCI_STAT_INC(host, cfg_absent);
		return pci_size_mask(size);
	}
	return pci_host_cfg_read_lim(host, (uint8_t)(addr >> 8),
				     (addr & 0xfc) + (unsigned)(off - 4), size, PCI_CFG_SIZE);
}

static void pci_cf8_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_host *host = opaque;
	uint32_t addr;

	if (off == 0 && size == 4) {
		/* Bits 1:0 are reserved and read back as 0; bits 30:24 reserved too. */
		__atomic_store_n(&host->cf8, (uint32_t)val & 0x80fffffcu, __ATOMIC_RELAXED);
		return;
	}
	if (off == 1 && size == 1) {
		if ((val & 0x04) && host->cfg.reset_request)
			host->cfg.reset_request(host->cfg.reset_opaque);
		return;
	}
	if (off < 4 || size > 4)
		return;
	addr = __atomic_load_n(&host->cf8, __ATOMIC_RELAXED);
	if (!(addr & PCI_CF8_ENABLE) || ((addr >> 16) & 0xff) != 0) {
		PCI_STAT_INC(host, cfg_absent);
		return;
	}
	pci_host_cfg_write_lim(host, (uint8_t)(addr >> 8), (addr & 0xfc) + (unsigned)(off - 4),
			       size, (uint32_t)val, PCI_CFG_SIZE);
}

static const struct bus_ops pci_cf8_ops = {.read = pci_cf8_read, .write = pci_cf8_write};

/* ECAM (PCIe 4.0 s7.2.2): offset = bus << 20 | device << 15 | function << 12 | register. */
static uint64_t pci_ecam_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_host *host = opaque;
	uint8_t devfn = (uint8_t)(off >> 12);
	unsigned reg = off & 0xfff;

	if (size == 8 && (reg & 7) == 0)
		return pci_host_cfg_read_lim(host, devfn, reg, 4, PCI_CFG_EXT_SIZE) |
		       (uint64_t)pci_host_cfg_read_lim(host, devfn, reg + 4, 4, PCI_CFG_EXT_SIZE)
			       << 32;
	if (size == 8) {
		PCI_STAT_INC(host, cfg_bad_access);
		return ~0ull;
	}
	return pci_host_cfg_read_lim(host, devfn, reg, size, PCI_CFG_EXT_SIZE);
}

static void pci_ecam_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_host *host = opaque;
	uint8_t devfn = (uint8_t)(off >> 12);
	unsigned reg = off & 0xfff;

	if (size == 8 && (reg & 7) == 0) {
		pci_host_cfg_write_lim(host, devfn, reg, 4, (uint32_t)val, PCI_CFG_EXT_SIZE);
		pci_host_cfg_write_lim(host, devfn, reg + 4, 4, (uint32_t)(val >> 32),
				       PCI_CFG_EXT_SIZE);
		return;
	}
	if (size == 8) {
		PCI_STAT_INC(host, cfg_bad_access);
		return;
	}
	pci_host_cfg_write_lim(host, devfn, reg, size, (uint32_t)val, PCI_CFG_EXT_SIZE);
}

static const struct bus_ops pci_ecam_ops = {.read = pci_ecam_read, .write = pci_ecam_write};

/* ---- Capabilities ---- */

int pci_cap_add(struct pci_dev *dev, uint8_t cap_id, const void *body, unsigned len)
{
	unsigned off;

	if (!dev || len > PCI_CFG_SIZE || (len && !body))
		return -EINVAL;
	pci_dev_lock(dev);
	off = ALIGN_UP(dev->cap_next, 4u);
	if (off < PCI_CFG_SIZE && 2 + len <= PCI_CFG_SIZE - off) {
		dev->config[off] = cap_id;
		dev->config[off + 1] = 0;
		if (len)
			memcpy(&dev->config[off + 2], body, len);
		if (dev->cap_last)
			dev->config[dev->cap_last + 1] = (uint8_t)off;
		else
			dev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
		pci_le_set(&dev->config[PCI_STATUS], 2,
			   cfg16(dev, PCI_STATUS) | PCI_STATUS_CAP_LIST);
		dev->cap_last = off;
		dev->cap_next = off + 2 + len;
	} else {
		off = 0;
	}
	pci_dev_unlock(dev);
	if (!off) {
		log_err("pci %s: no room for capability 0x%02x (%u bytes)", dev->name, cap_id, len);
		return -ENOSPC;
	}
	return (int)off;
}

unsigned pci_cap_find(struct pci_dev *dev, uint8_t cap_id)
{
	unsigned off, found = 0;

	if (!dev)
		return 0;
	pci_dev_lock(dev);
	off = dev->config[PCI_CAPABILITY_LIST] & ~3u;
	/* 48 = the most 4-byte capabilities that fit after the header: a loop guard. */
	for (unsigned n = 0; off >= PCI_STD_HEADER_SIZEOF && n < 48; n++) {
		if (dev->config[off] == cap_id) {
			found = off;
			break;
		}
		off = dev->config[off + 1] & ~3u;
	}
	pci_dev_unlock(dev);
	return found;
}

/* PCI Express capability, version 2, Root Complex Integrated Endpoint (PCIe 4.0 s7.5.3). */
static int pci_add_pcie_cap(struct pci_dev *dev)
{
	uint8_t body[PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 - 2] = {0};
	int off;

	pci_le_set(&body[PCI_EXP_FLAGS - 2], 2, 2 | (PCI_EXP_TYPE_RC_END << 4));
	off = pci_cap_add(dev, PCI_CAP_ID_EXP, body, sizeof(body));
	if (off < 0)
		return off;
	/* Device Control is writable (payload sizes, error reporting); Device Status errors RW1C.
	 */
	pci_le_set(&dev->wmask[off + PCI_EXP_DEVCTL], 2, 0x7fff);
	pci_le_set(&dev->w1cmask[off + PCI_EXP_DEVSTA], 2, 0x000f);
	pci_le_set(&dev->wmask[off + PCI_EXP_DEVCTL2], 2, 0xffff);
	return 0;
}

/* ---- Devices ---- */

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int pci_dev_cfg_check(const struct pci_dev_cfg *cfg, const char *name)
{
	if (cfg->intx_pin > 4) {
		log_err("pci %s: intx_pin %u out of range 0..4", name, cfg->intx_pin);
		return -EINVAL;
	}
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_cfg *b = &cfg->bar[i];
		bool ok;

		switch (b->type) {
		case PCI_BAR_NONE:
			ok = true;
			break;
		case PCI_BAR_IO:
			ok = is_pow2(b->size) && b->size >= 4 && b->size <= 256 && !b->prefetchable;
			break;
		case PCI_BAR_MEM32:
			ok = is_pow2(b->size) && b->size >= 16 && b->size <= 2 * GiB;
			break;
		case PCI_BAR_MEM64:
			ok = i + 1 < PCI_NUM_BARS && cfg->bar[i + 1].type == PCI_BAR_NONE &&
			     is_pow2(b->size) && b->size >= 16 && b->size <= (1ull << 63);
			break;
		default:
			ok = false;
		}
		if (!ok) {
			log_err("pci %s: BAR%u: bad type %d / size 0x%llx", name, i, (int)b->type,
				(unsigned long long)b->size);
			return -EINVAL;
		}
		if (b->type == PCI_BAR_MEM64)
			i++;
	}
	if (cfg->msix_vectors) {
		const struct pci_bar_cfg *b;
		uint64_t tlen = 16ull * cfg->msix_vectors;
		uint64_t plen = 8ull * ((cfg->msix_vectors + 63) / 64);

		if (cfg->msix_vectors > PCI_MSIX_MAX_VECTORS || cfg->msix_bar >= PCI_NUM_BARS) {
			log_err("pci %s: MSI-X %u vectors in BAR%u out of range", name,
				cfg->msix_vectors, cfg->msix_bar);
			return -EINVAL;
		}
		b = &cfg->bar[cfg->msix_bar];
		/* The table lives in memory space (PCIe 4.0 s7.7.2.4), QWORD aligned (BIR bits). */
		if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) ||
		    (cfg->msix_table_offset & 7) || (cfg->msix_pba_offset & 7) ||
		    cfg->msix_table_offset + tlen > b->size ||
		    cfg->msix_pba_offset + plen > b->size ||
		    range_overlaps(cfg->msix_table_offset, tlen, cfg->msix_pba_offset, plen)) {
			log_err("pci %s: MSI-X table 0x%x+0x%llx / PBA 0x%x+0x%llx do not fit "
				"BAR%u",
				name, cfg->msix_table_offset, (unsigned long long)tlen,
				cfg->msix_pba_offset, (unsigned long long)plen, cfg->msix_bar);
			return -EINVAL;
		}
	}
	if (cfg->msi_vectors && (!is_pow2(cfg->msi_vectors) || cfg->msi_vectors > 32)) {
		log_err("pci %s: msi_vectors %u is not 1, 2, 4, 8, 16 or 32", name,
			cfg->msi_vectors);
		return -EINVAL;
	}
	return 0;
}

/* Type-0 header (PCI 3.0 s6.1, s6.2) and BAR registers. */
static void pci_dev_build_header(struct pci_dev *dev)
{
	const struct pci_dev_cfg *c = &dev->cfg;

	pci_le_set(&dev->config[PCI_VENDOR_ID], 2, c->vendor_id);
	pci_le_set(&dev->config[PCI_DEVICE_ID], 2, c->device_id);
	pci_le_set(&dev->wmask[PCI_COMMAND], 2, PCI_COMMAND_WMASK);
	pci_le_set(&dev->w1cmask[PCI_STATUS], 2, PCI_STATUS_W1C);
	dev->config[PCI_REVISION_ID] = c->revision;
	pci_le_set(&dev->config[PCI_CLASS_PROG], 3, c->class_code);
	dev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->config[PCI_HEADER_TYPE] = (c->header_flags & 0x80) | PCI_HEADER_TYPE_NORMAL;
	pci_le_set(&dev->config[PCI_SUBSYSTEM_VENDOR_ID], 2, c->subsys_vendor_id);
	pci_le_set(&dev->config[PCI_SUBSYSTEM_ID], 2, c->subsys_id);
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->config[PCI_INTERRUPT_PIN] = c->intx_pin;

	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_cfg *b = &c->bar[i];
		struct pci_bar *bar = &dev->bar[i];
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * i;
		uint32_t flags = 0;

		bar->dev = dev;
		bar->idx = i;
		if (b->type == PCI_BAR_NONE)
			continue;
		bar->type = b->type;
		bar->prefetchable = b->prefetchable;
		bar->size = b->size;
		bar->ops = b->ops;
		bar->opaque = b->opaque;
		snprintf(bar->name, sizeof(bar->name), "%.24s.bar%u", dev->name, i);
		/* Sizing: the address bits below the size are hardwired to 0 (PCI 3.0 s6.2.5.1). */
		if (b->type == PCI_BAR_IO) {
			flags = PCI_BASE_ADDRESS_SPACE_IO;
			pci_le_set(&dev->wmask[reg], 4, (uint32_t) ~(b->size - 1) & ~3u);
		} else {
			flags = b->prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
			if (b->type == PCI_BAR_MEM64)
				flags |= PCI_BASE_ADDRESS_MEM_TYPE_64;
			pci_le_set(&dev->wmask[reg], 4, (uint32_t) ~(b->size - 1) & ~0xfu);
		}
		pci_le_set(&dev->config[reg], 4, flags);
		if (b->type == PCI_BAR_MEM64) {
			pci_le_set(&dev->wmask[reg + 4], 4, (uint32_t)(~(b->size - 1) >> 32));
			dev->bar[i + 1].dev = dev;
			dev->bar[i + 1].idx = i + 1;
			i++;
		}
	}
}

static int pci_dev_create(struct pci_host *host, unsigned slot, const struct pci_dev_cfg *cfg,
			  struct pci_dev **out)
{
	const char *name = cfg->name ? cfg->name : "pci";
	pthread_mutexattr_t attr;
	struct pci_dev *dev;
	int ret;

	ret = pci_dev_cfg_check(cfg, name);
	if (ret)
		return ret;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->host = host;
	dev->devfn = PCI_DEVFN(slot, 0);
	dev->cfg = *cfg;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->cfg.name = dev->name;
	dev->cap_next = PCI_STD_HEADER_SIZEOF;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	ret = -pthread_mutex_init(&dev->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (ret) {
		free(dev);
		return ret;
	}
	pci_dev_build_header(dev);
	ret = pci_msi_init(dev);
	if (!ret && cfg->pcie)
		ret = pci_add_pcie_cap(dev);
	if (ret) {
		pci_msi_fini(dev);
		pthread_mutex_destroy(&dev->lock);
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

int pci_dev_add(struct pci_host *host, unsigned slot, const struct pci_dev_cfg *cfg,
		struct pci_dev **out)
{
	struct pci_dev *dev;
	int ret;

	if (!host || !cfg || slot == 0 || slot >= PCI_SLOTS) {
		log_err("pci: cannot add '%s' at slot %u (1..%u)",
			cfg && cfg->name ? cfg->name : "?", slot, PCI_SLOTS - 1);
		return -EINVAL;
	}
	if (host->slot[slot]) {
		log_err("pci: slot %u already holds '%s'", slot, host->slot[slot]->name);
		return -EEXIST;
	}
	ret = pci_dev_create(host, slot, cfg, &dev);
	if (ret)
		return ret;
	__atomic_store_n(&host->slot[slot], dev, __ATOMIC_RELEASE);
	if (out)
		*out = dev;
	return 0;
}

void pci_dev_remove(struct pci_dev *dev)
{
	struct pci_host *host;

	if (!dev)
		return;
	host = dev->host;
	pci_dev_lock(dev);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		pci_bar_unmap(dev, &dev->bar[i]);
	dev->intx_level = 0;
	if (dev->intx_asserted) {
		dev->intx_asserted = false;
		pci_host_intx_change(host, PCI_INTX_GSI(dev->devfn >> 3, dev->cfg.intx_pin), false);
	}
	pci_msi_fini(dev);
	pci_dev_unlock(dev);
	__atomic_store_n(&host->slot[dev->devfn >> 3], NULL, __ATOMIC_RELEASE);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

uint8_t pci_dev_devfn(const struct pci_dev *dev)
{
	return dev->devfn;
}

const char *pci_dev_name(const struct pci_dev *dev)
{
	return dev->name;
}

/* ---- Host ---- */

int pci_host_create(const struct pci_host_cfg *cfg, struct pci_host **out)
{
	struct pci_dev_cfg bridge = {
		.name = "host-bridge", .class_code = 0x060000, /* bridge, host */
	};
	struct pci_host *host;
	int ret;

	if (!cfg || !cfg->mmio || !cfg->irq_ops || !cfg->irq_ops->route_msi ||
	    (cfg->ecam_base & (PCI_ECAM_BUS_SIZE - 1))) {
		log_err("pci: host configuration incomplete (mmio bus, irq_ops.route_msi, aligned "
			"ECAM)");
		return -EINVAL;
	}
	host = calloc(1, sizeof(*host));
	if (!host)
		return -ENOMEM;
	host->cfg = *cfg;
	ret = -pthread_mutex_init(&host->lock, NULL);
	if (ret) {
		free(host);
		return ret;
	}
	bridge.vendor_id = cfg->vendor_id ? cfg->vendor_id : PCI_HOST_VENDOR_DEFAULT;
	bridge.device_id = cfg->device_id ? cfg->device_id : PCI_HOST_DEVICE_DEFAULT;
	ret = pci_dev_create(host, 0, &bridge, &host->slot[0]);
	if (ret)
		goto err;
	/* The bridge always decodes; a guest clearing the bits changes nothing we emulate. */
	pci_le_set(&host->slot[0]->config[PCI_COMMAND], 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	if (cfg->pio) {
		ret = bus_register(cfg->pio, PCI_CF8_PORT, 8, &pci_cf8_ops, host, "pci-cf8");
		if (ret) {
			log_err("pci: cannot claim ports 0xcf8-0xcff: %s", strerror(-ret));
			goto err;
		}
		host->pio_registered = true;
	}
	if (cfg->ecam_base) {
		ret = bus_register(cfg->mmio, cfg->ecam_base, PCI_ECAM_BUS_SIZE, &pci_ecam_ops,
				   host, "pci-ecam");
		if (ret) {
			log_err("pci: cannot claim ECAM at 0x%llx: %s",
				(unsigned long long)cfg->ecam_base, strerror(-ret));
			goto err;
		}
		host->ecam_registered = true;
	}
	*out = host;
	return 0;
err:
	pci_host_destroy(host);
	return ret;
}

void pci_host_destroy(struct pci_host *host)
{
	if (!host)
		return;
	for (unsigned s = PCI_SLOTS; s-- > 0;)
		pci_dev_remove(host->slot[s]);
	if (host->pio_registered && bus_unregister(host->cfg.pio, PCI_CF8_PORT, host) < 0)
		log_err("pci: config ports vanished from the bus");
	if (host->ecam_registered && bus_unregister(host->cfg.mmio, host->cfg.ecam_base, host) < 0)
		log_err("pci: ECAM window vanished from the bus");
	pthread_mutex_destroy(&host->lock);
	free(host);
}

struct pci_dev *pci_host_dev(struct pci_host *host, unsigned slot)
{
	if (!host || slot >= PCI_SLOTS)
		return NULL;
	return __atomic_load_n(&host->slot[slot], __ATOMIC_ACQUIRE);
}

void pci_host_stats(struct pci_host *host, struct pci_stats *out)
{
	const uint64_t *src = (const uint64_t *)&host->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- Firmware-less BAR assignment ---- */

struct pci_alloc_range {
	uint64_t base, end;
};

struct pci_alloc {
	uint64_t base, limit;
	struct pci_alloc_range used[PCI_SLOTS * PCI_NUM_BARS];
	unsigned nr;
};

/* First fit at natural alignment, skipping ranges already taken. */
static bool pci_alloc_take(struct pci_alloc *a, uint64_t size, uint64_t *out)
{
	uint64_t cand;

	if (a->limit <= a->base || size > a->limit - a->base)
		return false;
	cand = ALIGN_UP(a->base, size);
	for (;;) {
		bool moved = false;

		if (cand < a->base || cand > a->limit || size > a->limit - cand)
			return false;
		for (unsigned i = 0; i < a->nr; i++) {
			if (range_overlaps(cand, size, a->used[i].base,
					   a->used[i].end - a->used[i].base)) {
				cand = ALIGN_UP(a->used[i].end, size);
				moved = true;
			}
		}
		if (!moved)
			break;
	}
	a->used[a->nr].base = cand;
	a->used[a->nr].end = cand + size;
	a->nr++;
	*out = cand;
	return true;
}

static void pci_alloc_mark(struct pci_alloc *a, uint64_t base, uint64_t size)
{
	if (a->nr < ARRAY_SIZE(a->used) &&
	    range_overlaps(base, size, a->base, a->limit - a->base)) {
		a->used[a->nr].base = base;
		a->used[a->nr].end = base + size;
		a->nr++;
	}
}

int pci_host_assign_bars(struct pci_host *host, const struct pci_bar_windows *win)
{
	struct pci_alloc *io, *m32, *m64;
	struct pci_bar *todo[PCI_SLOTS * PCI_NUM_BARS];
	unsigned n = 0;
	int ret = 0;

	io = calloc(3, sizeof(*io));
	if (!io)
		return -ENOMEM;
	m32 = io + 1;
	m64 = io + 2;
	io->base = win->io_base;
	io->limit = MIN(win->io_limit, PCI_PIO_LIMIT);
	m32->base = win->mem32_base;
	m32->limit = MIN(win->mem32_limit, 0xffffffffull);
	m64->base = win->mem64_base;
	m64->limit = win->mem64_limit;

	/* Keep what is already placed; collect the rest. */
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_dev *dev = host->slot[s];

		if (!dev)
			continue;
		pci_dev_lock(dev);
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			struct pci_bar *bar = &dev->bar[i];
			uint64_t addr = pci_bar_guest_addr(dev, bar);

			if (bar->type == PCI_BAR_NONE)
				continue;
			if (addr && pci_bar_addr_valid(bar, addr)) {
				if (bar->type == PCI_BAR_IO) {
					pci_alloc_mark(io, addr, bar->size);
				} else {
					pci_alloc_mark(m32, addr, bar->size);
					pci_alloc_mark(m64, addr, bar->size);
				}
			} else {
				todo[n++] = bar;
			}
		}
		pci_dev_unlock(dev);
	}
	/* Largest first keeps natural alignment from fragmenting the windows. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && todo[j]->size > todo[j - 1]->size; j--) {
			struct pci_bar *t = todo[j];

			todo[j] = todo[j - 1];
			todo[j - 1] = t;
		}
	for (unsigned i = 0; i < n; i++) {
		struct pci_bar *bar = todo[i];
		struct pci_dev *dev = bar->dev;
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * bar->idx;
		uint64_t addr;
		bool ok;

		if (bar->type == PCI_BAR_IO)
			ok = pci_alloc_take(io, bar->size, &addr);
		else if (bar->type == PCI_BAR_MEM64)
			ok = pci_alloc_take(m64, bar->size, &addr) ||
			     pci_alloc_take(m32, bar->size, &addr);
		else
			ok = pci_alloc_take(m32, bar->size, &addr);
		if (!ok) {
			log_err("pci %s: no room for BAR%u (0x%llx bytes) in the %s window",
				dev->name, bar->idx, (unsigned long long)bar->size,
				bar->type == PCI_BAR_IO ? "I/O" : "memory");
			ret = -ENOSPC;
			continue;
		}
		pci_dev_cfg_write(dev, reg, 4, (uint32_t)addr);
		if (bar->type == PCI_BAR_MEM64)
			pci_dev_cfg_write(dev, reg + 4, 4, (uint32_t)(addr >> 32));
	}
	/* Enable decoding (and bus mastering, for MSI and DMA) and route INTx, as firmware does. */
	for (unsigned s = 1; s < PCI_SLOTS; s++) {
		struct pci_dev *dev = host->slot[s];
		uint16_t cmd = PCI_COMMAND_MASTER;

		if (!dev)
			continue;
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			if (dev->bar[i].type == PCI_BAR_IO)
				cmd |= PCI_COMMAND_IO;
			else if (dev->bar[i].type != PCI_BAR_NONE)
				cmd |= PCI_COMMAND_MEMORY;
		}
		pci_dev_cfg_write(dev, PCI_COMMAND, 2, pci_dev_cfg_read(dev, PCI_COMMAND, 2) | cmd);
		if (dev->cfg.intx_pin)
			pci_dev_cfg_write(dev, PCI_INTERRUPT_LINE, 1,
					  (uint32_t)pci_dev_intx_gsi(dev));
	}
	free(io);
	return ret;
}
