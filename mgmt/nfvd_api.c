// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd REST/JSON API (documented in docs/mgmt.md). Every handler answers with one complete
 * response; errors are {"error":"..."} with a 4xx/5xx status.
 */
#include "nfvd.h"
#include "nfvd_vf.h"
#include "ctlsock.h"
#include "http.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_SWITCH_TIMEOUT_MS 3000

struct reply {
	int status;
	struct strbuf body;
	const char *ctype;
};

static void reply_error(struct reply *r, int status, const char *msg)
{
	sb_reset(&r->body);
	r->status = status;
	r->ctype = "application/json";
	sb_append(&r->body, "{\"error\":");
	sb_json_str(&r->body, msg);
	sb_append(&r->body, "}\n");
}

__attribute__((format(printf, 3, 4))) static void reply_errorf(struct reply *r, int status,
							       const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_error(r, status, msg);
}

/* Map -errno from a lifecycle call to an HTTP status. */
static int errno_status(int r)
{
	switch (-r) {
	case EINVAL:
		return 409; /* operation not valid in this state, or bad value */
	case EBUSY:
	case EEXIST:
		return 409;
	case ENOENT:
	case ENODEV:
	case ENOMEM:
	case ENOSPC:
		return 409; /* resources missing on the host */
	case ECONNREFUSED:
	case ETIMEDOUT:
	case EREMOTEIO:
	case EPROTO:
		return 502;
	default:
		return 500;
	}
}

static void reply_ok(struct reply *r)
{
	r->status = 200;
	sb_append(&r->body, "{\"ok\":true}\n");
}

static void put_uuid(struct strbuf *sb, const uint8_t uuid[16])
{
	char u[37];

	domain_uuid_format(uuid, u);
	sb_printf(sb, "\"%s\"", u);
}

static void api_list(struct nfvd *d, struct reply *r)
{
	sb_append(&r->body, "{\"domains\":[");
	for (size_t i = 0; i < d->n_doms; i++) {
		const struct nfvd_dom *dom = d->doms[i];

		sb_append(&r->body, i ? ",{\"name\":" : "{\"name\":");
		sb_json_str(&r->body, dom->name);
		sb_append(&r->body, ",\"uuid\":");
		put_uuid(&r->body, dom->def->uuid);
		sb_printf(&r->body, ",\"id\":%d,\"state\":\"%s\",\"reason\":", dom->id,
			  nfvd_state_str(dom->state));
		sb_json_str(&r->body, dom->reason);
		sb_printf(&r->body, ",\"autostart\":%s}", dom->autostart ? "true" : "false");
	}
	sb_append(&r->body, "]}\n");
	r->status = 200;
}

static void put_net(struct strbuf *sb, const struct nfvd_dom *dom, size_t i)
{
	const struct domain_def *def = dom->live ? dom->live : dom->def;
	const struct domain_net *n = &def->nets[i];
	char mac[18], pbuf[80], src[32];
	const char *port = nfvd_port_name(dom, i, pbuf, sizeof(pbuf));
	const char *source = n->source_name;

	domain_mac_format(n->mac, mac);
	if (n->type == DOMAIN_NET_VHOSTUSER) {
		source = n->source_path;
	} else if (n->type == DOMAIN_NET_HOSTDEV) {
		snprintf(src, sizeof(src), "%04x:%02x:%02x.%x", n->host_addr.domain,
			 n->host_addr.bus, n->host_addr.slot, n->host_addr.function);
		source = src;
	}
	sb_append(sb, "{\"interface\":");
	sb_json_str(sb, port ? port : n->target_dev ? n->target_dev : "-");
	sb_printf(sb, ",\"type\":\"%s\",\"source\":", domain_net_type_to_string(n->type));
	sb_json_str(sb, source ? source : "-");
	sb_printf(sb, ",\"model\":\"%s\",\"mac\":\"%s\"",
		  n->type == DOMAIN_NET_HOSTDEV		  ? "-"
		  : n->model == DOMAIN_NET_MODEL_NE2K_PCI ? "ne2k_pci"
							  : "virtio",
		  mac);
	if (n->vlan.n_tags) {
		sb_printf(sb, ",\"vlan_mode\":\"%s\",\"vlans\":[",
			  n->vlan.trunk || n->vlan.n_tags > 1 ? "trunk" : "access");
		for (size_t t = 0; t < n->vlan.n_tags; t++)
			sb_printf(sb, "%s%u", t ? "," : "", n->vlan.tags[t].id);
		sb_append(sb, "]");
	}
	sb_append(sb, "}");
}

