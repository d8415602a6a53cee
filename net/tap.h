/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Linux tap backend for any frame device (struct netdev_frontend): /dev/net/tun opened with
 * IFF_TAP | IFF_NO_PI, non-blocking. Received frames are read on an evloop thread and offered to
 * the device; transmitted frames are written directly from the caller's thread.
 *
 * Back-pressure: when the device cannot take a frame (can_receive() false or receive() -ENOBUFS)
 * the tap stops reading, so frames wait in the kernel's queue (which drops when it is full, as a
 * switch port would), and resumes when the device calls its netdev_backend.rx_ready().
 *
 * Threads: tap_create/tap_attach/tap_destroy and the RX path run on the evloop's thread (or before
 * the loop runs); send() and rx_ready() may be called from any thread. Needs CAP_NET_ADMIN to
 * create an interface, or an fd already opened by a privileged parent (tap_cfg.fd).
 */
#ifndef NFV_NET_TAP_H
#define NFV_NET_TAP_H

#include <stdint.h>

#include "evloop.h"
#include "netdev.h"

struct tap;

struct tap_cfg {
	const char *ifname;  /* interface name or template ("nfv%d"); NULL: the kernel's "tap%d" */
	int fd;		     /* >= 0: an attached tap fd to use (ownership passes); -1: open one */
	struct evloop *loop; /* required: the loop that reads frames */
	unsigned burst;	     /* frames handled per wakeup before yielding; 0: 32 */
};

struct tap_stats {
	uint64_t rx_packets, rx_bytes; /* taken by the device */
	uint64_t rx_refused;	       /* device refused (ring full / receiver off): frame lost */
	uint64_t rx_oversize;	       /* longer than NETDEV_MAX_FRAME: dropped */
	uint64_t rx_pauses;	       /* times reading stopped for back-pressure */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_dropped; /* kernel queue full (EAGAIN) or interface down */
	uint64_t tx_errors;  /* other write errors */
};

/* Open (or adopt) the tap and register it with the loop; frames are read once attached. */
int tap_create(const struct tap_cfg *cfg, struct tap **out) __attribute__((warn_unused_result));
/* Unregister and close. NULL-safe; on the loop's thread or with the loop stopped. */
void tap_destroy(struct tap *tap);

/* Connect the device that receives this tap's frames (copied). Until then frames stay queued. */
void tap_attach(struct tap *tap, const struct netdev_frontend *fe);
/* The backend half to give the device: send() writes to the tap, rx_ready() resumes reading. */
void tap_backend(struct tap *tap, struct netdev_backend *out);

const char *tap_ifname(const struct tap *tap);
int tap_fd(const struct tap *tap);
void tap_get_stats(const struct tap *tap, struct tap_stats *out);

#endif
