/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seccomp machinery nfv-vmm and nfv-switch share (libseccomp; scfilter_dep).
 *
 * Both programs open what needs wide system access while they are set up and then install, once,
 * on every thread of the process (TSYNC; threads started later inherit it), an allow-list filter:
 *
 *   on  (default): any call outside the list kills the whole process (SECCOMP_RET_KILL_PROCESS;
 *       the kernel logs an audit record, `dmesg | grep type=1326`, with syscall=N);
 *   log: the same list, but a call outside it is logged the same way (sig=0) and allowed, which is
 *       how the lists are found and maintained;
 *   off: no filter.
 *
 * scf_install() starts every filter from the base every confined nfvisor process needs (list in
 * scfilter.c, each entry with its reason): I/O on fds it holds (read, write, close, fcntl), memory
 * (brk, munmap, madvise, mremap), threads (futex, robust lists, rseq, affinity, tgkill, exit),
 * signal masks and handlers, time fallbacks of the vDSO and sleeps; and these with argument
 * checks: socket() only AF_UNIX, clone() only with CLONE_THREAD (no second process; clone3 answers
 * ENOSYS because its flags are in memory seccomp cannot read, and glibc falls back to clone),
 * mmap()/mprotect() never with PROT_EXEC (no new code), prctl() only PR_SET_NAME/PR_GET_NAME.
 * The program's build callback adds its own calls. Sanitizer builds also allow what the ASan
 * runtime calls (sigaltstack, sched_yield, getppid) and turn LeakSanitizer's exit-time scan off
 * once confined (it would need a helper task, ptrace and /proc).
 *
 * The caller must have set NO_NEW_PRIVS on every thread first (privdrop_no_new_privs()). Not
 * thread-safe: call from main().
 */
#ifndef NFV_CORE_SCFILTER_H
#define NFV_CORE_SCFILTER_H

#include <seccomp.h>
#include <stddef.h>

enum scf_mode {
	SCF_ON = 0, /* default: kill the process on a system call outside the list */
	SCF_LOG,    /* log calls outside the list and allow them (finding the list) */
	SCF_OFF,    /* no filter */
};

/* Parse --seccomp on|log|off into @out. Returns 0 or -EINVAL (logged, naming the value). */
int scf_mode_parse(const char *s, enum scf_mode *out) __attribute__((warn_unused_result));

/* "on", "log" or "off". */
const char *scf_mode_name(enum scf_mode mode);

/* Allow system call @nr when all @n argument comparisons hold (n 0: always). 0 or -errno, logged
 * with the call's name. */
int scf_allow(scmp_filter_ctx ctx, int nr, unsigned n, const struct scmp_arg_cmp *cmp)
	__attribute__((warn_unused_result));

/* scf_allow(ctx, SCMP_SYS(call), <the comparisons given>), e.g.
 * SCF_ALLOW(ctx, socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX)). */
#define SCF_ALLOW(ctx, call, ...)                                                                  \
	scf_allow(ctx, SCMP_SYS(call),                                                             \
		  sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / sizeof(struct scmp_arg_cmp),    \
		  (struct scmp_arg_cmp[]){ __VA_ARGS__ })

/* Allow each of the @n system calls in @nrs without argument checks. */
int scf_allow_list(scmp_filter_ctx ctx, const int *nrs, size_t n)
	__attribute__((warn_unused_result));

/* The program's own rules, added after the base; 0 or -errno. */
typedef int (*scf_build_fn)(scmp_filter_ctx ctx, const void *opaque);

/*
 * Build the base plus @build(@opaque) and load it on every thread in @mode (SCF_ON or SCF_LOG).
 * Returns 0, or -errno (logged) when the filter could not be built or loaded: the process is then
 * not confined and must not go on serving.
 */
int scf_install(enum scf_mode mode, scf_build_fn build, const void *opaque)
	__attribute__((warn_unused_result));

/* Number of system calls the base allows (for the caller's log line). */
size_t scf_base_count(void);

/*
 * TEST ONLY (`--seccomp-selftest`): one system call that no list allows (personality(0xffffffff),
 * which only reads the persona). Under SCF_ON the kernel kills the process with SIGSYS here; with
 * log or off the call returns, is logged as a warning naming @mode, and so does this function.
 */
void scf_selftest(enum scf_mode mode);

#endif
