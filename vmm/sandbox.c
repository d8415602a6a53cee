// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-vmm's sandbox: privilege drop and seccomp allow-list (contract in sandbox.h).
 *
 * The allow-list was found by running the guest test suites with --seccomp log and reading the
 * kernel's audit records (dmesg: "audit: type=1326 ... syscall=N"), and checked with strace -f -c.
 * When a device starts using a new system call after set-up, add it here with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
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
#include "privdrop.h"
#include "util.h"
#include "sandbox.h"

/* The resolved --user: kept here, not in the caller's cfg, so cfg stays a plain option record. */
static struct privdrop_user sb_user;
static bool sb_user_set;

const char *sandbox_seccomp_name(enum sandbox_seccomp mode)
{
	switch (mode) {
	case SANDBOX_SECCOMP_ON:
		return "on";
	case SANDBOX_SECCOMP_LOG:
		return "log";
	case SANDBOX_SECCOMP_OFF:
		return "off";
	}
	return "?";
}

int sandbox_set_seccomp(struct sandbox_cfg *cfg, const char *mode)
{
	if (!strcmp(mode, "on"))
		cfg->seccomp = SANDBOX_SECCOMP_ON;
	else if (!strcmp(mode, "log"))
		cfg->seccomp = SANDBOX_SECCOMP_LOG;
	else if (!strcmp(mode, "off"))
		cfg->seccomp = SANDBOX_SECCOMP_OFF;
	else {
		log_err("--seccomp: '%s' is not on, log or off", mode);
		return -EINVAL;
	}
	return 0;
}

int sandbox_set_user(struct sandbox_cfg *cfg, const char *spec)
{
	sb_user_set = false;
	if (privdrop_parse_user(spec, &sb_user))
		return -EINVAL;
	sb_user_set = true;
	cfg->user = spec;
	return 0;
}

/*
 * System calls allowed without argument checks: those seen after the filter in strace -f of the
 * guest suites (marked "seen"), plus the ones a code path not exercised there needs (the reason
 * is given). Anything else kills the process.
 */
static const int sb_allow[] = {
	/* seen: I/O on fds opened at set-up (KVM, eventfds, sockets, tap, serial, stdio) */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(newfstatat),
	/* virtio-blk thread-pool back end (blk_io.c; io_uring is the default), FLUSH, DISCARD and
	 * WRITE_ZEROES */
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(fdatasync), SCMP_SYS(fsync), SCMP_SYS(fallocate),
	/* seen: virtio-blk's io_uring back end submitting and reaping. Its rings are made in
	 * blk_create() before the filter, restricted there (blk_io.c: READV, WRITEV, FSYNC and
	 * FALLOCATE on the image fds as fixed files only, no io_uring_register opcode) and enabled,
	 * so io_uring_setup and io_uring_register are not allowed: no new, unrestricted ring. */
	SCMP_SYS(io_uring_enter),
	/* seen: event loop and vhost-user reconnect timers; eventfd2/timerfd_create when the guest
	 * (re)configures MSI-X vectors or queues */
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(poll), SCMP_SYS(eventfd2),
	SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	/* seen: control socket, serial unix socket, vhost-user reconnects (SCM_RIGHTS memory
	 * tables in sendmsg); socket() itself is checked below */
	SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	/* seen (nfvd-vmm test): the serial console's unix socket looks its own path up before the
	 * unlink when the VM ends; a read-only query about our own socket */
	SCMP_SYS(getsockname),
	/* seen: /proc/self/task/N/stat for the control socket's "info", /sys/.../cpu/online for a
	 * live re-pin, --stats-file when the VM ends, the control socket's unlink. DAC (--user)
	 * decides what these may touch. */
	SCMP_SYS(openat), SCMP_SYS(unlink),
	/* seen: malloc and thread stacks (mmap and mprotect are checked below); mremap for
	 * realloc of large blocks */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap),
	/* seen: threads (clone is checked below; clone3 gets ENOSYS) */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_setaffinity), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall),
	/* seen: vCPU kick signal (SIGUSR/SIGRT handler installed per thread), signal masks */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
	/* time: normally the vDSO; these are its fallbacks, and usleep() in reconnect back-off */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
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
 * alternate signal stack and yields while it waits for its own locks. Production builds never get
 * these. LeakSanitizer's exit-time scan would need far more (a helper task, ptrace, /proc): it is
 * turned off in a confined process instead, see __lsan_is_turned_off() below.
 */
static const int sb_allow_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(getppid),
};

static bool sb_confined;

/* LeakSanitizer hook (sanitizer/lsan_interface.h): no leak scan once the filter is installed. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return __atomic_load_n(&sb_confined, __ATOMIC_ACQUIRE);
}
#endif

/* Calls allowed with argument checks in sb_build(): ioctl, socket, clone, mmap, mprotect, prctl. */
#define SB_CHECKED_CALLS 6

