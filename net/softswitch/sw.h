/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfv-switch internals shared by the control path (ctl.c, port.c, main.c) and the data path
 * (pmd.c). Not a library API: the public interface of the switch is its control socket
 * (docs/switch.md).
 *
 * Threads:
 *  - the control thread (EAL main lcore) owns struct sw and every struct sw_port; it serves the
 *    control socket, ages the FDB and publishes PMD tables. It holds sw->lock while it changes
 *    configuration.
 *  - the vhost-user event thread (DPDK's) calls the vhost callbacks in port.c; new_device and
 *    destroy_device take sw->lock, vring_state_changed takes no lock (see vid_vrings).
 *  - PMD threads (EAL worker lcores) take no locks. Each reads only its own published pmd_table,
 *    the ports' atomic vhost state and the FDB (lock-free, fdb.h), and writes only its own slot of
 *    each port's counters.
 *
 * Reconfiguration (OVS dpif-netdev reload, RCU style): the control thread builds a new pmd_table
 * per PMD, stores the pointers, then waits until every PMD has passed a quiescent point (the end of
 * a loop iteration, where it holds no mbufs and no table pointers), and only then frees the old
 * tables or a deleted port. sw_pmd_quiesce() implements the wait.
 */
#ifndef NFV_SOFTSWITCH_SW_H
#define NFV_SOFTSWITCH_SW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_spinlock.h>
#include <rte_vhost.h>

#include "fdb.h"
#include "json.h"
#include "vlan.h"

#define SW_VERSION "0.1.0"
#define SW_MAX_PORTS 256
#define SW_MAX_PMDS 16
#define SW_MAX_QUEUES 8		/* queue pairs per port */
#define SW_BURST 32
#define SW_NAME_MAX 64
#define SW_PATH_MAX 108		/* sizeof(sun_path) */
#define SW_DEVARGS_MAX 256

enum sw_port_type { SW_PORT_VHOST, SW_PORT_ETHDEV };

/* Counters of one port as seen by one PMD; only that PMD writes them. */
struct sw_port_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t drop_no_buffers;	/* mbuf allocation (copy for flooding/tagging) failed */
	uint64_t drop_queue_full;	/* peer's queue had no room */
	uint64_t drop_vlan;		/* ingress VLAN filter */
	uint64_t drop_malformed;	/* runt, truncated 802.1Q tag, multicast source MAC */
	uint64_t drop_link_down;	/* egress vhost-user port without a ready peer */
	uint64_t drop_hairpin;		/* destination learned on the ingress port */
	uint64_t flooded;		/* frames received here that were flooded */
} __rte_cache_aligned;

#define SW_STATS_NFIELDS (sizeof(struct sw_port_stats) / sizeof(uint64_t))

struct sw_port {
	char name[SW_NAME_MAX];
	uint16_t id;			/* index in sw->ports; the FDB's port number */
	enum sw_port_type type;
	uint16_t queues;		/* queue pairs */
	/* vhost-user */
	char path[SW_PATH_MAX];
	bool client;			/* RTE_VHOST_USER_CLIENT: we connect (and reconnect) */
	bool registered;		/* rte_vhost_driver_register done */
	int vid;			/* atomic: vhost device id, -1 while no peer is ready */
	uint64_t connects, disconnects;	/* sw->lock */
	/* ethdev */
	char devargs[SW_DEVARGS_MAX];
	uint16_t eth_port;
	uint16_t eth_txqs;		/* tx queues configured; < npmds means shared (locked) */
	bool eth_started;
	rte_spinlock_t txq_lock[SW_MAX_PMDS];
	/* configuration as the control thread sees it; PMDs use their table's copy */
	struct vlan_cfg vlan;
	struct sw_port_stats stats[SW_MAX_PMDS];
	struct sw_port_stats base;	/* subtracted on read: stats-clear */
};

/* One port as one PMD sees it. */
struct pmd_port {
	struct sw_port *port;
	struct vlan_cfg vlan;
	uint16_t txq;			/* ethdev tx queue, or vhost queue pair */
	bool txq_shared;		/* ethdev with fewer tx queues than PMDs */
	uint16_t ntx;
	struct rte_mbuf *txbuf[SW_BURST];
	uint32_t txlen[SW_BURST];
};

struct pmd_rxq {
	struct pmd_port *pp;
	uint16_t queue;			/* queue pair index */
};

