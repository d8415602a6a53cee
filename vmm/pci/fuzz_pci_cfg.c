// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: guest-controlled PCI accesses against a host bridge with a device that has every BAR
 * kind, MSI-X (table and PBA sharing a BAR with registers) and MSI, plus the test device.
 *
 * Input: records of 8 bytes
 *   [0] bits 1:0 width (1, 2, 4, 8), bits 4:2 kind, bits 7:5 sub-selector
 *   [1] target function (index into a small list, some absent)
 *   [2..3] little-endian offset (config offsets use 12 bits)
 *   [4..7] little-endian value
 * kinds: 0 host-API config write, 1 config read, 2 ECAM write, 3 ECAM read, 4 0xCF8/0xCFC write,
 *        5 BAR write, 6 BAR read, 7 device-side events (notify, INTx, eventfd bind/unbind/signal).
 * Invariants checked after every record (a violation aborts, which is the fuzzer's finding):
 * vendor/device/class/header type/pin of every function unchanged, capability chain unchanged,
 * no bus window outside what the devices own, and after tear-down no window left on either bus.
 */
#include <linux/pci_regs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "evloop.h"
#include "log.h"
#include "pci.h"
#include "pci_testdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ECAM_BASE 0xb0000000ull
#define NR_FN 4

static struct bus pio, mmio;
static struct pci_host *host;
static int efd = -1;

static void f_route_msi(void *o, struct pci_dev *d, unsigned v, uint64_t a, uint32_t x)
{
	(void)o, (void)d, (void)v, (void)a, (void)x;
}

static void f_set_intx(void *o, unsigned gsi, int level)
{
	(void)o;
	if (gsi < 16 || gsi > 19 || (level != 0 && level != 1))
		abort();
}

static void f_vector_update(void *o, struct pci_dev *d, unsigned v, int old_fd,
			    const struct pci_msi_vector *st)
{
	(void)o, (void)d, (void)v;
	if ((st->fd != -1 && st->fd != efd) || (old_fd != -1 && old_fd != efd))
		abort();
}

static const struct pci_irq_ops f_ops = {
	.route_msi = f_route_msi,
	.set_intx = f_set_intx,
	.vector_update = f_vector_update,
};

static uint64_t r_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque, (void)size;
	return off * 0x0101010101010101ull;
}

static void r_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	(void)opaque, (void)off, (void)size, (void)val;
}

static const struct bus_ops r_ops = {.read = r_read, .write = r_write};

static const struct pci_dev_cfg all_cfg = {
	.name = "fuzzdev",
	.vendor_id = 0x1234,
	.device_id = 0x11ee,
	.class_code = 0x020000,
	.intx_pin = 3,
	.bar =
		{
			[0] = {.type = PCI_BAR_IO, .size = 16, .ops = &r_ops},
			[1] = {.type = PCI_BAR_MEM32, .size = 4096, .ops = &r_ops},
			[2] = {.type = PCI_BAR_MEM64,
			       .prefetchable = true,
			       .size = 8192,
			       .ops = &r_ops},
			[4] = {.type = PCI_BAR_MEM32, .prefetchable = true, .size = 16},
		},
	.msix_vectors = 5,
	.msix_bar = 1,
	.msix_table_offset = 0x100,
	.msix_pba_offset = 0x200,
	.msi_vectors = 8,
	.pcie = true,
};

struct ident {
	uint32_t id, class_rev;
	uint8_t hdr, pin, caps[32];
};

static void snapshot(uint8_t devfn, struct ident *s)
{
	unsigned off, n = 0;

	memset(s, 0, sizeof(*s));
	s->id = pci_host_cfg_read(host, devfn, 0, 4);
	s->class_rev = pci_host_cfg_read(host, devfn, PCI_CLASS_REVISION, 4);
	s->hdr = (uint8_t)pci_host_cfg_read(host, devfn, PCI_HEADER_TYPE, 1);
	s->pin = (uint8_t)pci_host_cfg_read(host, devfn, PCI_INTERRUPT_PIN, 1);
	off = pci_host_cfg_read(host, devfn, PCI_CAPABILITY_LIST, 1);
	while (off && n < 16) {
		s->caps[2 * n] = (uint8_t)off;
		s->caps[2 * n + 1] = (uint8_t)pci_host_cfg_read(host, devfn, off, 1);
		n++;
		off = pci_host_cfg_read(host, devfn, off + 1, 1);
	}
}

static const uint8_t fns[NR_FN] = {PCI_DEVFN(0, 0), PCI_DEVFN(1, 0), PCI_DEVFN(2, 0),
				   PCI_DEVFN(9, 0) /* absent */};

