/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freestanding polled virtio-net driver (virtio 1.2 s5.1) on virtio_pci_drv.h, for guest test
 * programs and benchmark guests running at CPL3.
 *
 * One queue pair: receiveq1 (queue 0) is kept full of VNET_BUF_SIZE buffers, transmitq1 (queue 1)
 * has one pre-assigned buffer per descriptor. Every buffer starts with the 12-byte
 * struct virtio_net_hdr (s5.1.6: VERSION_1 always uses the 12-byte header) followed by the frame;
 * callers see frames only. No offloads are negotiated, so the header is all zeroes on transmit and
 * ignored (besides num_buffers) on receive. Features: VERSION_1 (required), MAC and STATUS (when
 * offered), MRG_RXBUF optionally (VNET_OPT_MRG_RXBUF; frames spanning several buffers are dropped
 * and counted, which cannot happen with VNET_BUF_SIZE buffers and a 1518-byte MTU).
 *
 * Memory: struct vnet holds its rings and buffers (about 1.1 MiB); place it in .bss (static) with
 * 4 KiB alignment, which the guest linker script provides for .bss.
 */
#ifndef NFV_GUEST_VIRTIO_NET_DRV_H
#define NFV_GUEST_VIRTIO_NET_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci_drv.h"

#define VIRTIO_PCI_DEVICE_NET 0x1041
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define VNET_HDR_LEN 12
#define VNET_BUF_SIZE 2048
#define VNET_MAX_FRAME (VNET_BUF_SIZE - VNET_HDR_LEN)
#define VNET_QSIZE VPQ_MAX_SIZE

/* vnet_init() options. */
#define VNET_OPT_MRG_RXBUF 1u
/* MSI-X: receiveq1 on table entry 0 -> IDT vector GUEST_IRQ_BASE, transmitq1 on entry 1 ->
 * GUEST_IRQ_BASE + 1 (LAPIC of CPU 0; the caller enables its LAPIC); EVENT_IDX when offered.
 * Interrupts stay suppressed until vnet_rx_arm()/vnet_tx_arm(). */
#define VNET_OPT_IRQ 2u
/* Packed virtqueues (VIRTIO_F_RING_PACKED, virtio 1.2 s2.8) on both queues; vnet_init() fails
 * with -95 when the device does not offer them. */
#define VNET_OPT_PACKED 4u

struct vnet_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_bad;   /* runts (shorter than header + 14) or longer than the buffer */
	uint64_t rx_multi; /* dropped: spread over several buffers (num_buffers > 1) */
	uint64_t tx_full;  /* vnet_send refused: no free transmit descriptor */
};

struct vnet {
	uint8_t rx_ring[VPQ_RING_MEM] __attribute__((aligned(4096)));
	uint8_t tx_ring[VPQ_RING_MEM] __attribute__((aligned(4096)));
	uint8_t rx_buf[VNET_QSIZE][VNET_BUF_SIZE] __attribute__((aligned(4096)));
	uint8_t tx_buf[VNET_QSIZE][VNET_BUF_SIZE] __attribute__((aligned(4096)));
	struct vpci_dev pci;
	struct vpq rxq, txq;
	uint16_t tx_free[VNET_QSIZE]; /* stack of free transmit descriptors */
	uint16_t tx_nfree;
	uint16_t rx_skip; /* continuation buffers of a dropped multi-buffer frame */
	uint8_t mac[6];	  /* from device config when VIRTIO_NET_F_MAC, else zero */
	struct vnet_stats st;
};

/*
 * Probe the @nth virtio-net function, negotiate, set up both queues, fill the receive queue and
 * set DRIVER_OK. Returns 0 or -errno (-19 no device, -95 features refused, -22 queue setup).
 */
int vnet_init(struct vnet *n, unsigned nth, unsigned opts);

/* Link state from the device configuration (three MMIO exits: generation, status, generation);
 * true without VIRTIO_NET_F_STATUS (s5.1.4.2: the link is assumed up). */
bool vnet_link_up(struct vnet *n);
/* The device status byte (VIRTIO_STATUS_*), e.g. to notice DEVICE_NEEDS_RESET. */
uint8_t vnet_dev_status(struct vnet *n);

/*
 * Copy @len bytes of @frame (14..VNET_MAX_FRAME) into a free transmit buffer and queue it; the
 * device sees it at the next vnet_flush(). Returns 0, -11 (EAGAIN) when every transmit descriptor
 * is still held by the device (reclaims used ones first), -22 for a bad length.
 */
int vnet_send(struct vnet *n, const void *frame, uint32_t len);

/*
 * Zero-copy transmit: vnet_tx_buf() returns the frame area of a free transmit buffer (NULL when
 * none is free) for the caller to fill; vnet_tx_commit() queues it with @len bytes.
 */
uint8_t *vnet_tx_buf(struct vnet *n);
void vnet_tx_commit(struct vnet *n, uint32_t len);

/*
 * With VNET_OPT_IRQ: ask for the receive interrupt at the next frame (vnet_rx_arm), or for the
 * transmit interrupt once about three quarters of the frames in flight are done (vnet_tx_arm).
 * Both return false when there is already something to do (do not sleep then). Disarm after
 * waking.
 */
bool vnet_rx_arm(struct vnet *n);
bool vnet_tx_arm(struct vnet *n);
void vnet_rx_disarm(struct vnet *n);
void vnet_tx_disarm(struct vnet *n);

/* Publish queued transmit descriptors and kick the device if it wants kicks. */
void vnet_flush(struct vnet *n);

/* Reclaim transmit descriptors the device has used; returns how many. */
unsigned vnet_tx_reclaim(struct vnet *n);

/*
 * Receive up to @max frames: for each, @cb(@opaque, frame, len) is called with the frame in the
 * receive buffer (valid only during the call); the buffers then go back to the device (published
 * once per call). Returns the number of frames delivered.
 */
unsigned vnet_rx_burst(struct vnet *n, unsigned max,
		       void (*cb)(void *opaque, const uint8_t *frame, uint32_t len), void *opaque);

#endif
