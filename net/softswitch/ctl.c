// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switch control protocol: one JSON object per request line, one JSON object per response
 * line (docs/switch.md). Requests come from an untrusted socket: every field is checked, unknown
 * fields are refused by name, and a failed request changes nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"	/* before DPDK headers: rte_common.h defers to its container_of */

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "log.h"
#include "sw.h"

#define ERRLEN 256

struct req {
	struct sw *sw;
	const struct json *o;
	struct jbuf *r;
	char err[ERRLEN];
};

__attribute__((format(printf, 2, 3))) static int fail(struct req *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Refuse members other than "cmd" and @allowed (NULL-terminated), naming the first one found. */
static int check_fields(struct req *q, const char *const *allowed)
{
	for (const struct json *k = q->o->child; k; k = k->next) {
		bool ok = !strcmp(k->key, "cmd");

		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, k->key);
		if (!ok)
			return fail(q, "unknown field '%s'", k->key);
	}
	return 0;
}

static int get_str(struct req *q, const char *key, bool required, const char **out, size_t maxlen)
{
	int r = json_get_str(q->o, key, out);

	if (r == -ENOENT) {
		*out = NULL;
		return required ? fail(q, "missing field '%s'", key) : 0;
	}
	if (r)
		return fail(q, "field '%s' must be a string", key);
	if (strlen(*out) == 0 || strlen(*out) >= maxlen)
		return fail(q, "field '%s': length must be 1..%zu", key, maxlen - 1);
	return 0;
}

static int get_int(struct req *q, const char *key, int64_t min, int64_t max, int64_t def,
		   int64_t *out)
{
	int r = json_get_int(q->o, key, min, max, out);

	if (r == -ENOENT) {
		*out = def;
		return 0;
	}
	if (r)
		return fail(q, "field '%s' must be an integer in %lld..%lld", key, (long long)min,
			    (long long)max);
	return 0;
}

static int get_bool(struct req *q, const char *key, bool def, bool *out)
{
	int r = json_get_bool(q->o, key, out);

	if (r == -ENOENT) {
		*out = def;
		return 0;
	}
	return r ? fail(q, "field '%s' must be a boolean", key) : 0;
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.' || *s == ':'))
			return false;
	return true;
}

static int get_port(struct req *q, const char *key, struct sw_port **out)
{
	const char *name;
	int r = get_str(q, key, true, &name, SW_NAME_MAX);

	if (r)
		return r;
	*out = sw_port_find(q->sw, name);
	if (!*out)
		return fail(q, "%s '%s': no such port", key, name);
	return 0;
}

/*
 * Run @fn on every port, or only on the one an optional "port" member names (-EINVAL when it names
 * none). Nothing runs unless the name is good.
 */
static int for_ports(struct req *q, void (*fn)(struct req *q, struct sw_port *p))
{
	struct sw_port *only = NULL;
	int r;

	if (json_get(q->o, "port") && (r = get_port(q, "port", &only)))
		return r;
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (q->sw->ports[i] && (!only || only == q->sw->ports[i]))
			fn(q, q->sw->ports[i]);
	return 0;
}

/* for_ports() inside a "ports" array of the response. */
static int put_ports(struct req *q, void (*fn)(struct req *q, struct sw_port *p))
{
	int r;

	jbuf_arr_open(q->r, "ports");
	r = for_ports(q, fn);
	jbuf_arr_close(q->r);
	return r;
}

