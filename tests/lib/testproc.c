// SPDX-License-Identifier: GPL-2.0-only
/* Helper processes of the C tests (see testproc.h). */
#include "testproc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TAIL_BYTES 3000
#define POLL_US 10000

/* Different each start: DPDK keeps per-prefix state in /var/run/dpdk. */
static unsigned serial;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Any helper process ---- */

static void print_tail_fd(int fd, const char *label, size_t bytes)
{
	char buf[4096];
	struct stat st;
	off_t off;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st))
		return;
	off = st.st_size > (off_t)bytes ? st.st_size - (off_t)bytes : 0;
	fprintf(stderr, "---- %s (tail) ----\n", label);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		fwrite(buf, 1, (size_t)n, stderr);
		off += n;
	}
	fprintf(stderr, "\n---- end of %s ----\n", label);
}

void tproc_print_tail(const char *path, size_t bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	print_tail_fd(fd, path, bytes);
	close(fd);
}

static void print_proc_tail(const struct tproc *p)
{
	char label[200];

	snprintf(label, sizeof(label), "%s output, %s", p->name, p->log[0] ? p->log : "not kept");
	print_tail_fd(p->log_fd, label, TAIL_BYTES);
}

/* Open the log: @wfd for the child, p->log_fd for us; p->log_off where this run's output starts. */
static int open_log(struct tproc *p, const char *log, int *wfd)
{
	struct stat st;

	if (log) {
		snprintf(p->log, sizeof(p->log), "%s", log);
		*wfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (*wfd < 0)
			return -errno;
		p->log_fd = open(log, O_RDONLY | O_CLOEXEC);
		if (p->log_fd < 0 || fstat(p->log_fd, &st))
			return -errno;
		p->log_off = (uint64_t)st.st_size;
		return 0;
	}
	/* Anonymous: unlinked at once, so nothing is left behind however the test ends. */
	{
		char tmpl[] = "/tmp/nfv-testproc-XXXXXX";

		*wfd = mkostemp(tmpl, O_CLOEXEC);
		if (*wfd < 0)
			return -errno;
		unlink(tmpl);
		p->log_fd = dup(*wfd);
		if (p->log_fd < 0)
			return -errno;
		if (fcntl(p->log_fd, F_SETFD, FD_CLOEXEC))
			return -errno;
		p->log[0] = '\0';
		p->log_off = 0;
		return 0;
	}
}

static void reset(struct tproc *p)
{
	if (p->in >= 0)
		close(p->in);
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->pid = -1;
	p->reaped = false;
	p->in = -1;
	p->log_fd = -1;
}

int tproc_start(struct tproc *p, const struct tproc_cfg *cfg)
{
	const char *name = cfg->name ? cfg->name : cfg->argv[0];
	int in[2] = { -1, -1 }, wfd = -1, ret;
	pid_t parent = getpid();

	p->pid = -1;
	p->reaped = false;
	p->status = -1;
	p->in = p->log_fd = -1;
	p->total = 0;
	p->len = 0;
	p->buf[0] = '\0';
	snprintf(p->name, sizeof(p->name), "%s", name);
	ret = open_log(p, cfg->log, &wfd);
	if (!ret && cfg->stdin_pipe && pipe2(in, O_CLOEXEC))
		ret = -errno;
	if (!ret) {
		p->pid = fork();
		if (p->pid < 0)
			ret = -errno;
	}
	if (ret) {
		fprintf(stderr, "testproc: cannot start %s: %s\n", name, strerror(-ret));
		if (wfd >= 0)
			close(wfd);
		if (in[0] >= 0) {
			close(in[0]);
			close(in[1]);
		}
		reset(p);
		return ret;
	}
	if (p->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* Own group: a terminal's ^C reaches the test, which stops its helpers itself. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		dup2(cfg->stdin_pipe ? in[0] : null, 0);
		dup2(wfd, 1);
		dup2(wfd, 2);
		execvp(cfg->argv[0], (char *const *)cfg->argv);
		dprintf(2, "testproc: cannot run %s: %s\n", cfg->argv[0], strerror(errno));
		_exit(127);
	}
	/* Also here: signals to the group must not race with the child's own setpgid. */
	setpgid(p->pid, p->pid);
	close(wfd);
	if (cfg->stdin_pipe) {
		close(in[0]);
		p->in = in[1];
	}
	return 0;
}

