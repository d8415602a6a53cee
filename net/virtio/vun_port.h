/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-user backend for frame devices (struct netdev_frontend, net/netdev.h), e.g. the NE2000:
 * a vhost_user_netdev (VMM-owned rings) run on an evloop, with the netdev seam's threading and
 * back-pressure rules, and the reconnect policy of ARCHITECTURE.md (link down while the switch is
 * away, reconnect with backoff forever).
 *
 *   - send() (struct netdev_backend) may be called from any thread (a vCPU thread, with the
 *     device's lock held): it copies the frame into the TX ring and kicks; it never blocks on the
 *     backend. Returns 0, -ENOBUFS (TX ring full), -ENETDOWN (no backend), -EMSGSIZE.
 *   - received frames are offered to the frontend on the loop's thread when the backend signals;
 *     a -ENOBUFS from receive() pauses reception (frames wait in our RX ring; the switch drops what
 *     does not fit, as a wire would) until the device calls rx_ready().
 *   - the control socket is watched on the loop; on loss the link goes down and a timer retries
 *     (100 ms doubling to 5 s; server mode waits for the backend to connect).
 *
 * vun_port_create/attach/destroy run on the loop's thread or while it is not running.
 */
#ifndef NFV_NET_VIRTIO_VUN_PORT_H
#define NFV_NET_VIRTIO_VUN_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"
#include "netdev.h"
#include "vhost_user_netdev.h"

struct vun_port;

struct vun_port_cfg {
	const char *path;    /* vhost-user socket */
	bool server;	     /* true: we listen */
	struct evloop *loop; /* required */
	unsigned queue_size; /* 0: 256 */
	int timeout_ms;	     /* per backend reply, 0: 5000 */
	unsigned burst;	     /* frames offered per wakeup, 0: 32 */
	/* Link state changes, on the loop's thread (or in create). Optional. */
	void (*on_link)(void *opaque, bool up);
	void *opaque;
};

/*
 * Create and make one connection attempt (client: one connect; server: accept if a backend is
 * already waiting); without a backend it stays link down and keeps trying. 0 or -errno.
 */
int vun_port_create(const struct vun_port_cfg *cfg, struct vun_port **out)
	__attribute__((warn_unused_result));
void vun_port_destroy(struct vun_port *p);

/* The device that gets received frames (copied). Until then received frames stay in the ring. */
void vun_port_attach(struct vun_port *p, const struct netdev_frontend *fe);
/* The backend half for the device: send() and rx_ready(). */
void vun_port_backend(struct vun_port *p, struct netdev_backend *out);

bool vun_port_link_up(const struct vun_port *p);
/* The underlying netdev (statistics). */
struct vun *vun_port_vun(struct vun_port *p);

#endif
