// SPDX-License-Identifier: GPL-2.0-only
/*
 * DP8390 chip model against the datasheet, driven the way an NE2000 driver drives it: register
 * writes, remote DMA through the data port, frames from a fake wire. No bus, no VMM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp8390.h"
#include "log.h"
#include "test.h"

static const uint8_t our_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- fake wire and interrupt line ---- */

struct wire {
	uint8_t frame[2048];
	size_t len;
	unsigned sent;
	unsigned rx_ready;
	int send_ret;
	int irq_level;
	unsigned irq_edges;
};

static int wire_send(void *opaque, const void *frame, size_t len)
{
	struct wire *w = opaque;

	if (len <= sizeof(w->frame))
		memcpy(w->frame, frame, len);
	w->len = len;
	w->sent++;
	return w->send_ret;
}

static void wire_rx_ready(void *opaque)
{
	struct wire *w = opaque;

	w->rx_ready++;
}

static void wire_irq(void *opaque, int level)
{
	struct wire *w = opaque;

	if (level && !w->irq_level)
		w->irq_edges++;
	w->irq_level = level;
}

static struct dp8390 *chip_new(struct wire *w, bool rtl)
{
	struct dp8390_cfg cfg = {
		.name = "test",
		.irq = {.set_level = wire_irq, .opaque = w},
		.backend = {.send = wire_send, .rx_ready = wire_rx_ready, .opaque = w},
		.rtl8029 = rtl,
	};
	struct dp8390 *s = NULL;

	memset(w, 0, sizeof(*w));
	memcpy(cfg.mac, our_mac, 6);
	if (dp8390_create(&cfg, &s) != 0) {
		fprintf(stderr, "dp8390_create failed\n");
		exit(1);
	}
	return s;
}

/* ---- a tiny NE2000 driver ---- */

#define TX_PAGE 0x40
#define RX_START 0x4c
#define RX_STOP 0x80

static void page(struct dp8390 *s, unsigned p)
{
	uint8_t cr = dp8390_read(s, DP_CR);

	/* Keep STA/STP; RD = abort, as drivers write CR (re-issuing Send Packet would restart it).
	 */
	dp8390_write(s, DP_CR, (uint8_t)((cr & (DP_CR_STA | DP_CR_STP)) | DP_CR_RD_ABORT | p << 6));
}

static uint8_t rd(struct dp8390 *s, unsigned p, unsigned reg)
{
	page(s, p);
	return dp8390_read(s, reg);
}

static void wr(struct dp8390 *s, unsigned p, unsigned reg, uint8_t v)
{
	page(s, p);
	dp8390_write(s, reg, v);
}

static struct stats_snap {
	struct dp8390_stats st;
} snap;

static struct dp8390_stats *stats(struct dp8390 *s)
{
	dp8390_get_stats(s, &snap.st);
	return &snap.st;
}

/* The sequence of the DP8390D datasheet s11.0 (and Linux's NS8390_init), ring [start, stop). */
static void drv_init(struct dp8390 *s, bool word, uint8_t start, uint8_t stop, uint8_t rcr)
{
	dp8390_reset(s);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_DCR, (uint8_t)(0x48 | (word ? DP_DCR_WTS : 0)));
	dp8390_write(s, DP_RBCR0, 0);
	dp8390_write(s, DP_RBCR1, 0);
	dp8390_write(s, DP_RCR, rcr);
	dp8390_write(s, DP_TCR, 0x02);
	dp8390_write(s, DP_TPSR, TX_PAGE);
	dp8390_write(s, DP_PSTART, start);
	dp8390_write(s, DP_BNRY, start);
	dp8390_write(s, DP_PSTOP, stop);
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_IMR, 0x3f);
	page(s, 1);
	for (int i = 0; i < 6; i++)
		dp8390_write(s, DP_PAR0 + i, our_mac[i]);
	for (int i = 0; i < 8; i++)
		dp8390_write(s, DP_MAR0 + i, 0);
	dp8390_write(s, DP_CURR, (uint8_t)(start + 1));
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	dp8390_write(s, DP_TCR, 0x00);
}

static void rdma_setup(struct dp8390 *s, uint16_t addr, uint16_t count, uint8_t cmd)
{
	page(s, 0);
	dp8390_write(s, DP_RBCR0, (uint8_t)count);
	dp8390_write(s, DP_RBCR1, (uint8_t)(count >> 8));
	dp8390_write(s, DP_RSAR0, (uint8_t)addr);
	dp8390_write(s, DP_RSAR1, (uint8_t)(addr >> 8));
	dp8390_write(s, DP_CR, (uint8_t)(cmd | DP_CR_STA));
}

static void rdma_read(struct dp8390 *s, uint16_t addr, void *buf, uint16_t count)
{
	uint8_t *p = buf;
	bool word = rd(s, 2, DP_DCR) & DP_DCR_WTS;

	rdma_setup(s, addr, count, DP_CR_RD_READ);
	for (unsigned i = 0; i < count;) {
		if (word) {
			uint16_t v = (uint16_t)dp8390_data_read(s, 2);

			p[i++] = (uint8_t)v;
			if (i < count)
				p[i++] = (uint8_t)(v >> 8);
		} else {
			p[i++] = (uint8_t)dp8390_data_read(s, 1);
		}
	}
}