struct pmd_table {
	struct pmd_port *by_id[SW_MAX_PORTS];	/* NULL: no such port */
	struct pmd_port *list[SW_MAX_PORTS];	/* flooding order */
	uint16_t nports;
	struct pmd_rxq rxq[SW_MAX_PORTS * SW_MAX_QUEUES];
	uint16_t nrxq;
	struct pmd_port storage[SW_MAX_PORTS];
};

struct sw_pmd {
	unsigned lcore;
	unsigned idx;
	struct pmd_table *table;	/* atomic; published by the control thread */
	uint64_t seq;			/* atomic; +1 at every quiescent point */
	bool running;			/* atomic */
	bool stop;			/* atomic */
	uint64_t loops, busy_loops;	/* written by the PMD */
	uint64_t busy_cycles;		/* TSC cycles of rounds that moved frames */
	uint64_t rx_frames;		/* frames received (all ports) */
	struct sw *sw;
} __rte_cache_aligned;

struct sw_cfg {
	uint32_t mbufs;
	uint32_t fdb_max;
	uint32_t fdb_age_s;
	bool power_mode;		/* idle PMDs sleep briefly */
	uint32_t idle_sleep_us;
	bool socket_group;		/* --socket-group: server sockets get socket_gid, 0660 */
	gid_t socket_gid;
};

struct sw {
	struct sw_cfg cfg;
	pthread_mutex_t lock;		/* control state: ports[], tables, vhost callbacks */
	struct fdb *fdb;
	struct rte_mempool *pool;
	struct sw_pmd pmds[SW_MAX_PMDS];
	unsigned npmds;
	struct sw_port *ports[SW_MAX_PORTS];
	uint64_t tsc_per_ms;
	/*
	 * Bit per vring the frontend of vhost device <vid> has enabled. Kept by vid, not by port,
	 * because vring_state_changed runs with the vhost library's per-vring locks held: it must
	 * not take sw->lock (the control thread may hold it while waiting for a PMD that is blocked
	 * on one of those vring locks in rte_vhost_enqueue_burst).
	 */
	uint64_t vid_vrings[RTE_MAX_VHOST_DEVICE];	/* atomic */
};

extern struct sw *sw_global;	/* for the vhost callbacks, which carry no opaque pointer */

/* Monotonic ms from the TSC; the one clock of the FDB (PMDs and control thread). */
uint64_t sw_now_ms(const struct sw *sw);

/* pmd.c */
/* The PMD loop; launched with rte_eal_remote_launch(sw_pmd_main, pmd, lcore). */
int sw_pmd_main(void *arg);
/* Build and publish tables from sw->ports for every PMD, wait for quiescence, free the old ones.
 * Caller holds sw->lock. 0 or -ENOMEM (then nothing changed). */
int sw_pmd_reload(struct sw *sw) __attribute__((warn_unused_result));
/* Wait until every running PMD has passed a quiescent point. Any control-side thread. */
void sw_pmd_quiesce(struct sw *sw);
/* Lcore of the PMD that polls queue @q of @port. */
unsigned sw_pmd_of(const struct sw *sw, const struct sw_port *port, uint16_t q);

/* port.c */
struct sw_port_params {
	const char *name;
	enum sw_port_type type;
	const char *path;	/* vhost-user */
	bool client;
	const char *devargs;	/* ethdev */
	uint16_t queues;
	struct vlan_cfg vlan;
};
/* Create, start and publish a port. Caller holds sw->lock (released around vhost start).
 * 0 or -errno with @err filled. */
int sw_port_add(struct sw *sw, const struct sw_port_params *p, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Unpublish, stop and free a port. Caller holds sw->lock. */
int sw_port_del(struct sw *sw, struct sw_port *port) __attribute__((warn_unused_result));
struct sw_port *sw_port_find(struct sw *sw, const char *name);
bool sw_port_link_up(const struct sw_port *port);
/* Sum of the PMD counters minus the stats-clear baseline. */
void sw_port_stats_read(const struct sw_port *port, struct sw_port_stats *out);
void sw_port_stats_clear(struct sw_port *port);
/* Register the vhost callbacks' table. */
extern const struct rte_vhost_device_ops sw_vhost_ops;

/* ctl.c */
/*
 * Execute one control request line (JSON object). Always fills @resp with exactly one JSON
 * response object (no newline). Takes sw->lock itself.
 */
void sw_ctl_handle(struct sw *sw, const char *line, size_t len, struct jbuf *resp);

#endif
