// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switch: DPDK poll-mode L2 soft switch.
 *
 *   nfv-switch [EAL options] -- [--control PATH] [--config FILE] [--pmd-cores LIST]
 *              [--mbufs N] [--fdb-max N] [--fdb-age SEC] [--power-mode] [--log-level L]
 *              [--user NAME|UID[:GID]] [--socket-group GROUP] [--seccomp on|log|off]
 *
 * The main lcore runs the control thread (this file: control socket, config file, FDB aging);
 * every PMD core runs sw_pmd_main(). See docs/switch.md.
 *
 * Privileges: started as root, the switch does everything that needs root first (EAL memory and
 * runtime dir, mbuf pool, PMD threads, control socket, the --config ports, which is where ethdev
 * vdevs needing CAP_NET_ADMIN/CAP_NET_RAW belong), then --user drops every thread to that user
 * (core/privdrop.h). docs/switch.md, "Running without root", lists what works afterwards.
 * Last, --seccomp (default on) confines every thread to the system calls the switch still needs
 * (sandbox.h).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"	/* before DPDK headers: rte_common.h defers to its container_of */

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_vhost.h>

#include "log.h"
#include "privdrop.h"
#include "sandbox.h"
#include "sw.h"

#define CTL_LINE_MAX (64 * 1024)	/* longest request line accepted */
#define CTL_CLIENTS_MAX 32
#define DEFAULT_CONTROL "/run/nfvisor/switch.sock"

struct client {
	int fd;
	char *buf;
	size_t len;
	bool discarding;	/* an over-long line is being skipped up to its newline */
};

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfv-switch [EAL options] -- [options]\n"
		"  --control PATH     control socket (default " DEFAULT_CONTROL ")\n"
		"  --config FILE      JSON lines of control requests to run at start (port-add...)\n"
		"  --pmd-cores LIST   EAL lcores that run PMDs (default: every worker lcore)\n"
		"  --mbufs N          mbuf pool size (default 16383)\n"
		"  --fdb-max N        learned MAC limit (default 8192)\n"
		"  --fdb-age SEC      MAC aging time (default 300)\n"
		"  --power-mode       idle PMDs sleep briefly (default: always poll)\n"
		"  --idle-sleep-us N  sleep per idle round in power mode (default 50)\n"
		"  --log-level L      err|warn|info|debug\n"
		"  --user NAME|UID[:GID]  drop to this user once set up (after --config)\n"
		"  --socket-group GROUP   control and vhost-user server sockets: this group, mode 0660\n"
		"  --seccomp MODE     on (default): kill on a system call outside the allow-list once\n"
		"                     set up; log: log such calls and allow them; off: no filter\n"
		"  --seccomp-selftest TEST ONLY: make one forbidden system call once confined\n");
}

/* Write all of @s plus a newline; the socket is blocking for writes of responses. */
static int write_line(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				struct pollfd p = { .fd = fd, .events = POLLOUT };

				if (poll(&p, 1, 1000) <= 0)
					return -EIO;	/* a peer that does not read is dropped */
				continue;
			}
			return -errno;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int respond(struct sw *sw, int fd, const char *line, size_t len)
{
	struct jbuf r;
	int ret;

	sw_ctl_handle(sw, line, len, &r);
	jbuf_raw(&r, "\n");
	ret = r.failed ? -ENOMEM : write_line(fd, r.buf, r.len);
	jbuf_free(&r);
	return ret;
}

static int respond_error(int fd, const char *msg)
{
	struct jbuf r;
	int ret;

	jbuf_init(&r);
	jbuf_obj_open(&r, NULL);
	jbuf_bool(&r, "ok", false);
	jbuf_str(&r, "error", msg);
	jbuf_obj_close(&r);
	jbuf_raw(&r, "\n");
	ret = r.failed ? -ENOMEM : write_line(fd, r.buf, r.len);
	jbuf_free(&r);
	return ret;
}