static void rdma_write(struct dp8390 *s, uint16_t addr, const void *buf, uint16_t count)
{
	const uint8_t *p = buf;
	bool word = rd(s, 2, DP_DCR) & DP_DCR_WTS;

	rdma_setup(s, addr, count, DP_CR_RD_WRITE);
	for (unsigned i = 0; i < count;) {
		if (word) {
			uint16_t v = p[i++];

			if (i < count)
				v |= (uint16_t)(p[i++] << 8);
			dp8390_data_write(s, 2, v);
		} else {
			dp8390_data_write(s, 1, p[i++]);
		}
	}
}

static void drv_send(struct dp8390 *s, const void *frame, uint16_t len)
{
	rdma_write(s, TX_PAGE << 8, frame, len);
	page(s, 0);
	dp8390_write(s, DP_TPSR, TX_PAGE);
	dp8390_write(s, DP_TBCR0, (uint8_t)len);
	dp8390_write(s, DP_TBCR1, (uint8_t)(len >> 8));
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
}

/* Read the oldest packet as Linux's ei_receive does (BNRY one page behind the next packet). */
static int drv_recv(struct dp8390 *s, uint8_t *buf, size_t cap, uint8_t *status)
{
	uint8_t start = rd(s, 2, DP_PSTART), stop = rd(s, 2, DP_PSTOP);
	uint8_t bnry = rd(s, 0, DP_BNRY), curr = rd(s, 1, DP_CURR);
	uint8_t frame_pg = (uint8_t)(bnry + 1), hdr[4];
	unsigned len;

	if (frame_pg >= stop)
		frame_pg = start;
	if (frame_pg == curr)
		return -1;
	rdma_read(s, (uint16_t)(frame_pg << 8), hdr, 4);
	len = (unsigned)(hdr[2] | hdr[3] << 8) - 4;
	if (len > cap)
		return -2;
	rdma_read(s, (uint16_t)((frame_pg << 8) + 4), buf, (uint16_t)len);
	*status = hdr[0];
	bnry = (uint8_t)(hdr[1] - 1);
	if (bnry < start)
		bnry = (uint8_t)(stop - 1);
	wr(s, 0, DP_BNRY, bnry);
	return (int)len;
}

static size_t make_frame(uint8_t *f, const uint8_t *dst, size_t len, uint8_t seed)
{
	memcpy(f, dst, 6);
	f[6] = 0x02;
	f[7] = 0;
	f[8] = 0;
	f[9] = 0;
	f[10] = 0;
	f[11] = seed;
	f[12] = 0x88;
	f[13] = 0xb5;
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
	return len;
}

/* Offer a frame whatever the outcome (register storms). */
static void rx_any(struct dp8390 *s, const void *f, size_t len)
{
	if (dp8390_receive(s, f, len) < 0)
		return;
}

/* ---- tests ---- */

static void test_reset_state(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);

	/* s11.0 / NetBSD's probe: CR RD2|STP, ISR RST, IMR 0, DCR LAS, TCR LB0. */
	CHECK_EQ(dp8390_read(s, DP_CR) & 0x3f, DP_CR_STP | DP_CR_RD_ABORT);
	CHECK(rd(s, 0, DP_ISR) & DP_ISR_RST);
	CHECK_EQ(rd(s, 2, DP_IMR), 0);
	CHECK(rd(s, 2, DP_DCR) & DP_DCR_LAS);
	CHECK_EQ(rd(s, 2, DP_TCR) & DP_TCR_LB_MASK, 0x02);
	/* Start clears RST, STP sets it, writing 1 to it does nothing. */
	page(s, 0);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_read(s, DP_ISR) & DP_ISR_RST, 0);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RST);
	dp8390_write(s, DP_ISR, 0xff);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RST);
	/* The reset port: everything back, page 0, counted. */
	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	wr(s, 1, DP_CURR, 0x50);
	dp8390_reset(s);
	CHECK_EQ(dp8390_read(s, DP_CR), DP_CR_STP | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_read(s, DP_ISR), DP_ISR_RST);
	CHECK_EQ(rd(s, 2, DP_IMR), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), 0x50); /* not a reset register */
	CHECK(!dp8390_irq_level(s));
	CHECK_EQ(stats(s)->resets, 2);
	/* RTL8029 ID bytes only in RTL mode. */
	CHECK_EQ(rd(s, 0, DP_RTL_ID0), 0xff);
	dp8390_destroy(s);
	s = chip_new(&w, true);
	CHECK_EQ(rd(s, 0, DP_RTL_ID0), 0x50);
	CHECK_EQ(rd(s, 0, DP_RTL_ID1), 0x43);
	dp8390_destroy(s);
}

