// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lock-free set-associative MAC table; the protocol is described in fdb.h.
 *
 * Key word:   0 = empty, KEY_BUSY = being written, else KEY_VALID | vlan << 48 | mac (48 bits).
 * Value word: bits 0-39 last-seen time (ms), bits 40-55 port, bit 63 static.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"

#define KEY_BUSY (1ull << 63)
#define KEY_VALID (1ull << 62)
#define VAL_STATIC (1ull << 63)
#define VAL_TIME_MASK ((1ull << 40) - 1)
#define VAL_PORT_SHIFT 40
/* A PMD rewrites the value word of a busy entry at most this often (keeps the line shared). */
#define REFRESH_MS 250

struct fdb_slot {
	uint64_t key;	/* accessed with __atomic builtins only */
	uint64_t val;
};

struct fdb {
	struct fdb_slot *slots;
	uint32_t nbuckets;	/* power of two */
	uint32_t max_dynamic;
	uint32_t age_ms;	/* atomic */
	uint32_t dynamic;	/* atomic */
	uint32_t statics;	/* control thread only */
	uint64_t learned, moved, limit_drops, bucket_evictions, static_refused, aged; /* atomic */
};

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline bool cas(uint64_t *p, uint64_t old, uint64_t nv)
{
	return __atomic_compare_exchange_n(p, &old, nv, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

static inline void cnt(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static inline uint64_t mk_key(const uint8_t mac[6], uint16_t vlan)
{
	uint64_t k = 0;

	for (int i = 0; i < 6; i++)
		k = (k << 8) | mac[i];
	return KEY_VALID | ((uint64_t)(vlan & 0xfff) << 48) | k;
}

static inline uint64_t mk_val(uint16_t port, bool is_static, uint64_t now_ms)
{
	return (is_static ? VAL_STATIC : 0) | ((uint64_t)port << VAL_PORT_SHIFT) | (now_ms & VAL_TIME_MASK);
}

static inline uint16_t val_port(uint64_t v)
{
	return (uint16_t)(v >> VAL_PORT_SHIFT);
}

static inline uint64_t val_age(uint64_t v, uint64_t now_ms)
{
	return (now_ms - (v & VAL_TIME_MASK)) & VAL_TIME_MASK;
}

static inline struct fdb_slot *bucket_of(const struct fdb *fdb, uint64_t key)
{
	/* 64-bit multiplicative hash (Knuth); the top bits are the best mixed. */
	uint64_t h = (key ^ (key >> 29)) * 0x9e3779b97f4a7c15ull;
	uint32_t b = (uint32_t)(h >> 32) & (fdb->nbuckets - 1);

	return &fdb->slots[(size_t)b * FDB_WAYS];
}

int fdb_create(const struct fdb_cfg *cfg, struct fdb **out)
{
	struct fdb *fdb;
	uint64_t want;
	uint32_t nb = 1;

	if (!cfg || cfg->max_dynamic == 0 || cfg->max_dynamic > (1u << 24))
		return -EINVAL;
	/* Twice the learned limit in slots keeps buckets from filling up early; plus static room. */
	want = ((uint64_t)cfg->max_dynamic * 2 + 1024) / FDB_WAYS;
	while (nb < want)
		nb <<= 1;
	fdb = calloc(1, sizeof(*fdb));
	if (!fdb)
		return -ENOMEM;
	fdb->slots = calloc((size_t)nb * FDB_WAYS, sizeof(struct fdb_slot));
	if (!fdb->slots) {
		free(fdb);
		return -ENOMEM;
	}
	fdb->nbuckets = nb;
	fdb->max_dynamic = cfg->max_dynamic;
	fdb->age_ms = cfg->age_ms;
	*out = fdb;
	return 0;
}

void fdb_destroy(struct fdb *fdb)
{
	if (!fdb)
		return;
	free(fdb->slots);
	free(fdb);
}

uint16_t fdb_lookup(const struct fdb *fdb, const uint8_t mac[6], uint16_t vlan)
{
	uint64_t key = mk_key(mac, vlan);
	struct fdb_slot *b = bucket_of(fdb, key);

	for (int i = 0; i < FDB_WAYS; i++) {
		if (ld(&b[i].key) == key) {
			uint64_t v = ld(&b[i].val);

			if (ld(&b[i].key) == key)
				return val_port(v);
		}
	}
	return FDB_PORT_NONE;
}

/* Claim slot @s whose key word is @old; returns true when we own it (key word is KEY_BUSY). */
static bool slot_claim(struct fdb_slot *s, uint64_t old)
{
	return cas(&s->key, old, KEY_BUSY);
}

void fdb_learn(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, uint16_t port, uint64_t now_ms)
{
	uint64_t key = mk_key(mac, vlan);
	struct fdb_slot *b = bucket_of(fdb, key);
	int empty = -1, oldest = -1;
	uint64_t oldest_age = 0;

	for (int i = 0; i < FDB_WAYS; i++) {
		uint64_t k = ld(&b[i].key), v;

		if (k == key) {
			v = ld(&b[i].val);
			if (v & VAL_STATIC) {
				if (val_port(v) != port)
					cnt(&fdb->static_refused);
				return;
			}
			if (val_port(v) == port && val_age(v, now_ms) < REFRESH_MS)
				return;
			/* A failed CAS means someone else just refreshed or replaced it: fine. */
			if (cas(&b[i].val, v, mk_val(port, false, now_ms)) && val_port(v) != port)
				cnt(&fdb->moved);
			return;
		}
		if (k == 0 && empty < 0) {
			empty = i;
		} else if (k & KEY_VALID) {
			v = ld(&b[i].val);
			if (!(v & VAL_STATIC) && (oldest < 0 || val_age(v, now_ms) > oldest_age)) {
				oldest = i;
				oldest_age = val_age(v, now_ms);
			}
		}
	}

	if (empty >= 0) {
		if (__atomic_load_n(&fdb->dynamic, __ATOMIC_RELAXED) >= fdb->max_dynamic) {
			cnt(&fdb->limit_drops);
			return;
		}
		if (!slot_claim(&b[empty], 0))
			return;	/* lost a race; the next frame from this MAC learns it */
		st(&b[empty].val, mk_val(port, false, now_ms));
		st(&b[empty].key, key);
		__atomic_fetch_add(&fdb->dynamic, 1, __ATOMIC_RELAXED);
		cnt(&fdb->learned);
		return;
	}
	if (oldest >= 0) {
		/* Replacing keeps the dynamic count unchanged, so the limit still holds. */
		uint64_t k = ld(&b[oldest].key);

		if (!(k & KEY_VALID) || !slot_claim(&b[oldest], k))
			return;
		if (ld(&b[oldest].val) & VAL_STATIC) {
			st(&b[oldest].key, k);	/* turned static under us: leave it */
			return;
		}
		st(&b[oldest].val, mk_val(port, false, now_ms));
		st(&b[oldest].key, key);
		cnt(&fdb->bucket_evictions);
		cnt(&fdb->learned);
		return;
	}
	cnt(&fdb->limit_drops);	/* bucket full of static entries */
}

/* Claim the slot holding @key, spinning past transient busy states. Returns the slot or NULL. */
static struct fdb_slot *claim_key(struct fdb *fdb, uint64_t key)
{
	struct fdb_slot *b = bucket_of(fdb, key);

	for (int i = 0; i < FDB_WAYS; i++) {
		if (ld(&b[i].key) == key && slot_claim(&b[i], key))
			return &b[i];
	}
	return NULL;
}

/* Release a claimed slot as empty, fixing the counters for what it held. */
static void slot_clear(struct fdb *fdb, struct fdb_slot *s)
{
	uint64_t v = ld(&s->val);

	if (v & VAL_STATIC)
		fdb->statics--;
	else
		__atomic_fetch_sub(&fdb->dynamic, 1, __ATOMIC_RELAXED);
	st(&s->val, 0);
	st(&s->key, 0);
}

int fdb_add_static(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan, uint16_t port)
{
	uint64_t key, k, v;
	struct fdb_slot *b, *s;

	if (fdb_mac_is_multicast(mac) || vlan > 4095 || port == FDB_PORT_NONE)
		return -EINVAL;
	key = mk_key(mac, vlan);
	/* Remove every copy of the key first (two PMDs may have raced to learn it twice). */
	while ((s = claim_key(fdb, key)))
		slot_clear(fdb, s);
	b = bucket_of(fdb, key);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < FDB_WAYS; i++) {
			k = ld(&b[i].key);
			if (pass == 0 && k != 0)
				continue;	/* first pass: empty slots only */
			if (pass == 1) {
				if (!(k & KEY_VALID))
					continue;
				v = ld(&b[i].val);
				if (v & VAL_STATIC)
					continue;
			}
			if (!slot_claim(&b[i], k))
				continue;
			if (pass == 1) {
				if (ld(&b[i].val) & VAL_STATIC) {
					st(&b[i].key, k);
					continue;
				}
				__atomic_fetch_sub(&fdb->dynamic, 1, __ATOMIC_RELAXED);
				cnt(&fdb->bucket_evictions);
			}
			st(&b[i].val, mk_val(port, true, 0));
			st(&b[i].key, key);
			fdb->statics++;
			return 0;
		}
	}
	return -ENOSPC;
}

int fdb_del(struct fdb *fdb, const uint8_t mac[6], uint16_t vlan)
{
	uint64_t key = mk_key(mac, vlan);
	struct fdb_slot *s;
	int found = 0;

	while ((s = claim_key(fdb, key))) {
		slot_clear(fdb, s);
		found = 1;
	}
	return found ? 0 : -ENOENT;
}

/* Remove every valid slot for which @pred is true. */
static unsigned sweep(struct fdb *fdb, bool (*pred)(uint64_t v, const void *arg), const void *arg)
{
	size_t n = (size_t)fdb->nbuckets * FDB_WAYS;
	unsigned removed = 0;

	for (size_t i = 0; i < n; i++) {
		struct fdb_slot *s = &fdb->slots[i];
		uint64_t k = ld(&s->key);

		if (!(k & KEY_VALID) || !pred(ld(&s->val), arg))
			continue;
		if (!slot_claim(s, k))
			continue;
		if (!pred(ld(&s->val), arg)) {	/* refreshed meanwhile */
			st(&s->key, k);
			continue;
		}
		slot_clear(fdb, s);
		removed++;
	}
	return removed;
}

struct age_arg {
	uint64_t now_ms, age_ms;
};

static bool pred_aged(uint64_t v, const void *arg)
{
	const struct age_arg *a = arg;

	return !(v & VAL_STATIC) && val_age(v, a->now_ms) > a->age_ms;
}

unsigned fdb_age(struct fdb *fdb, uint64_t now_ms)
{
	struct age_arg a = { now_ms, __atomic_load_n(&fdb->age_ms, __ATOMIC_RELAXED) };
	unsigned n = sweep(fdb, pred_aged, &a);

	__atomic_fetch_add(&fdb->aged, n, __ATOMIC_RELAXED);
	return n;
}

static bool pred_dynamic(uint64_t v, const void *arg)
{
	(void)arg;
	return !(v & VAL_STATIC);
}

static bool pred_any(uint64_t v, const void *arg)
{
	(void)v;
	(void)arg;
	return true;
}

unsigned fdb_flush(struct fdb *fdb, bool statics_too)
{
	return sweep(fdb, statics_too ? pred_any : pred_dynamic, NULL);
}

static bool pred_port(uint64_t v, const void *arg)
{
	return val_port(v) == *(const uint16_t *)arg;
}

unsigned fdb_flush_port(struct fdb *fdb, uint16_t port)
{
	return sweep(fdb, pred_port, &port);
}

void fdb_walk(const struct fdb *fdb, uint64_t now_ms,
	      void (*cb)(const struct fdb_entry *e, void *opaque), void *opaque)
{
	size_t n = (size_t)fdb->nbuckets * FDB_WAYS;

	for (size_t i = 0; i < n; i++) {
		const struct fdb_slot *s = &fdb->slots[i];
		uint64_t k = ld(&s->key), v;
		struct fdb_entry e;

		if (!(k & KEY_VALID))
			continue;
		v = ld(&s->val);
		if (ld(&s->key) != k)
			continue;
		for (int j = 0; j < 6; j++)
			e.mac[j] = (uint8_t)(k >> (8 * (5 - j)));
		e.vlan = (uint16_t)((k >> 48) & 0xfff);
		e.port = val_port(v);
		e.is_static = !!(v & VAL_STATIC);
		e.age_ms = e.is_static ? 0 : val_age(v, now_ms);
		cb(&e, opaque);
	}
}

void fdb_get_stats(const struct fdb *fdb, struct fdb_stats *out)
{
	out->learned = __atomic_load_n(&fdb->learned, __ATOMIC_RELAXED);
	out->moved = __atomic_load_n(&fdb->moved, __ATOMIC_RELAXED);
	out->limit_drops = __atomic_load_n(&fdb->limit_drops, __ATOMIC_RELAXED);
	out->bucket_evictions = __atomic_load_n(&fdb->bucket_evictions, __ATOMIC_RELAXED);
	out->static_refused = __atomic_load_n(&fdb->static_refused, __ATOMIC_RELAXED);
	out->aged = __atomic_load_n(&fdb->aged, __ATOMIC_RELAXED);
	out->dynamic = __atomic_load_n(&fdb->dynamic, __ATOMIC_RELAXED);
	out->statics = fdb->statics;
}

void fdb_set_age(struct fdb *fdb, uint32_t age_ms)
{
	__atomic_store_n(&fdb->age_ms, age_ms, __ATOMIC_RELAXED);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int fdb_mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -EINVAL;
			s++;
		}
	}
	return *s ? -EINVAL : 0;
}

void fdb_mac_format(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}
