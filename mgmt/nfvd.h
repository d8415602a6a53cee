/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfvd internals: the daemon state, domain objects and their lifecycle.
 *
 * nfvd is single-threaded: one evloop serves the API socket, client connections and one pidfd per
 * running nfv-vmm. Calls to the switch and VMM control sockets are synchronous with short
 * timeouts, so every API request sees a consistent state.
 *
 * State directory layout (default /var/lib/nfvisor):
 *   domains/NAME.xml      persistent definitions (written atomically: temp + fsync + rename)
 *   autostart/NAME        present when NAME starts with the daemon
 *   runtime/NAME.json     one per running domain: nfv-vmm pid and start time, switch ports, paths
 *   runtime/NAME.vf.json  the VF leases nfvd holds for NAME (nfvd_vf.h)
 *   logs/NAME.log         nfv-vmm output and nfvd's lifecycle events for NAME
 * Run directory (default /run/nfvisor): nfvd.sock, NAME.ctl (VMM control), NAME.xml (live XML given
 * to nfv-vmm), NAME.console (serial socket for pty consoles), PORT.sock (switch vhost-user
 * sockets).
 */
#ifndef NFV_MGMT_NFVD_H
#define NFV_MGMT_NFVD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain.h"
#include "evloop.h"
#include "ovs.h"
#include "strbuf.h"

#define NFVD_MAX_DOMAINS 256

struct nfvd_cfg {
	const char *state_dir;
	const char *run_dir;
	const char *socket_path;
	const char *switch_socket; /* nfv-switch control socket */
	const char *vmm_path;	   /* nfv-vmm binary */
	gid_t socket_gid;	   /* (gid_t)-1: API socket mode 0600, else 0660 with this group */
	/* --network entries: which backend serves <source bridge|network='NAME'>; names not
	 * listed are nfv-switch's */
	struct ovs_network *networks;
	size_t n_networks;
	bool no_autostart;
	const char *sysfs_root; /* NULL: "/sys"; --sysfs-root points nfvd at a fake tree in tests */
	/* --vmm-user: nfv-vmm drops to this uid/gid after set-up (its `--user`); the run-dir files
	 * it must reach again later (switch vhost-user sockets it reconnects to) are given to it */
	bool vmm_drop;
	uid_t vmm_uid;
	gid_t vmm_gid;
};

enum nfvd_state {
	NFVD_SHUTOFF = 0,
	NFVD_RUNNING,
	NFVD_CRASHED, /* stopped by a crash; on_crash='destroy' leaves it here */
};

struct nfvd;
struct sriov;
struct sriov_lease;

struct nfvd_dom {
	struct nfvd *nfvd; /* back pointer for event callbacks */
	char *name;
	struct domain_def *def;	 /* persistent definition */
	struct domain_def *live; /* running copy (live vcpupin changes it), NULL when shut off */
	bool autostart;
	enum nfvd_state state;
	char reason[64]; /* last state change reason: "booted", "shutdown", "destroyed",
			    "crashed"... */

	/* running */
	int id;		     /* virsh-style id, > 0 while running */
	pid_t pid;	     /* nfv-vmm */
	uint64_t starttime;  /* /proc/PID/stat field 22, guards against pid reuse */
	int pidfd;	     /* watched in the evloop */
	bool child;	     /* our child (exit status known) or adopted after a restart */
	bool stopping;	     /* destroy/reboot requested: the exit is not a crash */
	uint64_t started_ms; /* clock_ms() at start */
	time_t started_wall;
	char **ports;	  /* switch ports this nfvd created for the domain */
	char **port_nets; /* per port: the --network it belongs to, NULL for nfv-switch */
	size_t n_ports;
	struct sriov_lease **leases; /* VFs nfvd prepared, in order (nfvd_vf.h) */
	size_t n_leases;
	unsigned restarts; /* on_crash/on_poweroff restarts in the current window */
	uint64_t restart_window_ms;
	int last_exit; /* last nfv-vmm exit status (or 128+signal), -1 unknown */
};

struct nfvd {
	struct nfvd_cfg cfg;
	struct evloop *loop;
	int listen_fd;
	struct nfvd_dom *doms[NFVD_MAX_DOMAINS];
	size_t n_doms;
	int next_id;
	struct sriov *sriov; /* created on first use (nfvd_vf.c) */
	bool switch_down;    /* the last switch check failed (nfvd_switch_check) */
};

/* Paths: write "@dir/@sub/@name@suffix" (sub may be NULL) into @buf; -ENAMETOOLONG if it does not
 * fit. */
int nfvd_path(char *buf, size_t len, const char *dir, const char *sub, const char *name,
	      const char *suffix) __attribute__((warn_unused_result));

