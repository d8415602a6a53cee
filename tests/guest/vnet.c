// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net end to end: guests with the freestanding virtio-net driver (lib/virtio_net_drv.h)
 * exchange Ethernet frames through nfv-vmm's virtio-net device and a real vhost-user backend
 * (nfv-switch or dpdk-testpmd). The guest half (vnet_guest.c) plays one role per VM; this file is
 * the host half, one test case per argument:
 *
 *   pair     two VMs on two switch ports: A sends N unicast frames to B's MAC and a broadcast, B
 *            answers each (two rounds); both count; the switch has learned both MACs on the right
 *            ports and its port counters agree with the guests' counts. B halts while idle and is
 *            woken by its receive queue's MSI-X interrupt (EVENT_IDX, irqfd path).
 *   vlan     two VMs on access ports of VLANs 10 and 20 exchange nothing; after B's port moves to
 *            VLAN 10 the same round gets every answer (1514-byte frames; B with MRG_RXBUF).
 *   testpmd  one VM against dpdk-testpmd net_vhost in macswap mode, then (a new testpmd on the same
 *            socket, the VM reconnecting) in io mode: every frame comes back both times.
 *   restart  two VMs streaming through the switch; the switch is killed (SIGKILL) and started
 *            again: the guest sees link down then up (device config status) and frames flow again
 *            without restarting the VMs.
 *
 * usage: vnet-test NFV_VMM GUEST_ELF CASE [--switch BIN] [--testpmd BIN]
 * Exit 77 (skip) when nfv-switch or dpdk-testpmd is not built or cannot start here.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
#include "vnet_host.h"

#define MAC_A "52:54:00:00:0a:01"
#define MAC_B "52:54:00:00:0b:02"
#define NFRAMES 32

static const char *vmm_bin, *guest_elf, *switch_bin, *testpmd_bin;
static char tmpdir[64];

static void vm_start(struct vmm_proc *p, const char *name, const char *sock, const char *mac,
		     const char *gargs)
{
	static char dev[2][256];
	static int n;
	char *d = dev[n++ & 1];
	const char *args[] = {"--name",	    name,	"--memory", "64M",	    "--mem-backing",
			      "memfd",	    "--device", d,	    "--guest-args", gargs,
			      "--vcpu-pin", "0:0",	NULL};

	snprintf(d, 256, "virtio-net,socket=%s,mac=%s,slot=4", sock, mac);
	vmm_start(p, vmm_bin, guest_elf, args);
	vnet_track_vmm(p);
}

static void vm_done(struct vmm_proc *p)
{
	vnet_untrack_vmm(p);
	vmm_cleanup(p);
}

/* The number after @field on the guest's report line starting with @line (guest reports are in
 * the VMM's log), or ULONG_MAX. */
static unsigned long out_num(struct vmm_proc *p, const char *line, const char *field)
{
	const char *s = p->err ? strstr(p->err, line) : NULL;
	const char *eol = s ? strchr(s, '\n') : NULL;

	s = s ? strstr(s, field) : NULL;
	if (!s || (eol && s > eol))
		return (unsigned long)-1;
	return strtoul(s + strlen(field), NULL, 10);
}

/* Echo the guest's report lines that contain @needle. */
static void show_guest(struct vmm_proc *p, const char *who, const char *needle)
{
	for (const char *s = p->err; s && (s = strstr(s, "guest vCPU")); s++) {
		const char *eol = strchr(s, '\n');
		int n = eol ? (int)(eol - s) : (int)strlen(s);
		const char *hit = strstr(s, needle);

		if (hit && (!eol || hit < eol))
			printf("%s: %.*s\n", who, n, s);
	}
}

static void vm_quit(struct vmm_proc *p)
{
	int st;

	vmm_send(p, "q");
	st = vmm_wait(p, 30);
	HOST_ASSERT(p, st == 0, "exit status %d", st);
}

/* ---- cases ---- */

