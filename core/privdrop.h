/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Dropping root for good: the `--user NAME|UID[:GID]` option of nfv-vmm and nfv-switch.
 *
 * A daemon started as root opens what needs root (devices, sockets in root-owned directories,
 * DPDK memory), then calls privdrop_apply() once and runs the rest of its life as an unprivileged
 * user. The drop is
 *
 *   1. supplementary groups: initgroups() for a user with a passwd entry (its groups give access
 *      to socket directories), setgroups(1, &gid) for a bare UID, plus any group added with
 *      privdrop_add_group();
 *   2. setresgid(gid, gid, gid), then setresuid(uid, uid, uid). glibc applies set*id() to every
 *      thread of the process (nptl's setxid broadcast), so threads started before the drop (DPDK
 *      lcores, vhost and interrupt threads) change too. Leaving uid 0 for all three uids clears
 *      the permitted and effective capability sets (capabilities(7), "Effect of user ID changes
 *      on capabilities"; nothing here sets SECBIT_KEEP_CAPS);
 *   3. checks: all three uids and gids are the target, no capability is left in the permitted
 *      or effective set, and setuid(0), seteuid(0), setgid(0), setegid(0) all fail. If any check
 *      fails the caller must not go on serving.
 *
 * Messages name the `--user` option and its value; both programs spell the option that way.
 * The functions are not thread-safe in the sense that set-up is: call them from main().
 */
#ifndef NFV_CORE_PRIVDROP_H
#define NFV_CORE_PRIVDROP_H

#include <stdbool.h>
#include <sys/types.h>

#define PRIVDROP_NAME_MAX 64
#define PRIVDROP_GROUPS_MAX 8	/* extra supplementary groups (privdrop_add_group) */

/* A resolved --user. Plain data: may be copied; privdrop_parse_user() fills it. */
struct privdrop_user {
	uid_t uid;
	gid_t gid;
	char name[PRIVDROP_NAME_MAX];	/* passwd name; empty for a UID without a passwd entry */
	unsigned n_groups;
	gid_t groups[PRIVDROP_GROUPS_MAX];	/* kept in addition to the user's own groups */
};

/*
 * Resolve NAME|UID[:GID] (GID may be a group name; a NAME may also carry :GID) with
 * getpwnam/getpwuid/getgrnam, so that a typo is refused at start, before anything is set up.
 * Without :GID the passwd entry's primary group is used; a numeric UID without a passwd entry
 * therefore needs :GID. uid 0 and gid 0 are refused. Returns 0 (and fills @out) or -EINVAL,
 * logged with a message naming the value ("--user X: no such user 'X'").
 */
int privdrop_parse_user(const char *spec, struct privdrop_user *out)
	__attribute__((warn_unused_result));

/*
 * Resolve a group NAME or numeric GID for option @opt (used in the message, e.g.
 * "--socket-group"). Returns 0 or -EINVAL (logged, naming the value).
 */
int privdrop_parse_group(const char *opt, const char *spec, gid_t *out)
	__attribute__((warn_unused_result));

/*
 * Keep @gid as a supplementary group after the drop (e.g. the group a daemon hands its sockets
 * to, so it may still chown new ones to it). gid 0 is refused. A group already present is not
 * added twice. Returns 0, -EINVAL (gid 0) or -ENOSPC (more than PRIVDROP_GROUPS_MAX); not logged.
 */
int privdrop_add_group(struct privdrop_user *u, gid_t gid) __attribute__((warn_unused_result));

/*
 * Drop to @u as described at the top of this file. Needs root (CAP_SETUID/CAP_SETGID). Returns
 * 0, logging "running as uid U gid G NAME" at info level, or -errno (logged) when a step or a
 * check failed; the process may then be half-dropped and must exit.
 */
int privdrop_apply(const struct privdrop_user *u) __attribute__((warn_unused_result));

/*
 * prctl(PR_SET_NO_NEW_PRIVS, 1): nothing this process executes can gain privileges (set-uid
 * bits, file capabilities), and an unprivileged process may install a seccomp filter.
 * Per-thread in the kernel: call it before creating the threads that need it, or on each.
 * Returns 0 or -errno (logged).
 */
int privdrop_no_new_privs(void) __attribute__((warn_unused_result));

#endif
