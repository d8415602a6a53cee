// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-vmm's control socket: JSON lines over a UNIX socket (mode 0600), one response line per request.
 * Used by nfvd and by tests. Requests are untrusted: bounded line length, strict JSON, unknown commands
 * answered with an error, a misbehaving client is dropped without affecting the guest.
 *
 *   {"cmd":"info"}                     name, state, vCPUs (thread id, current CPU, affinity), memory,
 *                                      exits by reason, unclaimed I/O counters
 *   {"cmd":"stats"}                    same counters only
 *   {"cmd":"vcpupin","vcpu":0,"cpuset":"1"}   live re-pin
 *   {"cmd":"dirty-log","enable":true}  switch dirty-page logging on/off
 *   {"cmd":"dirty-log-get"}            fetch-and-clear: {"pages":N,"gpas":[...]} (first 4096 listed)
 *   {"cmd":"irq-fire","slot":3,"vector":0}   signal the eventfd bound to a pci-testdev MSI-X vector
 *   {"cmd":"shutdown"}                 graceful stop (no ACPI yet: stops the VM with status 0)
 *   {"cmd":"quit"}                     stop now
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emulate.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "vm_priv.h"

#define CONTROL_LINE_MAX 65536
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_DIRTY_LIST_MAX 4096

struct control_client {
	int fd;
	char *buf;
	size_t len;
};

struct control {
	struct vm *vm;
	int listen_fd;
	char path[108];
	struct control_client clients[CONTROL_MAX_CLIENTS];
	uint64_t bad_requests;
};

static void cpuset_format(const cpu_set_t *set, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && o + 16 < outlen; c++) {
		int e = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		o += (size_t)snprintf(out + o, outlen - o, e > c ? "%s%d-%d" : "%s%d", o ? "," : "", c, e);
		c = e;
	}
}

static int thread_current_cpu(pid_t tid)
{
	char path[64], buf[1024];
	FILE *f;
	char *p;
	int cpu = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* field 39 (processor), counting from the state field (3) after the comm */
		int field = 2;

		for (char *t = strtok(p + 1, " "); t; t = strtok(NULL, " ")) {
			if (++field == 39) {
				cpu = atoi(t);
				break;
			}
		}
	}
	fclose(f);
	return cpu;
}

static void control_counters(struct vm *vm, struct jbuf *b)
{
	static const char *const names[VX__MAX] = { "io", "mmio", "hlt", "intr", "shutdown", "internal", "other" };
	uint64_t tot[VX__MAX] = { 0 };

	for (unsigned i = 0; i < vm->cfg.nr_vcpus; i++)
		for (int k = 0; k < VX__MAX; k++)
			tot[k] += __atomic_load_n(&vm->vcpu[i]->exits[k], __ATOMIC_RELAXED);
	jbuf_printf(b, "\"exits\":{");
	for (int k = 0; k < VX__MAX; k++)
		jbuf_printf(b, "%s\"%s\":%llu", k ? "," : "", names[k], (unsigned long long)tot[k]);
	{
		uint64_t em[EMU__MAX] = { 0 };

		for (unsigned i = 0; i < vm->cfg.nr_vcpus; i++)
			for (int k = 0; k < EMU__MAX; k++)
				em[k] += __atomic_load_n(&vm->vcpu[i]->emulated[k], __ATOMIC_RELAXED);
		jbuf_printf(b, "},\"emulated\":{");
		for (int k = 0; k < EMU__MAX; k++)
			jbuf_printf(b, "%s\"%s\":%llu", k ? "," : "", emu_insn_name((enum emu_insn)k),
				    (unsigned long long)em[k]);
	}
	jbuf_printf(b, "},\"unclaimed\":{\"pio_read\":%llu,\"pio_write\":%llu,\"mmio_read\":%llu,\"mmio_write\":%llu}",
		    (unsigned long long)vm->pio.unclaimed_reads, (unsigned long long)vm->pio.unclaimed_writes,
		    (unsigned long long)vm->mmio.unclaimed_reads, (unsigned long long)vm->mmio.unclaimed_writes);
	jbuf_printf(b, ",\"bad_guest_memory_accesses\":%llu,\"bad_test_reports\":%llu",
		    (unsigned long long)vm->gm.bad_accesses, (unsigned long long)testdev_bad_reports(vm->testdev));
}

