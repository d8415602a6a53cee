// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd persistent state: definitions, autostart flags, runtime records and re-adoption of running
 * nfv-vmm processes after a daemon restart.
 */
#include "nfvd.h"
#include "nfvd_vf.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int nfvd_path(char *buf, size_t len, const char *dir, const char *sub, const char *name,
	      const char *suffix)
{
	int n = snprintf(buf, len, "%s%s%s/%s%s", dir, sub ? "/" : "", sub ? sub : "", name,
			 suffix ? suffix : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int nfvd_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	char dir[PATH_MAX];
	_cleanup_close_ int dfd = -1;
	int fd, r = 0;
	char *slash;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	/* make the rename itself durable */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0)
			(void)fsync(dfd);
	}
	return 0;
}

char *nfvd_read_file(const char *path, size_t max, size_t *len_out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

void nfvd_dom_log(struct nfvd *d, const struct nfvd_dom *dom, const char *fmt, ...)
{
	char path[PATH_MAX], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	FILE *f;

	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "logs", dom->name, ".log"))
		return;
	f = fopen(path, "ae");
	if (!f)
		return;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "%s nfvd: ", ts);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

struct nfvd_dom *nfvd_find(struct nfvd *d, const char *name)
{
	for (size_t i = 0; i < d->n_doms; i++)
		if (!strcmp(d->doms[i]->name, name))
			return d->doms[i];
	return NULL;
}

void nfvd_dom_free(struct nfvd_dom *dom)
{
	if (!dom)
		return;
	free(dom->name);
	domain_def_free(dom->def);
	domain_def_free(dom->live);
	nfvd_ports_forget(dom);
	nfvd_vf_forget(dom);
	free(dom);
}

const struct ovs_target *nfvd_ovs_target(const struct nfvd *d, const char *name)
{
	for (size_t i = 0; name && i < d->cfg.n_networks; i++)
		if (!strcmp(d->cfg.networks[i].name, name))
			return d->cfg.networks[i].ovs ? &d->cfg.networks[i].target : NULL;
	return NULL;
}

int nfvd_port_record(struct nfvd_dom *dom, const char *port, const char *net)
{
	char **np, **nn, *p = strdup(port), *n = net ? strdup(net) : NULL;

	if (!p || (net && !n))
		goto oom;
	np = realloc(dom->ports, (dom->n_ports + 1) * sizeof(*np));
	if (!np)
		goto oom;
	dom->ports = np;
	nn = realloc(dom->port_nets, (dom->n_ports + 1) * sizeof(*nn));
	if (!nn)
		goto oom;
	dom->port_nets = nn;
	np[dom->n_ports] = p;
	nn[dom->n_ports] = n;
	dom->n_ports++;
	return 0;
oom:
	free(p);
	free(n);
	return -ENOMEM;
}

void nfvd_ports_forget(struct nfvd_dom *dom)
{
	for (size_t i = 0; i < dom->n_ports; i++) {
		free(dom->ports[i]);
		free(dom->port_nets[i]);
	}
	free(dom->ports);
	free(dom->port_nets);
	dom->ports = NULL;
	dom->port_nets = NULL;
	dom->n_ports = 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Deep copy through format + parse: the pair is symmetric, so this is exact. */
int nfvd_def_copy(const struct domain_def *def, struct domain_def **out)
{
	char *xml = NULL, *err = NULL;
	int r = domain_format(def, &xml);

	if (r < 0)
		return r;
	r = domain_parse_string(xml, strlen(xml), def->name, 0, out, &err);
	if (r < 0)
		log_err("internal: cannot re-parse formatted domain '%s': %s", def->name,
			err ? err : "");
	free(xml);
	free(err);
	return r;
}

static int load_definition(struct nfvd *d, const char *file)
{
	char path[PATH_MAX], *err = NULL;
	struct domain_def *def = NULL;
	struct nfvd_dom *dom;
	size_t n = strlen(file);
	int r;

	if (n < 5 || strcmp(file + n - 4, ".xml") || file[0] == '.')
		return 0;
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "domains", file, NULL))
		return -ENAMETOOLONG;
	r = domain_parse_file(path, 0, &def, &err);
	if (r < 0) {
		log_err("ignoring definition %s: %s", path, err ? err : strerror(-r));
		free(err);
		return 0;
	}
	if (strncmp(def->name, file, n - 4) || strlen(def->name) != n - 4) {
		log_err("ignoring definition %s: it defines domain '%s'", path, def->name);
		domain_def_free(def);
		return 0;
	}
	if (d->n_doms >= NFVD_MAX_DOMAINS || !(dom = calloc(1, sizeof(*dom)))) {
		domain_def_free(def);
		return -ENOMEM;
	}
	dom->nfvd = d;
	dom->name = strdup(def->name);
	dom->def = def;
	dom->pidfd = -1;
	dom->last_exit = -1;
	snprintf(dom->reason, sizeof(dom->reason), "%s", "unknown");
	if (!dom->name) {
		nfvd_dom_free(dom);
		return -ENOMEM;
	}
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "autostart", dom->name, NULL) == 0)
		dom->autostart = access(path, F_OK) == 0;
	d->doms[d->n_doms++] = dom;
	return 0;
}