static void test_prom(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t prom[32];

	/* Byte mode: 32 bytes, every PROM byte doubled, "WW" at 14/15. */
	dp8390_write(s, DP_DCR, 0x48);
	rdma_read(s, 0, prom, 32);
	for (int i = 0; i < 6; i++) {
		CHECK_EQ(prom[2 * i], our_mac[i]);
		CHECK_EQ(prom[2 * i + 1], our_mac[i]);
	}
	CHECK_EQ(prom[28], 0x57);
	CHECK_EQ(prom[30], 0x57);
	CHECK(rd(s, 0, DP_ISR) & DP_ISR_RDC);

	/* Word mode with byte reads (Linux ne2k-pci): each inb moves a word, giving the MAC in
	 * order. */
	dp8390_write(s, DP_ISR, DP_ISR_RDC);
	dp8390_write(s, DP_DCR, 0x49);
	rdma_setup(s, 0, 32, DP_CR_RD_READ);
	for (int i = 0; i < 16; i++)
		prom[i] = (uint8_t)dp8390_data_read(s, 1);
	CHECK(memcmp(prom, our_mac, 6) == 0);
	CHECK_EQ(prom[14], 0x57);
	CHECK(rd(s, 0, DP_ISR) & DP_ISR_RDC);
	/* Transfer over: further reads are idle, all-ones, counted. */
	CHECK_EQ(dp8390_data_read(s, 2), 0xffffffffu);
	CHECK_EQ(stats(s)->rdma_idle, 1);

	/* 32-bit reads (RTL8029): four bytes each. */
	rdma_setup(s, 0, 8, DP_CR_RD_READ);
	CHECK_EQ(dp8390_data_read(s, 4), (uint32_t)our_mac[0] | our_mac[0] << 8 | our_mac[1] << 16 |
						 (uint32_t)our_mac[1] << 24);
	/* CRDA follows the transfer. */
	CHECK_EQ(rd(s, 0, DP_CRDA0), 4);

	/* The PROM is read-only and addresses outside PROM/RAM read 0xff. */
	uint8_t junk[4] = {1, 2, 3, 4};

	rdma_write(s, 0, junk, 4);
	rdma_read(s, 0, prom, 2);
	CHECK_EQ(prom[0], our_mac[0]);
	rdma_read(s, 0x2000, prom, 2);
	CHECK_EQ(prom[0], 0xff);
	CHECK(stats(s)->rdma_oob >= 6);
	dp8390_destroy(s);
}

static void test_tx(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600];

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	dp8390_write(s, DP_ISR, 0xff);

	/* A 42-byte ARP-sized frame goes out padded to 60 with zeros. */
	memset(w.frame, 0xaa, sizeof(w.frame));
	make_frame(f, bcast, 42, 1);
	drv_send(s, f, 42);
	CHECK_EQ(w.sent, 1);
	CHECK_EQ(w.len, 60);
	CHECK(memcmp(w.frame, f, 42) == 0);
	for (int i = 42; i < 60; i++)
		CHECK_EQ(w.frame[i], 0);
	CHECK_EQ(rd(s, 0, DP_TSR) & DP_TSR_PTX, DP_TSR_PTX);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_PTX);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RDC);
	CHECK_EQ(dp8390_read(s, DP_CR) & DP_CR_TXP, 0);
	CHECK(dp8390_irq_level(s));
	CHECK_EQ(stats(s)->tx_padded, 1);

	/* A full-size frame goes out unchanged, odd length in word mode included. */
	dp8390_write(s, DP_ISR, 0xff);
	make_frame(f, bcast, 1513, 2);
	drv_send(s, f, 1513);
	CHECK_EQ(w.sent, 2);
	CHECK_EQ(w.len, 1513);
	CHECK(memcmp(w.frame, f, 1513) == 0);

	/* Too long, or outside the buffer RAM: aborted with TXE, nothing sent. */
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_TBCR0, 0xd0);
	dp8390_write(s, DP_TBCR1, 0x07);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK_EQ(w.sent, 2);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_TXE);
	CHECK(dp8390_read(s, DP_TSR) & DP_TSR_ABT);
	dp8390_write(s, DP_TPSR, 0xbf);
	dp8390_write(s, DP_TBCR0, 0x00);
	dp8390_write(s, DP_TBCR1, 0x02);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_TPSR, 0x00);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK_EQ(w.sent, 2);
	CHECK_EQ(stats(s)->tx_bad, 3);

	/* The last page of RAM is usable. */
	dp8390_write(s, DP_TPSR, 0xbf);
	dp8390_write(s, DP_TBCR0, 0x00);
	dp8390_write(s, DP_TBCR1, 0x01);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK_EQ(w.sent, 3);
	CHECK_EQ(w.len, 256);

	/* TXP while stopped is ignored. */
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK_EQ(w.sent, 3);
	CHECK_EQ(stats(s)->tx_stopped, 1);

	/* Backend failure: still PTX (lost on the wire), counted. */
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	w.send_ret = -ENOBUFS;
	dp8390_write(s, DP_ISR, 0xff);
	drv_send(s, f, 100);
	CHECK_EQ(w.sent, 4);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_PTX);
	CHECK_EQ(stats(s)->tx_backend_err, 1);

	/* TCR.CRC: the host appended the FCS; it is not handed on. */
	w.send_ret = 0;
	dp8390_write(s, DP_TCR, DP_TCR_CRC);
	drv_send(s, f, 104);
	CHECK_EQ(w.len, 100);
	dp8390_write(s, DP_TCR, 0);
	dp8390_destroy(s);
}

