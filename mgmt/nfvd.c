// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd: the nfvisor management daemon. Keeps domain definitions, starts and supervises one
 * nfv-vmm per running domain, creates their nfv-switch ports, and serves a REST/JSON API on a
 * UNIX socket (docs/mgmt.md). Stopping nfvd leaves running guests alone; the next nfvd adopts them.
 */
#include "nfvd.h"
#include "nfvd_vf.h"
#include "http.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define NFVD_MAX_CLIENTS 64
#define CLIENT_BUF_MAX (HTTP_HEAD_MAX + HTTP_BODY_MAX + 4096)
#define CLIENT_IDLE_MS 60000 /* a connection silent this long is closed (slots are few) */
#define DEFAULT_VMM_USER "nfvisor" /* tools/setup creates it (system user, no login) */

struct client {
	struct nfvd *d;
	int fd;
	char *buf;
	size_t len, cap;
	struct strbuf out;
	size_t out_off;
	bool close_after; /* close once @out is flushed */
	uint64_t last_ms; /* last byte received or sent */
};

static struct client *clients[NFVD_MAX_CLIENTS];

static void client_close(struct client *c)
{
	for (size_t i = 0; i < NFVD_MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	evloop_del(c->d->loop, c->fd);
	close(c->fd);
	free(c->buf);
	sb_reset(&c->out);
	free(c);
}

/* Write what we can; returns false when the client is gone. */
static bool client_flush(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (evloop_mod(c->d->loop, c->fd, EPOLLOUT) < 0)
				return false;
			return true;
		}
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	sb_reset(&c->out);
	c->out_off = 0;
	if (c->close_after)
		return false;
	return evloop_mod(c->d->loop, c->fd, EPOLLIN) == 0;
}

static void client_refuse(struct client *c, int status, const char *why)
{
	struct strbuf body = STRBUF_INIT;

	sb_append(&body, "{\"error\":");
	sb_json_str(&body, why ? why : http_reason(status));
	sb_append(&body, "}\n");
	http_response(&c->out, status, "application/json", sb_str(&body), body.len, true);
	sb_reset(&body);
	c->close_after = true;
}

static void client_process(struct client *c)
{
	while (!c->close_after && c->len) {
		struct http_req req;
		const char *why = NULL;
		long n = http_parse_request(c->buf, c->len, &req, &why);

		if (n == 0)
			break;
		if (n < 0) {
			client_refuse(c, (int)-n, why);
			break;
		}
		nfvd_api_handle(c->d, &req, &c->out);
		if (req.close)
			c->close_after = true;
		memmove(c->buf, c->buf + n, c->len - (size_t)n);
		c->len -= (size_t)n;
	}
}

static void on_client(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct client *c = opaque;

	(void)loop;
	(void)fd;
	c->last_ms = clock_ms();
	if (events & EPOLLOUT) {
		if (!client_flush(c))
			client_close(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n;

		if (c->cap - c->len < 4096) {
			size_t ncap = c->cap ? c->cap * 2 : 16384;
			char *nb;

			if (ncap > CLIENT_BUF_MAX)
				ncap = CLIENT_BUF_MAX;
			if (ncap <= c->len) {
				client_refuse(c, 413, "request too large");
				if (!client_flush(c))
					client_close(c);
				return;
			}
			nb = realloc(c->buf, ncap);
			if (!nb) {
				client_close(c);
				return;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->len += (size_t)n;
		client_process(c);
		if (c->out.len && !client_flush(c))
			client_close(c);
	}
}

static void on_accept(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct nfvd *d = opaque;
	struct client *c;
	int cfd;
	size_t slot;

	(void)events;
	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	for (slot = 0; slot < NFVD_MAX_CLIENTS && clients[slot]; slot++)
		;
	c = slot < NFVD_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		log_rl(LOGL_WARN, "API: too many clients, refusing a connection");
		close(cfd);
		return;
	}
	c->d = d;
	c->fd = cfd;
	c->last_ms = clock_ms();
	if (evloop_add(loop, cfd, EPOLLIN, on_client, c) < 0) {
		close(cfd);
		free(c);
		return;
	}
	clients[slot] = c;
}

static void on_tick(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct nfvd *d = opaque;
	uint64_t n, now = clock_ms();

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	nfvd_switch_check(d);
	for (size_t i = 0; i < NFVD_MAX_CLIENTS; i++) {
		if (clients[i] && now - clients[i]->last_ms > CLIENT_IDLE_MS) {
			log_rl(LOGL_INFO, "API: closing a connection idle for %d s",
			       CLIENT_IDLE_MS / 1000);
			client_close(clients[i]);
		}
	}
}

static void on_signal(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)opaque;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("signal %u: exiting (running domains keep running)", si.ssi_signo);
			evloop_stop(loop);
		}
	}
}

