// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switch data path: the PMD loop, frame classification, learning, forwarding and flooding,
 * and the table reload handshake. See sw.h for the threading model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_vhost.h>

#include "log.h"
#include "sw.h"

#define VHOST_RXQ(q) ((uint16_t)((q) * 2))	/* guest rx: we enqueue (virtio 1.2 s5.1.2) */
#define VHOST_TXQ(q) ((uint16_t)((q) * 2 + 1))	/* guest tx: we dequeue */

uint64_t sw_now_ms(const struct sw *sw)
{
	return rte_get_tsc_cycles() / sw->tsc_per_ms;
}

static inline bool vring_ok(const struct sw *sw, int vid, uint16_t vring)
{
	return vid >= 0 && vid < RTE_MAX_VHOST_DEVICE && vring < 64 &&
	       (__atomic_load_n(&sw->vid_vrings[vid], __ATOMIC_ACQUIRE) >> vring) & 1;
}

/* Send the buffered frames of @pp; counts what the peer refused as queue-full drops. */
static void pmd_flush(struct sw_pmd *pmd, struct pmd_port *pp)
{
	struct sw_port *p = pp->port;
	struct sw_port_stats *st = &p->stats[pmd->idx];
	uint16_t n = pp->ntx, sent = 0;

	pp->ntx = 0;
	if (p->type == SW_PORT_VHOST) {
		int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);
		uint16_t q = pp->txq;

		if (vid >= 0 && !vring_ok(pmd->sw, vid, VHOST_RXQ(q)))
			q = 0;	/* frontend enabled fewer queue pairs than configured */
		if (!vring_ok(pmd->sw, vid, VHOST_RXQ(q))) {
			st->drop_link_down += n;
		} else {
			/* The vhost library copies into guest buffers; we keep ownership. */
			sent = rte_vhost_enqueue_burst(vid, VHOST_RXQ(q), pp->txbuf, n);
			st->drop_queue_full += n - sent;
		}
		for (uint16_t i = 0; i < sent; i++)
			st->tx_bytes += pp->txlen[i];
		st->tx_packets += sent;
		rte_pktmbuf_free_bulk(pp->txbuf, n);
		return;
	}
	if (pp->txq_shared)
		rte_spinlock_lock(&p->txq_lock[pp->txq]);
	sent = rte_eth_tx_burst(p->eth_port, pp->txq, pp->txbuf, n);
	if (pp->txq_shared)
		rte_spinlock_unlock(&p->txq_lock[pp->txq]);
	for (uint16_t i = 0; i < sent; i++)
		st->tx_bytes += pp->txlen[i];
	st->tx_packets += sent;
	st->drop_queue_full += n - sent;
	if (sent < n)
		rte_pktmbuf_free_bulk(&pp->txbuf[sent], n - sent);
}

struct pmd_ctx {
	struct sw_pmd *pmd;
	struct pmd_table *t;
	struct pmd_port *dirty[SW_MAX_PORTS];
	uint16_t ndirty;
	uint64_t now_ms;
};

static inline void tx_add(struct pmd_ctx *c, struct pmd_port *pp, struct rte_mbuf *m)
{
	if (pp->ntx == 0)
		c->dirty[c->ndirty++] = pp;
	pp->txlen[pp->ntx] = rte_pktmbuf_pkt_len(m);
	pp->txbuf[pp->ntx++] = m;
	if (pp->ntx == SW_BURST)
		pmd_flush(c->pmd, pp);	/* stays in dirty[]; a second flush of 0 frames is a no-op */
}

