// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile configuration writes: every offset 0..4095 of every function, widths 1, 2, 4 (and 8 via
 * ECAM), aligned and unaligned, with all-ones, zero and pseudo-random values, through configuration
 * mechanism #1, ECAM and the host API; plus scribbling over every mapped BAR (MSI-X table and PBA
 * included) while the device fires interrupts. Nothing may crash, and the read-only identity of
 * every function (IDs, class, header type, pin, capability chain, BAR type bits) must survive.
 */
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "pci.h"
#include "pci_testdev.h"

#define ECAM_BASE 0xb0000000ull

static int failures;
static struct bus pio, mmio;
static struct pci_host *host;
static unsigned long nr_msi, nr_intx;

static void route_msi(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
		      uint32_t data)
{
	(void)opaque, (void)dev, (void)vector, (void)addr, (void)data;
	nr_msi++;
}

static void set_intx(void *opaque, unsigned gsi, int level)
{
	(void)opaque, (void)gsi, (void)level;
	nr_intx++;
}

static const struct pci_irq_ops ops = { .route_msi = route_msi, .set_intx = set_intx };

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t dummy_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque, (void)size;
	return off;
}

static void dummy_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	(void)opaque, (void)off, (void)size, (void)val;
}

static const struct bus_ops dummy_ops = { .read = dummy_read, .write = dummy_write };

/* What must not change, read through the host API. */
struct ident {
	uint32_t id, class_rev, subsys;
	uint8_t hdr, pin, caps[48];
	unsigned nr_caps;
	uint32_t bar_flags[PCI_NUM_BARS];
	uint32_t msix_size, msix_table, msix_pba, msi_caps;
};

static void snapshot(uint8_t devfn, struct ident *s)
{
	unsigned off, n = 0;

	memset(s, 0, sizeof(*s));
	s->id = pci_host_cfg_read(host, devfn, PCI_VENDOR_ID, 4);
	s->class_rev = pci_host_cfg_read(host, devfn, PCI_CLASS_REVISION, 4);
	s->subsys = pci_host_cfg_read(host, devfn, PCI_SUBSYSTEM_VENDOR_ID, 4);
	s->hdr = (uint8_t)pci_host_cfg_read(host, devfn, PCI_HEADER_TYPE, 1);
	s->pin = (uint8_t)pci_host_cfg_read(host, devfn, PCI_INTERRUPT_PIN, 1);
	off = pci_host_cfg_read(host, devfn, PCI_CAPABILITY_LIST, 1);
	while (off && n < 24) {
		uint8_t id = (uint8_t)pci_host_cfg_read(host, devfn, off, 1);

		s->caps[2 * n] = (uint8_t)off;
		s->caps[2 * n + 1] = id;
		n++;
		/* read-only parts of MSI-X (table size, BIR/offsets) and MSI (capabilities) */
		if (id == PCI_CAP_ID_MSIX) {
			s->msix_size = pci_host_cfg_read(host, devfn, off + PCI_MSIX_FLAGS, 2) &
				       PCI_MSIX_FLAGS_QSIZE;
			s->msix_table = pci_host_cfg_read(host, devfn, off + PCI_MSIX_TABLE, 4);
			s->msix_pba = pci_host_cfg_read(host, devfn, off + PCI_MSIX_PBA, 4);
		} else if (id == PCI_CAP_ID_MSI) {
			s->msi_caps = pci_host_cfg_read(host, devfn, off + PCI_MSI_FLAGS, 2) &
				      (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT |
				       PCI_MSI_FLAGS_QMASK);
		}
		off = pci_host_cfg_read(host, devfn, off + 1, 1);
	}
	s->nr_caps = n;
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint32_t v = pci_host_cfg_read(host, devfn, PCI_BASE_ADDRESS_0 + 4 * i, 4);

		/* type bits only: I/O bit, or memory type + prefetch */
		s->bar_flags[i] = (v & 1) ? 1 : (v & 0xf);
	}
}

