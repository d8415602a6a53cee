// SPDX-License-Identifier: GPL-2.0-only
/*
 * DP8390 network interface controller model. Section numbers refer to the DP8390D/NS32490D
 * datasheet (July 1995) unless another document is named; "RTL8029AS" is Realtek's datasheet of
 * the PCI NE2000 clone.
 */
#include "dp8390.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

#define RAM_FIRST_PAGE (DP8390_RAM_START / DP8390_PAGE_SIZE) /* 0x40 */
#define RAM_END_PAGE (DP8390_RAM_END / DP8390_PAGE_SIZE)     /* 0xc0, exclusive */
#define RX_HDR_LEN 4u
#define RX_FCS_LEN 4u
/* Tally counters stop at 192 so the host can still see them overflow (s10.3, tally counters). */
#define TALLY_MAX 0xc0
#define ISR_IRQ_MASK 0x7f /* RST never interrupts (s10.3, ISR) */

enum rdma_state {
	RDMA_IDLE,
	RDMA_READ,
	RDMA_WRITE,
};

struct dp8390 {
	pthread_mutex_t lock;
	char name[32];
	bool rtl8029;
	struct irq_line irq;
	struct netdev_backend be;
	int irq_level;

	/* Registers (names as in s10.1). */
	uint8_t cr;
	uint8_t pstart, pstop, bnry, tpsr, curr;
	uint16_t tbcr;
	uint8_t isr, imr;
	uint8_t rcr, tcr, dcr;
	uint8_t tsr, ncr, rsr;
	uint8_t cntr[3];
	uint8_t par[6], mar[8];
	uint16_t clda;	    /* local DMA address after the last receive */
	uint8_t rnpp, lnpp; /* page 2 diagnostic pointers: read back only */
	uint16_t rsar;	    /* remote DMA address: RSAR as loaded, CRDA as it advances */
	uint16_t rbcr;	    /* remote byte count, decremented as bytes move */
	uint8_t rtl_9346cr, rtl_bpage, rtl_config2, rtl_config3; /* RTL8029AS page 3 */

	/* Internal state. */
	enum rdma_state rdma;
	bool send_packet;  /* the current remote read is a Send Packet command */
	uint8_t send_next; /* BNRY to set when it completes */
	bool rx_full;	   /* CURR caught up with BNRY (vs. BNRY caught up with CURR) */
	bool rx_overflow;  /* OVW raised; nothing is stored until BNRY is written */
	bool rx_refused;   /* the last receive was refused: tell the backend when that ends */

	struct dp8390_stats st;
	uint8_t prom[DP8390_PROM_SIZE];
	uint8_t ram[DP8390_RAM_SIZE];
	uint8_t txbuf[NETDEV_MAX_FRAME + 4];
};

/* ---------------------------------------------------------------------------------------------- */
/* Helpers; all run with the lock held.                                                          */

