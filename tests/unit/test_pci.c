// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI core against core/bus.h buses and a counting pci_irq_ops: header masks, BAR sizing and
 * placement for every BAR kind, capability walk, decode enable, overlap refusal, MSI-X table/PBA at
 * every width, masking/pending/unmask delivery, MSI, INTx wired-OR, eventfd-bound vectors,
 * firmware-less BAR assignment and the test device.
 */
#include <errno.h>
#include <pthread.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "evloop.h"
#include "log.h"
#include "pci.h"
#include "pci_testdev.h"
#include "test.h"

#define ECAM_BASE 0xb0000000ull

/* ---- fake interrupt side ---- */
struct msi_rec {
	struct pci_dev *dev;
	unsigned vector;
	uint64_t addr;
	uint32_t data;
};

static struct {
	unsigned nr_msi;
	struct msi_rec last;
	int intx_level[24];
	unsigned intx_calls;
	unsigned nr_update;
	struct pci_msi_vector last_update;
	int last_old_fd;
	unsigned resets;
} irq;

static void fake_route_msi(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
			   uint32_t data)
{
	(void)opaque;
	irq.nr_msi++;
	irq.last = (struct msi_rec){ dev, vector, addr, data };
}

static void fake_set_intx(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi < 24)
		irq.intx_level[gsi] = level;
	irq.intx_calls++;
}

static void fake_vector_update(void *opaque, struct pci_dev *dev, unsigned vector, int old_fd,
			       const struct pci_msi_vector *st)
{
	(void)opaque;
	(void)dev;
	(void)vector;
	irq.nr_update++;
	irq.last_update = *st;
	irq.last_old_fd = old_fd;
}

static const struct pci_irq_ops fake_ops = {
	.route_msi = fake_route_msi,
	.set_intx = fake_set_intx,
	.vector_update = fake_vector_update,
};

static void fake_reset(void *opaque)
{
	(void)opaque;
	irq.resets++;
}

/* ---- a device with every BAR kind ---- */
struct regs {
	uint64_t last_off;
	unsigned last_size;
	uint64_t last_val;
	unsigned reads, writes;
};

static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
	struct regs *r = opaque;

	r->reads++;
	r->last_off = off;
	r->last_size = size;
	return 0xa5a5a5a5a5a5a5a5ull;
}

static void regs_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct regs *r = opaque;

	r->writes++;
	r->last_off = off;
	r->last_size = size;
	r->last_val = val;
}

static const struct bus_ops regs_ops = { .read = regs_read, .write = regs_write };
static struct regs bar_regs[PCI_NUM_BARS];

static struct pci_dev_cfg all_kinds_cfg(void)
{
	struct pci_dev_cfg c = {
		.name = "allkinds",
		.vendor_id = 0x1234,
		.device_id = 0x5678,
		.subsys_vendor_id = 0x1af4,
		.subsys_id = 0x0042,
		.revision = 3,
		.class_code = 0x020000,
		.intx_pin = 2,
		.bar = {
			[0] = { .type = PCI_BAR_IO, .size = 32, .ops = &regs_ops,
				.opaque = &bar_regs[0] },
			[1] = { .type = PCI_BAR_MEM32, .size = 8192, .ops = &regs_ops,
				.opaque = &bar_regs[1] },
			[2] = { .type = PCI_BAR_MEM64, .prefetchable = true, .size = 1 << 20,
				.ops = &regs_ops, .opaque = &bar_regs[2] },
			[4] = { .type = PCI_BAR_MEM32, .prefetchable = true, .size = 64 * 1024,
				.ops = &regs_ops, .opaque = &bar_regs[4] },
		},
		.msix_vectors = 3,
		.msix_bar = 1,
		.msix_table_offset = 0x1000,
		.msix_pba_offset = 0x1800,
		.msi_vectors = 4,
		.pcie = true,
	};
	return c;
}

/* ---- guest-style config access ---- */
static struct bus pio, mmio;
static struct pci_host *host;

static uint32_t cf8_read(uint8_t devfn, unsigned off, unsigned size)
{
	uint64_t v;

	bus_write(&pio, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xfc));
	bus_read(&pio, 0xcfc + (off & 3), size, &v);
	return (uint32_t)v;
}

static void cf8_write(uint8_t devfn, unsigned off, unsigned size, uint32_t val)
{
	bus_write(&pio, 0xcf8, 4, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xfc));
	bus_write(&pio, 0xcfc + (off & 3), size, val);
}

static uint32_t ecam_read(uint8_t devfn, unsigned off, unsigned size)
{
	uint64_t v;

	bus_read(&mmio, ECAM_BASE + ((uint64_t)devfn << 12) + off, size, &v);
	return (uint32_t)v;
}

static void ecam_write(uint8_t devfn, unsigned off, unsigned size, uint32_t val)
{
	bus_write(&mmio, ECAM_BASE + ((uint64_t)devfn << 12) + off, size, val);
}

static bool mapped_at(struct bus *b, uint64_t addr)
{
	return bus_lookup(b, addr, NULL);
}

static void setup(void)
{
	struct pci_host_cfg hc = {
		.pio = &pio,
		.mmio = &mmio,
		.ecam_base = ECAM_BASE,
		.irq_ops = &fake_ops,
		.reset_request = fake_reset,
	};

	memset(&irq, 0, sizeof(irq));
	memset(bar_regs, 0, sizeof(bar_regs));
	CHECK(bus_init(&pio, "pio") == 0);
	CHECK(bus_init(&mmio, "mmio") == 0);
	CHECK(pci_host_create(&hc, &host) == 0);
}

static void teardown(void)
{
	pci_host_destroy(host);
	host = NULL;
	CHECK_EQ(pio.nr, 0);
	CHECK_EQ(mmio.nr, 0);
	bus_fini(&pio);
	bus_fini(&mmio);
}