/* Insert an 802.1Q tag (IEEE 802.1Q-2018 s9.5) in place; the mbuf must be private and direct. */
static inline int tag_insert(struct rte_mbuf *m, uint16_t vlan)
{
	char *p;

	if (rte_pktmbuf_headroom(m) < sizeof(struct rte_vlan_hdr) ||
	    rte_pktmbuf_data_len(m) < 2 * RTE_ETHER_ADDR_LEN)
		return -ENOSPC;
	p = rte_pktmbuf_prepend(m, sizeof(struct rte_vlan_hdr));
	memmove(p, p + sizeof(struct rte_vlan_hdr), 2 * RTE_ETHER_ADDR_LEN);
	/* TPID then TCI (PCP 0, DEI 0); the original ethertype now follows the tag. */
	*(unaligned_uint16_t *)(p + 12) = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	*(unaligned_uint16_t *)(p + 14) = rte_cpu_to_be_16(vlan & 0xfff);
	return 0;
}

static inline bool mbuf_private(const struct rte_mbuf *m)
{
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

/* Send one frame of @vlan to @pp, tagging it when @tag. Consumes @m. */
static void send_one(struct pmd_ctx *c, struct pmd_port *pp, struct rte_mbuf *m, bool tag,
		     uint16_t vlan)
{
	if (tag) {
		if (!mbuf_private(m) || tag_insert(m, vlan) < 0) {
			struct rte_mbuf *cp = rte_pktmbuf_copy(m, c->pmd->sw->pool, 0, UINT32_MAX);

			rte_pktmbuf_free(m);
			if (!cp || tag_insert(cp, vlan) < 0) {
				pp->port->stats[c->pmd->idx].drop_no_buffers++;
				rte_pktmbuf_free(cp);
				return;
			}
			m = cp;
		}
	}
	tx_add(c, pp, m);
}

static inline bool port_can_send(const struct sw_port *p)
{
	return p->type != SW_PORT_VHOST || __atomic_load_n(&p->vid, __ATOMIC_RELAXED) >= 0;
}

/* Flood @m (of @vlan, untagged now) to every member of @vlan but the ingress port. */
static void flood(struct pmd_ctx *c, struct pmd_port *in, struct rte_mbuf *m, uint16_t vlan)
{
	struct pmd_port *plain[SW_MAX_PORTS], *tagged[SW_MAX_PORTS];
	unsigned np = 0, nt = 0;
	struct rte_mbuf *mt = NULL;

	in->port->stats[c->pmd->idx].flooded++;
	for (unsigned i = 0; i < c->t->nports; i++) {
		struct pmd_port *pp = c->t->list[i];
		bool tag;

		if (pp == in || !port_can_send(pp->port) || !vlan_egress(&pp->vlan, vlan, &tag))
			continue;
		if (tag)
			tagged[nt++] = pp;
		else
			plain[np++] = pp;
	}
	if (np + nt == 0) {
		rte_pktmbuf_free(m);
		return;
	}
	/* At most two variants of the frame exist (untagged, tagged with @vlan); each is shared by
	 * reference count among the ports that want it. */
	if (nt) {
		if (np == 0 && mbuf_private(m) && tag_insert(m, vlan) == 0) {
			mt = m;
			m = NULL;
		} else {
			mt = rte_pktmbuf_copy(m, c->pmd->sw->pool, 0, UINT32_MAX);
			if (mt && tag_insert(mt, vlan) < 0) {
				rte_pktmbuf_free(mt);
				mt = NULL;
			}
			if (!mt) {
				for (unsigned i = 0; i < nt; i++)
					tagged[i]->port->stats[c->pmd->idx].drop_no_buffers++;
				nt = 0;
			}
		}
	}
	if (np) {
		rte_mbuf_refcnt_update(m, (int16_t)(np - 1));
		for (unsigned i = 0; i < np; i++)
			tx_add(c, plain[i], m);
	} else if (m) {
		rte_pktmbuf_free(m);
	}
	if (nt) {
		rte_mbuf_refcnt_update(mt, (int16_t)(nt - 1));
		for (unsigned i = 0; i < nt; i++)
			tx_add(c, tagged[i], mt);
	}
}

static void process(struct pmd_ctx *c, struct pmd_port *in, struct rte_mbuf **pkts, uint16_t n)
{
	struct sw *sw = c->pmd->sw;
	struct sw_port_stats *st = &in->port->stats[c->pmd->idx];

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ether_hdr *eh;
		bool tagged = false, tag;
		uint16_t vid = 0, out;
		int vlan;

		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		st->rx_packets++;
		st->rx_bytes += rte_pktmbuf_pkt_len(m);
		if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN))
			goto malformed;
		eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
			struct rte_vlan_hdr *vh = (struct rte_vlan_hdr *)(eh + 1);

			if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*vh)))
				goto malformed;
			tagged = true;
			vid = rte_be_to_cpu_16(vh->vlan_tci) & 0xfff;
		}
		vlan = vlan_ingress(&in->vlan, tagged, vid);
		if (vlan < 0) {
			st->drop_vlan++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (unlikely(fdb_mac_is_multicast(eh->src_addr.addr_bytes)))
			goto malformed;
		if (tagged) {
			/* Frames travel untagged inside the switch; egress re-tags as needed. */
			memmove((char *)eh + sizeof(struct rte_vlan_hdr), eh, 2 * RTE_ETHER_ADDR_LEN);
			rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr));
			eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		}
		fdb_learn(sw->fdb, eh->src_addr.addr_bytes, (uint16_t)vlan, in->port->id, c->now_ms);
		if (!fdb_mac_is_multicast(eh->dst_addr.addr_bytes)) {
			out = fdb_lookup(sw->fdb, eh->dst_addr.addr_bytes, (uint16_t)vlan);
			if (out == in->port->id) {
				st->drop_hairpin++;	/* never back out of the ingress port */
				rte_pktmbuf_free(m);
				continue;
			}
			if (out < SW_MAX_PORTS && c->t->by_id[out] &&
			    vlan_egress(&c->t->by_id[out]->vlan, (uint16_t)vlan, &tag)) {
				send_one(c, c->t->by_id[out], m, tag, (uint16_t)vlan);
				continue;
			}
		}
		flood(c, in, m, (uint16_t)vlan);
		continue;
