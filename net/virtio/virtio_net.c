// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net control plane with a vhost-user data path. Spec references: virtio 1.2 (s5.1 network
 * device) and QEMU docs/interop/vhost-user.rst.
 */
#include "virtio_net.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "virtio_net_packed.h"
#include "virtq.h"

/* virtio 1.2 s5.1.3 feature bits. */
#define VN_F_CSUM 0
#define VN_F_GUEST_CSUM 1
#define VN_F_MTU 3
#define VN_F_MAC 5
#define VN_F_GUEST_TSO4 7
#define VN_F_GUEST_TSO6 8
#define VN_F_GUEST_ECN 9
#define VN_F_GUEST_UFO 10
#define VN_F_HOST_TSO4 11
#define VN_F_HOST_TSO6 12
#define VN_F_HOST_ECN 13
#define VN_F_HOST_UFO 14
#define VN_F_MRG_RXBUF 15
#define VN_F_STATUS 16
#define VN_F_CTRL_VQ 17
#define VN_F_CTRL_RX 18
#define VN_F_MQ 22
#define VN_F_CTRL_MAC_ADDR 23
#define VN_F_ANY_LAYOUT 27

#define BIT64(n) (1ull << (n))

/* Implemented by the VMM itself: config space and the control queue. */
#define VN_FEATURES_VMM                                                                            \
	(BIT64(VN_F_MAC) | BIT64(VN_F_STATUS) | BIT64(VN_F_CTRL_VQ) | BIT64(VN_F_CTRL_RX) |        \
	 BIT64(VN_F_CTRL_MAC_ADDR))
/* Implemented by whoever touches the rings and packets: only what the backend offers. */
#define VN_FEATURES_BACKEND                                                                        \
	(BIT64(VIRTIO_F_VERSION_1) | BIT64(VN_F_MRG_RXBUF) | BIT64(VN_F_CSUM) |                    \
	 BIT64(VN_F_GUEST_CSUM) | BIT64(VN_F_GUEST_TSO4) | BIT64(VN_F_GUEST_TSO6) |                \
	 BIT64(VN_F_GUEST_ECN) | BIT64(VN_F_GUEST_UFO) | BIT64(VN_F_HOST_TSO4) |                   \
	 BIT64(VN_F_HOST_TSO6) | BIT64(VN_F_HOST_ECN) | BIT64(VN_F_HOST_UFO) |                     \
	 BIT64(VIRTIO_F_EVENT_IDX) | BIT64(VIRTIO_F_INDIRECT_DESC) | BIT64(VN_F_ANY_LAYOUT) |      \
	 BIT64(VIRTIO_F_RING_PACKED))
/* Offered before any backend was ever seen: the minimum a modern driver needs. */
#define VN_FEATURES_NO_BACKEND BIT64(VIRTIO_F_VERSION_1)

/* s5.1.4 */
#define VN_S_LINK_UP 1

/* s5.1.6.5 control virtqueue */
#define VN_CTRL_OK 0
#define VN_CTRL_ERR 1
#define VN_CTRL_RX 0
#define VN_CTRL_RX_PROMISC 0
#define VN_CTRL_RX_ALLMULTI 1
#define VN_CTRL_MAC 1
#define VN_CTRL_MAC_TABLE_SET 0
#define VN_CTRL_MAC_ADDR_SET 1
#define VN_CTRL_ANNOUNCE 3
#define VN_CTRL_ANNOUNCE_ACK 0
#define VN_CTRL_MQ 4
#define VN_CTRL_MQ_VQ_PAIRS_SET 0

#define VN_CTRL_MAX_CMD 4096
#define VN_CTRL_MAX_IOV 64
#define VN_BACKOFF_MIN_MS 100u
#define VN_BACKOFF_MAX_MS 5000u

struct vn_queue {
	struct vq *vq;	 /* set between queue_start and queue_stop */
	int kick;	 /* ours: bound by the transport as ioeventfd */
	int call_own;	 /* ours: relayed to vq->call when the VMM gives no irqfd */
	bool watched;	 /* call_own is on the loop */
	/*
	 * Packed rings: the last ring base the backend was given or reported (vhost-user encoding),
	 * the fallback when the ring cannot be read at rest on a reconnect.
	 */
	uint32_t pk_base;
};