static void test_host_bridge(void)
{
	setup();
	CHECK_EQ(cf8_read(0, PCI_VENDOR_ID, 2), 0x8086);
	CHECK_EQ(cf8_read(0, PCI_DEVICE_ID, 2), 0x29c0);
	CHECK_EQ(cf8_read(0, PCI_VENDOR_ID, 4), 0x29c08086);
	CHECK_EQ(ecam_read(0, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	CHECK_EQ(cf8_read(0, PCI_HEADER_TYPE, 1), 0);
	/* absent slot, function, bus: all-ones */
	CHECK_EQ(cf8_read(PCI_DEVFN(5, 0), 0, 4), 0xffffffff);
	CHECK_EQ(cf8_read(PCI_DEVFN(0, 1), 0, 2), 0xffff);
	CHECK_EQ(ecam_read(PCI_DEVFN(31, 7), 0, 4), 0xffffffff);
	bus_write(&pio, 0xcf8, 4, 0x80010000u);
	{
		uint64_t v;

		bus_read(&pio, 0xcfc, 4, &v);
		CHECK_EQ(v, 0xffffffff);
	}
	/* address register reads back with reserved bits clear */
	bus_write(&pio, 0xcf8, 4, 0xffffffff);
	{
		uint64_t v;

		bus_read(&pio, 0xcf8, 4, &v);
		CHECK_EQ(v, 0x80fffffc);
	}
	/* disabled address register: data reads all-ones */
	bus_write(&pio, 0xcf8, 4, 0);
	{
		uint64_t v;

		bus_read(&pio, 0xcfc, 2, &v);
		CHECK_EQ(v, 0xffff);
	}
	/* 0xcf9 reset control */
	bus_write(&pio, 0xcf9, 1, 0x06);
	CHECK_EQ(irq.resets, 1);
	bus_write(&pio, 0xcf9, 1, 0x02);
	CHECK_EQ(irq.resets, 1);
	teardown();
}

static void test_header_masks(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *dev;
	uint8_t df = PCI_DEVFN(3, 0);

	setup();
	CHECK(pci_dev_add(host, 3, &c, &dev) == 0);
	CHECK(pci_dev_add(host, 3, &c, NULL) == -EEXIST);
	CHECK(pci_dev_add(host, 0, &c, NULL) == -EINVAL);
	CHECK(pci_dev_add(host, 32, &c, NULL) == -EINVAL);
	CHECK_EQ(pci_dev_devfn(dev), df);
	CHECK_EQ(cf8_read(df, 0, 4), 0x56781234);
	cf8_write(df, 0, 4, 0xffffffff);
	ecam_write(df, 0, 4, 0);
	CHECK_EQ(cf8_read(df, 0, 4), 0x56781234);
	CHECK_EQ(cf8_read(df, PCI_CLASS_REVISION, 4), 0x02000003);
	cf8_write(df, PCI_CLASS_REVISION, 4, 0);
	CHECK_EQ(cf8_read(df, PCI_CLASS_REVISION, 4), 0x02000003);
	CHECK_EQ(cf8_read(df, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x00421af4);
	CHECK_EQ(cf8_read(df, PCI_INTERRUPT_PIN, 1), 2);
	cf8_write(df, PCI_INTERRUPT_PIN, 1, 0);
	CHECK_EQ(cf8_read(df, PCI_INTERRUPT_PIN, 1), 2);
	cf8_write(df, PCI_INTERRUPT_LINE, 1, 0x11);
	CHECK_EQ(cf8_read(df, PCI_INTERRUPT_LINE, 1), 0x11);
	/* command: only the bits we implement are writable */
	cf8_write(df, PCI_COMMAND, 2, 0xffff);
	CHECK_EQ(cf8_read(df, PCI_COMMAND, 2), 0x0547);
	cf8_write(df, PCI_COMMAND, 2, 0);
	CHECK_EQ(cf8_read(df, PCI_COMMAND, 2), 0);
	/* status: capability bit read-only, error bits write-1-to-clear */
	CHECK(cf8_read(df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	pci_cfg_set(dev, PCI_STATUS, 2, pci_cfg_get(dev, PCI_STATUS, 2) | 0x8000);
	cf8_write(df, PCI_STATUS, 2, 0);
	CHECK(cf8_read(df, PCI_STATUS, 2) & 0x8000);
	cf8_write(df, PCI_STATUS, 2, 0xffff);
	CHECK(!(cf8_read(df, PCI_STATUS, 2) & 0x8000));
	CHECK(cf8_read(df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* byte write into the middle of a dword */
	cf8_write(df, PCI_CACHE_LINE_SIZE, 1, 0x10);
	CHECK_EQ(cf8_read(df, PCI_CACHE_LINE_SIZE, 1), 0x10);
	CHECK_EQ(cf8_read(df, PCI_HEADER_TYPE, 1), 0);
	/* ECAM: extended space of a PCIe device reads 0; 8-byte access splits */
	CHECK_EQ(ecam_read(df, 0x100, 4), 0);
	{
		uint64_t v;

		bus_read(&mmio, ECAM_BASE + ((uint64_t)df << 12), 8, &v);
		CHECK_EQ(v, 0x0010000056781234ull | ((uint64_t)cf8_read(df, 4, 4) << 32));
	}
	/* dword-crossing access via ECAM is refused */
	{
		struct pci_stats st;

		CHECK_EQ(ecam_read(df, 3, 2), 0xffff);
		pci_host_stats(host, &st);
		CHECK(st.cfg_bad_access >= 1);
	}
	teardown();
}

static void test_bar_sizing(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	uint8_t df = PCI_DEVFN(4, 0);

	setup();
	CHECK(pci_dev_add(host, 4, &c, NULL) == 0);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_0, 4), PCI_BASE_ADDRESS_SPACE_IO);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_2, 4), 0xc); /* 64-bit prefetchable */
	for (unsigned i = 0; i < 6; i++)
		cf8_write(df, PCI_BASE_ADDRESS_0 + 4 * i, 4, 0xffffffff);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_0, 4), 0xffffffe1);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_1, 4), 0xffffe000);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_2, 4), 0xfff0000c);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_4, 4), 0xffff0008);
	CHECK_EQ(cf8_read(df, PCI_BASE_ADDRESS_5, 4), 0);
	/* expansion ROM not implemented: sizes to 0 */
	cf8_write(df, PCI_ROM_ADDRESS, 4, 0xffffffff);
	CHECK_EQ(cf8_read(df, PCI_ROM_ADDRESS, 4), 0);
	/* the sizing pattern with decode on maps nothing and is not counted as refused */
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	CHECK_EQ(mmio.nr, 1); /* ECAM only */
	CHECK_EQ(pio.nr, 1);  /* cf8 only */
	{
		struct pci_stats st;

		pci_host_stats(host, &st);
		CHECK_EQ(st.bar_refused, 0);
	}
	/* 64-bit BAR above 4 GiB */
	cf8_write(df, PCI_BASE_ADDRESS_2, 4, 0x00100000);
	cf8_write(df, PCI_BASE_ADDRESS_3, 4, 0x00000008);
	CHECK(mapped_at(&mmio, 0x800100000ull));
	CHECK(mapped_at(&mmio, 0x8001fffffull));
	CHECK(!mapped_at(&mmio, 0x800200000ull));
	{
		uint64_t v;

		CHECK(bus_read(&mmio, 0x800100010ull, 8, &v));
		CHECK_EQ(bar_regs[2].last_off, 0x10);
		CHECK_EQ(bar_regs[2].last_size, 8);
		CHECK_EQ(v, 0xa5a5a5a5a5a5a5a5ull);
	}
	teardown();
}

