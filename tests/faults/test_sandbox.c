// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmm/sandbox.c without /dev/kvm or root: option parsing, and the seccomp filter applied in a
 * forked child (an unprivileged process may install one under NO_NEW_PRIVS), which then makes
 * one allowed or one forbidden call. Forbidden calls must end the child with SIGSYS, allowed
 * ones must return. The children leave with _exit() so nothing at exit runs under the filter.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "../unit/test.h"

enum action { ACT_NOTHING, ACT_WRITE, ACT_UNIX_SOCKET, ACT_INET_SOCKET, ACT_FORK, ACT_EXEC_MMAP,
	      ACT_SELFTEST, ACT_PTRACE, ACT_URING_SETUP, ACT_URING_REGISTER, ACT_URING_ENTER };

/* Runs @act in a child under @mode; returns the wait status. */
static int run_child(enum scf_mode mode, enum action act)
{
	struct sandbox_cfg cfg = { .seccomp = mode, .selftest = act == ACT_SELFTEST };
	pid_t pid = fork();

	if (pid == 0) {
		if (sandbox_apply(&cfg))
			_exit(3);
		switch (act) {
		case ACT_NOTHING:
		case ACT_SELFTEST:
			break;
		case ACT_WRITE:
			if (write(STDOUT_FILENO, "", 0) < 0)
				_exit(4);
			break;
		case ACT_UNIX_SOCKET: {
			int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			if (fd < 0)
				_exit(5);
			close(fd);
			break;
		}
		case ACT_INET_SOCKET:
			(void)socket(AF_INET, SOCK_STREAM, 0);
			break;
		case ACT_FORK:
			/* glibc's fork is clone(SIGCHLD) without CLONE_THREAD */
			(void)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
			break;
		case ACT_EXEC_MMAP: {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
				       -1, 0);

			(void)p;
			break;
		}
		case ACT_PTRACE:
			(void)syscall(SYS_ptrace, 0L, 0L, 0L, 0L);
			break;
		case ACT_URING_SETUP: {
			/* a fresh ring would be unrestricted: the filter must refuse to make one */
			struct io_uring_params p;

			memset(&p, 0, sizeof(p));
			(void)syscall(__NR_io_uring_setup, 4, &p);
			break;
		}
		case ACT_URING_REGISTER:
			/* no ring at all: the filter decides before the kernel sees the fd */
			(void)syscall(__NR_io_uring_register, -1, 0, NULL, 0);
			break;
		case ACT_URING_ENTER:
			/* allowed (virtio-blk submits through the rings it made before the filter);
			 * on a bad fd it fails with EBADF instead */
			if (syscall(__NR_io_uring_enter, -1, 0, 0, 0, NULL, 0) != -1 ||
			    errno != EBADF)
				_exit(6);
			break;
		}
		_exit(0);
	}
	return test_wait(pid);
}

int main(void)
{
	struct sandbox_cfg cfg = { .seccomp = SCF_ON };

	log_set_level(LOGL_WARN);
	/* --seccomp values */
	CHECK(sandbox_set_seccomp(&cfg, "log") == 0 && cfg.seccomp == SCF_LOG);
	CHECK(sandbox_set_seccomp(&cfg, "off") == 0 && cfg.seccomp == SCF_OFF);
	CHECK(sandbox_set_seccomp(&cfg, "on") == 0 && cfg.seccomp == SCF_ON);
	CHECK(sandbox_set_seccomp(&cfg, "ON") == -EINVAL);
	CHECK(sandbox_set_seccomp(&cfg, "") == -EINVAL);
	CHECK(!strcmp(scf_mode_name(SCF_LOG), "log"));

	/* --user values: never root, a UID without a passwd entry needs its GID */
	CHECK(sandbox_set_user(&cfg, "0") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "root") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "65534:0") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, ":65534") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "no-such-user-nfv") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "3999999") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "3999999:3999999") == 0);
	CHECK(sandbox_set_user(&cfg, "3999999:no-such-group-nfv") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "12x") == -EINVAL);
	CHECK(sandbox_set_user(&cfg, "99999999999999999999:1") == -EINVAL);
	/* no --user for the children below (dropping needs root: the 'sandbox' guest test) */
	cfg.user = NULL;

	/* The filter itself. */
	CHECK(test_exited_ok(run_child(SCF_ON, ACT_NOTHING)));
	CHECK(test_exited_ok(run_child(SCF_ON, ACT_WRITE)));
	CHECK(test_exited_ok(run_child(SCF_ON, ACT_UNIX_SOCKET)));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_SELFTEST), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_INET_SOCKET), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_FORK), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_EXEC_MMAP), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_PTRACE), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_URING_SETUP), SIGSYS));
	CHECK(test_killed_by(run_child(SCF_ON, ACT_URING_REGISTER), SIGSYS));
	CHECK(test_exited_ok(run_child(SCF_ON, ACT_URING_ENTER)));
	/* log and off let the same calls through */
	CHECK(test_exited_ok(run_child(SCF_LOG, ACT_SELFTEST)));
	CHECK(test_exited_ok(run_child(SCF_LOG, ACT_INET_SOCKET)));
	CHECK(test_exited_ok(run_child(SCF_LOG, ACT_URING_SETUP)));
	CHECK(test_exited_ok(run_child(SCF_OFF, ACT_SELFTEST)));
	CHECK(test_exited_ok(run_child(SCF_OFF, ACT_EXEC_MMAP)));
	TEST_DONE("sandbox-unit");
}
