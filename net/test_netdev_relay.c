// SPDX-License-Identifier: GPL-2.0-only
/*
 * netdev relay: frames sent from several threads reach the inner backend on the loop thread only,
 * in order per sender, none lost unless counted (queue full / inner error); rx_ready is forwarded.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "netdev_relay.h"

#define SENDERS 3
#define FRAMES 20000

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static pthread_t loop_thread;
static struct evloop *loop;
static struct netdev_relay *relay;
static struct netdev_backend be;
static uint32_t last_seq[SENDERS];
static uint64_t got, wrong_thread, out_of_order, bad_len, rx_readies;

static int inner_send(void *opaque, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	uint32_t seq;
	unsigned id;

	(void)opaque;
	if (!pthread_equal(pthread_self(), loop_thread))
		wrong_thread++;
	if (len != 60u + (f[0] % 64u)) {
		bad_len++;
		return 0;
	}
	id = f[0] % SENDERS;
	memcpy(&seq, f + 1, 4);
	if (seq <= last_seq[id] && last_seq[id] != 0)
		out_of_order++;
	last_seq[id] = seq;
	got++;
	return seq % 100 == 0 ? -ENOBUFS : 0;
}

static void inner_rx_ready(void *opaque)
{
	(void)opaque;
	if (!pthread_equal(pthread_self(), loop_thread))
		wrong_thread++;
	rx_readies++;
}

static void *loop_main(void *arg)
{
	(void)arg;
	if (evloop_run(loop, -1) < 0)
		failures++;
	return NULL;
}

static void *sender(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint8_t f[NETDEV_MAX_FRAME];

	memset(f, 0xab, sizeof(f));
	for (uint32_t seq = 1; seq <= FRAMES; seq++) {
		f[0] = (uint8_t)(id + SENDERS * (seq % 21));
		memcpy(f + 1, &seq, 4);
		if (be.send(be.opaque, f, 60 + (f[0] % 64)) != 0)
			usleep(10); /* queue full: counted by the relay; let the loop catch up */
		if (seq % 5000 == 0)
			be.rx_ready(be.opaque);
	}
	return NULL;
}

int main(void)
{
	struct netdev_relay_cfg cfg = {.depth = 64,
				       .inner = {.send = inner_send, .rx_ready = inner_rx_ready}};
	struct netdev_relay_stats st;
	pthread_t th[SENDERS];

	log_set_level(LOGL_ERR);
	CHECK(evloop_create(&loop) == 0);
	cfg.loop = loop;
	CHECK(netdev_relay_create(&cfg, &relay) == 0);
	cfg.depth = 100000;
	CHECK(netdev_relay_create(&cfg, &(struct netdev_relay *){NULL}) == -EINVAL);
	netdev_relay_backend(relay, &be);
	CHECK(pthread_create(&loop_thread, NULL, loop_main, NULL) == 0);
	for (unsigned i = 0; i < SENDERS; i++)
		CHECK(pthread_create(&th[i], NULL, sender, (void *)(uintptr_t)i) == 0);
	for (unsigned i = 0; i < SENDERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2000; i++) {
		netdev_relay_get_stats(relay, &st);
		if (st.sent + st.inner_err == st.queued && rx_readies > 0)
			break;
		usleep(1000);
	}
	evloop_stop(loop);
	pthread_join(loop_thread, NULL);

	netdev_relay_get_stats(relay, &st);
	printf("queued %llu full %llu sent %llu inner_err %llu rx_ready %llu\n",
	       (unsigned long long)st.queued, (unsigned long long)st.full,
	       (unsigned long long)st.sent, (unsigned long long)st.inner_err,
	       (unsigned long long)st.rx_ready);
	CHECK(st.queued + st.full == (uint64_t)SENDERS * FRAMES);
	CHECK(st.sent + st.inner_err == st.queued);
	CHECK(got == st.queued);
	CHECK(st.inner_err >= 1);
	CHECK(wrong_thread == 0);
	CHECK(out_of_order == 0);
	CHECK(bad_len == 0);
	CHECK(rx_readies >= 1 && rx_readies == st.rx_ready);
	CHECK(be.send(be.opaque, "x", NETDEV_MAX_FRAME + 1) == -EMSGSIZE);
	netdev_relay_destroy(relay);
	evloop_destroy(loop);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