struct virtio_net {
	struct virtio_net_cfg cfg;
	char *name;
	pthread_mutex_t lock; /* recursive: vhost-user callbacks run inside our own calls */
	pthread_mutex_t ctrl_lock; /* serialises control-queue processing (see vn_queue_notify) */
	bool ctrl_rerun;	      /* atomic: a notification arrived while ctrl_lock was held */
	struct vhost_user *vu;
	unsigned max_pairs;
	unsigned nq;	      /* data queues */
	uint64_t backend_offer; /* data-path features of the last backend seen */
	bool backend_seen;
	bool backend_mq;      /* it can run max_pairs pairs */
	uint64_t acked;
	uint8_t mac[6];
	unsigned active_pairs;
	bool mem_set;
	bool link;
	int timer_fd;
	unsigned backoff_ms;
	int sock_dup;	      /* dup of the vhost-user socket watched on the loop, or -1 */
	bool config_pending;  /* a config-change interrupt is owed to the guest */
	bool listen_watched;
	struct vn_queue q[2 * VIRTIO_NET_MAX_PAIRS + 1];
	struct virtio_net_stats st;
};

static void vn_lock(struct virtio_net *vn)
{
	pthread_mutex_lock(&vn->lock);
}

static void vn_unlock(struct virtio_net *vn)
{
	pthread_mutex_unlock(&vn->lock);
}

static unsigned vn_ctrl_q(const struct virtio_net *vn)
{
	return vn->nq;
}

/* ---- Link state and reconnect ---- */

static void vn_sock_cb(struct evloop *loop, int fd, uint32_t events, void *opaque);

static void vn_arm_timer(struct virtio_net *vn, unsigned ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000L } };

	if (timerfd_settime(vn->timer_fd, 0, &its, NULL) < 0)
		log_rl(LOGL_ERR, "virtio-net %s: timerfd: %s", vn->name, strerror(errno));
}

/*
 * The config-change interrupt goes through the transport, which calls into us with its own lock
 * held; so it is never raised with our lock held or from inside a transport callback. It is
 * marked pending here and raised by vn_flush_config() on the loop thread after unlocking.
 */
static void vn_config_changed(struct virtio_net *vn)
{
	vn->config_pending = true;
	vn_arm_timer(vn, 1);
}

/* Loop thread (or create), lock NOT held. */
static void vn_flush_config(struct virtio_net *vn)
{
	bool pending;

	vn_lock(vn);
	pending = vn->config_pending;
	vn->config_pending = false;
	vn_unlock(vn);
	if (pending && vn->cfg.config_changed)
		vn->cfg.config_changed(vn->cfg.opaque);
}

/*
 * Called by vhost_user from inside whichever call noticed the loss (lock held), on a vCPU thread or
 * the loop thread. Only thread-safe things here: the loop's own watches are cleaned up by the
 * timer callback on the loop thread, which the timer arms.
 */
static void vn_on_disconnect(void *opaque)
{
	struct virtio_net *vn = opaque;

	if (vn->link) {
		__atomic_store_n(&vn->link, false, __ATOMIC_RELEASE);
		vn->st.link_down++;
		log_warn("virtio-net %s: backend gone, link down; reconnecting", vn->name);
		vn_config_changed(vn);
	}
	vn->backoff_ms = VN_BACKOFF_MIN_MS;
	vn_arm_timer(vn, 1); /* clean-up and the first attempt happen on the loop thread */
}

/* Split ring base on replay: the used index the guest sees is where the old backend got to. */
static uint16_t vn_split_base(struct vq *vq)
{
	return le16toh(__atomic_load_n(&vq->used_hdr[1], __ATOMIC_ACQUIRE));
}

/*
 * Packed ring base on replay: the slot after the last buffer the guest sees used, with its wrap
 * counter (see vnp_resume_pos()), as both the avail and the used position: the new backend has
 * nothing in flight. A ring caught mid-update by the guest is looked at again a few times.
 */
static uint32_t vn_packed_base(struct virtio_net *vn, unsigned idx, struct vq *vq)
{
	struct vnp_pos pos;

	for (int tries = 0; tries < 5; tries++) {
		if (tries)
			usleep(200);
		if (vnp_resume_pos(vq->pdesc, vq->size, &pos) == 0) {
			vn->q[idx].pk_base = vnp_base_encode(pos, pos);
			return vn->q[idx].pk_base;
		}
	}
	log_rl(LOGL_WARN, "virtio-net %s: queue %u: packed ring not at rest; resuming at %#x",
	       vn->name, idx, vn->q[idx].pk_base);
	return vn->q[idx].pk_base;
}

/* vhost_user's replay hook (lock held): the base a new backend resumes ring @idx at. */
static uint32_t vn_ring_state(void *opaque, unsigned idx)
{
	struct virtio_net *vn = opaque;
	struct vq *vq = idx < vn->nq ? vn->q[idx].vq : NULL;

	if (!vq || !vq->ready)
		return 0;
	if (vq->packed)
		return vq->pdesc ? vn_packed_base(vn, idx, vq) : vn->q[idx].pk_base;
	return vq->used_hdr ? vn_split_base(vq) : 0;
}