static void api_info(struct nfvd *d, struct nfvd_dom *dom, struct reply *r)
{
	const struct domain_def *def = dom->live ? dom->live : dom->def;
	struct strbuf *sb = &r->body;
	char cons[4096];

	sb_append(sb, "{\"name\":");
	sb_json_str(sb, dom->name);
	sb_append(sb, ",\"uuid\":");
	put_uuid(sb, def->uuid);
	sb_printf(sb, ",\"id\":%d,\"state\":\"%s\",\"reason\":", dom->id,
		  nfvd_state_str(dom->state));
	sb_json_str(sb, dom->reason);
	sb_printf(sb,
		  ",\"os_type\":\"hvm\",\"vcpus\":%u,\"memory_kib\":%llu,"
		  "\"current_memory_kib\":%llu,\"persistent\":true,\"autostart\":%s,"
		  "\"pid\":%d,\"last_exit\":%d",
		  def->vcpus, (unsigned long long)def->memory_kib,
		  (unsigned long long)def->current_memory_kib, dom->autostart ? "true" : "false",
		  dom->state == NFVD_RUNNING ? (int)dom->pid : 0, dom->last_exit);
	if (dom->state == NFVD_RUNNING)
		sb_printf(sb, ",\"uptime_ms\":%llu,\"started\":%lld",
			  (unsigned long long)(clock_ms() - dom->started_ms),
			  (long long)dom->started_wall);
	nfvd_dom_console_path(d, dom, cons, sizeof(cons));
	sb_append(sb, ",\"console\":");
	sb_json_str(sb, cons);
	sb_append(sb, ",\"vfs\":");
	nfvd_vf_json(d, dom, sb);
	sb_append(sb, ",\"interfaces\":[");
	for (size_t i = 0; i < def->n_nets; i++) {
		if (i)
			sb_append(sb, ",");
		put_net(sb, dom, i);
	}
	sb_append(sb, "],\"disks\":[");
	for (size_t i = 0; i < def->n_disks; i++) {
		sb_append(sb, i ? ",{\"target\":" : "{\"target\":");
		sb_json_str(sb, def->disks[i].target_dev);
		sb_append(sb, ",\"source\":");
		sb_json_str(sb, def->disks[i].source);
		sb_printf(sb, ",\"type\":\"%s\",\"readonly\":%s}",
			  domain_disk_type_to_string(def->disks[i].type),
			  def->disks[i].readonly ? "true" : "false");
	}
	sb_append(sb, "],\"vcpupin\":[");
	for (unsigned v = 0; v < def->vcpus; v++) {
		sb_append(sb, v ? "," : "");
		if (def->vcpupin[v].str)
			sb_json_str(sb, def->vcpupin[v].str);
		else if (def->vcpu_cpuset.str)
			sb_json_str(sb, def->vcpu_cpuset.str);
		else
			sb_append(sb, "null");
	}
	sb_append(sb, "]}\n");
	r->status = 200;
}

static void api_define(struct nfvd *d, const struct http_req *req, struct reply *r)
{
	static const char *const allowed[] = {"drop_unsupported", NULL};
	unsigned flags = 0;
	struct nfvd_dom *dom = NULL;
	char v[16], *err = NULL;
	int rc;

	if (!http_query_only(req, allowed))
		return reply_error(r, 400, "unknown query parameter (allowed: drop_unsupported)");
	if (http_query_get(req, "drop_unsupported", v, sizeof(v))) {
		if (!strcmp(v, "1") || !strcmp(v, "true"))
			flags |= DOMAIN_PARSE_DROP_UNSUPPORTED;
		else if (strcmp(v, "0") && strcmp(v, "false"))
			return reply_error(r, 400, "drop_unsupported must be 0 or 1");
	}
	/* curl --data sends form encoding by default; only a JSON body is clearly a mistake */
	if (req->content_type && req->content_type_len >= 16 &&
	    !strncmp(req->content_type, "application/json", 16))
		return reply_error(r, 415,
				   "domain definitions are XML (Content-Type: application/xml)");
	if (!req->body_len)
		return reply_error(r, 400, "empty body: expected domain XML");
	rc = nfvd_define(d, req->body, req->body_len, flags, &dom, &err);
	if (rc < 0) {
		reply_error(r,
			    rc == -EEXIST		    ? 409
			    : rc == -EINVAL || rc == -EFBIG ? 400
							    : 500,
			    err ? err : strerror(-rc));
		free(err);
		return;
	}
	r->status = 201;
	sb_append(&r->body, "{\"name\":");
	sb_json_str(&r->body, dom->name);
	sb_append(&r->body, ",\"uuid\":");
	put_uuid(&r->body, dom->def->uuid);
	sb_append(&r->body, ",\"dropped\":[");
	for (size_t i = 0; i < dom->def->n_dropped; i++) {
		sb_append(&r->body, i ? "," : "");
		sb_json_str(&r->body, dom->def->dropped[i]);
	}
	sb_append(&r->body, "]}\n");
}