static void do_record(const uint8_t *r, struct pci_dev *dev, struct pci_dev *tdp)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	unsigned width = widths[r[0] & 3], kind = (r[0] >> 2) & 7, sub = r[0] >> 5;
	uint8_t df = fns[r[1] % NR_FN];
	unsigned off = (unsigned)(r[2] | r[3] << 8);
	uint32_t val = (uint32_t)(r[4] | r[5] << 8 | r[6] << 16 | (uint32_t)r[7] << 24);
	struct pci_dev *target = r[1] & 1 ? dev : tdp;
	uint64_t v, base;

	switch (kind) {
	case 0:
		pci_host_cfg_write(host, df, off & 0xfff, width, val);
		break;
	case 1:
		(void)pci_host_cfg_read(host, df, off & 0xfff, width);
		break;
	case 2:
		bus_write(&mmio, ECAM_BASE + ((uint64_t)df << 12) + (off & 0xfff), width,
			  (uint64_t)val << (sub & 1 ? 32 : 0) | val);
		break;
	case 3:
		bus_read(&mmio, ECAM_BASE + ((uint64_t)df << 12) + (off & 0xfff), width, &v);
		break;
	case 4:
		bus_write(&pio, 0xcf8, 4,
			  (sub & 1 ? 0x80000000u : 0) | (uint32_t)df << 8 | (off & 0xfc) |
				  (sub & 2 ? 0x10000u : 0));
		if (sub & 4)
			bus_read(&pio, 0xcfc + (off >> 8 & 3), width, &v);
		else
			bus_write(&pio, 0xcfc + (off >> 8 & 3), width, val);
		break;
	case 5:
	case 6:
		if (!pci_dev_bar_addr(target, sub % PCI_NUM_BARS, &base))
			break;
		{
			struct bus *bus =
				pci_cfg_get(target, PCI_BASE_ADDRESS_0 + 4 * (sub % 6), 4) & 1
					? &pio
					: &mmio;

			if (kind == 5)
				bus_write(bus, base + (off & 0x3fff), width, val);
			else
				bus_read(bus, base + (off & 0x3fff), width, &v);
		}
		break;
	case 7:
		switch (sub) {
		case 0:
			(void)pci_msix_notify(target, val % 8);
			break;
		case 1:
			(void)pci_msi_notify(target, val % 40);
			break;
		case 2:
			(void)pci_irq_notify(target, val % 8);
			break;
		case 3:
			pci_set_intx(target, (int)(val & 1));
			break;
		case 4:
			if (pci_msi_set_vector_fd(target, val & 1, (val >> 1) % 8, efd) < 0)
				break;
			break;
		case 5:
			if (pci_msi_set_vector_fd(target, val & 1, (val >> 1) % 8, -1) < 0)
				break;
			break;
		case 6:
			(void)efd_signal(efd);
			break;
		default: {
			struct pci_bar_windows w = {
				0xc000,	    0x10000,	    0xe0000000,
				0xfec00000, 0x100000000ull, 0x100000000ull + (val & 0xffff0)};

			if (pci_host_assign_bars(host, &w) < 0)
				break; /* -ENOSPC is a fine outcome */
			break;
		}
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pci_host_cfg hc = {
		.pio = &pio, .mmio = &mmio, .ecam_base = ECAM_BASE, .irq_ops = &f_ops};
	struct ident want[NR_FN], now;
	struct pci_testdev *td;
	struct pci_dev *dev;

	if (efd < 0) {
		log_set_level(LOGL_ERR);
		efd = efd_create();
		if (efd < 0)
			abort();
	}
	if (bus_init(&pio, "pio") || bus_init(&mmio, "mmio") || pci_host_create(&hc, &host) ||
	    pci_dev_add(host, 1, &all_cfg, &dev) || pci_testdev_create(host, 2, &td))
		abort();
	for (unsigned i = 0; i < NR_FN; i++)
		snapshot(fns[i], &want[i]);
	for (size_t pos = 0; pos + 8 <= size; pos += 8) {
		do_record(data + pos, dev, pci_testdev_pci(td));
		for (unsigned i = 0; i < NR_FN; i++) {
			snapshot(fns[i], &now);
			if (memcmp(&now, &want[i], sizeof(now)) != 0) {
				fprintf(stderr, "identity of devfn %02x changed at record %zu\n",
					fns[i], pos / 8);
				abort();
			}
		}
		/* ECAM + cf8 + at most 3 + 4 BAR windows */
		if (pio.nr > 1 + 2 || mmio.nr > 1 + 3 + 2)
			abort();
	}
	pci_testdev_destroy(td);
	pci_host_destroy(host);
	if (pio.nr || mmio.nr)
		abort();
	bus_fini(&pio);
	bus_fini(&mmio);
	(void)efd_drain(efd);
	return 0;
}
