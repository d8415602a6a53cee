// SPDX-License-Identifier: GPL-2.0-only
#include "netdev_relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

#define RELAY_DEPTH_DEFAULT 256u
#define RELAY_DEPTH_MAX 4096u

struct relay_slot {
	uint16_t len;
	uint8_t data[NETDEV_MAX_FRAME];
};

struct netdev_relay {
	struct evloop *loop;
	struct netdev_backend inner;
	int efd;
	pthread_mutex_t lock;
	unsigned depth;
	/*
	 * Producers fill slot[tail % depth] under the lock; the loop thread owns slot[head % depth]
	 * while it is queued, so it reads the frame without the lock and only takes it to move
	 * head.
	 */
	uint64_t head, tail;
	bool rx_ready;
	struct netdev_relay_stats st;
	struct relay_slot *slot;
};

static int relay_send(void *opaque, const void *frame, size_t len)
{
	struct netdev_relay *r = opaque;
	bool wake;

	if (len > NETDEV_MAX_FRAME)
		return -EMSGSIZE;
	pthread_mutex_lock(&r->lock);
	if (r->tail - r->head >= r->depth) {
		r->st.full++;
		pthread_mutex_unlock(&r->lock);
		return -ENOBUFS;
	}
	struct relay_slot *s = &r->slot[r->tail % r->depth];

	memcpy(s->data, frame, len);
	s->len = (uint16_t)len;
	wake = r->tail == r->head; /* the loop drains until empty: wake it only from empty */
	r->tail++;
	r->st.queued++;
	pthread_mutex_unlock(&r->lock);
	if (wake)
		(void)efd_signal(r->efd);
	return 0;
}

static void relay_rx_ready(void *opaque)
{
	struct netdev_relay *r = opaque;

	pthread_mutex_lock(&r->lock);
	r->rx_ready = true;
	pthread_mutex_unlock(&r->lock);
	(void)efd_signal(r->efd);
}

static void relay_run(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct netdev_relay *r = opaque;
	bool rx_ready;

	(void)loop;
	(void)events;
	efd_drain(fd);
	pthread_mutex_lock(&r->lock);
	rx_ready = r->rx_ready;
	r->rx_ready = false;
	if (rx_ready)
		r->st.rx_ready++;
	pthread_mutex_unlock(&r->lock);
	if (rx_ready && r->inner.rx_ready)
		r->inner.rx_ready(r->inner.opaque);

	for (unsigned n = 0;; n++) {
		struct relay_slot *s;
		int ret;

		pthread_mutex_lock(&r->lock);
		if (r->head == r->tail) {
			pthread_mutex_unlock(&r->lock);
			return;
		}
		if (n == r->depth) {
			/* Yield to other watches; come back for the rest. */
			pthread_mutex_unlock(&r->lock);
			(void)efd_signal(r->efd);
			return;
		}
		s = &r->slot[r->head % r->depth];
		pthread_mutex_unlock(&r->lock);

		ret = r->inner.send(r->inner.opaque, s->data, s->len);

		pthread_mutex_lock(&r->lock);
		r->head++;
		if (ret == 0)
			r->st.sent++;
		else
			r->st.inner_err++;
		pthread_mutex_unlock(&r->lock);
	}
}

int netdev_relay_create(const struct netdev_relay_cfg *cfg, struct netdev_relay **out)
{
	struct netdev_relay *r;
	int ret;

	if (!cfg || !cfg->loop || !cfg->inner.send || !out || cfg->depth > RELAY_DEPTH_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = cfg->loop;
	r->inner = cfg->inner;
	r->depth = cfg->depth ? cfg->depth : RELAY_DEPTH_DEFAULT;
	r->slot = calloc(r->depth, sizeof(*r->slot));
	if (!r->slot) {
		ret = -ENOMEM;
		goto err_free;
	}
	r->efd = efd_create();
	if (r->efd < 0) {
		ret = r->efd;
		goto err_slots;
	}
	pthread_mutex_init(&r->lock, NULL);
	ret = evloop_add(r->loop, r->efd, EPOLLIN, relay_run, r);
	if (ret)
		goto err_efd;
	*out = r;
	return 0;

err_efd:
	pthread_mutex_destroy(&r->lock);
	close(r->efd);
err_slots:
	free(r->slot);
err_free:
	free(r);
	log_err("netdev relay: set-up failed: %s", strerror(-ret));
	return ret;
}

void netdev_relay_destroy(struct netdev_relay *r)
{
	if (!r)
		return;
	evloop_del(r->loop, r->efd);
	close(r->efd);
	pthread_mutex_destroy(&r->lock);
	free(r->slot);
	free(r);
}

void netdev_relay_backend(struct netdev_relay *r, struct netdev_backend *out)
{
	out->send = relay_send;
	out->rx_ready = relay_rx_ready;
	out->opaque = r;
}

void netdev_relay_get_stats(struct netdev_relay *r, struct netdev_relay_stats *out)
{
	pthread_mutex_lock(&r->lock);
	*out = r->st;
	pthread_mutex_unlock(&r->lock);
}