static void test_rx_basic(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1600], hdr[4], status;

	/* Stopped / loopback after reset: refused. */
	make_frame(f, our_mac, 100, 3);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENETDOWN);

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	dp8390_write(s, DP_ISR, 0xff);
	CHECK(!dp8390_irq_level(s));
	CHECK(dp8390_can_receive(s));
	CHECK_EQ(dp8390_receive(s, f, 100), 0);
	CHECK(dp8390_irq_level(s));
	CHECK(rd(s, 0, DP_ISR) & DP_ISR_PRX);
	CHECK_EQ(rd(s, 0, DP_RSR), DP_RSR_PRX);
	CHECK_EQ(rd(s, 1, DP_CURR), RX_START + 2);

	/* Header: status, next page, byte count including the header, no FCS. */
	rdma_read(s, (RX_START + 1) << 8, hdr, 4);
	CHECK_EQ(hdr[0], DP_RSR_PRX);
	CHECK_EQ(hdr[1], RX_START + 2);
	CHECK_EQ(hdr[2] | hdr[3] << 8, 104);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 100);
	CHECK(memcmp(buf, f, 100) == 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);

	/* Short frames arrive padded to 60; 248 bytes + header + FCS room fill one page. */
	make_frame(f, our_mac, 20, 4);
	CHECK_EQ(dp8390_receive(s, f, 20), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 60);
	CHECK(memcmp(buf, f, 20) == 0);
	CHECK_EQ(buf[59], 0);
	uint8_t curr = rd(s, 1, DP_CURR);

	make_frame(f, our_mac, 248, 5);
	CHECK_EQ(dp8390_receive(s, f, 248), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), curr + 1);
	make_frame(f, our_mac, 249, 6);
	CHECK_EQ(dp8390_receive(s, f, 249), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), curr + 3);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 248);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 249);
	CHECK(memcmp(buf, f, 249) == 0);

	/* Oversize from the backend: refused, counted, nothing stored. */
	CHECK_EQ(dp8390_receive(s, f, NETDEV_MAX_FRAME + 1), -EMSGSIZE);
	CHECK_EQ(stats(s)->rx_oversize, 1);
	CHECK_EQ(stats(s)->rx_packets, 4);
	dp8390_destroy(s);
}

/*
 * What Linux's 8390 core does: NS8390_init's ring (BNRY = PSTOP-1, CURR = PSTART), page switches
 * with CR = 0x60/0x20 (neither STA nor STP) on the running chip, and ei_receive's sanity check of
 * the next-page pointer against the byte count, for every frame length.
 */
static void test_linux_compat(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1600], hdr[4];
	unsigned bad = 0, nr = RX_STOP - RX_START;

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	wr(s, 0, DP_BNRY, RX_STOP - 1);
	wr(s, 1, DP_CURR, RX_START);
	dp8390_write(s, DP_CR, 0x60); /* do_set_multicast_list */
	for (int i = 0; i < 8; i++)
		dp8390_write(s, DP_MAR0 + i, 0);
	dp8390_write(s, DP_CR, 0x20);
	CHECK_EQ(dp8390_read(s, DP_CR) & (DP_CR_STA | DP_CR_STP), DP_CR_STA);
	CHECK(dp8390_can_receive(s));
	for (unsigned len = 60; len <= 1514; len++) {
		uint8_t this_frame = (uint8_t)(rd(s, 0, DP_BNRY) + 1), next_frame;
		unsigned pkt_len;

		if (this_frame >= RX_STOP)
			this_frame = RX_START;
		CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, len, (uint8_t)len)), 0);
		rdma_read(s, (uint16_t)(this_frame << 8), hdr, 4);
		pkt_len = (unsigned)(hdr[2] | hdr[3] << 8) - 4;
		CHECK_EQ(pkt_len, len);
		CHECK_EQ(hdr[0] & 0x0f, DP_RSR_PRX);
		next_frame = (uint8_t)(this_frame + 1 + ((pkt_len + 4) >> 8));
		if (hdr[1] != next_frame && hdr[1] != next_frame + 1 && hdr[1] != next_frame - nr &&
		    hdr[1] != next_frame + 1 - nr)
			bad++;
		CHECK_EQ(drv_recv(s, buf, sizeof(buf), hdr), (int)len);
		if (memcmp(buf, f, len) != 0)
			bad++;
	}
	CHECK_EQ(bad, 0);
	dp8390_destroy(s);
}

static void test_rx_wrap(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1600], status;

	/* Four-page ring, CURR on the last page: a 2-page packet wraps to PSTART. */
	drv_init(s, true, 0x60, 0x64, DP_RCR_AB);
	wr(s, 0, DP_BNRY, 0x62);
	wr(s, 1, DP_CURR, 0x63);
	make_frame(f, our_mac, 400, 7);
	CHECK_EQ(dp8390_receive(s, f, 400), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), 0x61);
	/* The remote read crosses PSTOP and continues at PSTART, as the chip does. */
	rdma_read(s, 0x6304, buf, 400);
	CHECK(memcmp(buf, f, 400) == 0);
	CHECK_EQ(rd(s, 0, DP_CRDA1), 0x60);
	/* Byte mode and an odd start too. */
	wr(s, 0, DP_DCR, 0x48);
	rdma_read(s, 0x6305, buf, 399);
	CHECK(memcmp(buf, f + 1, 399) == 0);
	wr(s, 0, DP_DCR, 0x49);
	/* The driver's view: one packet, then empty. */
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 400);
	CHECK(memcmp(buf, f, 400) == 0);
	CHECK_EQ(rd(s, 0, DP_BNRY), 0x60);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	/* A remote write crossing PSTOP wraps the same way. */
	rdma_write(s, 0x63fe, "abcd", 4);
	rdma_read(s, 0x6000, buf, 2);
	CHECK(memcmp(buf, "cd", 2) == 0);
	dp8390_destroy(s);
}

