/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helper processes of the C tests: the real programs a test runs next to itself (dpdk-testpmd,
 * nfv-switch, OVS-DPDK) are started, awaited and stopped through this one library, so that every
 * test gets the same guarantees:
 *
 *   - a helper runs in its own process group (a terminal's ^C reaches the test, not the DPDK
 *     process), dies with the test (PR_SET_PDEATHSIG), and has its stdout+stderr in a log file:
 *     a file the caller names, or an anonymous one (unlinked at once, gone with the helper);
 *   - every wait has a timeout, and when it fails it prints one message naming what was awaited
 *     and from which program, followed by the tail of that program's log;
 *   - stopping signals the group, waits, then SIGKILLs and reaps: nothing is left running.
 *
 * Fallible calls return 0 or -errno (warn_unused_result) and print their own diagnostics on
 * stderr, where the context is, so callers only record the failure. Test-only: not thread-safe,
 * and the caller must not reap helpers itself (no waitpid(-1, ...)).
 *
 * Depends on libc only, so test programs that link no nfvisor library (guest-test host halves) can
 * use it too.
 */
#ifndef NFV_TESTS_TESTPROC_H
#define NFV_TESTS_TESTPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TPROC_WUR __attribute__((warn_unused_result))

/* ---- Any helper process ---- */

struct tproc {
	pid_t pid;	 /* > 0 from start until stopped; also its process group */
	bool reaped;	 /* it exited and was reaped: pid is no longer ours to signal */
	int status;	 /* wait status once reaped, else -1 */
	int in;		 /* write end of its stdin pipe, or -1 */
	int log_fd;	 /* our read end of its log, or -1 */
	char name[32];	 /* for messages */
	char log[160];	 /* path of its log; "" when anonymous */
	uint64_t log_off; /* where in the log file its output (this start) continues */
	uint64_t total;	 /* bytes of its output read so far: positions count from its start */
	char buf[65536]; /* the last of those bytes (all of them while they fit) */
	size_t len;	 /* bytes in buf: positions [total - len, total); buf[len] == 0 */
};

#define TPROC_INIT { .pid = -1, .status = -1, .in = -1, .log_fd = -1 }

struct tproc_cfg {
	const char *name;	 /* for messages; default: argv[0] */
	const char *const *argv; /* NULL-terminated; argv[0] is looked up in PATH */
	const char *log;	 /* stdout+stderr appended here; NULL: an anonymous log */
	bool stdin_pipe;	 /* stdin is a pipe whose write end is tproc.in; else /dev/null */
};

/*
 * Start @cfg->argv. 0 (p->pid > 0), or -errno after a message (nothing started; p as after
 * TPROC_INIT). A failed exec shows as an exit with status 127.
 */
int tproc_start(struct tproc *p, const struct tproc_cfg *cfg) TPROC_WUR;

/* Has it exited? Reaps it (status in p->status) if so; false before start and after stop. */
bool tproc_exited(struct tproc *p);

/*
 * Read its output until @pat appears at or after position @from (p->total at some earlier time; 0:
 * anywhere), for up to @timeout_ms. 0, -ETIMEDOUT, or -ESRCH when it exited without printing @pat.
 * Only the last 64 KiB are kept: a @from older than that counts from the oldest byte kept.
 */
int tproc_wait_log(struct tproc *p, uint64_t from, const char *pat, int timeout_ms) TPROC_WUR;
/* Read whatever output is new, without waiting. */
void tproc_pull(struct tproc *p);
/* Its output from position @from on (clamped to what is kept), NUL-terminated. */
const char *tproc_output(const struct tproc *p, uint64_t from);

/* Wait until @path exists (a socket it creates): 0, -ETIMEDOUT or -ESRCH (it exited first). */
int tproc_wait_path(struct tproc *p, const char *path, int timeout_ms) TPROC_WUR;

/*
 * Wait until the UNIX stream socket @path accepts a connection (a listening socket exists a moment
 * before it listens): 0, -ETIMEDOUT or -ESRCH.
 */
int tproc_wait_connect(struct tproc *p, const char *path, int timeout_ms) TPROC_WUR;

/* Write @s to its stdin: 0 or -errno (-EPIPE when it is gone; no SIGPIPE is raised). */
int tproc_send(struct tproc *p, const char *s) TPROC_WUR;