static void control_info(struct vm *vm, struct jbuf *b)
{
	jbuf_printf(b, "{\"ok\":true,\"name\":");
	jbuf_quote(b, vm->cfg.name ? vm->cfg.name : "guest");
	jbuf_printf(b, ",\"state\":\"%s\",\"pid\":%d,\"memory_kib\":%llu,\"backing\":",
		    vm->stop ? "stopping" : "running", (int)getpid(),
		    (unsigned long long)(vm->layout.ram_size >> 10));
	jbuf_quote(b, vm->ram->desc);
	jbuf_printf(b, ",\"serial\":");
	jbuf_quote(b, serial_describe(vm->serial));
	jbuf_printf(b, ",\"vcpus\":[");
	for (unsigned i = 0; i < vm->cfg.nr_vcpus; i++) {
		struct vcpu *v = vm->vcpu[i];
		cpu_set_t set;
		char aff[256] = "";

		if (v->thread_started && pthread_getaffinity_np(v->thread, sizeof(set), &set) == 0)
			cpuset_format(&set, aff, sizeof(aff));
		jbuf_printf(b, "%s{\"id\":%u,\"tid\":%d,\"cpu\":%d,\"affinity\":\"%s\",\"pinned\":%s}", i ? "," : "",
			    i, (int)v->tid, v->tid ? thread_current_cpu(v->tid) : -1, aff,
			    v->pinned ? "true" : "false");
	}
	jbuf_printf(b, "],");
	devices_info(vm, b);
	jbuf_printf(b, ",");
	control_counters(vm, b);
	jbuf_printf(b, "}");
}

struct dirty_ctx {
	struct jbuf *b;
	long n;
};

static void control_dirty_cb(void *opaque, uint64_t gpa)
{
	struct dirty_ctx *d = opaque;

	if (d->n < CONTROL_DIRTY_LIST_MAX)
		jbuf_printf(d->b, "%s%llu", d->n ? "," : "", (unsigned long long)gpa);
	d->n++;
}

/* Error response: @what followed by @detail (may be NULL). */
static void control_error(struct jbuf *b, const char *what, const char *detail)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s%s", what, detail ? detail : "");
	jbuf_printf(b, "{\"ok\":false,\"error\":");
	jbuf_quote(b, msg);
	jbuf_printf(b, "}");
}

static void control_vcpupin(struct vm *vm, const struct json *req, struct jbuf *b)
{
	int64_t id;
	const char *list;
	cpu_set_t set;
	char why[160];
	int ret;

	if (json_get_int(req, "vcpu", 0, (int64_t)vm->cfg.nr_vcpus - 1, &id))
		return control_error(b, "vcpupin: \"vcpu\" must be a vCPU number of this VM", NULL);
	if (json_get_str(req, "cpuset", &list) || parse_cpuset(list, &set))
		return control_error(b, "vcpupin: \"cpuset\" must be a CPU list like \"0-2,4\"", NULL);
	if (vm_check_cpuset(&set, why, sizeof(why)))
		return control_error(b, "vcpupin: ", why);
	ret = vcpu_set_affinity(vm->vcpu[id], &set);
	if (ret)
		return control_error(b, "vcpupin: ", strerror(-ret));
	log_info("vCPU %lld re-pinned to %s", (long long)id, list);
	jbuf_printf(b, "{\"ok\":true}");
}