/* Loop thread (or create): a connection is up and replayed. */
static void vn_backend_up(struct virtio_net *vn)
{
	uint64_t pf = vhost_user_protocol_features(vn->vu);

	vn->backend_offer = vhost_user_backend_features(vn->vu);
	vn->backend_seen = true;
	vn->backend_mq = vn->max_pairs == 1 || ((pf & BIT64(VHOST_USER_PROTOCOL_F_MQ)) &&
						vhost_user_backend_queues(vn->vu) >= vn->max_pairs);
	/* Watch a dup: it stays valid whichever thread closes the original. */
	vn->sock_dup = fcntl(vhost_user_fd(vn->vu), F_DUPFD_CLOEXEC, 0);
	if (vn->sock_dup >= 0 &&
	    evloop_add(vn->cfg.loop, vn->sock_dup, EPOLLIN | EPOLLRDHUP, vn_sock_cb, vn)) {
		close(vn->sock_dup);
		vn->sock_dup = -1;
	}
	vn->backoff_ms = VN_BACKOFF_MIN_MS;
	/* A kick the old backend never saw must not strand the guest's buffers: kick every ring. */
	for (unsigned i = 0; i < vn->nq; i++)
		if (vn->q[i].vq)
			efd_signal(vn->q[i].kick);
	__atomic_store_n(&vn->link, true, __ATOMIC_RELEASE);
	vn->st.link_up++;
	log_info("virtio-net %s: backend connected, link up", vn->name);
	vn_config_changed(vn);
}

static void vn_unwatch_sock(struct virtio_net *vn)
{
	if (vn->sock_dup < 0)
		return;
	evloop_del(vn->cfg.loop, vn->sock_dup);
	close(vn->sock_dup);
	vn->sock_dup = -1;
}

/* One attempt: connect (no waiting) and replay whatever the guest has set up so far. */
static int vn_try_connect(struct virtio_net *vn, int timeout_ms)
{
	int ret;

	vn->st.reconnect_attempts++;
	ret = vhost_user_reconnect(vn->vu, timeout_ms);
	if (ret == 0)
		vn_backend_up(vn);
	return ret;
}

static void vn_timer_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct virtio_net *vn = opaque;
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	vn_lock(vn);
	if (!vhost_user_connected(vn->vu)) {
		vn_unwatch_sock(vn);
		/* Client: one attempt per tick, backing off; server: the listen watch accepts. */
		if (!vn->cfg.server && vn_try_connect(vn, 0)) {
			vn_arm_timer(vn, vn->backoff_ms);
			vn->backoff_ms = MIN(vn->backoff_ms * 2, VN_BACKOFF_MAX_MS);
		}
	}
	vn_unlock(vn);
	vn_flush_config(vn);
}

static void vn_listen_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct virtio_net *vn = opaque;

	(void)loop;
	(void)events;
	vn_lock(vn);
	if (!vhost_user_connected(vn->vu)) {
		vn_unwatch_sock(vn);
		(void)!vn_try_connect(vn, 0);
	} else {
		/* One backend at a time: refuse a second one rather than spin on it. */
		int extra = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (extra >= 0) {
			log_rl(LOGL_WARN, "virtio-net %s: refused a second backend connection",
			       vn->name);
			close(extra);
		}
	}
	vn_unlock(vn);
	vn_flush_config(vn);
}

static void vn_sock_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct virtio_net *vn = opaque;

	(void)loop;
	(void)fd;
	(void)events;
	vn_lock(vn);
	/* vhost_user_poll() drops the connection (and calls vn_on_disconnect) on hang-up. */
	if (!vhost_user_poll(vn->vu))
		vn_unwatch_sock(vn);
	vn_unlock(vn);
	vn_flush_config(vn);
}

/* Interrupt relay, used only when the VMM did not give an irqfd for the queue. */
static void vn_call_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vn_queue *q = opaque;
	struct vq *vq;

	(void)loop;
	(void)events;
	efd_drain(fd);
	vq = __atomic_load_n(&q->vq, __ATOMIC_ACQUIRE);
	if (vq && vq->call)
		vq->call(vq->call_opaque);
}

/* ---- Backend calls that tolerate a missing backend ---- */

/*
 * -ENOTCONN just means "remembered, replayed on reconnect". Anything else is a backend that does
 * not work: drop it and let the reconnect path try again with the full state.
 */
static void vn_backend_result(struct virtio_net *vn, const char *what, int ret)
{
	if (ret == 0 || ret == -ENOTCONN)
		return;
	log_rl(LOGL_WARN, "virtio-net %s: backend failed %s (%s)", vn->name, what, strerror(-ret));
	if (vhost_user_connected(vn->vu))
		vhost_user_disconnect(vn->vu);
}