static void test_decode_and_move(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *dev, *dev2;
	uint8_t df = PCI_DEVFN(5, 0);
	uint64_t addr;
	struct pci_stats st;

	setup();
	CHECK(pci_dev_add(host, 5, &c, &dev) == 0);
	cf8_write(df, PCI_BASE_ADDRESS_0, 4, 0xc000);
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0000000);
	CHECK(!mapped_at(&pio, 0xc000));
	CHECK(!mapped_at(&mmio, 0xe0000000));
	CHECK(!pci_dev_bar_addr(dev, 1, &addr));
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(mapped_at(&mmio, 0xe0000000));
	CHECK(!mapped_at(&pio, 0xc000));
	CHECK(pci_dev_bar_addr(dev, 1, &addr) && addr == 0xe0000000);
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	CHECK(mapped_at(&pio, 0xc000));
	CHECK(bus_write(&pio, 0xc004, 2, 0xbeef));
	CHECK_EQ(bar_regs[0].last_off, 4);
	CHECK_EQ(bar_regs[0].last_val, 0xbeef);
	CHECK(bus_write(&mmio, 0xe0000100, 4, 7));
	CHECK_EQ(bar_regs[1].last_off, 0x100);
	/* move */
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0100000);
	CHECK(!mapped_at(&mmio, 0xe0000000));
	CHECK(mapped_at(&mmio, 0xe0100000));
	CHECK(bus_write(&mmio, 0xe0100008, 4, 9));
	CHECK_EQ(bar_regs[1].last_off, 8);
	/* decode off unmaps */
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_IO);
	CHECK(!mapped_at(&mmio, 0xe0100000));
	CHECK(mapped_at(&pio, 0xc000));
	cf8_write(df, PCI_COMMAND, 2, 0);
	CHECK(!mapped_at(&pio, 0xc000));
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	CHECK(mapped_at(&mmio, 0xe0100000));

	/* a second device overlapping the first is refused and stays unmapped */
	CHECK(pci_dev_add(host, 6, &c, &dev2) == 0);
	cf8_write(PCI_DEVFN(6, 0), PCI_BASE_ADDRESS_1, 4, 0xe0100000);
	cf8_write(PCI_DEVFN(6, 0), PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(!pci_dev_bar_addr(dev2, 1, NULL));
	pci_host_stats(host, &st);
	CHECK_EQ(st.bar_refused, 1);
	CHECK(bus_write(&mmio, 0xe0100010, 4, 1));
	CHECK_EQ(bar_regs[1].last_off, 0x10); /* still dev 1's window */
	/* dev2 is unmapped, so its address is free for itself to retry elsewhere */
	cf8_write(PCI_DEVFN(6, 0), PCI_BASE_ADDRESS_1, 4, 0xe0200000);
	CHECK(pci_dev_bar_addr(dev2, 1, &addr) && addr == 0xe0200000);
	/* moving dev 1 onto dev2 is refused: dev 1 ends unmapped, dev2 untouched */
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0200000);
	CHECK(!pci_dev_bar_addr(dev, 1, NULL));
	CHECK(pci_dev_bar_addr(dev2, 1, &addr) && addr == 0xe0200000);
	/* over the ECAM window: refused */
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, (uint32_t)ECAM_BASE);
	CHECK(!pci_dev_bar_addr(dev, 1, NULL));
	/* invalid I/O placement beyond 64 KiB: refused, counted */
	cf8_write(df, PCI_BASE_ADDRESS_0, 4, 0x10000);
	CHECK(!pci_dev_bar_addr(dev, 0, NULL));
	pci_host_stats(host, &st);
	CHECK(st.bar_refused >= 4);
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0000000);
	CHECK(pci_dev_bar_addr(dev, 1, &addr) && addr == 0xe0000000);
	pci_dev_remove(dev2);
	CHECK(!mapped_at(&mmio, 0xe0200000));
	CHECK_EQ(cf8_read(PCI_DEVFN(6, 0), 0, 4), 0xffffffff);
	teardown();
}