/* Two guests through nfv-switch; @packed: both drive packed virtqueues (s2.8). */
static int case_pair(bool packed)
{
	const char *pk = packed ? " packed=1" : "";
	struct vnet_switch sw;
	struct vmm_proc a, b;
	char sa[128], sb[128], resp[8192], gargs[128];
	struct vnet_port_stats pa, pb;
	unsigned long a_tx, a_rx, b_tx, b_rx;
	int st;

	vnet_switch_start(&sw, switch_bin, tmpdir);
	snprintf(sa, sizeof(sa), "%s/a.sock", tmpdir);
	snprintf(sb, sizeof(sb), "%s/b.sock", tmpdir);
	vnet_switch_port_add(&sw, "pa", sa, NULL);
	vnet_switch_port_add(&sw, "pb", sb, NULL);

	/* B halts between frames (idle=1) with no timer tick (tick=0): only its receive queue's
	 * MSI-X interrupt wakes it, and it ends by itself after answering both rounds. */
	snprintf(gargs, sizeof(gargs), "role=echo idle=1 tick=0 frames=%d%s", 2 * (NFRAMES + 1),
		 pk);
	vm_start(&b, "vnetb", sb, MAC_B, gargs);
	snprintf(gargs, sizeof(gargs), "role=ping peer=%s count=%d%s", MAC_B, NFRAMES, pk);
	vm_start(&a, "vneta", sa, MAC_A, gargs);
	HOST_ASSERT(&b, vmm_wait_for(&b, "ready", 60), "echo guest not ready");
	HOST_ASSERT(&a, vmm_wait_for(&a, "ready", 60), "ping guest not ready");
	HOST_ASSERT(&a, vmm_output_has(&a, "mac " MAC_A), "guest read a different MAC");
	if (packed) {
		show_guest(&a, "A", "features");
		show_guest(&b, "B", "features");
	}
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 1 sent 33 got 33", 30), "round 1 did not complete");
	usleep(100000); /* B goes back to sleep */
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 2 sent 33 got 33", 30), "round 2 did not complete");
	vm_quit(&a);
	st = vmm_wait(&b, 30);
	HOST_ASSERT(&b, st == 0, "B exit status %d", st);
	show_guest(&b, "B", "echo done");
	/* B was asleep when a round began (it halts ~15 us after its last frame; rounds are 100 ms
	 * apart): the receive vector woke it. */
	HOST_ASSERT(&b,
		    out_num(&b, "echo done", "sleeps=") > 0 &&
			    out_num(&b, "echo done", "irqs=") > 0,
		    "B did not sleep or was never woken by its receive interrupt");
	a_tx = out_num(&a, "ping done", "tx=");
	a_rx = out_num(&a, "ping done", "rx=");
	b_rx = out_num(&b, "echo done", "rx=");
	b_tx = out_num(&b, "echo done", "tx=");
	printf("guest A tx %lu rx %lu, guest B rx %lu tx %lu\n", a_tx, a_rx, b_rx, b_tx);
	HOST_ASSERT(&a, a_tx == 2 * (NFRAMES + 1) && a_rx == 2 * (NFRAMES + 1),
		    "A counted tx %lu rx %lu", a_tx, a_rx);
	HOST_ASSERT(&b, b_tx == 2 * (NFRAMES + 1) && b_rx == 2 * (NFRAMES + 1),
		    "B counted rx %lu tx %lu", b_rx, b_tx);

	/* The switch learned both MACs on their ports (independent learning, VLAN 0). */
	vnet_switch_ctl(&sw, "{\"cmd\":\"fdb-show\"}", resp, sizeof(resp));
	printf("fdb: %s", resp);
	HOST_ASSERT(NULL, vnet_fdb_has(resp, MAC_A, "pa") && vnet_fdb_has(resp, MAC_B, "pb"),
		    "fdb misses a guest MAC: %s", resp);
	/* Port counters agree with the guests: what A sent entered pa, what B received left pb...
	 */
	HOST_ASSERT(NULL,
		    vnet_switch_port_stats(&sw, "pa", &pa) == 0 &&
			    vnet_switch_port_stats(&sw, "pb", &pb) == 0,
		    "switch stats");
	printf("switch pa rx %lu tx %lu, pb rx %lu tx %lu\n", pa.rx_packets, pa.tx_packets,
	       pb.rx_packets, pb.tx_packets);
	HOST_ASSERT(NULL, pa.rx_packets == a_tx && pa.tx_packets == a_rx, "port pa vs guest A");
	HOST_ASSERT(NULL, pb.rx_packets == b_tx && pb.tx_packets == b_rx, "port pb vs guest B");
	vm_done(&a);
	vm_done(&b);
	vnet_switch_stop(&sw);
	return 0;
}

