/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-net device control plane for nfv-vmm (virtio 1.2 s5.1), with the data path in a
 * vhost-user backend (nfv-switch, testpmd, OVS-DPDK).
 *
 * The device implements struct virtio_dev_ops (virtio/virtio_dev.h) for the virtio-pci transport:
 *   - features: offered = what the VMM itself implements (MAC, STATUS, MTU, CTRL_VQ, CTRL_RX,
 *     CTRL_MAC_ADDR) + the data-path features the backend offers (VERSION_1, MRG_RXBUF, CSUM,
 *     TSO..., EVENT_IDX, INDIRECT_DESC, RING_PACKED) + MQ when the backend has enough queues. The guest is never
 *     offered a data-path feature the backend lacks; the backend gets SET_FEATURES with the guest's
 *     acks masked to what it offered.
 *   - config space (s5.1.4): mac, status (LINK_UP while the backend is there), max_virtqueue_pairs,
 *     mtu. Read-only to the guest.
 *   - data queues 0..2*max_pairs-1 are handed to the backend: SET_MEM_TABLE with the fds of guest
 *     RAM (every gmem region must have an fd), SET_VRING_NUM/BASE/ADDR (ring addresses translated
 *     from guest physical to our mapping through the gmem regions), KICK (the eventfd returned by
 *     queue_kick_fd, which the transport binds as a KVM ioeventfd on the queue's notify address) and
 *     CALL (the eventfd the VMM binds as irqfd to the queue's MSI-X vector, from cfg->queue_call_fd;
 *     without one, the device relays the backend's eventfd to vq->call on cfg->loop).
 *   - packed rings (virtio 1.2 s2.8, when the guest acks RING_PACKED): SET_VRING_ADDR carries the
 *     descriptor ring, the driver and the device event suppression areas in its desc, avail and
 *     used fields; SET_VRING_BASE carries index and wrap counter of both the avail and the used
 *     position (virtio_net_packed.h), slot 0 with wrap 1 for a fresh ring.
 *   - the control queue (index 2*max_pairs, split or packed) is handled here: VIRTIO_NET_CTRL_MQ (pairs set),
 *     CTRL_RX and CTRL_MAC (accepted; the switch does no filtering), ANNOUNCE_ACK.
 *   - when the backend goes away the guest keeps running: link down + config interrupt, reconnect
 *     with backoff (100 ms doubling to 5 s) forever on cfg->loop, then the state is replayed (rings
 *     resume at the used index the guest sees; packed rings at the slot after the last used
 *     descriptor, see vnp_resume_pos()) and the link comes up with another config interrupt.
 *
 * Threads: virtio_dev_ops callbacks come from the transport (a vCPU thread); the evloop callbacks
 * (socket watch, reconnect timer, listen socket, call relays) run on cfg->loop's thread. One mutex
 * per device serialises the two. The evloop is not thread-safe, so virtio_net_create() and
 * virtio_net_destroy() must run on the loop's thread or while it is not running; vCPU-side calls
 * never touch the loop's watch list (they only arm the device's timerfd).
 */
#ifndef NFV_NET_VIRTIO_VIRTIO_NET_H
#define NFV_NET_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"
#include "gmem.h"
#include "virtio_dev.h"

#define VIRTIO_NET_MAX_PAIRS 8
/* Device config layout (virtio 1.2 s5.1.4): mac[6], status, max_virtqueue_pairs, mtu. */
#define VIRTIO_NET_CONFIG_SIZE 12

struct virtio_net;

struct virtio_net_cfg {
	const char *name;	   /* for logs */
	uint8_t mac[6];
	uint16_t mtu;		   /* 0: VIRTIO_NET_F_MTU not offered */
	uint16_t max_queue_pairs;  /* 1..VIRTIO_NET_MAX_PAIRS, 0 means 1 */
	uint16_t queue_size;	   /* max per queue, power of two; 0 means 256 */
	struct gmem *gm;	   /* guest RAM; regions need fds to be shared with the backend */
	const char *socket_path;   /* vhost-user socket */
	bool server;		   /* we listen (libvirt <source mode='server'>) */
	int timeout_ms;		   /* per backend reply; 0 means 5000 */
	/*
	 * How long create waits for the backend (client: for its socket to accept; server: for it
	 * to connect), so that the guest can be offered its features: 0 means timeout_ms, < 0 one
	 * attempt only. Without a backend by then the device starts link down (see create).
	 */
	int connect_wait_ms;
	struct evloop *loop;	   /* control loop for reconnects and call relays; required */
	/*
	 * Optional: the eventfd bound as irqfd to data queue @q's interrupt vector (the VMM owns it).
	 * Return -1 to have the device relay interrupts through vq->call instead. Called from
	 * queue_start with the device lock held: it must not call back into the transport.
	 */
	int (*queue_call_fd)(void *opaque, unsigned q);
	/*
	 * Raise the configuration-change interrupt (s4.1.4.3 config_generation, s2.5). Optional.
	 * Always called on the loop's thread with no device lock held (so it may take the
	 * transport's locks), shortly after the link changed.
	 */
	void (*config_changed)(void *opaque);
	void *opaque;
};

struct virtio_net_stats {
	uint64_t ctrl_ok, ctrl_err;   /* control commands answered OK / ERR */
	uint64_t ctrl_bad;	      /* malformed control chains */
	uint64_t config_writes;	      /* guest writes to the read-only config, ignored */
	uint64_t link_down, link_up;  /* transitions */
	uint64_t reconnect_attempts;
	uint64_t call_relays;	      /* interrupts relayed by the device */
};

/*
 * Create the device and wait up to cfg->connect_wait_ms for the backend. Without a backend the
 * device still comes up, link down, offering only VERSION_1 among the data-path features, and
 * keeps trying. 0 or -errno (-EINVAL for a bad cfg, -ENOTSUP when guest RAM has no fd to share).
 */
int virtio_net_create(const struct virtio_net_cfg *cfg, struct virtio_net **out)
	__attribute__((warn_unused_result));
void virtio_net_destroy(struct virtio_net *vn);

/* Transport glue: the ops table (opaque = the struct virtio_net) and the device description. */
extern const struct virtio_dev_ops virtio_net_dev_ops;
void virtio_net_dev_info(const struct virtio_net *vn, struct virtio_dev_info *info);

bool virtio_net_link_up(const struct virtio_net *vn);
/* Queue pairs currently enabled in the backend (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET). */
unsigned virtio_net_active_pairs(const struct virtio_net *vn);
void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *st);

#endif
