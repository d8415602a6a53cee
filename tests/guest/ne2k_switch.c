// SPDX-License-Identifier: GPL-2.0-only
/*
 * ne2k-switch: an NE2000 guest and a virtio-net guest talking through nfv-switch. The NE2000 VM
 * (ne2k_tap.c's guest, role node, lib/ne2k_drv.c) has its NIC on a switch port through the VMM's
 * own vhost-user frontend (backend=vhost-user:PATH, the switch port in server mode); the virtio-net
 * VM (vnet_guest.c, role ping, lib/virtio_net_drv.c) is on another port. The virtio guest sends
 * rounds of unicast test requests to the NE2000 guest's MAC plus one broadcast; the NE2000 guest
 * answers each; both guests' counters, the switch's port counters and its FDB must agree. The
 * NE2000 VM's exits per frame (control socket "stats") are printed: the trap-and-emulate cost
 * against the zero-exit virtio data path. A round (33 frames of 300 bytes, two ring pages each)
 * is more than the NE2000's 58-page receive ring holds, so every request is answered only if the
 * VMM's vhost-user backend holds frames back while the ring is full (refusal, rx_ready, re-poll).
 *
 * Usage: ne2k_switch-test NFV_VMM NE2K_ELF VNET_ELF [--switch BIN]   (skipped without nfv-switch)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "vnet_host.h"

#define NE_MAC "52:54:00:00:0e:01"
#define VN_MAC "52:54:00:00:0f:02"
#define COUNT 32

static const char *vmm_bin, *ne_elf, *vn_elf, *switch_bin;

static unsigned long long io_exits(struct vmm_proc *p)
{
	char resp[4096];
	const char *io;

	HOST_ASSERT(p, vmm_control(p, "{\"cmd\":\"stats\"}", resp, sizeof(resp)) == 0, "stats");
	io = strstr(resp, "\"io\":");
	HOST_ASSERT(p, io != NULL, "no io exit counter in %s", resp);
	return strtoull(io + 5, NULL, 10);
}

static unsigned long out_num(struct vmm_proc *p, const char *line, const char *field)
{
	const char *s = p->err ? strstr(p->err, line) : NULL;
	const char *eol = s ? strchr(s, '\n') : NULL;

	s = s ? strstr(s, field) : NULL;
	if (!s || (eol && s > eol))
		return (unsigned long)-1;
	return strtoul(s + strlen(field), NULL, 10);
}

static void quit(struct vmm_proc *p)
{
	int st;

	vmm_send(p, "q");
	st = vmm_wait(p, 30);
	HOST_ASSERT(p, st == 0, "exit status %d", st);
}

static void run(const char *dir)
{
	char ns[128], vs[128], ndev[256], vdev[256], vargs[128], resp[8192], want[64];
	const char *nargs[] = {"--name", "ne2k",     "--memory", "64M",		 "--vcpu-pin",
			       "0:0",	 "--device", ndev,	 "--guest-args", "bursts=0 rx=sp",
			       NULL};
	const char *vn_args[] = {"--name",     "vnet", "--memory", "64M", "--mem-backing", "memfd",
				 "--vcpu-pin", "0:0",  "--device", vdev,  "--guest-args",  vargs,
				 NULL};
	struct vnet_port_stats pn, pv;
	unsigned long long e0, e1;
	struct vnet_switch sw;
	struct vmm_proc ne, vn;
	unsigned long replies;

	vnet_switch_start(&sw, switch_bin, dir);
	snprintf(ns, sizeof(ns), "%s/ne.sock", dir);
	snprintf(vs, sizeof(vs), "%s/vn.sock", dir);
	vnet_switch_port_add(&sw, "ne", ns, NULL);
	vnet_switch_port_add(&sw, "vn", vs, NULL);

	snprintf(ndev, sizeof(ndev), "ne2k-pci,mac=" NE_MAC ",backend=vhost-user:%s,slot=3", ns);
	vmm_start(&ne, vmm_bin, ne_elf, nargs);
	vnet_track_vmm(&ne);
	HOST_ASSERT(&ne, vmm_wait_for(&ne, "ne2k: ready " NE_MAC, 60), "NE2000 guest not ready");
	vmm_send(&ne, "g");

	snprintf(vdev, sizeof(vdev), "virtio-net,socket=%s,mac=" VN_MAC ",slot=4", vs);
	snprintf(vargs, sizeof(vargs), "role=ping peer=" NE_MAC " count=%d size=300", COUNT);
	vmm_start(&vn, vmm_bin, vn_elf, vn_args);
	vnet_track_vmm(&vn);
	HOST_ASSERT(&vn, vmm_wait_for(&vn, "ready mac " VN_MAC, 60), "virtio guest not ready");

	for (int round = 1; round <= 2; round++) {
		e0 = io_exits(&ne);
		vmm_send(&vn, "g");
		snprintf(want, sizeof(want), "round %d sent %d got %d", round, COUNT + 1,
			 COUNT + 1);
		if (!vmm_wait_for(&vn, want, 60)) {
			vnet_switch_ctl(&sw, "{\"cmd\":\"stats\"}", resp, sizeof(resp));
			fprintf(stderr, "switch stats: %s---- NE2000 VM log ----\n%s\n", resp,
				ne.err ? ne.err : "");
			host_fail(&vn, __FILE__, __LINE__, "round", "round %d incomplete", round);
		}
		e1 = io_exits(&ne);
		/* Idle ISR polls between frames count too: an upper bound on the per-frame cost. */
		printf("ne2k-switch round %d: %d requests answered, NE2000 VM %.1f exits per frame "
		       "(received or sent, idle polling included)\n",
		       round, COUNT + 1, (double)(e1 - e0) / (2.0 * (COUNT + 1)));
	}
	quit(&vn);
	quit(&ne);
	replies = out_num(&ne, "ne2k: served", "test_replies=");
	HOST_ASSERT(&ne, replies == 2 * (COUNT + 1), "NE2000 guest answered %lu requests", replies);
	HOST_ASSERT(&vn, out_num(&vn, "ping done", "rx=") == 2 * (COUNT + 1),
		    "virtio guest counters");

	vnet_switch_ctl(&sw, "{\"cmd\":\"fdb-show\"}", resp, sizeof(resp));
	HOST_ASSERT(NULL, vnet_fdb_has(resp, NE_MAC, "ne") && vnet_fdb_has(resp, VN_MAC, "vn"),
		    "fdb misses a guest MAC: %s", resp);
	HOST_ASSERT(NULL,
		    vnet_switch_port_stats(&sw, "ne", &pn) == 0 &&
			    vnet_switch_port_stats(&sw, "vn", &pv) == 0,
		    "switch stats");
	printf("switch ne rx %lu tx %lu, vn rx %lu tx %lu\n", pn.rx_packets, pn.tx_packets,
	       pv.rx_packets, pv.tx_packets);
	HOST_ASSERT(NULL, pn.rx_packets >= 2 * (COUNT + 1) && pv.tx_packets >= 2 * (COUNT + 1),
		    "switch counted fewer frames from the NE2000 port than the guest sent");
	vnet_untrack_vmm(&vn);
	vnet_untrack_vmm(&ne);
	vmm_cleanup(&vn);
	vmm_cleanup(&ne);
	vnet_switch_stop(&sw);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/nfv-ne2ksw-XXXXXX";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4)
		return 2;
	vmm_bin = argv[1];
	ne_elf = argv[2];
	vn_elf = argv[3];
	for (int i = 4; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "--switch"))
			switch_bin = argv[i + 1];
	if (!switch_bin || access(switch_bin, X_OK))
		host_skip("nfv-switch is not built (DPDK missing)");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	vnet_host_init(dir);
	run(dir);
	vnet_host_ok();
	vnet_host_cleanup();
	printf("ne2k-switch: ok\n");
	return 0;
}