static void test_overflow(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1600], status;
	unsigned stored = 0;
	int ret;

	/* 8-page ring, Linux convention: 7 usable pages, 3 pages per 600-byte frame -> 2 frames. */
	drv_init(s, true, 0x60, 0x68, DP_RCR_AB);
	dp8390_write(s, DP_ISR, 0xff);
	for (uint8_t i = 0; i < 4; i++) {
		make_frame(f, our_mac, 600, (uint8_t)(10 + i));
		ret = dp8390_receive(s, f, 600);
		if (ret == 0)
			stored++;
		else
			CHECK_EQ(ret, -ENOBUFS);
	}
	CHECK_EQ(stored, 2);
	CHECK_EQ(dp8390_read(s, DP_CR) >> 6, 0); /* no CR write here: a Start would clear RST */
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_OVW);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RST);
	CHECK_EQ(dp8390_read(s, DP_RSR) & DP_RSR_MPA, DP_RSR_MPA);
	CHECK_EQ(dp8390_read(s, DP_CNTR2), 2);
	CHECK_EQ(dp8390_read(s, DP_CNTR2), 0); /* cleared by the read */
	CHECK(!dp8390_can_receive(s));
	CHECK_EQ(stats(s)->rx_overflows, 1);

	/* A small frame that would fit is still refused: nothing until BNRY moves. */
	make_frame(f, our_mac, 60, 20);
	CHECK_EQ(dp8390_receive(s, f, 60), -ENOBUFS);
	CHECK_EQ(w.rx_ready, 0);

	/* The stored frames are intact; reading them (BNRY writes) ends the overflow. */
	for (uint8_t i = 0; i < 2; i++) {
		make_frame(f, our_mac, 600, (uint8_t)(10 + i));
		CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 600);
		CHECK(memcmp(buf, f, 600) == 0);
	}
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	CHECK_EQ(dp8390_read(s, DP_ISR) & DP_ISR_RST, 0);
	CHECK(w.rx_ready >= 1);
	CHECK(dp8390_can_receive(s)); /* 7 free pages hold a maximum-size frame */
	dp8390_destroy(s);
}

static void test_overflow_recovery_linux(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1600], status;

	/* Linux ei_rx_overrun: STP, RBCR=0, loopback, STA, drain the ring, ack OVW, TCR normal. */
	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	for (int i = 0;
	     i < 40 && dp8390_receive(s, f, make_frame(f, our_mac, 1514, (uint8_t)i)) == 0; i++)
		;
	page(s, 0);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_OVW);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_RBCR0, 0);
	dp8390_write(s, DP_RBCR1, 0);
	dp8390_write(s, DP_TCR, 0x02);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENETDOWN); /* loopback keeps the wire out */
	int n = 0;

	while (drv_recv(s, buf, sizeof(buf), &status) == 1514)
		n++;
	CHECK_EQ(n, (RX_STOP - RX_START - 1) / 6);
	wr(s, 0, DP_ISR, DP_ISR_OVW);
	dp8390_write(s, DP_TCR, 0);
	CHECK_EQ(dp8390_read(s, DP_ISR) & (DP_ISR_OVW | DP_ISR_RST), 0);
	CHECK(dp8390_can_receive(s));
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 300, 99)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 300);
	CHECK(memcmp(buf, f, 300) == 0);
	dp8390_destroy(s);
}

