/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-blk device model (virtio 1.2 s5.2) backed by a raw image file or a block device.
 *
 * Requests are served off the vCPU threads: each queue has a kick eventfd (bind it as the queue's
 * ioeventfd, or let queue_notify write it) and a worker thread that pops chains, submits the I/O
 * through io_uring (or a thread pool when io_uring is unavailable or io='threads') and pushes the
 * completions, raising the queue's interrupt through vq->call. Guest requests are hostile input:
 * every malformed one is answered with VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP and counted in
 * struct blk_stats; no request reaches outside the image (bounds are checked against the
 * capacity fixed at blk_create time).
 *
 * The device plugs into a transport through blk_virtio_ops() / blk_virtio_info() with the blk as
 * opaque. Tests can set cfg.manual_poll and drive the queues with blk_poll() instead of threads.
 */
#ifndef NFV_BLK_BLK_H
#define NFV_BLK_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "virtio_dev.h"

/* Feature bits (virtio 1.2 s5.2.3). */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status values (s5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP 1

struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk_discard_write_zeroes {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* Device configuration layout (s5.2.4), little-endian; the fields we fill. */
struct virtio_blk_config {
	uint64_t capacity; /* 512-byte sectors */
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
	struct {
		uint8_t physical_block_exp;
		uint8_t alignment_offset;
		uint16_t min_io_size;
		uint32_t opt_io_size;
	} topology;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
} __attribute__((packed));

enum blk_cache {
	BLK_CACHE_NONE,	      /* O_DIRECT (default); FLUSH still fdatasyncs the device cache */
	BLK_CACHE_WRITEBACK,  /* page cache; FLUSH = fdatasync */
	BLK_CACHE_DIRECTSYNC, /* O_DIRECT | O_DSYNC: every write is durable when acknowledged */
};

enum blk_io {
	BLK_IO_IO_URING, /* default; falls back to threads (logged) when io_uring is unavailable */
	BLK_IO_NATIVE,	 /* accepted for compatibility: served by io_uring as well */
	BLK_IO_THREADS,	 /* thread pool with preadv/pwritev */
};

struct blk_cfg {
	const char *path;
	bool readonly;
	const char *serial;  /* up to 20 bytes for GET_ID; NULL: none */
	unsigned num_queues; /* 1..64; 0 means 1 */
	unsigned queue_size; /* power of two 2..1024; 0 means 256 */
	enum blk_cache cache;
	enum blk_io io;
	unsigned pool_threads; /* thread-pool size for io=threads; 0 means 4 */
	bool manual_poll;      /* no queue threads: the caller drives each queue with blk_poll() */
	const char *name;      /* for logs; NULL means the path */
};

/* Counters, read racily (each is updated by one queue thread with relaxed atomics). */
struct blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t bytes_read, bytes_written;
	uint64_t io_errors;    /* host I/O failed (EIO, short transfer...) */
	uint64_t bad_requests; /* guest errors answered with IOERR (range, sizes, direction) */
	uint64_t unsupported;  /* answered with UNSUPP */
	uint64_t no_status;    /* chains without room for a status byte: returned with len 0 */
	uint64_t ro_writes;    /* writes/discards to a read-only disk */
	uint64_t buffered_fallbacks; /* requests served through the page cache for alignment */
};

struct blk;

/* Parse "none"|"writeback"|"directsync" and "native"|"threads"|"io_uring"; 0 or -EINVAL. */
int blk_cache_parse(const char *s, enum blk_cache *out) __attribute__((warn_unused_result));
int blk_io_parse(const char *s, enum blk_io *out) __attribute__((warn_unused_result));

/*
 * Open the image and prepare the queues (threads start when the driver enables a queue). With
 * io_uring, every queue's ring is created here, restricted to reads, writes, fsync and fallocate
 * on the image's fds, and kept until blk_destroy: after blk_create the device makes no
 * io_uring_setup(2) or io_uring_register(2) call, only io_uring_enter(2). If the kernel cannot
 * (before 5.10), the device logs which step failed and uses the thread pool.
 * @gm stays owned by the caller and must outlive the blk. Returns 0, or -errno with a logged
 * message naming the path (-ENOENT, -EACCES, -EINVAL for a bad cfg field or an empty image...).
 */
int blk_create(const struct blk_cfg *cfg, struct gmem *gm, struct blk **out)
	__attribute__((warn_unused_result));
/* Stop every queue, finish in-flight requests and close the image. NULL-safe. */
void blk_destroy(struct blk *blk);

/* Transport glue: pass these with @blk as the opaque. */
const struct virtio_dev_ops *blk_virtio_ops(void);
void blk_virtio_info(const struct blk *blk, struct virtio_dev_info *info);

/* Capacity in 512-byte sectors. */
uint64_t blk_capacity(const struct blk *blk);

/*
 * With cfg.manual_poll: handle queue @q once: wait up to @timeout_ms (0: don't wait) for a kick
 * or a completion, then pop all available requests, submit them and push finished ones.
 * Returns the number of requests completed, or -errno (-EINVAL: no such started queue).
 */
int blk_poll(struct blk *blk, unsigned q, int timeout_ms) __attribute__((warn_unused_result));

void blk_get_stats(const struct blk *blk, struct blk_stats *out);

/* The backend in use after fallbacks: "io_uring" or "threads". */
const char *blk_io_backend(const struct blk *blk);

#endif