/* Serve complete lines in @c's buffer; returns <0 when the client must be dropped. */
static int client_input(struct sw *sw, struct client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, CTL_LINE_MAX - c->len, MSG_DONTWAIT);
	size_t start = 0;

	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->len += (size_t)n;
	for (size_t i = 0; i < c->len; i++) {
		if (c->buf[i] != '\n')
			continue;
		if (c->discarding) {
			c->discarding = false;
		} else {
			size_t l = i - start;

			if (l && c->buf[start + l - 1] == '\r')
				l--;
			if (l && respond(sw, c->fd, c->buf + start, l) < 0)
				return -EIO;
		}
		start = i + 1;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == CTL_LINE_MAX) {
		/* No newline within the limit: answer once, skip to the next newline. */
		c->len = 0;
		if (!c->discarding && respond_error(c->fd, "request line too long (max 65535 bytes)") < 0)
			return -EIO;
		c->discarding = true;
	}
	return 0;
}

static int ctl_listen(const struct sw_cfg *cfg, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)];
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("--control %s: path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir) {
		*strrchr(dir, '/') = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			log_warn("--control: cannot create %s: %s", dir, strerror(errno));
	}
	/* Refuse to steal the socket of a running switch; remove a stale one. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_err("--control %s: another switch is listening there", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		log_err("--control %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	/* Connecting needs write permission on the socket file: owner and group only. */
	if (chmod(path, 0660) < 0 ||
	    (cfg->socket_group && chown(path, (uid_t)-1, cfg->socket_gid) < 0)) {
		int e = errno;

		log_err("--control %s: cannot make it mode 0660%s: %s", path,
			cfg->socket_group ? " of --socket-group" : "", strerror(e));
		close(fd);
		unlink(path);
		return -e;
	}
	return fd;
}

