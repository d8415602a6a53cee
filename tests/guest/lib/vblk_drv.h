/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freestanding polled virtio-blk driver (virtio 1.2 s5.2) on virtio_pci_drv.h, for guest test
 * programs and benchmark guests running at CPL3.
 *
 * One request queue (queue 0). Every request is a chain of three descriptors (s5.2.6): the 16-byte
 * header (device-readable), the data buffer (device-readable for writes, device-writable for reads
 * and GET_ID; absent for FLUSH) and the status byte (device-writable). Request slot i always uses
 * descriptors 3i..3i+2, so up to VBLK_MAX_INFLIGHT requests can be outstanding; the slot number is
 * the tag callers get back. Completion is found by polling the used ring (no interrupts, no exits);
 * submitting costs one notify write unless the device suppressed notifications.
 *
 * Data buffers are the caller's: identity-mapped guest memory (address = guest physical address),
 * whole 512-byte sectors for reads and writes. Features: VERSION_1 (required), SEG_MAX, BLK_SIZE,
 * FLUSH and RO when offered; nothing else (no EVENT_IDX, indirect or packed rings).
 *
 * Memory: struct vblk holds its ring (12 KiB) and request headers; place it in .bss (static), which
 * the guest linker script aligns to 4 KiB. Not thread-safe: one vCPU drives one device.
 *
 * Errors are negative errno values as Linux numbers them.
 */
#ifndef NFV_GUEST_VBLK_DRV_H
#define NFV_GUEST_VBLK_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio_pci_drv.h"

#define VIRTIO_PCI_DEVICE_BLK 0x1042

#define VBLK_F_SEG_MAX 2
#define VBLK_F_RO 5
#define VBLK_F_BLK_SIZE 6
#define VBLK_F_FLUSH 9

/* Request types and status values (s5.2.6). */
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_T_FLUSH 4
#define VBLK_T_GET_ID 8
#define VBLK_S_OK 0
#define VBLK_S_IOERR 1
#define VBLK_S_UNSUPP 2
#define VBLK_ID_BYTES 20

#define VBLK_SECTOR 512u
#define VBLK_QSIZE 128
#define VBLK_MAX_INFLIGHT (VBLK_QSIZE / 3)

#define VBLK_EIO 5
#define VBLK_EAGAIN 11
#define VBLK_ENODEV 19
#define VBLK_EINVAL 22
#define VBLK_EROFS 30
#define VBLK_EOPNOTSUPP 95
#define VBLK_ETIMEDOUT 110

struct vblk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk_stats {
	uint64_t reads, writes, flushes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t errors;   /* completions with a status other than OK */
	uint64_t bad_used; /* used entries naming no outstanding request */
};

struct vblk {
	uint8_t ring[VPQ_RING_MEM] __attribute__((aligned(4096)));
	struct vblk_req_hdr hdr[VBLK_MAX_INFLIGHT];
	volatile uint8_t status[VBLK_MAX_INFLIGHT];
	bool busy[VBLK_MAX_INFLIGHT];
	uint16_t nbusy;
	struct vpci_dev pci;
	struct vpq q;
	uint64_t capacity;    /* in 512-byte sectors (device configuration) */
	uint32_t blk_size;    /* 512 unless VIRTIO_BLK_F_BLK_SIZE says otherwise */
	uint32_t seg_max;     /* 0 unless VIRTIO_BLK_F_SEG_MAX */
	bool readonly;	      /* VIRTIO_BLK_F_RO negotiated */
	bool has_flush;	      /* VIRTIO_BLK_F_FLUSH negotiated */
	uint64_t timeout_tsc; /* TSC ticks vblk_rw waits for a completion; 0: 1 << 35
			       * (16 s at 2.1 GHz) */
	struct vblk_stats st;
};

/*
 * Probe the @nth virtio-blk function, negotiate, read the configuration, set up queue 0 and set
 * DRIVER_OK. 0 or -errno (-VBLK_ENODEV no device, -VBLK_EOPNOTSUPP features refused, -VBLK_EINVAL
 * queue setup failed).
 */
int vblk_init(struct vblk *b, unsigned nth) __attribute__((warn_unused_result));

/*
 * Queue one request without waiting: @type VBLK_T_IN/OUT (@len a non-zero multiple of 512),
 * VBLK_T_FLUSH (@buf NULL, @len 0) or VBLK_T_GET_ID (@len up to 20). The request is visible to the
 * device after vblk_kick(). Returns the tag (>= 0), -VBLK_EAGAIN when VBLK_MAX_INFLIGHT requests
 * are outstanding, -VBLK_EINVAL for a bad type/length. Nothing is checked against the capacity: the
 * device must refuse what lies beyond it.
 */
int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
	__attribute__((warn_unused_result));

/* Publish queued requests and notify the device unless it asked not to be notified. */
void vblk_kick(struct vblk *b);

/*
 * Take one completion if there is one: true with its tag and status byte (VBLK_S_*); the tag is
 * free again. false when nothing completed.
 */
bool vblk_complete(struct vblk *b, int *tag, uint8_t *status);

/* Submit, kick and wait for that request (others outstanding must be none). Returns 0,
 * -VBLK_EIO (status IOERR), -VBLK_EOPNOTSUPP (UNSUPP) or -VBLK_ETIMEDOUT / submit's errors. */
int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
	__attribute__((warn_unused_result));
static inline int vblk_read(struct vblk *b, uint64_t sector, void *buf, uint32_t len)
{
	return vblk_rw(b, VBLK_T_IN, sector, buf, len);
}
static inline int vblk_write(struct vblk *b, uint64_t sector, const void *buf, uint32_t len)
{
	return vblk_rw(b, VBLK_T_OUT, sector, (void *)buf, len);
}
static inline int vblk_flush(struct vblk *b)
{
	return vblk_rw(b, VBLK_T_FLUSH, 0, (void *)0, 0);
}
/* The device's serial (GET_ID), NUL-terminated in @id. 0 or as vblk_rw. */
int vblk_get_id(struct vblk *b, char id[VBLK_ID_BYTES + 1]) __attribute__((warn_unused_result));

#endif
