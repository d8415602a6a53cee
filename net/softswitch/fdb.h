/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forwarding database (MAC table) of nfv-switch.
 *
 * A fixed-size, set-associative hash table keyed by (MAC, VLAN). Its memory is allocated once by
 * fdb_create() and never grows: a flood of random source MACs can fill at most @max_dynamic
 * learned entries, and learning never evicts a static entry.
 *
 * Concurrency: lock-free. Any number of PMD threads may call fdb_lookup() and fdb_learn() while
 * one control thread calls the other functions. Each slot is two 64-bit words (key, value); a
 * writer claims a slot by CAS on the key word (marking it busy), writes the value, then publishes
 * the key with release order. Readers re-check the key after reading the value. A reader racing an
 * eviction may, at worst, forward one frame along the entry that was just replaced, which an L2
 * switch may do anyway (flooding is always correct).
 *
 * Time is a caller-supplied monotonic millisecond clock (so unit tests can drive aging).
 */
#ifndef NFV_SOFTSWITCH_FDB_H
#define NFV_SOFTSWITCH_FDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDB_WAYS 8		/* slots per bucket: 8 x 16 bytes = two cache lines */
#define FDB_PORT_NONE 0xffff

struct fdb;

struct fdb_cfg {
	uint32_t max_dynamic;	/* learned entries allowed at once (>= 1) */
	uint32_t age_ms;	/* learned entries idle longer than this are removed by fdb_age() */
};

/* Counters; read with fdb_get_stats(). */
struct fdb_stats {
	uint64_t learned;	/* new dynamic entries */
	uint64_t moved;		/* dynamic entry changed port */
	uint64_t limit_drops;	/* learning refused: max_dynamic reached */
	uint64_t bucket_evictions; /* older dynamic entry replaced: bucket full */
	uint64_t static_refused; /* learning refused because a static entry owns the key */
	uint64_t aged;		/* removed by fdb_age() */
	uint32_t dynamic;	/* current dynamic entries */
	uint32_t statics;	/* current static entries */
};

/* One entry as reported by fdb_walk(). */
struct fdb_entry {
	uint8_t mac[6];
	uint16_t vlan;
	uint16_t port;
	bool is_static;
	uint64_t age_ms;	/* time since last seen (0 for static) */
};

/*
 * Create a table sized for @cfg->max_dynamic learned entries plus room for static ones.
 * Returns 0 or -EINVAL (bad cfg) / -ENOMEM.
 */
int fdb_create(const struct fdb_cfg *cfg, struct fdb **out) __attribute__((warn_unused_result));
void fdb_destroy(struct fdb *fdb);

/* Port that (@mac, @vlan) was learned on or statically bound to, or FDB_PORT_NONE. Any thread. */
uint16_t fdb_lookup(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan);

/*
 * Record that @mac sent on @vlan through @port at @now_ms. Refreshes or moves an existing dynamic
 * entry; leaves a static one alone. Callers must not pass multicast source MACs. Any thread.
 */
void fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, uint16_t port, uint64_t now_ms);

/*
 * Add or replace a static entry (never aged, never overwritten by learning). Control thread.
 * Returns 0, -EINVAL (multicast MAC, vlan > 4095, port == FDB_PORT_NONE) or -ENOSPC (bucket full
 * of static entries).
 */
int fdb_add_static(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, uint16_t port)
	__attribute__((warn_unused_result));

/* Remove the entry for (@mac, @vlan), static or dynamic. Returns 0 or -ENOENT. Control thread. */
int fdb_del(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan) __attribute__((warn_unused_result));

/* Remove dynamic entries idle for more than age_ms. Returns how many. Control thread. */
unsigned fdb_age(struct fdb *fdb, uint64_t now_ms);

/* Remove entries: all dynamic ones, plus static ones when @statics_too. Control thread. */
unsigned fdb_flush(struct fdb *fdb, bool statics_too);

/* Remove every entry (static or not) pointing at @port. Control thread. */
unsigned fdb_flush_port(struct fdb *fdb, uint16_t port);

/* Call @cb for each entry (a consistent view of each entry, not of the table). Control thread. */
void fdb_walk(const struct fdb *fdb, uint64_t now_ms,
	      void (*cb)(const struct fdb_entry *e, void *opaque), void *opaque);

void fdb_get_stats(const struct fdb *fdb, struct fdb_stats *out);
void fdb_set_age(struct fdb *fdb, uint32_t age_ms);

/* Parse "02:00:00:00:00:01" (also '-' separated). Returns 0 or -EINVAL. */
int fdb_mac_parse(const char *s, uint8_t mac[6]) __attribute__((warn_unused_result));
/* Format into @buf (>= 18 bytes). */
void fdb_mac_format(const uint8_t mac[6], char buf[18]);

static inline bool fdb_mac_is_multicast(const uint8_t mac[6])
{
	return mac[0] & 1;
}

#endif