/* Parse a JSON object body allowing only @fields; reply 400 and return NULL otherwise. */
static struct json *json_body(const struct http_req *req, const char *const *fields,
			      struct reply *r)
{
	struct json *j = NULL;
	struct json_err jerr;

	if (req->content_type &&
	    !(req->content_type_len >= 16 && !strncmp(req->content_type, "application/json", 16))) {
		reply_error(r, 415, "expected Content-Type: application/json");
		return NULL;
	}
	if (json_parse(req->body ? req->body : "", req->body_len, &j, &jerr) < 0) {
		reply_errorf(r, 400, "malformed JSON at byte %zu: %s", jerr.off, jerr.msg);
		return NULL;
	}
	if (j->type != JSON_OBJECT) {
		json_free(j);
		reply_error(r, 400, "expected a JSON object");
		return NULL;
	}
	for (const struct json *m = j->child; m; m = m->next) {
		bool ok = false;

		for (const char *const *f = fields; *f; f++)
			if (!strcmp(*f, m->key))
				ok = true;
		if (!ok) {
			reply_errorf(r, 400, "unknown field '%s'", m->key);
			json_free(j);
			return NULL;
		}
	}
	return j;
}

static void api_autostart(struct nfvd *d, struct nfvd_dom *dom, const struct http_req *req,
			  struct reply *r)
{
	static const char *const fields[] = {"autostart", NULL};
	struct json *j = json_body(req, fields, r);
	char *err = NULL;
	bool on;
	int rc;

	if (!j)
		return;
	if (json_get_bool(j, "autostart", &on)) {
		json_free(j);
		return reply_error(r, 400, "field 'autostart' (boolean) is required");
	}
	json_free(j);
	rc = nfvd_set_autostart(d, dom, on, &err);
	if (rc < 0)
		reply_error(r, 500, err ? err : strerror(-rc));
	else
		reply_ok(r);
	free(err);
}

static void api_vcpupin(struct nfvd *d, struct nfvd_dom *dom, const struct http_req *req,
			struct reply *r)
{
	static const char *const fields[] = {"vcpu", "cpuset", NULL};
	struct json *j = json_body(req, fields, r);
	const char *cpuset;
	char *err = NULL;
	int64_t vcpu;
	int rc;

	if (!j)
		return;
	if (json_get_int(j, "vcpu", 0, DOMAIN_MAX_VCPUS - 1, &vcpu) ||
	    json_get_str(j, "cpuset", &cpuset)) {
		json_free(j);
		return reply_error(r, 400,
				   "fields 'vcpu' (integer) and 'cpuset' (string) are "
				   "required");
	}
	rc = nfvd_vcpupin(d, dom, (unsigned)vcpu, cpuset, &err);
	json_free(j);
	if (rc < 0)
		reply_error(r, errno_status(rc), err ? err : strerror(-rc));
	else
		reply_ok(r);
	free(err);
}

/* Raw switch reply for a switch command, re-validated as JSON before it is passed on. */
static int switch_raw(struct nfvd *d, const char *cmd, char **raw, struct json **parsed,
		      struct reply *r)
{
	char e[512];
	bool ok = false;
	int rc = ctl_call(d->cfg.switch_socket, cmd, API_SWITCH_TIMEOUT_MS, raw);

	if (rc < 0) {
		reply_errorf(r, 503, "nfv-switch is not reachable at %s: %s", d->cfg.switch_socket,
			     strerror(-rc));
		return rc;
	}
	if (json_parse(*raw, strlen(*raw), parsed, NULL) < 0 || (*parsed)->type != JSON_OBJECT) {
		free(*raw);
		*raw = NULL;
		json_free(*parsed);
		*parsed = NULL;
		reply_error(r, 502, "nfv-switch sent a malformed reply");
		return -EPROTO;
	}
	if (json_get_bool(*parsed, "ok", &ok) || !ok) {
		const char *msg;

		snprintf(e, sizeof(e), "nfv-switch: %s",
			 json_get_str(*parsed, "error", &msg) == 0 ? msg : "request failed");
		reply_error(r, 502, e);
		free(*raw);
		*raw = NULL;
		json_free(*parsed);
		*parsed = NULL;
		return -EREMOTEIO;
	}
	return 0;
}