static void test_ring_edges(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600];

	/* BNRY == CURR set by the host: empty, the whole ring (4 pages) is usable. */
	drv_init(s, true, 0x60, 0x64, DP_RCR_AB);
	wr(s, 0, DP_BNRY, 0x62);
	wr(s, 1, DP_CURR, 0x62);
	make_frame(f, our_mac, 1000, 1); /* 4 pages */
	CHECK_EQ(dp8390_receive(s, f, 1000), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), 0x62);
	/* CURR caught up with BNRY: full. */
	CHECK_EQ(dp8390_receive(s, f, 60), -ENOBUFS);
	CHECK(rd(s, 0, DP_ISR) & DP_ISR_OVW);

	/* A packet larger than the ring can never fit; a stop/start cycle revives the receiver. */
	drv_init(s, true, 0x60, 0x62, DP_RCR_AB);
	CHECK_EQ(dp8390_receive(s, f, 1000), -ENOBUFS);
	CHECK_EQ(dp8390_receive(s, f, 60), -ENOBUFS);
	page(s, 0);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_receive(s, f, 60), 0);

	/* CURR outside the ring, PSTART >= PSTOP, ring outside RAM: dropped, counted, no crash. */
	drv_init(s, true, 0x60, 0x64, DP_RCR_AB);
	wr(s, 1, DP_CURR, 0x70);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENOBUFS);
	CHECK(!dp8390_can_receive(s));
	wr(s, 1, DP_CURR, 0x61);
	CHECK(dp8390_can_receive(s) == false); /* 3 free pages: too few for a full frame */
	wr(s, 0, DP_PSTART, 0x64);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENOBUFS);
	wr(s, 0, DP_PSTART, 0x20);
	wr(s, 1, DP_CURR, 0x21);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENOBUFS);
	wr(s, 0, DP_PSTART, 0xb0);
	wr(s, 0, DP_PSTOP, 0xff);
	wr(s, 1, DP_CURR, 0xb1);
	CHECK_EQ(dp8390_receive(s, f, 100), -ENOBUFS);
	CHECK_EQ(stats(s)->rx_bad_ring, 4);
	CHECK(stats(s)->bad_page_ptr >= 3); /* PSTART 0x20, CURR 0x21, PSTOP 0xff */

	/* BNRY outside the ring protects nothing: reception keeps going around. */
	drv_init(s, true, 0x60, 0x64, DP_RCR_AB);
	wr(s, 0, DP_BNRY, 0x90);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(dp8390_receive(s, f, 300), 0);

	/* The last ring page ends exactly at the end of RAM. */
	drv_init(s, true, 0xb0, 0xc0, DP_RCR_AB);
	wr(s, 0, DP_BNRY, 0xb8);
	wr(s, 1, DP_CURR, 0xbf);
	make_frame(f, our_mac, 1514, 2);
	CHECK_EQ(dp8390_receive(s, f, 1514), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), 0xb5);
	dp8390_destroy(s);
}

static void test_filters(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[100], buf[100], status;
	const uint8_t other[6] = {0x52, 0x54, 0x00, 0x99, 0x99, 0x99};
	const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	const uint8_t mc6[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};

	/* Hash = six MSBs of the Ethernet CRC (vectors cross-checked against zlib's CRC-32). */
	CHECK_EQ(dp8390_mcast_index(mc), 31);
	CHECK_EQ(dp8390_mcast_index(mc6), 62);

	drv_init(s, true, RX_START, RX_STOP, 0);
	/* RCR = 0: only our own address. */
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, bcast, 60, 1)), 0);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, other, 60, 1)), 0);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc, 60, 1)), 0);
	CHECK_EQ(stats(s)->rx_filtered, 3);
	CHECK_EQ(stats(s)->rx_packets, 0);

	/* Broadcast with AB; RSR.PHY marks multicast/broadcast. */
	wr(s, 0, DP_RCR, DP_RCR_AB);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, bcast, 60, 2)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 60);
	CHECK_EQ(status, DP_RSR_PRX | DP_RSR_PHY);

	/* Multicast needs AM and the hash bit. */
	wr(s, 0, DP_RCR, DP_RCR_AM);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc, 60, 3)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	wr(s, 1, DP_MAR0 + 3, 0x80);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc, 60, 4)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 60);
	CHECK_EQ(buf[11], 4);
	CHECK_EQ(status, DP_RSR_PRX | DP_RSR_PHY);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc6, 60, 5)), 0); /* bit 62 not set */
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	wr(s, 0, DP_RCR, 0); /* hash bit set but AM off */
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc, 60, 6)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	/* Broadcast is not a hash match, AM alone does not take it. */
	wr(s, 1, DP_MAR0 + 7, 0xff);
	wr(s, 0, DP_RCR, DP_RCR_AM);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, bcast, 60, 7)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);

	/* Promiscuous: any physical address; multicast still needs AM (RCR.PRO, s10.3). */
	wr(s, 0, DP_RCR, DP_RCR_PRO);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, other, 60, 8)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 60);
	CHECK_EQ(status, DP_RSR_PRX);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, mc6, 60, 9)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	/* Our own address, programmed differently in PAR: PAR decides, not the PROM. */
	wr(s, 0, DP_RCR, 0);
	wr(s, 1, DP_PAR0 + 5, 0x57);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 60, 10)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);

	/* Monitor mode: matched, counted as missed, not stored. */
	wr(s, 0, DP_RCR, DP_RCR_AB | DP_RCR_MON);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, bcast, 60, 11)), 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), -1);
	CHECK_EQ(rd(s, 0, DP_RSR), DP_RSR_MPA | DP_RSR_DIS | DP_RSR_PHY);
	CHECK_EQ(rd(s, 0, DP_CNTR2), 1);
	dp8390_destroy(s);
}

