// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvctl: command-line client of nfvd with virsh's verbs, output formats, messages and exit codes
 * (0 success, 1 error), so operators' habits and scripts carry over.
 */
#include "domain.h"
#include "http.h"
#include "json.h"
#include "strbuf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *sock_path = "/run/nfvisor/nfvd.sock";

__attribute__((format(printf, 1, 2))) static void error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- HTTP over the UNIX socket ---- */

struct resp {
	int status;
	char *body; /* NUL-terminated */
	size_t len;
	struct json *json; /* parsed when the body is JSON */
};

static void resp_free(struct resp *r)
{
	free(r->body);
	json_free(r->json);
	memset(r, 0, sizeof(*r));
}

static int http_call(const char *method, const char *path, const char *ctype, const char *body,
		     size_t body_len, struct resp *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct strbuf req = STRBUF_INIT;
	size_t len = 0, cap = 0, off = 0;
	char *buf = NULL, *hdr_end, *p;
	int fd;

	memset(out, 0, sizeof(*out));
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		error("socket path too long: %s", sock_path);
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error("failed to connect to the hypervisor");
		error("Failed to connect socket to '%s': %s", sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	sb_printf(&req, "%s %s HTTP/1.1\r\nHost: nfvd\r\nConnection: close\r\n", method, path);
	if (body) {
		sb_printf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, body_len);
	} else if (!strcmp(method, "POST") || !strcmp(method, "PUT")) {
		sb_append(&req, "Content-Length: 0\r\n");
	}
	sb_append(&req, "\r\n");
	if (body)
		sb_appendn(&req, body, body_len);
	while (off < req.len) {
		ssize_t n = send(fd, req.buf + off, req.len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error("failed to send the request: %s", strerror(errno));
			sb_reset(&req);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	sb_reset(&req);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			if (cap > 64u << 20) {
				error("response too large");
				free(buf);
				close(fd);
				return -1;
			}
			buf = realloc(buf, cap);
			if (!buf) {
				close(fd);
				return -1;
			}
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error("failed to read the response: %s", strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		error("the daemon closed the connection without a response");
		return -1;
	}
	buf[len] = '\0';
	hdr_end = strstr(buf, "\r\n\r\n");
	if (!hdr_end || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		error("malformed response from the daemon");
		free(buf);
		return -1;
	}
	p = hdr_end + 4;
	out->len = len - (size_t)(p - buf);
	out->body = malloc(out->len + 1);
	if (!out->body) {
		free(buf);
		return -1;
	}
	memcpy(out->body, p, out->len);
	out->body[out->len] = '\0';
	free(buf);
	if (out->len && (out->body[0] == '{' || out->body[0] == '[')) {
		if (json_parse(out->body, out->len, &out->json, NULL) < 0)
			out->json = NULL;
	}
	return 0;
}

static const char *resp_error(const struct resp *r)
{
	const char *e;

	if (r->json && !json_get_str(r->json, "error", &e))
		return e;
	return "unknown error";
}

/* GET a domain resource; prints virsh's lookup error for 404. */
static int get_domain(const char *name, const char *sub, struct resp *r)
{
	char path[1024];

	if (strpbrk(name, "/?#% ") || !*name) {
		error("failed to get domain '%s'", name);
		return -1;
	}
	snprintf(path, sizeof(path), "/domains/%s%s", name, sub ? sub : "");
	if (http_call("GET", path, NULL, NULL, 0, r) < 0)
		return -1;
	if (r->status == 404) {
		error("failed to get domain '%s'", name);
		resp_free(r);
		return -1;
	}
	if (r->status != 200) {
		error("%s", resp_error(r));
		resp_free(r);
		return -1;
	}
	return 0;
}

/* ---- vsh-style tables ---- */

#define TABLE_MAX_COLS 10

struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols */
};

static void table_add(struct table *t, const char *const *cells)
{
	t->cells = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
	if (!t->cells)
		exit(1);
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cells[i] ? cells[i] : "-");
	t->nrows++;
}