static int load_config(struct sw *sw, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	int ret = 0;

	if (!f) {
		log_err("--config %s: %s", file, strerror(errno));
		return -errno;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		struct json *doc = NULL;
		struct jbuf r;
		bool ok = false;
		char *p = line;

		lineno++;
		while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
			p[--n] = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		sw_ctl_handle(sw, p, strlen(p), &r);
		if (r.failed || json_parse(r.buf, r.len, &doc, NULL) ||
		    json_get_bool(doc, "ok", &ok) || !ok) {
			const char *e = NULL;

			json_get_str(doc, "error", &e);
			log_err("%s:%u: %s", file, lineno, e ? e : "request failed");
			ret = -EINVAL;
		}
		json_free(doc);
		jbuf_free(&r);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	return ret;
}

static void serve(struct sw *sw, int lfd)
{
	struct client cl[CTL_CLIENTS_MAX];
	unsigned ncl = 0;
	uint64_t next_age = 0;

	while (!quit) {
		struct pollfd pf[CTL_CLIENTS_MAX + 1];
		uint64_t now;
		int n;

		pf[0].fd = lfd;
		pf[0].events = ncl < CTL_CLIENTS_MAX ? POLLIN : 0;
		for (unsigned i = 0; i < ncl; i++) {
			pf[i + 1].fd = cl[i].fd;
			pf[i + 1].events = POLLIN;
			pf[i + 1].revents = 0;
		}
		n = poll(pf, ncl + 1, 200);
		now = sw_now_ms(sw);
		if (now >= next_age) {
			/* Age at a tenth of the aging time (at most 1 s): entries live age..1.1*age. */
			uint64_t period = MIN(1000, MAX(50, sw->cfg.fdb_age_s * 100ull));

			fdb_age(sw->fdb, now);
			next_age = now + period;
		}
		if (n <= 0)
			continue;
		for (unsigned i = ncl; i-- > 0;) {
			if (!(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (client_input(sw, &cl[i]) < 0) {
				close(cl[i].fd);
				free(cl[i].buf);
				cl[i] = cl[--ncl];
			}
		}
		if (pf[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd >= 0) {
				cl[ncl].buf = malloc(CTL_LINE_MAX);
				if (!cl[ncl].buf) {
					close(fd);
					continue;
				}
				cl[ncl].fd = fd;
				cl[ncl].len = 0;
				cl[ncl].discarding = false;
				ncl++;
			}
		}
	}
	for (unsigned i = 0; i < ncl; i++) {
		close(cl[i].fd);
		free(cl[i].buf);
	}
}

/* EAL runs without shared files (--no-shconf, --in-memory): no multi-process channel. */
static bool eal_no_shconf(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--no-shconf") || !strcmp(argv[i], "--in-memory"))
			return true;
	return false;
}

static int parse_u32_opt(const char *name, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, &v) || v < min || v > max) {
		log_err("%s %s: expected an integer in %u..%u", name, s, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "config", required_argument, NULL, 'f' },
		{ "pmd-cores", required_argument, NULL, 'p' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "fdb-max", required_argument, NULL, 'M' },
		{ "fdb-age", required_argument, NULL, 'a' },
		{ "power-mode", no_argument, NULL, 'P' },
		{ "idle-sleep-us", required_argument, NULL, 'i' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "user", required_argument, NULL, 'u' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "seccomp", required_argument, NULL, 's' },
		{ "seccomp-selftest", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct sw sw;
	const char *control = DEFAULT_CONTROL, *config = NULL, *pmd_cores = NULL, *user = NULL;
	struct privdrop_user drop_to;
	struct sw_sandbox_cfg sb = { .mode = SCF_ON };
	struct fdb_cfg fc;
	unsigned lcore;
	int n, opt, lfd, ret = 1;
	bool no_shconf = eal_no_shconf(argc, argv);

	log_set_ident("nfv-switch");
	sw.cfg = (struct sw_cfg){ .mbufs = 16383, .fdb_max = 8192, .fdb_age_s = 300,
				  .idle_sleep_us = 50 };
	/*
	 * The switch never executes another program, so nothing it could exec should gain
	 * privileges. Set here, before EAL starts its threads (lcores, interrupt, multi-process,
	 * telemetry), because the flag is per thread and inherited only by threads created later.
	 */
	if (privdrop_no_new_privs())
		return 1;
	n = rte_eal_init(argc, argv);
	if (n < 0) {
		log_err("EAL initialisation failed: %s", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		enum log_level lvl;

		switch (opt) {
		case 'c': control = optarg; break;
		case 'f': config = optarg; break;
		case 'p': pmd_cores = optarg; break;
		case 'm':
			if (parse_u32_opt("--mbufs", optarg, 1024, 1u << 24, &sw.cfg.mbufs))
				goto out_eal;
			break;
		case 'M':
			if (parse_u32_opt("--fdb-max", optarg, 1, 1u << 24, &sw.cfg.fdb_max))
				goto out_eal;
			break;
		case 'a':
			if (parse_u32_opt("--fdb-age", optarg, 1, 1000000, &sw.cfg.fdb_age_s))
				goto out_eal;
			break;
		case 'P': sw.cfg.power_mode = true; break;
		case 'i':
			if (parse_u32_opt("--idle-sleep-us", optarg, 1, 100000, &sw.cfg.idle_sleep_us))
				goto out_eal;
			break;
		case 'l':
			if (log_level_parse(optarg, &lvl)) {
				log_err("--log-level %s: expected err|warn|info|debug", optarg);
				goto out_eal;
			}
			log_set_level(lvl);
			break;
		case 'u':
			if (privdrop_parse_user(optarg, &drop_to))
				goto out_eal;
			user = optarg;
			break;
		case 'g':
			if (privdrop_parse_group("--socket-group", optarg, &sw.cfg.socket_gid))
				goto out_eal;
			sw.cfg.socket_group = true;
			break;
		case 's':
			if (scf_mode_parse(optarg, &sb.mode))
				goto out_eal;
			break;
		case 'S': sb.selftest = true; break;
		case 'h': usage(stdout); ret = 0; goto out_eal;
		default: usage(stderr); goto out_eal;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		goto out_eal;
	}
	/*
	 * A primary EAL process announces every device hotplug (port-add of an ethdev) to its
	 * secondaries by scanning its runtime dir, /var/run/dpdk/PREFIX, which only root may open:
	 * after the drop that fails and with it the port-add. Without shared files there is no one
	 * to tell.
	 */
	if (user && !no_shconf)
		log_warn("--user: ethdev ports added after the drop will fail; give EAL --no-shconf "
			 "(or --in-memory) so that hotplug needs no root-only runtime directory");
	/* The dropped switch must still be able to give new server sockets to that group. */
	if (user && sw.cfg.socket_group && privdrop_add_group(&drop_to, sw.cfg.socket_gid)) {
		log_err("--socket-group: group %u cannot be kept after --user %s", sw.cfg.socket_gid,
			user);
		goto out_eal;
	}

	pthread_mutex_init(&sw.lock, NULL);
	sw.tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (!sw.tsc_per_ms)
		sw.tsc_per_ms = 1;
	sw_global = &sw;
	if (pmd_cores) {
		uint64_t mask[16];

		if (parse_cpulist(pmd_cores, mask)) {
			log_err("--pmd-cores %s: expected a list like 1,3-4", pmd_cores);
			goto out_eal;
		}
		for (unsigned c = 0; c < 1024; c++) {
			if (!((mask[c / 64] >> (c % 64)) & 1))
				continue;
			if (c >= RTE_MAX_LCORE || !rte_lcore_is_enabled(c) || c == rte_get_main_lcore()) {
				log_err("--pmd-cores: %u is not an EAL worker lcore (see EAL -l/--lcores)", c);
				goto out_eal;
			}
			if (sw.npmds == SW_MAX_PMDS) {
				log_err("--pmd-cores: at most %d PMDs", SW_MAX_PMDS);
				goto out_eal;
			}
			sw.pmds[sw.npmds++].lcore = c;
		}
	} else {
		RTE_LCORE_FOREACH_WORKER(lcore) {
			if (sw.npmds < SW_MAX_PMDS)
				sw.pmds[sw.npmds++].lcore = lcore;
		}
	}
	if (!sw.npmds) {
		log_err("no PMD lcore: give EAL a worker lcore (e.g. -l 0,1) and --pmd-cores");
		goto out_eal;
	}
	fc.max_dynamic = sw.cfg.fdb_max;
	fc.age_ms = sw.cfg.fdb_age_s * 1000;
	if (fdb_create(&fc, &sw.fdb)) {
		log_err("cannot allocate the FDB");
		goto out_eal;
	}
	sw.pool = rte_pktmbuf_pool_create("sw_mbufs", sw.cfg.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!sw.pool) {
		log_err("mbuf pool of %u: %s (raise EAL -m)", sw.cfg.mbufs, rte_strerror(rte_errno));
		goto out_fdb;
	}
	lfd = ctl_listen(&sw.cfg, control);
	if (lfd < 0)
		goto out_pool;

	for (unsigned k = 0; k < sw.npmds; k++) {
		sw.pmds[k].idx = k;
		sw.pmds[k].sw = &sw;
		if (rte_eal_remote_launch(sw_pmd_main, &sw.pmds[k], sw.pmds[k].lcore)) {
			log_err("cannot launch PMD on lcore %u", sw.pmds[k].lcore);
			goto out_pmds;
		}
	}
	for (unsigned k = 0; k < sw.npmds; k++)
		while (!__atomic_load_n(&sw.pmds[k].running, __ATOMIC_ACQUIRE))
			usleep(100);
	pthread_mutex_lock(&sw.lock);
	if (sw_pmd_reload(&sw)) {
		pthread_mutex_unlock(&sw.lock);
		goto out_pmds;
	}
	pthread_mutex_unlock(&sw.lock);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (config && load_config(&sw, config))
		goto out_ports;
	/*
	 * Everything that needs root is done. setresuid() in glibc reaches every thread of the
	 * process (PMDs and DPDK's own threads included), and privdrop_apply() checks the result.
	 */
	if (user && privdrop_apply(&drop_to))
		goto out_ports;
	/*
	 * Set-up is over: from here on only what sandbox.c lists. Ethdevs from --config get the
	 * calls their teardown needs; new ones that reach the host are refused (port.c).
	 */
	sb.socket_group = sw.cfg.socket_group;
	sb.socket_gid = sw.cfg.socket_gid;
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (sw.ports[i] && sw.ports[i]->type == SW_PORT_ETHDEV)
			sb.ethdev_ports = true;
	if (sw_sandbox_apply(&sb))
		goto out_ports;
	log_info("nfv-switch %s: %u PMD(s), control socket %s", SW_VERSION, sw.npmds, control);
	printf("nfv-switch ready\n");
	fflush(stdout);
	serve(&sw, lfd);
	ret = 0;
out_ports:
	pthread_mutex_lock(&sw.lock);
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (sw.ports[i] && sw_port_del(&sw, sw.ports[i]))
			log_warn("port %s not removed", sw.ports[i]->name);
	pthread_mutex_unlock(&sw.lock);
out_pmds:
	for (unsigned k = 0; k < sw.npmds; k++)
		__atomic_store_n(&sw.pmds[k].stop, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	for (unsigned k = 0; k < sw.npmds; k++)
		free(sw.pmds[k].table);
	close(lfd);
	unlink(control);
out_pool:
	rte_mempool_free(sw.pool);
out_fdb:
	fdb_destroy(sw.fdb);
out_eal:
	rte_eal_cleanup();
	return ret;
}
