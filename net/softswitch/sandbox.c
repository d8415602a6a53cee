// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switch's seccomp allow-list (contract in sandbox.h).
 *
 * The list was found by running the switch, guest, mgmt and slow suites, tools/demo and the perf
 * scripts with --seccomp log and reading the kernel's audit records (dmesg: "audit: type=1326
 * ... syscall=N"), keeping only calls made after the filter load. Entries marked "seen" were
 * measured so; the others name the code path that needs them. When the switch starts using a new
 * system call after set-up, add it here with its reason (docs/security.md, "nfv-switch").
 */
#include <dlfcn.h>
#include <errno.h>
#include <linux/sockios.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "scfilter.h"
#include "util.h"
#include "sandbox.h"

/* The filter in force, for sw_sandbox_hotplug_check(); set by sw_sandbox_apply(). */
static bool sb_filtered;

/*
 * System calls allowed without argument checks. Anything else kills the process (or is logged,
 * with --seccomp log).
 */
static const int sb_allow[] = {
	/* read, write, close, fcntl (control clients, vhost-user sockets and their kick/call
	 * eventfds, log output), memory, threads, signals and time are in the core base
	 * (core/scfilter.c); socket, clone, mmap, mprotect and prctl are checked there */
	/* seen: a net_tap port's PMD receives with readv and sends with writev on its tun fd */
	SCMP_SYS(readv), SCMP_SYS(writev),
	/* seen: vhost-user SET_MEM_TABLE: the size and block size of each guest memory fd */
	SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	/* seen: vhost-user (numa_realloc) asks on which NUMA node a guest's rings and memory are */
	SCMP_SYS(get_mempolicy),
	/* seen: the control thread's poll loop, vhost-user's fd-set thread (poll), EAL's interrupt
	 * thread (epoll); the fd-set thread's wake-up pipe is made with the first vhost-user port,
	 * which is usually added at run time */
	SCMP_SYS(poll), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl), SCMP_SYS(pipe2),
	/* seen: control socket clients; vhost-user messages carry fds (SCM_RIGHTS: memory tables,
	 * kick and call eventfds, log fd); server ports listen and accept, client ports connect and
	 * reconnect; socket() itself is checked below (AF_UNIX only) */
	SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(connect),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	/* seen: vhost-user ports added and deleted at run time: a stale or deleted server socket is
	 * unlinked; port-add asks whether the directory is writable to explain a failure; thread
	 * names are written to /proc/self/task/N/comm. What these may touch is decided by the
	 * user's file permissions (--user). */
	SCMP_SYS(openat), SCMP_SYS(unlink), SCMP_SYS(access), SCMP_SYS(faccessat),
	SCMP_SYS(faccessat2),
	/* seen: an ethdev hotplug (port-add/port-del of net_null) in a primary EAL process with
	 * shared files tells its secondaries: it lists the runtime directory and locks each of
	 * their sockets (EAL multi-process channel) */
	SCMP_SYS(getdents64), SCMP_SYS(flock),
	/* seen: guest memory unmapped on a new table or a disconnect; malloc; thread stacks. mmap
	 * and mprotect are checked below (never PROT_EXEC). */
	/* seen (a frontend's VHOST_USER_GET_INFLIGHT_FD, any peer may send it): vhost-user makes
	 * the inflight area as a memfd of the requested size and maps it. Memory only. */
	SCMP_SYS(memfd_create), SCMP_SYS(ftruncate),
	/* seen: PMD quiescence waits yield (threads themselves are in the core base: the
	 * vhost-user fd-set and reconnect threads start with the first port of their kind, which
	 * is usually added at run time) */
	SCMP_SYS(sched_yield),
};

