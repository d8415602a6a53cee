// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd domain lifecycle: resource checks, switch ports, spawning and supervising nfv-vmm, and
 * tearing everything down again in reverse order. A start that fails halfway leaves no port or
 * process behind.
 */
#include "nfvd.h"
#include "nfvd_vf.h"
#include "ctlsock.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SWITCH_TIMEOUT_MS 3000
#define SWITCH_CHECK_MS 500 /* the periodic port check must not stall the API for long */
#define VMM_TIMEOUT_MS 3000
#define START_SETTLE_MS 5000  /* start waits this long for the control socket or an early exit */
#define STOP_TIMEOUT_MS 10000 /* destroy: wait this long for the process to go away */
#define RESTART_WINDOW_MS 60000
#define RESTART_MAX 5 /* automatic restarts per window before giving up */

int nfvd_set_err(char **err, int r, const char *fmt, ...)
{
	va_list ap;

	free(*err);
	*err = NULL;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return r;
}

const char *nfvd_state_str(enum nfvd_state s)
{
	switch (s) {
	case NFVD_RUNNING:
		return "running";
	case NFVD_CRASHED:
		return "crashed";
	case NFVD_SHUTOFF:
	default:
		return "shut off";
	}
}

const char *nfvd_port_name(const struct nfvd_dom *dom, size_t idx, char *buf, size_t len)
{
	const struct domain_def *def = dom->live ? dom->live : dom->def;
	const struct domain_net *n = &def->nets[idx];

	if (n->type != DOMAIN_NET_BRIDGE && n->type != DOMAIN_NET_NETWORK)
		return NULL;
	if (n->target_dev)
		return n->target_dev;
	snprintf(buf, len, "%s-eth%zu", dom->name, idx);
	return buf;
}

int nfvd_dom_ctl_path(struct nfvd *d, const struct nfvd_dom *dom, char *buf, size_t len)
{
	return nfvd_path(buf, len, d->cfg.run_dir, NULL, dom->name, ".ctl");
}

static const struct domain_chr *first_chr(const struct domain_def *def)
{
	if (def->n_serials)
		return &def->serials[0];
	if (def->n_consoles)
		return &def->consoles[0];
	return NULL;
}

void nfvd_dom_console_path(struct nfvd *d, const struct nfvd_dom *dom, char *buf, size_t len)
{
	const struct domain_chr *c = first_chr(dom->def);

	buf[0] = '\0';
	if (!c)
		return;
	if (c->type == DOMAIN_CHR_UNIX)
		snprintf(buf, len, "%s", c->path);
	else if (c->type == DOMAIN_CHR_PTY &&
		 nfvd_path(buf, len, d->cfg.run_dir, NULL, dom->name, ".console") < 0)
		buf[0] = '\0';
}

/* ---- resource checks ---- */

static int read_u64_file(const char *path, uint64_t *out)
{
	char *s = nfvd_read_file(path, 4096, NULL);
	int r;

	if (!s)
		return -errno;
	s[strcspn(s, "\n")] = '\0';
	r = parse_u64(s, out);
	free(s);
	return r;
}

static int check_hugepages(const struct domain_def *def, char **err)
{
	uint64_t size_kib = def->n_hugepage_sizes ? def->hugepage_sizes[0].size_kib : 0;
	uint64_t free_pages, need;
	char path[256];

	if (!def->hugepages)
		return 0;
	if (!size_kib) {
		char *mi = nfvd_read_file("/proc/meminfo", 1 << 16, NULL), *p;
		unsigned long long v;

		p = mi ? strstr(mi, "Hugepagesize:") : NULL;
		if (p && sscanf(p, "Hugepagesize: %llu kB", &v) == 1)
			size_kib = v;
		free(mi);
		if (!size_kib)
			return nfvd_set_err(err, -ENOENT,
					    "hugepages requested but the host has none");
	}
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages",
		 (unsigned long long)size_kib);
	if (read_u64_file(path, &free_pages) < 0)
		return nfvd_set_err(err, -ENOENT,
				    "hugepages of %llu KiB are not available on this host",
				    (unsigned long long)size_kib);
	need = (def->memory_kib + size_kib - 1) / size_kib;
	if (free_pages < need)
		return nfvd_set_err(
			err, -ENOMEM,
			"not enough free hugepages of %llu KiB: the domain needs %llu, %llu "
			"are free",
			(unsigned long long)size_kib, (unsigned long long)need,
			(unsigned long long)free_pages);
	return 0;
}

static int online_cpus(uint64_t mask[16])
{
	char *s = nfvd_read_file("/sys/devices/system/cpu/online", 4096, NULL);
	int r;

	if (!s)
		return -errno;
	s[strcspn(s, "\n")] = '\0';
	r = parse_cpulist(s, mask);
	free(s);
	return r;
}

