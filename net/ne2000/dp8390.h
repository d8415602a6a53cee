/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * National Semiconductor DP8390 / DP83901 network interface controller, as wired on an NE2000
 * (and on the Realtek RTL8029AS, the NE2000-compatible PCI chip this model also covers).
 *
 * This file is the chip only: sixteen 8-bit registers in four pages selected by CR.PS, the remote
 * DMA channel behind the NE2000 data port, 32 KiB of packet buffer RAM at 0x4000-0xBFFF of the
 * chip's 64 KiB local address space, the station address PROM at 0x0000-0x001F (each byte doubled,
 * as the 8-bit PROM appears on the NE2000's 16-bit bus), the receive buffer ring and the transmit
 * path. Bus glue (ISA/PCI decoding, the reset port) calls the entry points below with register
 * offsets 0x00-0x0F; it never touches chip state.
 *
 * Every register value comes from the guest and is treated as hostile: addresses are bounded to the
 * chip's memories, page pointers are checked where they are used, and anything out of range is
 * counted in struct dp8390_stats (and logged rate-limited, except on the data-port path).
 *
 * Deliberate simplifications (a wire delivers whole, good frames instantly):
 *  - transmission and reception complete inside the call that starts them; CR.TXP reads back 0;
 *  - no CRC/alignment errors ever occur, so CNTR0/CNTR1 stay 0 and RCR.SEP has no effect;
 *  - frames shorter than 60 bytes from the backend are padded with zeros as the sending station's
 *    MAC would have done (IEEE 802.3 s4.2.3.3), so RCR.AR has no visible effect;
 *  - the FCS is neither stored nor counted in the ring header's byte count;
 *  - loopback modes (TCR.LB != 0) hand the transmitted frame to the chip's own receive logic and
 *    keep frames from the wire out, whatever DCR.LS says.
 *
 * Locking: every entry point takes the chip's mutex, so vCPU threads (registers, data port) and a
 * backend thread (dp8390_receive) may call concurrently. The backend's send()/rx_ready() and the
 * irq_line callback are called with that mutex held: they must not call back into this chip.
 */
#ifndef NFV_NET_NE2000_DP8390_H
#define NFV_NET_NE2000_DP8390_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irq.h"
#include "netdev.h"

#define DP8390_NREGS 16
#define DP8390_PROM_SIZE 32u	 /* 0x0000-0x001F of the local address space */
#define DP8390_RAM_START 0x4000u /* NE2000 16-bit mode: 32 KiB of buffer RAM */
#define DP8390_RAM_SIZE 0x8000u
#define DP8390_RAM_END (DP8390_RAM_START + DP8390_RAM_SIZE)
#define DP8390_PAGE_SIZE 256u

/* Register offsets (DP8390D datasheet s10.1, register address map). Page 0, read / write. */
#define DP_CR 0x00
#define DP_CLDA0 0x01  /* R */
#define DP_PSTART 0x01 /* W */
#define DP_CLDA1 0x02  /* R */
#define DP_PSTOP 0x02  /* W */
#define DP_BNRY 0x03
#define DP_TSR 0x04   /* R */
#define DP_TPSR 0x04  /* W */
#define DP_NCR 0x05   /* R */
#define DP_TBCR0 0x05 /* W */
#define DP_FIFO 0x06  /* R */
#define DP_TBCR1 0x06 /* W */
#define DP_ISR 0x07
#define DP_CRDA0 0x08	/* R */
#define DP_RSAR0 0x08	/* W */
#define DP_CRDA1 0x09	/* R */
#define DP_RSAR1 0x09	/* W */
#define DP_RTL_ID0 0x0a /* R, RTL8029: 0x50 ('P') */
#define DP_RBCR0 0x0a	/* W */
#define DP_RTL_ID1 0x0b /* R, RTL8029: 0x43 ('C') */
#define DP_RBCR1 0x0b	/* W */
#define DP_RSR 0x0c	/* R */
#define DP_RCR 0x0c	/* W */
#define DP_CNTR0 0x0d	/* R: frame alignment errors */
#define DP_TCR 0x0d	/* W */
#define DP_CNTR1 0x0e	/* R: CRC errors */
#define DP_DCR 0x0e	/* W */
#define DP_CNTR2 0x0f	/* R: missed packets */
#define DP_IMR 0x0f	/* W */
/* Page 1, read/write. */
#define DP_PAR0 0x01 /* .. 0x06 */
#define DP_CURR 0x07
#define DP_MAR0 0x08 /* .. 0x0f */
/* Page 2 (diagnostic): reads return the write-only page 0 registers. */
#define DP_P2_RNPP 0x03
#define DP_P2_LNPP 0x05
#define DP_P2_ACU 0x06
#define DP_P2_ACL 0x07
/* Page 3, RTL8029AS only. */
#define DP_P3_9346CR 0x01
#define DP_P3_BPAGE 0x02
#define DP_P3_CONFIG0 0x03
#define DP_P3_CONFIG2 0x05
#define DP_P3_CONFIG3 0x06
#define DP_P3_HLTCLK 0x09

