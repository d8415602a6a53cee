// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user netdev against a backend that lies in the rings: the test plays the backend's
 * data path itself (same process, so the ring addresses from SET_VRING_ADDR are usable pointers)
 * and writes used entries with foreign ids, duplicate ids, impossible lengths and indices that
 * run ahead. Every lie is counted, nothing crashes, and honest entries keep working.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "test_fake_backend.h"
#include "util.h"
#include "vhost_user_netdev.h"
#include "test.h"

#define QSZ 16
#define HDR 12

struct ring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail, used_idx;
};

static void ring_from_log(struct fbe *f, unsigned q, struct ring *r)
{
	const struct fbe_entry *e = fbe_find(f, VHOST_USER_SET_VRING_ADDR, (int)q);

	memset(r, 0, sizeof(*r));
	CHECK(e != NULL);
	if (!e)
		return;
	r->desc = (void *)(uintptr_t)e->msg.payload.addr.desc_uaddr;
	r->avail = (void *)(uintptr_t)e->msg.payload.addr.avail_uaddr;
	r->used = (void *)(uintptr_t)e->msg.payload.addr.used_uaddr;
}

static void used_put(struct ring *r, uint32_t id, uint32_t len)
{
	r->used->ring[r->used_idx % QSZ].id = htole32(id);
	r->used->ring[r->used_idx % QSZ].len = htole32(len);
	r->used_idx++;
	__atomic_store_n(&r->used->idx, htole16(r->used_idx), __ATOMIC_RELEASE);
}

/* Deliver one honest frame into the next available RX buffer. */
static void rx_honest(struct ring *r, uint8_t tag)
{
	uint16_t head = le16toh(r->avail->ring[r->last_avail % QSZ]);
	uint8_t *buf = (void *)(uintptr_t)le64toh(r->desc[head].addr);

	r->last_avail++;
	memset(buf, 0, HDR + 60);
	buf[HDR] = tag;
	used_put(r, head, HDR + 60);
}

struct rx_ctx {
	unsigned n;
	uint8_t last_tag;
};

static int rx_cb(void *opaque, const void *frame, size_t len)
{
	struct rx_ctx *c = opaque;

	CHECK(len == 60);
	c->n++;
	c->last_tag = ((const uint8_t *)frame)[0];
	return 0;
}

int main(void)
{
	char path[64];
	struct fbe fb;
	struct vun *vun = NULL;
	struct vun_cfg cfg = { .queue_size = QSZ, .timeout_ms = 5000 };
	struct vun_stats st;
	struct ring rx, tx;
	struct rx_ctx rc = { 0 };
	uint8_t frame[60] = { 0 };

	log_set_level(LOGL_ERR);
	snprintf(path, sizeof(path), "/tmp/nfv-vun-hostile-%d.sock", getpid());
	CHECK(fbe_listen_start(&fb, path, (1ull << 32) | (1ull << 30), 1ull << 3) == 0);
	cfg.path = path;
	CHECK(vun_create(&cfg, &vun) == 0);
	if (!vun)
		return 1;
	CHECK(vun_connect(vun, 5000) == 0);
	ring_from_log(&fb, 0, &rx);
	ring_from_log(&fb, 1, &tx);
	if (!rx.used || !tx.used)
		goto out;
	CHECK(le16toh(rx.avail->idx) == QSZ); /* every RX buffer posted up front */

	/* Honest RX works. */
	rx_honest(&rx, 1);
	CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 1 && rc.last_tag == 1);

	/* RX lies: foreign id, then an id we do not own any more, then an impossible length. */
	used_put(&rx, QSZ + 5, HDR + 60);
	CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 0);
	{
		/* The same buffer twice in one batch: the second is not the backend's to give. */
		uint16_t head = le16toh(rx.avail->ring[rx.last_avail % QSZ]);

		rx.last_avail++;
		used_put(&rx, head, HDR + 60);
		used_put(&rx, head, HDR + 60);
		CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 1);
	}
	{
		uint16_t head = le16toh(rx.avail->ring[rx.last_avail % QSZ]);

		rx.last_avail++;
		used_put(&rx, head, 100000); /* longer than the buffer */
		CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 0);
		head = le16toh(rx.avail->ring[rx.last_avail % QSZ]);
		rx.last_avail++;
		used_put(&rx, head, HDR); /* a header and no frame */
		CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 0);
	}
	vun_get_stats(vun, &st);
	CHECK(st.rx_bad == 4);
	CHECK(st.rx_packets == 2);

	/* The used index jumping far ahead is refused as a whole. */
	rx.used_idx += 1000;
	__atomic_store_n(&rx.used->idx, htole16(rx.used_idx), __ATOMIC_RELEASE);
	CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 0);
	vun_get_stats(vun, &st);
	CHECK(st.rx_bad == 5);
	rx.used_idx -= 1000;
	__atomic_store_n(&rx.used->idx, htole16(rx.used_idx), __ATOMIC_RELEASE);
	/* Honest traffic still flows after all that. */
	rx_honest(&rx, 7);
	CHECK(vun_poll_rx(vun, rx_cb, &rc, 64) == 1 && rc.last_tag == 7);

	/* TX: fill the ring, then lie about completions. */
	for (unsigned i = 0; i < QSZ; i++)
		CHECK(vun_send(vun, frame, sizeof(frame)) == 0);
	CHECK(vun_send(vun, frame, sizeof(frame)) == -ENOBUFS);
	used_put(&tx, QSZ + 3, 0); /* foreign id */
	{
		uint16_t head = le16toh(tx.avail->ring[0]);

		used_put(&tx, head, 0);	 /* honest */
		used_put(&tx, head, 0);	 /* the same descriptor twice */
	}
	CHECK(vun_send(vun, frame, sizeof(frame)) == 0); /* the honest one freed a slot */
	CHECK(vun_send(vun, frame, sizeof(frame)) == -ENOBUFS);
	vun_get_stats(vun, &st);
	CHECK(st.tx_bad == 2);
	/* More completions than are outstanding: ignored whole. */
	tx.used_idx += 200;
	__atomic_store_n(&tx.used->idx, htole16(tx.used_idx), __ATOMIC_RELEASE);
	CHECK(vun_send(vun, frame, sizeof(frame)) == -ENOBUFS);
	vun_get_stats(vun, &st);
	CHECK(st.tx_bad == 3);
	CHECK(vun_tx_inflight(vun) == QSZ);
	/* Oversized and empty frames never reach the ring. */
	{
		static uint8_t big[VUN_BUF_SIZE];

		CHECK(vun_send(vun, big, sizeof(big)) == -EMSGSIZE);
		CHECK(vun_send(vun, big, 0) == -EMSGSIZE);
	}
out:
	vun_destroy(vun);
	fbe_join(&fb);
	unlink(path);
	TEST_DONE("vun_hostile_unit");
}