static int check_cpuset(const struct domain_cpuset *set, const uint64_t online[16],
			const char *what, char **err)
{
	if (!set->str)
		return 0;
	for (unsigned c = 0; c < DOMAIN_MAX_CPUS; c++)
		if (domain_cpuset_has(set, c) && !(online[c / 64] & (1ull << (c % 64))))
			return nfvd_set_err(err, -EINVAL, "host CPU %u in %s '%s' is not online", c,
					    what, set->str);
	return 0;
}

static int check_cpus(struct nfvd *d, const struct nfvd_dom *dom, char **err)
{
	const struct domain_def *def = dom->def;
	uint64_t online[16];
	char what[64];
	int r;

	if (online_cpus(online) < 0)
		return 0; /* no sysfs: nothing to check against */
	if ((r = check_cpuset(&def->vcpu_cpuset, online, "vcpu cpuset", err)) ||
	    (r = check_cpuset(&def->emulatorpin, online, "emulatorpin", err)))
		return r;
	for (unsigned v = 0; v < def->vcpus; v++) {
		snprintf(what, sizeof(what), "vcpupin of vcpu %u", v);
		if ((r = check_cpuset(&def->vcpupin[v], online, what, err)))
			return r;
	}
	/* A vCPU pinned to a host CPU owns it: refuse a second running domain pinning there. */
	for (size_t i = 0; i < d->n_doms; i++) {
		const struct nfvd_dom *o = d->doms[i];
		const struct domain_def *od;

		if (o == dom || o->state != NFVD_RUNNING)
			continue;
		od = o->live ? o->live : o->def;
		for (unsigned v = 0; v < def->vcpus; v++) {
			if (!def->vcpupin[v].str)
				continue;
			for (unsigned ov = 0; ov < od->vcpus; ov++) {
				if (!od->vcpupin[ov].str)
					continue;
				for (unsigned w = 0; w < DOMAIN_CPUMASK_WORDS; w++) {
					uint64_t both =
						def->vcpupin[v].mask[w] & od->vcpupin[ov].mask[w];

					if (both)
						return nfvd_set_err(
							err, -EBUSY,
							"host CPU %u (vcpupin of vcpu %u) is "
							"already "
							"pinned to vcpu %u of running domain '%s'",
							w * 64 + (unsigned)__builtin_ctzll(both), v,
							ov, o->name);
				}
			}
		}
	}
	return 0;
}

/* ---- switch ports ---- */

/* The OVS bridge serving interface @n, or NULL when nfv-switch does (or it is no switch port). */
static const struct ovs_target *net_ovs(const struct nfvd *d, const struct domain_net *n)
{
	if (n->type != DOMAIN_NET_BRIDGE && n->type != DOMAIN_NET_NETWORK)
		return NULL;
	return nfvd_ovs_target(d, n->source_name);
}

static bool needs_switch(const struct nfvd *d, const struct domain_def *def)
{
	for (size_t i = 0; i < def->n_nets; i++)
		if ((def->nets[i].type == DOMAIN_NET_BRIDGE ||
		     def->nets[i].type == DOMAIN_NET_NETWORK) &&
		    !net_ovs(d, &def->nets[i]))
			return true;
	return false;
}

/* Each OVS bridge the domain uses must exist before anything is created. */
static int check_ovs(const struct nfvd *d, const struct domain_def *def, char **err)
{
	for (size_t i = 0; i < def->n_nets; i++) {
		const struct ovs_target *t = net_ovs(d, &def->nets[i]);
		char e[512];
		int r;

		if (t && (r = ovs_bridge_check(t, e, sizeof(e))) < 0)
			return nfvd_set_err(err, r,
					    "network '%s' (OVS bridge '%s') is not usable: %s",
					    def->nets[i].source_name, t->bridge, e);
	}
	return 0;
}

static void ovs_del(struct nfvd *d, const char *net, const char *port)
{
	const struct ovs_target *t = nfvd_ovs_target(d, net);
	char e[512];

	if (!t) {
		log_warn("port %s: network '%s' is no longer an OVS network; leaving the port",
			 port, net);
		return;
	}
	if (ovs_port_del(t, port, e, sizeof(e)) < 0)
		log_warn("OVS del-port %s: %s", port, e);
}

static void switch_port_del(struct nfvd *d, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	struct json *j = NULL;
	char e[256];

	sb_append(&sb, "{\"cmd\":\"port-del\",\"name\":");
	sb_json_str(&sb, name);
	sb_append(&sb, "}");
	if (!sb_error(&sb) && ctl_call_json(d->cfg.switch_socket, sb_str(&sb), SWITCH_TIMEOUT_MS,
					    &j, e, sizeof(e)) < 0)
		log_warn("port-del %s: %s", name, e);
	json_free(j);
	sb_reset(&sb);
}

/*
 * The switch creates the vhost-user socket (it listens; the VMM connects, and reconnects after a
 * switch restart). A VMM that dropped to --vmm-user needs write permission on the socket for
 * that reconnect, so the socket is given to its user: owner uid, group gid, mode 0660.
 */