/* CR */
#define DP_CR_STP 0x01
#define DP_CR_STA 0x02
#define DP_CR_TXP 0x04
#define DP_CR_RD_MASK 0x38
#define DP_CR_RD_READ 0x08
#define DP_CR_RD_WRITE 0x10
#define DP_CR_RD_SEND 0x18
#define DP_CR_RD_ABORT 0x20
#define DP_CR_PS_MASK 0xc0
#define DP_CR_PS_SHIFT 6
/* ISR / IMR */
#define DP_ISR_PRX 0x01
#define DP_ISR_PTX 0x02
#define DP_ISR_RXE 0x04
#define DP_ISR_TXE 0x08
#define DP_ISR_OVW 0x10
#define DP_ISR_CNT 0x20
#define DP_ISR_RDC 0x40
#define DP_ISR_RST 0x80
/* DCR */
#define DP_DCR_WTS 0x01
#define DP_DCR_BOS 0x02
#define DP_DCR_LAS 0x04
#define DP_DCR_LS 0x08
/* TCR */
#define DP_TCR_CRC 0x01
#define DP_TCR_LB_MASK 0x06
/* RCR */
#define DP_RCR_SEP 0x01
#define DP_RCR_AR 0x02
#define DP_RCR_AB 0x04
#define DP_RCR_AM 0x08
#define DP_RCR_PRO 0x10
#define DP_RCR_MON 0x20
/* RSR */
#define DP_RSR_PRX 0x01
#define DP_RSR_MPA 0x10
#define DP_RSR_PHY 0x20
#define DP_RSR_DIS 0x40
/* TSR */
#define DP_TSR_PTX 0x01
#define DP_TSR_ABT 0x08

struct dp8390;

struct dp8390_cfg {
	const char *name;    /* for log messages; NULL: "dp8390" */
	uint8_t mac[6];	     /* station address stored in the PROM (and preset in PAR0-5) */
	struct irq_line irq; /* level = (ISR & IMR) != 0; may be left empty */
	struct netdev_backend backend; /* may be left empty and set later */
	bool rtl8029; /* RTL8029AS: ID bytes at page 0 0x0A/0x0B and page 3 registers */
};

/* Monotonic counters; the guest-caused ones are the reason this struct exists. */
struct dp8390_stats {
	uint64_t rx_packets, rx_bytes; /* stored in the ring */
	uint64_t rx_filtered;	       /* not for us (RCR address filter) */
	uint64_t rx_monitor;	       /* matched but not stored: RCR.MON */
	uint64_t rx_stopped;	       /* dropped: receiver stopped (STP) or in loopback */
	uint64_t rx_no_room;	       /* dropped: ring full / overflow pending (OVW, CNTR2) */
	uint64_t rx_overflows;	       /* entries into the overflow state (OVW set) */
	uint64_t rx_oversize;	       /* dropped: longer than NETDEV_MAX_FRAME */
	uint64_t rx_padded;	       /* shorter than 60 bytes, padded */
	uint64_t rx_bad_ring; /* dropped: PSTART/PSTOP/CURR do not describe a ring in RAM */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_padded;	 /* TBCR < 60: padded with zeros */
	uint64_t tx_bad;	 /* aborted: frame outside RAM or longer than the maximum */
	uint64_t tx_stopped;	 /* TXP while the chip is stopped: ignored */
	uint64_t tx_backend_err; /* backend send() failed (frame lost on the "wire") */
	uint64_t tx_loopback;	 /* transmitted into our own receiver (TCR.LB) */
	uint64_t rdma_oob;  /* remote DMA bytes outside PROM/RAM (reads 0xff, writes dropped) */
	uint64_t rdma_idle; /* data port accesses with no remote DMA in progress */
	uint64_t rdma_unaligned; /* word transfers from an odd address (aligned down) */
	uint64_t bad_cr;	 /* CR writes with RD = 000 ("not allowed") */
	uint64_t reserved_reg;	 /* accesses to reserved / read-only registers */
	uint64_t bad_page_ptr;	 /* PSTART/PSTOP/BNRY/CURR/TPSR written outside buffer RAM */
	uint64_t resets;	 /* hardware resets (reset port) */
};