/*
 * virsh's layout: each cell is preceded by one space and padded to the column width, columns are
 * separated by two more spaces, and the header is underlined with width+3 dashes per column.
 */
static void table_print(struct table *t)
{
	size_t w[TABLE_MAX_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			w[c] = MAX(w[c], strlen(t->cells[r * t->ncols + c]));
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				printf(" %-*s  ", (int)w[c], s);
			else
				printf(" %s", s);
		}
		putchar('\n');
		if (r == 0) {
			for (size_t c = 0; c < t->ncols; c++)
				for (size_t k = 0; k < w[c] + 3; k++)
					putchar('-');
			putchar('\n');
		}
	}
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static int64_t jint(const struct json *o, const char *key)
{
	int64_t v = 0;

	json_get_int(o, key, INT64_MIN, INT64_MAX, &v); /* absent or not an integer: 0 */
	return v;
}

static const char *jstr(const struct json *o, const char *key, const char *dflt)
{
	const char *s;

	return json_get_str(o, key, &s) == 0 ? s : dflt;
}

static bool jbool(const struct json *o, const char *key)
{
	bool b = false;

	json_get_bool(o, key, &b);
	return b;
}

/* ---- commands ---- */

static int cmp_list_rows(const void *a, const void *b)
{
	const struct json *x = *(const struct json *const *)a, *y = *(const struct json *const *)b;
	bool xr = !strcmp(jstr(x, "state", ""), "running");
	bool yr = !strcmp(jstr(y, "state", ""), "running");

	if (xr != yr)
		return xr ? -1 : 1;
	if (xr && jint(x, "id") != jint(y, "id"))
		return jint(x, "id") < jint(y, "id") ? -1 : 1;
	return strcmp(jstr(x, "name", ""), jstr(y, "name", ""));
}

static int cmd_list(int argc, char **argv)
{
	bool all = false, names = false;
	struct table t = {.ncols = 3};
	struct resp r;
	const struct json *arr;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all"))
			all = true;
		else if (!strcmp(argv[i], "--name"))
			names = true;
		else if (!strcmp(argv[i], "--inactive"))
			all = true;
		else {
			error("command 'list' doesn't support option %s", argv[i]);
			return 1;
		}
	}
	if (http_call("GET", "/domains", NULL, NULL, 0, &r) < 0)
		return 1;
	if (r.status != 200 || !r.json) {
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	arr = json_get(r.json, "domains");
	table_add(&t, (const char *const[]){"Id", "Name", "State"});
	/* running domains first by id, then the others by name, as virsh does */
	{
		const struct json *rows[1024];
		size_t n = 0;

		for (const struct json *dj = arr ? arr->child : NULL; dj && n < 1024; dj = dj->next)
			if (all || !strcmp(jstr(dj, "state", ""), "running"))
				rows[n++] = dj;
		qsort(rows, n, sizeof(rows[0]), cmp_list_rows);
		for (size_t i = 0; i < n; i++) {
			bool running = !strcmp(jstr(rows[i], "state", ""), "running");
			char id[32];

			if (names) {
				printf("%s\n", jstr(rows[i], "name", "?"));
				continue;
			}
			snprintf(id, sizeof(id), "%lld", (long long)jint(rows[i], "id"));
			table_add(&t, (const char *const[]){running ? id : "-",
							    jstr(rows[i], "name", "?"),
							    jstr(rows[i], "state", "?")});
		}
	}
	if (names)
		putchar('\n');
	else
		table_print(&t);
	if (!names)
		putchar('\n');
	resp_free(&r);
	return 0;
}

static char *read_file_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536;
	char *buf;

	*len = 0;
	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + *len, 1, cap - *len, f);

		*len += n;
		if (n == 0)
			break;
		if (*len == cap) {
			if (cap > 16u << 20)
				break;
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	fclose(f);
	return buf;
}

