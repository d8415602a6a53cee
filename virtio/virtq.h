/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device side of virtio virtqueues: split (virtio 1.2 s2.7) and packed (s2.8) layouts.
 *
 * The rings live in guest memory and every field in them is hostile input: the avail index, the
 * head numbers, each descriptor (address, length, flags, next) and indirect tables are read once,
 * into local copies, and checked before use. A driver that violates the ring protocol gets the
 * queue marked broken: the violation is counted per kind (vq->err[]), logged rate-limited, the
 * on_broken callback runs once (the transport sets DEVICE_NEEDS_RESET, virtio 1.2 s2.1.1) and
 * every later vq_pop() fails with -EIO until vq_reset()/vq_setup(). Nothing here aborts.
 *
 * Buffers are handed to the device as iovecs pointing into the host mapping of guest RAM (via
 * core/gmem.h, so each segment lies inside guest RAM); readable (driver->device) segments come
 * first, then writable ones (virtio 1.2 s2.7.4.2: the driver places device-writable descriptors
 * after device-readable ones).
 *
 * Locking: a struct vq is driven by one thread at a time (the caller serialises vq_pop, vq_push
 * and the notification calls). The guest side runs concurrently; the ring accesses use the
 * barriers the spec requires (s2.7.13, s2.7.7).
 */
#ifndef NFV_VIRTIO_VIRTQ_H
#define NFV_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "gmem.h"

/* Feature bits the virtqueue layer implements (virtio 1.2 s6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* Split ring layout (virtio 1.2 s2.7.5, s2.7.6, s2.7.8); all fields little-endian. */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Packed ring (virtio 1.2 s2.8): one descriptor ring plus two event suppression areas. */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED (1u << 15)
#define VRING_PACKED_EVENT_FLAG_ENABLE 0
#define VRING_PACKED_EVENT_FLAG_DISABLE 1
#define VRING_PACKED_EVENT_FLAG_DESC 2

struct vring_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct vring_packed_event {
	uint16_t off_wrap; /* bits 0-14 ring offset, bit 15 wrap counter */
	uint16_t flags;	   /* VRING_PACKED_EVENT_FLAG_* */
};

/* Largest split queue (virtio 1.2 s2.7: Queue Size up to 32768, a power of 2). */
#define VQ_MAX_SIZE 32768

/* Bytes of each ring part for a queue of @size entries (s2.7, table "Virtqueue Part Sizes"). */
static inline uint64_t vring_desc_bytes(unsigned size)
{
	return 16ull * size;
}
static inline uint64_t vring_avail_bytes(unsigned size)
{
	return 6ull + 2ull * size; /* flags, idx, ring[size], used_event */
}
static inline uint64_t vring_used_bytes(unsigned size)
{
	return 6ull + 8ull * size; /* flags, idx, ring[size], avail_event */
}

/* The kinds of driver error we count; vq_err_name() gives a short name for logs and stats. */
enum vq_err {
	VQ_ERR_RING,	  /* ring addresses misaligned or outside guest RAM at enable */
	VQ_ERR_AVAIL_IDX, /* avail->idx moved more than queue size ahead of us */
	VQ_ERR_HEAD,	  /* head index from the avail ring (packed: buffer id) >= queue size */
	VQ_ERR_NEXT,	  /* next index >= table size */
	VQ_ERR_CHAIN,	  /* loop, or chain longer than the ring / indirect table (packed:
			     or a chain running into a descriptor not yet available) */
	VQ_ERR_ADDR,	  /* buffer not inside guest RAM (or wraps) */
	VQ_ERR_ORDER,	  /* device-readable descriptor after a device-writable one */
	VQ_ERR_INDIRECT,  /* indirect table: feature off, size 0 / not a multiple of 16 / too
			     large / outside guest RAM, or INDIRECT together with NEXT */
	VQ_ERR_NESTED,	  /* indirect descriptor inside an indirect table */
	VQ_ERR_LEN,	  /* chain carries more than 2^32-1 bytes in total */
	VQ_ERR_IOV,	  /* more segments than the device accepts (beyond its seg_max) */
	VQ_ERR__MAX
};

const char *vq_err_name(enum vq_err e);

/* Ring addresses and size as the driver programmed them through the transport. */
struct vq_cfg {
	uint16_t size;	    /* split: power of two, 1..VQ_MAX_SIZE; packed: 1..VQ_MAX_SIZE */
	uint64_t desc_gpa;  /* 16-byte aligned */
	uint64_t avail_gpa; /* split: avail ring, 2-byte aligned; packed: driver event area, 4 */
	uint64_t used_gpa;  /* split: used ring, 4-byte aligned; packed: device event area, 4 */
	bool packed;	    /* VIRTIO_F_RING_PACKED negotiated */
	bool event_idx;	    /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	    /* VIRTIO_F_INDIRECT_DESC negotiated */
};

