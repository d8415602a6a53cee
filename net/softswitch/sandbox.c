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
#include "util.h"
#include "sandbox.h"

/* The filter in force, for sw_sandbox_hotplug_check(); set by sw_sandbox_apply(). */
static bool sb_filtered;

const char *sw_sandbox_mode_name(enum sw_seccomp mode)
{
	switch (mode) {
	case SW_SECCOMP_ON:
		return "on";
	case SW_SECCOMP_LOG:
		return "log";
	case SW_SECCOMP_OFF:
		return "off";
	}
	return "?";
}

int sw_sandbox_parse(const char *mode, enum sw_seccomp *out)
{
	if (!strcmp(mode, "on"))
		*out = SW_SECCOMP_ON;
	else if (!strcmp(mode, "log"))
		*out = SW_SECCOMP_LOG;
	else if (!strcmp(mode, "off"))
		*out = SW_SECCOMP_OFF;
	else {
		log_err("--seccomp: '%s' is not on, log or off", mode);
		return -EINVAL;
	}
	return 0;
}

/*
 * System calls allowed without argument checks. Anything else kills the process (or is logged,
 * with --seccomp log).
 */
static const int sb_allow[] = {
	/* seen: I/O on fds the switch holds: control clients, vhost-user sockets and their
	 * kick/call eventfds, log output on stdout/stderr */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(fcntl),
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
	SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(mremap),
	/* seen (a frontend's VHOST_USER_GET_INFLIGHT_FD, any peer may send it): vhost-user makes
	 * the inflight area as a memfd of the requested size and maps it. Memory only. */
	SCMP_SYS(memfd_create), SCMP_SYS(ftruncate),
	/* seen: threads: the vhost-user fd-set and reconnect threads start with the first port of
	 * their kind, which is usually added at run time (clone is checked below; clone3 gets
	 * ENOSYS); pthread locks, PMD quiescence waits */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_setaffinity), SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall),
	/* seen: SIGTERM/SIGINT handler, signal masks of new threads */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
	/* time: normally the vDSO; these are its fallbacks. usleep() while waiting for PMDs to
	 * quiesce, the vhost reconnect back-off, --power-mode idle sleeps */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep),
};

#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SB_SANITIZER 1
#endif
#endif

#ifdef SB_SANITIZER
/*
 * Sanitizer builds only (-Db_sanitize=address): the ASan runtime gives each new thread an
 * alternate signal stack and looks up its parent. Production builds never get these.
 * LeakSanitizer's exit-time scan would need far more (a helper task, ptrace, /proc): it is turned
 * off in a confined process instead, see __lsan_is_turned_off() below.
 */
static const int sb_allow_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(getppid),
};

static bool sb_confined;

