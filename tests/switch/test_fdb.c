// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests (no EAL) for nfv-switch's FDB and VLAN policy: learning, aging, limits, statics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "vlan.h"
#include "../unit/test.h"

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void test_learn_lookup(void)
{
	struct fdb_cfg c = { .max_dynamic = 100, .age_ms = 1000 };
	struct fdb *f;
	uint8_t a[6], b[6];
	struct fdb_stats s;

	CHECK(fdb_create(&c, &f) == 0);
	mac_of(1, a);
	mac_of(2, b);
	CHECK(fdb_lookup(f, a, 0) == FDB_PORT_NONE);
	fdb_learn(f, a, 0, 3, 10);
	CHECK(fdb_lookup(f, a, 0) == 3);
	CHECK(fdb_lookup(f, a, 10) == FDB_PORT_NONE);	/* per-VLAN tables (802.1Q IVL) */
	CHECK(fdb_lookup(f, b, 0) == FDB_PORT_NONE);
	fdb_learn(f, a, 10, 4, 10);
	CHECK(fdb_lookup(f, a, 10) == 4);
	CHECK(fdb_lookup(f, a, 0) == 3);
	/* A station that moves is relearned at once. */
	fdb_learn(f, a, 0, 5, 20);
	CHECK(fdb_lookup(f, a, 0) == 5);
	fdb_get_stats(f, &s);
	CHECK(s.learned == 2 && s.moved == 1 && s.dynamic == 2);
	CHECK(fdb_del(f, a, 0) == 0);
	CHECK(fdb_del(f, a, 0) == -ENOENT);
	CHECK(fdb_lookup(f, a, 0) == FDB_PORT_NONE);
	fdb_destroy(f);
}

static void test_aging(void)
{
	struct fdb_cfg c = { .max_dynamic = 100, .age_ms = 1000 };
	struct fdb *f;
	uint8_t a[6], b[6];

	CHECK(fdb_create(&c, &f) == 0);
	mac_of(1, a);
	mac_of(2, b);
	fdb_learn(f, a, 0, 1, 1000);
	fdb_learn(f, b, 0, 2, 1000);
	CHECK(fdb_add_static(f, (uint8_t[6]){ 0x02, 9, 9, 9, 9, 9 }, 0, 7) == 0);
	CHECK(fdb_age(f, 1900) == 0);
	fdb_learn(f, b, 0, 2, 1900);	/* b stays active */
	CHECK(fdb_age(f, 2500) == 1);	/* a idle 1500 ms > 1000 */
	CHECK(fdb_lookup(f, a, 0) == FDB_PORT_NONE);
	CHECK(fdb_lookup(f, b, 0) == 2);
	CHECK(fdb_age(f, 100000) == 1);
	CHECK(fdb_lookup(f, (uint8_t[6]){ 0x02, 9, 9, 9, 9, 9 }, 0) == 7);	/* statics never age */
	fdb_destroy(f);
}

static void test_limit_and_statics(void)
{
	struct fdb_cfg c = { .max_dynamic = 64, .age_ms = 300000 };
	struct fdb_stats s;
	struct fdb *f;
	uint8_t m[6];
	unsigned statics = 0;

	CHECK(fdb_create(&c, &f) == 0);
	for (uint32_t i = 0; i < 32; i++) {
		mac_of(0x100000 + i, m);
		if (fdb_add_static(f, m, 0, 1) == 0)
			statics++;
	}
	CHECK(statics == 32);
	/* A flood of random source MACs. */
	srand(1);
	for (uint32_t i = 0; i < 100000; i++) {
		mac_of((uint32_t)rand(), m);
		fdb_learn(f, m, (uint16_t)(i % 4), 2, i);
	}
	fdb_get_stats(f, &s);
	CHECK(s.dynamic <= 64);
	CHECK(s.statics == 32);
	CHECK(s.limit_drops > 0);
	for (uint32_t i = 0; i < 32; i++) {
		mac_of(0x100000 + i, m);
		CHECK(fdb_lookup(f, m, 0) == 1);
		/* Learning the same MAC elsewhere never moves a static entry. */
		fdb_learn(f, m, 0, 3, 1);
		CHECK(fdb_lookup(f, m, 0) == 1);
	}
	fdb_get_stats(f, &s);
	CHECK(s.static_refused == 32);
	CHECK(fdb_flush(f, false) == s.dynamic);
	fdb_get_stats(f, &s);
	CHECK(s.dynamic == 0 && s.statics == 32);
	/* Room again after the flush. */
	mac_of(7, m);
	fdb_learn(f, m, 0, 4, 5);
	CHECK(fdb_lookup(f, m, 0) == 4);
	CHECK(fdb_flush_port(f, 1) == 32);
	CHECK(fdb_flush(f, true) == 1);
	CHECK(fdb_add_static(f, (uint8_t[6]){ 0x01, 0, 0x5e, 0, 0, 1 }, 0, 1) == -EINVAL);
	CHECK(fdb_add_static(f, m, 4096, 1) == -EINVAL);
	fdb_destroy(f);
}