static void check_ident(uint8_t devfn, const struct ident *want, unsigned off, unsigned size)
{
	struct ident now;

	snapshot(devfn, &now);
	/* A 64-bit BAR's upper dword has no flags of its own: its low bits are address bits. */
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		if (i > 0 && (want->bar_flags[i - 1] & 6) == 4)
			now.bar_flags[i] = want->bar_flags[i];
	if (memcmp(&now, want, sizeof(now)) != 0) {
		if (failures++ < 10)
			fprintf(stderr, "devfn %02x: read-only identity changed after a %u-byte "
				"write at 0x%x\n", devfn, size, off);
	}
}

/* Write through all three paths, then read back at every width. */
static void poke(uint8_t devfn, unsigned off, unsigned size, uint32_t val)
{
	uint64_t v;

	pci_host_cfg_write(host, devfn, off, size, val);
	bus_write(&mmio, ECAM_BASE + ((uint64_t)devfn << 12) + off, size, val);
	if (off < 256) {
		bus_write(&pio, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xfc));
		bus_write(&pio, 0xcfc + (off & 3), size, val);
		bus_read(&pio, 0xcfc + (off & 3), size, &v);
	}
	for (unsigned w = 1; w <= 4; w *= 2)
		(void)pci_host_cfg_read(host, devfn, off, w);
	bus_read(&mmio, ECAM_BASE + ((uint64_t)devfn << 12) + (off & ~7u), 8, &v);
}

/* Scribble over whatever BARs are mapped right now. */
static void scribble_bars(struct pci_dev *dev)
{
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint64_t base, v;
		struct bus *bus;

		if (!pci_dev_bar_addr(dev, b, &base))
			continue;
		bus = pci_cfg_get(dev, PCI_BASE_ADDRESS_0 + 4 * b, 4) & 1 ? &pio : &mmio;
		for (unsigned k = 0; k < 64; k++) {
			unsigned size = 1u << (rnd() % 4);
			uint64_t off = rnd() % 0x1000;

			if (bus == &pio)
				off %= 32;
			bus_write(bus, base + off, size, rnd() & 1 ? ~0ull : rnd());
			bus_read(bus, base + off, size, &v);
		}
	}
}