/* Fields 22 (starttime) of /proc/PID/stat; the comm field may contain spaces and parens. */
int nfvd_proc_starttime(pid_t pid, uint64_t *out)
{
	char path[64], *buf, *p;
	unsigned long long st;
	int field = 2;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	buf = nfvd_read_file(path, 65536, NULL);
	if (!buf)
		return -ESRCH;
	p = strrchr(buf, ')');
	if (!p) {
		free(buf);
		return -EPROTO;
	}
	p++;
	while (*p && field < 22) {
		if (*p == ' ') {
			field++;
			while (*p == ' ')
				p++;
			continue;
		}
		p++;
	}
	if (field != 22 || sscanf(p, "%llu", &st) != 1) {
		free(buf);
		return -EPROTO;
	}
	free(buf);
	*out = st;
	return 0;
}

/* True when PID is an nfv-vmm started for @live_xml (argv[0] basename and --domain argument). */
static bool proc_is_our_vmm(pid_t pid, const char *live_xml)
{
	char path[64], *buf, *base;
	size_t len;
	bool is_vmm = false, has_xml = false;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	buf = nfvd_read_file(path, 65536, &len);
	if (!buf)
		return false;
	/* argv[0], or argv[1] when nfv-vmm runs under an interpreter or wrapper */
	for (size_t off = 0, i = 0; off < len; off += strlen(buf + off) + 1, i++) {
		if (i < 2) {
			base = strrchr(buf + off, '/');
			base = base ? base + 1 : buf + off;
			is_vmm |= !strcmp(base, "nfv-vmm");
		}
		if (!strcmp(buf + off, live_xml))
			has_xml = true;
	}
	free(buf);
	return is_vmm && has_xml;
}