static void test_static_replaces_dynamic(void)
{
	struct fdb_cfg c = { .max_dynamic = 10, .age_ms = 1000 };
	struct fdb_stats s;
	struct fdb *f;
	uint8_t m[6];

	CHECK(fdb_create(&c, &f) == 0);
	mac_of(5, m);
	fdb_learn(f, m, 3, 1, 0);
	CHECK(fdb_add_static(f, m, 3, 2) == 0);
	CHECK(fdb_lookup(f, m, 3) == 2);
	fdb_get_stats(f, &s);
	CHECK(s.dynamic == 0 && s.statics == 1);
	CHECK(fdb_age(f, 1000000) == 0);
	CHECK(fdb_lookup(f, m, 3) == 2);
	fdb_destroy(f);
}

static void test_mac_parse(void)
{
	uint8_t m[6];
	char buf[18];

	CHECK(fdb_mac_parse("02:00:00:aB:cd:01", m) == 0);
	fdb_mac_format(m, buf);
	CHECK(!strcmp(buf, "02:00:00:ab:cd:01"));
	CHECK(fdb_mac_parse("02:00:00:ab:cd", m) == -EINVAL);
	CHECK(fdb_mac_parse("02:00:00:ab:cd:011", m) == -EINVAL);
	CHECK(fdb_mac_parse("0g:00:00:ab:cd:01", m) == -EINVAL);
	CHECK(fdb_mac_parse("", m) == -EINVAL);
}

static void test_vlan(void)
{
	struct vlan_cfg acc, tr, trn, def;
	uint16_t vids[] = { 10, 20 };
	bool tag;

	CHECK(vlan_set_access(&def, 0) == 0);
	CHECK(vlan_set_access(&acc, 10) == 0);
	CHECK(vlan_set_trunk(&tr, 0, vids, 2) == 0);
	CHECK(vlan_set_trunk(&trn, 30, vids, 2) == 0);
	CHECK(vlan_set_access(&acc, 4095) == -EINVAL);
	CHECK(vlan_set_trunk(&tr, 0, (uint16_t[]){ 0 }, 1) == -EINVAL);

	/* Access: untagged and priority-tagged join the port VLAN; tagged frames are filtered. */
	CHECK(vlan_ingress(&acc, false, 0) == 10);
	CHECK(vlan_ingress(&acc, true, 0) == 10);
	CHECK(vlan_ingress(&acc, true, 10) == VLAN_DROP);
	CHECK(vlan_ingress(&acc, true, 20) == VLAN_DROP);
	CHECK(vlan_ingress(&def, false, 0) == 0);
	CHECK(vlan_egress(&acc, 10, &tag) && !tag);
	CHECK(!vlan_egress(&acc, 20, &tag));
	CHECK(!vlan_egress(&acc, 0, &tag));
	CHECK(vlan_egress(&def, 0, &tag) && !tag);
	CHECK(!vlan_egress(&def, 10, &tag));

	/* Trunk without native VLAN. */
	CHECK(vlan_ingress(&tr, true, 10) == 10);
	CHECK(vlan_ingress(&tr, true, 20) == 20);
	CHECK(vlan_ingress(&tr, true, 30) == VLAN_DROP);
	CHECK(vlan_ingress(&tr, false, 0) == VLAN_DROP);
	CHECK(vlan_ingress(&tr, true, 4095) == VLAN_DROP);
	CHECK(vlan_egress(&tr, 10, &tag) && tag);
	CHECK(vlan_egress(&tr, 20, &tag) && tag);
	CHECK(!vlan_egress(&tr, 30, &tag));
	CHECK(!vlan_egress(&tr, 0, &tag));

	/* Trunk with native VLAN 30: untagged in and out for 30. */
	CHECK(vlan_ingress(&trn, false, 0) == 30);
	CHECK(vlan_ingress(&trn, true, 30) == 30);
	CHECK(vlan_egress(&trn, 30, &tag) && !tag);
	CHECK(vlan_egress(&trn, 10, &tag) && tag);
	CHECK(!vlan_egress(&trn, 40, &tag));
}

int main(void)
{
	test_learn_lookup();
	test_aging();
	test_limit_and_statics();
	test_static_replaces_dynamic();
	test_mac_parse();
	test_vlan();
	TEST_DONE("switch-fdb-vlan");
}
