/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nfv-vmm's sandbox: privilege drop and the seccomp allow-list.
 *
 * nfv-vmm opens everything it needs while it is set up (/dev/kvm, guest RAM, the VM and vCPU fds,
 * tap devices, disk images, the serial and control sockets). After that point the process only
 * runs vCPUs, emulates devices, serves its control socket and reconnects vhost-user sockets, so
 * sandbox_apply() is called once, between vm_create() and vm_run(), and:
 *
 *   1. with a user set: privdrop_apply() (core/privdrop.h): setgroups(), setgid(), setuid() to
 *      that user, then checks that neither the real, effective nor saved uid/gid is root any
 *      more, that no capability is left and that setuid(0)/setgid(0) now fail;
 *   2. sets PR_SET_NO_NEW_PRIVS (so nothing exec'd could gain privileges, and so an unprivileged
 *      process may install a filter);
 *   3. with seccomp on (the default) installs a filter on every thread of the process (TSYNC) that
 *      allows exactly the system calls listed in sandbox.c and kills the whole process
 *      (SECCOMP_RET_KILL_PROCESS) on any other; with "log" the same list is used but a call outside
 *      it is logged by the kernel (audit type 1326, dmesg) and allowed, which is how the list is
 *      maintained; with "off" no filter is installed.
 *
 * Threads created later (vCPUs, virtio-blk queues, vhost-user reconnects) inherit the filter.
 * The functions are not thread-safe; call them from main() only.
 */
#ifndef NFV_VMM_SANDBOX_H
#define NFV_VMM_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "scfilter.h" /* enum scf_mode: SCF_ON (default), SCF_LOG, SCF_OFF */

struct sandbox_cfg {
	const char *user;		/* --user NAME|UID[:GID]; NULL keeps the current user */
	enum scf_mode seccomp;		/* --seccomp on|log|off */
	bool selftest;			/* --seccomp-selftest: TEST ONLY, see sandbox_apply() */
};

/*
 * Check and store --user NAME|UID[:GID] (a NAME may also carry :GID) with privdrop_parse_user().
 * The user is resolved here (getpwnam/getpwuid), so a typo is refused before the VM is created.
 * A numeric UID without a passwd entry needs an explicit :GID. Returns 0 or -EINVAL (logged, naming the value).
 */
int sandbox_set_user(struct sandbox_cfg *cfg, const char *spec) __attribute__((warn_unused_result));

/* Parse --seccomp on|log|off into @cfg. Returns 0 or -EINVAL (logged). */
int sandbox_set_seccomp(struct sandbox_cfg *cfg, const char *mode)
	__attribute__((warn_unused_result));

/*
 * Drop privileges and install the filter as described above. Must be called once, after every
 * fd the VM needs is open and before vCPU threads start. On any failure the process is left as
 * unsafe as it was, and the caller must not start the VM: returns -errno (logged), 0 on success.
 *
 * TEST ONLY: with cfg->selftest, after the filter is installed, this performs one system call
 * that is not on the list (personality(0xffffffff), a harmless query). With seccomp on the kernel
 * kills the process with SIGSYS there; with log or off the call returns and so does this function.
 * Tests use it to prove that the filter is enforced.
 */
int sandbox_apply(const struct sandbox_cfg *cfg) __attribute__((warn_unused_result));

#endif
