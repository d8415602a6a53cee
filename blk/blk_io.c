// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk I/O backends: one io_uring per queue, or a shared thread pool running the same
 * operations with preadv/pwritev/fdatasync/fallocate. Both report a request's result in r->res
 * (bytes or -errno) and hand it back to its queue thread, which alone touches the virtqueue.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk_int.h"
#include "evloop.h"
#include "log.h"
#include "util.h"

/*
 * The ring's whole repertoire: what blk_uring_prep() submits. NOP is not on it: requests without
 * I/O (GET_ID, refused ones) are completed by blk.c without the backend.
 */
static const uint8_t blk_uring_ops[] = {
	IORING_OP_READV,
	IORING_OP_WRITEV,
	IORING_OP_FSYNC,
	IORING_OP_FALLOCATE,
};

/*
 * io_uring_register(2) directly: Debian's liburing 2.3 ships io_uring_register_restrictions() and
 * io_uring_enable_rings() in the static library only (missing from the shared library's symbol
 * map), so they are not usable from a normal link.
 */
static int blk_uring_register(struct io_uring *ring, unsigned opcode, const void *arg,
			      unsigned nr_args)
{
	long ret = syscall(__NR_io_uring_register, ring->ring_fd, opcode, arg, nr_args);

	return ret < 0 ? -errno : 0;
}

int blk_uring_init(struct blk_queue *q, unsigned entries, const char **step)
{
	struct blk *blk = q->blk;
	struct io_uring_restriction res[ARRAY_SIZE(blk_uring_ops) + 1];
	unsigned n = 0;
	int ret;

	/* Linux 5.10+: a disabled ring accepts registrations (restrictions only then) but no
	 * submissions until IORING_REGISTER_ENABLE_RINGS. */
	*step = "io_uring_setup(IORING_SETUP_R_DISABLED)";
	ret = io_uring_queue_init(entries, &q->ring, IORING_SETUP_R_DISABLED);
	if (ret < 0)
		return ret;
	*step = "registering the completion eventfd";
	ret = io_uring_register_eventfd(&q->ring, q->done_fd);
	if (ret < 0)
		goto err;
	*step = "registering the image fds as fixed files";
	ret = io_uring_register_files(&q->ring, blk->fixed_fds, blk->nfixed);
	if (ret < 0)
		goto err;
	/*
	 * Every SQE must name a fixed file (so only the image fds are reachable) and use one of our
	 * opcodes; no IORING_RESTRICTION_REGISTER_OP entry, so once enabled the ring refuses every
	 * io_uring_register(2) call (-EACCES): no new files, buffers, personalities or eventfds.
	 */
	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < ARRAY_SIZE(blk_uring_ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = blk_uring_ops[i];
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[n++].sqe_flags = IOSQE_FIXED_FILE;
	*step = "registering restrictions";
	ret = blk_uring_register(&q->ring, IORING_REGISTER_RESTRICTIONS, res, n);
	if (ret < 0)
		goto err;
	*step = "enabling the ring";
	ret = blk_uring_register(&q->ring, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (ret < 0)
		goto err;
	q->use_uring = true;
	q->uring_pending = 0;
	return 0;
err:
	io_uring_queue_exit(&q->ring);
	return ret;
}

void blk_uring_fini(struct blk_queue *q)
{
	if (!q->use_uring)
		return;
	io_uring_queue_exit(&q->ring);
	q->use_uring = false;
}

unsigned blk_uring_quiesce(struct blk_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned dropped = 0;

	if (!q->use_uring)
		return 0;
	if (io_uring_sq_ready(&q->ring)) {
		/* Prepared entries that never went to the kernel point at requests that will be
		 * reused; they cannot be taken back, so the ring goes. */
		log_warn("%s: queue %u: %u unsubmitted io_uring entries after a stop; using I/O "
			 "threads for this queue",
			 q->blk->name, q->index, io_uring_sq_ready(&q->ring));
		blk_uring_fini(q);
		return 0;
	}
	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		io_uring_cqe_seen(&q->ring, cqe);
		dropped++;
	}
	if (dropped)
		log_rl(LOGL_WARN, "%s: queue %u: dropped %u stale io_uring completions",
		       q->blk->name, q->index, dropped);
	q->uring_pending = 0;
	return dropped;
}

struct io_uring *blk_queue_ring(struct blk *blk, unsigned qi)
{
	if (qi >= blk->cfg.num_queues || !blk->q[qi].use_uring)
		return NULL;
	return &blk->q[qi].ring;
}

void blk_uring_submit(struct blk_queue *q)
{
	while (q->uring_pending) {
		int ret = io_uring_submit(&q->ring);

		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			/* Cannot submit: the sqes stay queued and go with the next submit. */
			log_rl(LOGL_ERR, "%s: queue %u: io_uring_submit: %s", q->blk->name,
			       q->index, strerror(-ret));
			return;
		}
		q->uring_pending -= MIN((unsigned)ret, q->uring_pending);
		if (ret == 0)
			return;
	}
}

/* Index of @fd in the ring's fixed-file table, or -EBADF. */
static int blk_fixed_index(const struct blk *blk, int fd)
{
	for (unsigned i = 0; i < blk->nfixed; i++)
		if (blk->fixed_fds[i] == fd)
			return (int)i;
	return -EBADF;
}