static void give_socket_to_vmm(struct nfvd *d, const char *path)
{
	if (!d->cfg.vmm_drop)
		return;
	if (chown(path, d->cfg.vmm_uid, d->cfg.vmm_gid) < 0 || chmod(path, 0660) < 0)
		log_rl(LOGL_WARN, "%s: cannot hand the socket to uid %u: %s (the VMM cannot "
		       "reconnect to it)", path, (unsigned)d->cfg.vmm_uid, strerror(errno));
}

/* Create nfv-switch port @port for interface @n of a domain (socket in the run directory). */
static int switch_port_create(struct nfvd *d, const struct domain_net *n, const char *port,
			      char *e, size_t elen)
{
	struct strbuf sb = STRBUF_INIT;
	struct json *j = NULL;
	char path[PATH_MAX];
	int r;

	r = nfvd_path(path, sizeof(path), d->cfg.run_dir, NULL, port, ".sock");
	if (r < 0) {
		snprintf(e, elen, "socket path for port %s is too long", port);
		return r;
	}
	unlink(path); /* a stale socket from an earlier run would make the switch's bind fail */
	sb_append(&sb, "{\"cmd\":\"port-add\",\"name\":");
	sb_json_str(&sb, port);
	sb_append(&sb, ",\"type\":\"vhost-user\",\"path\":");
	sb_json_str(&sb, path);
	sb_printf(&sb, ",\"mode\":\"server\",\"queues\":%u", n->queues ? n->queues : 1);
	if (n->vlan.n_tags && (n->vlan.trunk || n->vlan.n_tags > 1)) {
		unsigned native = 0;
		bool first = true;

		for (size_t t = 0; t < n->vlan.n_tags; t++)
			if (n->vlan.tags[t].native_mode == DOMAIN_VLAN_NATIVE_UNTAGGED)
				native = n->vlan.tags[t].id;
		sb_printf(&sb, ",\"vlan_mode\":\"trunk\",\"vlan\":%u,\"trunks\":[", native);
		for (size_t t = 0; t < n->vlan.n_tags; t++) {
			if (n->vlan.tags[t].id == native)
				continue;
			sb_printf(&sb, "%s%u", first ? "" : ",", n->vlan.tags[t].id);
			first = false;
		}
		sb_append(&sb, "]}");
	} else {
		sb_printf(&sb, ",\"vlan_mode\":\"access\",\"vlan\":%u}",
			  n->vlan.n_tags ? n->vlan.tags[0].id : 0);
	}
	if (sb_error(&sb)) {
		sb_reset(&sb);
		snprintf(e, elen, "out of memory");
		return -ENOMEM;
	}
	r = ctl_call_json(d->cfg.switch_socket, sb_str(&sb), SWITCH_TIMEOUT_MS, &j, e, elen);
	sb_reset(&sb);
	json_free(j);
	if (r == 0)
		give_socket_to_vmm(d, path);
	return r;
}

static int switch_port_add(struct nfvd *d, struct nfvd_dom *dom, size_t idx, const char *port,
			   char **err)
{
	const struct domain_net *n = &dom->def->nets[idx];
	const struct ovs_target *ovs = net_ovs(d, n);
	char path[PATH_MAX], e[512];
	int r;

	if (ovs) {
		r = nfvd_path(path, sizeof(path), d->cfg.run_dir, NULL, port, ".sock");
		if (r < 0)
			return nfvd_set_err(err, r, "socket path for port %s is too long", port);
		unlink(path);
		/* OVS connects to nfv-vmm's socket: the port retries until nfv-vmm listens */
		r = ovs_port_add(ovs, port, path, &n->vlan, e, sizeof(e));
		if (r < 0)
			return nfvd_set_err(err, r,
					    "cannot create OVS port '%s' on bridge '%s': %s", port,
					    ovs->bridge, e);
		if (nfvd_port_record(dom, port, n->source_name) < 0) {
			ovs_del(d, n->source_name, port);
			return nfvd_set_err(err, -ENOMEM, "out of memory");
		}
		return 0;
	}
	r = switch_port_create(d, n, port, e, sizeof(e));
	if (r < 0)
		return nfvd_set_err(err, r, "cannot create switch port '%s': %s", port, e);
	if (nfvd_port_record(dom, port, NULL) < 0) {
		switch_port_del(d, port);
		return nfvd_set_err(err, -ENOMEM, "out of memory");
	}
	return 0;
}

/* Does the switch's port-list answer @j name @port? */
static bool switch_has_port(const struct json *j, const char *port)
{
	const struct json *ports = json_get(j, "ports");
	const char *name;

	if (!ports || ports->type != JSON_ARRAY)
		return true; /* not an answer we understand: re-create nothing */
	for (const struct json *p = ports->child; p; p = p->next)
		if (!json_get_str(p, "name", &name) && !strcmp(name, port))
			return true;
	return false;
}