static void irq_update(struct dp8390 *s)
{
	int level = (s->isr & s->imr & ISR_IRQ_MASK) != 0;

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

static bool started(const struct dp8390 *s)
{
	return (s->cr & (DP_CR_STA | DP_CR_STP)) == DP_CR_STA;
}

static bool loopback(const struct dp8390 *s)
{
	return (s->tcr & DP_TCR_LB_MASK) != 0;
}

/* PSTART/PSTOP/CURR describe a ring inside the buffer RAM (s7.0, receive buffer ring). */
static bool ring_valid(const struct dp8390 *s)
{
	return s->pstart >= RAM_FIRST_PAGE && s->pstop <= RAM_END_PAGE && s->pstart < s->pstop &&
	       s->curr >= s->pstart && s->curr < s->pstop;
}

/*
 * Free pages between CURR and BNRY. The chip tells a full ring from an empty one when the two are
 * equal by which moved last (DP83902A datasheet s7.0, "Removing packets from the ring"). A BNRY
 * outside the ring protects nothing (83C795 datasheet, buffer ring).
 */
static unsigned ring_free_pages(const struct dp8390 *s)
{
	unsigned n = (unsigned)s->pstop - s->pstart;

	if (s->bnry < s->pstart || s->bnry >= s->pstop)
		return n;
	if (s->bnry == s->curr)
		return s->rx_full ? 0 : n;
	return ((unsigned)s->bnry + n - s->curr) % n;
}

/*
 * Ring pages a frame of @len bytes (no FCS) occupies. The chip stores the 4-byte FCS after the
 * data, so the next-page pointer leaves room for it even though we neither write it nor count it:
 * drivers check the pointer against the byte count with that in mind (Linux ei_receive accepts this
 * + 1 + (count >> 8) or one more).
 */
static unsigned pages_for(size_t len)
{
	return (unsigned)((len + RX_HDR_LEN + RX_FCS_LEN + DP8390_PAGE_SIZE - 1) /
			  DP8390_PAGE_SIZE);
}

static bool can_receive_locked(const struct dp8390 *s)
{
	if (!started(s) || loopback(s) || s->rx_overflow || !ring_valid(s))
		return false;
	if (s->rcr & DP_RCR_MON)
		return true;
	return ring_free_pages(s) >= pages_for(NETDEV_MAX_FRAME);
}

/* The backend paused after a refusal: tell it once reception is possible again. */
static void rx_maybe_ready(struct dp8390 *s)
{
	if (s->rx_refused && can_receive_locked(s)) {
		s->rx_refused = false;
		if (s->be.rx_ready)
			s->be.rx_ready(s->be.opaque);
	}
}

static void tally(struct dp8390 *s, unsigned idx)
{
	if (s->cntr[idx] < TALLY_MAX)
		s->cntr[idx]++;
	if (s->cntr[idx] & 0x80)
		s->isr |= DP_ISR_CNT; /* s10.3: CNT is set when the MSB of a tally counter sets */
}

/* Byte of the local address space: PROM, buffer RAM, or nothing (reads 0xff). */
static uint8_t mem_read(struct dp8390 *s, uint16_t addr)
{
	if (addr >= DP8390_RAM_START && addr < DP8390_RAM_END)
		return s->ram[addr - DP8390_RAM_START];
	if (addr < DP8390_PROM_SIZE)
		return s->prom[addr];
	s->st.rdma_oob++;
	return 0xff;
}

static void mem_write(struct dp8390 *s, uint16_t addr, uint8_t v)
{
	if (addr >= DP8390_RAM_START && addr < DP8390_RAM_END)
		s->ram[addr - DP8390_RAM_START] = v;
	else
		s->st.rdma_oob++; /* the PROM is read-only, the rest is not decoded */
}

/*
 * Advance the remote DMA address; crossing PSTOP it restarts at PSTART so packets that wrapped
 * around the ring come out in one transfer (s9.0 "Send Packet Command"; drivers rely on it for
 * plain remote reads too).
 */
static uint16_t rdma_next(const struct dp8390 *s, uint16_t addr)
{
	addr++;
	if ((addr & 0xff) == 0 && (addr >> 8) == s->pstop && s->pstart < s->pstop)
		addr = (uint16_t)(s->pstart << 8);
	return addr;
}

/* The remote byte count reached zero (s9.0): the transfer ends and RDC is raised. */
static void rdma_complete(struct dp8390 *s)
{
	s->rdma = RDMA_IDLE;
	s->isr |= DP_ISR_RDC;
	if (s->send_packet) {
		/* Send Packet frees the packet's pages by moving BNRY (s9.0). */
		s->send_packet = false;
		s->bnry = s->send_next;
		s->rx_full = false;
		s->rx_overflow = false;
		s->isr &= (uint8_t)~DP_ISR_RST;
		rx_maybe_ready(s);
	}
	irq_update(s);
}

/* Remote DMA command (CR.RD, s10.3 "Command Register"). */
static void rdma_command(struct dp8390 *s, uint8_t rd)
{
	switch (rd) {
	case DP_CR_RD_READ:
	case DP_CR_RD_WRITE:
		s->send_packet = false;
		s->rdma = rd == DP_CR_RD_READ ? RDMA_READ : RDMA_WRITE;
		if (s->rbcr == 0)
			rdma_complete(s); /* nothing to move: done at once */
		break;
	case DP_CR_RD_SEND: {
		/*
		 * Load RSAR from BNRY and RBCR from the byte count in that packet's header; the
		 * header itself is part of the transfer (s9.0). A next-page pointer outside the
		 * ring is not trusted for BNRY.
		 */
		uint16_t hdr = (uint16_t)(s->bnry << 8);
		uint8_t next = mem_read(s, (uint16_t)(hdr + 1));

		s->rsar = hdr;
		s->rbcr = (uint16_t)(mem_read(s, (uint16_t)(hdr + 2)) |
				     mem_read(s, (uint16_t)(hdr + 3)) << 8);
		s->rdma = RDMA_READ;
		s->send_packet = next >= s->pstart && next < s->pstop;
		s->send_next = next;
		if (!s->send_packet)
			log_rl(LOGL_WARN,
			       "%s: Send Packet at BNRY 0x%02x: next page 0x%02x outside ring",
			       s->name, s->bnry, next);
		if (s->rbcr == 0)
			rdma_complete(s);
		break;
	}
	default: /* 1xx: abort/complete remote DMA */
		s->rdma = RDMA_IDLE;
		s->send_packet = false;
		break;
	}
}

/* ---------------------------------------------------------------------------------------------- */
/* Receive                                                                                       */

static uint32_t ether_crc_be(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	/* IEEE 802.3 CRC-32, bits taken LSB first, register shifted MSB first. */
	for (size_t i = 0; i < len; i++) {
		uint8_t b = p[i];

		for (int bit = 0; bit < 8; bit++, b >>= 1) {
			uint32_t fb = ((crc >> 31) ^ b) & 1u;

			crc <<= 1;
			if (fb)
				crc ^= 0x04c11db7u;
		}
	}
	return crc;
}

unsigned dp8390_mcast_index(const uint8_t mac[6])
{
	return ether_crc_be(mac, 6) >> 26;
}

/*
 * Address recognition (s7.0 "Address matching" and RCR in s10.3): physical address match or PRO,
 * broadcast with AB, multicast with AM and its MAR hash bit. PRO covers physical addresses only.
 * Returns false when the frame is not for us; *rsr_phy gets RSR.PHY.
 */
static bool rx_address_ok(const struct dp8390 *s, const uint8_t *dst, uint8_t *rsr_phy)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	*rsr_phy = 0;
	if (dst[0] & 1) {
		*rsr_phy = DP_RSR_PHY;
		if (memcmp(dst, bcast, 6) == 0)
			return s->rcr & DP_RCR_AB;
		if (!(s->rcr & DP_RCR_AM))
			return false;
		unsigned idx = dp8390_mcast_index(dst);

		return s->mar[idx >> 3] & (1u << (idx & 7));
	}
	return (s->rcr & DP_RCR_PRO) || memcmp(dst, s->par, 6) == 0;
}

