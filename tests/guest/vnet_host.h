/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-side helpers of the virtio-net guest tests (vnet.c): run the real nfv-switch and
 * dpdk-testpmd as vhost-user backends for nfv-vmm, talk to the switch's control socket, and make
 * sure every process started here is gone when the test exits, whichever way it exits (atexit,
 * SIGTERM from the test runner's timeout). DPDK processes run with --no-huge --no-pci, each with
 * its own --file-prefix, the switch's PMD on lcore 1 (CPU 1).
 */
#ifndef NFV_TESTS_VNET_HOST_H
#define NFV_TESTS_VNET_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "testproc.h"

struct vmm_proc;

struct vnet_switch {
	struct tproc proc;
	char ctl[100]; /* control socket (fits sun_path) */
	char log[128]; /* its stdout+stderr */
};

struct vnet_port_stats {
	unsigned long rx_packets, tx_packets, drop_link_down, drop_vlan;
};

struct vnet_testpmd {
	struct testpmd tp; /* stdin a pipe: a newline ends it */
	char log[128];
};

/* Remember @dir (removed at exit) and install the exit/SIGTERM cleanup. Call once. */
void vnet_host_init(const char *dir);
/* Kill whatever is still running, print the backends' logs unless vnet_host_ok() was called,
 * remove the directory. Runs at exit too. */
void vnet_host_cleanup(void);
void vnet_host_ok(void);
/* Track/untrack a VMM so a failing test does not leave it running. */
void vnet_track_vmm(struct vmm_proc *p);
void vnet_untrack_vmm(struct vmm_proc *p);

/*
 * Start nfv-switch (control socket and log in @dir) and wait for its control socket. The first
 * start in a process skips the test (exit 77) when the switch does not come up, since that means
 * DPDK cannot run here; later starts fail the test.
 */
void vnet_switch_start(struct vnet_switch *sw, const char *bin, const char *dir);
/* SIGKILL (a crash, no clean-up of its sockets) and reap. */
void vnet_switch_kill(struct vnet_switch *sw);
/* SIGTERM, wait up to 20 s, then SIGKILL. */
void vnet_switch_stop(struct vnet_switch *sw);
/* One request line, one response line (NUL-terminated, newline kept). Fails the test on I/O errors.
 */
void vnet_switch_ctl(struct vnet_switch *sw, const char *req, char *resp, size_t len);
/* port-add of a vhost-user server port at @path; @extra is appended inside the JSON object
 * (",..."). */
void vnet_switch_port_add(struct vnet_switch *sw, const char *name, const char *path,
			  const char *extra);
/* Counters of port @name: 0 or -ENOENT. */
int vnet_switch_port_stats(struct vnet_switch *sw, const char *name, struct vnet_port_stats *st)
	__attribute__((warn_unused_result));
/* Does an fdb-show response hold @mac learned on port @port? */
bool vnet_fdb_has(const char *resp, const char *mac, const char *port);

/*
 * dpdk-testpmd with the given vdevs (@vdev1 may be NULL: one port, --port-topology=loop) in
 * forwarding mode @fwd, started with --auto-start on lcore 1 (CPU 1); waits until the first vdev's
 * vhost-user socket exists, and skips the test (exit 77) when it does not appear within 30 s.
 */
void vnet_testpmd_start(struct vnet_testpmd *tp, const char *bin, const char *dir,
			const char *vdev0, const char *vdev1, const char *fwd);
/* A newline on its stdin, up to 20 s for it to exit, then SIGKILL. */
void vnet_testpmd_stop(struct vnet_testpmd *tp);

#endif