static void vn_apply_pairs(struct virtio_net *vn)
{
	for (unsigned i = 0; i < vn->nq; i++) {
		if (!vn->q[i].vq)
			continue;
		vn_backend_result(vn, "SET_VRING_ENABLE",
				  vhost_user_set_vring_enable(vn->vu, i, i / 2 < vn->active_pairs));
	}
}

/* ---- virtio_dev_ops ---- */

static uint64_t vn_offer(const struct virtio_net *vn)
{
	uint64_t f = VN_FEATURES_VMM;

	if (vn->cfg.mtu)
		f |= BIT64(VN_F_MTU);
	f |= vn->backend_seen ? (vn->backend_offer & VN_FEATURES_BACKEND) : VN_FEATURES_NO_BACKEND;
	if (vn->max_pairs > 1 && vn->backend_mq)
		f |= BIT64(VN_F_MQ);
	return f;
}

static uint64_t vn_get_features(void *opaque)
{
	struct virtio_net *vn = opaque;
	uint64_t f;

	vn_lock(vn);
	f = vn_offer(vn);
	vn_unlock(vn);
	return f;
}

static int vn_set_features(void *opaque, uint64_t features)
{
	struct virtio_net *vn = opaque;
	int ret;

	vn_lock(vn);
	if (features & ~vn_offer(vn)) {
		vn_unlock(vn);
		return -EINVAL;
	}
	vn->acked = features;
	/* The backend learns the data-path subset; the rest is ours (s5.1.3). */
	ret = vhost_user_set_features(vn->vu, features & VN_FEATURES_BACKEND);
	if (ret == -EINVAL) {
		/* The backend changed under us since the offer; refuse FEATURES_OK (s2.2.2). */
		vn_unlock(vn);
		return ret;
	}
	vn_backend_result(vn, "SET_FEATURES", ret);
	if ((features & BIT64(VN_F_MTU)) &&
	    (vhost_user_protocol_features(vn->vu) & BIT64(VHOST_USER_PROTOCOL_F_NET_MTU)))
		vn_backend_result(vn, "NET_SET_MTU", vhost_user_net_set_mtu(vn->vu, vn->cfg.mtu));
	vn_unlock(vn);
	return 0;
}

static void vn_config_read(void *opaque, uint32_t off, void *buf, uint32_t len)
{
	struct virtio_net *vn = opaque;
	uint8_t c[VIRTIO_NET_CONFIG_SIZE];
	uint16_t v;

	/*
	 * No device lock: a vCPU reading the config must not wait behind a reconnect that is
	 * talking to a slow backend. The link flag is atomic; the MAC changes only by the guest's
	 * own MAC_ADDR_SET (s5.1.6.5.2), so a torn read could only race the guest with itself.
	 */
	memcpy(c, vn->mac, 6);
	v = htole16(__atomic_load_n(&vn->link, __ATOMIC_ACQUIRE) ? VN_S_LINK_UP : 0);
	memcpy(c + 6, &v, 2);
	v = htole16((uint16_t)vn->max_pairs);
	memcpy(c + 8, &v, 2);
	v = htole16(vn->cfg.mtu);
	memcpy(c + 10, &v, 2);
	if (off >= sizeof(c) || len > sizeof(c) - off) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, c + off, len);
}

static void vn_config_write(void *opaque, uint32_t off, const void *buf, uint32_t len)
{
	struct virtio_net *vn = opaque;

	(void)buf;
	/* Every field is device-read-only in the modern interface (s5.1.4). */
	__atomic_add_fetch(&vn->st.config_writes, 1, __ATOMIC_RELAXED);
	log_rl(LOGL_DEBUG, "virtio-net %s: ignored config write off %u len %u", vn->name, off, len);
}

static int vn_send_mem_table(struct virtio_net *vn)
{
	struct vhost_user_region r[GMEM_MAX_REGIONS];
	const struct gmem *gm = vn->cfg.gm;

	for (unsigned i = 0; i < gm->nr; i++)
		r[i] = (struct vhost_user_region){
			.gpa = gm->r[i].gpa, .size = gm->r[i].size,
			.hva = (uint64_t)(uintptr_t)gm->r[i].hva, .fd = gm->r[i].fd,
			.fd_offset = gm->r[i].fd_offset,
		};
	return vhost_user_set_mem_table(vn->vu, r, gm->nr);
}

