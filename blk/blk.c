// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk device (virtio 1.2 s5.2): configuration, feature negotiation, request parsing and
 * the per-queue worker. The I/O itself is in blk_io.c.
 */
#include "blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_int.h"
#include "evloop.h"
#include "log.h"
#include "util.h"

int blk_cache_parse(const char *s, enum blk_cache *out)
{
	static const char *const names[] = {"none", "writeback", "directsync"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (s && !strcmp(s, names[i])) {
			*out = (enum blk_cache)i;
			return 0;
		}
	return -EINVAL;
}

int blk_io_parse(const char *s, enum blk_io *out)
{
	static const char *const names[] = {"io_uring", "native", "threads"};

	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (s && !strcmp(s, names[i])) {
			*out = (enum blk_io)i;
			return 0;
		}
	return -EINVAL;
}

uint64_t blk_capacity(const struct blk *blk)
{
	return blk->capacity;
}

const char *blk_io_backend(const struct blk *blk)
{
	return blk->use_uring ? "io_uring" : "threads";
}

void blk_get_stats(const struct blk *blk, struct blk_stats *out)
{
	const uint64_t *src = (const uint64_t *)&blk->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static bool blk_has(const struct blk *blk, unsigned bit)
{
	return blk->features & (1ull << bit);
}

/* ---- request parsing (virtio 1.2 s5.2.6) ---- */

/* Copy @len bytes starting at byte @skip of the iovecs into @dst; false if they are too short. */
static bool iov_copy_from(const struct iovec *iov, int n, size_t skip, void *dst, size_t len)
{
	uint8_t *d = dst;

	for (int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = MIN(l - skip, len);
		memcpy(d, (uint8_t *)iov[i].iov_base + skip, l);
		d += l;
		len -= l;
		skip = 0;
	}
	return len == 0;
}

static void iov_copy_to(struct iovec *iov, int n, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (int i = 0; i < n && len; i++) {
		size_t l = MIN(iov[i].iov_len, len);

		memcpy(iov[i].iov_base, s, l);
		s += l;
		len -= l;
	}
}

/*
 * Drop the first @skip bytes of iov[0..*n) in place (adjusting the first kept entry); returns the
 * index of the first kept entry and updates *n to the number kept.
 */
static int iov_skip(struct iovec *iov, int *n, size_t skip)
{
	int i = 0;

	while (i < *n && skip >= iov[i].iov_len) {
		skip -= iov[i].iov_len;
		i++;
	}
	if (i < *n && skip) {
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + skip;
		iov[i].iov_len -= skip;
	}
	*n -= i;
	return i;
}

/* O_DIRECT needs the file offset, every buffer address and every length aligned. */
static bool blk_dio_ok(const struct blk *blk, const struct blk_req *r)
{
	uint64_t a = __atomic_load_n(&blk->dio_align, __ATOMIC_RELAXED);

	if (!IS_ALIGNED(r->offset, a))
		return false;
	for (int i = 0; i < r->ndata; i++)
		if (!IS_ALIGNED((uintptr_t)r->data[i].iov_base, a) ||
		    !IS_ALIGNED(r->data[i].iov_len, a))
			return false;
	return true;
}

/* Answer without I/O: counts the reason and sets the status. */
static void blk_req_fail(struct blk_req *r, uint8_t status)
{
	struct blk *blk = r->q->blk;

	r->op = BLK_OP_NONE;
	r->status = status;
	r->used_len = 1;
	if (status == VIRTIO_BLK_S_UNSUPP)
		BLK_STAT_INC(blk, unsupported, 1);
	else
		BLK_STAT_INC(blk, bad_requests, 1);
}

/* Range of @nsec sectors from @sector inside the disk (no overflow whatever the guest sends). */
static bool blk_range_ok(const struct blk *blk, uint64_t sector, uint64_t nsec)
{
	return sector <= blk->capacity && nsec <= blk->capacity - sector;
}

/*
 * Turn the popped chain in r->iov into a request. The chain is device-readable header (16 bytes)
 * [+ data], then device-writable [data +] status byte (s5.2.6); the framing of those bytes over
 * descriptors is the driver's choice (s2.7.4), so everything is located by byte offsets.
 */
static void blk_parse(struct blk_req *r, const struct vq_elem *e)
{
	struct blk *blk = r->q->blk;
	struct virtio_blk_outhdr h;
	int n_out = e->n_out, n_in = e->n_in;
	struct iovec *in = r->iov + n_out;
	uint32_t type;
	uint64_t sector;

	r->op = BLK_OP_NONE;
	r->status = VIRTIO_BLK_S_OK;
	r->used_len = 0;
	r->status_ptr = NULL;
	r->data = NULL;
	r->ndata = 0;
	r->unmap = false;
	r->fd = blk->fd;

	/* The status byte is the last writable byte; without one we cannot answer at all. */
	if (e->in_len < 1) {
		BLK_STAT_INC(blk, no_status, 1);
		log_rl(LOGL_WARN, "%s: request without a status byte (head %u): dropped", blk->name,
		       r->head);
		return;
	}
	r->status_ptr = (uint8_t *)in[n_in - 1].iov_base + in[n_in - 1].iov_len - 1;
	in[n_in - 1].iov_len--; /* the rest of the writable part is data */
	if (!in[n_in - 1].iov_len)
		n_in--;
	r->used_len = 1;

	if (e->out_len < sizeof(h) || !iov_copy_from(r->iov, n_out, 0, &h, sizeof(h))) {
		log_rl(LOGL_WARN, "%s: request header of %u bytes (need 16)", blk->name,
		       e->out_len);
		blk_req_fail(r, VIRTIO_BLK_S_IOERR);
		return;
	}
	type = le32toh(h.type);
	sector = le64toh(h.sector);
	{
		uint32_t out_data = e->out_len - (uint32_t)sizeof(h);
		uint32_t in_data = e->in_len - 1;

		switch (type) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT: {
			bool wr = type == VIRTIO_BLK_T_OUT;
			uint32_t len = wr ? out_data : in_data;

			/* Data must flow one way only and be whole sectors (s5.2.6.1). */
			if ((wr ? in_data : out_data) != 0 || len == 0 || len % 512) {
				log_rl(LOGL_WARN,
				       "%s: bad %s request: %u readable, %u writable data bytes",
				       blk->name, wr ? "write" : "read", out_data, in_data);
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			if (!blk_range_ok(blk, sector, len / 512)) {
				log_rl(LOGL_WARN,
				       "%s: %s of %u sectors at sector %llu past the end (%llu sectors)",
				       blk->name, wr ? "write" : "read", len / 512,
				       (unsigned long long)sector,
				       (unsigned long long)blk->capacity);
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			if (wr && blk->cfg.readonly) {
				BLK_STAT_INC(blk, ro_writes, 1);
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			if (wr) {
				r->ndata = n_out;
				r->data = r->iov + iov_skip(r->iov, &r->ndata, sizeof(h));
			} else {
				r->ndata = n_in;
				r->data = in;
				r->used_len = len + 1;
			}
			r->op = wr ? BLK_OP_WRITE : BLK_OP_READ;
			r->offset = sector * 512;
			r->len = len;
			if (blk->direct && !blk_dio_ok(blk, r)) {
				r->fd = blk->fd_buffered;
				BLK_STAT_INC(blk, buffered_fallbacks, 1);
				log_rl(LOGL_INFO,
				       "%s: unaligned request served through the page cache",
				       blk->name);
			}
			return;
		}
		case VIRTIO_BLK_T_FLUSH:
			if (out_data || in_data) {
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			r->op = BLK_OP_FLUSH;
			return;
		case VIRTIO_BLK_T_GET_ID: {
			uint8_t id[VIRTIO_BLK_ID_BYTES];

			if (out_data || !in_data) {
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			/* s5.2.6: up to 20 bytes, not NUL-terminated when the serial fills them. */
			memcpy(id, blk->serial, sizeof(id));
			iov_copy_to(in, n_in, id, MIN(sizeof(id), in_data));
			r->used_len = (uint32_t)MIN(sizeof(id), in_data) + 1;
			BLK_STAT_INC(blk, get_ids, 1);
			return;
		}
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES: {
			bool dis = type == VIRTIO_BLK_T_DISCARD;
			struct virtio_blk_discard_write_zeroes seg;
			uint32_t flags, nsec;

			if (!blk_has(blk, dis ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES)) {
				blk_req_fail(r, VIRTIO_BLK_S_UNSUPP);
				return;
			}
			/* We advertise max_*_seg = 1: exactly one 16-byte segment (s5.2.6.2). */
			if (in_data || out_data != sizeof(seg) ||
			    !iov_copy_from(r->iov, n_out, sizeof(h), &seg, sizeof(seg))) {
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			flags = le32toh(seg.flags);
			nsec = le32toh(seg.num_sectors);
			sector = le64toh(seg.sector);
			/* s5.2.6.2: unmap is only meaningful for write zeroes; other bits reserved.
			 */
			if (flags & ~(dis ? 0u : (uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
				blk_req_fail(r, VIRTIO_BLK_S_UNSUPP);
				return;
			}
			if (nsec == 0 || nsec > BLK_MAX_DWZ_SECTORS ||
			    !blk_range_ok(blk, sector, nsec)) {
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			if (blk->cfg.readonly) {
				BLK_STAT_INC(blk, ro_writes, 1);
				blk_req_fail(r, VIRTIO_BLK_S_IOERR);
				return;
			}
			r->op = dis ? BLK_OP_DISCARD : BLK_OP_WZ;
			r->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
			r->offset = sector * 512;
			r->len = (uint64_t)nsec * 512;
			r->fd = blk->fd_buffered; /* fallocate ignores O_DIRECT; either fd works */
			return;
		}
		default:
			log_rl(LOGL_INFO, "%s: unsupported request type %u", blk->name, type);
			blk_req_fail(r, VIRTIO_BLK_S_UNSUPP);
			return;
		}
	}
}

/* Write zeroes without fallocate ZERO_RANGE (tmpfs, some block devices): plain zero writes. */
static int64_t blk_wz_emulate(struct blk *blk, struct blk_req *r)
{
	static const uint8_t zeroes[64 * 1024];
	uint64_t off = r->offset, left = r->len;

	if (!__atomic_exchange_n(&blk->wz_fallback, true, __ATOMIC_RELAXED))
		log_info("%s: fallocate(ZERO_RANGE) not supported here; writing zeroes instead",
			 blk->name);
	while (left) {
		ssize_t n = pwrite(blk->fd_buffered, zeroes, MIN(left, sizeof(zeroes)), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Turn a backend result into the status byte and return the chain (s5.2.6). */
static void blk_complete(struct blk_queue *q, struct blk_req *r)
{
	struct blk *blk = q->blk;
	uint8_t status = r->status;

	switch (r->op) {
	case BLK_OP_NONE:
		break;
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (r->res == -EINVAL && blk->direct && r->fd == blk->fd) {
			/*
			 * The file system wants more than 512-byte alignment for O_DIRECT (4 KiB
			 * sector devices): redo this one through the page cache and check later
			 * requests against 4 KiB.
			 */
			if (__atomic_exchange_n(&blk->dio_align, 4096u, __ATOMIC_RELAXED) != 4096u)
				log_info(
					"%s: O_DIRECT refused a 512-byte aligned request; requests not "
					"4 KiB aligned now go through the page cache",
					blk->name);
			r->fd = blk->fd_buffered;
			blk_exec_sync(blk, r);
			BLK_STAT_INC(blk, buffered_fallbacks, 1);
		}
		if (r->res != (int64_t)r->len) {
			log_rl(LOGL_ERR, "%s: %s of %llu bytes at %llu: %s", blk->name,
			       r->op == BLK_OP_READ ? "read" : "write", (unsigned long long)r->len,
			       (unsigned long long)r->offset,
			       r->res < 0 ? strerror((int)-r->res) : "short transfer");
			status = VIRTIO_BLK_S_IOERR;
			BLK_STAT_INC(blk, io_errors, 1);
			r->used_len = 1;
		} else if (r->op == BLK_OP_READ) {
			BLK_STAT_INC(blk, reads, 1);
			BLK_STAT_INC(blk, bytes_read, r->len);
		} else {
			BLK_STAT_INC(blk, writes, 1);
			BLK_STAT_INC(blk, bytes_written, r->len);
		}
		break;
	case BLK_OP_WZ:
		if (r->res == -EOPNOTSUPP || r->res == -EINVAL || r->res == -ENODEV)
			r->res = blk_wz_emulate(blk, r);
		/* fall through */
	case BLK_OP_FLUSH:
	case BLK_OP_DISCARD:
		if (r->op == BLK_OP_DISCARD && (r->res == -EOPNOTSUPP || r->res == -ENODEV))
			r->res = 0; /* discard is a hint (s5.2.6.2); nothing to deallocate here */
		if (r->res < 0) {
			log_rl(LOGL_ERR, "%s: %s: %s", blk->name,
			       r->op == BLK_OP_FLUSH ? "flush" : "fallocate",
			       strerror((int)-r->res));
			status = VIRTIO_BLK_S_IOERR;
			BLK_STAT_INC(blk, io_errors, 1);
		} else if (r->op == BLK_OP_FLUSH) {
			BLK_STAT_INC(blk, flushes, 1);
		} else if (r->op == BLK_OP_DISCARD) {
			BLK_STAT_INC(blk, discards, 1);
		} else {
			BLK_STAT_INC(blk, write_zeroes, 1);
		}
		break;
	}
	if (r->status_ptr)
		*(volatile uint8_t *)r->status_ptr = status;
	if (q->vq)
		vq_push(q->vq, r->head, r->status_ptr ? r->used_len : 0);
	r->next = q->free_list;
	q->free_list = r;
	q->inflight--;
}

/* Hand a parsed request to the backend, or complete it at once when there is no I/O. */
static void blk_submit(struct blk_queue *q, struct blk_req *r)
{
	q->inflight++;
	if (r->op == BLK_OP_NONE) {
		blk_complete(q, r);
		return;
	}
	if (q->use_uring) {
		int ret = blk_uring_prep(q, r);

		if (ret == 0)
			return;
		/* Ring full beyond what we accounted for: do this one synchronously. */
		blk_exec_sync(q->blk, r);
		blk_complete(q, r);
		return;
	}
	blk_pool_submit(q->blk, r);
}

/* Pop and submit everything available, with kicks suppressed meanwhile (s2.7.10). */
static unsigned blk_process_avail(struct blk_queue *q)
{
	struct vq *vq = q->vq;
	unsigned completed_before = vq->pushed, n = 0;

	for (;;) {
		vq_disable_notify(vq);
		while (q->free_list) {
			struct blk_req *r = q->free_list;
			struct vq_elem e = {.iov = r->iov, .max_iov = BLK_MAX_IOV};
			int ret = vq_pop(vq, &e);

			if (ret <= 0)
				break;
			q->free_list = r->next;
			r->head = e.head;
			blk_parse(r, &e);
			blk_submit(q, r);
			n++;
		}
		if (q->use_uring)
			blk_uring_submit(q);
		/* Out of request slots: completions will call us again; leave kicks off. */
		if (!q->free_list || vq->broken)
			break;
		if (!vq_enable_notify(vq))
			break;
	}
	(void)n;
	return (unsigned)(vq->pushed - completed_before);
}

static unsigned blk_reap(struct blk_queue *q)
{
	struct blk_req *list;
	unsigned n = 0;

	efd_drain(q->done_fd);
	if (q->use_uring) {
		list = blk_uring_reap(q);
	} else {
		pthread_mutex_lock(&q->done_lock);
		list = q->done_list;
		q->done_list = NULL;
		pthread_mutex_unlock(&q->done_lock);
	}
	while (list) {
		struct blk_req *r = list;

		list = r->next;
		blk_complete(q, r);
		n++;
	}
	return n;
}

/* One round of queue work; returns the number of chains returned to the driver. */
static int blk_queue_run(struct blk_queue *q, int timeout_ms)
{
	struct pollfd pfd[3] = {
		{.fd = q->kick_fd, .events = POLLIN},
		{.fd = q->done_fd, .events = POLLIN},
		{.fd = q->stop_fd, .events = POLLIN},
	};
	unsigned n;

	if (timeout_ms != 0 && poll(pfd, 3, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	efd_drain(q->kick_fd);
	n = blk_reap(q);
	n += blk_process_avail(q);
	if (n)
		vq_call_if_needed(q->vq);
	return (int)n;
}

static void *blk_queue_thread(void *arg)
{
	struct blk_queue *q = arg;
	struct pollfd stop = {.fd = q->stop_fd, .events = POLLIN};

	while (poll(&stop, 1, 0) == 0)
		(void)blk_queue_run(q, -1);
	return NULL;
}

int blk_poll(struct blk *blk, unsigned q, int timeout_ms)
{
	if (q >= blk->cfg.num_queues || !blk->q[q].started)
		return -EINVAL;
	return blk_queue_run(&blk->q[q], timeout_ms);
}

/* ---- transport hooks ---- */

static uint64_t blk_get_features(void *opaque)
{
	struct blk *blk = opaque;
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
		     1ull << VIRTIO_F_EVENT_IDX | 1ull << VIRTIO_F_RING_PACKED |
		     1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;

	if (blk->cfg.readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	if (blk->cfg.num_queues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	return f;
}

static int blk_set_features(void *opaque, uint64_t features)
{
	struct blk *blk = opaque;

	/* We only offer a modern device (s6.1: VERSION_1 is required for it). */
	if (!(features & (1ull << VIRTIO_F_VERSION_1)))
		return -EINVAL;
	blk->features = features;
	return 0;
}

static void blk_fill_config(const struct blk *blk, struct virtio_blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = htole64(blk->capacity);
	c->seg_max = htole32(BLK_SEG_MAX);
	c->blk_size = htole32(blk->blk_size);
	c->num_queues = htole16((uint16_t)blk->cfg.num_queues);
	c->max_discard_sectors = htole32(BLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(blk->blk_size / 512);
	c->max_write_zeroes_sectors = htole32(BLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = 1;
}

static void blk_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	struct virtio_blk_config c;

	blk_fill_config(opaque, &c);
	memset(buf, 0, len);
	if (off < sizeof(c))
		memcpy(buf, (uint8_t *)&c + off, MIN((size_t)len, sizeof(c) - off));
}

static void blk_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
	struct blk *blk = opaque;

	(void)buf;
	/* No writable fields without VIRTIO_BLK_F_CONFIG_WCE (s5.2.4), which we do not offer. */
	log_rl(LOGL_INFO, "%s: ignoring config write at %u (%u bytes)", blk->name, off, len);
}

static int blk_queue_start(void *opaque, unsigned qi, struct vq *vq)
{
	struct blk *blk = opaque;
	struct blk_queue *q;
	int ret;

	if (qi >= blk->cfg.num_queues)
		return -EINVAL;
	q = &blk->q[qi];
	if (q->started)
		return -EBUSY;
	q->vq = vq;
	q->inflight = 0;
	q->free_list = NULL;
	for (unsigned i = 0; i < blk->cfg.queue_size; i++) {
		q->reqs[i].q = q;
		q->reqs[i].next = q->free_list;
		q->free_list = &q->reqs[i];
	}
	/* The ring was made in blk_create and outlives resets; nothing from before may reach the
	 * fresh request slots. */
	(void)blk_uring_quiesce(q);
	efd_drain(q->done_fd);
	efd_drain(q->stop_fd);
	/* A first pass for buffers the driver made available before enabling the queue. */
	efd_signal(q->kick_fd);
	if (!q->use_uring) {
		ret = blk_pool_start(blk);
		if (ret < 0)
			goto err;
	}
	if (!blk->cfg.manual_poll) {
		ret = -pthread_create(&q->thread, NULL, blk_queue_thread, q);
		if (ret < 0) {
			log_err("%s: queue %u: cannot start thread: %s", blk->name, qi,
				strerror(-ret));
			goto err;
		}
		q->thread_running = true;
	}
	q->started = true;
	return 0;
err:
	q->vq = NULL;
	return ret;
}

static void blk_queue_stop(void *opaque, unsigned qi)
{
	struct blk *blk = opaque;
	struct blk_queue *q;

	if (qi >= blk->cfg.num_queues || !blk->q[qi].started)
		return;
	q = &blk->q[qi];
	if (q->thread_running) {
		efd_signal(q->stop_fd);
		pthread_join(q->thread, NULL);
		q->thread_running = false;
	}
	/*
	 * The backend may still write into guest memory for in-flight requests: wait for them. The
	 * driver reset the queue, so they are not returned to its (stale) used ring.
	 */
	q->vq = NULL;
	while (q->inflight) {
		struct pollfd p = {.fd = q->done_fd, .events = POLLIN};

		if (q->use_uring)
			io_uring_submit_and_wait(&q->ring, 1);
		else
			(void)poll(&p, 1, 100);
		blk_reap(q);
	}
	/* The ring stays for the next start (it cannot be recreated once the VMM is confined). */
	(void)blk_uring_quiesce(q);
	q->started = false;
}

static int blk_queue_kick_fd(void *opaque, unsigned qi)
{
	struct blk *blk = opaque;

	return qi < blk->cfg.num_queues ? blk->q[qi].kick_fd : -1;
}

static void blk_queue_notify(void *opaque, unsigned qi)
{
	struct blk *blk = opaque;

	if (qi < blk->cfg.num_queues)
		efd_signal(blk->q[qi].kick_fd);
}

static void blk_reset(void *opaque)
{
	struct blk *blk = opaque;

	blk->features = 0;
}

static const struct virtio_dev_ops blk_ops = {
	.get_features = blk_get_features,
	.set_features = blk_set_features,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.queue_start = blk_queue_start,
	.queue_stop = blk_queue_stop,
	.queue_kick_fd = blk_queue_kick_fd,
	.queue_notify = blk_queue_notify,
	.reset = blk_reset,
};

const struct virtio_dev_ops *blk_virtio_ops(void)
{
	return &blk_ops;
}

void blk_virtio_info(const struct blk *blk, struct virtio_dev_info *info)
{
	*info = (struct virtio_dev_info){
		.device_id = VIRTIO_ID_BLOCK,
		.num_queues = (uint16_t)blk->cfg.num_queues,
		.max_queue_size = (uint16_t)blk->cfg.queue_size,
		.config_size = sizeof(struct virtio_blk_config),
	};
}

/* ---- create / destroy ---- */

static int blk_open(struct blk *blk, const char *path)
{
	const struct blk_cfg *c = &blk->cfg;
	int flags = (c->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;

	if (c->cache == BLK_CACHE_DIRECTSYNC)
		flags |= O_DSYNC;
	blk->fd_buffered = open(path, flags);
	if (blk->fd_buffered < 0) {
		int ret = -errno;

		log_err("%s: cannot open %s: %s", blk->name, path, strerror(-ret));
		return ret;
	}
	if (fstat(blk->fd_buffered, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		log_err("%s: %s is not a regular file or block device", blk->name, path);
		return -EINVAL;
	}
	blk->is_blockdev = S_ISBLK(st.st_mode);
	blk->blk_size = 512;
	blk->dio_align = 512;
	if (blk->is_blockdev) {
		uint64_t bytes = 0;
		int ssz = 512;

		if (ioctl(blk->fd_buffered, BLKGETSIZE64, &bytes) < 0) {
			int ret = -errno;

			log_err("%s: BLKGETSIZE64 on %s: %s", blk->name, path, strerror(-ret));
			return ret;
		}
		if (ioctl(blk->fd_buffered, BLKSSZGET, &ssz) == 0 && ssz >= 512 && ssz <= 65536 &&
		    !(ssz & (ssz - 1)))
			blk->blk_size = blk->dio_align = (unsigned)ssz;
		blk->capacity = bytes / 512;
	} else {
		blk->capacity = (uint64_t)st.st_size / 512;
		if (st.st_size % 512)
			log_warn("%s: %s is not a multiple of 512 bytes; the tail is not visible",
				 blk->name, path);
	}
	if (c->cache == BLK_CACHE_WRITEBACK) {
		blk->fd = blk->fd_buffered;
		return 0;
	}
	blk->fd = open(path, flags | O_DIRECT);
	if (blk->fd < 0) {
		/* tmpfs and a few others refuse O_DIRECT: serve through the page cache. */
		log_info("%s: %s does not support O_DIRECT (%s); using the page cache", blk->name,
			 path, strerror(errno));
		blk->fd = blk->fd_buffered;
		return 0;
	}
	blk->direct = true;
	return 0;
}

/*
 * Every queue's ring, now: nfv-vmm confines itself after the devices are created, and its seccomp
 * filter allows io_uring_enter(2) but neither io_uring_setup(2) nor io_uring_register(2). Any
 * failure (a kernel before 5.10 has no IORING_SETUP_R_DISABLED or restrictions) means the thread
 * pool for the whole device.
 */
static void blk_create_rings(struct blk *blk)
{
	const char *step = "";
	unsigned i;
	int ret = 0;

	blk->fixed_fds[0] = blk->fd;
	blk->nfixed = 1;
	if (blk->fd_buffered != blk->fd)
		blk->fixed_fds[blk->nfixed++] = blk->fd_buffered;
	for (i = 0; i < blk->cfg.num_queues; i++) {
		ret = blk_uring_init(&blk->q[i], blk->cfg.queue_size, &step);
		if (ret < 0)
			break;
	}
	if (i == blk->cfg.num_queues) {
		blk->use_uring = true;
		return;
	}
	log_warn("%s: io_uring: %s failed for queue %u: %s; using I/O threads", blk->name, step, i,
		 strerror(-ret));
	while (i--)
		blk_uring_fini(&blk->q[i]);
	blk->use_uring = false;
}

int blk_create(const struct blk_cfg *cfg, struct gmem *gm, struct blk **out)
{
	struct blk *blk;
	int ret;

	*out = NULL;
	if (!cfg->path || !gm) {
		log_err("virtio-blk: no image path");
		return -EINVAL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->cfg = *cfg;
	blk->gm = gm;
	blk->fd = blk->fd_buffered = -1;
	snprintf(blk->name, sizeof(blk->name), "virtio-blk %s", cfg->name ? cfg->name : cfg->path);
	blk->cfg.name = NULL;
	blk->cfg.path = NULL; /* not kept: the caller's string */
	if (!blk->cfg.num_queues)
		blk->cfg.num_queues = 1;
	if (!blk->cfg.queue_size)
		blk->cfg.queue_size = 256;
	if (blk->cfg.num_queues > BLK_MAX_QUEUES || blk->cfg.queue_size < 2 ||
	    blk->cfg.queue_size > BLK_MAX_QUEUE_SIZE ||
	    (blk->cfg.queue_size & (blk->cfg.queue_size - 1)) ||
	    (unsigned)blk->cfg.cache > BLK_CACHE_DIRECTSYNC ||
	    (unsigned)blk->cfg.io > BLK_IO_THREADS) {
		log_err("%s: bad configuration: %u queues of %u entries (max %u of %u, power of two)",
			blk->name, blk->cfg.num_queues, blk->cfg.queue_size, BLK_MAX_QUEUES,
			BLK_MAX_QUEUE_SIZE);
		free(blk);
		return -EINVAL;
	}
	if (cfg->serial && strlen(cfg->serial) > VIRTIO_BLK_ID_BYTES) {
		log_err("%s: serial '%s' longer than %d bytes", blk->name, cfg->serial,
			VIRTIO_BLK_ID_BYTES);
		free(blk);
		return -EINVAL;
	}
	if (cfg->serial)
		memcpy(blk->serial, cfg->serial, strlen(cfg->serial));
	blk->cfg.serial = NULL;
	pthread_mutex_init(&blk->pool_start_lock, NULL);
	pthread_mutex_init(&blk->pool.lock, NULL);
	pthread_cond_init(&blk->pool.cond, NULL);
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		blk->q[i].kick_fd = blk->q[i].done_fd = blk->q[i].stop_fd = -1;

	ret = blk_open(blk, cfg->path);
	if (ret < 0)
		goto err;
	for (unsigned i = 0; i < blk->cfg.num_queues; i++) {
		struct blk_queue *q = &blk->q[i];

		q->blk = blk;
		q->index = i;
		pthread_mutex_init(&q->done_lock, NULL);
		q->reqs = calloc(blk->cfg.queue_size, sizeof(*q->reqs));
		q->kick_fd = efd_create();
		q->done_fd = efd_create();
		q->stop_fd = efd_create();
		if (!q->reqs || q->kick_fd < 0 || q->done_fd < 0 || q->stop_fd < 0) {
			ret = -ENOMEM;
			log_err("%s: cannot allocate queue %u", blk->name, i);
			goto err;
		}
	}
	if (blk->cfg.io != BLK_IO_THREADS)
		blk_create_rings(blk);
	log_info("%s: %llu sectors%s, %u queue(s) of %u, cache %s, I/O %s", blk->name,
		 (unsigned long long)blk->capacity, blk->cfg.readonly ? ", read-only" : "",
		 blk->cfg.num_queues, blk->cfg.queue_size, blk->direct ? "O_DIRECT" : "page cache",
		 blk_io_backend(blk));
	*out = blk;
	return 0;
err:
	blk_destroy(blk);
	return ret;
}

void blk_destroy(struct blk *blk)
{
	if (!blk)
		return;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
		struct blk_queue *q = &blk->q[i];

		if (q->started)
			blk_queue_stop(blk, i);
		blk_uring_fini(q);
		if (q->kick_fd >= 0)
			close(q->kick_fd);
		if (q->done_fd >= 0)
			close(q->done_fd);
		if (q->stop_fd >= 0)
			close(q->stop_fd);
		if (q->reqs)
			pthread_mutex_destroy(&q->done_lock);
		free(q->reqs);
	}
	blk_pool_stop(blk);
	if (blk->fd >= 0 && blk->fd != blk->fd_buffered)
		close(blk->fd);
	if (blk->fd_buffered >= 0)
		close(blk->fd_buffered);
	free(blk);
}