/* Copy @len bytes into the ring at @addr, wrapping from PSTOP to PSTART like the local DMA. */
static uint16_t ring_copy(struct dp8390 *s, uint16_t addr, const uint8_t *p, size_t len)
{
	uint16_t stop = (uint16_t)(s->pstop << 8), start = (uint16_t)(s->pstart << 8);

	while (len) {
		size_t chunk = MIN(len, (size_t)(stop - addr));

		memcpy(&s->ram[addr - DP8390_RAM_START], p, chunk);
		p += chunk;
		len -= chunk;
		addr = (uint16_t)(addr + chunk);
		if (addr == stop)
			addr = start;
	}
	return addr;
}

/*
 * Store one frame, @len >= 60 and <= NETDEV_MAX_FRAME, already padded. Runs the filter and the
 * buffer management of s7.0: header at CURR, data from CURR*256+4 through contiguous pages
 * (wrapping at PSTOP), CURR moved to the page after the packet.
 */
static int rx_store(struct dp8390 *s, const uint8_t *frame, size_t len)
{
	uint8_t phy, hdr[RX_HDR_LEN];
	unsigned need, next;

	if (!rx_address_ok(s, frame, &phy)) {
		s->st.rx_filtered++;
		return 0;
	}
	if (s->rcr & DP_RCR_MON) {
		/* Monitor mode: counted as missed, not buffered (s10.3, RSR.MPA and RSR.DIS). */
		s->rsr = DP_RSR_MPA | DP_RSR_DIS | phy;
		s->st.rx_monitor++;
		tally(s, 2);
		irq_update(s);
		return 0;
	}
	if (s->rx_overflow) {
		s->rsr = DP_RSR_MPA | phy;
		s->st.rx_no_room++;
		tally(s, 2);
		irq_update(s);
		return -ENOBUFS;
	}
	if (!ring_valid(s)) {
		s->st.rx_bad_ring++;
		log_rl(LOGL_WARN,
		       "%s: bad ring PSTART 0x%02x PSTOP 0x%02x CURR 0x%02x, frame dropped",
		       s->name, s->pstart, s->pstop, s->curr);
		return -ENOBUFS;
	}
	need = pages_for(len);
	if (need > ring_free_pages(s)) {
		/*
		 * Buffer ring overflow (s7.0): reception aborted, earlier packets intact. OVW and
		 * RST are raised (s10.3 ISR.RST) and the receiver stays off until the host removes
		 * packets.
		 */
		s->rsr = DP_RSR_MPA | phy;
		s->isr |= DP_ISR_OVW | DP_ISR_RST;
		s->rx_overflow = true;
		s->st.rx_overflows++;
		s->st.rx_no_room++;
		tally(s, 2);
		irq_update(s);
		return -ENOBUFS;
	}

	next = s->curr + need;
	if (next >= s->pstop)
		next -= (unsigned)s->pstop - s->pstart;
	s->rsr = DP_RSR_PRX | phy;
	hdr[0] = s->rsr;
	hdr[1] = (uint8_t)next;
	hdr[2] = (uint8_t)(len + RX_HDR_LEN);
	hdr[3] = (uint8_t)((len + RX_HDR_LEN) >> 8);

	uint16_t addr = (uint16_t)(s->curr << 8);

	memcpy(&s->ram[addr - DP8390_RAM_START], hdr, RX_HDR_LEN);
	s->clda = ring_copy(s, (uint16_t)(addr + RX_HDR_LEN), frame, len);
	s->curr = (uint8_t)next;
	s->rx_full = s->curr == s->bnry;
	s->isr |= DP_ISR_PRX;
	s->st.rx_packets++;
	s->st.rx_bytes += len;
	irq_update(s);
	return 0;
}

