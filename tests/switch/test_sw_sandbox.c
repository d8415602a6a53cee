// SPDX-License-Identifier: GPL-2.0-only
/*
 * net/softswitch/sandbox.c without DPDK or root: --seccomp parsing, the run-time hotplug check,
 * and the filter applied in a forked child (an unprivileged process may install one under
 * NO_NEW_PRIVS), which then makes one allowed or one forbidden call. Forbidden calls must end
 * the child with SIGSYS, allowed ones must return. Children leave with _exit() so nothing at
 * exit runs under the filter.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "sandbox.h"
#include "../unit/test.h"

#define TEST_GID 4242	/* the --socket-group of the chown/chmod cases */

enum action {
	ACT_NOTHING, ACT_UNIX_SOCKET, ACT_INET_SOCKET, ACT_NETLINK_SOCKET, ACT_PACKET_SOCKET,
	ACT_FORK, ACT_EXEC_MMAP, ACT_SHARED_MMAP, ACT_SELFTEST, ACT_IFFLAGS, ACT_TUNSETIFF,
	ACT_CHOWN_GROUP, ACT_CHOWN_USER, ACT_CHMOD_0660, ACT_CHMOD_0777, ACT_THREAD_NAME,
	ACT_HOTPLUG,
};

static char tmpfile_path[64];

/* Runs @act in a child under @cfg; returns the wait status. */
static int run_child(struct sw_sandbox_cfg cfg, enum action act)
{
	int fd;
	pid_t pid;

	cfg.selftest = act == ACT_SELFTEST;
	cfg.socket_gid = TEST_GID;
	pid = fork();
	if (pid == 0) {
		/* as main() does before EAL starts threads */
		if (privdrop_no_new_privs() || sw_sandbox_apply(&cfg))
			_exit(3);
		switch (act) {
		case ACT_NOTHING:
		case ACT_SELFTEST:
			break;
		case ACT_UNIX_SOCKET:
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				_exit(5);
			close(fd);
			break;
		case ACT_INET_SOCKET:
			(void)socket(AF_INET, SOCK_DGRAM, 0);
			break;
		case ACT_NETLINK_SOCKET:
			(void)socket(AF_NETLINK, SOCK_RAW, 0);
			break;
		case ACT_PACKET_SOCKET:
			(void)socket(AF_PACKET, SOCK_RAW, 0);
			break;
		case ACT_FORK:
			/* glibc's fork is clone(SIGCHLD) without CLONE_THREAD */
			(void)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
			break;
		case ACT_EXEC_MMAP:
			(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
				   -1, 0);
			break;
		case ACT_SHARED_MMAP: {
			/* what vhost-user does with a guest memory fd */
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED || munmap(p, 4096))
				_exit(5);
			break;
		}
		case ACT_IFFLAGS: {
			/* a bad fd: the filter decides before the kernel sees it */
			struct ifreq ifr;

			memset(&ifr, 0, sizeof(ifr));
			if (ioctl(-1, SIOCGIFFLAGS, &ifr) != -1 || errno != EBADF)
				_exit(5);
			break;
		}
		case ACT_TUNSETIFF: {
			struct ifreq ifr;

			memset(&ifr, 0, sizeof(ifr));
			(void)ioctl(-1, TUNSETIFF, &ifr);
			break;
		}
		case ACT_CHOWN_GROUP:
			if (chown(tmpfile_path, (uid_t)-1, TEST_GID) && errno != EPERM)
				_exit(5);
			break;
		case ACT_CHOWN_USER:
			(void)chown(tmpfile_path, 0, TEST_GID);
			break;
		case ACT_CHMOD_0660:
			if (chmod(tmpfile_path, 0660))
				_exit(5);
			break;
		case ACT_CHMOD_0777:
			(void)chmod(tmpfile_path, 0777);
			break;
		case ACT_HOTPLUG: {
			/* under a filter (on or log) only memory-only vdevs may be probed */
			char e[256];

			if (sw_sandbox_hotplug_check("net_null0", e, sizeof(e)) ||
			    sw_sandbox_hotplug_check("net_ring0,nodeaction=r0:0:CREATE", e,
						     sizeof(e)))
				_exit(5);
			if (sw_sandbox_hotplug_check("net_tap0,iface=x", e, sizeof(e)) != -EPERM ||
			    !strstr(e, "net_tap0,iface=x") || !strstr(e, "--config"))
				_exit(6);
			if (sw_sandbox_hotplug_check("net_af_packet0", e, sizeof(e)) != -EPERM ||
			    sw_sandbox_hotplug_check("net_nul", e, sizeof(e)) != -EPERM)
				_exit(7);
			break;
		}
		case ACT_THREAD_NAME:
			if (pthread_setname_np(pthread_self(), "sbtest"))
				_exit(5);
			break;
		}
		_exit(0);
	}
	return test_wait(pid);
}

