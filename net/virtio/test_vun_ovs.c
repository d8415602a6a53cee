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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost_user_netdev.h"
#include "test_vun_flow.h"
#include "testproc.h"
#include "test.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

int main(int argc, char **argv)
{
	const char *vswitchd = argc > 1 ? argv[1] : "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk";
	char dir[64], p1[128], p2[128], o1[200], o2[200], prefix[64];
	struct tovs ovs = { 0 };
	struct tovs_cfg oc = { .vswitchd = vswitchd, .dir = dir, .prefix = prefix,
			       .lcore_mask = "0x1", .pmd_mask = "0x2" };
	struct vun *a = NULL, *b = NULL;
	struct vun_flow ab = { mac_a, mac_b }, ba = { mac_b, mac_a };
	const unsigned N = 2000;
	uint64_t t0 = clock_ms();

	if (access(vswitchd, X_OK) || !tovs_schema()) {
		printf("SKIP: OVS-DPDK not installed (%s)\n", vswitchd);
		return 77;
	}
	log_set_level(LOGL_WARN);
	snprintf(dir, sizeof(dir), "/tmp/nfv-vun-ovs-%d", getpid());
	snprintf(prefix, sizeof(prefix), "nfvvunovs%d", getpid());
	snprintf(p1, sizeof(p1), "%s/p1.sock", dir);
	snprintf(p2, sizeof(p2), "%s/p2.sock", dir);
	snprintf(o1, sizeof(o1), "options:vhost-server-path=%s", p1);
	snprintf(o2, sizeof(o2), "options:vhost-server-path=%s", p2);
	if (tovs_start(&ovs, &oc)) {
		test_failures++;
		goto out;
	}

	/* Our ends listen before OVS has the ports; it connects when they are added. */
	{
		struct vun_cfg c = { .path = p1, .server = true, .timeout_ms = 5000 };

		CHECK(vun_create(&c, &a) == 0);
		c.path = p2;
		CHECK(vun_create(&c, &b) == 0);
		if (!a || !b)
			goto out;
	}
	{
		const char *c5[] = { "add-port", "br0", "p1", "--", "set", "Interface", "p1",
				     "type=dpdkvhostuserclient", o1, NULL };
		const char *c6[] = { "add-port", "br0", "p2", "--", "set", "Interface", "p2",
				     "type=dpdkvhostuserclient", o2, NULL };

		if (tovs_vsctl(&ovs, c5) || tovs_vsctl(&ovs, c6)) {
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
			/* A probe gives up quickly: the port may not be in the datapath yet. */
			ok1 = ok1 || vun_flow_send(a, b, &ab, 1, 64, 200) == 1;
			ok2 = ok2 || vun_flow_send(b, a, &ba, 1, 64, 200) == 1;
		}
		printf("# probes passed after %lu ms (a->b %d, b->a %d)\n", clock_ms() - t0, ok1, ok2);
		CHECK(ok1 && ok2);
		usleep(100 * 1000);
		vun_poll_rx(a, vun_flow_rx, &ba, 256);
		vun_poll_rx(b, vun_flow_rx, &ab, 256);
		ab.ok = ab.other = ba.ok = ba.other = 0;
	}
	for (int round = 0; round < 2; round++) {
		unsigned g1 = vun_flow_send(a, b, &ab, N, 64, 15000);
		unsigned g2 = vun_flow_send(b, a, &ba, N, 64, 15000);

		printf("# round %d: a->b %u/%u, b->a %u/%u (other frames %lu/%lu)\n", round, g1, N, g2,
		       N, ab.other, ba.other);
		CHECK(g1 == N && g2 == N);
	}
out:
	vun_destroy(a);
	vun_destroy(b);
	/* The private directory stays after a failure, so that OVS's logs can be read. */
	tovs_stop(&ovs, test_failures != 0);
	printf("# %lu ms\n", clock_ms() - t0);
	TEST_DONE("vhost_user_netdev_ovs");
}
