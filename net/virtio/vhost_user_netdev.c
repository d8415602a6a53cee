// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user netdev with rings owned by the VMM. We play the virtio driver: split virtqueues
 * (virtio 1.2 s2.7) in a memfd that the backend maps; guest physical addresses are our own virtual
 * addresses (the mem table region maps gpa == hva), as DPDK virtio_user does.
 */
#include "vhost_user_netdev.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"

#define VUN_PAGE 4096u

struct vun_queue {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint8_t *bufs;	      /* queue_size buffers of VUN_BUF_SIZE */
	uint16_t avail_idx;   /* our shadow of avail->idx */
	uint16_t last_used;   /* next used entry we have not consumed */
	int kick, call;
	uint8_t *posted;      /* per descriptor: currently owned by the backend */
	uint16_t *free_ids;   /* TX: stack of free descriptor ids */
	unsigned nfree;
};

struct vun {
	struct vun_cfg cfg;
	unsigned n; /* queue size */
	int memfd;
	uint8_t *mem;
	size_t mem_size;
	struct vun_queue q[2];
	struct vhost_user *vu;
	size_t hdr_len; /* virtio-net header: 12 with VERSION_1 or MRG_RXBUF, else 10 */
	bool link;	  /* atomic: read by the TX thread */
	bool setup_done;  /* rings registered once: later connections replay */
	struct vun_stats st;
};

static size_t vun_ring_bytes(unsigned n)
{
	return ALIGN_UP(16ul * n, VUN_PAGE) + ALIGN_UP(6ul + 2ul * n, VUN_PAGE) +
	       ALIGN_UP(6ul + 8ul * n, VUN_PAGE);
}

static void vun_set_link(struct vun *vun, bool up)
{
	if (vun->link == up)
		return;
	/* Read by vun_send() on the TX thread without a lock. */
	__atomic_store_n(&vun->link, up, __ATOMIC_RELEASE);
	vun->st.link_changes++;
	if (vun->cfg.on_link)
		vun->cfg.on_link(vun->cfg.opaque, up);
}

static void vun_on_disconnect(void *opaque)
{
	vun_set_link(opaque, false);
}

/* The backend restarts from the used index: everything before it was processed (s2.7.8). */
static uint16_t vun_ring_base(void *opaque, unsigned idx)
{
	struct vun *vun = opaque;

	return le16toh(__atomic_load_n(&vun->q[idx].used->idx, __ATOMIC_ACQUIRE));
}

static void vun_queue_layout(struct vun *vun, unsigned qi, uint8_t *ring, uint8_t *bufs)
{
	struct vun_queue *q = &vun->q[qi];
	unsigned n = vun->n;

	q->desc = (struct vring_desc *)ring;
	q->avail = (struct vring_avail *)(ring + ALIGN_UP(16ul * n, VUN_PAGE));
	q->used = (struct vring_used *)((uint8_t *)q->avail + ALIGN_UP(6ul + 2ul * n, VUN_PAGE));
	q->bufs = bufs;
	for (unsigned i = 0; i < n; i++) {
		q->desc[i].addr = htole64((uint64_t)(uintptr_t)(bufs + (size_t)i * VUN_BUF_SIZE));
		q->desc[i].len = htole32(VUN_BUF_SIZE);
		q->desc[i].flags = htole16(qi == VUN_RXQ ? VRING_DESC_F_WRITE : 0);
		q->desc[i].next = 0;
	}
}

/* RX: every buffer is offered to the backend up front. TX: all descriptors free. */
static void vun_queue_reset(struct vun *vun)
{
	struct vun_queue *rx = &vun->q[VUN_RXQ], *tx = &vun->q[VUN_TXQ];

	for (unsigned i = 0; i < vun->n; i++) {
		rx->avail->ring[i] = htole16((uint16_t)i);
		rx->posted[i] = 1;
		tx->posted[i] = 0;
		tx->free_ids[i] = (uint16_t)(vun->n - 1 - i);
	}
	tx->nfree = vun->n;
	rx->avail_idx = (uint16_t)vun->n;
	rx->last_used = tx->last_used = tx->avail_idx = 0;
	rx->avail->flags = 0;
	/* TX completions are reclaimed on the next send; no interrupt wanted (s2.7.7). */
	tx->avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	__atomic_store_n(&rx->avail->idx, htole16(rx->avail_idx), __ATOMIC_RELEASE);
	__atomic_store_n(&tx->avail->idx, 0, __ATOMIC_RELEASE);
}

