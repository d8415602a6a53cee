/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test/benchmark helper: run dpdk-testpmd with one net_vhost port (--no-huge --no-pci, both lcores
 * on CPU 0) and talk to its interactive prompt through pipes. Test-only.
 */
#ifndef NFV_NET_VIRTIO_TEST_TESTPMD_H
#define NFV_NET_VIRTIO_TEST_TESTPMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct testpmd {
	pid_t pid;
	int in, out; /* its stdin (we write), its stdout+stderr (we read) */
	char buf[65536];
	size_t len;
};

#define TESTPMD_INIT { .pid = -1, .in = -1, .out = -1 }

/* Start testpmd on vhost-user socket @sock (client=@client) with forwarding mode @fwd. */
int tp_start(struct testpmd *tp, const char *bin, const char *sock, bool client, const char *fwd);
/* General form: @lcores for --lcores, up to 4 --vdev arguments, up to 8 extra testpmd options. */
int tp_start_ex(struct testpmd *tp, const char *bin, const char *lcores, const char *const *vdevs,
		unsigned nvdev, const char *fwd, const char *const *extra, unsigned nextra);
/* RX-packets / TX-packets of one port, asked once. */
bool tp_port_stats(struct testpmd *tp, unsigned port, uint64_t *rx, uint64_t *tx);
/* Wait for the prompt, then "start" forwarding. */
bool tp_ready(struct testpmd *tp);
/* Read output until @pat appears after offset @from, up to @timeout_ms. */
bool tp_wait(struct testpmd *tp, size_t from, const char *pat, int timeout_ms);
/* Send a command line and wait for @pat in what follows. */
bool tp_cmd(struct testpmd *tp, const char *cmd, const char *pat, int timeout_ms);
/* RX-packets / TX-packets of port 0 (re-asked until they agree, up to a second). */
bool tp_stats(struct testpmd *tp, uint64_t *rx, uint64_t *tx);
/* SIGKILL (after SIGCONT) and reap; closes the pipes. Safe to call twice. */
void tp_kill(struct testpmd *tp);
/* "quit", wait up to 5 s, then tp_kill. */
void tp_quit(struct testpmd *tp);

/*
 * nfv-switch with one vhost-user server port per @paths[i] (named p0, p1...), control socket in
 * @dir; PMD on CPU 1. Returns the pid (> 0) or -errno. The caller waits for the sockets.
 */
pid_t sw_start(const char *bin, const char *dir, const char *const *paths, unsigned n);
/* SIGTERM, up to 5 s, then SIGKILL; reaps. */
void sw_stop(pid_t pid);

#endif