malformed:
		st->drop_malformed++;
		rte_pktmbuf_free(m);
	}
	for (uint16_t i = 0; i < c->ndirty; i++)
		if (c->dirty[i]->ntx)
			pmd_flush(c->pmd, c->dirty[i]);
	c->ndirty = 0;
}

static uint16_t pmd_rx(struct sw_pmd *pmd, struct pmd_rxq *rq, struct rte_mbuf **pkts)
{
	struct sw_port *p = rq->pp->port;

	if (p->type == SW_PORT_VHOST) {
		int vid = __atomic_load_n(&p->vid, __ATOMIC_ACQUIRE);

		if (!vring_ok(pmd->sw, vid, VHOST_TXQ(rq->queue)))
			return 0;
		return rte_vhost_dequeue_burst(vid, VHOST_TXQ(rq->queue), pmd->sw->pool, pkts,
					       SW_BURST);
	}
	return rte_eth_rx_burst(p->eth_port, rq->queue, pkts, SW_BURST);
}

int sw_pmd_main(void *arg)
{
	struct sw_pmd *pmd = arg;
	struct pmd_ctx c = { .pmd = pmd };
	struct rte_mbuf *pkts[SW_BURST];
	unsigned idle = 0;

	log_info("pmd %u running on lcore %u", pmd->idx, pmd->lcore);
	__atomic_store_n(&pmd->running, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&pmd->stop, __ATOMIC_ACQUIRE)) {
		uint64_t work = 0, t0 = rte_rdtsc();

		c.t = __atomic_load_n(&pmd->table, __ATOMIC_ACQUIRE);
		c.now_ms = t0 / pmd->sw->tsc_per_ms;
		if (c.t) {
			for (uint16_t i = 0; i < c.t->nrxq; i++) {
				uint16_t n = pmd_rx(pmd, &c.t->rxq[i], pkts);

				if (n) {
					process(&c, c.t->rxq[i].pp, pkts, n);
					work += n;
				}
			}
		}
		/* Quiescent point: no table pointer or mbuf is held past this store. */
		__atomic_store_n(&pmd->seq, pmd->seq + 1, __ATOMIC_RELEASE);
		pmd->loops++;
		if (work) {
			/* Cycles per frame = busy_cycles / rx_frames, as OVS's pmd-stats-show. */
			__atomic_store_n(&pmd->busy_cycles, pmd->busy_cycles + (rte_rdtsc() - t0),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&pmd->rx_frames, pmd->rx_frames + work, __ATOMIC_RELAXED);
			pmd->busy_loops++;
			idle = 0;
		} else if (pmd->sw->cfg.power_mode && ++idle > 64) {
			/* Opt-in only: sleeping adds latency and loses frames under bursts. */
			rte_delay_us_sleep(pmd->sw->cfg.idle_sleep_us);
		}
	}
	__atomic_store_n(&pmd->running, false, __ATOMIC_RELEASE);
	return 0;
}

