/* SPDX-License-Identifier: GPL-2.0-only */
/* virtio-blk internals shared by the device (blk.c) and the I/O backends (blk_io.c). */
#ifndef NFV_BLK_BLK_INT_H
#define NFV_BLK_BLK_INT_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "blk.h"
#include "virtq.h"

#define BLK_SEG_MAX 126 /* data segments per request we advertise (s5.2.4 seg_max) */
#define BLK_MAX_IOV 160 /* header + data + status, with room for region splits */
#define BLK_MAX_QUEUES 64
#define BLK_MAX_QUEUE_SIZE 1024
#define BLK_MAX_DWZ_SECTORS (32u * 1024 * 1024 / 512) /* 32 MiB per discard / write zeroes */

enum blk_op {
	BLK_OP_NONE, /* answered without I/O */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WZ,
};

struct blk_queue;

struct blk_req {
	struct blk_queue *q;
	struct blk_req *next; /* free list / pool job list / done list */
	uint16_t head;
	uint8_t op;	      /* enum blk_op */
	uint8_t status;	      /* VIRTIO_BLK_S_* to report when op is NONE */
	bool unmap;	      /* write zeroes may deallocate */
	uint8_t *status_ptr;  /* host address of the status byte, or NULL */
	uint32_t used_len;    /* bytes written into the chain on success (data + status) */
	int fd;		      /* direct or buffered fd for this request */
	uint64_t offset, len; /* bytes */
	struct iovec *data;   /* slice of iov[] holding the data */
	int ndata;
	int64_t res; /* backend result: bytes transferred or -errno */
	struct iovec iov[BLK_MAX_IOV];
};

struct blk_queue {
	struct blk *blk;
	unsigned index;
	struct vq *vq; /* set while started */
	int kick_fd;   /* driver notifications (ioeventfd) */
	int done_fd;   /* completions from the backend */
	int stop_fd;   /* asks the queue thread to exit */
	pthread_t thread;
	bool thread_running;
	bool started;
	bool use_uring; /* ring set up in blk_create (restricted, enabled); kept until destroy */
	struct io_uring ring;
	unsigned inflight;
	unsigned uring_pending; /* prepared but not yet submitted sqes */
	struct blk_req *reqs;	/* queue_size slots */
	struct blk_req *free_list;
	pthread_mutex_t done_lock; /* protects done_list (pool workers -> queue thread) */
	struct blk_req *done_list;
};

struct blk_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct blk_req *jobs, *jobs_tail;
	bool stop;
	unsigned nthreads;
	pthread_t threads[16];
};

struct blk {
	struct blk_cfg cfg;
	char name[64];
	char serial[VIRTIO_BLK_ID_BYTES];
	struct gmem *gm;
	int fd;		 /* main fd (O_DIRECT when cache != writeback and the fs allows it) */
	int fd_buffered; /* for requests O_DIRECT cannot take (unaligned), or -1 */
	bool direct;
	bool is_blockdev;
	int fixed_fds[2]; /* io_uring fixed-file table: [0] = fd, [1] = fd_buffered if distinct */
	unsigned nfixed;
	unsigned dio_align; /* memory/offset/length alignment O_DIRECT needs */
	uint32_t blk_size;
	uint64_t capacity; /* sectors */
	uint64_t features; /* negotiated */
	bool use_uring;	   /* io_uring available and chosen */
	bool wz_fallback;  /* fallocate ZERO_RANGE refused: emulate */
	struct blk_pool pool;
	bool pool_started;
	pthread_mutex_t pool_start_lock;
	struct blk_stats stats;
	struct blk_queue q[BLK_MAX_QUEUES];
};

#define BLK_STAT_INC(b, field, n) __atomic_add_fetch(&(b)->stats.field, (n), __ATOMIC_RELAXED)

/* Backends (blk_io.c). */
/*
 * Set up queue @q's ring before the process is confined: created disabled, with q->done_fd as its
 * completion eventfd and blk->fixed_fds[] as fixed files, restricted to the SQE opcodes
 * blk_uring_prep() uses with IOSQE_FIXED_FILE required and no io_uring_register(2) opcodes, then
 * enabled. From then on only io_uring_enter(2) is needed. Returns 0 (q->use_uring set) or -errno
 * with *step naming the step that failed; nothing is left allocated on failure. Not logged.
 */
int blk_uring_init(struct blk_queue *q, unsigned entries, const char **step)
	__attribute__((warn_unused_result));
/* Close the ring (blk_destroy, or a ring retired by blk_uring_quiesce). NULL-safe per queue. */
void blk_uring_fini(struct blk_queue *q);
/*
 * Queue stopped or about to start, nothing in flight: drop completions nobody waits for (their
 * user data would point at recycled requests). A ring with unsubmitted entries cannot be cleaned
 * and is retired; the queue then uses the thread pool. Returns the number of completions dropped.
 */
unsigned blk_uring_quiesce(struct blk_queue *q);
/* Queue @r on the ring; submits when the ring is full. 0 or -errno (the request was not queued). */
int blk_uring_prep(struct blk_queue *q, struct blk_req *r) __attribute__((warn_unused_result));
void blk_uring_submit(struct blk_queue *q);
/* Reap finished requests into the done list order; returns them as a list. */
struct blk_req *blk_uring_reap(struct blk_queue *q);
/*
 * TEST ONLY: queue @qi's ring, or NULL when the queue has none (io=threads, fallback). Submitting
 * on it while the queue is started races with the queue thread; reap what you submit before
 * starting the queue (blk_uring_quiesce drops leftovers).
 */
struct io_uring *blk_queue_ring(struct blk *blk, unsigned qi);

int blk_pool_start(struct blk *blk) __attribute__((warn_unused_result));
void blk_pool_stop(struct blk *blk);
void blk_pool_submit(struct blk *blk, struct blk_req *r);
/* Run one request synchronously (pool worker, or fallback paths); sets r->res. */
void blk_exec_sync(struct blk *blk, struct blk_req *r);

#endif
