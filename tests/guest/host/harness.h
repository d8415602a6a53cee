/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host half of guest tests: runs the real nfv-vmm binary on a guest program, feeds its serial input,
 * collects its output (serial on stdout and the VMM's log on stderr, merged), talks to its control
 * socket, and checks the exit status. A test's main() receives argv[1] = nfv-vmm, argv[2] = guest.
 * Exit code 77 means "skipped" (meson's convention), with the reason printed.
 */
#ifndef NFV_TEST_HARNESS_H
#define NFV_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vmm_proc {
	pid_t pid;
	int in_fd;  /* serial input (VMM stdin) */
	int out_fd; /* VMM stdout: the serial console */
	int err_fd; /* VMM stderr: its log */
	char *out;  /* serial output so far, NUL-terminated */
	size_t out_len, out_cap;
	char *err;  /* log so far */
	size_t err_len, err_cap;
	int status; /* exit status once reaped, or -1 */
	char dir[64];
	char ctl[100];
	char stats[100];
};

/* Start nfv-vmm with @args (NULL-terminated) plus --serial stdio --control/--stats-file in a temp dir. */
int vmm_start(struct vmm_proc *p, const char *vmm, const char *guest, const char *const *args);
/* Wait for exit (killing it after @timeout_s); returns the exit status (128+sig when signalled). */
int vmm_wait(struct vmm_proc *p, int timeout_s);
/* Read output (serial and log) until @needle appears in either (true) or the timeout/exit (false). */
bool vmm_wait_for(struct vmm_proc *p, const char *needle, int timeout_s);
bool vmm_output_has(struct vmm_proc *p, const char *needle);
/* Write serial input. */
void vmm_send(struct vmm_proc *p, const char *s);
/* One control request/response line; returns 0 or -errno. */
int vmm_control(struct vmm_proc *p, const char *req, char *resp, size_t resp_len);
void vmm_cleanup(struct vmm_proc *p);

/* Run to completion: start, wait, return status; output kept in @p. */
int vmm_run(struct vmm_proc *p, const char *vmm, const char *guest, const char *const *args, int timeout_s);

/* vmm_run with --guest-args @garg on plain memfd RAM, 60 s bound (the common one-shot guest run). */
int vmm_run_guest_args(struct vmm_proc *p, const char *vmm, const char *guest, const char *garg);

/* Host-side checks: print the message with file/line and the VMM output, and fail the test. */
#define HOST_ASSERT(p, cond, ...)                                                                  \
	do {                                                                                       \
		if (!(cond))                                                                       \
			host_fail((p), __FILE__, __LINE__, #cond, __VA_ARGS__);                   \
	} while (0)
__attribute__((noreturn, format(printf, 5, 6))) void host_fail(struct vmm_proc *p, const char *file,
							       int line, const char *cond, const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void host_skip(const char *fmt, ...);

/* Free 2 MiB hugepages now, or -1. */
long host_hugepages_free(void);

#endif