int blk_uring_prep(struct blk_queue *q, struct blk_req *r)
{
	int idx = blk_fixed_index(q->blk, r->fd);
	struct io_uring_sqe *sqe;

	/* Checked before taking an sqe: a taken one is submitted whatever we do with it. */
	if (idx < 0)
		return idx;
	if (r->op != BLK_OP_READ && r->op != BLK_OP_WRITE && r->op != BLK_OP_FLUSH &&
	    r->op != BLK_OP_DISCARD && r->op != BLK_OP_WZ)
		return -EINVAL;
	sqe = io_uring_get_sqe(&q->ring);
	if (!sqe) {
		blk_uring_submit(q);
		sqe = io_uring_get_sqe(&q->ring);
		if (!sqe)
			return -EBUSY;
	}
	switch (r->op) {
	case BLK_OP_READ:
		io_uring_prep_readv(sqe, idx, r->data, (unsigned)r->ndata, r->offset);
		break;
	case BLK_OP_WRITE:
		io_uring_prep_writev(sqe, idx, r->data, (unsigned)r->ndata, r->offset);
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, idx, IORING_FSYNC_DATASYNC);
		break;
	case BLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, idx, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)r->offset, (off_t)r->len);
		break;
	default: /* BLK_OP_WZ */
		io_uring_prep_fallocate(sqe, idx, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)r->offset, (off_t)r->len);
		break;
	}
	/* The ring requires it (blk_uring_init): the fd field is an index into blk->fixed_fds. */
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	io_uring_sqe_set_data(sqe, r);
	q->uring_pending++;
	return 0;
}

struct blk_req *blk_uring_reap(struct blk_queue *q)
{
	struct blk_req *head = NULL, **tail = &head;
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		struct blk_req *r = io_uring_cqe_get_data(cqe);

		r->res = cqe->res;
		io_uring_cqe_seen(&q->ring, cqe);
		r->next = NULL;
		*tail = r;
		tail = &r->next;
	}
	return head;
}

/* preadv/pwritev until done; advances a private copy of the iovecs on short transfers. */
static int64_t blk_rw_full(int fd, bool write, const struct iovec *iov_in, int n, uint64_t off)
{
	struct iovec iov[BLK_MAX_IOV];
	struct iovec *v = iov;
	int64_t done = 0;

	memcpy(iov, iov_in, sizeof(*iov) * (size_t)n);
	while (n > 0) {
		ssize_t ret = write ? pwritev(fd, v, n, (off_t)off) : preadv(fd, v, n, (off_t)off);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (ret == 0)
			break; /* EOF: the caller sees a short transfer */
		done += ret;
		off += (uint64_t)ret;
		while (n > 0 && (size_t)ret >= v->iov_len) {
			ret -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (uint8_t *)v->iov_base + ret;
			v->iov_len -= (size_t)ret;
		}
	}
	return done;
}

void blk_exec_sync(struct blk *blk, struct blk_req *r)
{
	(void)blk;
	switch (r->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		r->res = blk_rw_full(r->fd, r->op == BLK_OP_WRITE, r->data, r->ndata, r->offset);
		break;
	case BLK_OP_FLUSH:
		r->res = fdatasync(r->fd) < 0 ? -errno : 0;
		break;
	case BLK_OP_DISCARD:
		r->res = fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   (off_t)r->offset, (off_t)r->len) < 0
				 ? -errno
				 : 0;
		break;
	case BLK_OP_WZ:
		r->res = fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
				   (off_t)r->offset, (off_t)r->len) < 0
				 ? -errno
				 : 0;
		break;
	default:
		r->res = 0;
		break;
	}
}

static void *blk_pool_worker(void *arg)
{
	struct blk *blk = arg;
	struct blk_pool *p = &blk->pool;

	for (;;) {
		struct blk_req *r;
		struct blk_queue *q;

		pthread_mutex_lock(&p->lock);
		while (!p->jobs && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->jobs) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		r = p->jobs;
		p->jobs = r->next;
		if (!p->jobs)
			p->jobs_tail = NULL;
		pthread_mutex_unlock(&p->lock);

		blk_exec_sync(blk, r);
		q = r->q;
		pthread_mutex_lock(&q->done_lock);
		r->next = q->done_list;
		q->done_list = r;
		pthread_mutex_unlock(&q->done_lock);
		efd_signal(q->done_fd);
	}
}

int blk_pool_start(struct blk *blk)
{
	struct blk_pool *p = &blk->pool;
	unsigned n = blk->cfg.pool_threads ? blk->cfg.pool_threads : 4;
	int ret = 0;

	pthread_mutex_lock(&blk->pool_start_lock);
	if (blk->pool_started)
		goto out;
	n = MIN(n, (unsigned)ARRAY_SIZE(p->threads));
	p->stop = false;
	p->jobs = p->jobs_tail = NULL;
	for (p->nthreads = 0; p->nthreads < n; p->nthreads++) {
		ret = -pthread_create(&p->threads[p->nthreads], NULL, blk_pool_worker, blk);
		if (ret < 0)
			break;
	}
	if (p->nthreads == 0) {
		log_err("%s: cannot start I/O threads: %s", blk->name, strerror(-ret));
		goto out;
	}
	ret = 0;
	blk->pool_started = true;
out:
	pthread_mutex_unlock(&blk->pool_start_lock);
	return ret;
}

void blk_pool_stop(struct blk *blk)
{
	struct blk_pool *p = &blk->pool;

	if (!blk->pool_started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true; /* workers finish queued jobs first */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	blk->pool_started = false;
}

void blk_pool_submit(struct blk *blk, struct blk_req *r)
{
	struct blk_pool *p = &blk->pool;

	r->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->jobs_tail)
		p->jobs_tail->next = r;
	else
		p->jobs = r;
	p->jobs_tail = r;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
