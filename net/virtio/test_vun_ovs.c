// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interoperability with OVS-DPDK: two vhost-user netdevs in server mode (as nfv-vmm with libvirt
 * <source mode='server'>), OVS-DPDK connecting to them as dpdkvhostuserclient ports of a netdev
 * bridge with the default NORMAL (learning) flow. Frames go both ways and all arrive.
 *
 * Everything OVS needs lives in a private directory (own ovsdb, own run/log dirs, its own DPDK
 * file prefix); ovs-vswitchd and ovsdb-server are stopped at the end whatever happens.
 *
 * Usage: test_vun_ovs /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
 * Exit 77 (skip) when OVS-DPDK is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost_user_netdev.h"
#include "test.h"

extern char **environ;

static char dir[64];

/* Run a command to completion (stdout/stderr to the log file); 0 when it exited 0. */
static int run(const char *const *argv)
{
	posix_spawn_file_actions_t fa;
	char logp[128];
	pid_t pid;
	int st = 0;

	snprintf(logp, sizeof(logp), "%s/commands.log", dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "command failed: %s ... (see %s)\n", argv[0], logp);
		return -1;
	}
	return 0;
}

static void stop_pidfile(const char *name)
{
	char p[128];
	FILE *f;
	int pid = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
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

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

struct rx_ctx {
	const uint8_t *src, *dst;
	uint64_t ok, other;
};

static int rx_cb(void *opaque, const void *frame, size_t len)
{
	struct rx_ctx *c = opaque;
	const uint8_t *f = frame;

	/* OVS may send frames of its own (none expected, but not ours to judge): count apart. */
	if (len >= 60 && !memcmp(f, c->dst, 6) && !memcmp(f + 6, c->src, 6))
		c->ok++;
	else
		c->other++;
	return 0;
}

static unsigned pair_send(struct vun *from, struct vun *to, const uint8_t *src, const uint8_t *dst,
			  unsigned n, struct rx_ctx *rc)
{
	uint8_t frame[64] = { 0 };
	/* Probes (n == 1) give up quickly: the port may not be in OVS's datapath yet. */
	uint64_t end = clock_ms() + (n == 1 ? 200 : 15000), base = rc->ok;
	unsigned sent = 0;

	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	while (sent < n && clock_ms() < end) {
		vun_poll_rx(to, rx_cb, rc, 256);
		if ((int64_t)sent - (int64_t)(rc->ok - base) >= 64) {
			usleep(50);
			continue;
		}
		memcpy(frame + 14, &sent, sizeof(sent));
		if (vun_send(from, frame, sizeof(frame)) == 0)
			sent++;
	}
	while (rc->ok - base < sent && clock_ms() < end)
		if (!vun_poll_rx(to, rx_cb, rc, 256))
			usleep(100);
	return (unsigned)(rc->ok - base);
}

int main(int argc, char **argv)
{
	const char *vswitchd = argc > 1 ? argv[1] : "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk";
	const char *schema = "/usr/share/openvswitch/vswitch.ovsschema";
	char db[128], dbsock[160], p1[128], p2[128], extra[160], pidf[160], logf[160];
	struct vun *a = NULL, *b = NULL;
	struct rx_ctx ab = { mac_a, mac_b }, ba = { mac_b, mac_a };
	const unsigned N = 2000;
	uint64_t t0 = clock_ms();

	if (access(vswitchd, X_OK) || access(schema, R_OK)) {
		printf("SKIP: OVS-DPDK not installed (%s)\n", vswitchd);
		return 77;
	}
	log_set_level(LOGL_WARN);
	snprintf(dir, sizeof(dir), "/tmp/nfv-vun-ovs-%d", getpid());
	if (mkdir(dir, 0700))
		return 1;
	setenv("OVS_RUNDIR", dir, 1);
	setenv("OVS_LOGDIR", dir, 1);
	setenv("OVS_DBDIR", dir, 1);
	setenv("OVS_SYSCONFDIR", dir, 1);
	snprintf(db, sizeof(db), "%s/conf.db", dir);
	snprintf(dbsock, sizeof(dbsock), "unix:%s/db.sock", dir);
	snprintf(p1, sizeof(p1), "%s/p1.sock", dir);
	snprintf(p2, sizeof(p2), "%s/p2.sock", dir);

	/* Our ends listen first; OVS connects when the ports are added. */
	{
		struct vun_cfg c = { .path = p1, .server = true, .timeout_ms = 5000 };

		CHECK(vun_create(&c, &a) == 0);
		c.path = p2;
		CHECK(vun_create(&c, &b) == 0);
		if (!a || !b)
			goto out;
	}
	{
		const char *c1[] = { "ovsdb-tool", "create", db, schema, NULL };
		char remote[200], pid[160], log[160];

		snprintf(remote, sizeof(remote), "--remote=p%s", dbsock);
		snprintf(pid, sizeof(pid), "--pidfile=%s/ovsdb.pid", dir);
		snprintf(log, sizeof(log), "--log-file=%s/ovsdb.log", dir);
		const char *c2[] = { "ovsdb-server", db, remote, pid, "--detach", log, NULL };

		if (run(c1) || run(c2)) {
			test_failures++;
			goto out;
		}
	}
	{
		char dbarg[200];

		snprintf(dbarg, sizeof(dbarg), "--db=%s", dbsock);
		snprintf(extra, sizeof(extra),
			 "other_config:dpdk-extra=--no-huge --no-pci -m 3072 --legacy-mem "
			 "--file-prefix=nfvvunovs%d", getpid());
		const char *c1[] = { "ovs-vsctl", dbarg, "--timeout=60", "--no-wait", "init", NULL };
		const char *c2[] = { "ovs-vsctl", dbarg, "--timeout=60", "--no-wait", "set",
				     "Open_vSwitch", ".", "other_config:dpdk-init=true", extra,
				     "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x2",
				     NULL };

		snprintf(pidf, sizeof(pidf), "--pidfile=%s/vswitchd.pid", dir);
		snprintf(logf, sizeof(logf), "--log-file=%s/vswitchd.log", dir);
		const char *c3[] = { vswitchd, dbsock, pidf, "--detach", logf, NULL };
		char o1[200], o2[200];

		snprintf(o1, sizeof(o1), "options:vhost-server-path=%s", p1);
		snprintf(o2, sizeof(o2), "options:vhost-server-path=%s", p2);
		const char *c4[] = { "ovs-vsctl", dbarg, "--timeout=60", "add-br", "br0", "--", "set",
				     "bridge", "br0", "datapath_type=netdev", NULL };
		const char *c5[] = { "ovs-vsctl", dbarg, "--timeout=60", "add-port", "br0", "p1", "--",
				     "set", "Interface", "p1", "type=dpdkvhostuserclient", o1, NULL };
		const char *c6[] = { "ovs-vsctl", dbarg, "--timeout=60", "add-port", "br0", "p2", "--",
				     "set", "Interface", "p2", "type=dpdkvhostuserclient", o2, NULL };

		if (run(c1) || run(c2) || run(c3) || run(c4) || run(c5) || run(c6)) {
			test_failures++;
			goto out;
		}
	}
	printf("# OVS-DPDK up after %lu ms; waiting for its vhost clients\n", clock_ms() - t0);
	CHECK(vun_connect(a, 60000) == 0);
	CHECK(vun_connect(b, 60000) == 0);
	if (!vun_link_up(a) || !vun_link_up(b))
		goto out;
	/*
	 * OVS brings a vhost port into its datapath some time after the rings are set up (its main
	 * thread reconfigures the port): probe both ways until frames pass, then count from zero.
	 */
	{
		uint64_t end = clock_ms() + 30000;
		bool ok1 = false, ok2 = false;

		while ((!ok1 || !ok2) && clock_ms() < end) {
			ok1 = ok1 || pair_send(a, b, mac_a, mac_b, 1, &ab) == 1;
			ok2 = ok2 || pair_send(b, a, mac_b, mac_a, 1, &ba) == 1;
		}
		printf("# probes passed after %lu ms (a->b %d, b->a %d)\n", clock_ms() - t0, ok1, ok2);
		CHECK(ok1 && ok2);
		usleep(100 * 1000);
		vun_poll_rx(a, rx_cb, &ba, 256);
		vun_poll_rx(b, rx_cb, &ab, 256);
		ab.ok = ab.other = ba.ok = ba.other = 0;
	}
	for (int round = 0; round < 2; round++) {
		unsigned g1 = pair_send(a, b, mac_a, mac_b, N, &ab);
		unsigned g2 = pair_send(b, a, mac_b, mac_a, N, &ba);

		printf("# round %d: a->b %u/%u, b->a %u/%u (other frames %lu/%lu)\n", round, g1, N, g2,
		       N, ab.other, ba.other);
		CHECK(g1 == N && g2 == N);
	}
out:
	vun_destroy(a);
	vun_destroy(b);
	stop_pidfile("vswitchd.pid");
	stop_pidfile("ovsdb.pid");
	printf("# %lu ms\n", clock_ms() - t0);
	if (test_failures) {
		fprintf(stderr, "OVS logs in %s\n", dir);
	} else {
		/* Clean up the private directory only on success, so failures can be read. */
		const char *rm[] = { "rm", "-rf", dir, NULL };

		(void)!run(rm);
	}
	TEST_DONE("vhost_user_netdev_ovs");
}