static void test_caps(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *dev;
	uint8_t df = PCI_DEVFN(7, 0);
	unsigned seen = 0, off, n = 0;
	uint8_t vendor_cap[6] = { 1, 2, 3, 4, 5, 6 };
	int voff;

	setup();
	CHECK(pci_dev_add(host, 7, &c, &dev) == 0);
	voff = pci_cap_add(dev, PCI_CAP_ID_VNDR, vendor_cap, sizeof(vendor_cap));
	CHECK(voff >= 0x40 && (voff & 3) == 0);
	off = cf8_read(df, PCI_CAPABILITY_LIST, 1);
	while (off && n++ < 16) {
		uint8_t id = (uint8_t)cf8_read(df, off, 1);

		CHECK(off >= 0x40 && (off & 3) == 0);
		if (id == PCI_CAP_ID_MSIX)
			seen |= 1;
		if (id == PCI_CAP_ID_MSI)
			seen |= 2;
		if (id == PCI_CAP_ID_EXP)
			seen |= 4;
		if (id == PCI_CAP_ID_VNDR) {
			seen |= 8;
			CHECK_EQ(off, (unsigned)voff);
			CHECK_EQ(cf8_read(df, off + 2, 2), 0x0201);
			CHECK_EQ(cf8_read(df, off + 4, 2), 0x0403);
		}
		off = cf8_read(df, off + 1, 1);
	}
	CHECK_EQ(seen, 15);
	CHECK_EQ(pci_cap_find(dev, PCI_CAP_ID_VNDR), (unsigned)voff);
	CHECK_EQ(pci_cap_find(dev, PCI_CAP_ID_AGP), 0);
	/* vendor capability bytes are read-only unless the device says otherwise */
	cf8_write(df, voff + 2, 2, 0);
	CHECK_EQ(cf8_read(df, voff + 2, 2), 0x0201);
	pci_cfg_set_wmask(dev, voff + 2, 1, 0xff);
	cf8_write(df, voff + 2, 2, 0);
	CHECK_EQ(cf8_read(df, voff + 2, 2), 0x0200);
	/* MSI-X capability describes table and PBA */
	off = pci_cap_find(dev, PCI_CAP_ID_MSIX);
	CHECK_EQ(cf8_read(df, off + PCI_MSIX_FLAGS, 2), 2); /* 3 vectors */
	CHECK_EQ(cf8_read(df, off + PCI_MSIX_TABLE, 4), 0x1001);
	CHECK_EQ(cf8_read(df, off + PCI_MSIX_PBA, 4), 0x1801);
	/* capability space runs out cleanly */
	for (int i = 0; i < 100; i++)
		if (pci_cap_add(dev, PCI_CAP_ID_VNDR, vendor_cap, sizeof(vendor_cap)) < 0)
			break;
	CHECK(pci_cap_add(dev, PCI_CAP_ID_VNDR, vendor_cap, sizeof(vendor_cap)) == -ENOSPC);
	teardown();
}

/* Helpers for the MSI-X tests: device at slot 8, BAR1 at 0xe0000000, table at +0x1000. */
#define MX_TABLE 0xe0001000ull
#define MX_PBA 0xe0001800ull

static uint64_t mrd(uint64_t addr, unsigned size)
{
	uint64_t v;

	bus_read(&mmio, addr, size, &v);
	return v;
}

static void mwr(uint64_t addr, unsigned size, uint64_t v)
{
	bus_write(&mmio, addr, size, v);
}

static struct pci_dev *msix_setup(unsigned *cap)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *dev;
	uint8_t df = PCI_DEVFN(8, 0);

	setup();
	CHECK(pci_dev_add(host, 8, &c, &dev) == 0);
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0000000);
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	*cap = pci_cap_find(dev, PCI_CAP_ID_MSIX);
	return dev;
}

static void test_msix_table_widths(void)
{
	unsigned cap;
	struct pci_dev *dev = msix_setup(&cap);
	struct pci_stats st;

	(void)dev;
	/* reset state: all zero, vector masked */
	for (unsigned v = 0; v < 3; v++) {
		CHECK_EQ(mrd(MX_TABLE + 16 * v, 8), 0);
		CHECK_EQ(mrd(MX_TABLE + 16 * v + 8, 4), 0);
		CHECK_EQ(mrd(MX_TABLE + 16 * v + 12, 4), 1);
	}
	/* dword writes, every-width reads */
	mwr(MX_TABLE + 0, 4, 0xfee01004);
	mwr(MX_TABLE + 4, 4, 0x00000001);
	mwr(MX_TABLE + 8, 4, 0x000040a1);
	CHECK_EQ(mrd(MX_TABLE + 0, 8), 0x1fee01004ull);
	CHECK_EQ(mrd(MX_TABLE + 0, 4), 0xfee01004);
	CHECK_EQ(mrd(MX_TABLE + 2, 2), 0xfee0);
	CHECK_EQ(mrd(MX_TABLE + 1, 1), 0x10);
	CHECK_EQ(mrd(MX_TABLE + 3, 4), 0x000001fe); /* unaligned, served bytewise */
	/* qword write */
	mwr(MX_TABLE + 16, 8, 0x00000000fee00000ull);
	mwr(MX_TABLE + 24, 8, 0x0000000000000031ull); /* data 0x31, ctrl 0: unmasked */
	CHECK_EQ(mrd(MX_TABLE + 16 + 12, 4), 0);
	CHECK_EQ(mrd(MX_TABLE + 16 + 8, 4), 0x31);
	/* byte and word writes; address bits 1:0 and reserved control bits stay 0 */
	mwr(MX_TABLE + 32, 1, 0xff);
	CHECK_EQ(mrd(MX_TABLE + 32, 4), 0xfc);
	mwr(MX_TABLE + 32 + 12, 4, 0xffffffff);
	CHECK_EQ(mrd(MX_TABLE + 32 + 12, 4), 1);
	mwr(MX_TABLE + 32 + 8, 2, 0xbeef);
	CHECK_EQ(mrd(MX_TABLE + 32 + 8, 4), 0xbeef);
	/* PBA is read-only */
	mwr(MX_PBA, 8, ~0ull);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	/* an access straddling the table end: all-ones, counted, dropped */
	CHECK_EQ(mrd(MX_TABLE + 48 - 4, 8), ~0ull);
	mwr(MX_TABLE + 48 - 4, 8, 0);
	CHECK_EQ(mrd(MX_TABLE + 32 + 12, 4), 1);
	pci_host_stats(host, &st);
	CHECK_EQ(st.msix_bad_access, 2);
	/* the rest of the BAR is the device's */
	mrd(0xe0000040, 4);
	CHECK_EQ(bar_regs[1].last_off, 0x40);
	mrd(0xe0001830, 2);
	CHECK_EQ(bar_regs[1].last_off, 0x1830);
	teardown();
}