int vun_create(const struct vun_cfg *cfg, struct vun **out)
{
	struct vhost_user_cfg vcfg = {
		.path = cfg->path,
		.server = cfg->server,
		.features = (1ull << VIRTIO_F_VERSION_1),
		.protocol_features = (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK),
		.nr_queues = 2,
		.timeout_ms = cfg->timeout_ms,
		.on_disconnect = vun_on_disconnect,
		.ring_base = vun_ring_base,
	};
	unsigned n = cfg->queue_size ? cfg->queue_size : 256;
	size_t ring_bytes, buf_bytes;
	struct vun *vun;
	int ret;

	if (n < 2 || n > 4096 || (n & (n - 1)))
		return -EINVAL;
	vun = calloc(1, sizeof(*vun));
	if (!vun)
		return -ENOMEM;
	vun->cfg = *cfg;
	vun->n = n;
	vun->memfd = -1;
	vun->hdr_len = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	for (unsigned i = 0; i < 2; i++) {
		vun->q[i].kick = vun->q[i].call = -1;
		vun->q[i].posted = calloc(n, 1);
		vun->q[i].free_ids = calloc(n, sizeof(uint16_t));
		if (!vun->q[i].posted || !vun->q[i].free_ids) {
			ret = -ENOMEM;
			goto err;
		}
		vun->q[i].kick = efd_create();
		vun->q[i].call = efd_create();
		if (vun->q[i].kick < 0 || vun->q[i].call < 0) {
			ret = vun->q[i].kick < 0 ? vun->q[i].kick : vun->q[i].call;
			goto err;
		}
	}
	ring_bytes = vun_ring_bytes(n);
	buf_bytes = (size_t)n * VUN_BUF_SIZE;
	vun->mem_size = 2 * (ring_bytes + buf_bytes);
	vun->memfd = memfd_create("nfv-vun", MFD_CLOEXEC);
	if (vun->memfd < 0 || ftruncate(vun->memfd, (off_t)vun->mem_size) < 0) {
		ret = -errno;
		goto err;
	}
	vun->mem = mmap(NULL, vun->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vun->memfd, 0);
	if (vun->mem == MAP_FAILED) {
		vun->mem = NULL;
		ret = -errno;
		goto err;
	}
	vun_queue_layout(vun, VUN_RXQ, vun->mem, vun->mem + 2 * ring_bytes);
	vun_queue_layout(vun, VUN_TXQ, vun->mem + ring_bytes, vun->mem + 2 * ring_bytes + buf_bytes);
	vun_queue_reset(vun);
	vcfg.opaque = vun;
	ret = vhost_user_create(&vcfg, &vun->vu);
	if (ret)
		goto err;
	*out = vun;
	return 0;
err:
	vun_destroy(vun);
	return ret;
}

void vun_destroy(struct vun *vun)
{
	if (!vun)
		return;
	if (vun->vu && vhost_user_connected(vun->vu)) {
		uint16_t base;

		/* Stop the backend's use of our memory before it goes away (vhost-user.rst). */
		for (unsigned i = 0; i < 2; i++)
			if (vhost_user_get_vring_base(vun->vu, i, &base))
				break;
	}
	vhost_user_destroy(vun->vu);
	if (vun->mem)
		munmap(vun->mem, vun->mem_size);
	if (vun->memfd >= 0)
		close(vun->memfd);
	for (unsigned i = 0; i < 2; i++) {
		if (vun->q[i].kick >= 0)
			close(vun->q[i].kick);
		if (vun->q[i].call >= 0)
			close(vun->q[i].call);
		free(vun->q[i].posted);
		free(vun->q[i].free_ids);
	}
	free(vun);
}