/* ioctl type (bits 8-15 of the command): KVMIO (linux/kvm.h) and VFIO_TYPE (linux/vfio.h). */
#define SB_IOC_TYPE_MASK 0xff00u
#define SB_VFIO_TYPE ';'

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

static int sb_build(scmp_filter_ctx ctx)
{
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(sb_allow); i++) {
		ret = sb_rule(ctx, sb_allow[i], 0, NULL);
		if (ret)
			return ret;
	}
#ifdef SB_SANITIZER
	for (size_t i = 0; i < ARRAY_SIZE(sb_allow_sanitizer); i++) {
		ret = sb_rule(ctx, sb_allow_sanitizer[i], 0, NULL);
		if (ret)
			return ret;
	}
#endif
	/* KVM: VM, vCPU and device ioctls on the fds opened at set-up (KVM_RUN, irqfd, memslots
	 * for dirty logging, ...). Besides VFIO below, no other ioctl follows set-up (the serial
	 * pty is made raw before it), so e.g. TIOCSTI or tap reconfiguration is refused. */
	ret = sb_rule(ctx, SCMP_SYS(ioctl), 1,
		      (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_MASKED_EQ, SB_IOC_TYPE_MASK,
						       (unsigned)KVMIO << 8) });
	/* VFIO: a vfio-pci device's MSI-X/INTx routing (VFIO_DEVICE_SET_IRQS) follows the guest's
	 * programming, and a guest function-level reset is VFIO_DEVICE_RESET; both after set-up. */
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(ioctl), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A1(SCMP_CMP_MASKED_EQ, SB_IOC_TYPE_MASK,
							       (unsigned)SB_VFIO_TYPE << 8) });
	/* Only UNIX sockets: the control socket and vhost-user; nfv-vmm never opens a network
	 * socket after set-up. */
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(socket), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, AF_UNIX) });
	/* Threads only (pthread_create sets CLONE_THREAD), never fork: no second process. */
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(clone), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
							       CLONE_THREAD) });
	/* clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked above. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* No new executable memory after set-up (W^X): guest RAM and stacks are never PROT_EXEC. */
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(mmap), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(mprotect), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) });
	/* Thread names (pthread_setname_np on the calling thread). */
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(prctl), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME) });
	if (!ret)
		ret = sb_rule(ctx, SCMP_SYS(prctl), 1,
			      (struct scmp_arg_cmp[]){ SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME) });
	return ret;
}

static int sb_seccomp(enum sandbox_seccomp mode)
{
	uint32_t deflt = mode == SANDBOX_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = seccomp_init(deflt);
	int ret;

	if (!ctx) {
		log_err("seccomp: cannot create a filter (libseccomp)");
		return -ENOMEM;
	}
	/* Every thread that exists now gets the filter too (vhost-user and blk helpers may already
	 * run); NO_NEW_PRIVS was set by the caller, so libseccomp need not. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* The kernel logs SECCOMP_RET_KILL_PROCESS and SECCOMP_RET_LOG by itself (audit type 1326,
	 * /proc/sys/kernel/seccomp/actions_logged); the ENOSYS answer to clone3 stays quiet. */
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret) {
		log_err("seccomp: filter attributes: %s", strerror(-ret));
		goto out;
	}
	ret = sb_build(ctx);
	if (ret)
		goto out;
#ifdef SB_SANITIZER
	/* set before the load: the scan must not start under a filter that kills it */
	if (mode == SANDBOX_SECCOMP_ON)
		__atomic_store_n(&sb_confined, true, __ATOMIC_RELEASE);
#endif
	ret = seccomp_load(ctx);
	if (ret)
		log_err("seccomp: cannot load the filter: %s", strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}

int sandbox_apply(const struct sandbox_cfg *cfg)
{
	int ret;

	if (cfg->user && sb_user_set) {
		/* core/privdrop.h: groups, setresgid, setresuid, and the proof root cannot return */
		ret = privdrop_apply(&sb_user);
		if (ret)
			return ret;
	} else if (geteuid() == 0) {
		log_info("running as root: --user NAME drops privileges after set-up");
	}
	ret = privdrop_no_new_privs();
	if (ret)
		return ret;
	if (cfg->seccomp != SANDBOX_SECCOMP_OFF) {
		ret = sb_seccomp(cfg->seccomp);
		if (ret)
			return ret;
		log_info("seccomp filter installed (%s, %zu system calls allowed)",
			 sandbox_seccomp_name(cfg->seccomp), ARRAY_SIZE(sb_allow) + SB_CHECKED_CALLS);
	} else {
		log_warn("seccomp is off: the VMM is not confined");
	}
	if (cfg->selftest) {
		/* TEST ONLY (sandbox.h): a call outside the list; personality(0xffffffff) only reads
		 * the persona. Reaching the log line means the filter did not kill us. */
		long r = syscall(SYS_personality, 0xffffffffUL);

		log_warn("--seccomp-selftest: forbidden personality() returned %ld (seccomp %s)", r,
			 sandbox_seccomp_name(cfg->seccomp));
	}
	return 0;
}
