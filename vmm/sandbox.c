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
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "scfilter.h"
#include "util.h"
#include "sandbox.h"

/* The resolved --user: kept here, not in the caller's cfg, so cfg stays a plain option record. */
static struct privdrop_user sb_user;
static bool sb_user_set;

int sandbox_set_seccomp(struct sandbox_cfg *cfg, const char *mode)
{
	return scf_mode_parse(mode, &cfg->seccomp);
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
	/* seen: stat of fds opened at set-up (read, write, close and fcntl are in the core base,
	 * core/scfilter.c, with memory, threads, signals and time) */
	SCMP_SYS(newfstatat),
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
	 * tables in sendmsg); socket() is checked in the core base (AF_UNIX only) */
	SCMP_SYS(connect), SCMP_SYS(accept4), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
	/* seen (nfvd-vmm test): the serial console's unix socket looks its own path up before the
	 * unlink when the VM ends; a read-only query about our own socket */
	SCMP_SYS(getsockname),
	/* seen: /proc/self/task/N/stat for the control socket's "info", /sys/.../cpu/online for a
	 * live re-pin, --stats-file when the VM ends, the control socket's unlink. DAC (--user)
	 * decides what these may touch. */
	SCMP_SYS(openat), SCMP_SYS(unlink),
};

/* Calls allowed with argument checks in sb_build(), beyond the core base's: ioctl. */
#define SB_CHECKED_CALLS 1

/* ioctl type (bits 8-15 of the command): KVMIO (linux/kvm.h) and VFIO_TYPE (linux/vfio.h). */
#define SB_IOC_TYPE_MASK 0xff00u
#define SB_VFIO_TYPE ';'

/* nfv-vmm's rules on top of the core base (core/scfilter.h). */
static int sb_build(scmp_filter_ctx ctx, const void *opaque)
{
	int ret;

	(void)opaque;
	ret = scf_allow_list(ctx, sb_allow, ARRAY_SIZE(sb_allow));
	/* KVM: VM, vCPU and device ioctls on the fds opened at set-up (KVM_RUN, irqfd, memslots
	 * for dirty logging, ...). Besides VFIO below, no other ioctl follows set-up (the serial
	 * pty is made raw before it), so e.g. TIOCSTI or tap reconfiguration is refused. */
	if (!ret)
		ret = SCF_ALLOW(ctx, ioctl,
				SCMP_A1(SCMP_CMP_MASKED_EQ, SB_IOC_TYPE_MASK, (unsigned)KVMIO << 8));
	/* VFIO: a vfio-pci device's MSI-X/INTx routing (VFIO_DEVICE_SET_IRQS) follows the guest's
	 * programming, and a guest function-level reset is VFIO_DEVICE_RESET; both after set-up. */
	if (!ret)
		ret = SCF_ALLOW(ctx, ioctl,
				SCMP_A1(SCMP_CMP_MASKED_EQ, SB_IOC_TYPE_MASK,
					(unsigned)SB_VFIO_TYPE << 8));
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
	if (cfg->seccomp != SCF_OFF) {
		ret = scf_install(cfg->seccomp, sb_build, NULL);
		if (ret)
			return ret;
		log_info("seccomp filter installed (%s, %zu system calls allowed)",
			 scf_mode_name(cfg->seccomp),
			 scf_base_count() + ARRAY_SIZE(sb_allow) + SB_CHECKED_CALLS);
	} else {
		log_warn("seccomp is off: the VMM is not confined");
	}
	if (cfg->selftest)
		scf_selftest(cfg->seccomp); /* TEST ONLY (sandbox.h) */
	return 0;
}