static void test_msix_mask_pending(void)
{
	unsigned cap;
	struct pci_dev *dev = msix_setup(&cap);
	uint8_t df = PCI_DEVFN(8, 0);

	/* disabled: nothing recorded */
	CHECK(pci_msix_notify(dev, 0) == -EAGAIN);
	CHECK(pci_msix_notify(dev, 3) == -EINVAL);
	CHECK(!pci_msix_enabled(dev));
	mwr(MX_TABLE + 0, 4, 0xfee00000);
	mwr(MX_TABLE + 8, 4, 0x41);
	mwr(MX_TABLE + 16, 4, 0xfee01000);
	mwr(MX_TABLE + 24, 4, 0x42);
	cf8_write(df, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK(pci_msix_enabled(dev));
	CHECK_EQ(cf8_read(df, cap + PCI_MSIX_FLAGS, 2), 0x8002); /* table size read-only */
	/* masked vector: pending, no delivery */
	CHECK(pci_msix_notify(dev, 0) == 0);
	CHECK_EQ(irq.nr_msi, 0);
	CHECK_EQ(mrd(MX_PBA, 8), 1);
	CHECK_EQ(mrd(MX_PBA, 1), 1);
	/* unmask: delivered once, pending cleared */
	mwr(MX_TABLE + 12, 4, 0);
	CHECK_EQ(irq.nr_msi, 1);
	CHECK_EQ(irq.last.vector, 0);
	CHECK_EQ(irq.last.addr, 0xfee00000);
	CHECK_EQ(irq.last.data, 0x41);
	CHECK(irq.last.dev == dev);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	mwr(MX_TABLE + 12, 4, 0);
	CHECK_EQ(irq.nr_msi, 1);
	/* unmasked: immediate */
	CHECK(pci_msix_notify(dev, 0) == 0);
	CHECK_EQ(irq.nr_msi, 2);
	/* function mask holds everything */
	mwr(MX_TABLE + 28, 4, 0);
	cf8_write(df, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	CHECK(pci_msix_notify(dev, 0) == 0);
	CHECK(pci_msix_notify(dev, 1) == 0);
	CHECK(pci_msix_notify(dev, 1) == 0); /* coalesces into one pending bit */
	CHECK_EQ(irq.nr_msi, 2);
	CHECK_EQ(mrd(MX_PBA, 4), 3);
	cf8_write(df, cap + PCI_MSIX_FLAGS + 1, 1, PCI_MSIX_FLAGS_ENABLE >> 8);
	CHECK_EQ(irq.nr_msi, 4);
	CHECK_EQ(irq.last.data, 0x42);
	CHECK_EQ(mrd(MX_PBA, 4), 0);
	/* MSI-X enabled: INTx is quiet */
	pci_set_intx(dev, 1);
	CHECK_EQ(irq.intx_calls, 0);
	CHECK(cf8_read(df, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cf8_write(df, cap + PCI_MSIX_FLAGS, 2, 0);
	CHECK_EQ(irq.intx_calls, 1);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(8, 2)], 1);
	pci_set_intx(dev, 0);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(8, 2)], 0);
	/* pci_irq_notify picks the mechanism */
	CHECK(pci_irq_notify(dev, 0) == 0);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(8, 2)], 1);
	pci_set_intx(dev, 0);
	cf8_write(df, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK(pci_irq_notify(dev, 1) == 0);
	CHECK_EQ(irq.nr_msi, 5);
	/* decode off: the table is unreachable but state is kept */
	cf8_write(df, PCI_COMMAND, 2, 0);
	CHECK_EQ(mrd(MX_TABLE + 8, 4), 0xffffffff);
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(mrd(MX_TABLE + 8, 4), 0x41);
	teardown();
}

static void test_msi(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *dev;
	uint8_t df = PCI_DEVFN(9, 0);
	unsigned cap;

	setup();
	CHECK(pci_dev_add(host, 9, &c, &dev) == 0);
	cap = pci_cap_find(dev, PCI_CAP_ID_MSI);
	CHECK(cap);
	/* 64-bit, per-vector masking, 4 vectors requested */
	CHECK_EQ(cf8_read(df, cap + PCI_MSI_FLAGS, 2), 0x0184);
	CHECK(pci_msi_notify(dev, 0) == -EAGAIN);
	CHECK(pci_msi_notify(dev, 4) == -EINVAL);
	cf8_write(df, cap + 4, 4, 0xfee00003);
	cf8_write(df, cap + 8, 4, 0);
	cf8_write(df, cap + 12, 2, 0x4063);
	CHECK_EQ(cf8_read(df, cap + 4, 4), 0xfee00000);
	/* enable with 4 vectors granted (MME = 2) */
	cf8_write(df, cap + PCI_MSI_FLAGS, 2, 0x0021);
	CHECK(pci_msi_enabled(dev));
	CHECK(pci_msi_notify(dev, 3) == 0);
	CHECK_EQ(irq.nr_msi, 1);
	CHECK_EQ(irq.last.data, 0x4063); /* 0x4060 | 3 */
	CHECK(pci_msi_notify(dev, 1) == 0);
	CHECK_EQ(irq.last.data, 0x4061);
	/* mask vector 1: pending, visible in the pending register, sent on unmask */
	cf8_write(df, cap + 16, 4, 0xffffffff);
	CHECK_EQ(cf8_read(df, cap + 16, 4), 0xf);
	CHECK(pci_msi_notify(dev, 1) == 0);
	CHECK_EQ(irq.nr_msi, 2);
	CHECK_EQ(cf8_read(df, cap + 20, 4), 2);
	cf8_write(df, cap + 20, 4, 0); /* read-only */
	CHECK_EQ(cf8_read(df, cap + 20, 4), 2);
	cf8_write(df, cap + 16, 4, 0xd);
	CHECK_EQ(irq.nr_msi, 3);
	CHECK_EQ(irq.last.data, 0x4061);
	CHECK_EQ(cf8_read(df, cap + 20, 4), 0);
	/* only one vector granted: vectors alias onto vector 0 */
	cf8_write(df, cap + 16, 4, 0);
	cf8_write(df, cap + PCI_MSI_FLAGS, 2, 0x0001);
	CHECK(pci_msi_notify(dev, 3) == 0);
	CHECK_EQ(irq.last.data, 0x4063); /* one vector: Message Data is sent as programmed */
	CHECK_EQ(irq.last.vector, 0);
	teardown();
}

