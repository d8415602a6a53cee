/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thread hop between a frame device and a backend that must be driven from one thread.
 *
 * Emulated NICs transmit on whichever vCPU thread wrote the "go" register, while some backends
 * (the vhost-user netdev with VMM-owned rings, net/virtio/vhost_user_netdev.h) are single-threaded
 * and live on an evloop thread. The relay is a netdev_backend for the device: send() copies the
 * frame into a bounded queue and wakes the loop, where the inner backend's send() runs; rx_ready()
 * is forwarded the same way. A full queue drops the frame (counted, -ENOBUFS), as a busy wire
 * would.
 *
 * The receive direction needs no hop: the backend calls the device's netdev_frontend on its own
 * thread and the device locks itself.
 *
 * Threads: send()/rx_ready() from any thread; create/destroy on the loop thread or with the loop
 * stopped; the inner backend is only ever called on the loop thread.
 */
#ifndef NFV_NET_NETDEV_RELAY_H
#define NFV_NET_NETDEV_RELAY_H

#include <stdint.h>

#include "evloop.h"
#include "netdev.h"

struct netdev_relay;

struct netdev_relay_cfg {
	struct evloop *loop;	     /* required: the inner backend's thread */
	struct netdev_backend inner; /* required: send; rx_ready optional */
	unsigned depth;		     /* frames queued at most; 0: 256 */
};

struct netdev_relay_stats {
	uint64_t queued;    /* accepted from the device */
	uint64_t full;	    /* dropped: queue full */
	uint64_t sent;	    /* handed to the inner backend, which returned 0 */
	uint64_t inner_err; /* the inner backend's send() failed */
	uint64_t rx_ready;  /* rx_ready notifications forwarded */
};

/* 0, -EINVAL (cfg), -ENOMEM, or the evloop's -errno. */
int netdev_relay_create(const struct netdev_relay_cfg *cfg, struct netdev_relay **out)
	__attribute__((warn_unused_result));
/* Frames still queued are dropped. NULL-safe. */
void netdev_relay_destroy(struct netdev_relay *r);
/* The backend to give the device. */
void netdev_relay_backend(struct netdev_relay *r, struct netdev_backend *out);
void netdev_relay_get_stats(struct netdev_relay *r, struct netdev_relay_stats *out);

#endif