/* LeakSanitizer hook (sanitizer/lsan_interface.h): no leak scan once the filter is installed. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return __atomic_load_n(&sb_confined, __ATOMIC_ACQUIRE);
}
#endif

static int sb_rule(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);

	if (ret) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		log_err("seccomp: cannot add a rule for %s: %s", name ? name : "?", strerror(-ret));
		free(name);
	}
	return ret;
}

#define SB_RULE(ctx, call, ...)                                                                    \
	sb_rule(ctx, SCMP_SYS(call), ARRAY_SIZE(((struct scmp_arg_cmp[]){ __VA_ARGS__ })),      \
		(struct scmp_arg_cmp[]){ __VA_ARGS__ })

static int sb_build(scmp_filter_ctx ctx, const struct sw_sandbox_cfg *cfg)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sb_allow) && !ret; i++)
		ret = sb_rule(ctx, sb_allow[i], 0, NULL);
#ifdef SB_SANITIZER
	for (size_t i = 0; i < ARRAY_SIZE(sb_allow_sanitizer) && !ret; i++)
		ret = sb_rule(ctx, sb_allow_sanitizer[i], 0, NULL);
#endif
	/* Only UNIX sockets: vhost-user ports and the control socket. Network sockets (AF_INET
	 * ioctls of net_tap, AF_PACKET, netlink) are what run-time ethdev hotplug would need, and
	 * it is refused under the filter (sw_sandbox_hotplug_check). */
	if (!ret)
		ret = SB_RULE(ctx, socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* Threads only (pthread_create sets CLONE_THREAD), never fork: no second process. */
	if (!ret)
		ret = SB_RULE(ctx, clone, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked above. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* seen (a frontend's VHOST_USER_POSTCOPY_ADVISE, any peer may send it): vhost-user would
	 * open a userfaultfd for postcopy migration, which the switch does not offer. EPERM makes
	 * the library refuse the message instead of the filter killing the switch for a peer. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(userfaultfd), 0);
	/* No new executable memory after set-up (W^X): guest memory (vhost-user maps each region
	 * of a SET_MEM_TABLE), thread stacks and malloc arenas are never PROT_EXEC. */
	if (!ret)
		ret = SB_RULE(ctx, mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = SB_RULE(ctx, mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Thread names (pthread_setname_np on the calling thread). */
	if (!ret)
		ret = SB_RULE(ctx, prctl, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (!ret)
		ret = SB_RULE(ctx, prctl, SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	/* --socket-group: each server socket added at run time is given to that group, mode 0660
	 * (port.c); no other owner or mode may be set. */
	if (!ret && cfg->socket_group)
		ret = SB_RULE(ctx, chown, SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)-1),
			      SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)cfg->socket_gid));
	if (!ret && cfg->socket_group)
		ret = SB_RULE(ctx, fchownat, SCMP_A2_32(SCMP_CMP_EQ, (uint32_t)-1),
			      SCMP_A3_32(SCMP_CMP_EQ, (uint32_t)cfg->socket_gid));
	if (!ret && cfg->socket_group)
		ret = SB_RULE(ctx, chmod, SCMP_A1_32(SCMP_CMP_EQ, 0660));
	if (!ret && cfg->socket_group)
		ret = SB_RULE(ctx, fchmodat, SCMP_A2_32(SCMP_CMP_EQ, 0660));
	/* seen: an ethdev from --config (net_tap) reads and sets its interface flags through the
	 * socket it opened at set-up: link state for port-list, link down at port-del and exit.
	 * Only with such a port, and only these two requests; creating an interface (TUNSETIFF),
	 * netlink and new network sockets stay refused. */
	if (!ret && cfg->ethdev_ports)
		ret = SB_RULE(ctx, ioctl, SCMP_A1_32(SCMP_CMP_EQ, SIOCGIFFLAGS));
	if (!ret && cfg->ethdev_ports)
		ret = SB_RULE(ctx, ioctl, SCMP_A1_32(SCMP_CMP_EQ, SIOCSIFFLAGS));
	return ret;
}

static int sb_load(const struct sw_sandbox_cfg *cfg)
{
	uint32_t deflt = cfg->mode == SW_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = seccomp_init(deflt);
	int ret;

	if (!ctx) {
		log_err("seccomp: cannot create a filter (libseccomp)");
		return -ENOMEM;
	}
	/* Every thread that exists now gets the filter too (PMD lcores, EAL interrupt, telemetry
	 * and multi-process threads, vhost threads); NO_NEW_PRIVS was set before EAL started them,
	 * so libseccomp need not set it. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret) {
		log_err("seccomp: filter attributes: %s", strerror(-ret));
		goto out;
	}
	ret = sb_build(ctx, cfg);
	if (ret)
		goto out;
#ifdef SB_SANITIZER
	/* set before the load: the scan must not start under a filter that kills it */
	if (cfg->mode == SW_SECCOMP_ON)
		__atomic_store_n(&sb_confined, true, __ATOMIC_RELEASE);
#endif
	ret = seccomp_load(ctx);
	if (ret)
		log_err("seccomp: cannot load the filter: %s", strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}

int sw_sandbox_apply(const struct sw_sandbox_cfg *cfg)
{
	int ret;

	if (cfg->mode != SW_SECCOMP_OFF) {
		/*
		 * rte_eal_cleanup() at exit cancels EAL's multi-process thread, and glibc loads
		 * libgcc_s for the unwinding on the first pthread_cancel(): an executable mapping
		 * the filter refuses. Load it now, for good; the later dlopen inside glibc then
		 * only finds it.
		 */
		if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
			log_warn("seccomp: libgcc_s.so.1 not preloaded (%s): the exit may be "
				 "killed", dlerror());
		ret = sb_load(cfg);
		if (ret)
			return ret;
		sb_filtered = true;
		log_info("seccomp filter installed (%s) on every thread",
			 sw_sandbox_mode_name(cfg->mode));
	} else {
		log_warn("seccomp is off: the switch is not confined");
	}
	if (cfg->selftest) {
		/* TEST ONLY (sandbox.h): a call outside the list; personality(0xffffffff) only
		 * reads the persona. Reaching the log line means the filter did not kill us. */
		long r = syscall(SYS_personality, 0xffffffffUL);

		log_warn("--seccomp-selftest: forbidden personality() returned %ld (seccomp %s)", r,
			 sw_sandbox_mode_name(cfg->mode));
	}
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