static int vun_setup(struct vun *vun)
{
	struct vhost_user *vu = vun->vu;
	struct vhost_user_region r = {
		.gpa = (uint64_t)(uintptr_t)vun->mem,
		.size = vun->mem_size,
		.hva = (uint64_t)(uintptr_t)vun->mem,
		.fd = vun->memfd,
		.fd_offset = 0,
	};
	uint64_t f = vhost_user_backend_features(vu);
	int ret;

	ret = vhost_user_set_features(vu, f);
	if (ret)
		return ret;
	vun->hdr_len = (f & (1ull << VIRTIO_F_VERSION_1)) ? sizeof(struct virtio_net_hdr_mrg_rxbuf)
							 : sizeof(struct virtio_net_hdr);
	ret = vhost_user_set_mem_table(vu, &r, 1);
	for (unsigned i = 0; !ret && i < 2; i++) {
		struct vun_queue *q = &vun->q[i];

		ret = vhost_user_set_vring_num(vu, i, vun->n);
		if (!ret)
			ret = vhost_user_set_vring_base(vu, i, vun_ring_base(vun, i));
		if (!ret)
			ret = vhost_user_set_vring_addr(vu, i, (uintptr_t)q->desc, (uintptr_t)q->avail,
							(uintptr_t)q->used);
		if (!ret)
			ret = vhost_user_set_vring_call(vu, i, q->call);
		if (!ret)
			ret = vhost_user_set_vring_kick(vu, i, q->kick);
	}
	for (unsigned i = 0; !ret && i < 2; i++)
		ret = vhost_user_set_vring_enable(vu, i, true);
	return ret;
}

int vun_connect(struct vun *vun, int timeout_ms)
{
	int ret = vhost_user_connect(vun->vu, timeout_ms);

	if (ret)
		return ret;
	ret = vun_setup(vun);
	if (ret) {
		if (vhost_user_connected(vun->vu))
			vhost_user_disconnect(vun->vu);
		return ret;
	}
	vun->setup_done = true;
	vun_set_link(vun, true);
	return 0;
}

int vun_reconnect(struct vun *vun, int timeout_ms)
{
	int ret;

	if (vhost_user_connected(vun->vu))
		return vun->link ? 0 : -EISCONN;
	/* Nothing to replay before the first complete set-up. */
	if (!vun->setup_done)
		return vun_connect(vun, timeout_ms);
	ret = vhost_user_reconnect(vun->vu, timeout_ms);
	if (ret)
		return ret;
	vun_set_link(vun, true);
	/* Frames that arrived while we were away may already be in the ring. */
	efd_signal(vun->q[VUN_RXQ].call);
	return 0;
}

bool vun_check(struct vun *vun)
{
	return vhost_user_poll(vun->vu);
}

bool vun_link_up(const struct vun *vun)
{
	return __atomic_load_n(&vun->link, __ATOMIC_ACQUIRE);
}

static void vun_kick(struct vun *vun, struct vun_queue *q)
{
	/* Publish avail->idx before reading the backend's flags (s2.7.10 "Driver notifications"). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (le16toh(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED)) & VRING_USED_F_NO_NOTIFY)
		return;
	vun->st.kicks++;
	efd_signal(q->kick);
}

/* Take back TX descriptors the backend has finished with. */
static void vun_tx_reclaim(struct vun *vun)
{
	struct vun_queue *q = &vun->q[VUN_TXQ];
	uint16_t used = le16toh(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE));

	/* A backend cannot complete more than is outstanding; if it claims so, stop trusting it. */
	if ((uint16_t)(used - q->last_used) > vun->n - q->nfree) {
		vun->st.tx_bad++;
		log_rl(LOGL_WARN, "vhost-user netdev %s: TX used index %u beyond outstanding",
		       vun->cfg.path, used);
		return;
	}
	while (q->last_used != used) {
		uint32_t id = le32toh(q->used->ring[q->last_used & (vun->n - 1)].id);

		q->last_used++;
		if (id >= vun->n || !q->posted[id]) {
			vun->st.tx_bad++;
			continue;
		}
		q->posted[id] = 0;
		q->free_ids[q->nfree++] = (uint16_t)id;
	}
}

unsigned vun_tx_inflight(struct vun *vun)
{
	vun_tx_reclaim(vun);
	return vun->n - vun->q[VUN_TXQ].nfree;
}

