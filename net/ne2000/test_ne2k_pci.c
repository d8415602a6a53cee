// SPDX-License-Identifier: GPL-2.0-only
/*
 * ne2k-pci glue on the real PCI core and PIO bus: identity in config space, BAR0 placement, the
 * register block, data port widths, reset port, INTA# through the host's GSI, frames both ways, and
 * hostile access sizes/offsets. No KVM: a counting pci_irq_ops stands in for the IOAPIC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "ne2k_pci.h"
#include "test.h"

#define SLOT 3

static int gsi_level[24];
static uint8_t sent[2048];
static size_t sent_len;

static void fake_msi(void *o, struct pci_dev *d, unsigned v, uint64_t a, uint32_t data)
{
	(void)o, (void)d, (void)v, (void)a, (void)data;
}

static void fake_intx(void *o, unsigned gsi, int level)
{
	(void)o;
	if (gsi < 24)
		gsi_level[gsi] = level;
}

static int fake_send(void *o, const void *frame, size_t len)
{
	(void)o;
	memcpy(sent, frame, len);
	sent_len = len;
	return 0;
}

static const struct pci_irq_ops irq_ops = {.route_msi = fake_msi, .set_intx = fake_intx};
static struct bus pio, mmio;
static uint64_t io; /* BAR0 */

static uint32_t in(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	CHECK(bus_read(&pio, io + off, size, &v));
	return (uint32_t)v;
}

static void out(uint64_t off, unsigned size, uint32_t v)
{
	CHECK(bus_write(&pio, io + off, size, v));
}