int nfvd_runtime_save(struct nfvd *d, struct nfvd_dom *dom)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];
	int r;

	sb_printf(&sb,
		  "{\"pid\":%d,\"starttime\":%llu,\"id\":%d,\"started\":%lld,\"child\":%s,"
		  "\"ports\":[",
		  (int)dom->pid, (unsigned long long)dom->starttime, dom->id,
		  (long long)dom->started_wall, dom->child ? "true" : "false");
	for (size_t i = 0; i < dom->n_ports; i++) {
		sb_append(&sb, i ? "," : "");
		sb_json_str(&sb, dom->ports[i]);
	}
	/* the network of each port (null: nfv-switch), so teardown finds the right switch */
	sb_append(&sb, "],\"port_networks\":[");
	for (size_t i = 0; i < dom->n_ports; i++) {
		sb_append(&sb, i ? "," : "");
		if (dom->port_nets[i])
			sb_json_str(&sb, dom->port_nets[i]);
		else
			sb_append(&sb, "null");
	}
	sb_append(&sb, "],\"live_xml\":");
	{
		char live[PATH_MAX];

		if (nfvd_path(live, sizeof(live), d->cfg.run_dir, NULL, dom->name, ".xml") == 0)
			sb_json_str(&sb, live);
		else
			sb_append(&sb, "null");
	}
	sb_append(&sb, "}\n");
	if (sb_error(&sb)) {
		sb_reset(&sb);
		return -ENOMEM;
	}
	/* the live definition (live vcpupin changes) survives an nfvd restart, as libvirt's status
	 * XML */
	if (dom->live) {
		char *xml = NULL;

		r = domain_format(dom->live, &xml);
		if (!r)
			r = nfvd_path(path, sizeof(path), d->cfg.state_dir, "runtime", dom->name,
				      ".xml");
		if (!r)
			r = nfvd_write_atomic(path, xml, strlen(xml), 0600);
		free(xml);
		if (r < 0) {
			sb_reset(&sb);
			return r;
		}
	}
	r = nfvd_path(path, sizeof(path), d->cfg.state_dir, "runtime", dom->name, ".json");
	if (!r)
		r = nfvd_write_atomic(path, sb_str(&sb), sb.len, 0600);
	sb_reset(&sb);
	return r;
}

void nfvd_runtime_remove(struct nfvd *d, struct nfvd_dom *dom)
{
	char path[PATH_MAX];

	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "runtime", dom->name, ".json") == 0)
		unlink(path);
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "runtime", dom->name, ".xml") == 0)
		unlink(path);
}

/* Re-adopt the nfv-vmm of @dom if its runtime record names a live process that is still it. */
static void adopt(struct nfvd *d, struct nfvd_dom *dom)
{
	char path[PATH_MAX], *buf;
	struct json *j = NULL;
	const struct json *ports, *nets, *net;
	const char *live = NULL;
	int64_t pid = 0, st = 0, id = 0, started = 0;
	uint64_t now_st;

	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "runtime", dom->name, ".json"))
		return;
	buf = nfvd_read_file(path, 1 << 20, NULL);
	if (!buf)
		return;
	if (json_parse(buf, strlen(buf), &j, NULL) < 0 ||
	    json_get_int(j, "pid", INT64_MIN, INT64_MAX, &pid) ||
	    json_get_int(j, "starttime", INT64_MIN, INT64_MAX, &st) ||
	    json_get_str(j, "live_xml", &live)) {
		log_warn("domain '%s': unreadable runtime record %s, discarding", dom->name, path);
		goto stale;
	}
	/* optional: absent or damaged leaves the defaults */
	json_get_int(j, "id", INT64_MIN, INT64_MAX, &id);
	json_get_int(j, "started", INT64_MIN, INT64_MAX, &started);
	/* record the ports first, so a stale record still lets us delete them */
	ports = json_get(j, "ports");
	nets = json_get(j, "port_networks");
	net = nets && nets->type == JSON_ARRAY ? nets->child : NULL;
	for (const struct json *p = ports ? ports->child : NULL; p;
	     p = p->next, net = net ? net->next : NULL) {
		if (p->type != JSON_STRING)
			continue;
		if (nfvd_port_record(dom, p->str,
				     net && net->type == JSON_STRING ? net->str : NULL) < 0)
			break;
	}
	if (pid <= 0 || nfvd_proc_starttime((pid_t)pid, &now_st) < 0 || now_st != (uint64_t)st ||
	    !proc_is_our_vmm((pid_t)pid, live)) {
		log_warn("domain '%s': nfv-vmm pid %lld from the runtime record is gone; cleaning "
			 "up",
			 dom->name, (long long)pid);
		nfvd_dom_log(d, dom, "nfv-vmm pid %lld exited while nfvd was not running",
			     (long long)pid);
		nfvd_teardown(d, dom);
		snprintf(dom->reason, sizeof(dom->reason), "%s", "unknown");
		goto stale;
	}
	dom->pid = (pid_t)pid;
	dom->starttime = (uint64_t)st;
	dom->child = false;
	dom->id = id > 0 && id < 1000000 ? (int)id : d->next_id++;
	if (dom->id >= d->next_id)
		d->next_id = dom->id + 1;
	dom->started_wall = (time_t)started;
	dom->started_ms = clock_ms();
	if (nfvd_watch(d, dom) < 0) {
		log_err("domain '%s': cannot watch pid %d", dom->name, dom->pid);
		dom->pid = 0;
		goto stale;
	}
	{
		char xpath[PATH_MAX], *err = NULL;

		if (nfvd_path(xpath, sizeof(xpath), d->cfg.state_dir, "runtime", dom->name,
			      ".xml") ||
		    domain_parse_file(xpath, 0, &dom->live, &err) < 0) {
			free(err);
			if (nfvd_def_copy(dom->def, &dom->live) < 0)
				dom->live = NULL;
		}
	}
	dom->state = NFVD_RUNNING;
	snprintf(dom->reason, sizeof(dom->reason), "%s", "booted");
	log_info("domain '%s': re-adopted nfv-vmm pid %d", dom->name, dom->pid);
	nfvd_dom_log(d, dom, "re-adopted nfv-vmm pid %d after an nfvd restart", dom->pid);
	json_free(j);
	free(buf);
	return;