/* nfv-switch's rules on top of the core base (core/scfilter.h). */
static int sb_build(scmp_filter_ctx ctx, const void *opaque)
{
	const struct sw_sandbox_cfg *cfg = opaque;
	int ret = scf_allow_list(ctx, sb_allow, ARRAY_SIZE(sb_allow));

	/* Network sockets (AF_INET ioctls of net_tap, AF_PACKET, netlink) are what run-time ethdev
	 * hotplug would need; the base allows AF_UNIX only, and hotplug is refused under the
	 * filter (sw_sandbox_hotplug_check). */
	/* seen (a frontend's VHOST_USER_POSTCOPY_ADVISE, any peer may send it): vhost-user would
	 * open a userfaultfd for postcopy migration, which the switch does not offer. EPERM makes
	 * the library refuse the message instead of the filter killing the switch for a peer. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(userfaultfd), 0);
	/* --socket-group: each server socket added at run time is given to that group, mode 0660
	 * (port.c); no other owner or mode may be set. */
	if (!ret && cfg->socket_group)
		ret = SCF_ALLOW(ctx, chown, SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)-1),
			      SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)cfg->socket_gid));
	if (!ret && cfg->socket_group)
		ret = SCF_ALLOW(ctx, fchownat, SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)-1),
			      SCMP_A3_32(SCMP_CMP_EQ, (uint32_t)cfg->socket_gid));
	if (!ret && cfg->socket_group)
		ret = SCF_ALLOW(ctx, chmod, SCMP_A1_32(SCMP_CMP_EQ, 0660));
	if (!ret && cfg->socket_group)
		ret = SCF_ALLOW(ctx, fchmodat, SCMP_A2_32(SCMP_CMP_EQ, 0660));
	/* seen: an ethdev from --config (net_tap) reads and sets its interface flags through the
	 * socket it opened at set-up: link state for port-list, link down at port-del and exit.
	 * Only with such a port, and only these two requests; creating an interface (TUNSETIFF),
	 * netlink and new network sockets stay refused. */
	if (!ret && cfg->ethdev_ports)
		ret = SCF_ALLOW(ctx, ioctl, SCMP_A1_32(SCMP_CMP_EQ, SIOCGIFFLAGS));
	if (!ret && cfg->ethdev_ports)
		ret = SCF_ALLOW(ctx, ioctl, SCMP_A1_32(SCMP_CMP_EQ, SIOCSIFFLAGS));
	return ret;
}

int sw_sandbox_apply(const struct sw_sandbox_cfg *cfg)
{
	int ret;

	if (cfg->mode != SCF_OFF) {
		/*
		 * rte_eal_cleanup() at exit cancels EAL's multi-process thread, and glibc loads
		 * libgcc_s for the unwinding on the first pthread_cancel(): an executable mapping
		 * the filter refuses. Load it now, for good; the later dlopen inside glibc then
		 * only finds it.
		 */
		if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
			log_warn("seccomp: libgcc_s.so.1 not preloaded (%s): the exit may be "
				 "killed", dlerror());
		ret = scf_install(cfg->mode, sb_build, cfg);
		if (ret)
			return ret;
		sb_filtered = true;
		log_info("seccomp filter installed (%s) on every thread",
			 scf_mode_name(cfg->mode));
	} else {
		log_warn("seccomp is off: the switch is not confined");
	}
	if (cfg->selftest)
		scf_selftest(cfg->mode); /* TEST ONLY (sandbox.h) */
	return 0;
}

/*
 * Drivers that may be probed under the filter: they keep their frames in memory and make no
 * system call beyond the list above (measured: port-add, traffic, port-del). A vdev is matched by
 * the prefix of its device name, as DPDK's vdev bus matches drivers.
 */
static const char *const sb_hotplug_ok[] = { "net_null", "net_ring" };

int sw_sandbox_hotplug_check(const char *devargs, char *err, size_t errlen)
{
	size_t len = strcspn(devargs, ",");

	if (!sb_filtered)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(sb_hotplug_ok); i++) {
		size_t n = strlen(sb_hotplug_ok[i]);

		if (len >= n && !strncmp(devargs, sb_hotplug_ok[i], n))
			return 0;
	}
	snprintf(err, errlen,
		 "devargs '%s': under the seccomp filter only net_null and net_ring ethdevs may be "
		 "added at run time; give this one in --config (or run with --seccomp off)",
		 devargs);
	return -EPERM;
}