static int vn_queue_start(void *opaque, unsigned qi, struct vq *vq)
{
	struct virtio_net *vn = opaque;
	struct vn_queue *q;
	void *desc, *driver, *device;
	uint32_t base;
	int call, ret;

	vn_lock(vn);
	if (qi == vn_ctrl_q(vn) && (vn->acked & BIT64(VN_F_CTRL_VQ))) {
		__atomic_store_n(&vn->q[qi].vq, vq, __ATOMIC_RELEASE);
		vn_unlock(vn);
		return 0;
	}
	if (qi >= vn->nq || !vq->ready) {
		vn_unlock(vn);
		return -EINVAL;
	}
	q = &vn->q[qi];
	desc = gmem_ptr(vn->cfg.gm, vq->desc_gpa, vring_desc_bytes(vq->size));
	/*
	 * Split: descriptor table, avail ring, used ring. Packed (vhost-user.rst SET_VRING_ADDR):
	 * descriptor ring, driver event suppression area in the avail field, device event
	 * suppression area in the used field; vq_setup() checked and mapped both areas.
	 */
	if (vq->packed) {
		driver = (void *)vq->driver_event;
		device = (void *)vq->device_event;
		/* s2.8.1: a fresh ring starts at slot 0 with both wrap counters set. */
		q->pk_base = vnp_base_encode((struct vnp_pos){ 0, true }, (struct vnp_pos){ 0, true });
		base = q->pk_base;
	} else {
		driver = (void *)vq->avail;
		device = (void *)vq->used_hdr;
		base = device ? vn_split_base(vq) : 0;
	}
	if (!desc || !driver || !device) {
		vn_unlock(vn);
		return -EINVAL;
	}
	if (!vn->mem_set) {
		ret = vn_send_mem_table(vn);
		vn_backend_result(vn, "SET_MEM_TABLE", ret);
		vn->mem_set = true;
	}
	__atomic_store_n(&q->vq, vq, __ATOMIC_RELEASE);
	call = vn->cfg.queue_call_fd ? vn->cfg.queue_call_fd(vn->cfg.opaque, qi) : -1;
	if (call < 0)
		call = q->call_own; /* relayed by vn_call_cb */
	/* Same order as the spec's ring start-up: size, base, addresses, fds, enable. */
	ret = vhost_user_set_vring_num(vn->vu, qi, vq->size);
	if (!ret || ret == -ENOTCONN)
		ret = vhost_user_set_vring_base(vn->vu, qi, base);
	if (!ret || ret == -ENOTCONN)
		ret = vhost_user_set_vring_addr(vn->vu, qi, (uintptr_t)desc, (uintptr_t)driver,
						(uintptr_t)device);
	if (!ret || ret == -ENOTCONN)
		ret = vhost_user_set_vring_call(vn->vu, qi, call);
	if (!ret || ret == -ENOTCONN)
		ret = vhost_user_set_vring_kick(vn->vu, qi, q->kick);
	if (!ret || ret == -ENOTCONN)
		ret = vhost_user_set_vring_enable(vn->vu, qi, qi / 2 < vn->active_pairs);
	vn_backend_result(vn, "ring set-up", ret);
	vn_unlock(vn);
	return 0;
}

/* The backend's idea of where a stopped packed ring is, for the logs (nothing else uses it). */
static void vn_log_packed_stop(struct virtio_net *vn, unsigned qi, uint32_t base)
{
	struct vnp_pos avail, used;

	if (!vnp_base_decode(base, vn->q[qi].vq->size, &avail, &used)) {
		log_rl(LOGL_WARN, "virtio-net %s: queue %u: backend reported packed base %#x outside "
		       "the ring", vn->name, qi, base);
		return;
	}
	vn->q[qi].pk_base = base;
	log_debug("virtio-net %s: queue %u stopped at avail %u/%d used %u/%d", vn->name, qi,
		  avail.idx, avail.wrap, used.idx, used.wrap);
}

static void vn_queue_stop(void *opaque, unsigned qi)
{
	struct virtio_net *vn = opaque;
	struct vn_queue *q;
	uint32_t base;

	if (qi > vn_ctrl_q(vn))
		return;
	q = &vn->q[qi];
	if (qi == vn_ctrl_q(vn)) {
		/* No control command may be in progress when the transport resets the ring. */
		pthread_mutex_lock(&vn->ctrl_lock);
		__atomic_store_n(&q->vq, NULL, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&vn->ctrl_lock);
		return;
	}
	vn_lock(vn);
	if (q->vq) {
		/* GET_VRING_BASE stops the ring: the backend no longer touches guest memory. */
		if (vhost_user_connected(vn->vu)) {
			int ret = vhost_user_get_vring_state(vn->vu, qi, &base);

			vn_backend_result(vn, "GET_VRING_BASE", ret);
			if (!ret && q->vq->packed)
				vn_log_packed_stop(vn, qi, base);
		}
		vhost_user_forget_vring(vn->vu, qi);
	}
	__atomic_store_n(&q->vq, NULL, __ATOMIC_RELEASE);
	vn_unlock(vn);
}

