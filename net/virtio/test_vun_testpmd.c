// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user netdev against a real backend: dpdk-testpmd with a net_vhost port in macswap mode.
 *
 *   1. testpmd is the vhost-user server, we connect: frames come back with MACs swapped and the
 *      counts agree with testpmd's "show port stats all".
 *   2. testpmd is killed while we send: we see the disconnect (link down), a new testpmd comes up,
 *      the reconnect replays the state and frames flow again.
 *   3. We are the server (testpmd client=1, as libvirt <source mode='server'>), same with restart.
 *   4. A testpmd that never answers (SIGSTOPped) and a hostile backend that answers garbage: a
 *      clear error within the reply timeout, no hang.
 *
 * Usage: test_vun_testpmd /usr/bin/dpdk-testpmd. Every testpmd started is killed (PDEATHSIG too).
 */
#include <errno.h>
#include <poll.h>
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
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "vhost_user_netdev.h"
#include "vun_port.h"
#include "test_vun_flow.h"
#include "testproc.h"
#include "test.h"

static const char *testpmd_bin;
static char dir[64];

/* ---- Traffic ---- */

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

struct rx_ctx {
	uint64_t ok, bad;
};

static int rx_cb(void *opaque, const void *frame, size_t len)
{
	struct rx_ctx *c = opaque;
	const uint8_t *f = frame;

	/* macswap: what we sent from A to B comes back from B to A. */
	if (len >= 60 && !memcmp(f, mac_a, 6) && !memcmp(f + 6, mac_b, 6))
		c->ok++;
	else
		c->bad++;
	return 0;
}

static int link_changes;
static void on_link(void *opaque, bool up)
{
	(void)opaque;
	(void)up;
	link_changes++;
}

