/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal well-behaved vhost-user backend for tests: a thread on one end of a socket that logs
 * every request (code, payload, number of fds) and answers GET_* and NEED_REPLY. Test-only.
 */
#ifndef NFV_NET_VIRTIO_TEST_FAKE_BACKEND_H
#define NFV_NET_VIRTIO_TEST_FAKE_BACKEND_H

#include <pthread.h>
#include <stdint.h>

#include "vhost_user.h"

#define FBE_LOG_MAX 256

struct fbe_entry {
	uint32_t request;
	unsigned nfds;
	struct vhost_user_msg msg;
};

struct fbe {
	int fd;
	uint64_t features;	/* offered by GET_FEATURES */
	uint64_t pfeatures;	/* offered by GET_PROTOCOL_FEATURES */
	uint64_t queue_num;
	pthread_mutex_t lock;
	struct fbe_entry log[FBE_LOG_MAX];
	unsigned nlog;
	pthread_t thr;
	int done;
};

/* Start on an already connected socket (the fake takes ownership of @fd). 0 or -errno. */
int fbe_start(struct fbe *f, int fd, uint64_t features, uint64_t pfeatures);
/* Listen on @path (replacing a stale file), accept one frontend, then serve it. 0 or -errno. */
int fbe_listen_start(struct fbe *f, const char *path, uint64_t features, uint64_t pfeatures);
/* Wait for the thread to end (it ends when the peer closes, or after fbe_close). */
void fbe_join(struct fbe *f);
/* Close the backend's socket from this side ("the backend process died"). */
void fbe_close(struct fbe *f);
/* Last logged message with @request (and ring @idx for per-ring requests, or -1), or NULL. */
const struct fbe_entry *fbe_find(struct fbe *f, uint32_t request, int idx);
/* Count of logged messages with @request. */
unsigned fbe_count(struct fbe *f, uint32_t request);

/* Helpers: connect to / listen on a UNIX socket path. */
int fbe_connect_unix(const char *path);

#endif