struct vq {
	struct gmem *gm;
	uint16_t index;	  /* queue number, for logs */
	const char *name; /* device name, for logs */

	/* Set by vq_setup from the checked configuration. */
	uint16_t size;
	bool event_idx, indirect;
	bool ready;  /* rings mapped; vq_pop/vq_push allowed */
	bool broken; /* driver violated the protocol; needs a reset */
	uint64_t desc_gpa;
	volatile uint16_t *avail;    /* host view: flags, idx, ring[size], used_event */
	volatile uint16_t *used_hdr; /* flags, idx */
	volatile struct vring_used_elem *used_ring;
	volatile uint16_t *avail_event;

	/* Packed ring state (s2.8): positions and wrap counters, buffer id -> descriptor count. */
	bool packed;
	volatile struct vring_packed_desc *pdesc;
	volatile struct vring_packed_event *driver_event; /* driver -> device: interrupts */
	volatile struct vring_packed_event *device_event; /* device -> driver: kicks */
	bool avail_wrap, used_wrap;
	uint16_t used_ctr;  /* free-running count of used ring slots (for event suppression) */
	uint16_t *pk_ndesc; /* allocated by vq_setup for packed queues, freed by vq_reset */

	/* Device state. */
	uint16_t last_avail;	 /* next avail slot we will consume */
	uint16_t used_idx;	 /* next used slot we will fill (shadow of used->idx) */
	uint16_t signalled_used; /* used_idx at the last interrupt (event idx) */
	bool signalled_valid;

	/* Notifications towards the driver and the transport. */
	void (*call)(void *opaque); /* raise the queue's interrupt (MSI-X vector / irqfd) */
	void *call_opaque;
	void (*on_broken)(struct vq *vq, void *opaque); /* once, when the queue breaks */
	void *broken_opaque;

	/* Statistics (read racily by stats readers). */
	uint64_t err[VQ_ERR__MAX];
	uint64_t popped, pushed, calls, suppressed_calls;
};

/* One popped descriptor chain. iov[0..n_out) is device-readable, iov[n_out..n_out+n_in) writable.
 */
struct vq_elem {
	uint16_t head;
	uint16_t n_out, n_in;
	uint32_t out_len, in_len; /* total bytes of each part */
	struct iovec *iov;	  /* caller-provided storage */
	uint16_t max_iov;	  /* its capacity */
};

/* Zero the queue and give it its guest memory and names; it is not ready until vq_setup(). */
void vq_init(struct vq *vq, struct gmem *gm, const char *name, uint16_t index);

/*
 * Check @cfg (size, alignment, every ring part inside guest RAM) and map the rings. Resets the
 * indices (split: 0, s2.7; packed: index 0 with wrap counters 1, s2.8.1) and clears "broken".
 * Returns 0, -ENOMEM (packed bookkeeping), or -EINVAL (counted as VQ_ERR_RING, logged
 * rate-limited) leaving the queue not ready.
 */
int vq_setup(struct vq *vq, const struct vq_cfg *cfg) __attribute__((warn_unused_result));

/* Forget the rings (queue reset / device reset) and free packed bookkeeping; keeps counters. */
void vq_reset(struct vq *vq);

/*
 * Pop the next available chain into @elem (whose iov/max_iov the caller set).
 * Returns 1 with *elem filled, 0 when the ring is empty, -EIO when the queue is (or just became)
 * broken or not ready. The chain must later be returned with vq_push(elem->head, ...).
 */
int vq_pop(struct vq *vq, struct vq_elem *elem) __attribute__((warn_unused_result));

/*
 * Number of chains the driver made available that we have not popped (0 if broken/not ready);
 * for packed rings only 0 or 1 (whether the next descriptor is available).
 */
uint16_t vq_avail_count(struct vq *vq);

/*
 * Return chain @head to the driver with @len bytes written into its writable part (s2.7.8):
 * write the used element, then publish used->idx with release semantics.
 */
void vq_push(struct vq *vq, uint16_t head, uint32_t len);

/*
 * Used buffer notification decision (s2.7.7): true when the driver wants an interrupt for what
 * was pushed since the last call (flags NO_INTERRUPT, or used_event with VIRTIO_F_EVENT_IDX).
 */
bool vq_needs_call(struct vq *vq);

/* vq_needs_call() and, if true, vq->call(); counts calls and suppressed calls. */
void vq_call_if_needed(struct vq *vq);

/*
 * Available buffer notification suppression (s2.7.10), for devices that poll after a kick:
 * vq_disable_notify() asks the driver not to kick; vq_enable_notify() asks it to kick again and
 * returns true when buffers arrived in the meantime (the caller must then keep polling).
 */
void vq_disable_notify(struct vq *vq);
bool vq_enable_notify(struct vq *vq);

/* Mark the queue broken from the device side (e.g. a device-level protocol violation). */
void vq_set_broken(struct vq *vq, enum vq_err why);

/* vring_need_event() of s2.7.7.2: did the index move past @event going from @old to @new? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