static int vn_queue_kick_fd(void *opaque, unsigned qi)
{
	struct virtio_net *vn = opaque;

	/* The control queue is ours: its notifications come as MMIO writes (queue_notify). */
	return qi < vn->nq ? vn->q[qi].kick : -1;
}

static bool vn_read_out(const struct vq_elem *e, uint8_t *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < e->n_out && done < len; i++) {
		size_t n = MIN(e->iov[i].iov_len, len - done);

		memcpy(buf + done, e->iov[i].iov_base, n);
		done += n;
	}
	return done == len;
}

/* One control command (s5.1.6.5); returns VN_CTRL_OK or VN_CTRL_ERR. */
static uint8_t vn_ctrl_cmd(struct virtio_net *vn, const uint8_t *c, size_t len)
{
	uint8_t cls = c[0], cmd = c[1];
	const uint8_t *d = c + 2;
	size_t dlen = len - 2;

	switch (cls) {
	case VN_CTRL_RX:
		/* PROMISC and ALLMULTI only (no CTRL_RX_EXTRA); the switch does no filtering. */
		if (!(vn->acked & BIT64(VN_F_CTRL_RX)) || dlen != 1 ||
		    (cmd != VN_CTRL_RX_PROMISC && cmd != VN_CTRL_RX_ALLMULTI))
			return VN_CTRL_ERR;
		return VN_CTRL_OK;
	case VN_CTRL_MAC:
		if (cmd == VN_CTRL_MAC_ADDR_SET) {
			if (!(vn->acked & BIT64(VN_F_CTRL_MAC_ADDR)) || dlen != 6)
				return VN_CTRL_ERR;
			memcpy(vn->mac, d, 6);
			return VN_CTRL_OK;
		}
		if (cmd == VN_CTRL_MAC_TABLE_SET && (vn->acked & BIT64(VN_F_CTRL_RX))) {
			/* Two tables {le32 entries; u8 macs[entries][6]} filling the data exactly. */
			size_t off = 0;

			for (int t = 0; t < 2; t++) {
				uint32_t n;

				if (dlen - off < 4)
					return VN_CTRL_ERR;
				memcpy(&n, d + off, 4);
				n = le32toh(n);
				off += 4;
				if (n > (dlen - off) / 6)
					return VN_CTRL_ERR;
				off += (size_t)n * 6;
			}
			return off == dlen ? VN_CTRL_OK : VN_CTRL_ERR;
		}
		return VN_CTRL_ERR;
	case VN_CTRL_MQ: {
		uint16_t pairs;

		if (cmd != VN_CTRL_MQ_VQ_PAIRS_SET || !(vn->acked & BIT64(VN_F_MQ)) || dlen != 2)
			return VN_CTRL_ERR;
		memcpy(&pairs, d, 2);
		pairs = le16toh(pairs);
		if (pairs < 1 || pairs > vn->max_pairs)
			return VN_CTRL_ERR;
		vn->active_pairs = pairs;
		vn_apply_pairs(vn);
		return VN_CTRL_OK;
	}
	case VN_CTRL_ANNOUNCE:
		return cmd == VN_CTRL_ANNOUNCE_ACK && dlen == 0 ? VN_CTRL_OK : VN_CTRL_ERR;
	default:
		return VN_CTRL_ERR;
	}
}

/* Control queue; ctrl_lock held. Returns true when the driver wants an interrupt. */
static bool vn_ctrl_process(struct virtio_net *vn, struct vq *vq)
{
	struct iovec iov[VN_CTRL_MAX_IOV];
	uint8_t *cmd = malloc(VN_CTRL_MAX_CMD);
	struct vq_elem e;
	int ret;

	if (!cmd)
		return false;
	for (;;) {
		uint8_t ack = VN_CTRL_ERR;
		uint32_t written = 0;

		e = (struct vq_elem){ .iov = iov, .max_iov = VN_CTRL_MAX_IOV };
		ret = vq_pop(vq, &e);
		if (ret <= 0)
			break;
		vn_lock(vn);
		if (e.out_len < 2 || e.out_len > VN_CTRL_MAX_CMD || e.n_in < 1 ||
		    e.iov[e.n_out].iov_len < 1 || !vn_read_out(&e, cmd, e.out_len)) {
			/* s5.1.6.5: a header, data and a one-byte ack; anything else is malformed. */
			vn->st.ctrl_bad++;
			log_rl(LOGL_WARN, "virtio-net %s: malformed control command (out %u in %u)",
			       vn->name, e.out_len, e.in_len);
		} else {
			ack = vn_ctrl_cmd(vn, cmd, e.out_len);
			if (ack == VN_CTRL_OK)
				vn->st.ctrl_ok++;
			else
				vn->st.ctrl_err++;
		}
		vn_unlock(vn);
		if (e.n_in >= 1 && e.iov[e.n_out].iov_len >= 1) {
			*(uint8_t *)e.iov[e.n_out].iov_base = ack;
			written = 1;
		}
		vq_push(vq, e.head, written);
	}
	free(cmd);
	return vq_needs_call(vq);
}