/* Pad to the wire minimum and store; shared by the backend path and loopback. */
static int rx_frame(struct dp8390 *s, const uint8_t *frame, size_t len)
{
	uint8_t pad[NETDEV_MIN_FRAME];

	if (len < NETDEV_MIN_FRAME) {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, frame, len);
		frame = pad;
		len = NETDEV_MIN_FRAME;
		s->st.rx_padded++;
	}
	return rx_store(s, frame, len);
}

int dp8390_receive(struct dp8390 *s, const void *frame, size_t len)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	if (len > NETDEV_MAX_FRAME || (len && !frame)) {
		s->st.rx_oversize++;
		ret = -EMSGSIZE;
	} else if (!started(s) || loopback(s)) {
		s->st.rx_stopped++;
		ret = -ENETDOWN;
	} else {
		ret = rx_frame(s, frame, len);
	}
	if (ret == -ENOBUFS || ret == -ENETDOWN)
		s->rx_refused = true;
	pthread_mutex_unlock(&s->lock);
	return ret;
}

bool dp8390_can_receive(struct dp8390 *s)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = can_receive_locked(s);
	if (!ok)
		s->rx_refused = true; /* the caller may pause: owe it an rx_ready() */
	pthread_mutex_unlock(&s->lock);
	return ok;
}

/* ---------------------------------------------------------------------------------------------- */
/* Transmit                                                                                      */

static void tx_abort(struct dp8390 *s)
{
	s->st.tx_bad++;
	s->tsr = DP_TSR_ABT;
	s->isr |= DP_ISR_TXE;
}

/*
 * CR.TXP (s8.0): send TBCR bytes from TPSR*256. The transmit buffer is linear (no ring wrap). With
 * TCR.CRC set the host supplied the FCS itself: strip it, backends carry frames without one.
 */