static void api_switch(struct nfvd *d, const char *what, struct reply *r)
{
	const char *cmd = !strcmp(what, "ports")   ? "{\"cmd\":\"port-list\"}"
			  : !strcmp(what, "fdb")   ? "{\"cmd\":\"fdb-show\"}"
			  : !strcmp(what, "stats") ? "{\"cmd\":\"stats\"}"
						   : NULL;
	struct json *j = NULL;
	char *raw = NULL;

	if (!cmd)
		return reply_error(r, 404, "unknown switch resource (ports, fdb, stats)");
	if (switch_raw(d, cmd, &raw, &j, r) < 0)
		return;
	r->status = 200;
	sb_append(&r->body, raw);
	sb_append(&r->body, "\n");
	free(raw);
	json_free(j);
}

static const struct json *find_port(const struct json *arr, const char *key, const char *val)
{
	for (const struct json *p = arr ? arr->child : NULL; p; p = p->next) {
		const char *s;

		if (!json_get_str(p, key, &s) && !strcmp(s, val))
			return p;
	}
	return NULL;
}

static int64_t geti(const struct json *o, const char *key)
{
	int64_t v = 0;

	json_get_int(o, key, INT64_MIN, INT64_MAX, &v); /* absent or not an integer: 0 */
	return v;
}

static const struct ovs_target *net_ovs(const struct nfvd *d, const struct domain_net *n)
{
	if (n->type != DOMAIN_NET_BRIDGE && n->type != DOMAIN_NET_NETWORK)
		return NULL;
	return nfvd_ovs_target(d, n->source_name);
}

/* One interface on an OVS network: the Interface's statistics column (ovs-vsctl get). */
static void put_ovs_stats(struct strbuf *sb, size_t i, const char *port, const struct domain_net *n,
			  const struct ovs_target *ovs)
{
	struct ovs_port_stats st;
	char mac[18], e[512];
	bool ok = ovs_port_stats(ovs, port, &st, e, sizeof(e)) == 0;

	if (!ok) {
		log_rl(LOGL_WARN, "OVS statistics of %s: %s", port, e);
		memset(&st, 0, sizeof(st));
	}
	domain_mac_format(n->mac, mac);
	sb_append(sb, i ? ",{\"interface\":" : "{\"interface\":");
	sb_json_str(sb, port);
	sb_printf(sb, ",\"mac\":\"%s\",\"switch_port\":%s,\"backend\":\"ovs\",\"bridge\":", mac,
		  ok ? "true" : "false");
	sb_json_str(sb, ovs->bridge);
	/* guest's point of view, as for nfv-switch: OVS transmits what the guest receives */
	sb_printf(sb,
		  ",\"rx_bytes\":%llu,\"rx_packets\":%llu,\"rx_errs\":%llu,\"rx_drop\":%llu,"
		  "\"tx_bytes\":%llu,\"tx_packets\":%llu,\"tx_errs\":%llu,\"tx_drop\":%llu}",
		  (unsigned long long)st.tx_bytes, (unsigned long long)st.tx_packets,
		  (unsigned long long)st.tx_errors, (unsigned long long)st.tx_dropped,
		  (unsigned long long)st.rx_bytes, (unsigned long long)st.rx_packets,
		  (unsigned long long)st.rx_errors, (unsigned long long)st.rx_dropped);
}