void sw_pmd_quiesce(struct sw *sw)
{
	uint64_t seen[SW_MAX_PMDS];

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < sw->npmds; i++)
		seen[i] = __atomic_load_n(&sw->pmds[i].seq, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < sw->npmds; i++) {
		while (__atomic_load_n(&sw->pmds[i].running, __ATOMIC_ACQUIRE) &&
		       __atomic_load_n(&sw->pmds[i].seq, __ATOMIC_ACQUIRE) == seen[i])
			usleep(20);
	}
}

/* Queue pair @q of the port with id @id is polled by PMD (id + q) % npmds: spreads ports. */
static unsigned pmd_index_of(const struct sw *sw, uint16_t id, uint16_t q)
{
	return (unsigned)(id + q) % sw->npmds;
}

unsigned sw_pmd_of(const struct sw *sw, const struct sw_port *port, uint16_t q)
{
	return sw->pmds[pmd_index_of(sw, port->id, q)].lcore;
}

int sw_pmd_reload(struct sw *sw)
{
	struct pmd_table *nt[SW_MAX_PMDS], *old[SW_MAX_PMDS];

	for (unsigned k = 0; k < sw->npmds; k++) {
		nt[k] = calloc(1, sizeof(struct pmd_table));
		if (!nt[k]) {
			while (k--)
				free(nt[k]);
			return -ENOMEM;
		}
	}
	for (unsigned k = 0; k < sw->npmds; k++) {
		struct pmd_table *t = nt[k];

		for (unsigned id = 0; id < SW_MAX_PORTS; id++) {
			struct sw_port *p = sw->ports[id];
			struct pmd_port *pp;
			uint16_t nq;

			if (!p)
				continue;
			pp = &t->storage[t->nports];
			pp->port = p;
			pp->vlan = p->vlan;
			if (p->type == SW_PORT_VHOST) {
				pp->txq = (uint16_t)(k % p->queues);
			} else {
				pp->txq = (uint16_t)(k % p->eth_txqs);
				pp->txq_shared = p->eth_txqs < sw->npmds;
			}
			t->by_id[id] = pp;
			t->list[t->nports++] = pp;
			nq = p->queues;
			for (uint16_t q = 0; q < nq; q++) {
				if (pmd_index_of(sw, p->id, q) != k)
					continue;
				t->rxq[t->nrxq].pp = pp;
				t->rxq[t->nrxq].queue = q;
				t->nrxq++;
			}
		}
	}
	for (unsigned k = 0; k < sw->npmds; k++)
		old[k] = __atomic_exchange_n(&sw->pmds[k].table, nt[k], __ATOMIC_ACQ_REL);
	sw_pmd_quiesce(sw);
	for (unsigned k = 0; k < sw->npmds; k++)
		free(old[k]);
	return 0;
}