/*
 * Stop it: send @sig (0: none, it is expected to exit by itself, e.g. after its stdin closed) and
 * SIGCONT to its group, wait up to @timeout_ms, then SIGKILL and reap. Closes its stdin and log;
 * removes nothing. 0 when it exited within @timeout_ms, -ETIMEDOUT when it had to be killed. Safe
 * on a process never started or already stopped (returns 0).
 */
int tproc_stop(struct tproc *p, int sig, int timeout_ms);

/* tproc_stop's signal-wait-kill-reap for a child that is not a struct tproc; pid <= 0: no-op. */
void tproc_reap_pid(pid_t pid, int sig, int timeout_ms);

/* Print the last @bytes of the file @path on stderr under a "---- path (tail) ----" line. */
void tproc_print_tail(const char *path, size_t bytes);

/*
 * Run @argv (argv[0] looked up in PATH) to completion, stdout+stderr appended to @log (NULL: an
 * anonymous log). 0 when it exited 0; -EIO when it failed (after a message naming the command,
 * how it ended and the log's tail), -errno when it could not be run.
 */
int tproc_run(const char *const *argv, const char *log) TPROC_WUR;

/* ---- dpdk-testpmd (DPDK 22.11, --no-huge --no-pci, -m 256) ---- */

struct testpmd {
	struct tproc proc;
	bool interactive; /* started with -i */
};

#define TESTPMD_INIT { .proc = TPROC_INIT }

struct tp_cfg {
	const char *bin;	   /* dpdk-testpmd */
	const char *lcores;	   /* --lcores, e.g. "0@0,1@0" (both on CPU 0) */
	const char *const *vdevs;  /* --vdev arguments ... */
	unsigned nvdev;		   /* ... up to 4 */
	const char *fwd;	   /* --forward-mode */
	bool interactive;	   /* -i: driven by tp_ready/tp_cmd; else --auto-start */
	bool loop;		   /* --port-topology=loop (each port forwards to itself) */
	unsigned mbufs;		   /* --total-num-mbufs */
	const char *log_level;	   /* EAL --log-level, e.g. "lib.vhost.*:notice"; NULL: default */
	const char *prefix;	   /* DPDK --file-prefix; NULL: "nfvctp<pid>-<n>", new each start */
	const char *log;	   /* its output; NULL: anonymous */
	const char *const *extra;  /* more testpmd options (after --) ... */
	unsigned nextra;	   /* ... up to 8 */
};

/*
 * Start testpmd under `stdbuf -o0` (its stdout is a file, and what it prints must arrive when it is
 * printed) with stdin a pipe. 0 or -errno (-EINVAL: too many vdevs or options).
 */
int tp_start_cfg(struct testpmd *tp, const struct tp_cfg *cfg) TPROC_WUR;
/*
 * Interactive testpmd on lcores @lcores (--total-num-mbufs=8192, port topology loop, vhost logs at
 * notice), up to 4 @vdevs and up to 8 @extra options; anonymous log.
 */
int tp_start_ex(struct testpmd *tp, const char *bin, const char *lcores, const char *const *vdevs,
		unsigned nvdev, const char *fwd, const char *const *extra,
		unsigned nextra) TPROC_WUR;
/*
 * tp_start_ex with one port net_vhost0 on vhost-user socket @sock (client=@client), forwarding
 * mode @fwd, both lcores on CPU 0: the forwarding lcore spins, the other CPU is left alone.
 */
int tp_start(struct testpmd *tp, const char *bin, const char *sock, bool client,
	     const char *fwd) TPROC_WUR;
/* Wait up to 60 s for the prompt, then "start" forwarding (interactive only). */
bool tp_ready(struct testpmd *tp);
/* Its output until @pat appears after position @from (tproc_wait_log), up to @timeout_ms. */
bool tp_wait(struct testpmd *tp, uint64_t from, const char *pat, int timeout_ms);
/* Send a command line and wait for @pat in what follows. */
bool tp_cmd(struct testpmd *tp, const char *cmd, const char *pat, int timeout_ms);
/* RX-packets / TX-packets of one port, asked once. */
bool tp_port_stats(struct testpmd *tp, unsigned port, uint64_t *rx, uint64_t *tx);
/*
 * RX-packets / TX-packets of port 0, re-asked until they agree (up to a second): the forwarding
 * lcore bumps its counters after the burst is handed on, so a frame can be back before it counts.
 */
bool tp_stats(struct testpmd *tp, uint64_t *rx, uint64_t *tx);
/* SIGKILL (after SIGCONT: it may be stopped) and reap. Safe to call twice. */
void tp_kill(struct testpmd *tp);
/*
 * Ask it to exit ("quit" when interactive, else a newline: --auto-start waits for one), close its
 * stdin, wait up to @timeout_ms, then SIGKILL. Safe to call twice.
 */