stale:
	json_free(j);
	free(buf);
	nfvd_ports_forget(dom);
	unlink(path);
}

int nfvd_state_init(struct nfvd *d)
{
	static const char *const subs[] = {"domains", "autostart", "runtime", "logs"};
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int r;

	d->next_id = 1;
	r = mkdir_p(d->cfg.state_dir, 0755);
	if (r < 0) {
		log_err("cannot create state dir %s: %s", d->cfg.state_dir, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if ((r = nfvd_path(path, sizeof(path), d->cfg.state_dir, NULL, subs[i], NULL)) ||
		    (r = mkdir_p(path, i == 2 ? 0700 : 0755))) {
			log_err("cannot create %s: %s", path, strerror(-r));
			return r;
		}
	}
	r = mkdir_p(d->cfg.run_dir, 0755);
	if (r < 0) {
		log_err("cannot create run dir %s: %s", d->cfg.run_dir, strerror(-r));
		return r;
	}
	if ((r = nfvd_path(path, sizeof(path), d->cfg.state_dir, NULL, "domains", NULL)))
		return r;
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		r = load_definition(d, de->d_name);
		if (r < 0) {
			closedir(dir);
			return r;
		}
	}
	closedir(dir);
	for (size_t i = 0; i < d->n_doms; i++)
		adopt(d, d->doms[i]);
	if (d->cfg.no_autostart)
		return 0;
	for (size_t i = 0; i < d->n_doms; i++) {
		struct nfvd_dom *dom = d->doms[i];
		char *err = NULL;

		if (!dom->autostart || dom->state == NFVD_RUNNING)
			continue;
		if (nfvd_start(d, dom, &err) < 0)
			log_err("autostart of domain '%s' failed: %s", dom->name, err ? err : "");
		else
			log_info("domain '%s' autostarted", dom->name);
		free(err);
	}
	return 0;
}

void nfvd_state_fini(struct nfvd *d)
{
	/* Running VMs keep running; their runtime records let the next nfvd adopt them. */
	for (size_t i = 0; i < d->n_doms; i++) {
		if (d->doms[i]->pidfd >= 0) {
			evloop_del(d->loop, d->doms[i]->pidfd);
			close(d->doms[i]->pidfd);
		}
		nfvd_dom_free(d->doms[i]);
	}
	d->n_doms = 0;
}

