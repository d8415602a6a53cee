/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-user netdev with VMM-owned rings ("vun"): the VMM itself is the virtio-net driver, as
 * DPDK's virtio_user is. A shared memfd holds two split virtqueues (RX = queue 0, TX = queue 1) and
 * their packet buffers; it is registered with the backend through SET_MEM_TABLE and the backend
 * (nfv-switch, testpmd, OVS-DPDK) moves frames in and out of it.
 *
 * Used by device models that are not virtio (NE2000: its send()/receive() land here) and as the
 * harness for the vhost-user frontend, since it needs no guest.
 *
 * Threads: one owner thread calls everything (typically an evloop thread watching vun_rx_fd() and
 * vun_sock_fd()), except that vun_send() and vun_tx_inflight() may instead run on one other thread
 * (the TX thread, serialised by the caller): the TX ring is touched only there and the link state
 * is read atomically. Frames are copied in and out; nothing is kept after a call.
 */
#ifndef NFV_NET_VIRTIO_VHOST_USER_NETDEV_H
#define NFV_NET_VIRTIO_VHOST_USER_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VUN_RXQ 0
#define VUN_TXQ 1
#define VUN_BUF_SIZE 2048u
/* Largest frame (without virtio-net header) that fits one buffer. */
#define VUN_MAX_FRAME (VUN_BUF_SIZE - 12u)

struct vun;

struct vun_cfg {
	const char *path;     /* vhost-user socket */
	bool server;	      /* true: we listen, the backend connects */
	unsigned queue_size;  /* power of two, 0 means 256 */
	int timeout_ms;	      /* per backend reply, 0 means 5000 */
	/* Link state changes (backend gone / back). May be NULL. */
	void (*on_link)(void *opaque, bool up);
	void *opaque;
};

struct vun_stats {
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_full;     /* -ENOBUFS: TX ring had no free descriptor */
	uint64_t tx_down;     /* -ENETDOWN: no backend */
	uint64_t tx_too_big;  /* -EMSGSIZE */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_refused;  /* times the receive callback said -ENOBUFS */
	uint64_t rx_bad;      /* RX used entries from the backend that failed a check */
	uint64_t tx_bad;      /* TX used entries from the backend that failed a check */
	uint64_t kicks;
	uint64_t link_changes;
};

/* Allocate the shared memory and rings; no connection yet. 0 or -errno. */
int vun_create(const struct vun_cfg *cfg, struct vun **out) __attribute__((warn_unused_result));
/* Tear down (GET_VRING_BASE to stop the rings when connected, then close). NULL-safe. */
void vun_destroy(struct vun *vun);

/*
 * Connect (client: retry until @timeout_ms; server: wait up to @timeout_ms, -1 forever for the
 * backend) and set up both rings. Link goes up on success. 0, -ETIMEDOUT, -ECONNREFUSED, -EPROTO...
 */
int vun_connect(struct vun *vun, int timeout_ms) __attribute__((warn_unused_result));
/*
 * After the link went down: connect again and replay features, mem table and both rings from
 * where the used rings say the old backend stopped (before the first complete set-up: the same as
 * vun_connect). 0 or -errno (link stays down; call again later, with backoff).
 */
int vun_reconnect(struct vun *vun, int timeout_ms) __attribute__((warn_unused_result));
/* Check the control socket (call when vun_sock_fd() is readable/hung up, or periodically). */
bool vun_check(struct vun *vun);
bool vun_link_up(const struct vun *vun);

/*
 * Copy one Ethernet frame into a TX descriptor and notify the backend.
 * 0; -ENOBUFS when the TX ring is full (the backend has not consumed earlier frames: back-pressure,
 * counted); -ENETDOWN while the backend is away; -EMSGSIZE for len 0 or > VUN_MAX_FRAME.
 */
int vun_send(struct vun *vun, const void *frame, size_t len) __attribute__((warn_unused_result));

/*
 * Receive callback: the frame pointer is valid during the call only. Return -ENOBUFS to refuse the
 * frame for now: it stays at the head of the ring and polling stops (the backend drops what does
 * not fit behind it, as a full NIC ring would). Any other value consumes the frame.
 */
typedef int (*vun_rx_cb)(void *opaque, const void *frame, size_t len);
/*
 * Deliver up to @budget received frames to @cb and give their buffers back to the backend.
 * Returns the number consumed (>= 0).
 */
unsigned vun_poll_rx(struct vun *vun, vun_rx_cb cb, void *opaque, unsigned budget);
/* Number of TX frames handed to the backend and not yet completed. */
unsigned vun_tx_inflight(struct vun *vun);

/* Eventfd the backend signals when RX frames arrive (watch EPOLLIN, efd_drain, vun_poll_rx). */
int vun_rx_fd(const struct vun *vun);
/* The vhost-user control socket, or -1 while disconnected (watch EPOLLRDHUP -> vun_check). */
int vun_sock_fd(const struct vun *vun);

void vun_get_stats(const struct vun *vun, struct vun_stats *st);
/* The underlying connection, for its statistics and features. */
struct vhost_user *vun_vhost_user(struct vun *vun);

#endif