/* Create the state and run directories; load definitions; adopt running VMMs; autostart. */
int nfvd_state_init(struct nfvd *d) __attribute__((warn_unused_result));
void nfvd_state_fini(struct nfvd *d);

struct nfvd_dom *nfvd_find(struct nfvd *d, const char *name);

/*
 * Define (or redefine) a domain from XML, written atomically to the state directory. A running
 * domain keeps its live definition until it stops. On success (*@out)->def->dropped lists the
 * devices DOMAIN_PARSE_DROP_UNSUPPORTED dropped. On failure returns -errno and a message in *@err
 * (free()); -EEXIST when the name exists with another UUID.
 */
int nfvd_define(struct nfvd *d, const char *xml, size_t len, unsigned flags, struct nfvd_dom **out,
		char **err) __attribute__((warn_unused_result));
int nfvd_undefine(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));
int nfvd_set_autostart(struct nfvd *d, struct nfvd_dom *dom, bool on, char **err)
	__attribute__((warn_unused_result));

/* Lifecycle. Each returns 0 or -errno with a message in *@err. */
int nfvd_start(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));
int nfvd_destroy(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));
int nfvd_shutdown(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));
int nfvd_reboot(struct nfvd *d, struct nfvd_dom *dom, char **err)
	__attribute__((warn_unused_result));
int nfvd_vcpupin(struct nfvd *d, struct nfvd_dom *dom, unsigned vcpu, const char *cpuset,
		 char **err) __attribute__((warn_unused_result));

/* Control socket path of a running domain's nfv-vmm. */
int nfvd_dom_ctl_path(struct nfvd *d, const struct nfvd_dom *dom, char *buf, size_t len)
	__attribute__((warn_unused_result));
/* Console socket (serial unix/pty) of a running domain, or "" when it has none. */
void nfvd_dom_console_path(struct nfvd *d, const struct nfvd_dom *dom, char *buf, size_t len);
/* The OVS bridge serving network @name (a <source bridge|network>), or NULL: nfv-switch. */
const struct ovs_target *nfvd_ovs_target(const struct nfvd *d, const char *name);
/* Record a port created for @dom (@net NULL for nfv-switch); -ENOMEM leaves @dom unchanged. */
int nfvd_port_record(struct nfvd_dom *dom, const char *port, const char *net)
	__attribute__((warn_unused_result));
/* Forget all recorded ports (nothing is deleted on the switches). */
void nfvd_ports_forget(struct nfvd_dom *dom);

/* Switch port name for interface @idx (bridge/network: target dev or NAME-ethN), or NULL. */
const char *nfvd_port_name(const struct nfvd_dom *dom, size_t idx, char *buf, size_t len);

const char *nfvd_state_str(enum nfvd_state s);

/* Append a domain event line to logs/NAME.log. */
void nfvd_dom_log(struct nfvd *d, const struct nfvd_dom *dom, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Internal helpers shared by the nfvd files. */
/* Replace *@err with a formatted message (NULL if out of memory) and return @r: the error path of
 * every lifecycle call, `return nfvd_set_err(err, -EINVAL, "...", ...)`. */
int nfvd_set_err(char **err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int nfvd_write_atomic(const char *path, const char *data, size_t len, mode_t mode)
	__attribute__((warn_unused_result));
/* Whole file as a NUL-terminated heap string of at most @max bytes, or NULL (errno set). */
char *nfvd_read_file(const char *path, size_t max, size_t *len_out);
void nfvd_dom_free(struct nfvd_dom *dom);
int nfvd_def_copy(const struct domain_def *def, struct domain_def **out)
	__attribute__((warn_unused_result));
int nfvd_proc_starttime(pid_t pid, uint64_t *out) __attribute__((warn_unused_result));
int nfvd_runtime_save(struct nfvd *d, struct nfvd_dom *dom) __attribute__((warn_unused_result));
void nfvd_runtime_remove(struct nfvd *d, struct nfvd_dom *dom);
/* Watch the domain's nfv-vmm (pidfd in the evloop). */
int nfvd_watch(struct nfvd *d, struct nfvd_dom *dom) __attribute__((warn_unused_result));
/* Release everything a (stopped) domain holds: switch ports, run-dir files, runtime record. */
void nfvd_teardown(struct nfvd *d, struct nfvd_dom *dom);

/*
 * Called every second: when running domains have nfv-switch ports, ask the switch for its ports
 * and re-create the missing ones (a restarted switch starts empty). The VMMs reconnect by
 * themselves; their counters continue, the switch's start again from zero.
 */
void nfvd_switch_check(struct nfvd *d);

/* HTTP API: handle one parsed request, append the full response to @out. */
struct http_req;
void nfvd_api_handle(struct nfvd *d, const struct http_req *req, struct strbuf *out);

#endif