/* vlan_mode / vlan / trunks, shared by port-add and port-set-vlan. */
static int get_vlan(struct req *q, struct vlan_cfg *cfg)
{
	const char *mode_s;
	enum vlan_mode mode = VLAN_ACCESS;
	const struct json *tr = json_get(q->o, "trunks");
	uint16_t vids[4096];
	unsigned n = 0;
	int64_t vlan;
	int r;

	r = get_str(q, "vlan_mode", false, &mode_s, 16);
	if (r)
		return r;
	if (mode_s && vlan_mode_parse(mode_s, &mode))
		return fail(q, "vlan_mode '%s': must be \"access\" or \"trunk\"", mode_s);
	r = get_int(q, "vlan", 0, 4094, 0, &vlan);
	if (r)
		return r;
	if (tr) {
		if (mode != VLAN_TRUNK)
			return fail(q, "field 'trunks' needs vlan_mode \"trunk\"");
		if (tr->type != JSON_ARRAY)
			return fail(q, "field 'trunks' must be an array of VLAN ids");
		for (const struct json *v = tr->child; v; v = v->next) {
			int64_t vid;

			if (json_int(v, 1, 4094, &vid))
				return fail(q, "field 'trunks': VLAN ids must be integers in 1..4094");
			if (n < (unsigned)ARRAY_SIZE(vids))
				vids[n++] = (uint16_t)vid;
		}
	}
	if (mode == VLAN_TRUNK)
		r = vlan_set_trunk(cfg, (uint16_t)vlan, vids, n);
	else
		r = vlan_set_access(cfg, (uint16_t)vlan);
	return r ? fail(q, "bad VLAN configuration") : 0;
}

static void put_vlan(struct jbuf *b, const struct vlan_cfg *v)
{
	jbuf_str(b, "vlan_mode", vlan_mode_name(v->mode));
	jbuf_u64(b, "vlan", v->vlan);
	jbuf_arr_open(b, "trunks");
	if (v->mode == VLAN_TRUNK)
		for (unsigned vid = 1; vid < 4095; vid++)
			if (vlan_trunk_allows(v, (uint16_t)vid))
				jbuf_u64(b, NULL, vid);
	jbuf_arr_close(b);
}

static int cmd_port_add(struct req *q)
{
	struct sw_port_params pa = { 0 };
	const char *type, *mode;
	int64_t queues;
	int r;

	if ((r = get_str(q, "name", true, &pa.name, SW_NAME_MAX)) ||
	    (r = get_str(q, "type", true, &type, 16)))
		return r;
	if (!name_ok(pa.name))
		return fail(q, "name '%s': use letters, digits, '-', '_', '.', ':'", pa.name);
	if (!strcmp(type, "vhost-user")) {
		pa.type = SW_PORT_VHOST;
		if ((r = get_str(q, "path", true, &pa.path, SW_PATH_MAX)) ||
		    (r = get_str(q, "mode", false, &mode, 16)))
			return r;
		if (pa.path[0] != '/')
			return fail(q, "path '%s': must be absolute", pa.path);
		if (json_get(q->o, "devargs"))
			return fail(q, "field 'devargs' is for type \"ethdev\"");
		if (mode && strcmp(mode, "server") && strcmp(mode, "client"))
			return fail(q, "mode '%s': must be \"server\" or \"client\"", mode);
		pa.client = mode && !strcmp(mode, "client");
	} else if (!strcmp(type, "ethdev")) {
		pa.type = SW_PORT_ETHDEV;
		if ((r = get_str(q, "devargs", true, &pa.devargs, SW_DEVARGS_MAX)))
			return r;
		if (json_get(q->o, "path") || json_get(q->o, "mode"))
			return fail(q, "fields 'path'/'mode' are for type \"vhost-user\"");
	} else {
		return fail(q, "type '%s': must be \"vhost-user\" or \"ethdev\"", type);
	}
	if ((r = get_int(q, "queues", 1, SW_MAX_QUEUES, 1, &queues)) || (r = get_vlan(q, &pa.vlan)))
		return r;
	pa.queues = (uint16_t)queues;
	r = sw_port_add(q->sw, &pa, q->err, sizeof(q->err));
	return r ? -EINVAL : 0;
}

static int cmd_port_del(struct req *q)
{
	struct sw_port *p;
	int r = get_port(q, "name", &p);

	if (r)
		return r;
	if (sw_port_del(q->sw, p))
		return fail(q, "name '%s': out of memory", p->name);
	return 0;
}