static void transmit(struct dp8390 *s)
{
	uint32_t addr = (uint32_t)s->tpsr << 8;
	size_t len = s->tbcr, max = NETDEV_MAX_FRAME;

	if (s->tcr & DP_TCR_CRC)
		max += 4;
	if (len > max || addr < DP8390_RAM_START || addr + len > DP8390_RAM_END) {
		log_rl(LOGL_WARN,
		       "%s: transmit of %zu bytes at 0x%04x outside RAM or too long, aborted",
		       s->name, len, addr);
		tx_abort(s);
		goto out;
	}
	memcpy(s->txbuf, &s->ram[addr - DP8390_RAM_START], len);
	if ((s->tcr & DP_TCR_CRC) && len >= 4)
		len -= 4;
	if (len < NETDEV_MIN_FRAME) {
		/* Pad to the 802.3 minimum, as the transmitter does on the wire. */
		memset(s->txbuf + len, 0, NETDEV_MIN_FRAME - len);
		len = NETDEV_MIN_FRAME;
		s->st.tx_padded++;
	}
	s->tsr = DP_TSR_PTX;
	s->ncr = 0;
	s->isr |= DP_ISR_PTX;
	s->st.tx_packets++;
	s->st.tx_bytes += len;
	if (loopback(s)) {
		s->st.tx_loopback++;
		(void)rx_frame(s, s->txbuf, len); /* counted inside */
	} else if (!s->be.send || s->be.send(s->be.opaque, s->txbuf, len) < 0) {
		s->st.tx_backend_err++;
	}
out:
	s->cr &= (uint8_t)~DP_CR_TXP;
	irq_update(s);
}

/* ---------------------------------------------------------------------------------------------- */
/* Registers                                                                                     */

static void reset_locked(struct dp8390 *s)
{
	/* Values guaranteed after reset (s11.0; BSD ne2000 probes check them). */
	s->cr = DP_CR_STP | DP_CR_RD_ABORT;
	s->isr = DP_ISR_RST;
	s->imr = 0;
	s->dcr |= DP_DCR_LAS;
	s->tcr = (uint8_t)((s->tcr & ~DP_TCR_LB_MASK) | 0x02);
	s->rdma = RDMA_IDLE;
	s->send_packet = false;
	s->rx_overflow = false;
	s->st.resets++;
	irq_update(s);
}

static void cr_write(struct dp8390 *s, uint8_t v)
{
	uint8_t rd = v & DP_CR_RD_MASK, run = v & (DP_CR_STP | DP_CR_STA);

	/*
	 * STP and STA are commands: writing neither leaves the chip running or stopped as it was
	 * (drivers write E8390_NODMA|PAGE1 = 0x60 to switch pages on a running chip).
	 */
	if (run == 0)
		run = s->cr & (DP_CR_STP | DP_CR_STA);
	if (rd == 0) {
		/* RD = 000 is "not allowed" (s10.3): keep the DMA state and the old RD bits. */
		s->st.bad_cr++;
		log_rl(LOGL_WARN, "%s: CR write 0x%02x with RD=000, remote DMA unchanged", s->name,
		       v);
		rd = s->cr & DP_CR_RD_MASK;
	} else {
		rdma_command(s, rd);
	}
	bool was_started = started(s);

	s->cr = (uint8_t)((v & DP_CR_PS_MASK) | run | rd | (s->cr & DP_CR_TXP));
	if (v & DP_CR_STP) {
		/* Software reset: offline at once (nothing is ever in flight here), RST set. */
		s->isr |= DP_ISR_RST;
	} else if (v & DP_CR_STA) {
		s->isr &= (uint8_t)~DP_ISR_RST;
		/*
		 * Leaving the reset state restarts the receiver even if no packet was removed
		 * (the s7.0 overflow recovery: STP, ..., STA): a frame larger than the whole ring
		 * must not wedge reception for good.
		 */
		if (!was_started)
			s->rx_overflow = false;
	}
	if (v & DP_CR_TXP) {
		if (started(s)) {
			s->cr |= DP_CR_TXP;
			transmit(s);
		} else {
			s->st.tx_stopped++;
		}
	}
	irq_update(s);
}

static uint8_t read_page0(struct dp8390 *s, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case DP_CLDA0:
		return (uint8_t)s->clda;
	case DP_CLDA1:
		return (uint8_t)(s->clda >> 8);
	case DP_BNRY:
		return s->bnry;
	case DP_TSR:
		return s->tsr;
	case DP_NCR:
		return s->ncr;
	case DP_FIFO:
		return 0; /* FIFO contents matter only for loopback diagnostics */
	case DP_ISR:
		return s->isr;
	case DP_CRDA0:
		return (uint8_t)s->rsar;
	case DP_CRDA1:
		return (uint8_t)(s->rsar >> 8);
	case DP_RTL_ID0:
		if (s->rtl8029)
			return 0x50; /* RTL8029AS: 8029ID0 */
		break;
	case DP_RTL_ID1:
		if (s->rtl8029)
			return 0x43; /* RTL8029AS: 8029ID1 */
		break;
	case DP_RSR:
		return s->rsr;
	case DP_CNTR0:
	case DP_CNTR1:
	case DP_CNTR2:
		/* Tally counters clear when read (s10.3). */
		v = s->cntr[reg - DP_CNTR0];
		s->cntr[reg - DP_CNTR0] = 0;
		return v;
	}
	s->st.reserved_reg++;
	return 0xff;
}