int vun_send(struct vun *vun, const void *frame, size_t len)
{
	struct vun_queue *q = &vun->q[VUN_TXQ];
	uint16_t id;
	uint8_t *buf;

	if (len == 0 || len > VUN_BUF_SIZE - vun->hdr_len) {
		vun->st.tx_too_big++;
		return -EMSGSIZE;
	}
	if (!__atomic_load_n(&vun->link, __ATOMIC_ACQUIRE)) {
		vun->st.tx_down++;
		return -ENETDOWN;
	}
	if (q->nfree == 0)
		vun_tx_reclaim(vun);
	if (q->nfree == 0) {
		vun->st.tx_full++;
		return -ENOBUFS;
	}
	id = q->free_ids[--q->nfree];
	buf = q->bufs + (size_t)id * VUN_BUF_SIZE;
	/* No offloads negotiated: an all-zero header (virtio 1.2 s5.1.6). */
	memset(buf, 0, vun->hdr_len);
	memcpy(buf + vun->hdr_len, frame, len);
	q->desc[id].len = htole32((uint32_t)(vun->hdr_len + len));
	q->posted[id] = 1;
	q->avail->ring[q->avail_idx & (vun->n - 1)] = htole16(id);
	q->avail_idx++;
	__atomic_store_n(&q->avail->idx, htole16(q->avail_idx), __ATOMIC_RELEASE);
	vun->st.tx_packets++;
	vun->st.tx_bytes += len;
	vun_kick(vun, q);
	return 0;
}

unsigned vun_poll_rx(struct vun *vun, vun_rx_cb cb, void *opaque, unsigned budget)
{
	struct vun_queue *q = &vun->q[VUN_RXQ];
	uint16_t used = le16toh(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE));
	uint16_t ids[64];
	unsigned done = 0, nrep = 0;

	if ((uint16_t)(used - q->last_used) > vun->n) {
		vun->st.rx_bad++;
		log_rl(LOGL_WARN, "vhost-user netdev %s: RX used index %u runs ahead of %u",
		       vun->cfg.path, used, q->last_used);
		return 0;
	}
	/*
	 * Buffers go back only after the batch: a backend that names the same buffer twice in one
	 * batch is caught (posted[] already clear), and we never have more than the ring's size
	 * posted, whatever the backend claims.
	 */
	while (q->last_used != used && done < budget && nrep < ARRAY_SIZE(ids)) {
		struct vring_used_elem e = q->used->ring[q->last_used & (vun->n - 1)];
		uint32_t id = le32toh(e.id), len = le32toh(e.len);

		if (id >= vun->n || !q->posted[id]) {
			q->last_used++;
			vun->st.rx_bad++;
			log_rl(LOGL_WARN, "vhost-user netdev %s: RX used id %u not ours", vun->cfg.path,
			       id);
			continue;
		}
		if (len <= vun->hdr_len || len > VUN_BUF_SIZE) {
			vun->st.rx_bad++;
		} else {
			const uint8_t *buf = q->bufs + (size_t)id * VUN_BUF_SIZE;

			if (cb(opaque, buf + vun->hdr_len, len - vun->hdr_len) == -ENOBUFS) {
				vun->st.rx_refused++;
				break; /* stays at the head; next poll offers it again */
			}
			vun->st.rx_packets++;
			vun->st.rx_bytes += len - vun->hdr_len;
			done++;
		}
		q->last_used++;
		q->posted[id] = 0;
		ids[nrep++] = (uint16_t)id;
	}
	for (unsigned i = 0; i < nrep; i++) {
		q->posted[ids[i]] = 1;
		q->avail->ring[q->avail_idx & (vun->n - 1)] = htole16(ids[i]);
		q->avail_idx++;
	}
	if (nrep) {
		__atomic_store_n(&q->avail->idx, htole16(q->avail_idx), __ATOMIC_RELEASE);
		if (vun->link)
			vun_kick(vun, q);
	}
	return done;
}

int vun_rx_fd(const struct vun *vun)
{
	return vun->q[VUN_RXQ].call;
}

int vun_sock_fd(const struct vun *vun)
{
	return vhost_user_fd(vun->vu);
}

void vun_get_stats(const struct vun *vun, struct vun_stats *st)
{
	*st = vun->st;
}

struct vhost_user *vun_vhost_user(struct vun *vun)
{
	return vun->vu;
}
