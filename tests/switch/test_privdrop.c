// SPDX-License-Identifier: GPL-2.0-only
/*
 * core/privdrop.c without DPDK: --user and --socket-group parsing, extra groups, and, only when
 * run as root, the drop itself in a forked child (ids, groups, capabilities, no way back).
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "../unit/test.h"

#define TEST_ID 65534u

/* Child: drop to TEST_ID with supplementary group 4242 and report what it sees (exit code). */
static int drop_child(void)
{
	struct privdrop_user u;
	gid_t groups[64];
	uid_t r, e, s;
	int n;
	bool have_extra = false;

	if (privdrop_parse_user("65534:65534", &u) || privdrop_add_group(&u, 4242))
		return 10;
	if (privdrop_apply(&u))
		return 11;
	if (getresuid(&r, &e, &s) || r != TEST_ID || e != TEST_ID || s != TEST_ID)
		return 12;
	n = getgroups(64, groups);
	for (int i = 0; i < n; i++) {
		if (groups[i] == 0)
			return 13;
		have_extra |= groups[i] == 4242;
	}
	if (!have_extra)
		return 14;
	if (setuid(0) == 0 || setgid(0) == 0)
		return 15;
	/* Applying a second time is a drop from a non-root user: refused by the kernel. */
	if (privdrop_apply(&u) == 0)
		return 16;
	return 0;
}

int main(void)
{
	struct privdrop_user u;
	gid_t g;

	log_set_level(LOGL_ERR);
	/* --user: never root, a UID without passwd entry needs :GID, names resolved */
	CHECK(privdrop_parse_user("0", &u) == -EINVAL);
	CHECK(privdrop_parse_user("root", &u) == -EINVAL);
	CHECK(privdrop_parse_user("65534:0", &u) == -EINVAL);
	CHECK(privdrop_parse_user("65534:root", &u) == -EINVAL);
	CHECK(privdrop_parse_user("", &u) == -EINVAL);
	CHECK(privdrop_parse_user(":1", &u) == -EINVAL);
	CHECK(privdrop_parse_user("3999999", &u) == -EINVAL);
	CHECK(privdrop_parse_user("4294967295:1", &u) == -EINVAL);
	CHECK(privdrop_parse_user("3999999:3999998", &u) == 0 && u.uid == 3999999 &&
	      u.gid == 3999998 && !u.name[0] && u.n_groups == 0);
	CHECK(privdrop_parse_user("no-such-user-nfv", &u) == -EINVAL);
	if (getgrnam("nogroup")) {
		CHECK(privdrop_parse_user("3999999:nogroup", &u) == 0 &&
		      u.gid == getgrnam("nogroup")->gr_gid);
	}
	/* --socket-group */
	CHECK(privdrop_parse_group("--socket-group", "4242", &g) == 0 && g == 4242);
	CHECK(privdrop_parse_group("--socket-group", "root", &g) == 0 && g == 0);
	CHECK(privdrop_parse_group("--socket-group", "", &g) == -EINVAL);
	CHECK(privdrop_parse_group("--socket-group", "no-such-group-nfv", &g) == -EINVAL);
	CHECK(privdrop_parse_group("--socket-group", "12x", &g) == -EINVAL);
	/* extra groups: no 0, no duplicates, bounded */
	CHECK(privdrop_parse_user("3999999:3999998", &u) == 0);
	CHECK(privdrop_add_group(&u, 0) == -EINVAL);
	CHECK(privdrop_add_group(&u, 7) == 0 && privdrop_add_group(&u, 7) == 0 && u.n_groups == 1);
	for (gid_t k = 100; k < 100 + PRIVDROP_GROUPS_MAX - 1; k++)
		CHECK(privdrop_add_group(&u, k) == 0);
	CHECK(privdrop_add_group(&u, 99) == -ENOSPC && u.n_groups == PRIVDROP_GROUPS_MAX);

	if (geteuid() == 0) {
		int st = -1;
		pid_t pid = fork();

		if (pid == 0)
			_exit(drop_child());
		CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (WIFEXITED(st) && WEXITSTATUS(st))
			fprintf(stderr, "drop child: exit %d\n", WEXITSTATUS(st));
	} else {
		printf("privdrop-unit: not root, the drop itself is not exercised\n");
	}
	TEST_DONE("privdrop-unit");
}
