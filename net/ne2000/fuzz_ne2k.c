// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: NE2000 register access sequences and frames from the wire, as a hostile guest and a
 * hostile network would produce them. Input is a stream of operations:
 *
 *   op byte: low 3 bits = kind, bits 3-4 = width index (1, 2, 4, 4), bits 5-7 = argument
 *   0, 1  register write:  [page << 4 | reg] [value]
 *   2     register read:   [page << 4 | reg]
 *   3     data port read   (width from the op byte)
 *   4     data port write  [4 value bytes]
 *   5     reset port
 *   6     frame from wire: [len lo] [len hi] [dst kind]; payload from the input
 *   7     driver init:     [pstart] [pstop] [rcr] [dcr]  (a sane ring so RX gets explored)
 *
 * After every operation the interrupt line must equal what the chip reports; at the end a driver
 * re-initialisation must bring back working RX and TX whatever state the input left behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp8390.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

struct sink {
	int level;
	unsigned sent;
	size_t len;
	uint8_t last[NETDEV_MAX_FRAME];
};

static void sink_irq(void *opaque, int level)
{
	((struct sink *)opaque)->level = level;
}

static int sink_send(void *opaque, const void *frame, size_t len)
{
	struct sink *k = opaque;

	if (len < NETDEV_MIN_FRAME || len > NETDEV_MAX_FRAME)
		abort(); /* the chip must pad and bound what it transmits */
	memcpy(k->last, frame, len);
	k->len = len;
	k->sent++;
	return 0;
}

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void select_page(struct dp8390 *s, unsigned pg)
{
	uint8_t cr = dp8390_read(s, DP_CR);

	if ((cr >> 6) == pg)
		return;
	/* Keep STA/STP and the remote DMA command, except a Send Packet (would restart it). */
	cr &= DP_CR_STA | DP_CR_STP | DP_CR_RD_MASK;
	if ((cr & DP_CR_RD_MASK) == DP_CR_RD_SEND || (cr & DP_CR_RD_MASK) == 0)
		cr = (uint8_t)((cr & ~DP_CR_RD_MASK) | DP_CR_RD_ABORT);
	dp8390_write(s, DP_CR, (uint8_t)(cr | pg << 6));
}

static void drv_init(struct dp8390 *s, uint8_t pstart, uint8_t pstop, uint8_t rcr, uint8_t dcr)
{
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_DCR, dcr);
	dp8390_write(s, DP_RBCR0, 0);
	dp8390_write(s, DP_RBCR1, 0);
	dp8390_write(s, DP_RCR, rcr);
	dp8390_write(s, DP_TCR, 0x02);
	dp8390_write(s, DP_TPSR, 0x40);
	dp8390_write(s, DP_PSTART, pstart);
	dp8390_write(s, DP_BNRY, pstart);
	dp8390_write(s, DP_PSTOP, pstop);
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_IMR, 0x3f);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT | 0x40);
	for (int i = 0; i < 6; i++)
		dp8390_write(s, DP_PAR0 + i, mac[i]);
	dp8390_write(s, DP_CURR, (uint8_t)(pstart + 1));
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	dp8390_write(s, DP_TCR, 0);
}

static void inject(struct dp8390 *s, struct in *in, const struct netdev_frontend *fe)
{
	static uint8_t frame[NETDEV_MAX_FRAME + 64];
	size_t len = (size_t)(next(in) | next(in) << 8) % sizeof(frame);
	uint8_t kind = next(in);

	for (size_t i = 0; i < len; i++)
		frame[i] = in->n ? next(in) : (uint8_t)i;
	if (len >= 6) {
		switch (kind & 3) {
		case 0:
			memcpy(frame, mac, 6);
			break;
		case 1:
			memset(frame, 0xff, 6);
			break;
		case 2:
			frame[0] |= 1; /* some multicast */
			break;
		default:
			break;
		}
	}
	if (kind & 4) {
		(void)fe->receive(fe->opaque, frame, len);
	} else if (dp8390_receive(s, frame, len) < 0) {
		return; /* refused frames are counted by the chip */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[4] = {1, 2, 4, 4};
	struct sink k = {0};
	struct dp8390_cfg cfg = {
		.name = "fuzz",
		.irq = {.set_level = sink_irq, .opaque = &k},
		.backend = {.send = sink_send, .opaque = &k},
		.rtl8029 = size & 1,
	};
	struct netdev_frontend fe;
	struct in in = {data, size};
	struct dp8390 *s;
	uint8_t frame[200];

	log_set_level(LOGL_ERR);
	memcpy(cfg.mac, mac, 6);
	if (dp8390_create(&cfg, &s))
		abort();
	dp8390_frontend(s, &fe);

	for (unsigned ops = 0; in.n && ops < 4096; ops++) {
		uint8_t op = next(&in), a;
		unsigned width = widths[(op >> 3) & 3];

		switch (op & 7) {
		case 0:
		case 1:
			a = next(&in);
			if (a & 0x0f)
				select_page(s, (a >> 4) & 3);
			dp8390_write(s, a, next(&in));
			break;
		case 2:
			a = next(&in);
			if (a & 0x0f)
				select_page(s, (a >> 4) & 3);
			(void)dp8390_read(s, a);
			break;
		case 3:
			(void)dp8390_data_read(s, width);
			break;
		case 4: {
			uint32_t v = next(&in);

			v |= (uint32_t)next(&in) << 8;
			v |= (uint32_t)next(&in) << 16;
			v |= (uint32_t)next(&in) << 24;
			dp8390_data_write(s, width, v);
			break;
		}
		case 5:
			dp8390_reset(s);
			break;
		case 6:
			inject(s, &in, &fe);
			break;
		default: {
			uint8_t pstart = next(&in), pstop = next(&in), rcr = next(&in);

			drv_init(s, pstart, pstop, rcr, next(&in));
			break;
		}
		}
		if (dp8390_irq_level(s) != (k.level != 0))
			abort();
		(void)fe.can_receive(fe.opaque);
	}

	/* Whatever happened, a driver that re-initialises gets a working chip. */
	drv_init(s, 0x4c, 0x80, DP_RCR_AB, 0x49);
	memset(frame, 0x5a, sizeof(frame));
	memcpy(frame, mac, 6);
	if (dp8390_receive(s, frame, sizeof(frame)) != 0)
		abort();
	if (!(dp8390_read(s, DP_ISR) & DP_ISR_PRX) || !dp8390_irq_level(s))
		abort();
	dp8390_write(s, DP_TBCR0, 100);
	dp8390_write(s, DP_TBCR1, 0);
	k.sent = 0;
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	if (k.sent != 1 || k.len != 100)
		abort();
	dp8390_destroy(s);
	return 0;
}