/*
 * Page pointers outside the buffer RAM are legal to write (probes test for NE1000 memory at 8 KiB)
 * but nothing there can be used: count them; the users check again.
 */
static void page_ptr_check(struct dp8390 *s, uint8_t page, bool is_stop)
{
	if (page < RAM_FIRST_PAGE || page > RAM_END_PAGE || (page == RAM_END_PAGE && !is_stop))
		s->st.bad_page_ptr++;
}

static void write_page0(struct dp8390 *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case DP_PSTART:
		page_ptr_check(s, v, false);
		s->pstart = v;
		break;
	case DP_PSTOP:
		page_ptr_check(s, v, true);
		s->pstop = v;
		break;
	case DP_BNRY:
		/* Host removed packets: ring not full, an overflow ends (s10.3 ISR.RST). */
		page_ptr_check(s, v, false);
		s->bnry = v;
		s->rx_full = false;
		if (s->rx_overflow) {
			s->rx_overflow = false;
			s->isr &= (uint8_t)~DP_ISR_RST;
		}
		break;
	case DP_TPSR:
		page_ptr_check(s, v, false);
		s->tpsr = v;
		break;
	case DP_TBCR0:
		s->tbcr = (uint16_t)((s->tbcr & 0xff00) | v);
		break;
	case DP_TBCR1:
		s->tbcr = (uint16_t)((s->tbcr & 0x00ff) | v << 8);
		break;
	case DP_ISR:
		/* Write 1 to clear; RST cannot be cleared this way (s10.3). */
		s->isr &= (uint8_t) ~(v & ISR_IRQ_MASK);
		break;
	case DP_RSAR0:
		s->rsar = (uint16_t)((s->rsar & 0xff00) | v);
		break;
	case DP_RSAR1:
		s->rsar = (uint16_t)((s->rsar & 0x00ff) | v << 8);
		break;
	case DP_RBCR0:
		s->rbcr = (uint16_t)((s->rbcr & 0xff00) | v);
		break;
	case DP_RBCR1:
		s->rbcr = (uint16_t)((s->rbcr & 0x00ff) | v << 8);
		break;
	case DP_RCR:
		s->rcr = v & 0x3f;
		break;
	case DP_TCR:
		s->tcr = v & 0x1f;
		break;
	case DP_DCR:
		s->dcr = v & 0x7f;
		break;
	case DP_IMR:
		s->imr = v & ISR_IRQ_MASK;
		break;
	}
}

static uint8_t read_page1(struct dp8390 *s, unsigned reg)
{
	if (reg >= DP_PAR0 && reg < DP_PAR0 + 6)
		return s->par[reg - DP_PAR0];
	if (reg == DP_CURR)
		return s->curr;
	return s->mar[reg - DP_MAR0];
}

static void write_page1(struct dp8390 *s, unsigned reg, uint8_t v)
{
	if (reg >= DP_PAR0 && reg < DP_PAR0 + 6) {
		s->par[reg - DP_PAR0] = v;
	} else if (reg == DP_CURR) {
		page_ptr_check(s, v, false);
		s->curr = v;
		s->rx_full = false; /* the host set it: equal pointers now mean empty */
	} else {
		s->mar[reg - DP_MAR0] = v;
	}
}

/* Page 2: diagnostic read-back of the page 0 write-only registers (s10.2). */
static uint8_t read_page2(struct dp8390 *s, unsigned reg)
{
	switch (reg) {
	case DP_PSTART:
		return s->pstart;
	case DP_PSTOP:
		return s->pstop;
	case DP_P2_RNPP:
		return s->rnpp;
	case DP_TPSR:
		return s->tpsr;
	case DP_P2_LNPP:
		return s->lnpp;
	case DP_P2_ACU:
		return (uint8_t)(s->clda >> 8);
	case DP_P2_ACL:
		return (uint8_t)s->clda;
	case DP_RCR:
		/* RTL8029AS: bits 7:6 read as 1. */
		return s->rtl8029 ? (uint8_t)(s->rcr | 0xc0) : s->rcr;
	case DP_TCR:
		return s->tcr;
	case DP_DCR:
		return s->dcr;
	case DP_IMR:
		return s->imr;
	}
	s->st.reserved_reg++;
	return 0xff;
}

