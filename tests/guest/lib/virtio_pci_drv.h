/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freestanding virtio-pci modern driver (virtio 1.2 s4.1, driver side) for guest test programs:
 * PCI discovery through CF8/CFC, the vendor capabilities that locate the common/ISR/device/notify
 * structures (s4.1.4), the initialisation sequence of s3.1.1 and split virtqueues (s2.7) living
 * in caller-provided guest RAM; packed virtqueues (s2.8) instead when the caller negotiated
 * VIRTIO_F_RING_PACKED (same vpq_* calls, one descriptor per buffer). Polling only: queues are set
 * up without MSI-X vectors and with VRING_AVAIL_F_NO_INTERRUPT, so no interrupt is ever needed.
 *
 * Meant to run at CPL3 (the guest library's guest_enter_user()): every register access is an MMIO
 * or port I/O exit, so the data-path helpers (vpq_*) touch only guest RAM, plus the notify address
 * when the device asks for kicks. Not thread-safe: one vCPU drives one device.
 *
 * The device is not trusted blindly either: used-ring ids and lengths are range-checked and
 * counted (struct vpq.bad_used) instead of being followed.
 */
#ifndef NFV_GUEST_VIRTIO_PCI_DRV_H
#define NFV_GUEST_VIRTIO_PCI_DRV_H

#include <stdbool.h>
#include <stdint.h>

/* Device status bits (s2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Split ring layout (s2.7). */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* Packed ring layout (s2.8.13, s2.8.10). */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED (1u << 15)
#define VRING_PACKED_EVENT_FLAG_ENABLE 0
#define VRING_PACKED_EVENT_FLAG_DISABLE 1

struct vring_packed_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

struct vring_packed_event {
	uint16_t off_wrap;
	uint16_t flags;
};

/* Largest queue this driver sets up; a device offering more gets this size (s4.1.4.3.2). */
#define VPQ_MAX_SIZE 256
/* Bytes of guest RAM one queue of VPQ_MAX_SIZE needs (vpq_ring_mem): desc, avail, used (4 KiB
 * aligned parts, more than the s2.7 alignment asks for). */
#define VPQ_RING_MEM (3 * 4096)

/* One split virtqueue as the driver sees it. */
struct vpq {
	uint16_t index; /* queue number */
	uint16_t size;	/* entries (power of two) */
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint64_t notify_addr;	/* MMIO address to write the queue index to */
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated (s2.7.10) */
	uint16_t avail_idx;	/* next free avail slot (shadow of avail->idx) */
	uint16_t used_seen;	/* next used slot to consume */
	uint16_t kick_pending;	/* entries added since the last kick decision */
	uint64_t kicks;		/* notifications written */
	uint64_t kicks_skipped; /* suppressed by VRING_USED_F_NO_NOTIFY */
	uint64_t bad_used;	/* used entries with an out-of-range id or length */

	/*
	 * Packed ring (s2.8), when VIRTIO_F_RING_PACKED was negotiated; desc/avail/used are unused
	 * then. Ring memory: the descriptor ring, then (at +4096) the driver and device event
	 * suppression areas and the flags of made-available slots not yet published, then (at
	 * +8192) the buffers vpq_set_desc() described, by id.
	 */
	bool packed;
	volatile struct vring_packed_desc *pdesc;
	volatile struct vring_packed_event *drv_event, *dev_event;
	struct vring_desc *pk_buf; /* [size]: addr/len/flags per buffer id */
	uint16_t *pk_flags;	   /* [size]: flags to publish per slot */
	uint16_t pk_next;	   /* next slot to fill, and its wrap counter */
	bool pk_wrap;
	uint16_t pk_used; /* next slot the device marks used, and its wrap counter */
	bool pk_used_wrap;
};

/* Packed ring: the next available slot gets buffer @head (see vpq_add). */
void vpq_add_packed(struct vpq *q, uint16_t head);

/* A virtio-pci function: where its structures are and what was negotiated. */
struct vpci_dev {
	unsigned slot;	    /* PCI slot on bus 0 */
	uint16_t device_id; /* PCI device id (0x1040 + virtio id) */
	uint64_t bar[6];    /* decoded BAR addresses (memory BARs only; 64-bit in the low slot) */
	uint64_t common;    /* common configuration structure */
	uint64_t isr;
	uint64_t device; /* device-specific configuration */
	uint32_t device_len;
	uint64_t notify_base;
	uint32_t notify_mult;
	uint16_t num_queues;
	uint64_t features; /* negotiated */
	uint8_t msix_cap;  /* MSI-X capability offset, 0 if none */
};

/* PCI configuration space through CF8/CFC (bus 0, function 0). */
uint32_t vpci_cfg_read32(unsigned slot, unsigned off);
void vpci_cfg_write32(unsigned slot, unsigned off, uint32_t v);

/*
 * Find the @nth (0-based) virtio function with PCI device id @device_id (0x1041 for net) on bus 0
 * and fill @d from its capabilities. Enables memory decoding and bus mastering.
 * Returns 0, -19 (ENODEV) when there is no such function, -22 (EINVAL) when a required capability
 * is missing or points outside its BAR.
 */
int vpci_probe(struct vpci_dev *d, uint16_t device_id, unsigned nth);

uint8_t vpci_status(const struct vpci_dev *d);
void vpci_set_status(const struct vpci_dev *d, uint8_t status);
/* Write 0 to device_status and wait until it reads back 0 (s4.1.4.3.2). */
void vpci_reset(const struct vpci_dev *d);
/* The device's offered features (all 64 bits, through device_feature_select). */
uint64_t vpci_device_features(const struct vpci_dev *d);

/*
 * s3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, write @wanted & offered, FEATURES_OK and check that
 * it stuck. @required bits must all be offered. Returns 0 (d->features set) or -95 (EOPNOTSUPP)
 * when a required feature is missing or the device refused FEATURES_OK (status FAILED is set).
 */
int vpci_negotiate(struct vpci_dev *d, uint64_t wanted, uint64_t required);

/*
 * s3.1.1 step 7 for queue @index: use the device's queue_size capped at @max_size (a power of two
 * <= VPQ_MAX_SIZE), lay the rings out in @mem (VPQ_RING_MEM bytes, 4 KiB aligned, identity-mapped
 * guest RAM), no MSI-X vector, and enable the queue with interrupts suppressed. Returns 0, -19 when
 * the queue does not exist (size 0), -22 for a bad @max_size or @mem.
 */
int vpci_queue_setup(struct vpci_dev *d, struct vpq *q, uint16_t index, uint16_t max_size,
		     void *mem);
/* The same with MSI-X table entry @vector for the queue (VIRTIO_MSI_NO_VECTOR: none); interrupts
 * stay suppressed until vpq_irq_arm(). Also -5 (EIO) when the device refused the vector
 * (s4.1.5.1.2.1). */
int vpci_queue_setup_msix(struct vpci_dev *d, struct vpq *q, uint16_t index, uint16_t max_size,
			  void *mem, uint16_t vector);

/*
 * Program MSI-X table entries 0..@nvec-1 to deliver IDT vectors @idt_base + i to the local APIC
 * of CPU 0 (fixed, edge), unmasked, and enable MSI-X. Call before queue setup assigns vectors.
 * Returns 0, -19 without an MSI-X capability, -22 when @nvec exceeds the table.
 */
int vpci_msix_enable(struct vpci_dev *d, unsigned nvec, uint8_t idt_base);

/* s3.1.1 step 8. */
void vpci_driver_ok(const struct vpci_dev *d);

/* Device configuration reads, retried until config_generation is stable (s4.1.4.3.1): byte by
 * byte (byte arrays such as a MAC), or one field of its natural width (s4.1.3.1). Offsets past
 * the structure read as 0. */
void vpci_config_read(const struct vpci_dev *d, unsigned off, void *buf, unsigned len);
uint16_t vpci_config_read16(const struct vpci_dev *d, unsigned off);
uint32_t vpci_config_read32(const struct vpci_dev *d, unsigned off);

/* ---- split virtqueue data path (guest RAM only, plus the notify write in vpq_kick) ---- */

/* Fill descriptor @i (one buffer, no chaining). */
static inline void vpq_set_desc(struct vpq *q, uint16_t i, uint64_t addr, uint32_t len,
				uint16_t flags)
{
	if (q->packed) {
		/* The descriptor goes to whichever slot vpq_add() gives buffer @i. */
		q->pk_buf[i] = (struct vring_desc){addr, len, flags, 0};
		return;
	}
	q->desc[i].addr = addr;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = 0;
}

/* Put descriptor head @head in the next avail slot; visible to the device after vpq_publish(). */
static inline void vpq_add(struct vpq *q, uint16_t head)
{
	if (q->packed) {
		vpq_add_packed(q, head);
		return;
	}
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	q->kick_pending++;
}

/* Publish added entries (avail->idx) and notify the device unless it asked not to (s2.7.10). */
void vpq_publish(struct vpq *q);
/* Publish without notifying: for buffers made available before DRIVER_OK, when notifications are
 * not allowed yet (s3.1.1); vpq_kick() after DRIVER_OK. */
void vpq_publish_quiet(struct vpq *q);
/* Notify the device unconditionally (s4.1.5.2). */
void vpq_kick(struct vpq *q);

/*
 * Ask for an interrupt once the device has used @n more entries (with EVENT_IDX, used_event =
 * used_seen + n - 1; without, VRING_AVAIL_F_NO_INTERRUPT cleared: after any). Returns false when
 * entries are already waiting, i.e. the caller must not sleep; the check follows a full barrier,
 * so an entry used after it raises the interrupt (s2.7.10, s2.7.14).
 */
bool vpq_irq_arm(struct vpq *q, uint16_t n);
/* Suppress interrupts again (best effort with EVENT_IDX: the device may still send one). */
void vpq_irq_disarm(struct vpq *q);

/*
 * Take the next used entry: returns true with its descriptor id and written length, false when the
 * device has returned nothing new. Entries whose id is out of range are counted in bad_used and
 * skipped.
 */
bool vpq_get_used(struct vpq *q, uint16_t *id, uint32_t *len);

#endif