void nfvd_switch_check(struct nfvd *d)
{
	struct json *j = NULL;
	bool any = false;
	char e[512], pbuf[80];
	int r;

	for (size_t i = 0; i < d->n_doms && !any; i++) {
		const struct nfvd_dom *dom = d->doms[i];

		for (size_t k = 0; dom->state == NFVD_RUNNING && k < dom->n_ports; k++)
			any |= dom->port_nets[k] == NULL;
	}
	if (!any)
		return;
	r = ctl_call_json(d->cfg.switch_socket, "{\"cmd\":\"port-list\"}", SWITCH_CHECK_MS, &j,
			  e, sizeof(e));
	if (r < 0) {
		if (!d->switch_down)
			log_warn("nfv-switch at %s is not answering (%s): its ports come back when "
				 "it does", d->cfg.switch_socket, e);
		d->switch_down = true;
		return;
	}
	if (d->switch_down)
		log_info("nfv-switch at %s answers again", d->cfg.switch_socket);
	d->switch_down = false;
	for (size_t i = 0; i < d->n_doms; i++) {
		struct nfvd_dom *dom = d->doms[i];
		const struct domain_def *def = dom->live ? dom->live : dom->def;

		if (dom->state != NFVD_RUNNING)
			continue;
		for (size_t idx = 0; idx < def->n_nets; idx++) {
			const char *port = nfvd_port_name(dom, idx, pbuf, sizeof(pbuf));
			bool ours = false;
			char why[512];

			if (!port || net_ovs(d, &def->nets[idx]))
				continue;
			for (size_t k = 0; k < dom->n_ports; k++)
				ours |= !dom->port_nets[k] && !strcmp(dom->ports[k], port);
			if (!ours || switch_has_port(j, port))
				continue;
			r = switch_port_create(d, &def->nets[idx], port, why, sizeof(why));
			if (r < 0) {
				log_rl(LOGL_WARN, "domain '%s': cannot re-create switch port '%s': %s",
				       dom->name, port, why);
				continue;
			}
			log_info("domain '%s': re-created switch port '%s' (the switch had lost it)",
				 dom->name, port);
			nfvd_dom_log(d, dom, "re-created switch port '%s' (the switch had lost it)",
				     port);
		}
	}
	json_free(j);
}

/* ---- live XML for nfv-vmm ---- */

/*
 * nfv-vmm gets the definition with nfvd's decisions applied: bridge/network interfaces become
 * vhost-user clients of the nfv-switch port nfvd created (the switch listens, the VMM reconnects
 * if the switch restarts) or vhost-user servers for OVS (a dpdkvhostuserclient port connects to
 * nfv-vmm's socket and reconnects itself), and a pty serial becomes a UNIX socket nfvctl console
 * can attach to.
 */
static int write_live_xml(struct nfvd *d, struct nfvd_dom *dom, const char *path, char **err)
{
	struct domain_def *v = NULL;
	char *xml = NULL, pbuf[80], sock[PATH_MAX], cons[PATH_MAX];
	int r;

	r = nfvd_def_copy(dom->def, &v);
	if (r < 0)
		return nfvd_set_err(err, r, "internal error copying the definition");
	for (size_t i = 0; i < v->n_nets; i++) {
		struct domain_net *n = &v->nets[i];
		const char *port = nfvd_port_name(dom, i, pbuf, sizeof(pbuf));

		bool ovs;

		if (!port)
			continue;
		if (nfvd_path(sock, sizeof(sock), d->cfg.run_dir, NULL, port, ".sock") < 0)
			continue;
		ovs = net_ovs(d, n) != NULL;
		n->type = DOMAIN_NET_VHOSTUSER;
		free(n->source_name);
		n->source_name = NULL;
		free(n->source_path);
		n->source_path = strdup(sock);
		if (ovs) {
			/* libvirt: <reconnect> is for client mode only; a server listens on */
			n->source_mode = DOMAIN_VHOST_SERVER;
			n->reconnect = DOMAIN_TRISTATE_ABSENT;
			n->reconnect_timeout_s = 0;
		} else {
			n->source_mode = DOMAIN_VHOST_CLIENT;
			n->reconnect = DOMAIN_TRISTATE_YES;
			n->reconnect_timeout_s = 1;
		}
		memset(&n->vlan, 0, sizeof(n->vlan)); /* the switch port carries the VLAN */
		if (!n->source_path) {
			domain_def_free(v);
			return nfvd_set_err(err, -ENOMEM, "out of memory");
		}
	}
	if (nfvd_path(cons, sizeof(cons), d->cfg.run_dir, NULL, dom->name, ".console") == 0) {
		for (size_t i = 0; i < v->n_serials + v->n_consoles; i++) {
			struct domain_chr *c =
				i < v->n_serials ? &v->serials[i] : &v->consoles[i - v->n_serials];
			int port = c->target_port < 0 ? 0 : c->target_port;

			if (c->type != DOMAIN_CHR_PTY || port != 0)
				continue;
			free(c->path);
			c->path = strdup(cons);
			c->type = DOMAIN_CHR_UNIX;
			c->unix_mode = DOMAIN_CHR_UNIX_BIND;
		}
	}
	r = domain_def_validate(v, NULL);
	if (!r)
		r = domain_format(v, &xml);
	domain_def_free(v);
	if (r < 0)
		return nfvd_set_err(err, r, "internal error formatting the live XML");
	r = nfvd_write_atomic(path, xml, strlen(xml), 0600);
	free(xml);
	if (r < 0)
		return nfvd_set_err(err, r, "cannot write %s: %s", path, strerror(-r));
	return 0;
}

