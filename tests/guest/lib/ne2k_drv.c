// SPDX-License-Identifier: GPL-2.0-only
/*
 * Polled NE2000 driver for test guests (see ne2k_drv.h). Register semantics from the National
 * Semiconductor DP8390D datasheet (s7 buffer ring, s9 remote DMA, s10 registers, s11
 * initialization) and the RTL8029AS datasheet (ID bytes, reset port, PROM in word mode).
 */
#include "ne2k_drv.h"

#include "guest.h"

/* Port offsets in the I/O BAR (RTL8029AS: registers 0x00-0x0F, data port 0x10, reset 0x18-0x1F). */
#define NE_CR 0x00
#define NE_PSTART 0x01
#define NE_PSTOP 0x02
#define NE_BNRY 0x03
#define NE_TPSR 0x04
#define NE_TBCR0 0x05
#define NE_TBCR1 0x06
#define NE_ISR 0x07
#define NE_RSAR0 0x08
#define NE_RSAR1 0x09
#define NE_RBCR0 0x0a
#define NE_RBCR1 0x0b
#define NE_ID0 0x0a /* read, RTL8029 */
#define NE_ID1 0x0b
#define NE_RCR 0x0c
#define NE_TCR 0x0d
#define NE_CNTR0 0x0d
#define NE_DCR 0x0e
#define NE_IMR 0x0f
#define NE_PAR0 0x01 /* page 1 */
#define NE_CURR 0x07 /* page 1 */
#define NE_MAR0 0x08 /* page 1 */
#define NE_DATA 0x10
#define NE_RESET 0x1f

/* CR bits (s10.3): STP, STA, TXP, RD2-0, PS1-0. */
#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RREAD 0x08
#define CR_RWRITE 0x10
#define CR_SENDPKT 0x18
#define CR_NODMA 0x20
#define CR_PAGE1 0x40

#define ISR_PRX 0x01
#define ISR_PTX 0x02
#define ISR_TXE 0x08
#define ISR_OVW 0x10
#define ISR_RDC 0x40
#define ISR_RST 0x80

#define RSR_PRX 0x01
#define DCR_WORD_FIFO8 0x49 /* WTS (word transfers), LS (normal operation), FT1 (8-byte FIFO) */
#define RCR_AB 0x04
#define RCR_PRO 0x10
#define RCR_MON 0x20
#define TCR_LB_INTERNAL 0x02

#define RING_PAGES (NE2K_RX_STOP - NE2K_RX_START)

/* ---- PCI configuration mechanism #1 (PCI Local Bus 3.0 s3.2.2.3.2) ---- */

