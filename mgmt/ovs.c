// SPDX-License-Identifier: GPL-2.0-only
/*
 * OVS-DPDK backend for nfvd: ovs-vsctl command lines, running them with a time bound, and parsing
 * what they print (ovs-vsctl(8), "Database Values"; vswitch.ovsschema Port and Interface tables).
 */
#include "ovs.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return r;
}

bool ovs_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= OVS_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/*
 * ovs-vsctl parses "key=value" arguments itself (ovs-vsctl(8) "Database Values"): ',', '=',
 * ':', quotes, brackets and braces would change the meaning of a socket path, so only plain
 * path characters pass.
 */
static bool path_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= 108 || s[0] != '/') /* sockaddr_un.sun_path */
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_./@+-", s[i]))
			return false;
	return true;
}

/* An OVSDB remote for --db: printable, no spaces (one argv element, but still logged). */
static bool db_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= OVS_DB_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return false;
	return true;
}

int ovs_network_parse(const char *spec, struct ovs_network *out, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *val, *comma;
	size_t nlen;

	memset(out, 0, sizeof(*out));
	if (!eq)
		return fail(err, errlen, -EINVAL,
			    "'%s': expected NAME=nfv-switch or NAME=ovs:BRIDGE[,db=DB]", spec);
	nlen = (size_t)(eq - spec);
	if (nlen == 0 || nlen >= sizeof(out->name))
		return fail(err, errlen, -EINVAL, "'%s': network name of 1..%d characters expected",
			    spec, OVS_NAME_MAX - 1);
	memcpy(out->name, spec, nlen);
	if (!ovs_name_ok(out->name))
		return fail(err, errlen, -EINVAL,
			    "'%s': network name may only use letters, digits, '_', '.', '-'", spec);
	val = eq + 1;
	if (!strcmp(val, "nfv-switch"))
		return 0;
	if (strncmp(val, "ovs:", 4))
		return fail(err, errlen, -EINVAL,
			    "'%s': backend must be nfv-switch or ovs:BRIDGE[,db=DB]", spec);
	val += 4;
	comma = strchr(val, ',');
	nlen = comma ? (size_t)(comma - val) : strlen(val);
	if (nlen == 0 || nlen >= sizeof(out->target.bridge))
		return fail(err, errlen, -EINVAL,
			    "'%s': OVS bridge name of 1..%d characters expected", spec,
			    OVS_NAME_MAX - 1);
	memcpy(out->target.bridge, val, nlen);
	if (!ovs_name_ok(out->target.bridge))
		return fail(err, errlen, -EINVAL,
			    "'%s': OVS bridge name may only use letters, digits, '_', '.', '-'",
			    spec);
	if (comma) {
		const char *opt = comma + 1;

		if (strncmp(opt, "db=", 3) || !db_ok(opt + 3))
			return fail(err, errlen, -EINVAL,
				    "'%s': the only option is db=DB (an OVSDB remote, no spaces)",
				    spec);
		snprintf(out->target.db, sizeof(out->target.db), "%s", opt + 3);
	}
	out->ovs = true;
	return 0;
}

void ovs_argv_free(struct ovs_argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
	a->v[0] = NULL;
}

