// SPDX-License-Identifier: GPL-2.0-only
#include "ctlsock.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = clock_ms();
		struct pollfd pfd = {.fd = fd, .events = events};
		int r;

		if (now >= deadline_ms)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r > 0)
			return 0;
	}
}

int ctl_call(const char *path, const char *request, int timeout_ms, char **response)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t deadline = clock_ms() + (uint64_t)timeout_ms;
	_cleanup_close_ int fd = -1;
	size_t len = 0, cap = 0, reqlen = strlen(request), sent = 0;
	char *buf = NULL;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS && errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
	}
	while (sent < reqlen + 1) {
		ssize_t n;

		if (sent < reqlen)
			n = send(fd, request + sent, reqlen - sent, MSG_NOSIGNAL);
		else
			n = send(fd, "\n", 1, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (n < 0)
			return -errno;
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;
		char *nl;

		if (cap - len < 4096) {
			char *nb;

			if (cap >= CTL_RESPONSE_MAX) {
				free(buf);
				return -EMSGSIZE;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			r = wait_fd(fd, POLLIN, deadline);
			if (r < 0) {
				free(buf);
				return r;
			}
			continue;
		}
		if (n < 0) {
			r = -errno;
			free(buf);
			return r;
		}
		if (n == 0) {
			free(buf);
			return -EPROTO;
		}
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			*response = buf;
			return 0;
		}
	}
}

int ctl_call_json(const char *path, const char *request, int timeout_ms, struct json **out,
		  char *err, size_t errlen)
{
	struct json *j = NULL;
	char *resp = NULL;
	struct json_err jerr;
	bool ok = false;
	const char *e;
	int r;

	r = ctl_call(path, request, timeout_ms, &resp);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = json_parse(resp, strlen(resp), &j, &jerr);
	free(resp);
	if (r < 0 || !j || j->type != JSON_OBJECT) {
		json_free(j);
		if (r < 0)
			snprintf(err, errlen, "%s: malformed response (byte %zu: %s)", path,
				 jerr.off, jerr.msg);
		else
			snprintf(err, errlen, "%s: malformed response (not a JSON object)", path);
		return -EPROTO;
	}
	if (json_get_bool(j, "ok", &ok) || !ok) {
		if (json_get_str(j, "error", &e))
			e = "request failed";
		snprintf(err, errlen, "%s", e);
		json_free(j);
		return -EREMOTEIO;
	}
	*out = j;
	return 0;
}