static void api_stats(struct nfvd *d, struct nfvd_dom *dom, struct reply *r)
{
	const struct domain_def *def = dom->live ? dom->live : dom->def;
	struct json *plist = NULL, *stats = NULL, *vj = NULL;
	char *praw = NULL, *sraw = NULL, *vraw = NULL, ctl[4096];
	struct strbuf *sb = &r->body;
	struct reply scratch = {0};

	if (dom->state != NFVD_RUNNING)
		return reply_error(r, 409,
				   "Requested operation is not valid: domain is not running");
	sb_append(sb, "{\"name\":");
	sb_json_str(sb, dom->name);
	sb_append(sb, ",\"vmm\":");
	if (nfvd_dom_ctl_path(d, dom, ctl, sizeof(ctl)) == 0 &&
	    ctl_call(ctl, "{\"cmd\":\"info\"}", 3000, &vraw) == 0 &&
	    json_parse(vraw, strlen(vraw), &vj, NULL) == 0 && vj->type == JSON_OBJECT)
		sb_append(sb, vraw);
	else
		sb_append(sb, "null");
	for (size_t i = 0; i < def->n_nets; i++) {
		/* nfv-switch only when an interface is not on an OVS network */
		if (!net_ovs(d, &def->nets[i])) {
			(void)switch_raw(d, "{\"cmd\":\"port-list\"}", &praw, &plist, &scratch);
			(void)switch_raw(d, "{\"cmd\":\"stats\"}", &sraw, &stats, &scratch);
			break;
		}
	}
	sb_append(sb, ",\"interfaces\":[");
	for (size_t i = 0; i < def->n_nets; i++) {
		const struct domain_net *n = &def->nets[i];
		char pbuf[80], mac[18];
		const char *port = nfvd_port_name(dom, i, pbuf, sizeof(pbuf));
		const struct json *st = NULL;
		const struct ovs_target *ovs = net_ovs(d, n);

		if (ovs && port) {
			put_ovs_stats(sb, i, port, n, ovs);
			continue;
		}
		if (!port && n->type == DOMAIN_NET_VHOSTUSER && n->source_path) {
			const struct json *p =
				find_port(json_get(plist, "ports"), "path", n->source_path);
			const char *pn;

			if (p && !json_get_str(p, "name", &pn))
				port = pn;
		}
		if (port)
			st = find_port(json_get(stats, "ports"), "name", port);
		domain_mac_format(n->mac, mac);
		sb_append(sb, i ? ",{\"interface\":" : "{\"interface\":");
		sb_json_str(sb, port ? port : n->target_dev ? n->target_dev : mac);
		sb_printf(sb, ",\"mac\":\"%s\",\"switch_port\":%s", mac, st ? "true" : "false");
		/* counters from the guest's point of view: what the port transmits, the guest
		 * receives */
		sb_printf(sb,
			  ",\"rx_bytes\":%lld,\"rx_packets\":%lld,\"rx_errs\":0,\"rx_drop\":%lld,"
			  "\"tx_bytes\":%lld,\"tx_packets\":%lld,\"tx_errs\":0,\"tx_drop\":%lld}",
			  (long long)geti(st, "tx_bytes"), (long long)geti(st, "tx_packets"),
			  (long long)(geti(st, "drop_no_buffers") + geti(st, "drop_queue_full")),
			  (long long)geti(st, "rx_bytes"), (long long)geti(st, "rx_packets"),
			  (long long)(geti(st, "drop_vlan") + geti(st, "drop_malformed")));
	}
	sb_append(sb, "]}\n");
	r->status = 200;
	sb_reset(&scratch.body);
	free(praw);
	free(sraw);
	free(vraw);
	json_free(plist);
	json_free(stats);
	json_free(vj);
}

static void api_action(struct nfvd *d, struct nfvd_dom *dom, const char *action,
		       const struct http_req *req, struct reply *r)
{
	char *err = NULL;
	int rc;

	if (req->body_len)
		return reply_error(r, 400, "this action takes no body");
	if (req->query[0])
		return reply_error(r, 400, "this action takes no query parameters");
	if (!strcmp(action, "start"))
		rc = nfvd_start(d, dom, &err);
	else if (!strcmp(action, "shutdown"))
		rc = nfvd_shutdown(d, dom, &err);
	else if (!strcmp(action, "destroy"))
		rc = nfvd_destroy(d, dom, &err);
	else if (!strcmp(action, "reboot"))
		rc = nfvd_reboot(d, dom, &err);
	else
		return reply_errorf(r, 404, "unknown action '%s'", action);
	if (rc < 0)
		reply_error(r, errno_status(rc), err ? err : strerror(-rc));
	else
		reply_ok(r);
	free(err);
}

static void api_xml(struct nfvd_dom *dom, const struct http_req *req, struct reply *r)
{
	static const char *const allowed[] = {"inactive", NULL};
	char v[8];
	bool inactive = http_query_get(req, "inactive", v, sizeof(v)) && strcmp(v, "0");
	char *xml = NULL;

	if (!http_query_only(req, allowed))
		return reply_error(r, 400, "unknown query parameter (allowed: inactive)");
	if (domain_format(inactive || !dom->live ? dom->def : dom->live, &xml) < 0)
		return reply_error(r, 500, "cannot format the definition");
	r->status = 200;
	r->ctype = "application/xml";
	sb_append(&r->body, xml);
	free(xml);
}

