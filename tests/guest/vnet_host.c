// SPDX-License-Identifier: GPL-2.0-only
/* Host-side helpers of the virtio-net guest tests (see vnet_host.h). */
#include "vnet_host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TRACK 8

static char host_dir[64];
static bool host_ok, switch_started_once;
static struct vnet_switch *switches[MAX_TRACK];
static struct vnet_testpmd *testpmds[MAX_TRACK];
static struct vmm_proc *vmms[MAX_TRACK];
static char logs[MAX_TRACK][128];
static unsigned nlogs;

static void track(void **arr, void *p)
{
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (arr[i] == p)
			return;
	}
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (!arr[i]) {
			arr[i] = p;
			return;
		}
	}
}

static void untrack(void **arr, void *p)
{
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (arr[i] == p)
			arr[i] = NULL;
	}
}

static void add_log(const char *path)
{
	for (unsigned i = 0; i < nlogs; i++) {
		if (!strcmp(logs[i], path))
			return;
	}
	if (nlogs < MAX_TRACK)
		snprintf(logs[nlogs++], sizeof(logs[0]), "%s", path);
}

static void print_tail(const char *path, long bytes)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return;
	fprintf(stderr, "---- %s (tail) ----\n", path);
	fseek(f, 0, SEEK_END);
	if (ftell(f) > bytes)
		fseek(f, -bytes, SEEK_END);
	else
		fseek(f, 0, SEEK_SET);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

static void reap(pid_t pid, int sig, int timeout_s)
{
	for (int i = 0; i < timeout_s * 20; i++) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || r < 0) /* gone, or not (any longer) our child */
			return;
		if (i == 0)
			kill(pid, sig);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

void vnet_host_cleanup(void)
{
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (vmms[i] && vmms[i]->status < 0 && vmms[i]->pid > 0)
			reap(vmms[i]->pid, SIGKILL, 5);
		vmms[i] = NULL;
	}
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (switches[i] && switches[i]->pid > 0)
			reap(switches[i]->pid, SIGKILL, 5);
		switches[i] = NULL;
	}
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (testpmds[i] && testpmds[i]->pid > 0)
			reap(testpmds[i]->pid, SIGKILL, 5);
		testpmds[i] = NULL;
	}
	if (!host_ok) {
		for (unsigned i = 0; i < nlogs; i++)
			print_tail(logs[i], 3000);
	}
	for (unsigned i = 0; i < nlogs; i++)
		unlink(logs[i]);
	nlogs = 0;
	if (host_dir[0]) {
		char cmd[256];

		/* sockets the backends left behind, and DPDK's runtime directories */
		snprintf(cmd, sizeof(cmd),
			 "rm -rf '%s' /var/run/dpdk/nfvvnet%d /var/run/dpdk/nfvvnettp%d", host_dir,
			 (int)getpid(), (int)getpid());
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", host_dir);
		host_dir[0] = '\0';
	}
}

static void on_term(int sig)
{
	(void)sig;
	exit(1); /* runs vnet_host_cleanup */
}

void vnet_host_init(const char *dir)
{
	snprintf(host_dir, sizeof(host_dir), "%s", dir);
	atexit(vnet_host_cleanup);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
}

void vnet_host_ok(void)
{
	host_ok = true;
}

void vnet_track_vmm(struct vmm_proc *p)
{
	track((void **)vmms, p);
}

void vnet_untrack_vmm(struct vmm_proc *p)
{
	untrack((void **)vmms, p);
}