int main(void)
{
	const struct sw_sandbox_cfg on = { .mode = SCF_ON };
	struct sw_sandbox_cfg c = on;
	enum scf_mode m = SCF_ON;
	char err[256];
	int fd;

	log_set_level(LOGL_WARN);
	/* --seccomp values */
	CHECK(scf_mode_parse("log", &m) == 0 && m == SCF_LOG);
	CHECK(scf_mode_parse("off", &m) == 0 && m == SCF_OFF);
	CHECK(scf_mode_parse("on", &m) == 0 && m == SCF_ON);
	CHECK(scf_mode_parse("ON", &m) == -EINVAL && m == SCF_ON);
	CHECK(scf_mode_parse("", &m) == -EINVAL);
	CHECK(!strcmp(scf_mode_name(SCF_LOG), "log"));
	/* no filter in this process: every ethdev may be probed */
	CHECK(sw_sandbox_hotplug_check("net_tap0,iface=x", err, sizeof(err)) == 0);

	snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/test_sw_sandbox.XXXXXX");
	fd = mkstemp(tmpfile_path);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	/* The filter itself: what the switch does after set-up passes ... */
	CHECK(test_exited_ok(run_child(on, ACT_NOTHING)));
	CHECK(test_exited_ok(run_child(on, ACT_UNIX_SOCKET)));
	CHECK(test_exited_ok(run_child(on, ACT_SHARED_MMAP)));
	CHECK(test_exited_ok(run_child(on, ACT_THREAD_NAME)));
	CHECK(test_exited_ok(run_child(on, ACT_HOTPLUG)));
	/* ... and what it does not is killed */
	CHECK(test_killed_by(run_child(on, ACT_SELFTEST), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_INET_SOCKET), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_NETLINK_SOCKET), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_PACKET_SOCKET), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_FORK), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_EXEC_MMAP), SIGSYS));
	/* ioctl: none without an ethdev port; with one, only its interface flags */
	CHECK(test_killed_by(run_child(on, ACT_IFFLAGS), SIGSYS));
	c.ethdev_ports = true;
	CHECK(test_exited_ok(run_child(c, ACT_IFFLAGS)));
	CHECK(test_killed_by(run_child(c, ACT_TUNSETIFF), SIGSYS));
	/* chown/chmod: none without --socket-group; with it only (-1, that GID) and 0660 */
	CHECK(test_killed_by(run_child(on, ACT_CHMOD_0660), SIGSYS));
	CHECK(test_killed_by(run_child(on, ACT_CHOWN_GROUP), SIGSYS));
	c = on;
	c.socket_group = true;
	CHECK(test_exited_ok(run_child(c, ACT_CHOWN_GROUP)));
	CHECK(test_exited_ok(run_child(c, ACT_CHMOD_0660)));
	CHECK(test_killed_by(run_child(c, ACT_CHOWN_USER), SIGSYS));
	CHECK(test_killed_by(run_child(c, ACT_CHMOD_0777), SIGSYS));
	/* log and off let the same calls through */
	c = on;
	c.mode = SCF_LOG;
	CHECK(test_exited_ok(run_child(c, ACT_SELFTEST)));
	CHECK(test_exited_ok(run_child(c, ACT_INET_SOCKET)));
	CHECK(test_exited_ok(run_child(c, ACT_HOTPLUG)));
	c.mode = SCF_OFF;
	CHECK(test_exited_ok(run_child(c, ACT_SELFTEST)));
	CHECK(test_exited_ok(run_child(c, ACT_EXEC_MMAP)));
	unlink(tmpfile_path);
	TEST_DONE("switch-sandbox-unit");
}