static void test_isr_irq(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[100];

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_IMR, 0);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 60, 1)), 0);
	drv_send(s, f, 60);
	CHECK_EQ(dp8390_read(s, DP_ISR) & 0x7f, DP_ISR_PRX | DP_ISR_PTX | DP_ISR_RDC);
	CHECK(!dp8390_irq_level(s)); /* masked */
	CHECK_EQ(w.irq_level, 0);
	dp8390_write(s, DP_IMR, DP_ISR_PTX);
	CHECK(dp8390_irq_level(s));
	CHECK_EQ(w.irq_level, 1);
	/* Write 1 to clear: only the bits written. */
	dp8390_write(s, DP_ISR, DP_ISR_PRX);
	CHECK_EQ(dp8390_read(s, DP_ISR) & 0x7f, DP_ISR_PTX | DP_ISR_RDC);
	CHECK_EQ(w.irq_level, 1);
	dp8390_write(s, DP_ISR, DP_ISR_PTX);
	CHECK_EQ(w.irq_level, 0);
	CHECK_EQ(dp8390_read(s, DP_ISR) & 0x7f, DP_ISR_RDC);
	/* RST never interrupts, even with every mask bit set. */
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_IMR, 0xff);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_read(s, DP_ISR), DP_ISR_RST);
	CHECK_EQ(w.irq_level, 0);
	CHECK_EQ(rd(s, 2, DP_IMR), 0x7f);
	/* Unmasking a pending bit raises the line; reset drops it. */
	page(s, 0);
	dp8390_write(s, DP_IMR, 0);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	drv_send(s, f, 60);
	CHECK_EQ(w.irq_level, 0);
	dp8390_write(s, DP_IMR, DP_ISR_RDC);
	CHECK_EQ(w.irq_level, 1);
	dp8390_reset(s);
	CHECK_EQ(w.irq_level, 0);
	CHECK(w.irq_edges >= 2);
	dp8390_destroy(s);
}

static void test_send_packet_cmd(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[1600], buf[1700];

	/* Driver keeping BNRY on the next packet (BNRY == CURR when empty). */
	drv_init(s, true, 0x60, 0x68, DP_RCR_AB);
	wr(s, 0, DP_BNRY, 0x66);
	wr(s, 1, DP_CURR, 0x66);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 600, 1)), 0);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 100, 2)), 0);
	CHECK_EQ(rd(s, 1, DP_CURR), 0x62);
	/* Send Packet: RSAR = BNRY, RBCR = header count; BNRY moves to the next packet at the end.
	 */
	page(s, 0);
	dp8390_write(s, DP_RBCR1, 0x0f);
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_SEND);
	for (unsigned i = 0; i < 604; i += 2) {
		uint16_t v = (uint16_t)dp8390_data_read(s, 2);

		buf[i] = (uint8_t)v;
		buf[i + 1] = (uint8_t)(v >> 8);
	}
	make_frame(f, our_mac, 600, 1);
	CHECK_EQ(buf[1], 0x61);
	CHECK_EQ(buf[2] | buf[3] << 8, 604);
	CHECK(memcmp(buf + 4, f, 600) == 0); /* wrapped at PSTOP on the way */
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RDC);
	CHECK_EQ(dp8390_read(s, DP_BNRY), 0x61);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_SEND);
	for (unsigned i = 0; i < 104; i += 2) {
		uint16_t v = (uint16_t)dp8390_data_read(s, 2);

		buf[i] = (uint8_t)v;
		buf[i + 1] = (uint8_t)(v >> 8);
	}
	make_frame(f, our_mac, 100, 2);
	CHECK(memcmp(buf + 4, f, 100) == 0);
	CHECK_EQ(dp8390_read(s, DP_BNRY), 0x62);
	dp8390_destroy(s);
}

static void test_loopback(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t f[100], buf[100], status;

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	dp8390_write(s, DP_TCR, 0x02);
	CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 60, 1)), -ENETDOWN);
	drv_send(s, f, make_frame(f, our_mac, 70, 2));
	CHECK_EQ(w.sent, 0);
	CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 70);
	CHECK(memcmp(buf, f, 70) == 0);
	CHECK_EQ(stats(s)->tx_loopback, 1);
	dp8390_destroy(s);
}

static void test_rdma_modes(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, false);
	uint8_t buf[8];

	drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
	/* Odd count in word mode: the last word completes the transfer (RBCR saturates at 0). */
	dp8390_write(s, DP_ISR, 0xff);
	rdma_setup(s, 0x4000, 3, DP_CR_RD_WRITE);
	dp8390_data_write(s, 2, 0x2211);
	CHECK_EQ(dp8390_read(s, DP_ISR) & DP_ISR_RDC, 0);
	dp8390_data_write(s, 2, 0x4433);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RDC);
	dp8390_data_write(s, 2, 0x6655); /* after completion: dropped */
	rdma_read(s, 0x4000, buf, 5);
	CHECK(memcmp(buf, "\x11\x22\x33\x44\xff", 4) == 0);
	CHECK(buf[4] != 0x55);
	/* Odd address in word mode is aligned down, counted. */
	rdma_setup(s, 0x4001, 2, DP_CR_RD_READ);
	CHECK_EQ(dp8390_data_read(s, 2), 0x2211);
	CHECK_EQ(stats(s)->rdma_unaligned, 1);
	/* BOS swaps the bytes of each word. */
	wr(s, 0, DP_DCR, 0x4b);
	rdma_setup(s, 0x4000, 2, DP_CR_RD_READ);
	CHECK_EQ(dp8390_data_read(s, 2), 0x1122);
	wr(s, 0, DP_DCR, 0x49);
	/* RBCR = 0 completes at once; abort stops a transfer. */
	dp8390_write(s, DP_ISR, 0xff);
	rdma_setup(s, 0x4000, 0, DP_CR_RD_READ);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_RDC);
	rdma_setup(s, 0x4000, 10, DP_CR_RD_READ);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	CHECK_EQ(dp8390_data_read(s, 2), 0xffffffffu);
	/* RD = 000 is refused and leaves the transfer alone. */
	rdma_setup(s, 0x4000, 4, DP_CR_RD_READ);
	dp8390_write(s, DP_CR, DP_CR_STA);
	CHECK_EQ(stats(s)->bad_cr, 1);
	CHECK_EQ(dp8390_data_read(s, 2), 0x2211);
	/* The remote DMA address wraps at 64 KiB. */
	wr(s, 0, DP_DCR, 0x48);
	rdma_setup(s, 0xffff, 3, DP_CR_RD_WRITE);
	dp8390_data_write(s, 1, 1);
	dp8390_data_write(s, 1, 2);
	CHECK_EQ(rd(s, 0, DP_CRDA1), 0x00);
	CHECK_EQ(rd(s, 0, DP_CRDA0), 0x01);
	dp8390_destroy(s);
}