static void test_intx_wired_or(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_dev *a, *b;
	struct irq_line line;
	unsigned gsi;

	setup();
	c.intx_pin = 1;
	CHECK(pci_dev_add(host, 1, &c, &a) == 0);
	CHECK(pci_dev_add(host, 5, &c, &b) == 0); /* same swizzle: (1+0)%4 == (5+0)%4 */
	gsi = PCI_INTX_GSI(1, 1);
	CHECK_EQ(gsi, 17);
	CHECK_EQ(pci_dev_intx_gsi(a), 17);
	CHECK_EQ(pci_dev_intx_gsi(b), 17);
	CHECK_EQ(PCI_INTX_GSI(0, 1), 16);
	CHECK_EQ(PCI_INTX_GSI(3, 4), 18);
	pci_set_intx(a, 1);
	CHECK_EQ(irq.intx_level[gsi], 1);
	CHECK_EQ(irq.intx_calls, 1);
	pci_intx_line(b, &line);
	irq_line_set(&line, 1);
	CHECK_EQ(irq.intx_calls, 1); /* OR unchanged */
	pci_set_intx(a, 0);
	CHECK_EQ(irq.intx_level[gsi], 1);
	irq_line_set(&line, 0);
	CHECK_EQ(irq.intx_level[gsi], 0);
	CHECK_EQ(irq.intx_calls, 2);
	/* Interrupt Disable masks the pin but not the status bit */
	cf8_write(PCI_DEVFN(1, 0), PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	pci_set_intx(a, 1);
	CHECK_EQ(irq.intx_level[gsi], 0);
	CHECK(cf8_read(PCI_DEVFN(1, 0), PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cf8_write(PCI_DEVFN(1, 0), PCI_COMMAND, 2, 0);
	CHECK_EQ(irq.intx_level[gsi], 1);
	/* removing an asserting device drops its contribution */
	pci_dev_remove(a);
	CHECK_EQ(irq.intx_level[gsi], 0);
	teardown();
}

static void test_vector_fds(void)
{
	unsigned cap;
	struct pci_dev *dev = msix_setup(&cap);
	uint8_t df = PCI_DEVFN(8, 0);
	int fd = efd_create();

	CHECK(fd >= 0);
	CHECK(pci_msi_set_vector_fd(dev, true, 3, fd) == -EINVAL);
	CHECK(pci_msi_set_vector_fd(dev, true, 1, fd) == 0);
	CHECK_EQ(irq.nr_update, 1);
	CHECK(!irq.last_update.deliverable);
	CHECK_EQ(irq.last_update.fd, fd);
	CHECK_EQ(irq.last_old_fd, -1);
	CHECK(irq.last_update.is_msix);
	mwr(MX_TABLE + 16, 4, 0xfee00000);
	CHECK_EQ(irq.nr_update, 2); /* address changed */
	mwr(MX_TABLE + 24, 4, 0x55);
	CHECK_EQ(irq.nr_update, 3); /* data changed */
	mwr(MX_TABLE + 24, 4, 0x55);
	CHECK_EQ(irq.nr_update, 3); /* nothing changed */
	cf8_write(df, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK_EQ(irq.nr_update, 3); /* still masked: not deliverable either way */
	mwr(MX_TABLE + 28, 4, 0);
	CHECK_EQ(irq.nr_update, 4);
	CHECK(irq.last_update.deliverable);
	CHECK_EQ(irq.last_update.data, 0x55);
	CHECK_EQ(irq.last_update.addr, 0xfee00000);
	/* mask again: an event on the eventfd shows as pending in the PBA */
	mwr(MX_TABLE + 28, 4, 1);
	CHECK_EQ(irq.nr_update, 5);
	CHECK(!irq.last_update.deliverable);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	CHECK(efd_signal(fd) == 0);
	CHECK_EQ(mrd(MX_PBA, 8), 2);
	CHECK_EQ(mrd(MX_PBA, 8), 2); /* non-consuming */
	/* other vectors unaffected by the fd-bound one */
	CHECK_EQ(irq.nr_msi, 0);
	/* unbind */
	CHECK(pci_msi_set_vector_fd(dev, true, 1, -1) == 0);
	CHECK_EQ(irq.nr_update, 6);
	CHECK_EQ(irq.last_update.fd, -1);
	CHECK_EQ(irq.last_old_fd, fd);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	/* bound again, then the device goes away: unbound through vector_update */
	CHECK(pci_msi_set_vector_fd(dev, false, 0, fd) == 0);
	CHECK_EQ(irq.nr_update, 7);
	CHECK(!irq.last_update.is_msix);
	/* MSI: a signal while masked shows in the Pending Bits register, not consumed */
	{
		unsigned mc = pci_cap_find(dev, PCI_CAP_ID_MSI);

		CHECK_EQ(efd_drain(fd), 1); /* left from the MSI-X part */
		cf8_write(df, cap + PCI_MSIX_FLAGS, 2, 0);
		cf8_write(df, mc + 4, 4, 0xfee00000);
		cf8_write(df, mc + 12, 2, 0x30);
		cf8_write(df, mc + 16, 4, 1);		       /* vector 0 masked */
		cf8_write(df, mc + PCI_MSI_FLAGS, 2, 0x0001); /* enable, one vector */
		CHECK(!irq.last_update.deliverable);
		CHECK_EQ(irq.last_update.data, 0x30);
		CHECK_EQ(cf8_read(df, mc + 20, 4), 0);
		CHECK(efd_signal(fd) == 0);
		CHECK_EQ(cf8_read(df, mc + 20, 4), 1);
		CHECK_EQ(cf8_read(df, mc + 20, 4), 1);
		cf8_write(df, mc + 16, 4, 0);
		CHECK(irq.last_update.deliverable);
		CHECK_EQ(irq.nr_msi, 0); /* the eventfd's event is the irqfd's to inject */
		CHECK_EQ(cf8_read(df, mc + 20, 4), 0);
		CHECK_EQ(efd_drain(fd), 1); /* the signal is still in the eventfd */
	}
	{
		unsigned n = irq.nr_update;

		teardown();
		CHECK_EQ(irq.nr_update, n + 1);
	}
	CHECK_EQ(irq.last_update.fd, -1);
	close(fd);
}

static void test_assign_and_testdev(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	struct pci_bar_windows w = {
		.io_base = 0xc000, .io_limit = 0x10000,
		.mem32_base = 0xe0000000, .mem32_limit = 0xfec00000,
		.mem64_base = 0x100000000ull, .mem64_limit = 0x200000000ull,
	};
	struct pci_testdev *td;
	struct pci_dev *a, *tdp;
	uint64_t addr[PCI_NUM_BARS], base0, io;
	unsigned cap;
	uint8_t tdf = PCI_DEVFN(2, 0);

	setup();
	CHECK(pci_dev_add(host, 1, &c, &a) == 0);
	CHECK(pci_testdev_create(host, 2, &td) == 0);
	tdp = pci_testdev_pci(td);
	CHECK(pci_host_assign_bars(host, &w) == 0);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_cfg *b = &c.bar[i];

		if (b->type == PCI_BAR_NONE)
			continue;
		CHECK(pci_dev_bar_addr(a, i, &addr[i]));
		CHECK_EQ(addr[i] % b->size, 0);
		if (b->type == PCI_BAR_IO)
			CHECK(addr[i] >= w.io_base && addr[i] + b->size <= w.io_limit);
		else if (b->type == PCI_BAR_MEM64)
			CHECK(addr[i] >= w.mem64_base && addr[i] + b->size <= w.mem64_limit);
		else
			CHECK(addr[i] >= w.mem32_base && addr[i] + b->size <= w.mem32_limit);
	}
	CHECK_EQ(cf8_read(PCI_DEVFN(1, 0), PCI_INTERRUPT_LINE, 1), PCI_INTX_GSI(1, 2));
	CHECK_EQ(cf8_read(tdf, PCI_COMMAND, 2) & 7, 7);
	/* test device registers through all three BARs */
	CHECK(pci_dev_bar_addr(tdp, 0, &base0));
	CHECK(pci_dev_bar_addr(tdp, 1, &io));
	CHECK(pci_dev_bar_addr(tdp, 2, &addr[2]));
	CHECK(addr[2] >= w.mem64_base);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_ID, 4), PCI_TESTDEV_MAGIC);
	{
		uint64_t v;

		bus_read(&pio, io + PCI_TESTDEV_REG_ID, 4, &v);
		CHECK_EQ(v, PCI_TESTDEV_MAGIC);
		bus_read(&pio, io + PCI_TESTDEV_REG_ID + 1, 1, &v);
		CHECK_EQ(v, 0x46);
	}
	CHECK_EQ(mrd(addr[2] + PCI_TESTDEV_REG_ID, 4), PCI_TESTDEV_MAGIC);
	mwr(addr[2] + 0x1000, 8, 0x1122334455667788ull);
	CHECK_EQ(mrd(addr[2] + 0x1004, 4), 0x11223344);
	mwr(base0 + PCI_TESTDEV_REG_SCRATCH, 4, 0xdeadbeef);
	CHECK_EQ(pci_testdev_scratch(td), 0xdeadbeef);
	mwr(base0 + PCI_TESTDEV_REG_SCRATCH + 1, 1, 0x00);
	CHECK_EQ(pci_testdev_scratch(td), 0xdead00ef);
	pci_testdev_set_hostval(td, 77);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_HOSTVAL, 4), 77);
	/* FIRE with nothing enabled: INTx */
	mwr(base0 + PCI_TESTDEV_REG_FIRE, 4, 0);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(2, 1)], 1);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_INTX, 4), 1);
	mwr(base0 + PCI_TESTDEV_REG_INTX, 4, 0);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(2, 1)], 0);
	/* MSI-X through BAR0's table at 0x800 */
	cap = pci_cap_find(tdp, PCI_CAP_ID_MSIX);
	mwr(base0 + 0x800 + 16 * 2, 4, 0xfee00000);
	mwr(base0 + 0x800 + 16 * 2 + 8, 4, 0x61);
	mwr(base0 + 0x800 + 16 * 2 + 12, 4, 0);
	cf8_write(tdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	mwr(base0 + PCI_TESTDEV_REG_FIRE, 4, 2);
	CHECK_EQ(irq.nr_msi, 1);
	CHECK_EQ(irq.last.data, 0x61);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_STATUS, 4), 0);
	CHECK(pci_testdev_fire(td, 1) == 0); /* masked: pending */
	CHECK_EQ(mrd(base0 + 0xc00, 8), 2);
	CHECK(pci_testdev_fire(td, 9) == -EINVAL);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_STATUS, 4), (uint32_t)-EINVAL);
	CHECK_EQ(mrd(base0 + PCI_TESTDEV_REG_COUNT, 4), 4);
	/* reassignment keeps placed BARs */
	CHECK(pci_host_assign_bars(host, &w) == 0);
	CHECK(pci_dev_bar_addr(tdp, 0, &addr[0]) && addr[0] == base0);
	pci_testdev_destroy(td);
	/* a window too small */
	{
		struct pci_bar_windows tiny = w;

		CHECK(pci_testdev_create(host, 2, &td) == 0);
		tiny.io_limit = tiny.io_base; /* empty */
		CHECK(pci_host_assign_bars(host, &tiny) == -ENOSPC);
		pci_testdev_destroy(td);
	}
	teardown();
}

