// SPDX-License-Identifier: GPL-2.0-only
/* Host-side helpers of the virtio-net guest tests (see vnet_host.h). */
#include "vnet_host.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TRACK 8

static char host_dir[64];
static bool host_ok, switch_started_once;
static struct tproc *helpers[MAX_TRACK]; /* switches and testpmds */
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

void vnet_host_cleanup(void)
{
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (vmms[i] && vmms[i]->status < 0)
			tproc_reap_pid(vmms[i]->pid, SIGKILL, 5000);
		vmms[i] = NULL;
	}
	for (unsigned i = 0; i < MAX_TRACK; i++) {
		if (helpers[i])
			(void)tproc_stop(helpers[i], SIGKILL, 5000);
		helpers[i] = NULL;
	}
	if (!host_ok) {
		for (unsigned i = 0; i < nlogs; i++)
			tproc_print_tail(logs[i], 3000);
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

void vnet_switch_start(struct vnet_switch *sw, const char *bin, const char *dir)
{
	char prefix[64];
	struct tsw_cfg c = { .bin = bin, .ctl = sw->ctl, .mem_mb = 512, .mbufs = 8191,
			     .lcores = "0,1", .log_level = "lib.vhost.*:warning", .prefix = prefix,
			     .log = sw->log, .wait_ms = 30000 };

	snprintf(sw->ctl, sizeof(sw->ctl), "%s/switch.sock", dir);
	snprintf(sw->log, sizeof(sw->log), "%s/switch.log", dir);
	snprintf(prefix, sizeof(prefix), "nfvvnet%d", (int)getpid());
	fprintf(stderr, "+ %s ... --control %s (log %s)\n", bin, sw->ctl, sw->log);
	add_log(sw->log);
	if (tsw_start(&sw->proc, &c) == 0) {
		track((void **)helpers, &sw->proc);
		switch_started_once = true;
		return;
	}
	/* tsw_start printed what it waited for and the log's tail. */
	if (!switch_started_once) {
		host_ok = true; /* a skip, not a failure: no second copy of the log */
		host_skip("nfv-switch did not start here (DPDK cannot run?)");
	}
	host_fail(NULL, __FILE__, __LINE__, "switch start", "nfv-switch did not start again");
}

void vnet_switch_kill(struct vnet_switch *sw)
{
	(void)tproc_stop(&sw->proc, SIGKILL, 5000);
	untrack((void **)helpers, &sw->proc);
}

void vnet_switch_stop(struct vnet_switch *sw)
{
	tsw_stop(&sw->proc, 20000);
	untrack((void **)helpers, &sw->proc);
}

void vnet_switch_ctl(struct vnet_switch *sw, const char *req, char *resp, size_t len)
{
	int ret = tsw_ctl(sw->ctl, req, resp, len);

	if (ret == -EIO)
		host_fail(NULL, __FILE__, __LINE__, req, "no answer from the switch");
	if (ret)
		host_fail(NULL, __FILE__, __LINE__, req, "switch control: %s", strerror(-ret));
}

void vnet_switch_port_add(struct vnet_switch *sw, const char *name, const char *path,
			  const char *extra)
{
	/* tsw_port_add prints the request and the answer when it fails. */
	if (tsw_port_add(sw->ctl, name, path, extra))
		host_fail(NULL, __FILE__, __LINE__, "port-add", "port-add of %s failed", name);
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
	char prefix[64], sock[200];
	const char *vdevs[2] = { vdev0, vdev1 }, *s;
	/* One port: it forwards to itself. */
	struct tp_cfg c = { .bin = bin, .lcores = "0,1", .vdevs = vdevs, .nvdev = vdev1 ? 2 : 1,
			    .fwd = fwd, .loop = !vdev1, .mbufs = 4096,
			    .log_level = "lib.vhost.*:warning", .prefix = prefix, .log = tp->log };

	snprintf(tp->log, sizeof(tp->log), "%s/testpmd.log", dir);
	snprintf(prefix, sizeof(prefix), "nfvvnettp%d", (int)getpid());
	fprintf(stderr, "+ %s ... --forward-mode=%s --vdev %s (log %s)\n", bin, fwd, vdev0,
		tp->log);
	add_log(tp->log);
	if (tp_start_cfg(&tp->tp, &c))
		host_fail(NULL, __FILE__, __LINE__, "testpmd start", "cannot run %s", bin);
	track((void **)helpers, &tp->tp.proc);
	/* net_vhost's socket appears once the port has started */
	s = strstr(vdev0, "iface=");
	snprintf(sock, sizeof(sock), "%s", s ? s + 6 : "");
	if (strchr(sock, ','))
		*strchr(sock, ',') = '\0';
	if (tproc_wait_path(&tp->tp.proc, sock, 30000)) {
		host_ok = true;
		host_skip("dpdk-testpmd did not start here");
	}
}

void vnet_testpmd_stop(struct vnet_testpmd *tp)
{
	/* --auto-start: a newline on stdin ends it; SIGKILL if not within 20 s */
	tp_quit(&tp->tp, 20000);
	untrack((void **)helpers, &tp->tp.proc);
}