static int case_vlan(void)
{
	struct vnet_switch sw;
	struct vmm_proc a, b;
	char sa[128], sb[128], gargs[128], resp[1024];
	unsigned long b_rx;

	vnet_switch_start(&sw, switch_bin, tmpdir);
	snprintf(sa, sizeof(sa), "%s/a.sock", tmpdir);
	snprintf(sb, sizeof(sb), "%s/b.sock", tmpdir);
	vnet_switch_port_add(&sw, "pa", sa, ",\"vlan_mode\":\"access\",\"vlan\":10");
	vnet_switch_port_add(&sw, "pb", sb, ",\"vlan_mode\":\"access\",\"vlan\":20");

	/* Full-size frames this time, and B negotiates mergeable receive buffers when offered. */
	vm_start(&b, "vnetb", sb, MAC_B, "role=echo mrg=1");
	snprintf(gargs, sizeof(gargs), "role=ping peer=%s count=%d size=1514", MAC_B, NFRAMES);
	vm_start(&a, "vneta", sa, MAC_A, gargs);
	HOST_ASSERT(&b, vmm_wait_for(&b, "ready", 60), "echo guest not ready");
	HOST_ASSERT(&a, vmm_wait_for(&a, "ready", 60), "ping guest not ready");
	show_guest(&b, "B", "features");
	/* Round 1, different VLANs: nothing may arrive; the host ends the round after 2 s. */
	vmm_send(&a, "g");
	HOST_ASSERT(&a, !vmm_wait_for(&a, "round 1 sent 33 got 33", 2), "frames crossed VLANs");
	vmm_send(&a, "x");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 1 sent 33 got 0", 30), "round 1 result");
	/* Round 2, same VLAN. */
	vnet_switch_ctl(
		&sw,
		"{\"cmd\":\"port-set-vlan\",\"name\":\"pb\",\"vlan_mode\":\"access\",\"vlan\":10}",
		resp, sizeof(resp));
	HOST_ASSERT(NULL, strstr(resp, "\"ok\":true"), "port-set-vlan: %s", resp);
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 2 sent 33 got 33", 30),
		    "same VLAN: round 2 incomplete");
	vm_quit(&a);
	vm_quit(&b);
	b_rx = out_num(&b, "echo done", "rx=");
	HOST_ASSERT(&b, b_rx == NFRAMES + 1, "B received %lu frames in both rounds, want %d", b_rx,
		    NFRAMES + 1);
	printf("vlan 10 vs 20: 0 of 33 answered; both in 10: 33 of 33\n");
	vm_done(&a);
	vm_done(&b);
	vnet_switch_stop(&sw);
	return 0;
}

static int case_testpmd(void)
{
	struct vnet_testpmd tp;
	struct vmm_proc a;
	char sock[128], vdev[256], resp[2048];

	snprintf(sock, sizeof(sock), "%s/tp.sock", tmpdir);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1", sock);
	/* macswap: every frame comes back addressed to us */
	vnet_testpmd_start(&tp, testpmd_bin, tmpdir, vdev, NULL, "macswap");
	vm_start(&a, "vneta", sock, MAC_A, "role=ping peer=02:00:00:00:00:99 count=32 match=any");
	HOST_ASSERT(&a, vmm_wait_for(&a, "ready", 60), "ping guest not ready");
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 1 sent 33 got 33", 30),
		    "macswap: frames did not come back");
	/* io: a new testpmd on the same socket loops frames back unchanged; the VM reconnects */
	vnet_testpmd_stop(&tp);
	vnet_testpmd_start(&tp, testpmd_bin, tmpdir, vdev, NULL, "io");
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "round 2 sent 33 got 33", 60),
		    "io: frames did not come back");
	HOST_ASSERT(&a,
		    vmm_control(&a, "{\"cmd\":\"info\"}", resp, sizeof(resp)) == 0 &&
			    strstr(resp, "\"link\":\"up\""),
		    "link not up after the backend change: %s", resp);
	vm_quit(&a);
	vm_done(&a);
	vnet_testpmd_stop(&tp);
	printf("testpmd macswap: 33 of 33 back; testpmd io (after a backend restart): 33 of 33 "
	       "back\n");
	return 0;
}