static pid_t spawn(const char *const *argv, const char *log, int *in_fd)
{
	int in[2] = {-1, -1};
	pid_t pid;

	if (in_fd && pipe2(in, O_CLOEXEC) < 0) {
		perror("pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (in_fd)
			dup2(in[0], 0);
		else
			close(0);
		setpgid(0, 0); /* a terminal's ^C reaches us, not the DPDK process directly */
		execv(argv[0], (char *const *)argv);
		perror(argv[0]);
		_exit(127);
	}
	if (in_fd) {
		close(in[0]);
		*in_fd = in[1];
	}
	add_log(log);
	return pid;
}

static bool wait_path(const char *path, pid_t pid, int timeout_s)
{
	struct stat st;

	for (int i = 0; i < timeout_s * 20; i++) {
		if (!stat(path, &st))
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		usleep(50000);
	}
	return false;
}

/* The control socket accepts connections (it exists a moment before it listens). */
static bool wait_ctl(const char *path, pid_t pid, int timeout_s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < timeout_s * 20; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

		if (fd >= 0)
			close(fd);
		if (ok)
			return true;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return false;
		usleep(50000);
	}
	return false;
}

void vnet_switch_start(struct vnet_switch *sw, const char *bin, const char *dir)
{
	char prefix[64];
	const char *argv[32];
	int n = 0;

	snprintf(sw->ctl, sizeof(sw->ctl), "%s/switch.sock", dir);
	snprintf(sw->log, sizeof(sw->log), "%s/switch.log", dir);
	snprintf(prefix, sizeof(prefix), "nfvvnet%d", (int)getpid());
	unlink(sw->ctl);
	argv[n++] = bin;
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = "512";
	argv[n++] = "--file-prefix";
	argv[n++] = prefix;
	argv[n++] = "-l";
	argv[n++] = "0,1";
	argv[n++] = "--log-level=lib.vhost.*:warning";
	argv[n++] = "--";
	argv[n++] = "--control";
	argv[n++] = sw->ctl;
	argv[n++] = "--mbufs";
	argv[n++] = "8191";
	argv[n] = NULL;
	fprintf(stderr, "+ %s ... --control %s (log %s)\n", bin, sw->ctl, sw->log);
	sw->pid = spawn(argv, sw->log, NULL);
	track((void **)switches, sw);
	if (!wait_ctl(sw->ctl, sw->pid, 30)) {
		if (!switch_started_once) {
			print_tail(sw->log, 2000);
			host_ok = true; /* a skip, not a failure: no second copy of the log */
			host_skip("nfv-switch did not start here (DPDK cannot run?)");
		}
		host_fail(NULL, __FILE__, __LINE__, "switch start",
			  "nfv-switch did not start again");
	}
	switch_started_once = true;
}

void vnet_switch_kill(struct vnet_switch *sw)
{
	if (sw->pid > 0)
		reap(sw->pid, SIGKILL, 5);
	sw->pid = 0;
	untrack((void **)switches, sw);
}

void vnet_switch_stop(struct vnet_switch *sw)
{
	if (sw->pid > 0)
		reap(sw->pid, SIGTERM, 20);
	sw->pid = 0;
	untrack((void **)switches, sw);
}

void vnet_switch_ctl(struct vnet_switch *sw, const char *req, char *resp, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sw->ctl);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0)
		host_fail(NULL, __FILE__, __LINE__, req, "switch control: %s", strerror(errno));
	while (got + 1 < len) {
		ssize_t r = read(fd, resp + got, len - got - 1);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = '\0';
	close(fd);
	if (!got)
		host_fail(NULL, __FILE__, __LINE__, req, "no answer from the switch");
}

void vnet_switch_port_add(struct vnet_switch *sw, const char *name, const char *path,
			  const char *extra)
{
	char req[512], resp[1024];

	snprintf(req, sizeof(req),
		 "{\"cmd\":\"port-add\",\"name\":\"%s\",\"type\":\"vhost-user\",\"path\":\"%s\","
		 "\"mode\":\"server\"%s}",
		 name, path, extra ? extra : "");
	vnet_switch_ctl(sw, req, resp, sizeof(resp));
	if (!strstr(resp, "\"ok\":true"))
		host_fail(NULL, __FILE__, __LINE__, req, "port-add: %s", resp);
}

static unsigned long json_num(const char *obj, const char *end, const char *key)
{
	char k[64];
	const char *s;

	snprintf(k, sizeof(k), "\"%s\":", key);
	s = strstr(obj, k);
	if (!s || s > end)
		return (unsigned long)-1;
	return strtoul(s + strlen(k), NULL, 10);
}