static void put_port(struct req *q, struct sw_port *p)
{
	struct jbuf *b = q->r;

	jbuf_obj_open(b, NULL);
	jbuf_str(b, "name", p->name);
	if (p->type == SW_PORT_VHOST) {
		jbuf_str(b, "type", "vhost-user");
		jbuf_str(b, "path", p->path);
		jbuf_str(b, "mode", p->client ? "client" : "server");
	} else {
		jbuf_str(b, "type", "ethdev");
		jbuf_str(b, "devargs", p->devargs);
	}
	jbuf_u64(b, "queues", p->queues);
	jbuf_str(b, "link", sw_port_link_up(p) ? "up" : "down");
	put_vlan(b, &p->vlan);
	jbuf_u64(b, "pmd", sw_pmd_of(q->sw, p, 0));
	if (p->type == SW_PORT_VHOST) {
		jbuf_u64(b, "connects", p->connects);
		jbuf_u64(b, "disconnects", p->disconnects);
	}
	jbuf_obj_close(b);
}

static int cmd_port_list(struct req *q)
{
	return put_ports(q, put_port);
}

static int cmd_port_set_vlan(struct req *q)
{
	struct vlan_cfg v, old;
	struct sw_port *p;
	int r;

	if ((r = get_port(q, "name", &p)) || (r = get_vlan(q, &v)))
		return r;
	old = p->vlan;
	p->vlan = v;
	if (sw_pmd_reload(q->sw)) {
		p->vlan = old;
		return fail(q, "out of memory");
	}
	/* Learned locations may now be on VLANs the port left. */
	fdb_flush_port(q->sw->fdb, p->id);
	return 0;
}

static void put_stats(struct req *q, struct sw_port *p)
{
	struct sw_port_stats s;
	struct jbuf *b = q->r;

	sw_port_stats_read(p, &s);
	jbuf_obj_open(b, NULL);
	jbuf_str(b, "name", p->name);
	jbuf_u64(b, "rx_packets", s.rx_packets);
	jbuf_u64(b, "rx_bytes", s.rx_bytes);
	jbuf_u64(b, "tx_packets", s.tx_packets);
	jbuf_u64(b, "tx_bytes", s.tx_bytes);
	jbuf_u64(b, "drop_no_buffers", s.drop_no_buffers);
	jbuf_u64(b, "drop_queue_full", s.drop_queue_full);
	jbuf_u64(b, "drop_vlan", s.drop_vlan);
	jbuf_u64(b, "drop_malformed", s.drop_malformed);
	jbuf_u64(b, "drop_link_down", s.drop_link_down);
	jbuf_u64(b, "drop_hairpin", s.drop_hairpin);
	jbuf_u64(b, "flooded", s.flooded);
	jbuf_str(b, "link", sw_port_link_up(p) ? "up" : "down");
	jbuf_obj_close(b);
}

static void put_fdb_stats(struct req *q)
{
	struct fdb_stats fs;
	struct jbuf *b = q->r;

	fdb_get_stats(q->sw->fdb, &fs);
	jbuf_obj_open(b, "fdb");
	jbuf_u64(b, "dynamic", fs.dynamic);
	jbuf_u64(b, "static", fs.statics);
	jbuf_u64(b, "max_dynamic", q->sw->cfg.fdb_max);
	jbuf_u64(b, "age_s", q->sw->cfg.fdb_age_s);
	jbuf_u64(b, "learned", fs.learned);
	jbuf_u64(b, "moved", fs.moved);
	jbuf_u64(b, "aged", fs.aged);
	jbuf_u64(b, "limit_drops", fs.limit_drops);
	jbuf_u64(b, "bucket_evictions", fs.bucket_evictions);
	jbuf_u64(b, "static_refused", fs.static_refused);
	jbuf_obj_close(b);
}

static int cmd_stats(struct req *q)
{
	int r = put_ports(q, put_stats);

	if (!r)
		put_fdb_stats(q);
	return r;
}

static void clear_stats(struct req *q, struct sw_port *p)
{
	(void)q;
	sw_port_stats_clear(p);
}