static void test_bad_cfgs(void)
{
	struct pci_dev_cfg c;

	setup();
	c = all_kinds_cfg();
	c.bar[0].size = 24;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.bar[0].size = 512;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.bar[3].type = PCI_BAR_IO; /* upper half of the 64-bit BAR */
	c.bar[3].size = 16;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.bar[5].type = PCI_BAR_MEM64;
	c.bar[5].size = 4096;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.msix_bar = 0; /* an I/O BAR */
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.msix_pba_offset = 0x1010; /* overlaps the table */
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.msix_table_offset = 0x1ff8; /* runs past the BAR */
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.msi_vectors = 3;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	c = all_kinds_cfg();
	c.intx_pin = 5;
	CHECK(pci_dev_add(host, 1, &c, NULL) == -EINVAL);
	CHECK(pci_host_dev(host, 1) == NULL);
	teardown();
	{
		struct pci_host_cfg hc = { .mmio = &mmio, .irq_ops = &fake_ops,
					   .ecam_base = 0x1000 };
		struct pci_host *h;

		CHECK(bus_init(&mmio, "mmio") == 0);
		CHECK(pci_host_create(&hc, &h) == -EINVAL);
		hc.ecam_base = 0;
		CHECK(pci_host_create(&hc, &h) == 0);
		pci_host_destroy(h);
		bus_fini(&mmio);
	}
}

/* vCPU-like and backend-like threads at once: every fire ends delivered or pending, never lost. */
#define RACE_FIRES 20000
static int race_stop; /* atomic */