/* ---- process supervision ---- */

static void on_exit_event(struct evloop *loop, int fd, uint32_t events, void *opaque);

int nfvd_watch(struct nfvd *d, struct nfvd_dom *dom)
{
	int fd = pidfd_open(dom->pid, 0);
	int r;

	if (fd < 0)
		return -errno;
	r = evloop_add(d->loop, fd, EPOLLIN, on_exit_event, dom);
	if (r < 0) {
		close(fd);
		return r;
	}
	dom->pidfd = fd;
	return 0;
}

static void unwatch(struct nfvd *d, struct nfvd_dom *dom)
{
	if (dom->pidfd < 0)
		return;
	evloop_del(d->loop, dom->pidfd);
	close(dom->pidfd);
	dom->pidfd = -1;
}

void nfvd_teardown(struct nfvd *d, struct nfvd_dom *dom)
{
	char path[PATH_MAX];

	/* reverse order of start: process (already gone), files, VFs, ports, runtime record */
	unwatch(d, dom);
	if (nfvd_dom_ctl_path(d, dom, path, sizeof(path)) == 0)
		unlink(path);
	if (nfvd_path(path, sizeof(path), d->cfg.run_dir, NULL, dom->name, ".console") == 0)
		unlink(path);
	if (nfvd_path(path, sizeof(path), d->cfg.run_dir, NULL, dom->name, ".xml") == 0)
		unlink(path);
	nfvd_vf_release(d, dom);
	for (size_t i = dom->n_ports; i-- > 0;) {
		if (dom->port_nets[i])
			ovs_del(d, dom->port_nets[i], dom->ports[i]);
		else
			switch_port_del(d, dom->ports[i]);
		if (nfvd_path(path, sizeof(path), d->cfg.run_dir, NULL, dom->ports[i], ".sock") ==
		    0)
			unlink(path);
	}
	nfvd_ports_forget(dom);
	nfvd_runtime_remove(d, dom);
	domain_def_free(dom->live);
	dom->live = NULL;
	dom->pid = 0;
	dom->id = 0;
	dom->starttime = 0;
	dom->state = NFVD_SHUTOFF;
}

/* Exit status of our child, or -1 when it is not our child (adopted) / unknown. */
static int reap(struct nfvd_dom *dom)
{
	siginfo_t si = {0};

	if (!dom->child)
		return -1;
	if (waitid(P_PID, (id_t)dom->pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return -1;
	if (si.si_code == CLD_EXITED)
		return si.si_status;
	return 128 + si.si_status;
}

static const char *exit_reason(int status)
{
	switch (status) {
	case 0:
		return "shutdown";
	case 1:
		return "failed";
	case 2:
		return "failed";
	case 3:
		return "crashed";
	case 4:
		return "crashed";
	case 5:
		return "rebooted"; /* the guest reset itself (i8042 pulse, reset port, ...) */
	case -1:
		return "unknown";
	default:
		return "crashed";
	}
}

static void handle_exit(struct nfvd *d, struct nfvd_dom *dom, int status)
{
	enum domain_lifecycle_action act = DOMAIN_LIFECYCLE_DESTROY;
	const char *why = dom->stopping ? "destroyed" : exit_reason(status);
	bool crashed = !dom->stopping && !strcmp(why, "crashed");
	uint64_t now = clock_ms();
	char *err = NULL;

	dom->last_exit = status;
	log_info("domain '%s': nfv-vmm pid %d exited (status %d): %s", dom->name, dom->pid, status,
		 why);
	nfvd_dom_log(d, dom, "nfv-vmm pid %d exited with status %d: %s", dom->pid, status, why);
	nfvd_teardown(d, dom);
	snprintf(dom->reason, sizeof(dom->reason), "%s", why);
	dom->state = crashed ? NFVD_CRASHED : NFVD_SHUTOFF;
	if (dom->stopping) {
		dom->stopping = false;
		return;
	}
	/* nfv-vmm ends on a guest reset (status 5): a reboot is a fresh nfv-vmm, as for
	 * nfvd_reboot(), when <on_reboot> says restart (libvirt's default) */
	if (crashed)
		act = dom->def->on_crash;
	else if (status == 0)
		act = dom->def->on_poweroff;
	else if (status == 5)
		act = dom->def->on_reboot;
	if (act != DOMAIN_LIFECYCLE_RESTART)
		return;
	if (now - dom->restart_window_ms > RESTART_WINDOW_MS) {
		dom->restart_window_ms = now;
		dom->restarts = 0;
	}
	if (++dom->restarts > RESTART_MAX) {
		nfvd_dom_log(d, dom, "not restarting: %d restarts within %d s", RESTART_MAX,
			     RESTART_WINDOW_MS / 1000);
		log_warn("domain '%s': restart loop, giving up", dom->name);
		return;
	}
	nfvd_dom_log(d, dom, "restarting (%s action)",
		     crashed ? "on_crash" : status == 5 ? "on_reboot" : "on_poweroff");
	if (nfvd_start(d, dom, &err) < 0) {
		nfvd_dom_log(d, dom, "restart failed: %s", err ? err : "");
		log_err("domain '%s': restart failed: %s", dom->name, err ? err : "");
	}
	free(err);
}

/*
 * An adopted nfv-vmm is not our child, so its exit status is not ours to collect; it logs
 * "exit status N" as its last words, which tells a guest power-off from a crash. No such line
 * (killed by a signal) counts as a crash.
 */
static int adopted_exit_status(struct nfvd *d, const struct nfvd_dom *dom)
{
	char path[PATH_MAX], needle[64], *buf = NULL, *p, *last = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;
	off_t start;
	ssize_t n;
	int status;

	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "logs", dom->name, ".log") ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0)
		return 128 + SIGKILL;
	start = st.st_size > 65536 ? st.st_size - 65536 : 0;
	buf = malloc(65537);
	if (!buf)
		return 128 + SIGKILL;
	n = pread(fd, buf, 65536, start);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(needle, sizeof(needle), "nfv-vmm[%d] info: exit status ", (int)dom->pid);
	for (p = buf; (p = strstr(p, needle)); p++)
		last = p;
	status = last && sscanf(last + strlen(needle), "%d", &status) == 1 ? status : 128 + SIGKILL;
	free(buf);
	return status;
}