/* nfv-switch killed under traffic and restarted; @packed: on packed virtqueues (s2.8). */
static int case_restart(bool packed)
{
	const char *pk = packed ? " packed=1" : "";
	struct vnet_switch sw;
	struct vmm_proc a, b;
	char sa[128], sb[128], gargs[128], resp[1024];

	vnet_switch_start(&sw, switch_bin, tmpdir);
	snprintf(sa, sizeof(sa), "%s/a.sock", tmpdir);
	snprintf(sb, sizeof(sb), "%s/b.sock", tmpdir);
	vnet_switch_port_add(&sw, "pa", sa, NULL);
	vnet_switch_port_add(&sw, "pb", sb, NULL);
	snprintf(gargs, sizeof(gargs), "role=echo%s", pk);
	vm_start(&b, "vnetb", sb, MAC_B, gargs);
	snprintf(gargs, sizeof(gargs), "role=stream peer=%s%s", MAC_B, pk);
	vm_start(&a, "vneta", sa, MAC_A, gargs);
	HOST_ASSERT(&b, vmm_wait_for(&b, "ready", 60), "echo guest not ready");
	HOST_ASSERT(&a, vmm_wait_for(&a, "ready", 60), "stream guest not ready");
	if (packed)
		show_guest(&a, "A", "features");
	vmm_send(&a, "g");
	HOST_ASSERT(&a, vmm_wait_for(&a, "flowing 1", 30), "no traffic before the restart");

	vnet_switch_kill(&sw);
	HOST_ASSERT(&a, vmm_wait_for(&a, "link down", 30), "guest did not see the link go down");
	vnet_switch_start(&sw, switch_bin, tmpdir);
	vnet_switch_port_add(&sw, "pa", sa, NULL);
	vnet_switch_port_add(&sw, "pb", sb, NULL);
	HOST_ASSERT(&a, vmm_wait_for(&a, "link up 2", 60), "guest did not see the link come back");
	HOST_ASSERT(&a, vmm_wait_for(&a, "flowing 2", 60),
		    "traffic did not resume after the restart");
	HOST_ASSERT(&a, vmm_control(&a, "{\"cmd\":\"info\"}", resp, sizeof(resp)) == 0, "control");
	printf("nfv-vmm info after the restart: %s", resp);
	HOST_ASSERT(&a, strstr(resp, "\"link\":\"up\"") && !strstr(resp, "\"link_down_events\":0"),
		    "nfv-vmm does not report the link loss: %s", resp);
	vm_quit(&a);
	vm_quit(&b);
	show_guest(&a, "A", "link");
	show_guest(&a, "A", "flowing");
	show_guest(&a, "A", "stream done");
	vm_done(&a);
	vm_done(&b);
	vnet_switch_stop(&sw);
	printf("restart: link down, up, traffic resumed in the same VMs\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *c;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4) {
		fprintf(stderr,
			"usage: %s NFV_VMM GUEST_ELF "
			"pair|packed|vlan|testpmd|restart|packed-restart "
			"[--switch BIN] "
			"[--testpmd BIN]\n",
			argv[0]);
		return 2;
	}
	vmm_bin = argv[1];
	guest_elf = argv[2];
	c = argv[3];
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--switch"))
			switch_bin = argv[i + 1];
		else if (!strcmp(argv[i], "--testpmd"))
			testpmd_bin = argv[i + 1];
	}
	if (!strcmp(c, "testpmd") ? !testpmd_bin || access(testpmd_bin, X_OK)
				  : !switch_bin || access(switch_bin, X_OK))
		host_skip("%s is not built or not installed (DPDK missing)",
			  !strcmp(c, "testpmd") ? "dpdk-testpmd" : "nfv-switch");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nfv-vnet-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	vnet_host_init(tmpdir);
	if (!strcmp(c, "pair"))
		ret = case_pair(false);
	else if (!strcmp(c, "packed"))
		ret = case_pair(true);
	else if (!strcmp(c, "vlan"))
		ret = case_vlan();
	else if (!strcmp(c, "testpmd"))
		ret = case_testpmd();
	else if (!strcmp(c, "restart"))
		ret = case_restart(false);
	else if (!strcmp(c, "packed-restart"))
		ret = case_restart(true);
	else
		ret = 2;
	if (!ret) {
		vnet_host_ok();
		printf("vnet-%s: ok\n", c);
	}
	vnet_host_cleanup();
	return ret;
}