static void route(struct nfvd *d, const struct http_req *req, struct reply *r)
{
	char seg[4][HTTP_PATH_MAX];
	int nseg = 0;
	const char *p = req->path + 1;
	struct nfvd_dom *dom = NULL;
	enum http_method m = req->method == HTTP_HEAD ? HTTP_GET : req->method;

	while (*p && nseg < 4) {
		size_t n = strcspn(p, "/");

		memcpy(seg[nseg], p, n);
		seg[nseg++][n] = '\0';
		p += n;
		if (*p == '/')
			p++;
		if (!*p && p[-1] == '/')
			return reply_error(r, 404, "no such resource");
	}
	if (*p || nseg == 0)
		return reply_error(r, 404, "no such resource");
	if (!strcmp(seg[0], "switch") && nseg == 2) {
		if (m != HTTP_GET)
			return reply_error(r, 405, "method not allowed");
		if (req->query[0])
			return reply_error(r, 400, "no query parameters here");
		return api_switch(d, seg[1], r);
	}
	if (strcmp(seg[0], "domains"))
		return reply_error(r, 404, "no such resource");
	if (nseg == 1) {
		if (m == HTTP_GET) {
			if (req->query[0])
				return reply_error(r, 400, "no query parameters here");
			return api_list(d, r);
		}
		if (m == HTTP_POST)
			return api_define(d, req, r);
		return reply_error(r, 405, "method not allowed");
	}
	dom = nfvd_find(d, seg[1]);
	if (!dom)
		return reply_errorf(r, 404, "failed to get domain '%s'", seg[1]);
	if (nseg == 2) {
		if (req->query[0])
			return reply_error(r, 400, "no query parameters here");
		if (m == HTTP_GET)
			return api_info(d, dom, r);
		if (m == HTTP_DELETE) {
			char *err = NULL;
			int rc = nfvd_undefine(d, dom, &err);

			if (rc < 0)
				reply_error(r, rc == -EBUSY ? 409 : 500, err ? err : strerror(-rc));
			else
				reply_ok(r);
			free(err);
			return;
		}
		return reply_error(r, 405, "method not allowed");
	}
	if (nseg != 3)
		return reply_error(r, 404, "no such resource");
	if (!strcmp(seg[2], "xml"))
		return m == HTTP_GET ? api_xml(dom, req, r)
				     : reply_error(r, 405, "method not allowed");
	if (!strcmp(seg[2], "stats"))
		return m == HTTP_GET ? api_stats(d, dom, r)
				     : reply_error(r, 405, "method not allowed");
	if (!strcmp(seg[2], "autostart"))
		return m == HTTP_PUT ? api_autostart(d, dom, req, r)
				     : reply_error(r, 405, "method not allowed");
	if (!strcmp(seg[2], "vcpupin"))
		return m == HTTP_POST ? api_vcpupin(d, dom, req, r)
				      : reply_error(r, 405, "method not allowed");
	if (!strcmp(seg[2], "start") || !strcmp(seg[2], "shutdown") || !strcmp(seg[2], "destroy") ||
	    !strcmp(seg[2], "reboot"))
		return m == HTTP_POST ? api_action(d, dom, seg[2], req, r)
				      : reply_error(r, 405, "method not allowed");
	reply_error(r, 404, "no such resource");
}

void nfvd_api_handle(struct nfvd *d, const struct http_req *req, struct strbuf *out)
{
	struct reply r = {.status = 500, .ctype = "application/json"};

	route(d, req, &r);
	if (sb_error(&r.body)) {
		sb_reset(&r.body);
		reply_error(&r, 500, "out of memory");
	}
	if (r.status >= 400)
		log_debug("API %s -> %d", req->path, r.status);
	http_response(out, r.status, r.ctype, sb_str(&r.body), r.body.len, req->close);
	/* HEAD: the same head, Content-Length included, without the body (RFC 9110 s9.3.2) */
	if (req->method == HTTP_HEAD && !sb_error(out) && out->len >= r.body.len) {
		out->len -= r.body.len;
		out->buf[out->len] = '\0';
	}
	sb_reset(&r.body);
}