static uint32_t pci_cfg_read(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

static void pci_cfg_write(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

int ne2k_probe(struct ne2k *n, unsigned index)
{
	memset(n, 0, sizeof(*n));
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t bar;

		if (pci_cfg_read(slot, 0x00) != 0x802910ecu || index--)
			continue;
		bar = pci_cfg_read(slot, 0x10);
		if (!(bar & 1))
			return -NE2K_ENODEV; /* BAR0 must be I/O */
		if ((bar & ~3u) == 0) {
			/* Nobody placed it: do what firmware would. */
			pci_cfg_write(slot, 0x10, 0xc100u + slot * 0x20);
			bar = pci_cfg_read(slot, 0x10);
		}
		pci_cfg_write(slot, 0x04, pci_cfg_read(slot, 0x04) | 0x1); /* I/O space enable */
		n->io = (uint16_t)(bar & ~3u);
		n->slot = slot;
		return 0;
	}
	return -NE2K_ENODEV;
}

/* ---- registers ---- */

static void w(struct ne2k *n, unsigned reg, uint8_t v)
{
	n->st.io_accesses++;
	outb((uint16_t)(n->io + reg), v);
}

static uint8_t r(struct ne2k *n, unsigned reg)
{
	n->st.io_accesses++;
	return inb((uint16_t)(n->io + reg));
}

uint8_t ne2k_isr(struct ne2k *n)
{
	return r(n, NE_ISR);
}

/* Wait for ISR bits in @mask; returns the ISR value (not acknowledged) or 0 after the limit. */
static uint8_t isr_wait(struct ne2k *n, uint8_t mask)
{
	for (uint32_t i = 0; i < n->cfg.poll_limit; i++) {
		uint8_t isr = r(n, NE_ISR);

		if (isr & mask)
			return isr;
	}
	return 0;
}

/* Program a remote DMA (s9.0): byte count, start address, then the command in CR. */
static void rdma_start(struct ne2k *n, uint16_t addr, uint16_t count, uint8_t cmd)
{
	w(n, NE_RBCR0, (uint8_t)count);
	w(n, NE_RBCR1, (uint8_t)(count >> 8));
	w(n, NE_RSAR0, (uint8_t)addr);
	w(n, NE_RSAR1, (uint8_t)(addr >> 8));
	w(n, NE_CR, (uint8_t)(cmd | CR_STA));
}

/* The chip raises RDC when the byte count reaches zero; acknowledge it for the next transfer. */
static int rdma_finish(struct ne2k *n)
{
	if (!isr_wait(n, ISR_RDC)) {
		w(n, NE_CR, CR_NODMA | CR_STA);
		return -NE2K_ETIMEDOUT;
	}
	w(n, NE_ISR, ISR_RDC);
	return 0;
}

static inline void outsl(uint16_t port, const void *buf, unsigned long count)
{
	__asm__ volatile("rep outsl" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}

/*
 * Data port: string input reaches the VMM as one exit per page on KVM, so reads go by 16-bit
 * words (word mode) in one rep insw. String output exits once per element, so writes use the
 * RTL8029AS's 32-bit accesses (four bytes each whatever DCR.WTS says, as Linux's ne2k-pci uses
 * them) and halve the cost of a transmit. An odd last byte goes through a bounce word so neither
 * side's buffer is overrun.
 */
static void data_in(struct ne2k *n, void *buf, uint16_t count)
{
	uint8_t *p = buf;
	uint16_t tail;

	if (count >= 2) {
		n->st.io_accesses++;
		insw((uint16_t)(n->io + NE_DATA), p, count / 2u);
		p += count & ~1u;
	}
	if (count & 1) {
		n->st.io_accesses++;
		insw((uint16_t)(n->io + NE_DATA), &tail, 1);
		*p = (uint8_t)tail;
	}
}

static void data_out(struct ne2k *n, const void *buf, uint16_t count)
{
	const uint8_t *p = buf;

	if (!n->cfg.word_io && count >= 4) {
		n->st.io_accesses += count / 4u;
		outsl((uint16_t)(n->io + NE_DATA), p, count / 4u);
		p += count & ~3u;
		count &= 3;
	}
	if (count >= 2) {
		n->st.io_accesses += count / 2u;
		outsw((uint16_t)(n->io + NE_DATA), p, count / 2u);
		p += count & ~1u;
	}
	if (count & 1) {
		uint16_t tail = *p;

		n->st.io_accesses++;
		outsw((uint16_t)(n->io + NE_DATA), &tail, 1);
	}
}

static int block_in(struct ne2k *n, uint16_t addr, void *buf, uint16_t count)
{
	rdma_start(n, addr, count, CR_RREAD);
	data_in(n, buf, count);
	return rdma_finish(n);
}

/* CURR lives in page 1; switch there and back without changing the run state (CR.STA kept). */
static uint8_t read_curr(struct ne2k *n)
{
	uint8_t curr;

	w(n, NE_CR, CR_PAGE1 | CR_NODMA | CR_STA);
	curr = r(n, NE_CURR);
	w(n, NE_CR, CR_NODMA | CR_STA);
	return curr;
}

/* BNRY trails the next frame by one page in the Linux convention, equals it for Send Packet. */
static void bnry_update(struct ne2k *n)
{
	if (n->cfg.rx_mode == NE2K_RX_SEND_PACKET)
		w(n, NE_BNRY, n->next_pkt);
	else
		w(n, NE_BNRY, n->next_pkt == NE2K_RX_START ? NE2K_RX_STOP - 1 : n->next_pkt - 1);
}

int ne2k_init(struct ne2k *n, const struct ne2k_cfg *cfg)
{
	uint16_t prom[16];
	uint8_t rcr;

	memset(&n->st, 0, sizeof(n->st));
	if (cfg)
		n->cfg = *cfg;
	if (!n->cfg.poll_limit)
		n->cfg.poll_limit = 400000;

	/* Reset port: a read (or write) pulses RESET; ISR.RST shows it is done (RTL8029AS s5). */
	w(n, NE_RESET, r(n, NE_RESET));
	if (!isr_wait(n, ISR_RST))
		return -NE2K_ETIMEDOUT;
	if (r(n, NE_ID0) != 0x50 || r(n, NE_ID1) != 0x43)
		return -NE2K_EIO; /* not an RTL8029 ('P', 'C') */

	/* s11.0 initialization procedure, steps 1-4. */
	w(n, NE_CR, CR_NODMA | CR_STP);
	w(n, NE_DCR, DCR_WORD_FIFO8);
	w(n, NE_RBCR0, 0);
	w(n, NE_RBCR1, 0);
	w(n, NE_RCR, RCR_MON);
	w(n, NE_TCR, TCR_LB_INTERNAL);
	w(n, NE_ISR, 0xff);
	w(n, NE_IMR, 0);

	/*
	 * Station address PROM at 0x0000: the NE2000 puts its 8-bit PROM on the 16-bit bus, so in
	 * word mode each word holds one PROM byte twice. Bytes 14 and 15 are 'W' on NE2000 clones.
	 */
	if (block_in(n, 0, prom, sizeof(prom)))
		return -NE2K_ETIMEDOUT;
	for (int i = 0; i < 6; i++)
		n->mac[i] = (uint8_t)prom[i];
	if ((prom[14] & 0xff) != 0x57)
		return -NE2K_EIO;

	/* Steps 5-9: ring, ISR, IMR, page 1 (PAR, MAR, CURR). */
	w(n, NE_CR, CR_NODMA | CR_STP);
	w(n, NE_TPSR, NE2K_TX_PAGE);
	w(n, NE_PSTART, NE2K_RX_START);
	w(n, NE_PSTOP, NE2K_RX_STOP);
	n->next_pkt = n->cfg.rx_mode == NE2K_RX_SEND_PACKET ? NE2K_RX_START : NE2K_RX_START + 1;
	n->curr = n->next_pkt;
	bnry_update(n);
	w(n, NE_ISR, 0xff);
	w(n, NE_CR, CR_PAGE1 | CR_NODMA | CR_STP);
	for (int i = 0; i < 6; i++)
		w(n, NE_PAR0 + i, n->mac[i]);
	for (int i = 0; i < 8; i++)
		w(n, NE_MAR0 + i, 0);
	w(n, NE_CURR, n->next_pkt);

	/* Steps 10-11: start, then leave loopback and open the receiver. */
	w(n, NE_CR, CR_NODMA | CR_STA);
	w(n, NE_ISR, 0xff);
	w(n, NE_TCR, n->cfg.loopback ? TCR_LB_INTERNAL : 0);
	rcr = n->cfg.promiscuous ? (RCR_AB | RCR_PRO) : RCR_AB;
	w(n, NE_RCR, rcr);
	return 0;
}

int ne2k_send(struct ne2k *n, const void *frame, uint16_t len)
{
	uint8_t isr;

	if (len < 14 || len > NE2K_MAX_FRAME)
		return -NE2K_EMSGSIZE;
	/* Remote Write into the transmit buffer (s9.0), then Transmit (s8.0). */
	rdma_start(n, NE2K_TX_PAGE << 8, len, CR_RWRITE);
	data_out(n, frame, len);
	if (!isr_wait(n, ISR_RDC)) {
		w(n, NE_CR, CR_NODMA | CR_STA);
		n->st.tx_errors++;
		return -NE2K_ETIMEDOUT;
	}
	w(n, NE_TBCR0, (uint8_t)len);
	w(n, NE_TBCR1, (uint8_t)(len >> 8));
	w(n, NE_CR, CR_NODMA | CR_TXP | CR_STA);
	isr = isr_wait(n, ISR_PTX | ISR_TXE);
	/* One write acknowledges the remote DMA and the transmit together. */
	w(n, NE_ISR, ISR_RDC | ISR_PTX | ISR_TXE);
	if (!isr) {
		n->st.tx_errors++;
		return -NE2K_ETIMEDOUT;
	}
	if (!(isr & ISR_PTX)) {
		n->st.tx_errors++;
		return -NE2K_EIO;
	}
	n->st.tx_packets++;
	n->st.tx_bytes += len;
	return 0;
}

/* A header we cannot trust: resynchronise on CURR and drop whatever the ring held. */
static int ring_reset(struct ne2k *n)
{
	n->st.rx_bad_header++;
	w(n, NE_CR, CR_NODMA | CR_STA);
	n->curr = n->next_pkt = read_curr(n);
	bnry_update(n);
	return -NE2K_EIO;
}

/*
 * The receive header (s7.0): status (RSR), next page, byte count including the header. The
 * next-page pointer must follow from the count; the chip rounds up with room for the FCS, which
 * some chips count and some do not, so one page more is fine too (as Linux ei_receive allows).
 */
static bool header_ok(const struct ne2k *n, const uint8_t hdr[4])
{
	unsigned count = (unsigned)(hdr[2] | hdr[3] << 8), pages, next;

	if (!(hdr[0] & RSR_PRX) || hdr[1] < NE2K_RX_START || hdr[1] >= NE2K_RX_STOP)
		return false;
	if (count < 4 + NE2K_MIN_FRAME || count > 4 + NE2K_MAX_FRAME + 4)
		return false;
	pages = (count + 255) >> 8;
	next = n->next_pkt + pages;
	for (unsigned extra = 0; extra < 2; extra++, next++) {
		unsigned wrapped = next >= NE2K_RX_STOP ? next - RING_PAGES : next;

		if (wrapped == hdr[1])
			return true;
	}
	return false;
}

/* Remote Read of the header, then of the data (what Linux's 8390 core does). */
static int recv_remote_read(struct ne2k *n, void *buf, uint16_t cap, unsigned *lenp)
{
	uint8_t hdr[4];
	uint16_t addr = (uint16_t)(n->next_pkt << 8), len, take;

	if (block_in(n, addr, hdr, sizeof(hdr)))
		return -NE2K_ETIMEDOUT;
	if (!header_ok(n, hdr))
		return ring_reset(n);
	len = (uint16_t)((hdr[2] | hdr[3] << 8) - 4);
	take = len > cap ? cap : len;
	/* The chip wraps the DMA address from PSTOP to PSTART, so one transfer suffices. */
	if (take && block_in(n, (uint16_t)(addr + 4), buf, take))
		return -NE2K_ETIMEDOUT;
	n->next_pkt = hdr[1];
	bnry_update(n);
	*lenp = len;
	return 0;
}

/* Send Packet (s9.0): the chip loads RSAR from BNRY, RBCR from the header, then moves BNRY. */
static int recv_send_packet(struct ne2k *n, void *buf, uint16_t cap, unsigned *lenp)
{
	uint8_t hdr[4];
	uint16_t len, take;

	w(n, NE_CR, CR_SENDPKT | CR_STA);
	data_in(n, hdr, sizeof(hdr));
	if (!header_ok(n, hdr))
		return ring_reset(n);
	len = (uint16_t)((hdr[2] | hdr[3] << 8) - 4);
	take = len > cap ? cap : len;
	data_in(n, buf, take);
	if (take < len) {
		/* Truncated: end the transfer ourselves and free the pages by hand. */
		w(n, NE_CR, CR_NODMA | CR_STA);
		n->next_pkt = hdr[1];
		bnry_update(n);
		w(n, NE_ISR, ISR_RDC);
	} else {
		if (rdma_finish(n))
			return -NE2K_ETIMEDOUT;
		n->next_pkt = hdr[1];
	}
	*lenp = len;
	return 0;
}

int ne2k_recv(struct ne2k *n, void *buf, uint16_t cap)
{
	unsigned len = 0;
	int ret;

	if (n->next_pkt == n->curr) {
		uint8_t isr = r(n, NE_ISR);
		bool fresh_prx = isr & ISR_PRX;

		if (!(isr & (ISR_PRX | ISR_OVW)))
			return -NE2K_EAGAIN;
		/*
		 * An overflow (OVW) leaves the stored frames intact; taking them moves BNRY, which
		 * restarts the receiver (s7.0 "Buffer ring overflow").
		 */
		for (unsigned i = 0;; i++) {
			if (isr & ISR_OVW)
				n->st.rx_overflows++;
			/* Ack before reading CURR: a frame stored later raises PRX again. */
			w(n, NE_ISR, isr & (ISR_PRX | ISR_OVW));
			n->curr = read_curr(n);
			if (n->cfg.rx_mode != NE2K_RX_SEND_PACKET)
				break;
			/*
			 * Send Packet keeps BNRY on the next frame itself, so a ring filled to the
			 * last page shows CURR == BNRY, as an empty one does. Tell them apart by
			 * PRX: acknowledge until a read of ISR after the read of CURR shows no new
			 * frame, so every later PRX is for a frame beyond this CURR; one seen
			 * together with CURR back on our next frame means CURR went all the way
			 * round.
			 */
			isr = r(n, NE_ISR);
			if (!(isr & (ISR_PRX | ISR_OVW)))
				break;
			if (i == 64) {
				/* Frames keep coming: decide on this CURR alone. */
				fresh_prx = false;
				break;
			}
		}
		if (n->curr < NE2K_RX_START || n->curr >= NE2K_RX_STOP)
			return ring_reset(n);
		/* Remote Read keeps BNRY one page behind (as Linux does): CURR never reaches it. */
		if (n->curr == n->next_pkt && !(n->cfg.rx_mode == NE2K_RX_SEND_PACKET && fresh_prx))
			return -NE2K_EAGAIN;
	}
	if (n->cfg.rx_mode == NE2K_RX_SEND_PACKET)
		ret = recv_send_packet(n, buf, cap, &len);
	else
		ret = recv_remote_read(n, buf, cap, &len);
	if (ret)
		return ret;
	if (len > cap)
		n->st.rx_truncated++;
	n->st.rx_packets++;
	n->st.rx_bytes += len;
	return (int)(len > cap ? cap : len);
}

int ne2k_recv_wait(struct ne2k *n, void *buf, uint16_t cap)
{
	for (uint32_t i = 0; i < n->cfg.poll_limit; i++) {
		int ret = ne2k_recv(n, buf, cap);

		if (ret != -NE2K_EAGAIN)
			return ret;
	}
	return -NE2K_ETIMEDOUT;
}

void ne2k_tally(struct ne2k *n, uint8_t cntr[3])
{
	for (int i = 0; i < 3; i++)
		cntr[i] = r(n, NE_CNTR0 + (unsigned)i);
}