static int cmd_stats_clear(struct req *q)
{
	return for_ports(q, clear_stats);
}

static int get_mac_vlan(struct req *q, uint8_t mac[6], uint16_t *vlan)
{
	const char *s;
	int64_t v;
	int r;

	if ((r = get_str(q, "mac", true, &s, 18)))
		return r;
	if (fdb_mac_parse(s, mac))
		return fail(q, "mac '%s': expected xx:xx:xx:xx:xx:xx", s);
	if ((r = get_int(q, "vlan", 0, 4094, 0, &v)))
		return r;
	*vlan = (uint16_t)v;
	return 0;
}

static int cmd_fdb_add(struct req *q)
{
	struct sw_port *p;
	uint8_t mac[6];
	uint16_t vlan;
	int r;

	if ((r = get_mac_vlan(q, mac, &vlan)) || (r = get_port(q, "port", &p)))
		return r;
	if (fdb_mac_is_multicast(mac))
		return fail(q, "mac: multicast addresses cannot be FDB entries");
	r = fdb_add_static(q->sw->fdb, mac, vlan, p->id);
	if (r == -ENOSPC)
		return fail(q, "mac: hash bucket full of static entries");
	return r ? fail(q, "mac: cannot add") : 0;
}

static int cmd_fdb_del(struct req *q)
{
	uint8_t mac[6];
	uint16_t vlan;
	int r = get_mac_vlan(q, mac, &vlan);

	if (r)
		return r;
	if (fdb_del(q->sw->fdb, mac, vlan))
		return fail(q, "mac: no entry for this mac and vlan %u", vlan);
	return 0;
}

static int cmd_fdb_flush(struct req *q)
{
	bool statics;
	int r = get_bool(q, "static", false, &statics);

	if (r)
		return r;
	jbuf_u64(q->r, "removed", fdb_flush(q->sw->fdb, statics));
	return 0;
}

static void fdb_show_cb(const struct fdb_entry *e, void *opaque)
{
	struct req *q = opaque;
	struct sw_port *p = e->port < SW_MAX_PORTS ? q->sw->ports[e->port] : NULL;
	char mac[18];

	fdb_mac_format(e->mac, mac);
	jbuf_obj_open(q->r, NULL);
	jbuf_str(q->r, "mac", mac);
	jbuf_u64(q->r, "vlan", e->vlan);
	jbuf_str(q->r, "port", p ? p->name : "?");
	jbuf_bool(q->r, "static", e->is_static);
	jbuf_u64(q->r, "age_ms", e->age_ms);
	jbuf_obj_close(q->r);
}

static int cmd_fdb_show(struct req *q)
{
	jbuf_arr_open(q->r, "entries");
	fdb_walk(q->sw->fdb, sw_now_ms(q->sw), fdb_show_cb, q);
	jbuf_arr_close(q->r);
	put_fdb_stats(q);
	return 0;
}

static int cmd_show(struct req *q)
{
	struct sw *sw = q->sw;

	jbuf_str(q->r, "version", SW_VERSION);
	jbuf_bool(q->r, "power_mode", sw->cfg.power_mode);
	jbuf_arr_open(q->r, "pmds");
	for (unsigned k = 0; k < sw->npmds; k++) {
		struct sw_pmd *pmd = &sw->pmds[k];

		jbuf_obj_open(q->r, NULL);
		jbuf_u64(q->r, "lcore", pmd->lcore);
		{
			rte_cpuset_t set = rte_lcore_cpuset(pmd->lcore);
			int cpu = -1;

			for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
				if (CPU_ISSET(c, &set))
					cpu = c;
			jbuf_i64(q->r, "cpu", cpu);	/* first CPU of the lcore's affinity */
		}
		jbuf_u64(q->r, "loops", __atomic_load_n(&pmd->loops, __ATOMIC_RELAXED));
		jbuf_u64(q->r, "busy_loops", __atomic_load_n(&pmd->busy_loops, __ATOMIC_RELAXED));
		jbuf_u64(q->r, "busy_cycles", __atomic_load_n(&pmd->busy_cycles, __ATOMIC_RELAXED));
		jbuf_u64(q->r, "rx_frames", __atomic_load_n(&pmd->rx_frames, __ATOMIC_RELAXED));
		jbuf_u64(q->r, "tsc_hz", rte_get_tsc_hz());
		jbuf_arr_open(q->r, "rxqs");
		for (unsigned i = 0; i < SW_MAX_PORTS; i++) {
			struct sw_port *p = sw->ports[i];

			for (uint16_t qq = 0; p && qq < p->queues; qq++) {
				if (sw_pmd_of(sw, p, qq) != pmd->lcore)
					continue;
				jbuf_obj_open(q->r, NULL);
				jbuf_str(q->r, "port", p->name);
				jbuf_u64(q->r, "queue", qq);
				jbuf_obj_close(q->r);
			}
		}
		jbuf_arr_close(q->r);
		jbuf_obj_close(q->r);
	}
	jbuf_arr_close(q->r);
	put_fdb_stats(q);
	return 0;
}