/*
 * Locking: the transport may call this with its own locks held (even the PCI device lock, for a
 * notification through the PCI cfg window), and raising an interrupt takes the PCI device lock.
 * So the control queue is processed under ctrl_lock taken with trylock (a concurrent notifier
 * just asks the holder to go round again), our device lock is held only around each command,
 * and the interrupt is raised with no lock of ours held.
 */
static void vn_queue_notify(void *opaque, unsigned qi)
{
	struct virtio_net *vn = opaque;
	struct vq *vq = NULL;
	bool call = false;

	if (qi < vn->nq) {
		efd_signal(vn->q[qi].kick); /* no ioeventfd bound: forward by hand */
		return;
	}
	if (qi != vn_ctrl_q(vn))
		return;
	__atomic_store_n(&vn->ctrl_rerun, true, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vn->ctrl_rerun, __ATOMIC_SEQ_CST)) {
		if (pthread_mutex_trylock(&vn->ctrl_lock))
			return; /* the holder sees ctrl_rerun and processes our buffers */
		__atomic_store_n(&vn->ctrl_rerun, false, __ATOMIC_SEQ_CST);
		vq = __atomic_load_n(&vn->q[qi].vq, __ATOMIC_ACQUIRE);
		if (vq && vn_ctrl_process(vn, vq))
			call = true;
		pthread_mutex_unlock(&vn->ctrl_lock);
	}
	if (call && vq && vq->call)
		vq->call(vq->call_opaque);
}

static void vn_reset(void *opaque)
{
	struct virtio_net *vn = opaque;

	vn_lock(vn);
	vn->acked = 0;
	vn->active_pairs = 1;
	memcpy(vn->mac, vn->cfg.mac, 6);
	vn_unlock(vn);
}

const struct virtio_dev_ops virtio_net_dev_ops = {
	.get_features = vn_get_features,
	.set_features = vn_set_features,
	.config_read = vn_config_read,
	.config_write = vn_config_write,
	.queue_start = vn_queue_start,
	.queue_stop = vn_queue_stop,
	.queue_kick_fd = vn_queue_kick_fd,
	.queue_notify = vn_queue_notify,
	.reset = vn_reset,
};

void virtio_net_dev_info(const struct virtio_net *vn, struct virtio_dev_info *info)
{
	*info = (struct virtio_dev_info){
		.device_id = VIRTIO_ID_NET,
		.num_queues = (uint16_t)(vn->nq + 1),
		.max_queue_size = vn->cfg.queue_size,
		.config_size = VIRTIO_NET_CONFIG_SIZE,
	};
}

/* ---- Create / destroy ---- */

