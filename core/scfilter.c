// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seccomp base and loader shared by nfv-vmm and nfv-switch (contract in scfilter.h). The
 * base was found, like each program's own list, by running their test suites with --seccomp log
 * and reading the kernel's audit records: these are the calls both make after set-up.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
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

static const int scf_base[] = {
	/* I/O on fds opened at set-up (sockets, eventfds, devices, stdio); each program adds the
	 * calls beyond these */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(fcntl),
	/* malloc, thread stacks, realloc of large blocks, unmapping guest memory (mmap and
	 * mprotect are checked in scf_install()) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(madvise), SCMP_SYS(mremap),
	/* threads: pthread locks and start-up, affinity (pinning), kicks between threads */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(tgkill), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(sched_setaffinity), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall),
	/* signal handlers (SIGTERM/SIGINT, vCPU kicks) and the masks of new threads */
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn),
	/* time: normally the vDSO, these are its fallbacks; usleep() in reconnect back-offs and
	 * waits for PMDs to quiesce */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep),
};

/* The checked calls scf_install() adds: socket, clone, mmap, mprotect, prctl. */
#define SCF_CHECKED_CALLS 5

#if defined(__SANITIZE_ADDRESS__)
#define SCF_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define SCF_SANITIZER 1
#endif
#endif

#ifdef SCF_SANITIZER
/*
 * Sanitizer builds only (-Db_sanitize=address): the ASan runtime gives each new thread an
 * alternate signal stack, looks up its parent and yields while it waits for its own locks.
 * Production builds never get these.
 */
static const int scf_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(sched_yield), SCMP_SYS(getppid),
};

static bool scf_confined;

/* LeakSanitizer hook (sanitizer/lsan_interface.h): no leak scan once the filter is installed. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return __atomic_load_n(&scf_confined, __ATOMIC_ACQUIRE);
}
#endif

const char *scf_mode_name(enum scf_mode mode)
{
	switch (mode) {
	case SCF_ON:
		return "on";
	case SCF_LOG:
		return "log";
	case SCF_OFF:
		return "off";
	}
	return "?";
}

int scf_mode_parse(const char *s, enum scf_mode *out)
{
	if (!strcmp(s, "on"))
		*out = SCF_ON;
	else if (!strcmp(s, "log"))
		*out = SCF_LOG;
	else if (!strcmp(s, "off"))
		*out = SCF_OFF;
	else {
		log_err("--seccomp: '%s' is not on, log or off", s);
		return -EINVAL;
	}
	return 0;
}

int scf_allow(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
{
	int ret = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);

	if (ret) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		log_err("seccomp: cannot add a rule for %s: %s", name ? name : "?", strerror(-ret));
		free(name);
	}
	return ret;
}

int scf_allow_list(scmp_filter_ctx ctx, const int *nrs, size_t n)
{
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++)
		ret = scf_allow(ctx, nrs[i], 0, NULL);
	return ret;
}

size_t scf_base_count(void)
{
	return ARRAY_SIZE(scf_base) + SCF_CHECKED_CALLS;
}

static int scf_base_rules(scmp_filter_ctx ctx)
{
	int ret = scf_allow_list(ctx, scf_base, ARRAY_SIZE(scf_base));

#ifdef SCF_SANITIZER
	if (!ret)
		ret = scf_allow_list(ctx, scf_sanitizer, ARRAY_SIZE(scf_sanitizer));
#endif
	/* Only UNIX sockets (control sockets, vhost-user): no network socket after set-up. */
	if (!ret)
		ret = SCF_ALLOW(ctx, socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* Threads only (pthread_create sets CLONE_THREAD), never fork: no second process. */
	if (!ret)
		ret = SCF_ALLOW(ctx, clone, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	/* clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes glibc fall
	 * back to clone, whose flags are checked above. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* No new executable memory after set-up (W^X): guest memory, stacks and malloc arenas are
	 * never PROT_EXEC. */
	if (!ret)
		ret = SCF_ALLOW(ctx, mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!ret)
		ret = SCF_ALLOW(ctx, mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Thread names (pthread_setname_np on the calling thread). */
	if (!ret)
		ret = SCF_ALLOW(ctx, prctl, SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (!ret)
		ret = SCF_ALLOW(ctx, prctl, SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	return ret;
}

int scf_install(enum scf_mode mode, scf_build_fn build, const void *opaque)
{
	uint32_t deflt = mode == SCF_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	int ret;

	if (mode == SCF_OFF)
		return 0;
	ctx = seccomp_init(deflt);
	if (!ctx) {
		log_err("seccomp: cannot create a filter (libseccomp)");
		return -ENOMEM;
	}
	/* Every thread that exists now gets the filter too; NO_NEW_PRIVS was set by the caller
	 * before any thread started, so libseccomp need not set it. The kernel logs
	 * SECCOMP_RET_KILL_PROCESS and SECCOMP_RET_LOG by itself (audit type 1326). */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!ret)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret) {
		log_err("seccomp: filter attributes: %s", strerror(-ret));
		goto out;
	}
	ret = scf_base_rules(ctx);
	if (!ret && build)
		ret = build(ctx, opaque);
	if (ret)
		goto out;
#ifdef SCF_SANITIZER
	/* set before the load: the scan must not start under a filter that kills it */
	if (mode == SCF_ON)
		__atomic_store_n(&scf_confined, true, __ATOMIC_RELEASE);
#endif
	ret = seccomp_load(ctx);
	if (ret)
		log_err("seccomp: cannot load the filter: %s", strerror(-ret));
out:
	seccomp_release(ctx);
	return ret;
}

void scf_selftest(enum scf_mode mode)
{
	/* a call outside every list; personality(0xffffffff) only reads the persona. Reaching the
	 * log line means the filter did not kill us. */
	long r = syscall(SYS_personality, 0xffffffffUL);

	log_warn("--seccomp-selftest: forbidden personality() returned %ld (seccomp %s)", r,
		 scf_mode_name(mode));
}