/* A command's members besides "cmd"; anything else is refused before the handler runs. */
#define FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define VLAN_FIELDS "vlan_mode", "vlan", "trunks"

static const struct {
	const char *name;
	int (*fn)(struct req *q);
	const char *const *fields;
} cmds[] = {
	{ "port-add", cmd_port_add,
	  FIELDS("name", "type", "path", "mode", "queues", "devargs", VLAN_FIELDS) },
	{ "port-del", cmd_port_del, FIELDS("name") },
	{ "port-list", cmd_port_list, FIELDS(NULL) },
	{ "port-set-vlan", cmd_port_set_vlan, FIELDS("name", VLAN_FIELDS) },
	{ "fdb-show", cmd_fdb_show, FIELDS(NULL) },
	{ "fdb-add", cmd_fdb_add, FIELDS("mac", "vlan", "port") },
	{ "fdb-del", cmd_fdb_del, FIELDS("mac", "vlan") },
	{ "fdb-flush", cmd_fdb_flush, FIELDS("static") },
	{ "stats", cmd_stats, FIELDS("port") },
	{ "stats-clear", cmd_stats_clear, FIELDS("port") },
	{ "show", cmd_show, FIELDS(NULL) },
};

void sw_ctl_handle(struct sw *sw, const char *line, size_t len, struct jbuf *resp)
{
	struct req q = { .sw = sw, .r = resp };
	struct json *doc = NULL;
	struct json_err jerr;
	const char *cmd = NULL;
	int r;

	jbuf_init(resp);
	jbuf_obj_open(resp, NULL);
	jbuf_bool(resp, "ok", true);
	r = json_parse(line, len, &doc, &jerr);
	if (r == -ENOMEM) {
		fail(&q, "request too large");
		goto out;
	}
	if (r) {
		fail(&q, "bad JSON: %s at offset %zu", jerr.msg, jerr.off);
		goto out;
	}
	q.o = doc;
	if (q.o->type != JSON_OBJECT) {
		fail(&q, "request must be a JSON object");
		goto out;
	}
	if (json_get_str(q.o, "cmd", &cmd)) {
		fail(&q, "missing field 'cmd' (a string)");
		goto out;
	}
	r = -ENOENT;
	pthread_mutex_lock(&sw->lock);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		if (!strcmp(cmds[i].name, cmd)) {
			r = check_fields(&q, cmds[i].fields);
			if (!r)
				r = cmds[i].fn(&q);
			break;
		}
	}
	pthread_mutex_unlock(&sw->lock);
	if (r == -ENOENT)
		fail(&q, "cmd '%s': unknown command", cmd);
out:
	json_free(doc);
	if (q.err[0] || resp->failed) {
		/* Start over: a failed request reports only the error. */
		jbuf_free(resp);
		jbuf_obj_open(resp, NULL);
		jbuf_bool(resp, "ok", false);
		jbuf_str(resp, "error", q.err[0] ? q.err : "out of memory");
	}
	jbuf_obj_close(resp);
}