static void *race_fire(void *arg)
{
	struct pci_dev *dev = arg;

	for (int i = 0; i < RACE_FIRES; i++)
		if (pci_msix_notify(dev, (unsigned)i % 2) != 0)
			__atomic_add_fetch(&test_failures, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&race_stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *race_mask(void *arg)
{
	unsigned cap = *(unsigned *)arg;
	unsigned i = 0;

	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE)) {
		mwr(MX_TABLE + 12 + 16 * (i % 2), 4, i & 2 ? 1 : 0);
		pci_host_cfg_write(host, PCI_DEVFN(8, 0), cap + PCI_MSIX_FLAGS, 2,
				   PCI_MSIX_FLAGS_ENABLE | (i & 4 ? PCI_MSIX_FLAGS_MASKALL : 0));
		(void)mrd(MX_PBA, 8);
		i++;
	}
	return NULL;
}

static void test_msix_race(void)
{
	unsigned cap;
	struct pci_dev *dev = msix_setup(&cap);
	pthread_t a, b;

	mwr(MX_TABLE + 0, 4, 0xfee00000);
	mwr(MX_TABLE + 16, 4, 0xfee00000);
	pci_host_cfg_write(host, PCI_DEVFN(8, 0), cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	__atomic_store_n(&race_stop, 0, __ATOMIC_RELEASE);
	CHECK(pthread_create(&b, NULL, race_mask, &cap) == 0);
	CHECK(pthread_create(&a, NULL, race_fire, dev) == 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	/* unmask everything: whatever was pending is delivered now */
	mwr(MX_TABLE + 12, 4, 0);
	mwr(MX_TABLE + 28, 4, 0);
	pci_host_cfg_write(host, PCI_DEVFN(8, 0), cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	CHECK(irq.nr_msi >= 1 && irq.nr_msi <= RACE_FIRES);
	CHECK(pci_msix_notify(dev, 1) == 0);
	CHECK_EQ(mrd(MX_PBA, 8), 0);
	teardown();
}

/* Device hooks: cfg_read may override, cfg_write sees the write, bar_map follows every (un)map, and
 * a hook may call back into the PCI core for the same device (the device lock is recursive). */
static struct {
	struct pci_dev *dev;
	unsigned reads, writes, maps, unmaps;
	unsigned last_off, last_size;
	uint32_t last_val;
	uint64_t last_addr;
	unsigned last_bar;
} hk;

static uint32_t hook_cfg_read(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	(void)opaque;
	hk.reads++;
	if (off == 0x48 && size == 4)
		return 0xc0ffee00u | (pci_cfg_get(hk.dev, 0x48, 1) & 0xff);
	return val;
}

static void hook_cfg_write(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	(void)opaque;
	hk.writes++;
	hk.last_off = off;
	hk.last_size = size;
	hk.last_val = val;
	if (off == 0x48)
		pci_set_intx(hk.dev, (int)(val & 1)); /* re-enters the core on the same thread */
}

static void hook_bar_map(void *opaque, unsigned bar, uint64_t addr, bool mapped)
{
	(void)opaque;
	if (mapped)
		hk.maps++;
	else
		hk.unmaps++;
	hk.last_bar = bar;
	hk.last_addr = addr;
	CHECK(pci_dev_bar_addr(hk.dev, bar, NULL) == mapped || !hk.dev);
}

static void test_hooks(void)
{
	struct pci_dev_cfg c = all_kinds_cfg();
	uint8_t df = PCI_DEVFN(10, 0);

	setup();
	memset(&hk, 0, sizeof(hk));
	c.cfg_read = hook_cfg_read;
	c.cfg_write = hook_cfg_write;
	c.bar_map = hook_bar_map;
	c.msix_vectors = 0;
	c.msi_vectors = 0;
	c.pcie = false;
	CHECK(pci_dev_add(host, 10, &c, &hk.dev) == 0);
	CHECK_EQ(pci_cap_find(hk.dev, PCI_CAP_ID_MSIX), 0);
	CHECK(!(cf8_read(df, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST));
	CHECK_EQ(cf8_read(df, PCI_CAPABILITY_LIST, 1), 0);
	/* a device register at 0x48, low byte writable */
	pci_cfg_set_wmask(hk.dev, 0x48, 1, 0xff);
	cf8_write(df, 0x48, 1, 0x01);
	CHECK_EQ(hk.last_off, 0x48);
	CHECK_EQ(hk.last_size, 1);
	CHECK_EQ(hk.last_val, 1);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(10, 2)], 1);
	CHECK_EQ(cf8_read(df, 0x48, 4), 0xc0ffee01u);
	CHECK_EQ(cf8_read(df, 0x48, 1), 0x01); /* other sizes: the core's value */
	ecam_write(df, 0x48, 4, 0);
	CHECK_EQ(irq.intx_level[PCI_INTX_GSI(10, 2)], 0);
	CHECK(hk.reads >= 2);
	/* absent functions never reach the hooks */
	{
		unsigned r = hk.reads, w = hk.writes;

		cf8_read(PCI_DEVFN(11, 0), 0x48, 4);
		cf8_write(PCI_DEVFN(11, 0), 0x48, 4, 1);
		CHECK_EQ(hk.reads, r);
		CHECK_EQ(hk.writes, w);
	}
	/* bar_map: map, move (unmap + map), unmap on decode off, unmap on removal */
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0000000);
	CHECK_EQ(hk.maps, 0);
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(hk.maps, 1);
	CHECK_EQ(hk.last_bar, 1);
	CHECK_EQ(hk.last_addr, 0xe0000000);
	cf8_write(df, PCI_BASE_ADDRESS_1, 4, 0xe0004000);
	CHECK_EQ(hk.unmaps, 1);
	CHECK_EQ(hk.maps, 2);
	CHECK_EQ(hk.last_addr, 0xe0004000);
	cf8_write(df, PCI_COMMAND, 2, 0);
	CHECK_EQ(hk.unmaps, 2);
	cf8_write(df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK_EQ(hk.maps, 3);
	pci_dev_remove(hk.dev);
	CHECK_EQ(hk.unmaps, 3);
	teardown();
}

int main(void)
{
	log_set_level(LOGL_ERR);
	test_host_bridge();
	test_header_masks();
	test_bar_sizing();
	test_decode_and_move();
	test_caps();
	test_msix_table_widths();
	test_msix_mask_pending();
	test_msi();
	test_intx_wired_or();
	test_vector_fds();
	test_msix_race();
	test_hooks();
	test_assign_and_testdev();
	test_bad_cfgs();
	TEST_DONE("test_pci");
}
