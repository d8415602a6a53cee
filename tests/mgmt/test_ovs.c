// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd's OVS backend without OVS: --network parsing, the ovs-vsctl command lines for ports and
 * VLANs, the statistics parser fed hostile text, and running ovs-vsctl (exit statuses, stderr,
 * time bound) against small stand-in scripts.
 */
#include "ovs.h"
#include "../unit/test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void join(const struct ovs_argv *a, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < a->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", a->v[i]);
}

static void test_network_parse(void)
{
	static const char *const bad[] = {
		"",
		"x",
		"=ovs:br0",
		"n=",
		"n=ovs:",
		"n=ovs",
		"n=linux:br0",
		"n=ovs:br 0",
		"n=ovs:br0,db=",
		"n=ovs:br0,foo=1",
		"n=ovs:br0,db=unix:/a b",
		"-n=nfv-switch",
		"n/x=nfv-switch",
		"n=ovs:-br",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=nfv-switch",
	};
	struct ovs_network n;
	char err[256];

	CHECK_MSG(ovs_network_parse("default=nfv-switch", &n, err, sizeof(err)) == 0 && !n.ovs &&
			  !strcmp(n.name, "default"),
		  "%s", err);
	CHECK_MSG(ovs_network_parse("ovsnet=ovs:br-nfv", &n, err, sizeof(err)) == 0 && n.ovs &&
			  !strcmp(n.name, "ovsnet") && !strcmp(n.target.bridge, "br-nfv") &&
			  n.target.db[0] == '\0',
		  "%s", err);
	CHECK_MSG(ovs_network_parse("o=ovs:br0,db=unix:/run/x/db.sock", &n, err,
				    sizeof(err)) == 0 &&
			  n.ovs && !strcmp(n.target.db, "unix:/run/x/db.sock"),
		  "%s", err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_MSG(ovs_network_parse(bad[i], &n, err, sizeof(err)) == -EINVAL && err[0],
			  "'%s' accepted", bad[i]);
	}
}

static void test_port_add_argv(void)
{
	struct ovs_target t = {.bridge = "br0", .db = "unix:/tmp/db.sock", .timeout_ms = 2500};
	struct domain_vlan v = {0};
	struct ovs_argv a;
	char buf[1024], err[256];
	const char *tail = "-- set Interface p1 type=dpdkvhostuserclient "
			   "options:vhost-server-path=/run/n/p1.sock";

	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/n/p1.sock", &v, &a, err, sizeof(err)) == 0,
		  "%s", err);
	join(&a, buf, sizeof(buf));
	CHECK_MSG(!strncmp(buf, "ovs-vsctl --db=unix:/tmp/db.sock --timeout=3 add-port br0 p1 -- ",
			   64) &&
			  strstr(buf, tail),
		  "untagged: %s", buf);
	ovs_argv_free(&a);

	v.n_tags = 1;
	v.tags[0].id = 10;
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/n/p1.sock", &v, &a, err, sizeof(err)) == 0,
		  "%s", err);
	join(&a, buf, sizeof(buf));
	CHECK_MSG(strstr(buf, "add-port br0 p1 tag=10 -- set") != NULL, "access: %s", buf);
	ovs_argv_free(&a);

	v.trunk = true;
	v.n_tags = 3;
	v.tags[1].id = 20;
	v.tags[2].id = 30;
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/n/p1.sock", &v, &a, err, sizeof(err)) == 0,
		  "%s", err);
	join(&a, buf, sizeof(buf));
	CHECK_MSG(strstr(buf, "p1 vlan_mode=trunk trunks=10,20,30 --") != NULL, "trunk: %s", buf);
	ovs_argv_free(&a);

	v.tags[1].native_mode = DOMAIN_VLAN_NATIVE_UNTAGGED;
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/n/p1.sock", &v, &a, err, sizeof(err)) == 0,
		  "%s", err);
	join(&a, buf, sizeof(buf));
	CHECK_MSG(strstr(buf, "p1 vlan_mode=native-untagged tag=20 trunks=10,30 --") != NULL,
		  "native untagged: %s", buf);
	ovs_argv_free(&a);

	/* a native VLAN alone: an empty trunks set would mean every VLAN to OVS */
	v.n_tags = 1;
	v.tags[0].native_mode = DOMAIN_VLAN_NATIVE_TAGGED;
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/n/p1.sock", &v, &a, err, sizeof(err)) == 0,
		  "%s", err);
	join(&a, buf, sizeof(buf));
	CHECK_MSG(strstr(buf, "p1 vlan_mode=native-tagged tag=10 trunks=10 --") != NULL,
		  "native alone: %s", buf);
	ovs_argv_free(&a);

	/* names and paths ovs-vsctl would read as syntax are refused */
	CHECK_MSG(ovs_argv_port_add(&t, "p1,x", "/run/p.sock", NULL, &a, err,
				    sizeof(err)) == -EINVAL,
		  "comma in port name");
	CHECK_MSG(ovs_argv_port_add(&t, "--help", "/run/p.sock", NULL, &a, err,
				    sizeof(err)) == -EINVAL,
		  "option as port name");
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/a,b=c.sock", NULL, &a, err,
				    sizeof(err)) == -EINVAL,
		  "syntax in path");
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "rel.sock", NULL, &a, err, sizeof(err)) == -EINVAL,
		  "relative path");
	CHECK_MSG(ovs_argv_port_add(&t, "p1", "/run/\"x\".sock", NULL, &a, err,
				    sizeof(err)) == -EINVAL,
		  "quotes in path");
}

