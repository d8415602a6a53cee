// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for what nfv-switch does with a control request before any DPDK call: any byte
 * string goes through json_parse() (the reader itself, with its writer round trip, is fuzz_json's
 * job); an accepted document is read the way ctl.c reads requests: member names checked, "cmd",
 * "name", "vlan_mode"/"vlan"/"trunks" into a VLAN configuration, "mac" through the MAC parser
 * (whose output must format and parse back to the same address), "static" as a boolean.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "json.h"
#include "vlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As ctl.c's get_vlan(): the VLAN configuration a port-add / port-set-vlan would install. */
static void vlan_from(const struct json *o)
{
	static uint16_t vids[4096];
	enum vlan_mode mode = VLAN_ACCESS;
	const struct json *tr = json_get(o, "trunks");
	struct vlan_cfg cfg;
	const char *s;
	int64_t vlan = 0, vid;
	unsigned n = 0;
	bool tag;

	if (json_get_str(o, "vlan_mode", &s) == 0 && vlan_mode_parse(s, &mode))
		return;
	if (json_get_int(o, "vlan", 0, 4094, &vlan) == -EINVAL)
		return;
	if (tr && (mode != VLAN_TRUNK || tr->type != JSON_ARRAY))
		return;
	for (const struct json *v = tr ? tr->child : NULL; v; v = v->next) {
		if (json_int(v, 1, 4094, &vid))
			return;
		if (n < 4096)
			vids[n++] = (uint16_t)vid;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (mode == VLAN_TRUNK ? vlan_set_trunk(&cfg, (uint16_t)vlan, vids, n) :
				 vlan_set_access(&cfg, (uint16_t)vlan))
		return;
	for (unsigned k = 0; k < n && mode == VLAN_TRUNK; k++)
		if (!vlan_trunk_allows(&cfg, vids[k]) || !vlan_egress(&cfg, vids[k], &tag) ||
		    vlan_ingress(&cfg, true, vids[k]) != vids[k])
			abort();	/* a configured trunk VLAN must pass both ways */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = { "cmd", "name", "type", "path", "mode", "queues",
					     "devargs", "vlan_mode", "vlan", "trunks", "mac",
					     "port", "static", NULL };
	struct json *o = NULL;
	const char *s;
	bool b;

	if (size > 65536 || json_parse((const char *)data, size, &o, NULL))
		return 0;
	if (o->type == JSON_OBJECT) {
		for (const struct json *k = o->child; k; k = k->next) {
			const char *const *a = known;

			while (*a && strcmp(*a, k->key))
				a++;
			if (!*a)
				goto out;	/* refused by name, as ctl.c does */
		}
	}
	(void)json_get_str(o, "cmd", &s);
	(void)json_get_str(o, "name", &s);
	(void)json_get_bool(o, "static", &b);
	vlan_from(o);
	if (json_get_str(o, "mac", &s) == 0) {
		uint8_t mac[6], again[6];
		char text[18];

		if (fdb_mac_parse(s, mac) == 0) {
			fdb_mac_format(mac, text);
			if (fdb_mac_parse(text, again) || memcmp(mac, again, 6))
				abort();
		}
	}
out:
	json_free(o);
	return 0;
}