static void on_exit_event(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct nfvd_dom *dom = opaque;
	int status;

	(void)loop;
	(void)fd;
	(void)events;
	status = reap(dom);
	if (status < 0 && !dom->child)
		status = adopted_exit_status(dom->nfvd, dom);
	handle_exit(dom->nfvd, dom, status);
}

/* Wait up to @ms for the process to exit; true when it did. */
static bool wait_exit(struct nfvd_dom *dom, int ms)
{
	struct pollfd pfd = {.fd = dom->pidfd, .events = POLLIN};

	if (dom->pidfd < 0)
		return true;
	while (poll(&pfd, 1, ms) < 0)
		if (errno != EINTR)
			return false;
	return pfd.revents != 0;
}

static void spawn_child(struct nfvd *d, struct nfvd_dom *dom, char *const argv[], int logfd)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)d;
	(void)dom;
	/* Own session: signals for nfvd's terminal or process group never reach the guest. */
	setsid();
	if (devnull >= 0)
		dup2(devnull, 0);
	if (logfd >= 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	{
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
	}
	execv(argv[0], argv);
	dprintf(2, "nfvd: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void tail_log(struct nfvd *d, struct nfvd_dom *dom, char *out, size_t len)
{
	char path[PATH_MAX], *buf, *p;
	size_t n;

	out[0] = '\0';
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "logs", dom->name, ".log"))
		return;
	buf = nfvd_read_file(path, 16 << 20, &n);
	if (!buf)
		return;
	/* the last few non-nfvd lines explain an early exit best */
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	p = buf + n;
	for (int lines = 0; p > buf && lines < 3; p--)
		if (p[-1] == '\n' && ++lines == 3)
			break;
	snprintf(out, len, "%s", p);
	free(buf);
}