/* Every value into every register of every page, then the chip still works. */
static void test_all_registers(void)
{
	struct wire w;
	struct dp8390 *s;
	uint8_t f[1600], buf[1600], status;

	for (int rtl = 0; rtl < 2; rtl++) {
		s = chip_new(&w, rtl);
		for (unsigned p = 0; p < 4; p++) {
			for (unsigned reg = 1; reg < 16; reg++) {
				for (unsigned v = 0; v < 256; v++) {
					dp8390_write(
						s, DP_CR,
						(uint8_t)(p << 6 | DP_CR_RD_ABORT | DP_CR_STA));
					dp8390_write(s, reg, (uint8_t)v);
					(void)dp8390_read(s, reg);
					(void)dp8390_data_read(s, 1 + (v & 3));
					dp8390_data_write(s, 1 + (v & 3), v * 0x01010101u);
					rx_any(s, f, make_frame(f, bcast, 60 + v, (uint8_t)v));
				}
			}
			/* CR itself, all values, on the way. */
			for (unsigned v = 0; v < 256; v++) {
				dp8390_write(s, DP_CR, (uint8_t)v);
				(void)dp8390_data_read(s, 2);
				rx_any(s, f, make_frame(f, our_mac, 100, (uint8_t)v));
				(void)dp8390_read(s, (v >> 4) & 0xf);
			}
		}
		/* Re-initialise like a driver would and check RX and TX end to end. */
		drv_init(s, true, RX_START, RX_STOP, DP_RCR_AB);
		w.sent = 0;
		CHECK_EQ(dp8390_receive(s, f, make_frame(f, our_mac, 1000, 42)), 0);
		CHECK_EQ(drv_recv(s, buf, sizeof(buf), &status), 1000);
		CHECK(memcmp(buf, f, 1000) == 0);
		drv_send(s, f, 1000);
		CHECK_EQ(w.sent, 1);
		CHECK_EQ(w.len, 1000);
		CHECK(memcmp(w.frame, f, 1000) == 0);
		dp8390_destroy(s);
	}
}

/* A pseudo-random register storm (deterministic seed) with frames in between. */
static void test_register_storm(void)
{
	struct wire w;
	struct dp8390 *s = chip_new(&w, true);
	uint32_t x = 12345;
	uint8_t f[1600];

	for (unsigned i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		unsigned r = x >> 8;

		switch (r & 7) {
		case 0:
		case 1:
			dp8390_write(s, (r >> 3) & 15, (uint8_t)(r >> 7));
			break;
		case 2:
			(void)dp8390_read(s, (r >> 3) & 15);
			break;
		case 3:
			(void)dp8390_data_read(s, 1u << ((r >> 3) % 3));
			break;
		case 4:
			dp8390_data_write(s, 1u << ((r >> 3) % 3), r);
			break;
		case 5:
			rx_any(s, f,
			       make_frame(f, (r & 0x100) ? bcast : our_mac, 14 + (r >> 12) % 1505,
					  (uint8_t)r));
			break;
		case 6:
			if ((r & 0xff00) == 0)
				dp8390_reset(s);
			break;
		default:
			(void)dp8390_can_receive(s);
			break;
		}
		CHECK(dp8390_irq_level(s) == (w.irq_level != 0));
	}
	dp8390_destroy(s);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"reset_state", test_reset_state},
		{"prom", test_prom},
		{"tx", test_tx},
		{"rx_basic", test_rx_basic},
		{"linux_compat", test_linux_compat},
		{"rx_wrap", test_rx_wrap},
		{"overflow", test_overflow},
		{"overflow_recovery_linux", test_overflow_recovery_linux},
		{"ring_edges", test_ring_edges},
		{"filters", test_filters},
		{"isr_irq", test_isr_irq},
		{"send_packet_cmd", test_send_packet_cmd},
		{"loopback", test_loopback},
		{"rdma_modes", test_rdma_modes},
		{"all_registers", test_all_registers},
		{"register_storm", test_register_storm},
	};

	log_set_level(LOGL_ERR); /* hostile-input warnings are expected here */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = test_failures;

		test_current = tests[i].name;
		tests[i].fn();
		printf("%s %s\n", test_failures == before ? "ok  " : "FAIL", tests[i].name);
		fflush(stdout);
	}
	test_current = NULL;
	TEST_DONE("dp8390");
}