bool tproc_exited(struct tproc *p)
{
	int st;
	pid_t r;

	if (p->pid <= 0)
		return false;
	if (p->reaped)
		return true;
	r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->reaped = true;
		p->status = r == p->pid ? st : -1;
		return true;
	}
	return false;
}

void tproc_pull(struct tproc *p)
{
	for (;;) {
		ssize_t n;

		if (p->log_fd < 0)
			return;
		if (p->len >= sizeof(p->buf) - 1) {
			/* Keep the newer half. */
			size_t drop = p->len / 2;

			memmove(p->buf, p->buf + drop, p->len - drop);
			p->len -= drop;
		}
		n = pread(p->log_fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len,
			  (off_t)p->log_off);
		if (n <= 0)
			break;
		p->len += (size_t)n;
		p->total += (uint64_t)n;
		p->log_off += (uint64_t)n;
	}
	p->buf[p->len] = '\0';
}

const char *tproc_output(const struct tproc *p, uint64_t from)
{
	uint64_t first = p->total - p->len;

	if (from < first)
		from = first;
	if (from > p->total)
		from = p->total;
	return p->buf + (from - first);
}

static void describe_exit(const struct tproc *p, char *buf, size_t len)
{
	if (p->status < 0)
		snprintf(buf, len, "exited");
	else if (WIFEXITED(p->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(p->status));
	else if (WIFSIGNALED(p->status))
		snprintf(buf, len, "was killed by signal %d", WTERMSIG(p->status));
	else
		snprintf(buf, len, "exited (wait status %#x)", p->status);
}

/* One failure message for every wait: what was awaited from whom, why it failed, its log. */
static int wait_failed(struct tproc *p, int err, const char *what, int timeout_ms)
{
	char why[64];

	if (err == -ESRCH)
		describe_exit(p, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "not within %d ms", timeout_ms);
	fprintf(stderr, "testproc: waiting for %s from %s (pid %d): %s\n", what, p->name,
		(int)p->pid, why);
	print_proc_tail(p);
	return err;
}

int tproc_wait_log(struct tproc *p, uint64_t from, const char *pat, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char what[160];

	if (p->pid <= 0)
		return -ESRCH;
	for (;;) {
		bool gone = tproc_exited(p);

		tproc_pull(p);
		if (strstr(tproc_output(p, from), pat))
			return 0;
		if (gone || now_ms() >= end)
			break;
		usleep(POLL_US);
	}
	snprintf(what, sizeof(what), "\"%s\" in its output", pat);
	return wait_failed(p, tproc_exited(p) ? -ESRCH : -ETIMEDOUT, what, timeout_ms);
}

/* Poll @ready(@arg) until true, @p exits or @timeout_ms pass. */
static int wait_until(struct tproc *p, bool (*ready)(const char *), const char *arg,
		      const char *what, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	if (p->pid <= 0)
		return -ESRCH;
	for (;;) {
		if (ready(arg))
			return 0;
		if (tproc_exited(p))
			return wait_failed(p, -ESRCH, what, timeout_ms);
		if (now_ms() >= end)
			return wait_failed(p, -ETIMEDOUT, what, timeout_ms);
		usleep(POLL_US);
	}
}

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static bool accepts(const char *path)
{
	int fd = unix_connect(path);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int tproc_wait_path(struct tproc *p, const char *path, int timeout_ms)
{
	char what[200];

	snprintf(what, sizeof(what), "%s to appear", path);
	return wait_until(p, path_exists, path, what, timeout_ms);
}

int tproc_wait_connect(struct tproc *p, const char *path, int timeout_ms)
{
	char what[200];

	snprintf(what, sizeof(what), "%s to accept connections", path);
	return wait_until(p, accepts, path, what, timeout_ms);
}

int tproc_send(struct tproc *p, const char *s)
{
	size_t len = strlen(s), done = 0;
	sigset_t pipe_sig, old;
	int ret = 0;

	if (p->in < 0)
		return -EBADF;
	/*
	 * A helper that died closes the pipe: that must be -EPIPE here, not a SIGPIPE that ends
	 * the test. Blocked for this thread only, and a SIGPIPE we caused is taken back.
	 */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
	while (done < len) {
		ssize_t n = write(p->in, s + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (ret == -EPIPE && !sigismember(&old, SIGPIPE)) {
		struct timespec zero = { 0 };

		(void)sigtimedwait(&pipe_sig, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/*
 * Signal @target (a pid, or -pgid), wait up to @timeout_ms for @pid to exit, then SIGKILL @target
 * and reap. Returns 0, or -ETIMEDOUT when it had to be killed; *status gets the wait status.
 */
static int reap(pid_t pid, pid_t target, int sig, int timeout_ms, int *status)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	*status = -1;
	if (sig)
		kill(target, sig);
	/* A stopped process acts on nothing else. */
	kill(target, SIGCONT);
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR)) /* gone, or not (any longer) our child */
			return 0;
		if (now_ms() >= end)
			break;
		usleep(POLL_US);
	}
	kill(target, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

int tproc_stop(struct tproc *p, int sig, int timeout_ms)
{
	int ret = 0;

	/* First, so that a helper waiting for the end of its input sees it. */
	if (p->in >= 0) {
		close(p->in);
		p->in = -1;
	}
	if (p->pid > 0 && !p->reaped)
		ret = reap(p->pid, -p->pid, sig, timeout_ms, &p->status);
	reset(p);
	return ret;
}

void tproc_reap_pid(pid_t pid, int sig, int timeout_ms)
{
	int status;

	if (pid > 0)
		(void)reap(pid, pid, sig, timeout_ms, &status);
}

int tproc_run(const char *const *argv, const char *log)
{
	struct tproc *p = calloc(1, sizeof(*p));
	struct tproc_cfg cfg = { .argv = argv, .log = log };
	int ret;

	if (!p)
		return -ENOMEM;
	ret = tproc_start(p, &cfg);
	if (ret) {
		free(p);
		return ret;
	}
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->reaped = true;
	if (!WIFEXITED(p->status) || WEXITSTATUS(p->status)) {
		char why[64];

		describe_exit(p, why, sizeof(why));
		fprintf(stderr, "testproc: command failed: %s %s ... %s\n", argv[0],
			argv[1] ? argv[1] : "", why);
		print_proc_tail(p);
		ret = -EIO;
	}
	reset(p);
	free(p);
	return ret;
}

/* ---- DPDK programs ---- */

/*
 * @bin and its EAL options at argv[n] (10 to 12 entries): no hugepages, no PCI scan (vdevs only),
 * @mem MB, its own --file-prefix (runtime dir), lcore map @lcores. Returns the new n.
 */
static unsigned eal_args(const char **argv, unsigned n, const char *bin, const char *mem,
			 const char *prefix, const char *lcores, const char *log_level)
{
	argv[n++] = bin;
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "--file-prefix";
	argv[n++] = prefix;
	argv[n++] = "--lcores";
	argv[n++] = lcores;
	if (log_level) {
		argv[n++] = "--log-level";
		argv[n++] = log_level;
	}
	return n;
}

/* ---- dpdk-testpmd ---- */

int tp_start_cfg(struct testpmd *tp, const struct tp_cfg *cfg)
{
	char prefix[64], fwd[64], mbufs[48];
	const char *argv[48];
	struct tproc_cfg pc = { .name = "dpdk-testpmd", .argv = argv, .log = cfg->log,
				.stdin_pipe = true };
	unsigned n = 0;

	if (cfg->nvdev > 4 || cfg->nextra > 8)
		return -EINVAL;
	if (cfg->prefix)
		snprintf(prefix, sizeof(prefix), "%s", cfg->prefix);
	else
		snprintf(prefix, sizeof(prefix), "nfvctp%d-%u", (int)getpid(), serial++);
	snprintf(fwd, sizeof(fwd), "--forward-mode=%s", cfg->fwd);
	snprintf(mbufs, sizeof(mbufs), "--total-num-mbufs=%u", cfg->mbufs);
	/* Its stdout is a file: unbuffered, so that prompts and stats arrive when printed. */
	argv[n++] = "stdbuf";
	argv[n++] = "-o0";
	n = eal_args(argv, n, cfg->bin, "256", prefix, cfg->lcores, cfg->log_level);
	for (unsigned i = 0; i < cfg->nvdev; i++) {
		argv[n++] = "--vdev";
		argv[n++] = cfg->vdevs[i];
	}
	argv[n++] = "--";
	argv[n++] = cfg->interactive ? "-i" : "--auto-start";
	if (cfg->loop)
		argv[n++] = "--port-topology=loop";
	argv[n++] = fwd;
	argv[n++] = mbufs;
	for (unsigned i = 0; i < cfg->nextra; i++)
		argv[n++] = cfg->extra[i];
	argv[n] = NULL;
	tp->interactive = cfg->interactive;
	return tproc_start(&tp->proc, &pc);
}

int tp_start_ex(struct testpmd *tp, const char *bin, const char *lcores, const char *const *vdevs,
		unsigned nvdev, const char *fwd, const char *const *extra, unsigned nextra)
{
	struct tp_cfg c = {
		.bin = bin, .lcores = lcores, .vdevs = vdevs, .nvdev = nvdev, .fwd = fwd,
		.interactive = true, .loop = true, .mbufs = 8192, .log_level = "lib.vhost.*:notice",
		.extra = extra, .nextra = nextra,
	};

	return tp_start_cfg(tp, &c);
}

int tp_start(struct testpmd *tp, const char *bin, const char *sock, bool client, const char *fwd)
{
	char vdev[256];
	const char *v[1] = { vdev };

	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1,client=%d", sock, client);
	return tp_start_ex(tp, bin, "0@0,1@0", v, 1, fwd, NULL, 0);
}

bool tp_wait(struct testpmd *tp, uint64_t from, const char *pat, int timeout_ms)
{
	return tproc_wait_log(&tp->proc, from, pat, timeout_ms) == 0;
}

bool tp_cmd(struct testpmd *tp, const char *cmd, const char *pat, int timeout_ms)
{
	uint64_t from;

	/* What it printed before the command is not its answer. */
	tproc_pull(&tp->proc);
	from = tp->proc.total;
	if (tproc_send(&tp->proc, cmd)) {
		fprintf(stderr, "testproc: cannot send \"%s\" to %s\n", cmd, tp->proc.name);
		return false;
	}
	return tp_wait(tp, from, pat, timeout_ms);
}

bool tp_port_stats(struct testpmd *tp, unsigned port, uint64_t *rx, uint64_t *tx)
{
	char cmd[64];
	const char *s;
	uint64_t from;

	tproc_pull(&tp->proc);
	from = tp->proc.total;
	snprintf(cmd, sizeof(cmd), "show port stats %u\n", port);
	if (!tp_cmd(tp, cmd, "Tx-bps", 15000))
		return false;
	s = strstr(tproc_output(&tp->proc, from), "RX-packets:");
	if (!s || sscanf(s, "RX-packets: %lu", rx) != 1)
		return false;
	s = strstr(s, "TX-packets:");
	return s && sscanf(s, "TX-packets: %lu", tx) == 1;
}

bool tp_stats(struct testpmd *tp, uint64_t *rx, uint64_t *tx)
{
	for (int i = 0; i < 10; i++) {
		if (!tp_port_stats(tp, 0, rx, tx))
			return false;
		if (*rx == *tx)
			return true;
		usleep(100 * 1000);
	}
	return true;
}

bool tp_ready(struct testpmd *tp)
{
	if (!tp_wait(tp, 0, "testpmd> ", 60000))
		return false;
	return tp_cmd(tp, "start\n", "testpmd> ", 15000);
}

void tp_kill(struct testpmd *tp)
{
	(void)tproc_stop(&tp->proc, SIGKILL, 5000);
}

void tp_quit(struct testpmd *tp, int timeout_ms)
{
	/* Interactive: the prompt's command. --auto-start: it waits for a newline on stdin. */
	const char *bye = tp->interactive ? "quit\n" : "\n";

	if (tp->proc.pid <= 0)
		return;
	if (tproc_send(&tp->proc, bye))
		timeout_ms = 0;
	(void)tproc_stop(&tp->proc, 0, timeout_ms);
}

/* ---- nfv-switch ---- */

int tsw_port_add_req(char *buf, size_t len, const char *name, const char *path, const char *extra)
{
	return snprintf(buf, len,
			"{\"cmd\":\"port-add\",\"name\":\"%s\",\"type\":\"vhost-user\","
			"\"path\":\"%s\",\"mode\":\"server\"%s}",
			name, path, extra ? extra : "");
}

static int write_config(const struct tsw_cfg *cfg)
{
	FILE *f = fopen(cfg->config, "w");
	char line[512];
	int ret = 0;

	if (!f)
		return -errno;
	for (unsigned i = 0; i < cfg->nports; i++) {
		tsw_port_add_req(line, sizeof(line), cfg->ports[i].name, cfg->ports[i].path,
				 ",\"queues\":1");
		fprintf(f, "%s\n", line);
	}
	if (ferror(f))
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int tsw_start(struct tproc *p, const struct tsw_cfg *cfg)
{
	char prefix[64], mem[16], mbufs[16];
	const char *argv[32];
	struct tproc_cfg pc = { .name = "nfv-switch", .argv = argv, .log = cfg->log };
	unsigned n = 0;
	int ret;

	if (cfg->config) {
		ret = write_config(cfg);
		if (ret) {
			fprintf(stderr, "testproc: cannot write %s: %s\n", cfg->config,
				strerror(-ret));
			return ret;
		}
	}
	if (cfg->prefix)
		snprintf(prefix, sizeof(prefix), "%s", cfg->prefix);
	else
		snprintf(prefix, sizeof(prefix), "nfvcsw%d-%u", (int)getpid(), serial++);
	snprintf(mem, sizeof(mem), "%u", cfg->mem_mb);
	snprintf(mbufs, sizeof(mbufs), "%u", cfg->mbufs);
	/* A stale socket file would answer nothing; the switch makes a new one. */
	unlink(cfg->ctl);
	n = eal_args(argv, n, cfg->bin, mem, prefix, cfg->lcores, cfg->log_level);
	argv[n++] = "--";
	argv[n++] = "--control";
	argv[n++] = cfg->ctl;
	if (cfg->config) {
		argv[n++] = "--config";
		argv[n++] = cfg->config;
	}
	argv[n++] = "--mbufs";
	argv[n++] = mbufs;
	argv[n] = NULL;
	ret = tproc_start(p, &pc);
	if (ret || cfg->wait_ms <= 0)
		return ret;
	ret = tproc_wait_connect(p, cfg->ctl, cfg->wait_ms);
	if (ret)
		(void)tproc_stop(p, SIGKILL, 5000);
	return ret;
}

void tsw_stop(struct tproc *p, int timeout_ms)
{
	(void)tproc_stop(p, SIGTERM, timeout_ms);
}

int tsw_ctl(const char *ctl, const char *req, char *resp, size_t len)
{
	size_t got = 0;
	int fd, ret = 0;

	if (!len)
		return -EINVAL;
	fd = unix_connect(ctl);
	if (fd < 0)
		return fd;
	if (write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0)
		ret = -errno;
	while (!ret && got + 1 < len) {
		ssize_t r = read(fd, resp + got, len - got - 1);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = '\0';
	close(fd);
	if (!ret && !got)
		ret = -EIO;
	return ret;
}

int tsw_port_add(const char *ctl, const char *name, const char *path, const char *extra)
{
	char req[512], resp[1024];
	int ret;

	tsw_port_add_req(req, sizeof(req), name, path, extra);
	ret = tsw_ctl(ctl, req, resp, sizeof(resp));
	if (ret) {
		fprintf(stderr, "testproc: %s: %s\n", req, strerror(-ret));
		return ret;
	}
	if (!strstr(resp, "\"ok\":true")) {
		fprintf(stderr, "testproc: %s: %s\n", req, resp);
		return -EPROTO;
	}
	return 0;
}

/* ---- OVS-DPDK ---- */

static const char ovs_schema[] = "/usr/share/openvswitch/vswitch.ovsschema";

const char *tovs_schema(void)
{
	return access(ovs_schema, R_OK) ? NULL : ovs_schema;
}

int tovs_vsctl(struct tovs *o, const char *const *args)
{
	const char *argv[20];
	unsigned n = 0;

	argv[n++] = "ovs-vsctl";
	argv[n++] = o->db;
	argv[n++] = "--timeout=60";
	for (unsigned i = 0; args[i]; i++) {
		if (n >= 19)
			return -E2BIG;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return tproc_run(argv, o->log);
}

int tovs_start(struct tovs *o, const struct tovs_cfg *cfg)
{
	char db[128], dbsock[160], remote[200], pid[160], log[160], extra[200], lcore[64], pmd[64];
	int ret;

	snprintf(o->dir, sizeof(o->dir), "%s", cfg->dir);
	snprintf(o->log, sizeof(o->log), "%s/commands.log", o->dir);
	snprintf(db, sizeof(db), "%s/conf.db", o->dir);
	snprintf(dbsock, sizeof(dbsock), "unix:%s/db.sock", o->dir);
	snprintf(o->db, sizeof(o->db), "--db=%s", dbsock);
	if (mkdir(o->dir, 0700)) {
		ret = -errno;
		fprintf(stderr, "testproc: %s: %s\n", o->dir, strerror(errno));
		return ret;
	}
	o->started = true;
	/* Every OVS program (and ovs-vsctl) finds its run, log and db dirs here, not in /var. */
	setenv("OVS_RUNDIR", o->dir, 1);
	setenv("OVS_LOGDIR", o->dir, 1);
	setenv("OVS_DBDIR", o->dir, 1);
	setenv("OVS_SYSCONFDIR", o->dir, 1);
	{
		const char *c[] = { "ovsdb-tool", "create", db, ovs_schema, NULL };

		ret = tproc_run(c, o->log);
		if (ret)
			return ret;
	}
	snprintf(remote, sizeof(remote), "--remote=p%s", dbsock);
	snprintf(pid, sizeof(pid), "--pidfile=%s/ovsdb.pid", o->dir);
	snprintf(log, sizeof(log), "--log-file=%s/ovsdb.log", o->dir);
	{
		const char *c[] = { "ovsdb-server", db, remote, pid, "--detach", log, NULL };

		ret = tproc_run(c, o->log);
		if (ret)
			return ret;
	}
	snprintf(extra, sizeof(extra),
		 "other_config:dpdk-extra=--no-huge --no-pci -m 3072 --legacy-mem --file-prefix=%s",
		 cfg->prefix);
	snprintf(lcore, sizeof(lcore), "other_config:dpdk-lcore-mask=%s", cfg->lcore_mask);
	snprintf(pmd, sizeof(pmd), "other_config:pmd-cpu-mask=%s", cfg->pmd_mask);
	{
		const char *init[] = { "--no-wait", "init", NULL };
		const char *set[] = { "--no-wait", "set", "Open_vSwitch", ".",
				      "other_config:dpdk-init=true", extra, lcore, pmd, NULL };

		ret = tovs_vsctl(o, init);
		if (!ret)
			ret = tovs_vsctl(o, set);
		if (ret)
			return ret;
	}
	snprintf(pid, sizeof(pid), "--pidfile=%s/vswitchd.pid", o->dir);
	snprintf(log, sizeof(log), "--log-file=%s/vswitchd.log", o->dir);
	{
		const char *c[] = { cfg->vswitchd, dbsock, pid, "--detach", log, NULL };
		const char *br[] = { "add-br", "br0", "--", "set", "bridge", "br0",
				     "datapath_type=netdev", NULL };

		ret = tproc_run(c, o->log);
		if (!ret)
			ret = tovs_vsctl(o, br);
	}
	return ret;
}

/* The daemons detached (their parent is not us): signal by pid file, wait for them to go. */
static void stop_pidfile(const struct tovs *o, const char *name)
{
	char p[128];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/%s", o->dir, name);
	f = fopen(p, "r");
	if (!f)
		return;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(100 * 1000);
	kill(pid, SIGKILL);
	unlink(p);
}

void tovs_stop(struct tovs *o, bool keep)
{
	if (!o->started)
		return;
	stop_pidfile(o, "vswitchd.pid");
	stop_pidfile(o, "ovsdb.pid");
	if (keep) {
		fprintf(stderr, "OVS logs in %s\n", o->dir);
	} else {
		const char *rm[] = { "rm", "-rf", o->dir, NULL };

		(void)!tproc_run(rm, NULL);
	}
	o->started = false;
}