/* Send @n frames, polling RX meanwhile; returns how many were accepted. */
static unsigned send_frames(struct vun *vun, unsigned n, struct rx_ctx *rc, bool stop_on_down)
{
	uint8_t frame[64] = { 0 };
	unsigned sent = 0;
	uint64_t end = clock_ms() + 30000;

	memcpy(frame, mac_b, 6);
	memcpy(frame + 6, mac_a, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5; /* local experimental ethertype */
	while (sent < n && clock_ms() < end) {
		int ret;

		/*
		 * Keep fewer frames in flight than our RX ring holds: testpmd drops what it cannot
		 * put into our RX ring, and this test wants every frame back.
		 */
		if ((int64_t)sent - (int64_t)(rc->ok + rc->bad) >= 192) {
			if (!vun_poll_rx(vun, rx_cb, rc, 256)) {
				if (!vun_check(vun) && stop_on_down)
					break;
				usleep(50);
			}
			continue;
		}

		memcpy(frame + 14, &sent, sizeof(sent));
		ret = vun_send(vun, frame, sizeof(frame));
		if (ret == 0) {
			sent++;
		} else if (ret == -ENOBUFS) {
			vun_poll_rx(vun, rx_cb, rc, 256);
			if (!vun_check(vun) && stop_on_down)
				break;
			usleep(100);
		} else if (ret == -ENETDOWN && stop_on_down) {
			break;
		}
		if ((sent & 31) == 0)
			vun_poll_rx(vun, rx_cb, rc, 256);
	}
	return sent;
}

/* Poll until @want frames came back or the time is up. */
static void drain_rx(struct vun *vun, struct rx_ctx *rc, uint64_t want, int timeout_ms)
{
	uint64_t end = clock_ms() + (uint64_t)timeout_ms;

	while (rc->ok + rc->bad < want && clock_ms() < end) {
		if (!vun_poll_rx(vun, rx_cb, rc, 256)) {
			struct pollfd p = { .fd = vun_rx_fd(vun), .events = POLLIN };

			poll(&p, 1, 10);
			efd_drain(vun_rx_fd(vun));
		}
	}
}

static struct vun *mk_vun(const char *sock, bool server, int timeout_ms)
{
	struct vun_cfg cfg = {
		.path = sock, .server = server, .queue_size = 256, .timeout_ms = timeout_ms,
		.on_link = on_link,
	};
	struct vun *vun = NULL;

	CHECK(vun_create(&cfg, &vun) == 0);
	return vun;
}

static int reconnect_with_backoff(struct vun *vun, int total_ms)
{
	uint64_t end = clock_ms() + (uint64_t)total_ms;
	int delay = 20, ret;

	do {
		ret = vun_reconnect(vun, 200);
		if (ret == 0)
			return 0;
		usleep((useconds_t)delay * 1000);
		delay = MIN(delay * 2, 500);
	} while (clock_ms() < end);
	return ret;
}

static void test_client_mode(void)
{
	char sock[128];
	struct testpmd tp = TESTPMD_INIT, tp2 = TESTPMD_INIT;
	struct rx_ctx rc = { 0 };
	struct vun_stats st;
	struct vun *vun;
	uint64_t trx = 0, ttx = 0;
	unsigned sent;
	const unsigned N = 5000;

	printf("# testpmd as vhost-user server, netdev connects\n");
	snprintf(sock, sizeof(sock), "%s/tp-server.sock", dir);
	CHECK(tp_start(&tp, testpmd_bin, sock, false, "macswap") == 0);
	if (!tp_ready(&tp)) {
		test_failures++;
		tp_kill(&tp);
		return;
	}
	vun = mk_vun(sock, false, 3000);
	if (!vun) {
		tp_kill(&tp);
		return;
	}
	link_changes = 0;
	CHECK(vun_connect(vun, 20000) == 0);
	CHECK(vun_link_up(vun));
	sent = send_frames(vun, N, &rc, false);
	CHECK(sent == N);
	drain_rx(vun, &rc, N, 15000);
	vun_get_stats(vun, &st);
	printf("# sent %u, back %lu ok / %lu bad, tx_full %lu, kicks %lu\n", sent, rc.ok, rc.bad,
	       st.tx_full, st.kicks);
	CHECK(rc.ok == N && rc.bad == 0);
	CHECK(st.tx_packets == N && st.rx_packets == N && st.rx_bad == 0 && st.tx_bad == 0);
	CHECK(tp_stats(&tp, &trx, &ttx));
	printf("# testpmd port stats: RX-packets %lu TX-packets %lu\n", trx, ttx);
	CHECK(trx == N && ttx == N);

	/* Kill the backend while traffic flows. */
	printf("# killing testpmd while sending\n");
	{
		pid_t killer = fork();

		if (killer == 0) {
			usleep(20 * 1000);
			kill(tp.proc.pid, SIGKILL);
			_exit(0);
		}
		sent = send_frames(vun, 1000000, &rc, true);
		waitpid(killer, NULL, 0);
	}
	tp_kill(&tp);
	for (int i = 0; i < 100 && vun_check(vun); i++)
		usleep(10 * 1000);
	CHECK(!vun_link_up(vun));
	{
		uint8_t f[64] = { 0 };

		CHECK(vun_send(vun, f, sizeof(f)) == -ENETDOWN);
	}
	printf("# link down after %u more frames; restarting testpmd\n", sent);
	/* DPDK's server does not remove its socket file when killed. */
	unlink(sock);
	CHECK(vun_reconnect(vun, 0) < 0); /* nobody there yet */
	CHECK(tp_start(&tp2, testpmd_bin, sock, false, "macswap") == 0);
	if (!tp_ready(&tp2)) {
		test_failures++;
		goto out;
	}
	CHECK(reconnect_with_backoff(vun, 30000) == 0);
	CHECK(vun_link_up(vun));
	memset(&rc, 0, sizeof(rc));
	drain_rx(vun, &rc, 1u << 30, 200); /* leftovers from before the kill */
	memset(&rc, 0, sizeof(rc));
	sent = send_frames(vun, N, &rc, false);
	CHECK(sent == N);
	drain_rx(vun, &rc, N, 15000);
	CHECK(tp_stats(&tp2, &trx, &ttx));
	printf("# after reconnect: sent %u, back %lu ok / %lu bad; testpmd RX %lu TX %lu\n", sent,
	       rc.ok, rc.bad, trx, ttx);
	/* The new backend may also replay frames the old one had not completed. */
	CHECK(rc.ok >= N && rc.bad == 0);
	CHECK(trx >= N && trx == ttx);
	CHECK(link_changes == 3);
out:
	vun_destroy(vun);
	tp_quit(&tp2, 5000);
	unlink(sock);
}

static void test_server_mode(void)
{
	char sock[128];
	struct testpmd tp = TESTPMD_INIT;
	struct rx_ctx rc = { 0 };
	struct vun *vun;
	uint64_t trx = 0, ttx = 0;
	const unsigned N = 2000;

	printf("# netdev as vhost-user server, testpmd client=1\n");
	snprintf(sock, sizeof(sock), "%s/vun-server.sock", dir);
	vun = mk_vun(sock, true, 3000);
	if (!vun)
		return;
	for (int round = 0; round < 2; round++) {
		CHECK(tp_start(&tp, testpmd_bin, sock, true, "macswap") == 0);
		if (!tp_ready(&tp)) {
			test_failures++;
			break;
		}
		if (round == 0)
			CHECK(vun_connect(vun, 30000) == 0);
		else
			CHECK(vun_reconnect(vun, 30000) == 0);
		CHECK(vun_link_up(vun));
		memset(&rc, 0, sizeof(rc));
		CHECK(send_frames(vun, N, &rc, false) == N);
		drain_rx(vun, &rc, N, 15000);
		CHECK(tp_stats(&tp, &trx, &ttx));
		printf("# round %d: back %lu ok / %lu bad; testpmd RX %lu TX %lu\n", round, rc.ok,
		       rc.bad, trx, ttx);
		CHECK(rc.ok >= N && rc.bad == 0 && trx >= N && trx == ttx);
		tp_kill(&tp);
		for (int i = 0; i < 100 && vun_check(vun); i++)
			usleep(10 * 1000);
		CHECK(!vun_link_up(vun));
	}
	vun_destroy(vun);
	tp_kill(&tp);
	CHECK(access(sock, F_OK) != 0);
}

/* A backend that accepts, then answers every message with garbage. */
static pid_t hostile_backend(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	unlink(sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			uint8_t junk[64], in[512];
			uint32_t x = 12345;

			if (fd < 0)
				_exit(0);
			while (read(fd, in, sizeof(in)) > 0) {
				for (size_t i = 0; i < sizeof(junk); i++) {
					x = x * 1103515245 + 12345;
					junk[i] = (uint8_t)(x >> 16);
				}
				if (write(fd, junk, sizeof(junk)) < 0)
					break;
			}
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

static void test_unresponsive(void)
{
	char sock[128];
	struct testpmd tp = TESTPMD_INIT;
	struct vun *vun;
	uint64_t t0;
	pid_t hb;
	int ret;

	printf("# testpmd that never replies (stopped)\n");
	snprintf(sock, sizeof(sock), "%s/tp-stopped.sock", dir);
	CHECK(tp_start(&tp, testpmd_bin, sock, false, "macswap") == 0);
	if (tp_ready(&tp)) {
		kill(tp.proc.pid, SIGSTOP);
		vun = mk_vun(sock, false, 500);
		t0 = clock_ms();
		ret = vun_connect(vun, 1000);
		printf("# connect -> %d (%s) after %lu ms\n", ret, strerror(-ret), clock_ms() - t0);
		CHECK(ret == -ETIMEDOUT);
		CHECK(clock_ms() - t0 < 5000);
		CHECK(!vun_link_up(vun));
		vun_destroy(vun);
	} else {
		test_failures++;
	}
	tp_kill(&tp);
	unlink(sock);

	printf("# hostile backend answering garbage\n");
	snprintf(sock, sizeof(sock), "%s/hostile.sock", dir);
	hb = hostile_backend(sock);
	CHECK(hb > 0);
	if (hb > 0) {
		struct vhost_user_stats vst;

		vun = mk_vun(sock, false, 5000);
		t0 = clock_ms();
		ret = vun_connect(vun, 1000);
		printf("# connect -> %d (%s) after %lu ms\n", ret, strerror(-ret), clock_ms() - t0);
		CHECK(ret == -EPROTO || ret == -EMSGSIZE);
		CHECK(clock_ms() - t0 < 5000);
		vhost_user_get_stats(vun_vhost_user(vun), &vst);
		CHECK(vst.bad_replies == 1);
		vun_destroy(vun);
		kill(hb, SIGKILL);
		waitpid(hb, NULL, 0);
	}
	unlink(sock);
}

/* ---- vun_port: the netdev seam (what the NE2000 uses), event-driven on an evloop ---- */

struct port_fe {
	uint64_t got;	     /* atomic */
	uint64_t bad;
	unsigned refuse_at;  /* say -ENOBUFS once when got reaches this */
	bool refused;
	uint64_t refused_ms;
	int links;
	bool up;
};

static int port_fe_receive(void *opaque, const void *frame, size_t len)
{
	struct port_fe *c = opaque;
	const uint8_t *f = frame;

	if (!c->refused && c->got == c->refuse_at) {
		c->refused = true;
		c->refused_ms = clock_ms();
		return -ENOBUFS;
	}
	if (len >= 60 && !memcmp(f, mac_a, 6) && !memcmp(f + 6, mac_b, 6))
		__atomic_add_fetch(&c->got, 1, __ATOMIC_RELEASE);
	else
		c->bad++;
	return 0;
}

static void port_on_link(void *opaque, bool up)
{
	struct port_fe *c = opaque;

	c->links++;
	c->up = up;
}

struct port_sender {
	struct netdev_backend be;
	struct port_fe *fe;
	unsigned n, sent;
	uint64_t base;
	pthread_t thr;
};

/* Plays the vCPU thread: the NE2000 model calls backend.send() from there. */
static void *port_sender_main(void *arg)
{
	struct port_sender *s = arg;
	uint8_t frame[64] = { 0 };
	uint64_t end = clock_ms() + 30000;

	memcpy(frame, mac_b, 6);
	memcpy(frame + 6, mac_a, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	while (s->sent < s->n && clock_ms() < end) {
		uint64_t got = __atomic_load_n(&s->fe->got, __ATOMIC_ACQUIRE) - s->base;

		if (s->sent - got >= 128) {
			usleep(100);
			continue;
		}
		if (s->be.send(s->be.opaque, frame, sizeof(frame)) == 0)
			s->sent++;
		else
			usleep(100);
	}
	return NULL;
}

static unsigned port_traffic(struct evloop *loop, struct netdev_backend *be, struct port_fe *fe,
			     unsigned n)
{
	struct port_sender s = { .be = *be, .fe = fe, .n = n, .base = fe->got };
	uint64_t end = clock_ms() + 30000;

	if (pthread_create(&s.thr, NULL, port_sender_main, &s))
		return 0;
	while (fe->got - s.base < n && clock_ms() < end) {
		(void)!evloop_run(loop, 10);
		/* The guest frees a receive buffer a little later: the device says so. */
		if (fe->refused && fe->refused_ms && clock_ms() - fe->refused_ms > 50) {
			fe->refused_ms = 0;
			be->rx_ready(be->opaque);
		}
	}
	pthread_join(s.thr, NULL);
	return (unsigned)(fe->got - s.base);
}

static bool port_wait_link(struct evloop *loop, struct port_fe *fe, bool up, int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;

	while (fe->up != up && clock_ms() < end)
		(void)!evloop_run(loop, 20);
	return fe->up == up;
}

static void test_port(void)
{
	char sock[128];
	struct testpmd tp = TESTPMD_INIT;
	struct port_fe fe = { .refuse_at = 700 };
	struct netdev_frontend nfe = { .receive = port_fe_receive, .opaque = &fe };
	struct netdev_backend be;
	struct evloop *loop = NULL;
	struct vun_port *port = NULL;
	struct vun_stats st;
	unsigned got;
	const unsigned N = 3000;

	printf("# vun_port (netdev seam) on an evloop, sender on another thread\n");
	snprintf(sock, sizeof(sock), "%s/port.sock", dir);
	CHECK(evloop_create(&loop) == 0);
	CHECK(tp_start(&tp, testpmd_bin, sock, false, "macswap") == 0);
	if (!loop || !tp_ready(&tp)) {
		test_failures++;
		goto out;
	}
	{
		struct vun_port_cfg pc = { .path = sock, .loop = loop, .timeout_ms = 3000,
					   .on_link = port_on_link, .opaque = &fe };

		CHECK(vun_port_create(&pc, &port) == 0);
	}
	if (!port)
		goto out;
	CHECK(vun_port_link_up(port) && fe.up);
	vun_port_backend(port, &be);
	vun_port_attach(port, &nfe);
	got = port_traffic(loop, &be, &fe, N);
	vun_get_stats(vun_port_vun(port), &st);
	printf("# sent %u, received %u (bad %lu), device refusals %lu\n", N, got, fe.bad,
	       st.rx_refused);
	CHECK(got == N && fe.bad == 0);
	CHECK(fe.refused && st.rx_refused >= 1);

	/* Backend restart: the port notices, reconnects on its own, frames flow again. */
	tp_kill(&tp);
	CHECK(port_wait_link(loop, &fe, false, 10000));
	{
		uint8_t f[64] = { 0 };

		CHECK(be.send(be.opaque, f, sizeof(f)) == -ENETDOWN);
	}
	unlink(sock);
	CHECK(tp_start(&tp, testpmd_bin, sock, false, "macswap") == 0);
	CHECK(tp_ready(&tp));
	CHECK(port_wait_link(loop, &fe, true, 30000));
	printf("# link changes %d; reconnected\n", fe.links);
	got = port_traffic(loop, &be, &fe, N);
	printf("# after reconnect: received %u of %u\n", got, N);
	CHECK(got >= N);
out:
	vun_port_destroy(port);
	tp_quit(&tp, 5000);
	evloop_destroy(loop);
	unlink(sock);
}

/* ---- nfv-switch: two netdevs on two switch ports ---- */

static void test_switch(const char *switch_bin)
{
	char conf[160], sa[128], sb[128], ctl[128], prefix[64];
	struct tsw_port ports[2] = { { "a", sa }, { "b", sb } };
	/* The switch PMD spins on CPU 1; its control thread shares CPU 0. */
	struct tsw_cfg swc = { .bin = switch_bin, .ctl = ctl, .config = conf, .ports = ports,
			       .nports = 2, .mem_mb = 256, .mbufs = 4095, .lcores = "0@0,1@1",
			       .prefix = prefix };
	struct tproc sw = TPROC_INIT;
	struct vun *a = NULL, *b = NULL;
	struct vun_flow ab = { mac_a, mac_b }, ba = { mac_b, mac_a };
	const unsigned N = 3000;

	printf("# nfv-switch: two netdevs on two vhost-user ports\n");
	snprintf(conf, sizeof(conf), "%s/switch.conf", dir);
	snprintf(sa, sizeof(sa), "%s/sw-a.sock", dir);
	snprintf(sb, sizeof(sb), "%s/sw-b.sock", dir);
	snprintf(ctl, sizeof(ctl), "%s/sw-ctl.sock", dir);
	snprintf(prefix, sizeof(prefix), "nfvvunsw%d", getpid());
	CHECK(tsw_start(&sw, &swc) == 0);
	a = mk_vun(sa, false, 3000);
	b = mk_vun(sb, false, 3000);
	if (!a || !b)
		goto out;
	CHECK(vun_connect(a, 40000) == 0);
	CHECK(vun_connect(b, 40000) == 0);
	if (!vun_link_up(a) || !vun_link_up(b))
		goto out;
	usleep(300 * 1000); /* let the switch see both rings running */
	/* A -> B: B unknown, flooded to B's port; B -> A: A learned by now. Then both again. */
	for (int round = 0; round < 2; round++) {
		/* Fewer in flight than the receiver's RX ring holds. */
		unsigned g1 = vun_flow_send(a, b, &ab, N, 128, 30000);
		unsigned g2 = vun_flow_send(b, a, &ba, N, 128, 30000);

		printf("# round %d: a->b got %u of %u (bad %lu); b->a got %u of %u (bad %lu)\n",
		       round, g1, N, ab.other, g2, N, ba.other);
		CHECK(g1 == N && g2 == N);
	}
	CHECK(ab.ok == 2 * N && ab.other == 0);
	CHECK(ba.ok == 2 * N && ba.other == 0);
out:
	vun_destroy(a);
	vun_destroy(b);
	tsw_stop(&sw, 5000);
	unlink(conf);
	unlink(sa);
	unlink(sb);
	unlink(ctl);
}

int main(int argc, char **argv)
{
	uint64_t t0 = clock_ms();

	if (argc < 2) {
		fprintf(stderr, "usage: %s /path/to/dpdk-testpmd\n", argv[0]);
		return 2;
	}
	testpmd_bin = argv[1];
	if (access(testpmd_bin, X_OK)) {
		printf("SKIP: %s not found\n", testpmd_bin);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOGL_WARN);
	snprintf(dir, sizeof(dir), "/tmp/nfv-vun-%d", getpid());
	if (mkdir(dir, 0700)) {
		perror(dir);
		return 1;
	}
	test_client_mode();
	test_server_mode();
	test_unresponsive();
	test_port();
	if (argc > 2 && access(argv[2], X_OK) == 0)
		test_switch(argv[2]);
	else
		printf("# nfv-switch not built (%s): netdev-to-netdev through the switch skipped\n",
		       argc > 2 ? argv[2] : "no path given");
	rmdir(dir);
	printf("# %lu ms\n", clock_ms() - t0);
	TEST_DONE("vhost_user_netdev_testpmd");
}
