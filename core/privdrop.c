// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dropping root for good (contract in privdrop.h).
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "privdrop.h"

/* A decimal id below UINT32_MAX ((uid_t)-1 means "unchanged" to the set*id calls). */
static bool pd_parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || parse_u64(s, &v) || v >= UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

int privdrop_parse_group(const char *opt, const char *spec, gid_t *out)
{
	struct group *gr;
	uint32_t id;

	if (pd_parse_id(spec, &id)) {
		*out = id;
		return 0;
	}
	gr = *spec ? getgrnam(spec) : NULL;
	if (!gr) {
		log_err("%s: '%s' is not a group id or name", opt, spec);
		return -EINVAL;
	}
	*out = gr->gr_gid;
	return 0;
}

int privdrop_parse_user(const char *spec, struct privdrop_user *out)
{
	struct privdrop_user u = { 0 };
	char who[128];
	const char *colon = strchr(spec, ':');
	size_t wlen = colon ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;
	uint32_t id;
	bool have_gid = false;

	if (wlen == 0 || wlen >= sizeof(who)) {
		log_err("--user: '%s' is not NAME, UID or UID:GID", spec);
		return -EINVAL;
	}
	memcpy(who, spec, wlen);
	who[wlen] = '\0';
	if (colon) {
		struct group *gr;

		if (pd_parse_id(colon + 1, &id)) {
			u.gid = id;
		} else if ((gr = getgrnam(colon + 1))) {
			u.gid = gr->gr_gid;
		} else {
			log_err("--user %s: '%s' is not a group id or name", spec, colon + 1);
			return -EINVAL;
		}
		have_gid = true;
	}
	if (pd_parse_id(who, &id)) {
		u.uid = id;
		pw = getpwuid(id);
	} else {
		pw = getpwnam(who);
		if (!pw) {
			log_err("--user %s: no such user '%s'", spec, who);
			return -EINVAL;
		}
		u.uid = pw->pw_uid;
	}
	if (pw) {
		if (!have_gid)
			u.gid = pw->pw_gid;
		/* initgroups() needs the name; a longer one falls back to the primary group only */
		if (strlen(pw->pw_name) < sizeof(u.name))
			snprintf(u.name, sizeof(u.name), "%s", pw->pw_name);
	} else if (!have_gid) {
		log_err("--user %s: uid %u has no passwd entry; give UID:GID", spec, u.uid);
		return -EINVAL;
	}
	if (u.uid == 0 || u.gid == 0) {
		log_err("--user %s: refusing to 'drop' to uid or gid 0", spec);
		return -EINVAL;
	}
	*out = u;
	return 0;
}

int privdrop_add_group(struct privdrop_user *u, gid_t gid)
{
	if (gid == 0)
		return -EINVAL;
	for (unsigned i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return 0;
	if (u->n_groups == PRIVDROP_GROUPS_MAX)
		return -ENOSPC;
	u->groups[u->n_groups++] = gid;
	return 0;
}

/* The user's own groups (initgroups, or just the primary one) plus u->groups[]. */
static int pd_set_groups(const struct privdrop_user *u)
{
	gid_t list[NGROUPS_MAX > 4096 ? 4096 : NGROUPS_MAX];
	int n;

	if (u->name[0] ? initgroups(u->name, u->gid) : setgroups(1, &u->gid)) {
		int e = errno;

		log_err("--user: setgroups: %s", strerror(e));
		return -e;
	}
	if (!u->n_groups)
		return 0;
	n = getgroups((int)ARRAY_SIZE(list), list);
	if (n < 0 || (size_t)n + u->n_groups > ARRAY_SIZE(list)) {
		log_err("--user: too many supplementary groups");
		return -E2BIG;
	}
	for (unsigned i = 0; i < u->n_groups; i++) {
		bool have = false;

		for (int k = 0; k < n && !have; k++)
			have = list[k] == u->groups[i];
		if (!have)
			list[n++] = u->groups[i];
	}
	if (setgroups((size_t)n, list)) {
		int e = errno;

		log_err("--user: setgroups: %s", strerror(e));
		return -e;
	}
	return 0;
}

/* True if the permitted or effective capability set of this thread is not empty. */
static bool pd_has_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return true;	/* cannot tell: assume the worst */
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
		if (data[i].permitted || data[i].effective)
			return true;
	return false;
}

int privdrop_apply(const struct privdrop_user *u)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int ret;

	/* Supplementary groups first, while we still may. */
	ret = pd_set_groups(u);
	if (ret)
		return ret;
	/* glibc applies set*id to every thread of the process (nptl setxid), not just this one. */
	if (setresgid(u->gid, u->gid, u->gid)) {
		ret = -errno;
		log_err("--user: setgid(%u): %s", u->gid, strerror(-ret));
		return ret;
	}
	if (setresuid(u->uid, u->uid, u->uid)) {
		ret = -errno;
		log_err("--user: setuid(%u): %s", u->uid, strerror(-ret));
		return ret;
	}
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg) || ru != u->uid ||
	    eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid || sg != u->gid) {
		log_err("--user: ids after the drop are not uid %u gid %u", u->uid, u->gid);
		return -EPERM;
	}
	if (pd_has_caps()) {
		log_err("--user: capabilities are left after dropping to uid %u", u->uid);
		return -EPERM;
	}
	/* With every uid non-zero and no capabilities left these must fail; if one succeeds the
	 * process could regain root and must not go on. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0) {
		log_err("--user: the process could regain root after dropping to uid %u", u->uid);
		return -EPERM;
	}
	log_info("running as uid %u gid %u%s%s", u->uid, u->gid, u->name[0] ? " " : "", u->name);
	return 0;
}

int privdrop_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		int e = errno;

		log_err("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(e));
		return -e;
	}
	return 0;
}