static int define_xml(const char *xml, size_t len, bool drop, char **name_out)
{
	struct resp r;
	const struct json *dropped;

	if (http_call("POST", drop ? "/domains?drop_unsupported=1" : "/domains", "application/xml",
		      xml, len, &r) < 0)
		return -1;
	if (r.status != 201) {
		*name_out = strdup(resp_error(&r));
		resp_free(&r);
		return -2;
	}
	dropped = json_get(r.json, "dropped");
	for (const struct json *d = dropped ? dropped->child : NULL; d; d = d->next)
		if (d->type == JSON_STRING)
			fprintf(stderr, "warning: %s\n", d->str);
	*name_out = strdup(jstr(r.json, "name", "?"));
	resp_free(&r);
	return 0;
}

static int cmd_define(int argc, char **argv)
{
	const char *file = NULL;
	bool drop = false;
	char *xml, *name = NULL;
	size_t len;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--drop-unsupported"))
			drop = true;
		else if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else {
			error("command 'define' doesn't support option %s", argv[i]);
			return 1;
		}
	}
	if (!file) {
		error("command 'define' requires <file> option");
		return 1;
	}
	xml = read_file_all(file, &len);
	if (!xml) {
		error("Failed to open file '%s': %s", file, strerror(errno));
		return 1;
	}
	r = define_xml(xml, len, drop, &name);
	free(xml);
	if (r == -1)
		return 1;
	if (r < 0) {
		error("Failed to define domain from %s", file);
		error("%s", name ? name : "");
		free(name);
		return 1;
	}
	printf("Domain '%s' defined from %s\n\n", name, file);
	free(name);
	return 0;
}

static int need_name(int argc, char **argv __unused, const char *cmd)
{
	if (argc < 2) {
		error("command '%s' requires <domain> option", cmd);
		return -1;
	}
	return 0;
}