int main(void)
{
	struct pci_host_cfg hc = { .pio = &pio, .mmio = &mmio, .ecam_base = ECAM_BASE,
				   .irq_ops = &ops };
	struct pci_dev_cfg all = {
		.name = "allkinds",
		.vendor_id = 0x1234,
		.device_id = 0x5678,
		.class_code = 0x020000,
		.intx_pin = 1,
		.bar = {
			[0] = { .type = PCI_BAR_IO, .size = 64, .ops = &dummy_ops },
			[1] = { .type = PCI_BAR_MEM32, .size = 8192, .ops = &dummy_ops },
			[2] = { .type = PCI_BAR_MEM64, .prefetchable = true, .size = 1 << 16,
				.ops = &dummy_ops },
			[4] = { .type = PCI_BAR_MEM64, .size = 4096 },
		},
		.msix_vectors = 70, /* PBA spans two qwords */
		.msix_bar = 4,
		.msix_table_offset = 0,
		.msix_pba_offset = 0xc00,
		.msi_vectors = 32,
		.pcie = true,
	};
	struct pci_dev_cfg legacy = {
		.name = "legacy",
		.vendor_id = 0x10ec,
		.device_id = 0x8029,
		.class_code = 0x020000,
		.intx_pin = 1,
		.bar = { [0] = { .type = PCI_BAR_IO, .size = 32, .ops = &dummy_ops } },
	};
	static const uint8_t devfns[] = { PCI_DEVFN(0, 0), PCI_DEVFN(3, 0), PCI_DEVFN(4, 0),
					  PCI_DEVFN(5, 0), PCI_DEVFN(6, 0) };
	struct ident want[sizeof(devfns)];
	struct pci_dev *devs[sizeof(devfns)] = { 0 };
	struct pci_testdev *td;
	struct pci_stats st;
	unsigned long writes = 0;

	log_set_level(LOGL_ERR);
	if (bus_init(&pio, "pio") || bus_init(&mmio, "mmio") || pci_host_create(&hc, &host) ||
	    pci_dev_add(host, 3, &all, &devs[1]) || pci_testdev_create(host, 4, &td) ||
	    pci_dev_add(host, 5, &legacy, &devs[3])) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	devs[0] = pci_host_dev(host, 0);
	devs[2] = pci_testdev_pci(td);
	for (unsigned d = 0; d < sizeof(devfns); d++)
		snapshot(devfns[d], &want[d]);

	for (unsigned d = 0; d < sizeof(devfns); d++) {
		uint8_t df = devfns[d];

		for (unsigned off = 0; off < PCI_CFG_EXT_SIZE; off++) {
			for (unsigned size = 1; size <= 4; size *= 2) {
				poke(df, off, size, 0xffffffff);
				poke(df, off, size, 0);
				poke(df, off, size, (uint32_t)rnd());
				writes += 3;
			}
			/* Give the BARs somewhere to live now and then, so moves happen too. */
			if (off % 64 == 0 && devs[d]) {
				for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
					uint32_t a = (uint32_t)(0xc000 + 0x100 * b + (rnd() & 0x7f000));
					unsigned reg = PCI_BASE_ADDRESS_0 + 4 * b;

					pci_host_cfg_write(host, df, reg, 4, a);
				}
				pci_host_cfg_write(host, df, PCI_COMMAND, 2, 0x7);
				/* and MSI-X or MSI turned on, so notifications get delivered */
				unsigned mx = pci_cap_find(devs[d], PCI_CAP_ID_MSIX);
				unsigned mi = pci_cap_find(devs[d], PCI_CAP_ID_MSI);

				if (mx && (off / 64) % 2)
					pci_host_cfg_write(host, df, mx + 3, 1, 0x80);
				else if (mi)
					pci_host_cfg_write(host, df, mi + 2, 1, 0x51);
				scribble_bars(devs[d]);
				(void)pci_irq_notify(devs[d], (unsigned)(rnd() % 80));
				(void)pci_msix_notify(devs[d], (unsigned)(rnd() % 80));
				(void)pci_msi_notify(devs[d], (unsigned)(rnd() % 40));
				pci_set_intx(devs[d], (int)(rnd() & 1));
			}
			check_ident(df, &want[d], off, 4);
		}
		for (unsigned e = 0; e < sizeof(devfns); e++)
			check_ident(devfns[e], &want[e], 0, 0);
	}
	/* Absent functions: all-ones, writes dropped. */
	poke(PCI_DEVFN(7, 0), 0, 4, 0);
	poke(PCI_DEVFN(3, 1), 0, 4, 0);
	if (pci_host_cfg_read(host, PCI_DEVFN(7, 0), 0, 4) != 0xffffffff)
		failures++;
	pci_host_stats(host, &st);
	printf("test_pci_hostile: %lu config writes, %llu bad accesses, %llu refused BARs, "
	       "%lu MSIs, %lu INTx changes\n", writes, (unsigned long long)st.cfg_bad_access,
	       (unsigned long long)st.bar_refused, nr_msi, nr_intx);
	pci_testdev_destroy(td);
	pci_host_destroy(host);
	if (pio.nr || mmio.nr) {
		fprintf(stderr, "bus windows left behind: pio %u mmio %u\n", pio.nr, mmio.nr);
		failures++;
	}
	bus_fini(&pio);
	bus_fini(&mmio);
	if (failures) {
		fprintf(stderr, "test_pci_hostile: %d failures\n", failures);
		return 1;
	}
	return 0;
}