/* Allocate and reset a chip. 0, -EINVAL (cfg NULL) or -ENOMEM. */
int dp8390_create(const struct dp8390_cfg *cfg, struct dp8390 **out)
	__attribute__((warn_unused_result));
/* NULL-safe. No entry point may be running or called afterwards. */
void dp8390_destroy(struct dp8390 *s);

/* Replace the backend (NULL: none; transmitted frames are then counted and lost). */
void dp8390_set_backend(struct dp8390 *s, const struct netdev_backend *be);
/* The netdev_frontend a backend uses to feed this chip (dp8390_receive/can_receive). */
void dp8390_frontend(struct dp8390 *s, struct netdev_frontend *out);

/* Register access: @reg 0x00-0x0F in the page CR.PS selects; other bits of @reg are ignored. */
uint8_t dp8390_read(struct dp8390 *s, unsigned reg);
void dp8390_write(struct dp8390 *s, unsigned reg, uint8_t val);

/*
 * Data port (remote DMA). @size 1, 2 or 4. In word mode (DCR.WTS) 1- and 2-byte accesses move one
 * 16-bit word; in byte mode a 1-byte access moves a byte and a 2-byte access two bytes; 4-byte
 * accesses (RTL8029 32-bit I/O) move four bytes. Bytes are assembled little-endian (DCR.BOS swaps
 * the bytes of each word). Without a remote DMA in progress reads return all-ones and writes are
 * dropped (counted). Cheap and silent: rep insw/outsw call this once per element.
 */
uint32_t dp8390_data_read(struct dp8390 *s, unsigned size);
void dp8390_data_write(struct dp8390 *s, unsigned size, uint32_t val);

/*
 * Hardware reset (RESET pin, the NE2000 reset port): CR = STP|RD2 (page 0), ISR = RST, IMR = 0,
 * DCR.LAS set, TCR loopback mode 1, remote DMA aborted, overflow state cleared. Other registers
 * and the buffer RAM keep their contents, as on the chip.
 */
void dp8390_reset(struct dp8390 *s);

/*
 * A frame from the wire (no FCS). Runs the address filter (RCR, PAR, MAR) and stores it in the
 * receive ring with its 4-byte header (receive status, next page, byte count low/high), raising
 * ISR.PRX. Returns 0 (stored, or not for us, or seen in monitor mode), -ENOBUFS (the ring has no
 * room: OVW/RST set on the first refusal, CNTR2 counts, nothing more is stored until the guest
 * writes BNRY or restarts the chip with STP then STA), -ENETDOWN (stopped or loopback) or
 * -EMSGSIZE (longer than NETDEV_MAX_FRAME).
 */
int dp8390_receive(struct dp8390 *s, const void *frame, size_t len)
	__attribute__((warn_unused_result));
/* True when a NETDEV_MAX_FRAME-byte frame would be stored now. */
bool dp8390_can_receive(struct dp8390 *s);

/* Current level of the interrupt output ((ISR & IMR) != 0). */
bool dp8390_irq_level(struct dp8390 *s);
void dp8390_get_stats(struct dp8390 *s, struct dp8390_stats *out);

/*
 * Multicast filter bit for a destination address: 0..63 (MAR byte = index / 8, bit = index % 8),
 * the six most significant bits of the Ethernet CRC-32 of the address (DP8390D s7.0, "Multicast
 * address filtering"). Exposed for drivers and tests that program MAR0-7.
 */
unsigned dp8390_mcast_index(const uint8_t mac[6]);

#endif