static void test_stats_parse(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"}",
		"rx_bytes=1",
		"{rx_bytes}",
		"{rx_bytes=}",
		"{rx_bytes=x}",
		"{rx_bytes=1 rx_packets=2}",
		"{rx_bytes=1,}",
		"{=1}",
		"{rx_bytes=1} x",
		"{\"rx_bytes=1}",
		"{\"a\\\"b\"=1}",
		"{rx_bytes=99999999999999999999999}",
		"{rx_bytes=1}}",
		"[rx_bytes=1]",
	};
	struct ovs_port_stats st;
	const char *ok = "{ovs_rx_qos_drops=0, rx_bytes=1204, \"rx_1_to_64_packets\"=3, "
			 "rx_dropped=1, rx_errors=-1, rx_packets=12, tx_bytes=980, tx_dropped=2, "
			 "tx_errors=0, tx_packets=10}\n";

	CHECK_MSG(ovs_stats_parse(ok, strlen(ok), &st) == 0 && st.have && st.rx_bytes == 1204 &&
			  st.rx_packets == 12 && st.rx_dropped == 1 && st.rx_errors == 0 &&
			  st.tx_bytes == 980 && st.tx_packets == 10 && st.tx_dropped == 2,
		  "full map");
	CHECK_MSG(ovs_stats_parse("{}\n", 3, &st) == 0 && !st.have, "empty map");
	CHECK_MSG(ovs_stats_parse("{tx_packets=18446744073709551615}", 33, &st) == 0 &&
			  st.tx_packets == UINT64_MAX,
		  "largest counter");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(ovs_stats_parse(bad[i], strlen(bad[i]), &st) == -EINVAL, "'%s' accepted",
			  bad[i]);
	/* the length bounds the parse, not a NUL */
	CHECK_MSG(ovs_stats_parse("{rx_bytes=1}garbage", 12, &st) == 0 && st.rx_bytes == 1,
		  "length-bounded");
}

static char *script(const char *dir, const char *name, const char *body)
{
	char *p = NULL;
	FILE *f;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	f = fopen(p, "w");
	if (!f) {
		free(p);
		return NULL;
	}
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(p, 0755);
	return p;
}