static void argv_add(struct ovs_argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void argv_add(struct ovs_argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	if (a->oom)
		return;
	if (a->n >= OVS_ARGV_MAX) {
		a->oom = true;
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->oom = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static int timeout_ms(const struct ovs_target *t)
{
	return t->timeout_ms > 0 ? t->timeout_ms : OVS_TIMEOUT_MS;
}

/* Common head: binary, database, ovs-vsctl's own timeout (whole seconds, at least 1). */
static void argv_head(const struct ovs_target *t, struct ovs_argv *a)
{
	memset(a, 0, sizeof(*a));
	argv_add(a, "%s", t->vsctl ? t->vsctl : "ovs-vsctl");
	if (t->db[0])
		argv_add(a, "--db=%s", t->db);
	argv_add(a, "--timeout=%d", (timeout_ms(t) + 999) / 1000);
}

int ovs_argv_port_add(const struct ovs_target *t, const char *port, const char *sock,
		      const struct domain_vlan *vlan, struct ovs_argv *out, char *err,
		      size_t errlen)
{
	size_t n_tags = vlan ? vlan->n_tags : 0;

	memset(out, 0, sizeof(*out));
	if (!ovs_name_ok(port))
		return fail(err, errlen, -EINVAL,
			    "port name '%s' is not usable with OVS (1..%d of [A-Za-z0-9_.-])", port,
			    OVS_NAME_MAX - 1);
	if (!path_ok(sock))
		return fail(err, errlen, -EINVAL,
			    "socket path '%s' is not usable with OVS (absolute, [A-Za-z0-9_./@+-])",
			    sock);
	if (n_tags > DOMAIN_MAX_VLAN_TAGS)
		return fail(err, errlen, -EINVAL, "too many VLAN tags");
	argv_head(t, out);
	argv_add(out, "add-port");
	argv_add(out, "%s", t->bridge);
	argv_add(out, "%s", port);
	if (n_tags == 1 && !vlan->trunk) {
		argv_add(out, "tag=%u", vlan->tags[0].id);
	} else if (n_tags) {
		/* vswitch.ovsschema Port: vlan_mode native-untagged/native-tagged use tag as the
		 * native VLAN and trunks for the others; plain trunk carries only trunks */
		const char *mode = "trunk";
		unsigned native = 0;
		struct {
			char s[DOMAIN_MAX_VLAN_TAGS * 6 + 16]; /* "4095," per tag */
			size_t len;
		} tr = {.len = 0};

		for (size_t i = 0; i < n_tags; i++) {
			if (vlan->tags[i].native_mode == DOMAIN_VLAN_NATIVE_UNTAGGED) {
				mode = "native-untagged";
				native = vlan->tags[i].id;
			} else if (vlan->tags[i].native_mode == DOMAIN_VLAN_NATIVE_TAGGED) {
				mode = "native-tagged";
				native = vlan->tags[i].id;
			}
		}
		for (size_t i = 0; i < n_tags; i++) {
			if (strcmp(mode, "trunk") && vlan->tags[i].id == native)
				continue;
			tr.len += (size_t)snprintf(tr.s + tr.len, sizeof(tr.s) - tr.len, "%s%u",
						   tr.len ? "," : "", vlan->tags[i].id);
		}
		argv_add(out, "vlan_mode=%s", mode);
		if (strcmp(mode, "trunk"))
			argv_add(out, "tag=%u", native);
		/* an empty trunks set means "all VLANs" to OVS: a native VLAN alone is the
		 * only one carried, so list it */
		if (tr.len)
			argv_add(out, "trunks=%s", tr.s);
		else
			argv_add(out, "trunks=%u", native);
	}
	argv_add(out, "--");
	argv_add(out, "set");
	argv_add(out, "Interface");
	argv_add(out, "%s", port);
	argv_add(out, "type=dpdkvhostuserclient");
	argv_add(out, "options:vhost-server-path=%s", sock);
	if (out->oom) {
		ovs_argv_free(out);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- output parsing ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

int ovs_stats_parse(const char *text, size_t len, struct ovs_port_stats *out)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{"rx_packets", offsetof(struct ovs_port_stats, rx_packets)},
		{"rx_bytes", offsetof(struct ovs_port_stats, rx_bytes)},
		{"rx_dropped", offsetof(struct ovs_port_stats, rx_dropped)},
		{"rx_errors", offsetof(struct ovs_port_stats, rx_errors)},
		{"tx_packets", offsetof(struct ovs_port_stats, tx_packets)},
		{"tx_bytes", offsetof(struct ovs_port_stats, tx_bytes)},
		{"tx_dropped", offsetof(struct ovs_port_stats, tx_dropped)},
		{"tx_errors", offsetof(struct ovs_port_stats, tx_errors)},
	};
	const char *p = text, *end = text + len;

	memset(out, 0, sizeof(*out));
	p = skip_ws(p, end);
	if (p == end || *p++ != '{')
		return -EINVAL;
	p = skip_ws(p, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		char key[64];
		size_t kl = 0;
		bool neg = false;
		uint64_t v = 0;
		int digits = 0;

		p = skip_ws(p, end);
		if (p < end && *p == '"') {
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' || kl + 1 >= sizeof(key))
					return -EINVAL; /* no escapes in counter names */
				key[kl++] = *p;
			}
			if (p == end)
				return -EINVAL;
			p++;
		} else {
			for (; p < end &&
			       (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.');
			     p++) {
				if (kl + 1 >= sizeof(key))
					return -EINVAL;
				key[kl++] = *p;
			}
		}
		key[kl] = '\0';
		if (!kl || p == end || *p++ != '=')
			return -EINVAL;
		if (p < end && *p == '-') {
			neg = true; /* OVS marks unsupported counters with -1 in some versions */
			p++;
		}
		for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
			uint64_t dgt = (uint64_t)(*p - '0');

			if (v > (UINT64_MAX - dgt) / 10)
				return -EINVAL;
			v = v * 10 + dgt;
		}
		if (!digits)
			return -EINVAL;
		for (size_t i = 0; !neg && i < ARRAY_SIZE(keys); i++) {
			if (!strcmp(key, keys[i].key)) {
				memcpy((char *)out + keys[i].off, &v, sizeof(v));
				out->have = true;
			}
		}
		p = skip_ws(p, end);
		if (p == end)
			return -EINVAL;
		if (*p == '}') {
			p++;
			break;
		}
		if (*p++ != ',')
			return -EINVAL;
	}
done:
	p = skip_ws(p, end);
	return p == end ? 0 : -EINVAL;
}

/* ---- running ovs-vsctl ---- */

struct capture {
	int fd;
	char *buf;
	size_t len;
	bool too_big;
};

static void capture_read(struct capture *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (c->len + (size_t)n > OVS_OUTPUT_MAX) {
		c->too_big = true;
		return;
	}
	memcpy(c->buf + c->len, tmp, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
}

int ovs_vsctl_run(const struct ovs_target *t, const struct ovs_argv *args, char **out,
		  int *status_out, char *err, size_t errlen)
{
	struct capture cap[2] = {{.fd = -1}, {.fd = -1}};
	int pout[2] = {-1, -1}, perr[2] = {-1, -1}, status = 0, r = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	uint64_t deadline;
	bool timed_out = false;
	pid_t pid;

	if (out)
		*out = NULL;
	if (status_out)
		*status_out = -1;
	if (args->oom || !args->n)
		return fail(err, errlen, -ENOMEM, "out of memory");
	cap[0].buf = calloc(1, OVS_OUTPUT_MAX + 1);
	cap[1].buf = calloc(1, OVS_OUTPUT_MAX + 1);
	if (!cap[0].buf || !cap[1].buf) {
		r = fail(err, errlen, -ENOMEM, "out of memory");
		goto out_free;
	}
	/* only our ends are non-blocking: ovs-vsctl writes with ordinary blocking stdio */
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
	    fcntl(pout[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(perr[0], F_SETFL, O_NONBLOCK) < 0) {
		r = fail(err, errlen, -errno, "pipe: %s", strerror(errno));
		goto out_close;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	/* nfvd blocks its termination signals for its signalfd and ignores SIGPIPE */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, args->v[0], &fa, &attr, args->v, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pout[1]);
	close(perr[1]);
	pout[1] = perr[1] = -1;
	if (r) {
		r = fail(err, errlen, -r, "cannot run %s: %s", args->v[0], strerror(r));
		goto out_close;
	}
	cap[0].fd = pout[0];
	cap[1].fd = perr[0];
	pout[0] = perr[0] = -1;
	deadline = clock_ms() + (uint64_t)timeout_ms(t) + 1000; /* ovs-vsctl's own bound first */
	while (cap[0].fd >= 0 || cap[1].fd >= 0) {
		struct pollfd pfd[2] = {{.fd = cap[0].fd, .events = POLLIN},
					{.fd = cap[1].fd, .events = POLLIN}};
		uint64_t now = clock_ms();
		int n;

		if (now >= deadline || cap[0].too_big || cap[1].too_big) {
			timed_out = now >= deadline;
			kill(pid, SIGKILL);
			break;
		}
		n = poll(pfd, 2, (int)(deadline - now));
		if (n < 0 && errno != EINTR) {
			kill(pid, SIGKILL); /* the wait below must not block */
			break;
		}
		for (int i = 0; i < 2 && n > 0; i++)
			if (pfd[i].revents)
				capture_read(&cap[i]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* the last line of stderr says what went wrong ("ovs-vsctl: no bridge named br9") */
	while (cap[1].len && isspace((unsigned char)cap[1].buf[cap[1].len - 1]))
		cap[1].buf[--cap[1].len] = '\0';
	if (timed_out) {
		r = fail(err, errlen, -ETIMEDOUT, "%s did not finish within %d ms", args->v[0],
			 timeout_ms(t));
	} else if (cap[0].too_big || cap[1].too_big) {
		r = fail(err, errlen, -EMSGSIZE, "%s printed more than %d bytes", args->v[0],
			 OVS_OUTPUT_MAX);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		int st = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

		if (status_out)
			*status_out = st;
		r = fail(err, errlen, st == 127 ? -ENOENT : -EREMOTEIO, "%s",
			 cap[1].len  ? cap[1].buf
			 : st == 127 ? "ovs-vsctl not found"
				     : "ovs-vsctl failed");
	} else {
		if (status_out)
			*status_out = 0;
		if (out) {
			*out = cap[0].buf;
			cap[0].buf = NULL;
		}
	}
out_close:
	for (int i = 0; i < 2; i++) {
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
		if (cap[i].fd >= 0)
			close(cap[i].fd);
	}
out_free:
	free(cap[0].buf);
	free(cap[1].buf);
	return r;
}

int ovs_bridge_check(const struct ovs_target *t, char *err, size_t errlen)
{
	struct ovs_argv a;
	int st = -1, r;

	argv_head(t, &a);
	argv_add(&a, "br-exists");
	argv_add(&a, "%s", t->bridge);
	r = ovs_vsctl_run(t, &a, NULL, &st, err, errlen);
	ovs_argv_free(&a);
	/* ovs-vsctl(8): br-exists exits with status 2 when the bridge does not exist */
	if (r == -EREMOTEIO && st == 2)
		return fail(err, errlen, -ENODEV, "OVS has no bridge '%s'", t->bridge);
	return r;
}

int ovs_port_add(const struct ovs_target *t, const char *port, const char *sock,
		 const struct domain_vlan *vlan, char *err, size_t errlen)
{
	struct ovs_argv a;
	int r = ovs_argv_port_add(t, port, sock, vlan, &a, err, errlen);

	if (r < 0)
		return r;
	r = ovs_vsctl_run(t, &a, NULL, NULL, err, errlen);
	ovs_argv_free(&a);
	return r;
}

int ovs_port_del(const struct ovs_target *t, const char *port, char *err, size_t errlen)
{
	struct ovs_argv a;
	int r;

	if (!ovs_name_ok(port))
		return fail(err, errlen, -EINVAL, "port name '%s' is not usable with OVS", port);
	argv_head(t, &a);
	argv_add(&a, "--if-exists");
	argv_add(&a, "del-port");
	argv_add(&a, "%s", t->bridge);
	argv_add(&a, "%s", port);
	r = ovs_vsctl_run(t, &a, NULL, NULL, err, errlen);
	ovs_argv_free(&a);
	return r;
}

int ovs_port_stats(const struct ovs_target *t, const char *port, struct ovs_port_stats *out,
		   char *err, size_t errlen)
{
	struct ovs_argv a;
	char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!ovs_name_ok(port))
		return fail(err, errlen, -EINVAL, "port name '%s' is not usable with OVS", port);
	argv_head(t, &a);
	argv_add(&a, "get");
	argv_add(&a, "Interface");
	argv_add(&a, "%s", port);
	argv_add(&a, "statistics");
	r = ovs_vsctl_run(t, &a, &text, NULL, err, errlen);
	ovs_argv_free(&a);
	if (r < 0)
		return r;
	r = ovs_stats_parse(text, strlen(text), out);
	if (r < 0)
		fail(err, errlen, r, "unexpected statistics from ovs-vsctl for '%s'", port);
	free(text);
	return r;
}
