// SPDX-License-Identifier: GPL-2.0-only
#include "test_fake_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fbe_read(int fd, void *buf, size_t len, unsigned *nfds)
{
	size_t got = 0;

	while (got < len) {
		char ctl[CMSG_SPACE(sizeof(int) * 8)];
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
				close(f);
				(*nfds)++;
			}
		}
		got += (size_t)n;
	}
	return 0;
}

static void fbe_reply(struct fbe *f, uint32_t req, const void *p, uint32_t len)
{
	struct vhost_user_msg r = { .request = req,
				    .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				    .size = len };

	memcpy(&r.payload, p, len);
	if (send(f->fd, &r, VHOST_USER_HDR_SIZE + len, MSG_NOSIGNAL) < 0)
		return;
}

static void *fbe_main(void *arg)
{
	struct fbe *f = arg;
	struct vhost_user_msg m;

	for (;;) {
		unsigned nfds = 0;
		uint64_t v;

		memset(&m, 0, sizeof(m));
		if (fbe_read(f->fd, &m, VHOST_USER_HDR_SIZE, &nfds) || m.size > VHOST_USER_PAYLOAD_MAX ||
		    fbe_read(f->fd, &m.payload, m.size, &nfds))
			break;
		pthread_mutex_lock(&f->lock);
		if (f->nlog < FBE_LOG_MAX)
			f->log[f->nlog++] = (struct fbe_entry){ m.request, nfds, m };
		pthread_mutex_unlock(&f->lock);
		switch (m.request) {
		case VHOST_USER_GET_FEATURES:
			fbe_reply(f, m.request, &f->features, 8);
			continue;
		case VHOST_USER_GET_PROTOCOL_FEATURES:
			fbe_reply(f, m.request, &f->pfeatures, 8);
			continue;
		case VHOST_USER_GET_QUEUE_NUM:
			fbe_reply(f, m.request, &f->queue_num, 8);
			continue;
		case VHOST_USER_GET_VRING_BASE: {
			struct vhost_user_vring_state s = { m.payload.state.index, 0 };

			fbe_reply(f, m.request, &s, sizeof(s));
			continue;
		}
		default:
			break;
		}
		v = 0;
		if (m.flags & VHOST_USER_FLAG_NEED_REPLY)
			fbe_reply(f, m.request, &v, 8);
	}
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *fbe_accept_main(void *arg)
{
	struct fbe *f = arg;
	int lfd = f->fd;

	f->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (f->fd < 0) {
		__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	return fbe_main(f);
}

int fbe_listen_start(struct fbe *f, const char *path, uint64_t features, uint64_t pfeatures)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (lfd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1)) {
		close(lfd);
		return -errno;
	}
	memset(f, 0, sizeof(*f));
	f->fd = lfd;
	f->features = features;
	f->pfeatures = pfeatures;
	f->queue_num = 8;
	pthread_mutex_init(&f->lock, NULL);
	if (pthread_create(&f->thr, NULL, fbe_accept_main, f)) {
		close(lfd);
		return -EAGAIN;
	}
	return 0;
}

int fbe_start(struct fbe *f, int fd, uint64_t features, uint64_t pfeatures)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->features = features;
	f->pfeatures = pfeatures;
	f->queue_num = 8;
	pthread_mutex_init(&f->lock, NULL);
	if (pthread_create(&f->thr, NULL, fbe_main, f))
		return -EAGAIN;
	return 0;
}

void fbe_join(struct fbe *f)
{
	pthread_join(f->thr, NULL);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

void fbe_close(struct fbe *f)
{
	shutdown(f->fd, SHUT_RDWR);
	fbe_join(f);
}

const struct fbe_entry *fbe_find(struct fbe *f, uint32_t request, int idx)
{
	const struct fbe_entry *e = NULL;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nlog; i++) {
		const struct fbe_entry *x = &f->log[i];

		if (x->request != request)
			continue;
		if (idx >= 0) {
			uint32_t qi = request == VHOST_USER_SET_VRING_KICK ||
						      request == VHOST_USER_SET_VRING_CALL ||
						      request == VHOST_USER_SET_VRING_ERR
					      ? (uint32_t)(x->msg.payload.u64 & VHOST_USER_VRING_IDX_MASK)
					      : x->msg.payload.state.index;

			if (qi != (uint32_t)idx)
				continue;
		}
		e = x;
	}
	pthread_mutex_unlock(&f->lock);
	return e;
}

unsigned fbe_count(struct fbe *f, uint32_t request)
{
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (unsigned i = 0; i < f->nlog; i++)
		n += f->log[i].request == request;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int fbe_connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