static void test_run(void)
{
	char dir[] = "/tmp/nfv-test-ovs-XXXXXX", err[256];
	struct ovs_target t = {.bridge = "br0", .timeout_ms = 200};
	struct ovs_port_stats st;
	char *s_stats, *s_nobr, *s_fail, *s_slow, *s_args, *s_big;
	FILE *f;

	if (!mkdtemp(dir)) {
		TEST_FAIL("mkdtemp");
		return;
	}
	s_stats = script(dir, "stats", "echo '{rx_bytes=5, rx_packets=1, tx_packets=3}'");
	s_nobr = script(dir, "nobr", "echo 'ovs-vsctl: no bridge' >&2; exit 2");
	s_fail = script(dir, "fail",
			"echo 'ovs-vsctl: unix:/x: database connection failed' >&2\n"
			"echo second line >&2; exit 1");
	s_slow = script(dir, "slow", "exec sleep 30");
	s_big = script(dir, "big", "head -c 200000 /dev/zero");
	s_args = NULL;
	if (asprintf(&s_args, "%s/args", dir) >= 0) {
		char body[512];

		snprintf(body, sizeof(body), "echo \"$@\" > %s.out", s_args);
		free(s_args);
		s_args = script(dir, "args", body);
	}
	if (!s_stats || !s_nobr || !s_fail || !s_slow || !s_args || !s_big) {
		TEST_FAIL("scripts");
		goto out;
	}
	t.vsctl = s_stats;
	CHECK_MSG(ovs_port_stats(&t, "p1", &st, err, sizeof(err)) == 0 && st.rx_bytes == 5 &&
			  st.tx_packets == 3,
		  "%s", err);
	CHECK_MSG(ovs_port_stats(&t, "p,1", &st, err, sizeof(err)) == -EINVAL, "bad port name");
	t.vsctl = s_nobr;
	CHECK_MSG(ovs_bridge_check(&t, err, sizeof(err)) == -ENODEV && strstr(err, "'br0'"), "%s",
		  err);
	t.vsctl = s_fail;
	CHECK_MSG(ovs_bridge_check(&t, err, sizeof(err)) == -EREMOTEIO &&
			  strstr(err, "database connection failed"),
		  "%s", err);
	CHECK_MSG(ovs_port_del(&t, "p1", err, sizeof(err)) == -EREMOTEIO, "del failure reported");
	t.vsctl = "/nonexistent/ovs-vsctl";
	CHECK_MSG(ovs_bridge_check(&t, err, sizeof(err)) == -ENOENT, "missing binary: %s", err);
	t.vsctl = s_big;
	CHECK_MSG(ovs_port_stats(&t, "p1", &st, err, sizeof(err)) == -EMSGSIZE, "oversized: %s",
		  err);
	t.vsctl = s_slow;
	CHECK_MSG(ovs_port_del(&t, "p1", err, sizeof(err)) == -ETIMEDOUT, "time bound: %s", err);
	t.vsctl = s_args;
	snprintf(t.db, sizeof(t.db), "unix:/x/db.sock");
	CHECK_MSG(ovs_port_del(&t, "p1", err, sizeof(err)) == 0, "%s", err);
	{
		char path[512], line[512] = "";

		snprintf(path, sizeof(path), "%s.out", s_args);
		f = fopen(path, "r");
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = '\0';
			fclose(f);
		}
		CHECK_MSG(!strcmp(line,
				  "--db=unix:/x/db.sock --timeout=1 --if-exists del-port br0 p1\n"),
			  "del-port command line: %s", line);
		unlink(path);
	}
out:
	for (char **p = (char *[]){s_stats, s_nobr, s_fail, s_slow, s_args, s_big, NULL}; *p; p++) {
		unlink(*p);
		free(*p);
	}
	rmdir(dir);
}

int main(void)
{
	test_network_parse();
	test_port_add_argv();
	test_stats_parse();
	test_run();
	TEST_DONE("nfvd-ovs-unit");
}