/* Page 2 writes exist for chip testing only (s10.2 warns against them); keep them harmless. */
static void write_page2(struct dp8390 *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case DP_CLDA0:
		s->clda = (uint16_t)((s->clda & 0xff00) | v);
		return;
	case DP_CLDA1:
		s->clda = (uint16_t)((s->clda & 0x00ff) | v << 8);
		return;
	case DP_P2_RNPP:
		s->rnpp = v;
		return;
	case DP_P2_LNPP:
		s->lnpp = v;
		return;
	}
	s->st.reserved_reg++;
}

/* Page 3: RTL8029AS configuration registers; reserved on a plain DP8390. */
static uint8_t read_page3(struct dp8390 *s, unsigned reg)
{
	if (s->rtl8029) {
		switch (reg) {
		case DP_P3_9346CR:
			return s->rtl_9346cr;
		case DP_P3_BPAGE:
			return s->rtl_bpage;
		case DP_P3_CONFIG0:
			return 0; /* no BNC, no boot ROM jumpers */
		case DP_P3_CONFIG2:
			return s->rtl_config2;
		case DP_P3_CONFIG3:
			return s->rtl_config3;
		}
	}
	s->st.reserved_reg++;
	return 0xff;
}

static void write_page3(struct dp8390 *s, unsigned reg, uint8_t v)
{
	/* CONFIG2/3 are writable only in "config register write enable" mode (9346CR.EEM = 11). */
	bool cfg_we = (s->rtl_9346cr & 0xc0) == 0xc0;

	if (s->rtl8029) {
		switch (reg) {
		case DP_P3_9346CR:
			s->rtl_9346cr = v & 0xcf;
			return;
		case DP_P3_BPAGE:
			s->rtl_bpage = v;
			return;
		case DP_P3_CONFIG2:
			if (cfg_we)
				s->rtl_config2 = v & 0xe0;
			return;
		case DP_P3_CONFIG3:
			if (cfg_we)
				s->rtl_config3 = v & 0x76;
			return;
		case DP_P3_HLTCLK:
			return; /* clock halt/run: nothing to stop here */
		}
	}
	s->st.reserved_reg++;
}

uint8_t dp8390_read(struct dp8390 *s, unsigned reg)
{
	uint8_t v;

	reg &= 0x0f;
	pthread_mutex_lock(&s->lock);
	if (reg == DP_CR) {
		v = s->cr;
	} else {
		switch (s->cr >> DP_CR_PS_SHIFT) {
		case 0:
			v = read_page0(s, reg);
			break;
		case 1:
			v = read_page1(s, reg);
			break;
		case 2:
			v = read_page2(s, reg);
			break;
		default:
			v = read_page3(s, reg);
			break;
		}
	}
	irq_update(s); /* reading the tally counters cannot raise, but keep the line exact */
	pthread_mutex_unlock(&s->lock);
	return v;
}