int nfvd_define(struct nfvd *d, const char *xml, size_t len, unsigned flags, struct nfvd_dom **out,
		char **err)
{
	struct domain_def *def = NULL;
	struct nfvd_dom *dom;
	char path[PATH_MAX], *fmt = NULL;
	bool is_new = false;
	int r;

	*err = NULL;
	r = domain_parse_string(xml, len, "domain.xml", flags, &def, err);
	if (r < 0)
		return r;
	dom = nfvd_find(d, def->name);
	if (dom) {
		/* libvirt semantics: redefining keeps the identity, a different UUID is a conflict
		 */
		if (def->uuid_generated) {
			memcpy(def->uuid, dom->def->uuid, 16);
		} else if (memcmp(def->uuid, dom->def->uuid, 16)) {
			char u[37];

			domain_uuid_format(dom->def->uuid, u);
			if (asprintf(err, "domain '%s' already exists with uuid %s", def->name, u) <
			    0)
				*err = NULL;
			domain_def_free(def);
			return -EEXIST;
		}
	} else {
		for (size_t i = 0; i < d->n_doms; i++) {
			if (!memcmp(d->doms[i]->def->uuid, def->uuid, 16)) {
				if (asprintf(err, "domain '%s' already exists with the same uuid",
					     d->doms[i]->name) < 0)
					*err = NULL;
				domain_def_free(def);
				return -EEXIST;
			}
		}
		if (d->n_doms >= NFVD_MAX_DOMAINS) {
			domain_def_free(def);
			*err = strdup("too many domains");
			return -ENOSPC;
		}
	}
	r = domain_format(def, &fmt);
	if (!r)
		r = nfvd_path(path, sizeof(path), d->cfg.state_dir, "domains", def->name, ".xml");
	if (!r)
		r = nfvd_write_atomic(path, fmt, strlen(fmt), 0600);
	free(fmt);
	if (r < 0) {
		if (asprintf(err, "cannot save definition of '%s': %s", def->name, strerror(-r)) <
		    0)
			*err = NULL;
		domain_def_free(def);
		return r;
	}
	if (!dom) {
		dom = calloc(1, sizeof(*dom));
		if (!dom || !(dom->name = strdup(def->name))) {
			free(dom);
			domain_def_free(def);
			return -ENOMEM;
		}
		dom->nfvd = d;
		dom->pidfd = -1;
		dom->last_exit = -1;
		snprintf(dom->reason, sizeof(dom->reason), "%s", "unknown");
		d->doms[d->n_doms++] = dom;
		is_new = true;
	} else {
		/* notes about dropped devices belong to this define call only */
		domain_def_free(dom->def);
	}
	dom->def = def;
	nfvd_dom_log(d, dom, "%s", is_new ? "defined" : "definition updated");
	*out = dom;
	return 0;
}

int nfvd_undefine(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	char path[PATH_MAX];

	*err = NULL;
	if (dom->state == NFVD_RUNNING) {
		if (asprintf(err,
			     "Requested operation is not valid: domain '%s' is running; destroy "
			     "it first",
			     dom->name) < 0)
			*err = NULL;
		return -EBUSY;
	}
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "domains", dom->name, ".xml") == 0 &&
	    unlink(path) < 0 && errno != ENOENT) {
		int r = -errno;

		if (asprintf(err, "cannot remove %s: %s", path, strerror(errno)) < 0)
			*err = NULL;
		return r;
	}
	if (nfvd_path(path, sizeof(path), d->cfg.state_dir, "autostart", dom->name, NULL) == 0)
		unlink(path);
	nfvd_dom_log(d, dom, "undefined");
	for (size_t i = 0; i < d->n_doms; i++) {
		if (d->doms[i] == dom) {
			d->doms[i] = d->doms[--d->n_doms];
			break;
		}
	}
	nfvd_dom_free(dom);
	return 0;
}

int nfvd_set_autostart(struct nfvd *d, struct nfvd_dom *dom, bool on, char **err)
{
	char path[PATH_MAX];
	int r;

	*err = NULL;
	r = nfvd_path(path, sizeof(path), d->cfg.state_dir, "autostart", dom->name, NULL);
	if (!r && on)
		r = nfvd_write_atomic(path, "", 0, 0644);
	else if (!r && unlink(path) < 0 && errno != ENOENT)
		r = -errno;
	if (r < 0) {
		if (asprintf(err, "cannot change autostart of '%s': %s", dom->name, strerror(-r)) <
		    0)
			*err = NULL;
		return r;
	}
	dom->autostart = on;
	return 0;
}
