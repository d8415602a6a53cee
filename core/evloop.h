/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small epoll loop for control threads (sockets, eventfds, signalfds, timers). Not for data
 * paths: PMDs and vCPUs never wait here. Callbacks run on the thread that calls evloop_run().
 */
#ifndef NFV_CORE_EVLOOP_H
#define NFV_CORE_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;
typedef void (*evloop_cb)(struct evloop *loop, int fd, uint32_t events, void *opaque);

int evloop_create(struct evloop **out) __attribute__((warn_unused_result));
void evloop_destroy(struct evloop *loop);

/* Watch @fd for @events (EPOLLIN...); one watch per fd. 0 or -errno. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_cb cb, void *opaque)
	__attribute__((warn_unused_result));
int evloop_mod(struct evloop *loop, int fd, uint32_t events) __attribute__((warn_unused_result));
/* Stop watching @fd (safe from inside a callback, including the fd's own). */
void evloop_del(struct evloop *loop, int fd);

/* Run callbacks for at most @timeout_ms (-1: until evloop_stop). 0 or -errno. */
int evloop_run(struct evloop *loop, int timeout_ms) __attribute__((warn_unused_result));
/* Make evloop_run return after the current callback; callable from any thread or signal. */
void evloop_stop(struct evloop *loop);
bool evloop_stopped(const struct evloop *loop);

/* eventfd helpers: create (EFD_NONBLOCK|EFD_CLOEXEC), signal, and drain (returns the count). */
int efd_create(void) __attribute__((warn_unused_result));
int efd_signal(int fd);
uint64_t efd_drain(int fd);

#endif