int virtio_net_create(const struct virtio_net_cfg *cfg, struct virtio_net **out)
{
	struct vhost_user_cfg vcfg = {
		.path = cfg->socket_path,
		.server = cfg->server,
		.features = VN_FEATURES_BACKEND,
		.protocol_features = BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
				     BIT64(VHOST_USER_PROTOCOL_F_MQ) |
				     BIT64(VHOST_USER_PROTOCOL_F_NET_MTU),
		.timeout_ms = cfg->timeout_ms,
		.on_disconnect = vn_on_disconnect,
		.ring_state = vn_ring_state,
	};
	pthread_mutexattr_t ma;
	struct virtio_net *vn;
	unsigned pairs = cfg->max_queue_pairs ? cfg->max_queue_pairs : 1;
	int ret, wait;

	if (!cfg->gm || !cfg->loop || !cfg->socket_path || pairs > VIRTIO_NET_MAX_PAIRS ||
	    (cfg->queue_size & (cfg->queue_size - 1)) || cfg->queue_size > VQ_MAX_SIZE)
		return -EINVAL;
	if (cfg->gm->nr == 0 || cfg->gm->nr > VHOST_USER_MAX_MEM_REGIONS)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->gm->nr; i++) {
		if (cfg->gm->r[i].fd < 0) {
			log_err("virtio-net %s: guest RAM at %#llx has no fd; vhost-user needs "
				"shareable memory (memfd or hugetlbfs)",
				cfg->name ? cfg->name : "?", (unsigned long long)cfg->gm->r[i].gpa);
			return -ENOTSUP;
		}
	}
	vn = calloc(1, sizeof(*vn));
	if (!vn)
		return -ENOMEM;
	vn->cfg = *cfg;
	vn->cfg.queue_size = cfg->queue_size ? cfg->queue_size : 256;
	vn->name = strdup(cfg->name ? cfg->name : "net0");
	vn->max_pairs = pairs;
	vn->nq = 2 * pairs;
	vn->active_pairs = 1;
	vn->backoff_ms = VN_BACKOFF_MIN_MS;
	vn->timer_fd = -1;
	vn->sock_dup = -1;
	memcpy(vn->mac, cfg->mac, 6);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&vn->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&vn->ctrl_lock, NULL);
	for (unsigned i = 0; i < ARRAY_SIZE(vn->q); i++)
		vn->q[i].kick = vn->q[i].call_own = -1;
	if (!vn->name) {
		ret = -ENOMEM;
		goto err;
	}
	for (unsigned i = 0; i < vn->nq; i++) {
		vn->q[i].kick = efd_create();
		vn->q[i].call_own = efd_create();
		if (vn->q[i].kick < 0 || vn->q[i].call_own < 0) {
			ret = vn->q[i].kick < 0 ? vn->q[i].kick : vn->q[i].call_own;
			goto err;
		}
	}
	vn->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (vn->timer_fd < 0) {
		ret = -errno;
		goto err;
	}
	ret = evloop_add(cfg->loop, vn->timer_fd, EPOLLIN, vn_timer_cb, vn);
	if (ret) {
		close(vn->timer_fd);
		vn->timer_fd = -1;
		goto err;
	}
	/* All loop watches are set up here, on the creating thread, and never change from vCPUs. */
	for (unsigned i = 0; i < vn->nq; i++) {
		ret = evloop_add(cfg->loop, vn->q[i].call_own, EPOLLIN, vn_call_cb, &vn->q[i]);
		if (ret)
			goto err;
		vn->q[i].watched = true;
	}
	vcfg.nr_queues = vn->nq;
	vcfg.opaque = vn;
	ret = vhost_user_create(&vcfg, &vn->vu);
	if (ret)
		goto err;
	if (cfg->server) {
		ret = evloop_add(cfg->loop, vhost_user_listen_fd(vn->vu), EPOLLIN, vn_listen_cb, vn);
		if (ret)
			goto err;
		vn->listen_watched = true;
	}
	vn_lock(vn);
	wait = cfg->connect_wait_ms < 0 ? 0
	       : cfg->connect_wait_ms ? cfg->connect_wait_ms
	       : cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
	if (vn_try_connect(vn, wait) != 0) {
		log_warn("virtio-net %s: no backend at %s yet; link down, waiting", vn->name,
			 cfg->socket_path);
		if (!cfg->server)
			vn_arm_timer(vn, vn->backoff_ms);
	}
	vn_unlock(vn);
	*out = vn;
	return 0;
err:
	virtio_net_destroy(vn);
	return ret;
}

void virtio_net_destroy(struct virtio_net *vn)
{
	if (!vn)
		return;
	vn_lock(vn);
	vn_unwatch_sock(vn);
	if (vn->listen_watched)
		evloop_del(vn->cfg.loop, vhost_user_listen_fd(vn->vu));
	if (vn->timer_fd >= 0) {
		evloop_del(vn->cfg.loop, vn->timer_fd);
		close(vn->timer_fd);
	}
	for (unsigned i = 0; i < vn->nq; i++) {
		uint16_t base;

		if (vn->q[i].vq && vhost_user_connected(vn->vu))
			(void)!vhost_user_get_vring_base(vn->vu, i, &base);
		if (vn->q[i].watched)
			evloop_del(vn->cfg.loop, vn->q[i].call_own);
	}
	/* Closing the socket before the fds: the backend must stop before we drop the rings. */
	vhost_user_destroy(vn->vu);
	for (unsigned i = 0; i < vn->nq; i++) {
		if (vn->q[i].kick >= 0)
			close(vn->q[i].kick);
		if (vn->q[i].call_own >= 0)
			close(vn->q[i].call_own);
	}
	vn_unlock(vn);
	pthread_mutex_destroy(&vn->lock);
	pthread_mutex_destroy(&vn->ctrl_lock);
	free(vn->name);
	free(vn);
}

bool virtio_net_link_up(const struct virtio_net *vn)
{
	return __atomic_load_n(&vn->link, __ATOMIC_RELAXED);
}

unsigned virtio_net_active_pairs(const struct virtio_net *vn)
{
	return __atomic_load_n(&vn->active_pairs, __ATOMIC_RELAXED);
}

void virtio_net_get_stats(const struct virtio_net *vn, struct virtio_net_stats *st)
{
	*st = vn->st;
}