int nfvd_start(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	const struct domain_def *def = dom->def;
	char live[PATH_MAX], ctl[PATH_MAX], logp[PATH_MAX], serial[PATH_MAX + 16], pbuf[80];
	const struct domain_chr *chr = first_chr(def);
	char *argv[16], user[32];
	int argc = 0, logfd, r;
	int early_status = -1; /* exit status of a VMM that ended normally during start */
	uint64_t deadline;
	pid_t pid;

	*err = NULL;
	if (dom->state == NFVD_RUNNING)
		return nfvd_set_err(err, -EBUSY,
				    "Requested operation is not valid: domain is already "
				    "running");
	if (access(d->cfg.vmm_path, X_OK) < 0)
		return nfvd_set_err(err, -ENOENT, "nfv-vmm not found at %s", d->cfg.vmm_path);
	if ((r = check_hugepages(def, err)) || (r = check_cpus(d, dom, err)) ||
	    (r = nfvd_vf_check(d, dom, err)) || (r = check_ovs(d, def, err)))
		return r;
	if (needs_switch(d, def)) {
		struct json *j = NULL;
		char e[512];

		r = ctl_call_json(d->cfg.switch_socket, "{\"cmd\":\"port-list\"}",
				  SWITCH_TIMEOUT_MS, &j, e, sizeof(e));
		json_free(j);
		if (r < 0)
			return nfvd_set_err(err, r, "nfv-switch is not reachable: %s", e);
	}
	if ((r = nfvd_path(live, sizeof(live), d->cfg.run_dir, NULL, dom->name, ".xml")) ||
	    (r = nfvd_dom_ctl_path(d, dom, ctl, sizeof(ctl))) ||
	    (r = nfvd_path(logp, sizeof(logp), d->cfg.state_dir, "logs", dom->name, ".log")))
		return nfvd_set_err(err, r, "run or state directory path too long");

	/* 1. switch ports */
	for (size_t i = 0; i < def->n_nets; i++) {
		const char *port = nfvd_port_name(dom, i, pbuf, sizeof(pbuf));

		if (port && (r = switch_port_add(d, dom, i, port, err)))
			goto fail;
	}
	/* 2. VFs: MAC/VLAN, vfio-pci (managed='yes') */
	if ((r = nfvd_vf_prepare(d, dom, err)))
		goto fail;
	/* 3. live XML */
	if ((r = write_live_xml(d, dom, live, err)))
		goto fail;
	/* 4. nfv-vmm */
	unlink(ctl);
	argv[argc++] = (char *)d->cfg.vmm_path;
	argv[argc++] = "--domain";
	argv[argc++] = live;
	argv[argc++] = "--control";
	argv[argc++] = ctl;
	argv[argc++] = "--serial";
	if (!chr || chr->type == DOMAIN_CHR_NULL) {
		snprintf(serial, sizeof(serial), "none");
	} else if (chr->type == DOMAIN_CHR_FILE) {
		snprintf(serial, sizeof(serial), "file:%s", chr->path);
	} else {
		char cons[PATH_MAX];

		nfvd_dom_console_path(d, dom, cons, sizeof(cons));
		snprintf(serial, sizeof(serial), "unix:%s", cons);
	}
	argv[argc++] = serial;
	argv[argc++] = "--log-file";
	argv[argc++] = logp;
	if (d->cfg.vmm_drop) {
		snprintf(user, sizeof(user), "%u:%u", (unsigned)d->cfg.vmm_uid,
			 (unsigned)d->cfg.vmm_gid);
		argv[argc++] = "--user";
		argv[argc++] = user;
	}
	argv[argc] = NULL;
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	nfvd_dom_log(d, dom, "starting: %s --domain %s --control %s --serial %s%s%s",
		     d->cfg.vmm_path, live, ctl, serial, d->cfg.vmm_drop ? " --user " : "",
		     d->cfg.vmm_drop ? user : "");
	pid = fork();
	if (pid < 0) {
		r = -errno;
		if (logfd >= 0)
			close(logfd);
		nfvd_set_err(err, r, "fork: %s", strerror(-r));
		goto fail;
	}
	if (pid == 0)
		spawn_child(d, dom, argv, logfd);
	if (logfd >= 0)
		close(logfd);
	dom->pid = pid;
	dom->child = true;
	dom->stopping = false;
	if (nfvd_proc_starttime(pid, &dom->starttime) < 0)
		dom->starttime = 0;
	r = nfvd_watch(d, dom);
	if (r < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		dom->pid = 0;
		nfvd_set_err(err, r, "cannot watch nfv-vmm: %s", strerror(-r));
		goto fail;
	}
	/* 5. an early exit (bad configuration) fails the start with the VMM's own words */
	deadline = clock_ms() + START_SETTLE_MS;
	while (clock_ms() < deadline) {
		struct stat st;

		if (wait_exit(dom, 50)) {
			int status = reap(dom);
			char tail[1024];

			if (status == 0 || status == 5) {
				/* a short guest that already powered off or reset: it started, then
				 * stopped; its lifecycle action applies */
				early_status = status;
				break;
			}
			tail_log(d, dom, tail, sizeof(tail));
			dom->pid = 0;
			unwatch(d, dom);
			nfvd_set_err(err, -ECHILD, "nfv-vmm exited during start (status %d)%s%s",
				     status, tail[0] ? ":\n" : "", tail);
			r = -ECHILD;
			goto fail;
		}
		if (stat(ctl, &st) == 0)
			break;
	}
	dom->id = d->next_id++;
	dom->started_ms = clock_ms();
	dom->started_wall = time(NULL);
	dom->state = NFVD_RUNNING;
	snprintf(dom->reason, sizeof(dom->reason), "%s", "booted");
	if (nfvd_def_copy(def, &dom->live) < 0)
		dom->live = NULL;
	if ((r = nfvd_runtime_save(d, dom)) < 0)
		log_warn("domain '%s': cannot save runtime state: %s", dom->name, strerror(-r));
	nfvd_dom_log(d, dom, "started: nfv-vmm pid %d, id %d", dom->pid, dom->id);
	if (early_status >= 0)
		handle_exit(d, dom, early_status);
	return 0;
fail:
	nfvd_dom_log(d, dom, "start failed: %s", *err ? *err : strerror(-r));
	nfvd_teardown(d, dom);
	return r;
}