void dp8390_write(struct dp8390 *s, unsigned reg, uint8_t val)
{
	reg &= 0x0f;
	pthread_mutex_lock(&s->lock);
	if (reg == DP_CR) {
		cr_write(s, val);
	} else {
		switch (s->cr >> DP_CR_PS_SHIFT) {
		case 0:
			write_page0(s, reg, val);
			break;
		case 1:
			write_page1(s, reg, val);
			break;
		case 2:
			write_page2(s, reg, val);
			break;
		default:
			write_page3(s, reg, val);
			break;
		}
	}
	irq_update(s);
	rx_maybe_ready(s);
	pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------------------------------------- */
/* Data port                                                                                     */

/* Bytes one data port access moves; also aligns word transfers (the chip ignores A0 then). */
static unsigned rdma_width(struct dp8390 *s, unsigned size)
{
	if (size >= 4)
		return 4;
	if (s->dcr & DP_DCR_WTS) {
		if (s->rsar & 1) {
			s->st.rdma_unaligned++;
			s->rsar &= (uint16_t)~1u;
		}
		return 2;
	}
	return size == 2 ? 2 : 1;
}

/* Byte lane of byte @i of a transfer: DCR.BOS swaps the two bytes of each 16-bit word. */
static unsigned rdma_lane(const struct dp8390 *s, unsigned i, unsigned width)
{
	return ((s->dcr & DP_DCR_BOS) && width >= 2) ? i ^ 1 : i;
}

static void rdma_count(struct dp8390 *s, unsigned n)
{
	s->rbcr = s->rbcr > n ? (uint16_t)(s->rbcr - n) : 0;
	if (s->rbcr == 0)
		rdma_complete(s);
}

uint32_t dp8390_data_read(struct dp8390 *s, unsigned size)
{
	uint32_t v = 0;
	unsigned n;

	pthread_mutex_lock(&s->lock);
	if (s->rdma != RDMA_READ) {
		s->st.rdma_idle++;
		pthread_mutex_unlock(&s->lock);
		return 0xffffffffu;
	}
	n = rdma_width(s, size);
	for (unsigned i = 0; i < n; i++) {
		v |= (uint32_t)mem_read(s, s->rsar) << (8 * rdma_lane(s, i, n));
		s->rsar = rdma_next(s, s->rsar);
	}
	rdma_count(s, n);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void dp8390_data_write(struct dp8390 *s, unsigned size, uint32_t val)
{
	unsigned n;

	pthread_mutex_lock(&s->lock);
	if (s->rdma != RDMA_WRITE) {
		s->st.rdma_idle++;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	n = rdma_width(s, size);
	for (unsigned i = 0; i < n; i++) {
		mem_write(s, s->rsar, (uint8_t)(val >> (8 * rdma_lane(s, i, n))));
		s->rsar = rdma_next(s, s->rsar);
	}
	rdma_count(s, n);
	pthread_mutex_unlock(&s->lock);
}

/* ---------------------------------------------------------------------------------------------- */
/* Life cycle                                                                                    */

void dp8390_reset(struct dp8390 *s)
{
	pthread_mutex_lock(&s->lock);
	reset_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static int fe_receive(void *opaque, const void *frame, size_t len)
{
	return dp8390_receive(opaque, frame, len);
}

static bool fe_can_receive(void *opaque)
{
	return dp8390_can_receive(opaque);
}

void dp8390_frontend(struct dp8390 *s, struct netdev_frontend *out)
{
	out->receive = fe_receive;
	out->can_receive = fe_can_receive;
	out->opaque = s;
}

void dp8390_set_backend(struct dp8390 *s, const struct netdev_backend *be)
{
	pthread_mutex_lock(&s->lock);
	if (be)
		s->be = *be;
	else
		memset(&s->be, 0, sizeof(s->be));
	pthread_mutex_unlock(&s->lock);
}

bool dp8390_irq_level(struct dp8390 *s)
{
	bool level;

	pthread_mutex_lock(&s->lock);
	level = s->irq_level;
	pthread_mutex_unlock(&s->lock);
	return level;
}

void dp8390_get_stats(struct dp8390 *s, struct dp8390_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}

int dp8390_create(const struct dp8390_cfg *cfg, struct dp8390 **out)
{
	struct dp8390 *s;

	if (!cfg || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return -ENOMEM;
	}
	snprintf(s->name, sizeof(s->name), "%s", cfg->name ? cfg->name : "dp8390");
	s->rtl8029 = cfg->rtl8029;
	s->irq = cfg->irq;
	s->be = cfg->backend;

	/*
	 * NE2000 station address PROM: MAC in bytes 0-5, 0x57 0x57 ("WW", word-wide board) in
	 * 14-15, each byte appearing twice because the 8-bit PROM sits on both halves of the data
	 * bus.
	 */
	uint8_t rom[DP8390_PROM_SIZE / 2] = {0};

	memcpy(rom, cfg->mac, 6);
	rom[14] = rom[15] = 0x57;
	for (unsigned i = 0; i < sizeof(rom); i++)
		s->prom[2 * i] = s->prom[2 * i + 1] = rom[i];
	memcpy(s->par, cfg->mac, 6);

	reset_locked(s);
	s->st.resets = 0;
	*out = s;
	return 0;
}

void dp8390_destroy(struct dp8390 *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
