// SPDX-License-Identifier: GPL-2.0-only
/*
 * vun-pps: frames per second that the vhost-user netdev (VMM-owned rings, the NE2000's path onto
 * the switch) can hand to a vhost-user backend, i.e. the per-frame cost of vun_send().
 *
 * One dpdk-testpmd in rxonly mode with two net_vhost ports:
 *   port 0 <- vun (this process, pinned to CPU 1), 64-byte frames, one vun_send() per frame;
 *   port 1 <- the peer: DPDK's own virtio_user in a second testpmd (txonly, bursts of 32, CPU 1).
 * Rounds alternate vun and peer; each measures what testpmd counted on the port over the round.
 * Prints every round, the medians and the median vun/peer ratio. Not a pass/fail test.
 *
 * Usage: vun-pps /usr/bin/dpdk-testpmd [seconds-per-round (2)] [rounds (3)]
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testproc.h"
#include "util.h"
#include "vhost_user_netdev.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int port_rx(struct testpmd *tp, unsigned port, uint64_t *rx)
{
	uint64_t tx;

	return tp_port_stats(tp, port, rx, &tx) ? 0 : -EIO;
}

/* Send 64-byte frames for @ms; returns frames accepted by vun_send. */
static uint64_t vun_round(struct vun *vun, unsigned ms, uint64_t *full)
{
	uint8_t frame[60] = { 0x02, 0, 0, 0, 0, 0xb, 0x02, 0, 0, 0, 0, 0xa, 0x88, 0xb5 };
	uint64_t end = clock_ns() + (uint64_t)ms * 1000000ull, sent = 0;

	*full = 0;
	while (clock_ns() < end) {
		for (int i = 0; i < 256; i++) {
			int ret = vun_send(vun, frame, sizeof(frame));

			if (ret == 0)
				sent++;
			else if (ret == -ENOBUFS)
				(*full)++;
			else
				return sent;
		}
	}
	return sent;
}

int main(int argc, char **argv)
{
	const char *bin = argc > 1 ? argv[1] : "/usr/bin/dpdk-testpmd";
	unsigned secs = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 3;
	char dir[64], sock0[128], sock1[128], v0[192], v1[192], vp[192];
	const char *rx_vdevs[2] = { v0, v1 };
	const char *peer_vdev[1] = { vp };
	struct testpmd rx = TESTPMD_INIT, peer = TESTPMD_INIT;
	struct vun_cfg vcfg = { .queue_size = 256, .timeout_ms = 5000 };
	struct vun *vun = NULL;
	double vun_pps[16], peer_pps[16], ratio[16];
	cpu_set_t cpus;
	int ret = 1;

	if (secs == 0 || rounds == 0 || rounds > 16) {
		fprintf(stderr, "usage: %s testpmd [seconds 1..] [rounds 1..16]\n", argv[0]);
		return 2;
	}
	log_set_level(LOGL_WARN);
	snprintf(dir, sizeof(dir), "/tmp/nfv-vun-pps-%d", getpid());
	if (mkdir(dir, 0700))
		return 1;
	snprintf(sock0, sizeof(sock0), "%s/vun.sock", dir);
	snprintf(sock1, sizeof(sock1), "%s/peer.sock", dir);
	snprintf(v0, sizeof(v0), "net_vhost0,iface=%s,queues=1,client=0", sock0);
	snprintf(v1, sizeof(v1), "net_vhost1,iface=%s,queues=1,client=0", sock1);
	snprintf(vp, sizeof(vp), "net_virtio_user0,path=%s,queues=1", sock1);

	/* The receiver spins on CPU 0; both senders live on CPU 1. */
	if (tp_start_ex(&rx, bin, "0@0,1@0", rx_vdevs, 2, "rxonly", NULL, 0) || !tp_ready(&rx)) {
		fprintf(stderr, "receiving testpmd did not start\n");
		goto out;
	}
	if (tp_start_ex(&peer, bin, "0@1,1@1", peer_vdev, 1, "txonly", NULL, 0) ||
	    !tp_wait(&peer, 0, "testpmd> ", 20000)) {
		fprintf(stderr, "peer testpmd did not start\n");
		goto out;
	}
	/* testpmd's txonly default is 64-byte frames with 1 segment; bursts of 32. */
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		fprintf(stderr, "note: could not pin to CPU 1\n");
	vcfg.path = sock0;
	if (vun_create(&vcfg, &vun) || vun_connect(vun, 5000)) {
		fprintf(stderr, "vun could not connect\n");
		goto out;
	}
	usleep(200 * 1000);
	printf("vun-pps: %u rounds of %u s, 64-byte frames, testpmd rxonly counts\n", rounds, secs);
	for (unsigned r = 0; r < rounds; r++) {
		uint64_t a, b, sent, full;

		if (port_rx(&rx, 0, &a))
			goto out;
		sent = vun_round(vun, secs * 1000, &full);
		usleep(100 * 1000);
		if (port_rx(&rx, 0, &b))
			goto out;
		vun_pps[r] = (double)(b - a) / secs;
		printf("round %u vun : %.3f Mpps (sent %lu, counted %lu, ring-full retries %lu)\n", r,
		       vun_pps[r] / 1e6, sent, b - a, full);

		if (port_rx(&rx, 1, &a) || !tp_cmd(&peer, "start\n", "testpmd> ", 5000))
			goto out;
		usleep(secs * 1000000u);
		if (!tp_cmd(&peer, "stop\n", "testpmd> ", 5000))
			goto out;
		usleep(100 * 1000);
		if (port_rx(&rx, 1, &b))
			goto out;
		/* The peer ran slightly longer than @secs (start/stop round trips): a small bias. */
		peer_pps[r] = (double)(b - a) / secs;
		ratio[r] = peer_pps[r] > 0 ? vun_pps[r] / peer_pps[r] : 0;
		printf("round %u peer: %.3f Mpps (DPDK virtio_user txonly)\n", r, peer_pps[r] / 1e6);
	}
	printf("median vun %.3f Mpps, peer %.3f Mpps, vun/peer ratio %.2f\n",
	       median(vun_pps, rounds) / 1e6, median(peer_pps, rounds) / 1e6,
	       median(ratio, rounds));
	ret = 0;
out:
	vun_destroy(vun);
	tp_kill(&peer);
	tp_kill(&rx);
	unlink(sock0);
	unlink(sock1);
	rmdir(dir);
	return ret;
}
