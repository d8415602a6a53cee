// SPDX-License-Identifier: GPL-2.0-only
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void buf_append(char **b, size_t *len, size_t *capp, const char *data, size_t n)
{
	if (*len + n + 1 > *capp) {
		size_t cap = *capp ? *capp : 4096;

		while (cap < *len + n + 1)
			cap *= 2;
		*b = realloc(*b, cap);
		if (!*b) {
			perror("realloc");
			exit(1);
		}
		*capp = cap;
	}
	memcpy(*b + *len, data, n);
	*len += n;
	(*b)[*len] = '\0';
}

/* Read what is available on the serial and log pipes within @ms; returns false once both hit EOF. */
static bool out_pump(struct vmm_proc *p, int ms)
{
	struct pollfd pfd[2] = { { .fd = p->out_fd, .events = POLLIN }, { .fd = p->err_fd, .events = POLLIN } };
	char buf[4096];

	if (p->out_fd < 0 && p->err_fd < 0)
		return false;
	if (poll(pfd, 2, ms) <= 0)
		return true;
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &p->err_fd : &p->out_fd;
		ssize_t n;

		if (*fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(*fd, buf, sizeof(buf));
		if (n <= 0) {
			close(*fd);
			*fd = -1;
		} else if (i) {
			buf_append(&p->err, &p->err_len, &p->err_cap, buf, (size_t)n);
		} else {
			buf_append(&p->out, &p->out_len, &p->out_cap, buf, (size_t)n);
		}
	}
	return p->out_fd >= 0 || p->err_fd >= 0;
}

int vmm_start(struct vmm_proc *p, const char *vmm, const char *guest, const char *const *args)
{
	int in[2], out[2], err[2];
	const char *argv[64];
	int n = 0;

	memset(p, 0, sizeof(*p));
	p->status = -1;
	p->out_fd = p->in_fd = p->err_fd = -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/nfv-guest-test-XXXXXX");
	if (!mkdtemp(p->dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(p->ctl, sizeof(p->ctl), "%s/control.sock", p->dir);
	snprintf(p->stats, sizeof(p->stats), "%s/stats.json", p->dir);
	if (pipe(in) < 0 || pipe(out) < 0 || pipe(err) < 0) {
		perror("pipe");
		exit(1);
	}
	argv[n++] = vmm;
	argv[n++] = "--kernel";
	argv[n++] = guest;
	argv[n++] = "--serial";
	argv[n++] = "stdio";
	argv[n++] = "--control";
	argv[n++] = p->ctl;
	argv[n++] = "--stats-file";
	argv[n++] = p->stats;
	for (int i = 0; args && args[i] && n < 62; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fprintf(stderr, "+");
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n");
	p->pid = fork();
	if (p->pid < 0) {
		perror("fork");
		exit(1);
	}
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		execv(vmm, (char *const *)argv);
		perror(vmm);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in_fd = in[1];
	p->out_fd = out[0];
	p->err_fd = err[0];
	return 0;
}

bool vmm_output_has(struct vmm_proc *p, const char *needle)
{
	return (p->out && strstr(p->out, needle)) || (p->err && strstr(p->err, needle));
}

bool vmm_wait_for(struct vmm_proc *p, const char *needle, int timeout_s)
{
	double end = now_s() + timeout_s;

	while (!vmm_output_has(p, needle)) {
		if (now_s() > end || !out_pump(p, 100))
			return vmm_output_has(p, needle);
	}
	return true;
}

int vmm_wait(struct vmm_proc *p, int timeout_s)
{
	double end = now_s() + timeout_s;
	int st;

	if (p->status >= 0)
		return p->status;
	for (;;) {
		pid_t r = waitpid(p->pid, &st, WNOHANG);

		if (r == p->pid)
			break;
		if (now_s() > end) {
			fprintf(stderr, "nfv-vmm did not finish within %d s: killing it\n", timeout_s);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &st, 0);
			break;
		}
		out_pump(p, 50);
	}
	while (out_pump(p, 50))
		;
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return p->status;
}

void vmm_send(struct vmm_proc *p, const char *s)
{
	if (write(p->in_fd, s, strlen(s)) < 0)
		perror("write to serial");
}

int vmm_control(struct vmm_proc *p, const char *req, char *resp, size_t resp_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->ctl);
	for (int tries = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; tries++) {
		if (tries > 50) {
			close(fd);
			return -errno;
		}
		usleep(100000);
	}
	if (write(fd, req, strlen(req)) < 0 || write(fd, "\n", 1) < 0) {
		close(fd);
		return -EIO;
	}
	while (got + 1 < resp_len) {
		ssize_t n = read(fd, resp + got, resp_len - got - 1);

		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(resp, '\n', got))
			break;
	}
	resp[got] = '\0';
	close(fd);
	return got ? 0 : -EIO;
}

void vmm_cleanup(struct vmm_proc *p)
{
	if (p->status < 0 && p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	if (p->in_fd >= 0)
		close(p->in_fd);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	unlink(p->ctl);
	unlink(p->stats);
	rmdir(p->dir);
	free(p->out);
	free(p->err);
	p->out = p->err = NULL;
}

int vmm_run(struct vmm_proc *p, const char *vmm, const char *guest, const char *const *args, int timeout_s)
{
	vmm_start(p, vmm, guest, args);
	return vmm_wait(p, timeout_s);
}

int vmm_run_guest_args(struct vmm_proc *p, const char *vmm, const char *guest, const char *garg)
{
	const char *args[] = { "--guest-args", garg, "--mem-backing", "memfd", NULL };

	return vmm_run(p, vmm, guest, args, 60);
}

void host_fail(struct vmm_proc *p, const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (p && p->out)
		fprintf(stderr, "---- serial output ----\n%s\n", p->out);
	if (p && p->err)
		fprintf(stderr, "---- nfv-vmm log ----\n%s\n---------------------\n", p->err);
	if (p)
		vmm_cleanup(p);
	exit(1);
}

void host_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fprintf(stdout, "\n");
	exit(77);
}

static long read_sys_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

long host_hugepages_free(void)
{
	/* Free pages include those reserved by a mapping but not yet faulted in. */
	long free_pages = read_sys_long("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
	long resv = read_sys_long("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages");

	return free_pages < 0 ? -1 : free_pages - (resv > 0 ? resv : 0);
}
