// SPDX-License-Identifier: GPL-2.0-only
#include "test_testpmd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static unsigned tp_serial;



void tp_kill(struct testpmd *tp)
{
	if (tp->pid > 0) {
		kill(tp->pid, SIGCONT);
		kill(tp->pid, SIGKILL);
		waitpid(tp->pid, NULL, 0);
	}
	tp->pid = -1;
	if (tp->in >= 0)
		close(tp->in);
	if (tp->out >= 0)
		close(tp->out);
	tp->in = tp->out = -1;
}

int tp_start_ex(struct testpmd *tp, const char *bin, const char *lcores, const char *const *vdevs,
		unsigned nvdev, const char *fwd, const char *const *extra, unsigned nextra)
{
	char prefix[64], fwd_arg[64];
	const char *argv[40];
	unsigned n = 0;
	int pin[2], pout[2];

	if (nvdev > 4 || nextra > 8)
		return -EINVAL;
	snprintf(prefix, sizeof(prefix), "nfvvun%d-%u", getpid(), tp_serial++);
	snprintf(fwd_arg, sizeof(fwd_arg), "--forward-mode=%s", fwd);
	/* stdbuf: testpmd's stdout is a pipe here, and its stats must arrive when printed. */
	argv[n++] = "stdbuf";
	argv[n++] = "-o0";
	argv[n++] = bin;
	argv[n++] = "--no-huge";
	argv[n++] = "--no-pci";
	argv[n++] = "-m";
	argv[n++] = "256";
	argv[n++] = "--file-prefix";
	argv[n++] = prefix;
	argv[n++] = "--lcores";
	argv[n++] = lcores;
	argv[n++] = "--log-level";
	argv[n++] = "lib.vhost.*:notice";
	for (unsigned i = 0; i < nvdev; i++) {
		argv[n++] = "--vdev";
		argv[n++] = vdevs[i];
	}
	argv[n++] = "--";
	argv[n++] = "-i";
	argv[n++] = "--port-topology=loop";
	argv[n++] = fwd_arg;
	argv[n++] = "--total-num-mbufs=8192";
	for (unsigned i = 0; i < nextra; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC))
		return -errno;
	tp->len = 0;
	tp->pid = fork();
	if (tp->pid < 0)
		return -errno;
	if (tp->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(pout[1], 2);
		execvp("stdbuf", (char *const *)argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	tp->in = pin[1];
	tp->out = pout[0];
	fcntl(tp->out, F_SETFL, O_NONBLOCK);
	return 0;
}

int tp_start(struct testpmd *tp, const char *bin, const char *sock, bool client, const char *fwd)
{
	char vdev[256];
	const char *v[1] = { vdev };

	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1,client=%d", sock, client);
	/* Both lcores on one CPU: the forwarding lcore spins; leave the other CPU alone. */
	return tp_start_ex(tp, bin, "0@0,1@0", v, 1, fwd, NULL, 0);
}

/* Read testpmd's output until @pat appears after offset @from (or timeout). */
bool tp_wait(struct testpmd *tp, size_t from, const char *pat, int timeout_ms)
{
	uint64_t end = clock_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = tp->out, .events = POLLIN };
		ssize_t n;

		tp->buf[tp->len] = 0;
		if (from <= tp->len && strstr(tp->buf + from, pat))
			return true;
		if (clock_ms() >= end)
			return false;
		poll(&p, 1, 50);
		if (tp->len >= sizeof(tp->buf) - 1) {
			/* Keep the tail only. */
			memmove(tp->buf, tp->buf + tp->len / 2, tp->len - tp->len / 2);
			tp->len -= tp->len / 2;
			from = 0;
		}
		n = read(tp->out, tp->buf + tp->len, sizeof(tp->buf) - 1 - tp->len);
		if (n > 0)
			tp->len += (size_t)n;
		else if (n == 0)
			return false;
	}
}

bool tp_cmd(struct testpmd *tp, const char *cmd, const char *pat, int timeout_ms)
{
	size_t from = tp->len;

	if (write(tp->in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return false;
	return tp_wait(tp, from, pat, timeout_ms);
}

bool tp_port_stats(struct testpmd *tp, unsigned port, uint64_t *rx, uint64_t *tx)
{
	char cmd[64];
	size_t from = tp->len;
	const char *s;

	snprintf(cmd, sizeof(cmd), "show port stats %u\n", port);
	if (!tp_cmd(tp, cmd, "Tx-bps", 15000))
		return false;
	s = strstr(tp->buf + from, "RX-packets:");
	if (!s || sscanf(s, "RX-packets: %lu", rx) != 1)
		return false;
	s = strstr(s, "TX-packets:");
	return s && sscanf(s, "TX-packets: %lu", tx) == 1;
}

static bool tp_stats_once(struct testpmd *tp, uint64_t *rx, uint64_t *tx)
{
	return tp_port_stats(tp, 0, rx, tx);
}

/*
 * The forwarding lcore bumps its counters after the burst is handed on, so a frame can be back
 * with us before it is counted: ask until RX and TX agree (or give up after a second).
 */
bool tp_stats(struct testpmd *tp, uint64_t *rx, uint64_t *tx)
{
	for (int i = 0; i < 10; i++) {
		if (!tp_stats_once(tp, rx, tx))
			return false;
		if (*rx == *tx)
			return true;
		usleep(100 * 1000);
	}
	return true;
}

bool tp_ready(struct testpmd *tp)
{
	if (!tp_wait(tp, 0, "testpmd> ", 60000)) {
		fprintf(stderr, "testpmd did not start:\n%s\n", tp->buf);
		return false;
	}
	return tp_cmd(tp, "start\n", "testpmd> ", 15000);
}

void tp_quit(struct testpmd *tp)
{
	if (tp->pid > 0 && write(tp->in, "quit\n", 5) == 5) {
		for (int i = 0; i < 100; i++) {
			if (waitpid(tp->pid, NULL, WNOHANG) == tp->pid) {
				tp->pid = -1;
				break;
			}
			usleep(50 * 1000);
		}
	}
	tp_kill(tp);
}


pid_t sw_start(const char *bin, const char *dir, const char *const *paths, unsigned n)
{
	char conf[160], ctl[160], prefix[64];
	pid_t pid;
	FILE *f;

	snprintf(conf, sizeof(conf), "%s/switch.conf", dir);
	snprintf(ctl, sizeof(ctl), "%s/switch-ctl.sock", dir);
	snprintf(prefix, sizeof(prefix), "nfvvsw%d-%u", getpid(), tp_serial++);
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "{\"cmd\":\"port-add\",\"name\":\"p%u\",\"type\":\"vhost-user\","
			   "\"path\":\"%s\",\"mode\":\"server\",\"queues\":1}\n", i, paths[i]);
	fclose(f);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(bin, bin, "--no-huge", "--no-pci", "-m", "256", "--file-prefix", prefix,
		      "--lcores", "0@0,1@1", "--", "--control", ctl, "--config", conf, "--mbufs",
		      "4095", (char *)NULL);
		_exit(127);
	}
	return pid;
}

void sw_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}