static int listen_api(struct nfvd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(d->cfg.socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, d->cfg.socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(d->cfg.socket_path);
	{
		/* create the socket with its final mode: no window where others may connect */
		mode_t old = umask(0177);
		int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

		umask(old);
		if (r < 0) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	if (d->cfg.socket_gid != (gid_t)-1 &&
	    (chown(d->cfg.socket_path, (uid_t)-1, d->cfg.socket_gid) < 0 ||
	     chmod(d->cfg.socket_path, 0660) < 0)) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (listen(fd, 16) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: nfvd [options]\n"
		"  --state-dir DIR     definitions, runtime records, logs (default "
		"/var/lib/nfvisor)\n"
		"  --run-dir DIR       sockets and live XML (default /run/nfvisor)\n"
		"  --socket PATH       API socket (default RUN_DIR/nfvd.sock)\n"
		"  --socket-group GRP  make the API socket 0660 for this group (default 0600)\n"
		"  --switch-socket P   nfv-switch control socket (default RUN_DIR/switch.sock)\n"
		"  --vmm PATH          nfv-vmm binary (default: next to nfvd, else "
		"/usr/bin/nfv-vmm)\n"
		"  --network NAME=nfv-switch | NAME=ovs:BRIDGE[,db=DB]\n"
		"                      backend of <source bridge|network='NAME'> (repeatable; "
		"default nfv-switch);\n"
		"                      ovs: ports of OVS-DPDK bridge BRIDGE through ovs-vsctl "
		"[--db=DB]\n"
		"  --no-autostart      do not start autostart domains\n"
		"  --log-level LEVEL   err, warn, info (default), debug\n"
		"  --sysfs-root DIR    read PCI/SR-IOV sysfs below DIR instead of /sys (tests)\n"
		"  --vmm-user USER[:GROUP] | UID:GID | none\n"
		"                      nfv-vmm drops to this user after set-up (default "
		"'" DEFAULT_VMM_USER "' when it\n"
		"                      exists and nfvd runs as root; none: nfv-vmm keeps nfvd's "
		"user)\n"
		"  -h, --help\n");
}

/*
 * --vmm-user: NAME[:GROUP] (the user's primary group unless GROUP is given), UID:GID, or none.
 * Without the option a root nfvd uses DEFAULT_VMM_USER when that user exists, so the default
 * installation runs every nfv-vmm unprivileged; uid/gid 0 is refused (nfv-vmm would refuse it
 * too, but only at the first start).
 */
static int resolve_vmm_user(struct nfvd_cfg *cfg, const char *spec)
{
	char name[256], *colon;
	const struct passwd *pw;
	unsigned long uid, gid;
	char *end;

	cfg->vmm_drop = false;
	if (!spec) {
		if (geteuid() != 0)
			return 0; /* nfv-vmm runs as nfvd's own (unprivileged) user */
		pw = getpwnam(DEFAULT_VMM_USER);
		if (!pw) {
			log_warn("no user '" DEFAULT_VMM_USER "': nfv-vmm runs as root (create it, "
				 "as tools/setup does, or pass --vmm-user)");
			return 0;
		}
		spec = DEFAULT_VMM_USER;
	}
	if (!strcmp(spec, "none"))
		return 0;
	if (snprintf(name, sizeof(name), "%s", spec) >= (int)sizeof(name)) {
		log_err("--vmm-user: '%s' is too long", spec);
		return -EINVAL;
	}
	colon = strchr(name, ':');
	if (colon)
		*colon++ = '\0';
	errno = 0;
	uid = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && !*end && !errno && uid < UINT32_MAX) {
		if (!colon) {
			log_err("--vmm-user %s: a numeric user needs a group (UID:GID)", spec);
			return -EINVAL;
		}
		cfg->vmm_uid = (uid_t)uid;
		cfg->vmm_gid = (gid_t)-1;
	} else {
		pw = getpwnam(name);
		if (!pw) {
			log_err("--vmm-user %s: no user '%s'", spec, name);
			return -EINVAL;
		}
		cfg->vmm_uid = pw->pw_uid;
		cfg->vmm_gid = pw->pw_gid;
	}
	if (colon) {
		const struct group *g;

		errno = 0;
		gid = strtoul(colon, &end, 10);
		if (colon[0] >= '0' && colon[0] <= '9' && !*end && !errno && gid < UINT32_MAX) {
			cfg->vmm_gid = (gid_t)gid;
		} else if ((g = getgrnam(colon))) {
			cfg->vmm_gid = g->gr_gid;
		} else {
			log_err("--vmm-user %s: no group '%s'", spec, colon);
			return -EINVAL;
		}
	}
	if (cfg->vmm_uid == 0 || cfg->vmm_gid == 0) {
		log_err("--vmm-user %s: uid and gid must not be 0 (use 'none' to keep nfvd's user)",
			spec);
		return -EINVAL;
	}
	cfg->vmm_drop = true;
	log_info("nfv-vmm runs as uid %u gid %u after set-up (--vmm-user %s)",
		 (unsigned)cfg->vmm_uid, (unsigned)cfg->vmm_gid, spec);
	return 0;
}

/* May the VMM user search @dir (the x bit that applies to it)? */
static bool vmm_can_search(const struct nfvd_cfg *cfg, const struct stat *st)
{
	if (st->st_uid == cfg->vmm_uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == cfg->vmm_gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/*
 * A dropped nfv-vmm reconnects to its switch sockets in the run directory: every directory on
 * the way there must be searchable by its user, or the first switch restart cuts the guest off
 * for good. Say so at start rather than then.
 */
static void check_run_dir_reach(const struct nfvd_cfg *cfg)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if (!realpath(cfg->run_dir, path))
		return;
	for (;;) {
		if (stat(path[0] ? path : "/", &st) == 0 && !vmm_can_search(cfg, &st))
			log_warn("%s is not searchable by nfv-vmm's user (uid %u gid %u): vhost-user "
				 "reconnects after a switch restart will fail (chmod o+x or "
				 "--vmm-user none)",
				 path[0] ? path : "/", (unsigned)cfg->vmm_uid,
				 (unsigned)cfg->vmm_gid);
		slash = strrchr(path, '/');
		if (!slash || !path[0])
			break;
		*slash = '\0';
	}
}

static char *default_vmm(void)
{
	char self[4096], *slash, *p = NULL;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			/* build tree: build/mgmt/nfvd next to build/vmm/nfv-vmm */
			if (asprintf(&p, "%s/nfv-vmm", self) >= 0 && access(p, X_OK) == 0)
				return p;
			free(p);
			if (asprintf(&p, "%s/../vmm/nfv-vmm", self) >= 0 && access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return strdup("/usr/bin/nfv-vmm");
}

int main(int argc, char **argv)
{
	enum {
		O_STATE = 256,
		O_RUN,
		O_SOCKET,
		O_GROUP,
		O_SWITCH,
		O_VMM,
		O_NOAUTO,
		O_LOGLEVEL,
		O_NETWORK,
		O_SYSFS,
		O_VMMUSER
	};
	static const struct option opts[] = {
		{"state-dir", required_argument, NULL, O_STATE},
		{"run-dir", required_argument, NULL, O_RUN},
		{"socket", required_argument, NULL, O_SOCKET},
		{"socket-group", required_argument, NULL, O_GROUP},
		{"switch-socket", required_argument, NULL, O_SWITCH},
		{"vmm", required_argument, NULL, O_VMM},
		{"network", required_argument, NULL, O_NETWORK},
		{"no-autostart", no_argument, NULL, O_NOAUTO},
		{"log-level", required_argument, NULL, O_LOGLEVEL},
		{"sysfs-root", required_argument, NULL, O_SYSFS},
		{"vmm-user", required_argument, NULL, O_VMMUSER},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct nfvd d = {.listen_fd = -1};
	_cleanup_free_ struct ovs_network *networks =
		NULL; /* d.cfg.networks, freed on any return */
	char *sock = NULL, *swsock = NULL, *vmm = NULL;
	const char *vmm_user = NULL;
	int opt, sfd = -1, tfd = -1, r, ret = 1;
	sigset_t mask;

	log_set_ident("nfvd");
	d.cfg.state_dir = "/var/lib/nfvisor";
	d.cfg.run_dir = "/run/nfvisor";
	d.cfg.socket_gid = (gid_t)-1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case O_STATE:
			d.cfg.state_dir = optarg;
			break;
		case O_RUN:
			d.cfg.run_dir = optarg;
			break;
		case O_SOCKET:
			d.cfg.socket_path = optarg;
			break;
		case O_GROUP: {
			struct group *g = getgrnam(optarg);

			if (!g) {
				log_err("--socket-group: no group '%s'", optarg);
				return 2;
			}
			d.cfg.socket_gid = g->gr_gid;
			break;
		}
		case O_SWITCH:
			d.cfg.switch_socket = optarg;
			break;
		case O_VMM:
			d.cfg.vmm_path = optarg;
			break;
		case O_NETWORK: {
			struct ovs_network net, *nn;
			char e[256];

			if (ovs_network_parse(optarg, &net, e, sizeof(e)) < 0) {
				log_err("--network %s", e);
				return 2;
			}
			for (size_t i = 0; i < d.cfg.n_networks; i++) {
				if (!strcmp(networks[i].name, net.name)) {
					log_err("--network: '%s' given twice", net.name);
					return 2;
				}
			}
			nn = realloc(networks, (d.cfg.n_networks + 1) * sizeof(*nn));
			if (!nn)
				return 1;
			nn[d.cfg.n_networks++] = net;
			networks = nn;
			d.cfg.networks = nn;
			break;
		}
		case O_NOAUTO:
			d.cfg.no_autostart = true;
			break;
		case O_SYSFS:
			d.cfg.sysfs_root = optarg;
			break;
		case O_VMMUSER:
			vmm_user = optarg;
			break;
		case O_LOGLEVEL: {
			enum log_level l;

			if (log_level_parse(optarg, &l) < 0) {
				log_err("--log-level: '%s' is not err, warn, info or debug",
					optarg);
				return 2;
			}
			log_set_level(l);
			break;
		}
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	if (!d.cfg.socket_path) {
		if (asprintf(&sock, "%s/nfvd.sock", d.cfg.run_dir) < 0)
			return 1;
		d.cfg.socket_path = sock;
	}
	if (!d.cfg.switch_socket) {
		if (asprintf(&swsock, "%s/switch.sock", d.cfg.run_dir) < 0)
			return 1;
		d.cfg.switch_socket = swsock;
	}
	if (!d.cfg.vmm_path) {
		vmm = default_vmm();
		d.cfg.vmm_path = vmm;
	}
	if (resolve_vmm_user(&d.cfg, vmm_user) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if ((r = evloop_create(&d.loop)) < 0) {
		log_err("evloop: %s", strerror(-r));
		goto out;
	}
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || evloop_add(d.loop, sfd, EPOLLIN, on_signal, NULL) < 0) {
		log_err("signalfd: %s", strerror(errno));
		goto out;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd < 0 ||
	    timerfd_settime(
		    tfd, 0,
		    &(struct itimerspec){.it_interval = {.tv_sec = 1}, .it_value = {.tv_sec = 1}},
		    NULL) < 0 ||
	    evloop_add(d.loop, tfd, EPOLLIN, on_tick, &d) < 0) {
		log_err("timerfd: %s", strerror(errno));
		goto out;
	}
	if (nfvd_state_init(&d) < 0)
		goto out;
	if (d.cfg.vmm_drop)
		check_run_dir_reach(&d.cfg);
	d.listen_fd = listen_api(&d);
	if (d.listen_fd < 0) {
		log_err("cannot listen on %s: %s", d.cfg.socket_path, strerror(-d.listen_fd));
		goto out;
	}
	if (evloop_add(d.loop, d.listen_fd, EPOLLIN, on_accept, &d) < 0)
		goto out;
	log_info("listening on %s (state %s, run %s, vmm %s, switch %s)", d.cfg.socket_path,
		 d.cfg.state_dir, d.cfg.run_dir, d.cfg.vmm_path, d.cfg.switch_socket);
	for (size_t i = 0; i < d.cfg.n_networks; i++) {
		const struct ovs_network *n = &d.cfg.networks[i];

		if (n->ovs)
			log_info("network '%s': OVS bridge '%s'%s%s", n->name, n->target.bridge,
				 n->target.db[0] ? " at " : "", n->target.db);
		else
			log_info("network '%s': nfv-switch", n->name);
	}
	r = evloop_run(d.loop, -1);
	ret = r < 0 ? 1 : 0;
out:
	for (size_t i = 0; i < NFVD_MAX_CLIENTS; i++)
		if (clients[i])
			client_close(clients[i]);
	if (d.listen_fd >= 0) {
		evloop_del(d.loop, d.listen_fd);
		close(d.listen_fd);
		unlink(d.cfg.socket_path);
	}
	nfvd_state_fini(&d);
	nfvd_vf_fini(&d);
	if (sfd >= 0) {
		if (d.loop)
			evloop_del(d.loop, sfd);
		close(sfd);
	}
	if (tfd >= 0) {
		if (d.loop)
			evloop_del(d.loop, tfd);
		close(tfd);
	}
	evloop_destroy(d.loop);
	free(sock);
	free(swsock);
	free(vmm);
	return ret;
}