int vnet_switch_port_stats(struct vnet_switch *sw, const char *name, struct vnet_port_stats *st)
{
	char req[128], resp[4096];
	const char *end;

	snprintf(req, sizeof(req), "{\"cmd\":\"stats\",\"port\":\"%s\"}", name);
	vnet_switch_ctl(sw, req, resp, sizeof(resp));
	if (!strstr(resp, "\"ok\":true"))
		return -ENOENT;
	end = resp + strlen(resp);
	st->rx_packets = json_num(resp, end, "rx_packets");
	st->tx_packets = json_num(resp, end, "tx_packets");
	st->drop_link_down = json_num(resp, end, "drop_link_down");
	st->drop_vlan = json_num(resp, end, "drop_vlan");
	return 0;
}

bool vnet_fdb_has(const char *resp, const char *mac, const char *port)
{
	char k[64], p[64];
	const char *s = resp, *e;

	snprintf(k, sizeof(k), "\"mac\":\"%s\"", mac);
	snprintf(p, sizeof(p), "\"port\":\"%s\"", port);
	while ((s = strstr(s, k))) {
		/* the entry's object: back to its '{', forward to its '}' */
		const char *b = s;

		while (b > resp && *b != '{')
			b--;
		e = strchr(s, '}');
		if (e) {
			const char *q = strstr(b, p);

			if (q && q < e)
				return true;
		}
		s += strlen(k);
	}
	return false;
}

void vnet_testpmd_start(struct vnet_testpmd *tp, const char *bin, const char *dir,
			const char *vdev0, const char *vdev1, const char *fwd)
{
	char prefix[64], mode[64], sock[200];
	const char *argv[32], *s;
	int n = 0;

	snprintf(tp->log, sizeof(tp->log), "%s/testpmd.log", dir);
	snprintf(prefix, sizeof(prefix), "nfvvnettp%d", (int)getpid());
	snprintf(mode, sizeof(mode), "--forward-mode=%s", fwd);
	argv[n++] = bin;
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = "256";
	argv[n++] = "--file-prefix";
	argv[n++] = prefix;
	argv[n++] = "-l";
	argv[n++] = "0,1";
	argv[n++] = "--log-level=lib.vhost.*:warning";
	argv[n++] = "--vdev";
	argv[n++] = vdev0;
	if (vdev1) {
		argv[n++] = "--vdev";
		argv[n++] = vdev1;
	}
	argv[n++] = "--";
	argv[n++] = mode;
	if (!vdev1)
		argv[n++] = "--port-topology=loop"; /* one port: it forwards to itself */
	argv[n++] = "--auto-start";
	argv[n++] = "--total-num-mbufs=4096";
	argv[n] = NULL;
	fprintf(stderr, "+ %s ... %s --vdev %s (log %s)\n", bin, mode, vdev0, tp->log);
	tp->pid = spawn(argv, tp->log, &tp->in_fd);
	track((void **)testpmds, tp);
	/* net_vhost's socket appears once the port has started */
	s = strstr(vdev0, "iface=");
	snprintf(sock, sizeof(sock), "%s", s ? s + 6 : "");
	if (strchr(sock, ','))
		*strchr(sock, ',') = '\0';
	if (!wait_path(sock, tp->pid, 30)) {
		print_tail(tp->log, 2000);
		host_ok = true;
		host_skip("dpdk-testpmd did not start here");
	}
}

void vnet_testpmd_stop(struct vnet_testpmd *tp)
{
	if (tp->in_fd >= 0) {
		if (write(tp->in_fd, "\n", 1) < 0)
			perror("testpmd stdin");
		close(tp->in_fd);
		tp->in_fd = -1;
	}
	if (tp->pid > 0)
		reap(tp->pid, 0, 20); /* a newline on stdin ends it; SIGKILL if not */
	tp->pid = 0;
	untrack((void **)testpmds, tp);
}