static void control_handle(struct control *c, const char *line, size_t len, struct jbuf *b)
{
	struct vm *vm = c->vm;
	struct json *req = NULL;
	struct json_err jerr;
	const char *cmd;

	if (json_parse(line, len, &req, &jerr)) {
		char where[80];

		c->bad_requests++;
		snprintf(where, sizeof(where), "%zu: %s", jerr.off, jerr.msg);
		control_error(b, "bad JSON at byte ", where);
		return;
	}
	if (json_get_str(req, "cmd", &cmd)) {
		c->bad_requests++;
		control_error(b, "request needs a \"cmd\" string", NULL);
	} else if (!strcmp(cmd, "info")) {
		control_info(vm, b);
	} else if (!strcmp(cmd, "stats")) {
		jbuf_printf(b, "{\"ok\":true,");
		control_counters(vm, b);
		jbuf_printf(b, "}");
	} else if (!strcmp(cmd, "vcpupin")) {
		control_vcpupin(vm, req, b);
	} else if (!strcmp(cmd, "dirty-log")) {
		bool on;

		if (json_get_bool(req, "enable", &on))
			control_error(b, "dirty-log: \"enable\" must be true or false", NULL);
		else if (vm_dirty_log_set(vm, on))
			control_error(b, "dirty-log: KVM refused the memslot change", NULL);
		else
			jbuf_printf(b, "{\"ok\":true}");
	} else if (!strcmp(cmd, "dirty-log-get")) {
		struct dirty_ctx d = { .b = b };
		size_t mark;
		long n;

		jbuf_printf(b, "{\"ok\":true,\"gpas\":[");
		mark = b->len;
		n = vm_dirty_log_fetch(vm, control_dirty_cb, &d);
		if (n < 0) {
			b->len = 0;
			control_error(b, "dirty-log-get: dirty logging is off", NULL);
		} else {
			(void)mark;
			jbuf_printf(b, "],\"pages\":%ld}", n);
		}
	} else if (!strcmp(cmd, "irq-fire")) {
		int64_t slot, vec;
		int ret;

		if (json_get_int(req, "slot", 0, 31, &slot) ||
		    json_get_int(req, "vector", 0, 2047, &vec))
			control_error(b, "irq-fire: needs \"slot\" (0-31) and \"vector\"", NULL);
		else if ((ret = devices_fire(vm, (unsigned)slot, (unsigned)vec)))
			control_error(b, "irq-fire: ", strerror(-ret));
		else
			jbuf_printf(b, "{\"ok\":true}");
	} else if (!strcmp(cmd, "shutdown")) {
		log_info("shutdown requested on the control socket");
		jbuf_printf(b, "{\"ok\":true}");
		vm_stop(vm, VM_EXIT_OK);
	} else if (!strcmp(cmd, "quit")) {
		log_info("quit requested on the control socket");
		jbuf_printf(b, "{\"ok\":true}");
		vm_stop(vm, VM_EXIT_OK);
	} else {
		c->bad_requests++;
		control_error(b, "unknown command: ", cmd);
	}
	json_free(req);
}

static void control_drop(struct control *c, struct control_client *cl)
{
	evloop_del(c->vm->loop, cl->fd);
	close(cl->fd);
	free(cl->buf);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

static void control_client_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct control *c = opaque;
	struct control_client *cl = NULL;
	ssize_t n;

	(void)loop;
	(void)events;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd == fd)
			cl = &c->clients[i];
	if (!cl)
		return;
	n = read(fd, cl->buf + cl->len, CONTROL_LINE_MAX - cl->len);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		control_drop(c, cl);
		return;
	}
	cl->len += (size_t)n;
	for (;;) {
		char *nl = memchr(cl->buf, '\n', cl->len);
		struct jbuf b;
		size_t used;

		if (!nl) {
			if (cl->len == CONTROL_LINE_MAX) {
				static const char msg[] = "{\"ok\":false,\"error\":\"request line longer than 65536 bytes\"}\n";

				c->bad_requests++;
				if (write(fd, msg, sizeof(msg) - 1) < 0) {
				}
				control_drop(c, cl);
			}
			return;
		}
		used = (size_t)(nl - cl->buf) + 1;
		jbuf_init(&b);
		control_handle(c, cl->buf, used - 1, &b);
		jbuf_printf(&b, "\n");
		if (b.failed || write(fd, b.buf, b.len) != (ssize_t)b.len) {
			jbuf_free(&b);
			control_drop(c, cl);
			return;
		}
		jbuf_free(&b);
		memmove(cl->buf, cl->buf + used, cl->len - used);
		cl->len -= used;
	}
}

