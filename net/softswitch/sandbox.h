/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfv-switch's seccomp allow-list (`--seccomp on|log|off`).
 *
 * The switch maps the memory of every guest attached to it (vhost-user SET_MEM_TABLE) and parses
 * descriptors the guests write: a bug there must not become a host compromise. Everything that
 * needs wide system access happens while the switch is set up (EAL memory and threads, the mbuf
 * pool, PMD launch, the control socket, the --config ports, the --user drop). After that point it
 * only polls rings, serves its control socket, adds and removes vhost-user ports and the ethdev
 * vdevs that need nothing from the host (net_null, net_ring), and tears ethdevs from --config
 * down. sw_sandbox_apply() is called once, at that point, and installs a filter on every thread of
 * the process (TSYNC; threads started later inherit it) that allows exactly the system calls
 * listed in sandbox.c:
 *
 *   on  (default): any other call kills the whole process (SECCOMP_RET_KILL_PROCESS; the kernel
 *       logs an audit record, `dmesg | grep type=1326`, with syscall=N);
 *   log: the same list, but a call outside it is logged the same way (sig=0) and allowed, which is
 *       how the list is found and maintained;
 *   off: no filter (a warning says so).
 *
 * Ethdev vdevs that reach the host network (net_tap, net_af_packet and every other driver not on
 * the run-time list) would need network sockets, netlink and interface ioctls, which root could
 * use to reconfigure the host: under a filter they are refused at run time
 * (sw_sandbox_hotplug_check()) and belong in --config, as after --user.
 *
 * NO_NEW_PRIVS must already be set on every thread (main.c sets it before EAL starts any).
 * Not thread-safe: call the functions from main() (sw_sandbox_hotplug_check() from the control
 * thread, with the filter state fixed).
 */
#ifndef NFV_SWITCH_SANDBOX_H
#define NFV_SWITCH_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "scfilter.h"

struct sw_sandbox_cfg {
	enum scf_mode mode;   /* --seccomp on|log|off (core/scfilter.h) */
	bool selftest;	      /* --seccomp-selftest: TEST ONLY, see sw_sandbox_apply() */
	bool socket_group;    /* --socket-group given: new server sockets are chowned to ... */
	gid_t socket_gid;     /* ... this group (the only chown the filter lets through) */
	bool ethdev_ports;    /* an ethdev port exists (from --config): allow its teardown calls */
};

/*
 * Install the filter described above (nothing for SCF_OFF but the warning). Call once,
 * after set-up and the --user drop, before serving. Returns 0, or -errno (logged) when the filter
 * could not be built or loaded: the switch is then not confined and must not serve.
 *
 * TEST ONLY: with cfg->selftest, once the filter is loaded this makes one system call that is not
 * on the list (personality(0xffffffff), a harmless query). With "on" the kernel kills the process
 * with SIGSYS there; with "log" or "off" the call returns, is logged, and so does this function.
 */
int sw_sandbox_apply(const struct sw_sandbox_cfg *cfg) __attribute__((warn_unused_result));

/*
 * May an ethdev with @devargs be probed now? Always yes before sw_sandbox_apply() and with
 * "off"; under a filter only the drivers on the run-time list (vdevs that need no host access).
 * Returns 0, or -EPERM with a message for the requester in @err (not logged).
 */
int sw_sandbox_hotplug_check(const char *devargs, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