int main(void)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x80, 0x29, 0x01};
	struct pci_host_cfg hc = {.pio = &pio, .mmio = &mmio, .irq_ops = &irq_ops};
	struct pci_bar_windows win = {.io_base = 0xc000, .io_limit = 0x10000};
	struct ne2k_pci_cfg cfg = {.slot = SLOT, .backend = {.send = fake_send}};
	struct dp8390_stats st;
	struct pci_host *host;
	struct ne2k_pci *n, *n2;
	uint8_t prom[32], f[128];
	unsigned gsi = PCI_INTX_GSI(SLOT, 1);

	log_set_level(LOGL_ERR);
	memcpy(cfg.mac, mac, 6);
	CHECK(bus_init(&pio, "pio") == 0);
	CHECK(bus_init(&mmio, "mmio") == 0);
	CHECK(pci_host_create(&hc, &host) == 0);
	CHECK(ne2k_pci_create(host, &cfg, &n) == 0);
	CHECK(ne2k_pci_create(host, &cfg, &n2) == -EEXIST); /* slot taken: refused */

	/* Identity as the RTL8029AS reports it. */
	CHECK_EQ(pci_host_cfg_read(host, PCI_DEVFN(SLOT, 0), 0x00, 4), 0x802910ec);
	CHECK_EQ(pci_host_cfg_read(host, PCI_DEVFN(SLOT, 0), 0x08, 4) >> 8, 0x020000);
	CHECK_EQ(pci_host_cfg_read(host, PCI_DEVFN(SLOT, 0), 0x3d, 1), 1);
	CHECK_EQ(pci_host_cfg_read(host, PCI_DEVFN(SLOT, 0), 0x10, 4) & 1, 1); /* I/O BAR */
	CHECK(pci_host_assign_bars(host, &win) == 0);
	CHECK(pci_dev_bar_addr(ne2k_pci_dev(n), 0, &io));
	CHECK_EQ(io % 32, 0);

	/* Reset port (read then write back, as drivers do): RST set, page 0, stopped. */
	(void)in(NE2K_PCI_RESET, 1);
	out(NE2K_PCI_RESET, 1, 0);
	CHECK(in(DP_ISR, 1) & DP_ISR_RST);
	CHECK_EQ(in(DP_CR, 1), DP_CR_STP | DP_CR_RD_ABORT);
	CHECK_EQ(in(DP_RTL_ID0, 1), 0x50);
	CHECK_EQ(in(DP_RTL_ID1, 1), 0x43);

	/* PROM through the data port with 32-bit reads (insl), word mode. */
	out(DP_DCR, 1, 0x49);
	out(DP_RBCR0, 1, 32);
	out(DP_RBCR1, 1, 0);
	out(DP_RSAR0, 1, 0);
	out(DP_RSAR1, 1, 0);
	out(DP_CR, 1, DP_CR_STA | DP_CR_RD_READ);
	for (int i = 0; i < 8; i++) {
		uint32_t v = in(NE2K_PCI_DATA, 4);

		memcpy(prom + 4 * i, &v, 4);
	}
	for (int i = 0; i < 6; i++)
		CHECK_EQ(prom[2 * i], mac[i]);
	CHECK(in(DP_ISR, 1) & DP_ISR_RDC);

	/* A 16-bit access to the register block reads two consecutive registers. */
	CHECK_EQ(in(DP_ISR, 2) & 0xff, in(DP_ISR, 1));

	/* Minimal init, then receive a broadcast: INTA# rises on the host's GSI, ISR write drops
	 * it. */
	out(DP_CR, 1, DP_CR_STP | DP_CR_RD_ABORT);
	out(DP_RCR, 1, DP_RCR_AB);
	out(DP_PSTART, 1, 0x4c);
	out(DP_BNRY, 1, 0x4c);
	out(DP_PSTOP, 1, 0x80);
	out(DP_ISR, 1, 0xff);
	out(DP_IMR, 1, 0x3f);
	out(DP_CR, 1, 0x40 | DP_CR_STP | DP_CR_RD_ABORT);
	out(DP_CURR, 1, 0x4d);
	out(DP_CR, 1, DP_CR_STA | DP_CR_RD_ABORT);
	out(DP_TCR, 1, 0);
	memset(f, 0xff, 6);
	memset(f + 6, 0x11, sizeof(f) - 6);
	CHECK_EQ(gsi_level[gsi], 0);
	CHECK(dp8390_receive(ne2k_pci_chip(n), f, 100) == 0);
	CHECK_EQ(gsi_level[gsi], 1);
	out(DP_ISR, 1, DP_ISR_PRX);
	CHECK_EQ(gsi_level[gsi], 0);

	/* Transmit through 16-bit data port writes (outsw). */
	out(DP_RBCR0, 1, 64);
	out(DP_RBCR1, 1, 0);
	out(DP_RSAR0, 1, 0);
	out(DP_RSAR1, 1, 0x40);
	out(DP_CR, 1, DP_CR_STA | DP_CR_RD_WRITE);
	for (int i = 0; i < 64; i += 2)
		out(NE2K_PCI_DATA, 2, (uint32_t)(f[i] | f[i + 1] << 8));
	out(DP_TPSR, 1, 0x40);
	out(DP_TBCR0, 1, 64);
	out(DP_TBCR1, 1, 0);
	out(DP_CR, 1, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK_EQ(sent_len, 64);
	CHECK(memcmp(sent, f, 64) == 0);
	CHECK_EQ(gsi_level[gsi], 1); /* PTX | RDC */

	/* Hostile widths and offsets: 8-byte, straddling, past the window. Nothing breaks. */
	for (unsigned off = 0; off < 32; off++)
		for (unsigned size = 1; size <= 8; size *= 2) {
			(void)ne2k_pci_io_read(n, off, size);
			ne2k_pci_io_write(n, off, size, 0x5a5a5a5a5a5a5a5aull);
		}
	CHECK_EQ(ne2k_pci_io_read(n, 32, 1), ~0ull);
	ne2k_pci_io_write(n, 1000, 4, 0);
	dp8390_get_stats(ne2k_pci_chip(n), &st);
	CHECK(st.resets >= 2);

	ne2k_pci_destroy(n);
	pci_host_destroy(host);
	CHECK_EQ(pio.nr, 0);
	bus_fini(&pio);
	bus_fini(&mmio);
	TEST_DONE("ne2k_pci");
}