static void control_accept_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct control *c = opaque;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)events;
	if (cfd < 0)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = &c->clients[i];

		if (cl->fd >= 0)
			continue;
		cl->buf = malloc(CONTROL_LINE_MAX);
		if (!cl->buf || evloop_add(loop, cfd, EPOLLIN, control_client_cb, c)) {
			free(cl->buf);
			cl->buf = NULL;
			break;
		}
		cl->fd = cfd;
		cl->len = 0;
		return;
	}
	log_rl(LOGL_WARN, "control socket: too many clients, refusing one");
	close(cfd);
}

int control_init(struct vm *vm)
{
	struct control *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->listen_fd = -1;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	vm->control = c;
	if (!vm->cfg.control)
		return 0;
	if (strlen(vm->cfg.control) >= sizeof(sa.sun_path)) {
		log_err("--control %s: path too long", vm->cfg.control);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, vm->cfg.control);
	snprintf(c->path, sizeof(c->path), "%s", vm->cfg.control);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 ||
	    listen(c->listen_fd, 8) < 0) {
		ret = -errno;
		log_err("--control %s: %s", vm->cfg.control, strerror(errno));
		return ret;
	}
	return evloop_add(vm->loop, c->listen_fd, EPOLLIN, control_accept_cb, c);
}

void control_started(struct vm *vm)
{
	vm->started_ns = clock_ns();
}

static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

void control_report(struct vm *vm)
{
	uint64_t first = serial_first_byte_ns(vm->serial);
	double first_ms = first ? (double)(first - vmm_start_ns) / 1e6 : -1;
	long rss = status_kib("VmRSS"), hwm = status_kib("VmHWM"), anon = status_kib("RssAnon"),
	     file = status_kib("RssFile"), shmem = status_kib("RssShmem");
	struct jbuf b;

	jbuf_init(&b);
	jbuf_printf(&b, "{\"first_serial_byte_ms\":%.3f,\"serial_bytes\":%llu,\"rss_kib\":%ld,\"hwm_kib\":%ld,"
			"\"rss_anon_kib\":%ld,\"rss_file_kib\":%ld,\"rss_shmem_kib\":%ld,\"overhead_kib\":%ld,"
			"\"backing\":",
		    first_ms, (unsigned long long)serial_tx_bytes(vm->serial), rss, hwm, anon, file, shmem,
		    anon + file);
	jbuf_quote(&b, vm->ram->desc);
	jbuf_printf(&b, ",");
	control_counters(vm, &b);
	jbuf_printf(&b, "}");
	log_info("stats: %s", b.failed ? "?" : b.buf);
	if (vm->cfg.stats_file && !b.failed) {
		FILE *f = fopen(vm->cfg.stats_file, "w");

		if (f) {
			fprintf(f, "%s\n", b.buf);
			fclose(f);
		} else {
			log_warn("--stats-file %s: %s", vm->cfg.stats_file, strerror(errno));
		}
	}
	jbuf_free(&b);
}

void control_fini(struct vm *vm)
{
	struct control *c = vm->control;

	if (!c)
		return;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0) {
			close(c->clients[i].fd);
			free(c->clients[i].buf);
		}
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	free(c);
	vm->control = NULL;
}