int nfvd_destroy(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	*err = NULL;
	if (dom->state != NFVD_RUNNING)
		return nfvd_set_err(err, -EINVAL,
				    "Requested operation is not valid: domain is not "
				    "running");
	dom->stopping = true;
	if (pidfd_send_signal(dom->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		kill(dom->pid, SIGKILL);
	if (!wait_exit(dom, STOP_TIMEOUT_MS))
		return nfvd_set_err(err, -ETIMEDOUT, "nfv-vmm pid %d did not exit", dom->pid);
	handle_exit(d, dom, reap(dom));
	return 0;
}

static int vmm_call(struct nfvd *d, struct nfvd_dom *dom, const char *req, struct json **out,
		    char **err)
{
	char ctl[PATH_MAX], e[512];
	struct json *j = NULL;
	int r;

	if ((r = nfvd_dom_ctl_path(d, dom, ctl, sizeof(ctl))))
		return nfvd_set_err(err, r, "control path too long");
	r = ctl_call_json(ctl, req, VMM_TIMEOUT_MS, &j, e, sizeof(e));
	if (r < 0)
		return nfvd_set_err(err, r, "nfv-vmm control: %s", e);
	if (out)
		*out = j;
	else
		json_free(j);
	return 0;
}

int nfvd_shutdown(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	*err = NULL;
	if (dom->state != NFVD_RUNNING)
		return nfvd_set_err(err, -EINVAL,
				    "Requested operation is not valid: domain is not "
				    "running");
	nfvd_dom_log(d, dom, "shutdown requested");
	return vmm_call(d, dom, "{\"cmd\":\"shutdown\"}", NULL, err);
}

int nfvd_reboot(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	int r;

	/* nfv-vmm has no guest reset yet: a reboot is a fresh nfv-vmm for the same definition */
	nfvd_dom_log(d, dom, "reboot requested");
	r = nfvd_destroy(d, dom, err);
	if (r < 0)
		return r;
	return nfvd_start(d, dom, err);
}

int nfvd_vcpupin(struct nfvd *d, struct nfvd_dom *dom, unsigned vcpu, const char *cpuset,
		 char **err)
{
	struct domain_def *live = dom->live;
	struct domain_cpuset old;
	struct strbuf sb = STRBUF_INIT;
	char *canon = NULL;
	int r;

	*err = NULL;
	if (dom->state != NFVD_RUNNING || !live)
		return nfvd_set_err(err, -EINVAL,
				    "Requested operation is not valid: domain is not "
				    "running");
	if (vcpu >= live->vcpus)
		return nfvd_set_err(err, -EINVAL, "vcpu %u is out of range of the vcpu count %u",
				    vcpu, live->vcpus);
	old = live->vcpupin[vcpu];
	memset(&live->vcpupin[vcpu], 0, sizeof(live->vcpupin[vcpu]));
	{
		/* reuse the XML cpuset syntax and checks through a one-pin document */
		struct domain_def *tmp = NULL;
		char *xml = NULL, *perr = NULL;

		if (asprintf(&xml,
			     "<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>%u</vcpu>"
			     "<cputune><vcpupin vcpu='%u' "
			     "cpuset='%s'/></cputune><os><type>hvm</type>"
			     "</os></domain>",
			     live->vcpus, vcpu, cpuset) < 0 ||
		    strpbrk(cpuset, "<>&'\"")) {
			free(xml);
			live->vcpupin[vcpu] = old;
			return nfvd_set_err(err, -EINVAL, "invalid cpuset '%s'", cpuset);
		}
		r = domain_parse_string(xml, strlen(xml), "cpuset", 0, &tmp, &perr);
		free(xml);
		if (r < 0) {
			live->vcpupin[vcpu] = old;
			nfvd_set_err(err, -EINVAL, "invalid cpuset '%s'%s%s", cpuset,
				     perr ? ": " : "",
				     perr ? strchr(perr, '>') ? strchr(perr, '>') + 2 : perr : "");
			free(perr);
			return -EINVAL;
		}
		live->vcpupin[vcpu] = tmp->vcpupin[vcpu];
		memset(&tmp->vcpupin[vcpu], 0, sizeof(tmp->vcpupin[vcpu]));
		domain_def_free(tmp);
	}
	/* the same checks as at start, against the other running domains */
	{
		struct domain_def *saved = dom->def;

		dom->def = live;
		r = check_cpus(d, dom, err);
		dom->def = saved;
	}
	if (r < 0) {
		free(live->vcpupin[vcpu].str);
		live->vcpupin[vcpu] = old;
		return r;
	}
	canon = live->vcpupin[vcpu].str;
	sb_printf(&sb, "{\"cmd\":\"vcpupin\",\"vcpu\":%u,\"cpuset\":", vcpu);
	sb_json_str(&sb, canon);
	sb_append(&sb, "}");
	r = sb_error(&sb) ? -ENOMEM : vmm_call(d, dom, sb_str(&sb), NULL, err);
	sb_reset(&sb);
	if (r < 0) {
		free(live->vcpupin[vcpu].str);
		live->vcpupin[vcpu] = old;
		return r;
	}
	free(old.str);
	nfvd_dom_log(d, dom, "vcpu %u pinned to %s", vcpu, canon);
	if ((r = nfvd_runtime_save(d, dom)) < 0)
		log_warn("domain '%s': cannot save runtime state: %s", dom->name, strerror(-r));
	return 0;
}