void tp_quit(struct testpmd *tp, int timeout_ms);

/* ---- nfv-switch (--no-huge --no-pci) ---- */

struct tsw_port {
	const char *name; /* switch port name */
	const char *path; /* vhost-user socket; the switch is the server */
};

struct tsw_cfg {
	const char *bin;	      /* nfv-switch */
	const char *ctl;	      /* --control socket */
	const char *config;	      /* written from @ports and given as --config; NULL: none */
	const struct tsw_port *ports; /* vhost-user server ports with one queue pair ... */
	unsigned nports;	      /* ... created at start through @config */
	unsigned mem_mb;	      /* EAL -m */
	unsigned mbufs;		      /* --mbufs */
	const char *lcores;	      /* EAL --lcores, e.g. "0@0,1@1" */
	const char *log_level;	      /* EAL --log-level; NULL: default */
	const char *prefix;	      /* DPDK --file-prefix; NULL: "nfvcsw<pid>-<n>" per start */
	const char *log;	      /* its output; NULL: anonymous */
	int wait_ms;		      /* > 0: wait that long for @ctl to accept connections */
};

/*
 * Start nfv-switch. 0 or -errno; with @cfg->wait_ms, -ETIMEDOUT/-ESRCH when the control socket
 * did not accept in time (the switch is stopped again then, and its log's tail printed).
 */
int tsw_start(struct tproc *p, const struct tsw_cfg *cfg) TPROC_WUR;
/* SIGTERM, wait up to @timeout_ms, then SIGKILL; reaps. */
void tsw_stop(struct tproc *p, int timeout_ms);
/*
 * One request line to control socket @ctl, one response line into @resp (NUL-terminated, newline
 * kept). 0, -errno of the socket, or -EIO when the switch closed without answering.
 */
int tsw_ctl(const char *ctl, const char *req, char *resp, size_t len) TPROC_WUR;
/*
 * The request that adds a vhost-user server port @name at @path; @extra (may be NULL) is
 * appended inside the JSON object (",\"queues\":1"). Returns snprintf's length.
 */
int tsw_port_add_req(char *buf, size_t len, const char *name, const char *path, const char *extra);
/* Add that port through @ctl: 0, -errno, or -EPROTO when the answer is not ok (printed). */
int tsw_port_add(const char *ctl, const char *name, const char *path, const char *extra) TPROC_WUR;

/* ---- A private OVS-DPDK 3.1 (ovsdb-server + ovs-vswitchd-dpdk, --no-huge --no-pci) ---- */

struct tovs {
	char dir[64];	/* everything lives here: conf.db, db.sock, pid files, logs */
	char db[200];	/* "--db=unix:<dir>/db.sock", for ovs-vsctl */
	char log[128];	/* <dir>/commands.log: output of the commands run */
	bool started;
};

struct tovs_cfg {
	const char *vswitchd;	 /* ovs-vswitchd-dpdk */
	const char *dir;	 /* created (mode 0700); must not exist */
	const char *prefix;	 /* DPDK --file-prefix */
	const char *lcore_mask;	 /* other_config:dpdk-lcore-mask, e.g. "0x1" */
	const char *pmd_mask;	 /* other_config:pmd-cpu-mask, e.g. "0x2" */
};

/* The installed ovsdb schema, or NULL when OVS is not installed. */
const char *tovs_schema(void);
/*
 * Create @cfg->dir, point OVS_RUNDIR/LOGDIR/DBDIR/SYSCONFDIR of this process there, create a fresh
 * database, start ovsdb-server and ovs-vswitchd detached (dpdk-init, -m 3072 --legacy-mem) and add
 * bridge br0 of datapath_type netdev. 0 or -errno; on failure what did start is left for
 * tovs_stop.
 */
int tovs_start(struct tovs *o, const struct tovs_cfg *cfg) TPROC_WUR;
/* ovs-vsctl --db=... --timeout=60 @args... (NULL-terminated, at most 16): 0 or -errno. */
int tovs_vsctl(struct tovs *o, const char *const *args) TPROC_WUR;
/*
 * Stop ovs-vswitchd, then ovsdb-server (SIGTERM, up to 10 s each, then SIGKILL; they are not our
 * children). @keep: leave the directory for reading (its path printed), else remove it.
 */
void tovs_stop(struct tovs *o, bool keep);

#endif