static int post_action(const char *name, const char *action, const char *fail_verb,
		       const char *ok_msg)
{
	char path[1024];
	struct resp r;

	if (strpbrk(name, "/?#% ")) {
		error("failed to get domain '%s'", name);
		return 1;
	}
	snprintf(path, sizeof(path), "/domains/%s/%s", name, action);
	if (http_call("POST", path, NULL, NULL, 0, &r) < 0)
		return 1;
	if (r.status == 404) {
		error("failed to get domain '%s'", name);
		resp_free(&r);
		return 1;
	}
	if (r.status != 200) {
		error("Failed to %s domain '%s'", fail_verb, name);
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	resp_free(&r);
	printf("Domain '%s' %s\n\n", name, ok_msg);
	return 0;
}

static int cmd_lifecycle(int argc, char **argv)
{
	if (need_name(argc, argv, argv[0]))
		return 1;
	if (argc > 2) {
		error("command '%s' doesn't support option %s", argv[0], argv[2]);
		return 1;
	}
	if (!strcmp(argv[0], "start"))
		return post_action(argv[1], "start", "start", "started");
	if (!strcmp(argv[0], "shutdown"))
		return post_action(argv[1], "shutdown", "shutdown", "is being shutdown");
	if (!strcmp(argv[0], "destroy"))
		return post_action(argv[1], "destroy", "destroy", "destroyed");
	return post_action(argv[1], "reboot", "reboot", "is being rebooted");
}

static int cmd_undefine(int argc, char **argv)
{
	char path[1024];
	struct resp r;

	if (need_name(argc, argv, "undefine"))
		return 1;
	if (get_domain(argv[1], NULL, &r) < 0)
		return 1;
	resp_free(&r);
	snprintf(path, sizeof(path), "/domains/%s", argv[1]);
	if (http_call("DELETE", path, NULL, NULL, 0, &r) < 0)
		return 1;
	if (r.status != 200) {
		error("Failed to undefine domain '%s'", argv[1]);
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	resp_free(&r);
	printf("Domain '%s' has been undefined\n\n", argv[1]);
	return 0;
}

static int cmd_dominfo(int argc, char **argv)
{
	struct resp r;
	const struct json *j;
	char id[32];

	if (need_name(argc, argv, "dominfo") || get_domain(argv[1], NULL, &r) < 0)
		return 1;
	j = r.json;
	snprintf(id, sizeof(id), "%lld", (long long)jint(j, "id"));
	printf("%-15s %s\n", "Id:", jint(j, "id") > 0 ? id : "-");
	printf("%-15s %s\n", "Name:", jstr(j, "name", "?"));
	printf("%-15s %s\n", "UUID:", jstr(j, "uuid", "?"));
	printf("%-15s %s\n", "OS Type:", jstr(j, "os_type", "hvm"));
	printf("%-15s %s\n", "State:", jstr(j, "state", "?"));
	printf("%-15s %lld\n", "CPU(s):", (long long)jint(j, "vcpus"));
	if (json_get(j, "uptime_ms"))
		printf("%-15s %.1fs\n", "Uptime:", (double)jint(j, "uptime_ms") / 1000.0);
	printf("%-15s %lld KiB\n", "Max memory:", (long long)jint(j, "memory_kib"));
	printf("%-15s %lld KiB\n", "Used memory:", (long long)jint(j, "current_memory_kib"));
	printf("%-15s %s\n", "Persistent:", jbool(j, "persistent") ? "yes" : "no");
	printf("%-15s %s\n", "Autostart:", jbool(j, "autostart") ? "enable" : "disable");
	printf("%-15s %s\n", "Managed save:", "no");
	printf("%-15s %s\n", "Security model:", "none");
	printf("%-15s %s\n", "Security DOI:", "0");
	if (jint(j, "pid") > 0)
		printf("%-15s %lld\n", "nfv-vmm PID:", (long long)jint(j, "pid"));
	printf("%-15s %s\n", "State reason:", jstr(j, "reason", "unknown"));
	putchar('\n');
	resp_free(&r);
	return 0;
}

static int cmd_dumpxml(int argc, char **argv)
{
	bool inactive = argc > 2 && !strcmp(argv[2], "--inactive");
	struct resp r;

	if (need_name(argc, argv, "dumpxml"))
		return 1;
	if (argc > 2 && !inactive) {
		error("command 'dumpxml' doesn't support option %s", argv[2]);
		return 1;
	}
	if (get_domain(argv[1], inactive ? "/xml?inactive=1" : "/xml", &r) < 0)
		return 1;
	fwrite(r.body, 1, r.len, stdout);
	resp_free(&r);
	return 0;
}

static int cmd_edit(int argc, char **argv)
{
	char tmpl[] = "/tmp/nfvctl-edit-XXXXXX.xml";
	const char *editor = getenv("VISUAL");
	struct resp r;
	char *orig = NULL, *cmd = NULL;
	int fd, ret = 1;

	if (need_name(argc, argv, "edit") || get_domain(argv[1], "/xml?inactive=1", &r) < 0)
		return 1;
	if (!editor || !*editor)
		editor = getenv("EDITOR");
	if (!editor || !*editor)
		editor = "vi";
	orig = strdup(r.body);
	fd = mkstemps(tmpl, 4);
	if (fd < 0 || write(fd, r.body, r.len) != (ssize_t)r.len) {
		error("cannot write a temporary file: %s", strerror(errno));
		resp_free(&r);
		free(orig);
		return 1;
	}
	close(fd);
	resp_free(&r);
	for (;;) {
		size_t len;
		char *xml, *name = NULL, ans[16];
		int st, dr;

		if (asprintf(&cmd, "%s %s", editor, tmpl) < 0)
			break;
		st = system(cmd);
		free(cmd);
		if (st != 0) {
			error("%s: editor exited with status %d", editor, WEXITSTATUS(st));
			break;
		}
		xml = read_file_all(tmpl, &len);
		if (!xml)
			break;
		if (len == strlen(orig) && !memcmp(xml, orig, len)) {
			printf("Domain '%s' XML configuration not changed.\n\n", argv[1]);
			free(xml);
			ret = 0;
			break;
		}
		{
			/* the definition is validated before it replaces the old one */
			struct domain_def *def = NULL;
			char *perr = NULL;

			if (domain_parse_string(xml, len, tmpl, DOMAIN_PARSE_DROP_UNSUPPORTED, &def,
						&perr) == 0 &&
			    strcmp(def->name, argv[1])) {
				free(perr);
				if (asprintf(&perr, "editing the domain name is not supported "
						    "(use define for a new domain)") < 0)
					perr = NULL;
				domain_def_free(def);
				name = perr;
				dr = -2;
			} else {
				domain_def_free(def);
				free(perr);
				dr = define_xml(xml, len, false, &name);
			}
		}
		free(xml);
		if (dr == 0) {
			printf("Domain '%s' XML configuration edited.\n\n", name);
			free(name);
			ret = 0;
			break;
		}
		if (dr == -1)
			break;
		error("%s", name ? name : "");
		free(name);
		if (!isatty(0))
			break;
		printf("Failed. Try again? [y,n]: ");
		fflush(stdout);
		if (!fgets(ans, sizeof(ans), stdin) || (ans[0] != 'y' && ans[0] != 'Y'))
			break;
	}
	unlink(tmpl);
	free(orig);
	return ret;
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSAFLUSH, &saved_tio);
}

static int cmd_console(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	bool stdin_done = false;
	const char *path;
	struct resp r;
	int fd;

	if (need_name(argc, argv, "console") || get_domain(argv[1], NULL, &r) < 0)
		return 1;
	if (strcmp(jstr(r.json, "state", ""), "running")) {
		error("The domain is not running");
		resp_free(&r);
		return 1;
	}
	path = jstr(r.json, "console", "");
	if (!*path) {
		error("internal error: cannot find character device <null>");
		resp_free(&r);
		return 1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error("cannot connect to the console %s: %s", path, strerror(errno));
		resp_free(&r);
		return 1;
	}
	resp_free(&r);
	printf("Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", argv[1]);
	fflush(stdout);
	if (isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		struct termios raw = saved_tio;

		tio_saved = true;
		atexit(restore_tty);
		cfmakeraw(&raw);
		tcsetattr(0, TCSAFLUSH, &raw);
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = stdin_done ? -1 : 0, .events = POLLIN},
				      {.fd = fd, .events = POLLIN}};
		char buf[4096];
		ssize_t n;
		int pr = poll(p, 2, stdin_done ? 500 : -1);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		if (p[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				/* input ended (a script): print what the guest still says, then
				 * leave */
				stdin_done = true;
				shutdown(fd, SHUT_WR);
				continue;
			}
			if (tio_saved && memchr(buf, 0x1d, (size_t)n))
				break; /* ^] */
			if (write(fd, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (write(1, buf, (size_t)n) != n)
				break;
		}
	}
	restore_tty();
	tio_saved = false;
	close(fd);
	putchar('\n');
	return 0;
}

static int cmd_domiflist(int argc, char **argv)
{
	struct table t = {.ncols = 5};
	const struct json *arr;
	struct resp r;

	if (need_name(argc, argv, "domiflist") || get_domain(argv[1], NULL, &r) < 0)
		return 1;
	arr = json_get(r.json, "interfaces");
	table_add(&t, (const char *const[]){"Interface", "Type", "Source", "Model", "MAC"});
	for (const struct json *i = arr ? arr->child : NULL; i; i = i->next)
		table_add(&t, (const char *const[]){jstr(i, "interface", "-"), jstr(i, "type", "-"),
						    jstr(i, "source", "-"), jstr(i, "model", "-"),
						    jstr(i, "mac", "-")});
	table_print(&t);
	putchar('\n');
	resp_free(&r);
	return 0;
}

static int cmd_domblklist(int argc, char **argv)
{
	struct table t = {.ncols = 2};
	const struct json *arr;
	struct resp r;

	if (need_name(argc, argv, "domblklist") || get_domain(argv[1], NULL, &r) < 0)
		return 1;
	arr = json_get(r.json, "disks");
	table_add(&t, (const char *const[]){"Target", "Source"});
	for (const struct json *i = arr ? arr->child : NULL; i; i = i->next)
		table_add(&t,
			  (const char *const[]){jstr(i, "target", "-"), jstr(i, "source", "-")});
	table_print(&t);
	putchar('\n');
	resp_free(&r);
	return 0;
}

static int cmd_domifstat(int argc, char **argv)
{
	static const char *const keys[] = {"rx_bytes", "rx_packets", "rx_errs", "rx_drop",
					   "tx_bytes", "tx_packets", "tx_errs", "tx_drop"};
	const struct json *arr, *found = NULL;
	struct resp r;

	if (argc < 3) {
		error("command 'domifstat' requires <domain> and <interface> options");
		return 1;
	}
	if (get_domain(argv[1], "/stats", &r) < 0)
		return 1;
	arr = json_get(r.json, "interfaces");
	for (const struct json *i = arr ? arr->child : NULL; i; i = i->next)
		if (!strcmp(jstr(i, "interface", ""), argv[2]) ||
		    !strcmp(jstr(i, "mac", ""), argv[2]))
			found = i;
	if (!found) {
		error("invalid argument: invalid path, '%s' is not a known interface", argv[2]);
		resp_free(&r);
		return 1;
	}
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		printf("%s %s %lld\n", argv[2], keys[k], (long long)jint(found, keys[k]));
	putchar('\n');
	resp_free(&r);
	return 0;
}

static int cmd_vcpuinfo(int argc, char **argv)
{
	const struct json *vmm, *vcpus;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct resp r;

	if (need_name(argc, argv, "vcpuinfo") || get_domain(argv[1], "/stats", &r) < 0)
		return 1;
	vmm = json_get(r.json, "vmm");
	vcpus = json_get(vmm, "vcpus");
	if (!vcpus) {
		error("cannot get vCPU information from nfv-vmm");
		resp_free(&r);
		return 1;
	}
	for (const struct json *v = vcpus->child; v; v = v->next) {
		uint64_t mask[16];
		const char *aff = jstr(v, "affinity", "");
		bool have = parse_cpulist(aff, mask) == 0;

		printf("%-15s %lld\n", "VCPU:", (long long)jint(v, "id"));
		printf("%-15s %lld\n", "CPU:", (long long)jint(v, "cpu"));
		printf("%-15s %s\n", "State:", "running");
		printf("%-15s %s\n", "CPU time:", "-");
		printf("%-15s ", "CPU Affinity:");
		for (long c = 0; c < ncpu && c < 1024; c++)
			putchar(have && (mask[c / 64] & (1ull << (c % 64))) ? 'y' : '-');
		printf("\n\n");
	}
	resp_free(&r);
	return 0;
}

static int cmd_vcpupin(int argc, char **argv)
{
	struct strbuf body = STRBUF_INIT;
	char path[1024];
	struct resp r;
	uint64_t v;

	if (need_name(argc, argv, "vcpupin"))
		return 1;
	if (argc == 2) {
		struct table t = {.ncols = 2};
		const struct json *pins;
		int i = 0;

		if (get_domain(argv[1], NULL, &r) < 0)
			return 1;
		pins = json_get(r.json, "vcpupin");
		table_add(&t, (const char *const[]){"VCPU", "CPU Affinity"});
		for (const struct json *p = pins ? pins->child : NULL; p; p = p->next, i++) {
			char idx[16], all[32];

			snprintf(idx, sizeof(idx), "%d", i);
			snprintf(all, sizeof(all), "0-%ld", sysconf(_SC_NPROCESSORS_CONF) - 1);
			table_add(&t, (const char *const[]){idx,
							    p->type == JSON_STRING ? p->str : all});
		}
		table_print(&t);
		putchar('\n');
		resp_free(&r);
		return 0;
	}
	if (argc < 4 || parse_u64(argv[2], &v) < 0 || v >= DOMAIN_MAX_VCPUS) {
		error("vcpupin: Invalid vCPU number or missing cpulist (usage: vcpupin <domain> "
		      "<vcpu> <cpulist>)");
		return 1;
	}
	sb_printf(&body, "{\"vcpu\":%llu,\"cpuset\":", (unsigned long long)v);
	sb_json_str(&body, argv[3]);
	sb_append(&body, "}");
	snprintf(path, sizeof(path), "/domains/%s/vcpupin", argv[1]);
	if (strpbrk(argv[1], "/?#% ") ||
	    http_call("POST", path, "application/json", sb_str(&body), body.len, &r) < 0) {
		sb_reset(&body);
		return 1;
	}
	sb_reset(&body);
	if (r.status == 404) {
		error("failed to get domain '%s'", argv[1]);
		resp_free(&r);
		return 1;
	}
	if (r.status != 200) {
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	resp_free(&r);
	return 0;
}

static int cmd_autostart(int argc, char **argv)
{
	bool disable = argc > 2 && !strcmp(argv[2], "--disable");
	char path[1024];
	struct resp r;

	if (need_name(argc, argv, "autostart"))
		return 1;
	if (argc > 2 && !disable) {
		error("command 'autostart' doesn't support option %s", argv[2]);
		return 1;
	}
	if (get_domain(argv[1], NULL, &r) < 0)
		return 1;
	resp_free(&r);
	snprintf(path, sizeof(path), "/domains/%s/autostart", argv[1]);
	if (http_call("PUT", path, "application/json",
		      disable ? "{\"autostart\":false}" : "{\"autostart\":true}", disable ? 19 : 18,
		      &r) < 0)
		return 1;
	if (r.status != 200) {
		error("Failed to %smark domain '%s' as autostarted", disable ? "un" : "", argv[1]);
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	resp_free(&r);
	printf("Domain '%s' %s as autostarted\n\n", argv[1], disable ? "unmarked" : "marked");
	return 0;
}

static int cmd_switch(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const char *res = !strcmp(what, "port-list") ? "/switch/ports"
			  : !strcmp(what, "fdb")     ? "/switch/fdb"
			  : !strcmp(what, "stats")   ? "/switch/stats"
						     : NULL;
	struct table t = {0};
	const struct json *arr;
	struct resp r;

	if (!res) {
		error("usage: switch port-list | fdb | stats");
		return 1;
	}
	if (http_call("GET", res, NULL, NULL, 0, &r) < 0)
		return 1;
	if (r.status != 200) {
		error("%s", resp_error(&r));
		resp_free(&r);
		return 1;
	}
	if (!strcmp(what, "port-list")) {
		t.ncols = 6;
		table_add(&t, (const char *const[]){"Port", "Type", "Link", "VLAN mode", "VLAN",
						    "Path"});
		arr = json_get(r.json, "ports");
		for (const struct json *p = arr ? arr->child : NULL; p; p = p->next) {
			char vlan[32];
			const struct json *link = json_get(p, "link");

			snprintf(vlan, sizeof(vlan), "%lld", (long long)jint(p, "vlan"));
			table_add(&t,
				  (const char *const[]){jstr(p, "name", "-"), jstr(p, "type", "-"),
							link && link->type == JSON_BOOL
								? (link->b ? "up" : "down")
								: jstr(p, "link", "-"),
							jstr(p, "vlan_mode", "-"), vlan,
							jstr(p, "path", "-")});
		}
	} else if (!strcmp(what, "fdb")) {
		t.ncols = 5;
		table_add(&t, (const char *const[]){"MAC", "VLAN", "Port", "Type", "Age"});
		/* nfv-switch lists entries in "entries" ("fdb" holds its counters) */
		arr = json_get(r.json, "entries");
		if (!arr || arr->type != JSON_ARRAY)
			arr = json_get(r.json, "fdb");
		if (arr && arr->type != JSON_ARRAY)
			arr = NULL;
		for (const struct json *p = arr ? arr->child : NULL; p; p = p->next) {
			char vlan[32], age[32];

			snprintf(vlan, sizeof(vlan), "%lld", (long long)jint(p, "vlan"));
			if (json_get(p, "age_ms"))
				snprintf(age, sizeof(age), "%lld",
					 (long long)jint(p, "age_ms") / 1000);
			else
				snprintf(age, sizeof(age), "%lld", (long long)jint(p, "age"));
			table_add(&t, (const char *const[]){
					      jstr(p, "mac", "-"), vlan, jstr(p, "port", "-"),
					      jbool(p, "static") ? "static" : "learned", age});
		}
	} else {
		static const char *const k[] = {"rx_packets", "rx_bytes",	 "tx_packets",
						"tx_bytes",   "drop_no_buffers", "drop_queue_full",
						"drop_vlan",  "drop_malformed"};

		t.ncols = 9;
		table_add(&t, (const char *const[]){"Port", "RX packets", "RX bytes", "TX packets",
						    "TX bytes", "Drop nobuf", "Drop qfull",
						    "Drop VLAN", "Drop malformed"});
		arr = json_get(r.json, "ports");
		for (const struct json *p = arr ? arr->child : NULL; p; p = p->next) {
			char v[8][32];

			for (size_t i = 0; i < 8; i++)
				snprintf(v[i], sizeof(v[i]), "%lld", (long long)jint(p, k[i]));
			table_add(&t, (const char *const[]){jstr(p, "name", "-"), v[0], v[1], v[2],
							    v[3], v[4], v[5], v[6], v[7]});
		}
	}
	table_print(&t);
	putchar('\n');
	resp_free(&r);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{"list", cmd_list, "list domains ([--all] [--name])"},
	{"define", cmd_define, "define a domain from an XML file ([--drop-unsupported] FILE)"},
	{"undefine", cmd_undefine, "undefine a domain"},
	{"start", cmd_lifecycle, "start a (previously defined) inactive domain"},
	{"shutdown", cmd_lifecycle, "gracefully shutdown a domain"},
	{"destroy", cmd_lifecycle, "destroy (stop) a domain"},
	{"reboot", cmd_lifecycle, "reboot a domain"},
	{"dominfo", cmd_dominfo, "domain information"},
	{"dumpxml", cmd_dumpxml, "domain information in XML ([--inactive])"},
	{"edit", cmd_edit, "edit XML configuration for a domain"},
	{"console", cmd_console, "connect to the guest serial console"},
	{"domiflist", cmd_domiflist, "list all domain virtual interfaces"},
	{"domifstat", cmd_domifstat, "get network interface stats for a domain"},
	{"domblklist", cmd_domblklist, "list all domain blocks"},
	{"vcpuinfo", cmd_vcpuinfo, "detailed domain vcpu information"},
	{"vcpupin", cmd_vcpupin, "control or query domain vcpu affinity (live)"},
	{"autostart", cmd_autostart, "autostart a domain ([--disable])"},
	{"switch", cmd_switch, "nfv-switch: port-list | fdb | stats"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: nfvctl [-c SOCKET] COMMAND [ARGS...]\n\n"
		   "  -c, --connect SOCKET  nfvd API socket (default $NFVD_SOCKET or "
		   "/run/nfvisor/nfvd.sock)\n\n commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(f, "    %-12s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	int i = 1;

	if (getenv("NFVD_SOCKET") && *getenv("NFVD_SOCKET"))
		sock_path = getenv("NFVD_SOCKET");
	signal(SIGPIPE, SIG_IGN);
	while (i < argc && argv[i][0] == '-') {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--connect")) && i + 1 < argc) {
			sock_path = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			error("unsupported option '%s'", argv[i]);
			return 1;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < ARRAY_SIZE(cmds); c++)
		if (!strcmp(cmds[c].name, argv[i]))
			return cmds[c].fn(argc - i, argv + i);
	error("unknown command: '%s'", argv[i]);
	return 1;
}
