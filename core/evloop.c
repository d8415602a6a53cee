// SPDX-License-Identifier: GPL-2.0-only
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evloop_watch {
	int fd;
	evloop_cb cb;
	void *opaque;
	struct evloop_watch *next;
	bool dead;
};

struct evloop {
	int epfd;
	int stop_fd;
	int stopped; /* atomic: set from other threads by evloop_stop */
	struct evloop_watch *watches;
};

int efd_create(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int efd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

uint64_t efd_drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

int evloop_create(struct evloop **out)
{
	struct evloop *l = calloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN };
	int ret;

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		ret = -errno;
		free(l);
		return ret;
	}
	l->stop_fd = efd_create();
	if (l->stop_fd < 0) {
		ret = l->stop_fd;
		close(l->epfd);
		free(l);
		return ret;
	}
	ev.data.ptr = NULL;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_fd, &ev) < 0) {
		ret = -errno;
		close(l->stop_fd);
		close(l->epfd);
		free(l);
		return ret;
	}
	*out = l;
	return 0;
}

static void evloop_reap(struct evloop *l)
{
	struct evloop_watch **pp = &l->watches;

	while (*pp) {
		struct evloop_watch *w = *pp;

		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	for (struct evloop_watch *w = l->watches; w; w = w->next)
		w->dead = true;
	evloop_reap(l);
	close(l->stop_fd);
	close(l->epfd);
	free(l);
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_cb cb, void *opaque)
{
	struct evloop_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->opaque = opaque;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int ret = -errno;

		free(w);
		return ret;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

static struct evloop_watch *evloop_find(struct evloop *l, int fd)
{
	for (struct evloop_watch *w = l->watches; w; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_watch *w = evloop_find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!w)
		return -ENOENT;
	ev.data.ptr = w;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void evloop_del(struct evloop *l, int fd)
{
	struct evloop_watch *w = evloop_find(l, fd);

	if (!w)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = true; /* freed after the current batch, so a pending event cannot use it */
}

int evloop_run(struct evloop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	__atomic_store_n(&l->stopped, 0, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&l->stopped, __ATOMIC_ACQUIRE)) {
		n = epoll_wait(l->epfd, evs, 32, timeout_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !__atomic_load_n(&l->stopped, __ATOMIC_ACQUIRE); i++) {
			struct evloop_watch *w = evs[i].data.ptr;

			if (!w) {
				efd_drain(l->stop_fd);
				__atomic_store_n(&l->stopped, 1, __ATOMIC_RELEASE);
				break;
			}
			if (!w->dead)
				w->cb(l, w->fd, evs[i].events, w->opaque);
		}
		evloop_reap(l);
		if (timeout_ms >= 0)
			break;
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	__atomic_store_n(&l->stopped, 1, __ATOMIC_RELEASE);
	efd_signal(l->stop_fd);
}

bool evloop_stopped(const struct evloop *l)
{
	return __atomic_load_n(&l->stopped, __ATOMIC_ACQUIRE);
}
