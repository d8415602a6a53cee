/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Polled NE2000 (RTL8029AS, PCI 10ec:8029) driver for freestanding test guests. Runs at CPL3:
 * every register access is a port I/O exit, so the driver keeps their number down (32-bit string
 * I/O for the data port, one ISR read per idle poll, Send Packet for reception when asked to).
 *
 * Chip memory as this driver lays it out (NE2000 16-bit mode, 32 KiB at pages 0x40-0x7F):
 *     0x40-0x45  transmit buffer (6 pages: one maximum frame)
 *     0x46-0x7F  receive ring (PSTART 0x46, PSTOP 0x80)
 *
 * Not thread-safe: one vCPU drives one struct ne2k. Interrupts stay masked (IMR = 0); completion is
 * found by polling ISR (DP8390D datasheet s10.3).
 *
 * Errors are negative errno values (the numbers Linux uses), defined below for a libc-less guest.
 */
#ifndef NFV_GUEST_NE2K_DRV_H
#define NFV_GUEST_NE2K_DRV_H

#include <stdbool.h>
#include <stdint.h>

#define NE2K_EIO 5
#define NE2K_EAGAIN 11
#define NE2K_ENODEV 19
#define NE2K_EINVAL 22
#define NE2K_EMSGSIZE 90
#define NE2K_ETIMEDOUT 110

#define NE2K_MAX_FRAME 1514 /* without FCS */
#define NE2K_MIN_FRAME 60

/* Transmit and receive ring pages (see above). */
#define NE2K_TX_PAGE 0x40
#define NE2K_RX_START 0x46
#define NE2K_RX_STOP 0x80

/* ne2k_cfg.mode */
enum ne2k_rx_mode {
	/* Header then data by two Remote Reads, BNRY = next - 1 (as Linux's ei_receive). */
	NE2K_RX_REMOTE_READ,
	/*
	 * One Send Packet command per frame; the chip moves BNRY (s9.0). Costs a third of the
	 * exits of Remote Read, but BNRY = next frame makes a ring filled to the last page look
	 * empty: the driver tells the two apart by ISR.PRX, which it keeps acknowledged until a
	 * read of CURR is followed by a quiet ISR (one more exit per batch of frames).
	 */
	NE2K_RX_SEND_PACKET,
};

struct ne2k_cfg {
	enum ne2k_rx_mode rx_mode;
	bool loopback;	     /* TCR LB=01: frames sent come back into our own ring, wire ignored */
	bool promiscuous;    /* RCR.PRO (otherwise our address and broadcast: RCR.AB) */
	bool word_io;	     /* transmit by 16-bit words only (default: 32-bit, RTL8029AS) */
	uint32_t poll_limit; /* register polls before a wait gives up; 0: 400000 */
};

struct ne2k_stats {
	uint64_t tx_packets, tx_bytes, tx_errors;
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_bad_header; /* ring header that cannot be right: ring reset */
	uint64_t rx_truncated;	/* frame longer than the caller's buffer: cut */
	uint64_t rx_overflows;	/* ISR.OVW seen */
	uint64_t io_accesses;	/* port accesses made: one per register access and per string input
				 * (KVM batches rep ins), one per element of string output (rep outs
				 * exits once per element) */
};

struct ne2k {
	uint16_t io;	/* I/O BAR 0 base */
	unsigned slot;	/* PCI device number on bus 0 */
	uint8_t mac[6]; /* from the PROM */
	struct ne2k_cfg cfg;
	uint8_t next_pkt; /* ring page of the next frame to take */
	uint8_t curr;	  /* last CURR read: frames in [next_pkt, curr) are ready */
	struct ne2k_stats st;
};

/*
 * Find the @index-th (from 0) RTL8029 on PCI bus 0 through configuration mechanism #1, place its
 * I/O BAR if nothing did, enable I/O decoding. 0 or -NE2K_ENODEV.
 */
int ne2k_probe(struct ne2k *n, unsigned index) __attribute__((warn_unused_result));

/*
 * Reset the chip (reset port), check the RTL8029 ID, read the station address from the PROM by
 * remote DMA, set up DCR (word mode), RCR, TCR, the ring (PSTART/PSTOP/BNRY/CURR) and PAR, start.
 * @cfg may be NULL (defaults); counters start again from zero. 0, -NE2K_EIO (chip did not behave)
 * or -NE2K_ETIMEDOUT.
 */
int ne2k_init(struct ne2k *n, const struct ne2k_cfg *cfg) __attribute__((warn_unused_result));

/*
 * Copy @len bytes (14..NE2K_MAX_FRAME; the chip pads short frames) into the transmit buffer by
 * remote DMA write (rep outsw), start the transmitter and wait for PTX or TXE.
 * 0, -NE2K_EMSGSIZE, -NE2K_EIO (TXE) or -NE2K_ETIMEDOUT.
 */
int ne2k_send(struct ne2k *n, const void *frame, uint16_t len) __attribute__((warn_unused_result));

/*
 * Take the next received frame, if any, into @buf (@cap bytes, frames longer are cut). Returns its
 * length (> 0), -NE2K_EAGAIN when the ring is empty (one ISR read when it was empty last time too),
 * -NE2K_EIO after a ring header that cannot be right (the ring is reset), -NE2K_ETIMEDOUT if the
 * remote DMA did not complete.
 */
int ne2k_recv(struct ne2k *n, void *buf, uint16_t cap) __attribute__((warn_unused_result));

/* ne2k_recv until a frame arrives or cfg.poll_limit empty polls have passed (-NE2K_ETIMEDOUT). */
int ne2k_recv_wait(struct ne2k *n, void *buf, uint16_t cap) __attribute__((warn_unused_result));

/* ISR as it reads now (page 0). */
uint8_t ne2k_isr(struct ne2k *n);

/* Chip counters CNTR0-2 (alignment, CRC, missed frames); reading clears them on a real DP8390. */
void ne2k_tally(struct ne2k *n, uint8_t cntr[3]);

#endif
