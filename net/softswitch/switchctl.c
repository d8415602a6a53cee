// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switchctl: command-line client of nfv-switch's control socket. Builds one JSON request,
 * prints the one-line JSON response, exits 0 when it says "ok":true, 1 when not, 2 on usage or
 * connection errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

#define DEFAULT_SOCKET "/run/nfvisor/switch.sock"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfv-switchctl [--socket PATH] COMMAND\n"
		"  port-list\n"
		"  port-add NAME type=vhost-user path=P [mode=server|client] [queues=N]\n"
		"           [vlan_mode=access|trunk] [vlan=N] [trunks=A,B,...]\n"
		"  port-add NAME type=ethdev devargs=DEVARGS [queues=N] [vlan options]\n"
		"  port-del NAME\n"
		"  port-set-vlan NAME vlan_mode=access|trunk [vlan=N] [trunks=A,B,...]\n"
		"  fdb [show] | fdb add MAC VLAN PORT | fdb del MAC [VLAN] | fdb flush [static]\n"
		"  stats [PORT] | stats-clear [PORT] | show\n"
		"  raw 'JSON'\n");
}

static bool is_number(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= 9 && s[n] == 0;
}

/* key=value arguments: numbers stay numbers, "trunks" becomes an array. */
static int put_kv(struct jbuf *b, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char key[64];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		fprintf(stderr, "nfv-switchctl: expected key=value, got '%s'\n", arg);
		return -EINVAL;
	}
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = 0;
	eq++;
	if (!strcmp(key, "trunks")) {
		char *dup = strdup(eq), *save = NULL;

		if (!dup)
			return -ENOMEM;
		jbuf_arr_open(b, key);
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			if (!is_number(t)) {
				fprintf(stderr, "nfv-switchctl: trunks: '%s' is not a VLAN id\n", t);
				free(dup);
				return -EINVAL;
			}
			jbuf_u64(b, NULL, strtoul(t, NULL, 10));
		}
		jbuf_arr_close(b);
		free(dup);
	} else if ((!strcmp(key, "queues") || !strcmp(key, "vlan")) && is_number(eq)) {
		jbuf_u64(b, key, strtoul(eq, NULL, 10));
	} else {
		jbuf_str(b, key, eq);
	}
	return 0;
}

static int build(struct jbuf *b, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "raw")) {
		if (argc != 2)
			return -EINVAL;
		jbuf_raw(b, argv[1]);
		return 0;
	}
	jbuf_obj_open(b, NULL);
	if (!strcmp(cmd, "port-list") || !strcmp(cmd, "show")) {
		if (argc != 1)
			return -EINVAL;
		jbuf_str(b, "cmd", cmd);
	} else if (!strcmp(cmd, "port-add") || !strcmp(cmd, "port-set-vlan")) {
		if (argc < 2)
			return -EINVAL;
		jbuf_str(b, "cmd", cmd);
		jbuf_str(b, "name", argv[1]);
		for (int i = 2; i < argc; i++)
			if (put_kv(b, argv[i]))
				return -EINVAL;
	} else if (!strcmp(cmd, "port-del")) {
		if (argc != 2)
			return -EINVAL;
		jbuf_str(b, "cmd", cmd);
		jbuf_str(b, "name", argv[1]);
	} else if (!strcmp(cmd, "stats") || !strcmp(cmd, "stats-clear")) {
		if (argc > 2)
			return -EINVAL;
		jbuf_str(b, "cmd", cmd);
		if (argc == 2)
			jbuf_str(b, "port", argv[1]);
	} else if (!strcmp(cmd, "fdb")) {
		const char *sub = argc > 1 ? argv[1] : "show";

		if (!strcmp(sub, "show") && argc <= 2) {
			jbuf_str(b, "cmd", "fdb-show");
		} else if (!strcmp(sub, "add") && argc == 5 && is_number(argv[3])) {
			jbuf_str(b, "cmd", "fdb-add");
			jbuf_str(b, "mac", argv[2]);
			jbuf_u64(b, "vlan", strtoul(argv[3], NULL, 10));
			jbuf_str(b, "port", argv[4]);
		} else if (!strcmp(sub, "del") && (argc == 3 || (argc == 4 && is_number(argv[3])))) {
			jbuf_str(b, "cmd", "fdb-del");
			jbuf_str(b, "mac", argv[2]);
			if (argc == 4) {
				jbuf_u64(b, "vlan", strtoul(argv[3], NULL, 10));
			}
		} else if (!strcmp(sub, "flush") && (argc == 2 || (argc == 3 && !strcmp(argv[2], "static")))) {
			jbuf_str(b, "cmd", "fdb-flush");
			if (argc == 3)
				jbuf_bool(b, "static", true);
		} else {
			return -EINVAL;
		}
	} else {
		return -EINVAL;
	}
	jbuf_obj_close(b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCKET;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json *doc = NULL;
	struct jbuf req;
	bool ok = false;
	static char resp[16 << 20];
	size_t len = 0;
	int fd, ret = 1;

	argc--;
	argv++;
	if (argc >= 2 && !strcmp(argv[0], "--socket")) {
		sock = argv[1];
		argc -= 2;
		argv += 2;
	}
	if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? 2 : 0;
	}
	jbuf_init(&req);
	if (build(&req, argc, argv) || req.failed) {
		usage(stderr);
		jbuf_free(&req);
		return 2;
	}
	jbuf_raw(&req, "\n");
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "nfv-switchctl: socket path too long\n");
		return 2;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "nfv-switchctl: %s: %s\n", sock, strerror(errno));
		jbuf_free(&req);
		return 2;
	}
	if (send(fd, req.buf, req.len, MSG_NOSIGNAL) != (ssize_t)req.len) {
		fprintf(stderr, "nfv-switchctl: send: %s\n", strerror(errno));
		goto out;
	}
	while (len < sizeof(resp) - 1) {
		ssize_t n = read(fd, resp + len, sizeof(resp) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(resp, '\n', len))
			break;
	}
	resp[len] = 0;
	if (!len) {
		fprintf(stderr, "nfv-switchctl: no response\n");
		ret = 2;
		goto out;
	}
	fputs(resp, stdout);
	if (resp[len - 1] != '\n')
		fputc('\n', stdout);
	if (json_parse(resp, strcspn(resp, "\n"), &doc, NULL) == 0) {
		ret = json_get_bool(doc, "ok", &ok) == 0 && ok ? 0 : 1;
		json_free(doc);
	}
out:
	close(fd);
	jbuf_free(&req);
	return ret;
}
