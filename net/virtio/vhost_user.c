// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user frontend: message framing, the request/reply exchange with checks on every reply,
 * client and server sockets, and replay of the remembered state after a reconnect.
 * Spec references are to QEMU docs/interop/vhost-user.rst.
 */
#include "vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define VU_DEFAULT_TIMEOUT_MS 5000

/* Which parts of a ring the owner has configured, so that a reconnect replays exactly those. */
enum {
	VU_RING_NUM = 1u << 0,
	VU_RING_BASE = 1u << 1,
	VU_RING_ADDR = 1u << 2,
	VU_RING_KICK = 1u << 3,
	VU_RING_CALL = 1u << 4,
	VU_RING_ERR = 1u << 5,
	VU_RING_ENABLE = 1u << 6,
};

struct vu_ring {
	unsigned set;	/* VU_RING_* */
	bool stopped;	/* GET_VRING_BASE done: do not restart it on replay */
	bool enabled;
	uint16_t num;
	uint32_t base; /* split: avail index; packed: avail/used index and wrap counters */
	uint64_t desc, avail, used;
	int kick, call, err;
};

struct vhost_user {
	struct vhost_user_cfg cfg;
	char *path;
	int fd;
	int listen_fd;
	bool up; /* handshake done on the current connection */
	uint64_t backend_features;  /* masked to cfg.features (bit 30 kept separately) */
	bool backend_has_protocol;  /* offered VHOST_USER_F_PROTOCOL_FEATURES */
	uint64_t protocol_features; /* negotiated */
	unsigned queue_num;
	bool features_set;
	uint64_t features; /* last SET_FEATURES, without bit 30 */
	unsigned nregions;
	struct vhost_user_region regions[VHOST_USER_MAX_MEM_REGIONS];
	struct vu_ring ring[VHOST_USER_MAX_QUEUES];
	struct vhost_user_stats st;
};

static const char *const vu_req_names[] = {
	[VHOST_USER_NONE] = "NONE",
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
};

const char *vhost_user_req_name(uint32_t req)
{
	if (req < ARRAY_SIZE(vu_req_names) && vu_req_names[req])
		return vu_req_names[req];
	return "UNKNOWN";
}

/* ---- Pure encode/decode ---- */

/*
 * Payload size a reply to @req must have, or 0 when we never expect a reply to @req.
 * Requests without a reply of their own are only answered with a u64 ack when we set NEED_REPLY
 * (REPLY_ACK protocol feature, vhost-user.rst "Communication").
 */
static size_t vu_reply_size(uint32_t req)
{
	switch (req) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_ADDR:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_ENABLE:
	case VHOST_USER_NET_SET_MTU:
		return sizeof(uint64_t);
	case VHOST_USER_SET_CONFIG:
		return sizeof(uint64_t);
	case VHOST_USER_GET_VRING_BASE:
		return sizeof(struct vhost_user_vring_state);
	case VHOST_USER_GET_CONFIG:
		/* Variable: checked exactly against the request in vhost_user_reply_parse(). */
		return sizeof(struct vhost_user_config);
	default:
		return 0;
	}
}

/* Fixed part of a config payload: offset, size, flags. */
#define VU_CONFIG_HDR offsetof(struct vhost_user_config, region)

int vhost_user_reply_hdr_check(uint32_t req, const struct vhost_user_msg *hdr)
{
	size_t want = vu_reply_size(req);

	if (!want)
		return -EINVAL;
	if (hdr->request != req)
		return -EPROTO;
	/* vhost-user.rst "Header": version in bits 0-1, reply flag bit 2; the rest is reserved. */
	if ((hdr->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    !(hdr->flags & VHOST_USER_FLAG_REPLY) ||
	    (hdr->flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_FLAG_REPLY)))
		return -EPROTO;
	if (req == VHOST_USER_GET_CONFIG ? hdr->size < VU_CONFIG_HDR || hdr->size > want
					 : hdr->size != want)
		return -EMSGSIZE;
	return 0;
}

static bool vu_req_is_get(uint32_t req)
{
	return req == VHOST_USER_GET_FEATURES || req == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       req == VHOST_USER_GET_QUEUE_NUM || req == VHOST_USER_GET_VRING_BASE ||
	       req == VHOST_USER_GET_CONFIG;
}

int vhost_user_reply_parse(uint32_t req, uint32_t arg, const void *buf, size_t len, unsigned nfds,
			   struct vhost_user_msg *out)
{
	int ret;

	if (len < VHOST_USER_HDR_SIZE || len > sizeof(*out))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	memcpy(out, buf, len);
	ret = vhost_user_reply_hdr_check(req, out);
	if (ret)
		return ret;
	if (len != VHOST_USER_HDR_SIZE + (size_t)out->size)
		return -EBADMSG;
	/* None of the replies we ask for carries a file descriptor. */
	if (nfds)
		return -EBADMSG;
	switch (req) {
	case VHOST_USER_GET_VRING_BASE:
		/* Split rings: a 16-bit index; packed rings: two 16-bit index/wrap halves. */
		if (out->payload.state.index != (arg & ~VHOST_USER_GET_VRING_BASE_PACKED) ||
		    (!(arg & VHOST_USER_GET_VRING_BASE_PACKED) &&
		     out->payload.state.num > UINT16_MAX))
			return -ERANGE;
		return 0;
	case VHOST_USER_GET_CONFIG:
		/* The same window we asked for, and exactly its bytes (vhost-user.rst GET_CONFIG). */
		if (arg > VHOST_USER_MAX_CONFIG_SIZE || out->size != VU_CONFIG_HDR + arg)
			return -EMSGSIZE;
		if (out->payload.config.size != arg)
			return -ERANGE;
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		if (out->payload.u64 == 0)
			return -ERANGE;
		return 0;
	default:
		if (vu_req_is_get(req))
			return 0;
		/* An ack: 0 is success, anything else the backend's failure (vhost-user.rst). */
		return out->payload.u64 == 0 ? 0 : -EIO;
	}
}

int vhost_user_msg_init(struct vhost_user_msg *m, uint32_t req, const void *payload,
			size_t payload_len)
{
	if (payload_len > VHOST_USER_PAYLOAD_MAX)
		return -EMSGSIZE;
	memset(m, 0, VHOST_USER_HDR_SIZE + payload_len);
	m->request = req;
	m->flags = VHOST_USER_VERSION;
	m->size = (uint32_t)payload_len;
	if (payload_len)
		memcpy(&m->payload, payload, payload_len);
	return 0;
}

/* ---- Socket I/O ---- */

static int vu_timeout(const struct vhost_user *vu)
{
	return vu->cfg.timeout_ms > 0 ? vu->cfg.timeout_ms : VU_DEFAULT_TIMEOUT_MS;
}

static void vu_close_fd(struct vhost_user *vu)
{
	/* shutdown first: an owner watching a dup of the socket sees the hang-up too. */
	if (vu->fd >= 0) {
		shutdown(vu->fd, SHUT_RDWR);
		close(vu->fd);
	}
	vu->fd = -1;
}

/* The connection is unusable: close it, count it, tell the owner once. Returns @err. */
static int vu_fail(struct vhost_user *vu, int err)
{
	if (vu->fd < 0)
		return err;
	vu_close_fd(vu);
	if (!vu->up)
		return err; /* a connection attempt failed: nothing the owner had is lost */
	vu->up = false;
	vu->st.disconnects++;
	log_rl(LOGL_WARN, "vhost-user %s: backend connection lost (%s)", vu->path, strerror(-err));
	if (vu->cfg.on_disconnect)
		vu->cfg.on_disconnect(vu->cfg.opaque);
	return err;
}

static int vu_send(struct vhost_user *vu, const struct vhost_user_msg *m, const int *fds,
		   unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = VHOST_USER_HDR_SIZE + m->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (vu->fd < 0)
		return -ENOTCONN;
	if (nfds > VHOST_USER_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (iov.iov_len) {
		struct pollfd p = { .fd = vu->fd, .events = POLLOUT };
		ssize_t n = sendmsg(vu->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return vu_fail(vu, -errno);
			if (poll(&p, 1, vu_timeout(vu)) == 0) {
				vu->st.timeouts++;
				return vu_fail(vu, -ETIMEDOUT);
			}
			continue;
		}
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= (size_t)n;
		/* The fds went with the first byte. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	vu->st.msgs_sent++;
	return 0;
}

static int vu_deadline_left(uint64_t deadline)
{
	uint64_t now = clock_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Receive exactly @len bytes before @deadline; fds that come along are closed and counted. */
static int vu_recv_full(struct vhost_user *vu, void *buf, size_t len, uint64_t deadline,
			unsigned *nfds)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { .iov_base = (char *)buf + got, .iov_len = len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		struct pollfd p = { .fd = vu->fd, .events = POLLIN };
		ssize_t n;
		int pr;

		pr = poll(&p, 1, vu_deadline_left(deadline));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			vu->st.timeouts++;
			return -ETIMEDOUT;
		}
		n = recvmsg(vu->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len >= CMSG_LEN(0)) {
				size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < k; i++) {
					int fd;

					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
					close(fd);
					(*nfds)++;
				}
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			(*nfds)++; /* more were sent than we had room for: the kernel closed them */
		if (n == 0)
			return -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

/* Read one reply to @req and check it. On any failure the connection is dropped. */
static int vu_recv_reply(struct vhost_user *vu, uint32_t req, uint32_t ring,
			 struct vhost_user_msg *out)
{
	struct vhost_user_msg m;
	uint64_t deadline = clock_ms() + (uint64_t)vu_timeout(vu);
	unsigned nfds = 0;
	int ret;

	ret = vu_recv_full(vu, &m, VHOST_USER_HDR_SIZE, deadline, &nfds);
	if (ret == 0) {
		ret = vhost_user_reply_hdr_check(req, &m);
		if (ret)
			log_rl(LOGL_WARN,
			       "vhost-user %s: bad reply header to %s: request %u flags %#x size %u",
			       vu->path, vhost_user_req_name(req), m.request, m.flags, m.size);
	}
	if (ret == 0)
		ret = vu_recv_full(vu, &m.payload, m.size, deadline, &nfds);
	if (ret == 0) {
		if (nfds)
			vu->st.unexpected_fds += nfds;
		ret = vhost_user_reply_parse(req, ring, &m, VHOST_USER_HDR_SIZE + m.size, nfds, out);
		if (ret && ret != -EIO)
			log_rl(LOGL_WARN, "vhost-user %s: bad reply to %s (%s)", vu->path,
			       vhost_user_req_name(req), strerror(-ret));
	} else if (nfds) {
		vu->st.unexpected_fds += nfds;
	}
	if (ret == -ETIMEDOUT)
		log_rl(LOGL_ERR, "vhost-user %s: backend did not answer %s within %d ms", vu->path,
		       vhost_user_req_name(req), vu_timeout(vu));
	if (ret == -EIO) {
		/* A well-formed negative ack: the stream is still in sync. */
		vu->st.replies++;
		return ret;
	}
	if (ret) {
		if (ret != -ETIMEDOUT && ret != -ECONNRESET)
			vu->st.bad_replies++;
		return vu_fail(vu, ret);
	}
	vu->st.replies++;
	return 0;
}

static bool vu_has_proto(const struct vhost_user *vu, unsigned bit)
{
	return vu->protocol_features & (1ull << bit);
}

/*
 * Send a request. Requests with a reply of their own wait for it into @reply; the others ask for an
 * ack when REPLY_ACK is negotiated, so that a backend's failure is seen where it happened.
 */
static int vu_request(struct vhost_user *vu, struct vhost_user_msg *m, const int *fds,
		      unsigned nfds, uint32_t ring, struct vhost_user_msg *reply)
{
	struct vhost_user_msg tmp;
	bool get = vu_req_is_get(m->request);
	bool ack = !get && vu_has_proto(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK);
	int ret;

	if (ack)
		m->flags |= VHOST_USER_FLAG_NEED_REPLY;
	ret = vu_send(vu, m, fds, nfds);
	if (ret)
		return ret;
	if (!get && !ack)
		return 0;
	ret = vu_recv_reply(vu, m->request, ring, reply ? reply : &tmp);
	if (ret == -EIO)
		log_rl(LOGL_WARN, "vhost-user %s: backend refused %s", vu->path,
		       vhost_user_req_name(m->request));
	return ret;
}

static int vu_simple(struct vhost_user *vu, uint32_t req, const void *payload, size_t len,
		     const int *fds, unsigned nfds, uint32_t ring, struct vhost_user_msg *reply)
{
	struct vhost_user_msg m;
	int ret = vhost_user_msg_init(&m, req, payload, len);

	if (ret)
		return ret;
	return vu_request(vu, &m, fds, nfds, ring, reply);
}

static int vu_get_u64(struct vhost_user *vu, uint32_t req, uint64_t *out)
{
	struct vhost_user_msg r;
	int ret = vu_simple(vu, req, NULL, 0, NULL, 0, 0, &r);

	if (ret == 0)
		*out = r.payload.u64;
	return ret;
}

static int vu_set_u64(struct vhost_user *vu, uint32_t req, uint64_t v)
{
	return vu_simple(vu, req, &v, sizeof(v), NULL, 0, 0, NULL);
}

/* ---- Create, connect, handshake ---- */

int vhost_user_create(const struct vhost_user_cfg *cfg, struct vhost_user **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vhost_user *vu;
	int ret;

	if (!cfg->path || strlen(cfg->path) >= sizeof(sa.sun_path) || cfg->nr_queues == 0 ||
	    cfg->nr_queues > VHOST_USER_MAX_QUEUES)
		return -EINVAL;
	vu = calloc(1, sizeof(*vu));
	if (!vu)
		return -ENOMEM;
	vu->cfg = *cfg;
	vu->fd = -1;
	vu->listen_fd = -1;
	vu->queue_num = 1;
	for (unsigned i = 0; i < VHOST_USER_MAX_QUEUES; i++)
		vu->ring[i].kick = vu->ring[i].call = vu->ring[i].err = -1;
	vu->path = strdup(cfg->path);
	if (!vu->path) {
		free(vu);
		return -ENOMEM;
	}
	vu->cfg.path = vu->path;
	if (cfg->server) {
		struct stat st;

		strcpy(sa.sun_path, cfg->path);
		/* Replace a stale socket left by a previous run, but never any other file. */
		if (lstat(cfg->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(cfg->path);
		vu->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (vu->listen_fd < 0 || bind(vu->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(vu->listen_fd, 1) < 0) {
			ret = -errno;
			log_err("vhost-user %s: cannot listen: %s", cfg->path, strerror(errno));
			if (vu->listen_fd >= 0)
				close(vu->listen_fd);
			free(vu->path);
			free(vu);
			return ret;
		}
	}
	*out = vu;
	return 0;
}

void vhost_user_destroy(struct vhost_user *vu)
{
	if (!vu)
		return;
	vu_close_fd(vu);
	if (vu->listen_fd >= 0) {
		close(vu->listen_fd);
		unlink(vu->path);
	}
	free(vu->path);
	free(vu);
}

bool vhost_user_connected(const struct vhost_user *vu)
{
	return vu->fd >= 0;
}

int vhost_user_fd(const struct vhost_user *vu)
{
	return vu->fd;
}

int vhost_user_listen_fd(const struct vhost_user *vu)
{
	return vu->listen_fd;
}

uint64_t vhost_user_backend_features(const struct vhost_user *vu)
{
	return vu->backend_features;
}

uint64_t vhost_user_protocol_features(const struct vhost_user *vu)
{
	return vu->protocol_features;
}

unsigned vhost_user_backend_queues(const struct vhost_user *vu)
{
	return vu->queue_num;
}

void vhost_user_get_stats(const struct vhost_user *vu, struct vhost_user_stats *st)
{
	*st = vu->st;
}

static int vu_handshake(struct vhost_user *vu)
{
	uint64_t f, pf;
	int ret;

	vu->protocol_features = 0;
	vu->queue_num = 1;
	ret = vu_simple(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, 0, NULL);
	if (ret)
		return ret;
	ret = vu_get_u64(vu, VHOST_USER_GET_FEATURES, &f);
	if (ret)
		return ret;
	vu->backend_has_protocol = f & (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	/* Never believe more than we asked about. */
	vu->backend_features = f & vu->cfg.features & ~(1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	if (!vu->backend_has_protocol)
		return 0;
	ret = vu_get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &pf);
	if (ret)
		return ret;
	pf &= vu->cfg.protocol_features & VHOST_USER_PROTOCOL_SUPPORTED;
	ret = vu_set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, pf);
	if (ret)
		return ret;
	/* Only from here on may we ask for acks. */
	vu->protocol_features = pf;
	if (vu_has_proto(vu, VHOST_USER_PROTOCOL_F_MQ)) {
		uint64_t q;

		ret = vu_get_u64(vu, VHOST_USER_GET_QUEUE_NUM, &q);
		if (ret)
			return ret;
		vu->queue_num = (unsigned)MIN(q, (uint64_t)VHOST_USER_MAX_QUEUES);
	}
	return 0;
}

int vhost_user_connect_fd(struct vhost_user *vu, int fd)
{
	int ret;

	if (fd < 0)
		return -EBADF;
	vu_close_fd(vu);
	vu->fd = fd;
	vu->up = false;
	ret = vu_handshake(vu);
	if (ret)
		return vu_fail(vu, ret);
	vu->up = true;
	return 0;
}

static int vu_open_client(struct vhost_user *vu, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = clock_ms() + (uint64_t)MAX(timeout_ms, 0);
	unsigned delay_ms = 10;

	strcpy(sa.sun_path, vu->path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int err;

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = -errno;
		close(fd);
		if ((err != -ENOENT && err != -ECONNREFUSED && err != -EAGAIN) ||
		    clock_ms() >= deadline)
			return err;
		usleep(MIN(delay_ms, (unsigned)vu_deadline_left(deadline) + 1) * 1000);
		delay_ms = MIN(delay_ms * 2, 200u);
	}
}

static int vu_open_server(struct vhost_user *vu, int timeout_ms)
{
	struct pollfd p = { .fd = vu->listen_fd, .events = POLLIN };
	int fd, n;

	for (;;) {
		n = poll(&p, 1, timeout_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		fd = accept4(vu->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

int vhost_user_connect(struct vhost_user *vu, int timeout_ms)
{
	int fd = vu->cfg.server ? vu_open_server(vu, timeout_ms) : vu_open_client(vu, timeout_ms);

	if (fd < 0)
		return fd;
	return vhost_user_connect_fd(vu, fd);
}

bool vhost_user_poll(struct vhost_user *vu)
{
	struct pollfd p;
	char c;
	ssize_t n;

	if (vu->fd < 0)
		return false;
	p = (struct pollfd){ .fd = vu->fd, .events = POLLIN | POLLRDHUP };
	if (poll(&p, 1, 0) <= 0)
		return true;
	n = recv(vu->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN && !(p.revents & (POLLHUP | POLLERR | POLLRDHUP)))
		return true;
	if (n > 0) {
		/* Backends only ever answer on this channel; anything unasked is a violation. */
		vu->st.bad_replies++;
		log_rl(LOGL_WARN, "vhost-user %s: unsolicited data from backend", vu->path);
		vu_fail(vu, -EPROTO);
		return false;
	}
	vu_fail(vu, -ECONNRESET);
	return false;
}

void vhost_user_disconnect(struct vhost_user *vu)
{
	vu_fail(vu, -ECONNRESET);
}

/* ---- Requests ---- */

int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
{
	uint64_t wire = features;
	int ret;

	if (vu->fd >= 0 && (features & ~vu->backend_features))
		return -EINVAL;
	if (features & ~vu->cfg.features)
		return -EINVAL;
	/* Remembered even while disconnected: the reconnect checks and replays it. */
	vu->features = features;
	vu->features_set = true;
	/* Bit 30 keeps the protocol-feature semantics (rings start disabled) on. */
	if (vu->backend_has_protocol)
		wire |= 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	ret = vu_set_u64(vu, VHOST_USER_SET_FEATURES, wire);
	return ret;
}

static int vu_send_mem_table(struct vhost_user *vu)
{
	struct vhost_user_memory mem = { .nregions = vu->nregions };
	int fds[VHOST_USER_MAX_MEM_REGIONS];

	for (unsigned i = 0; i < vu->nregions; i++) {
		const struct vhost_user_region *r = &vu->regions[i];

		mem.regions[i] = (struct vhost_user_mem_region_wire){
			.gpa = r->gpa, .size = r->size, .uaddr = r->hva, .mmap_offset = r->fd_offset,
		};
		fds[i] = r->fd;
	}
	/* The payload carries only the used entries (vhost-user.rst "Memory regions description"). */
	return vu_simple(vu, VHOST_USER_SET_MEM_TABLE, &mem,
			 offsetof(struct vhost_user_memory, regions) +
				 vu->nregions * sizeof(mem.regions[0]),
			 fds, vu->nregions, 0, NULL);
}

int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r, unsigned n)
{
	if (n == 0 || n > VHOST_USER_MAX_MEM_REGIONS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].fd < 0 || r[i].size == 0 || r[i].gpa + r[i].size < r[i].gpa ||
		    r[i].hva + r[i].size < r[i].hva)
			return -EINVAL;
		for (unsigned j = 0; j < i; j++)
			if (range_overlaps(r[i].gpa, r[i].size, r[j].gpa, r[j].size))
				return -EINVAL;
	}
	memcpy(vu->regions, r, n * sizeof(*r));
	vu->nregions = n;
	return vu_send_mem_table(vu);
}

static struct vu_ring *vu_ring(struct vhost_user *vu, unsigned idx)
{
	return idx < vu->cfg.nr_queues ? &vu->ring[idx] : NULL;
}

static int vu_state(struct vhost_user *vu, uint32_t req, unsigned idx, unsigned num)
{
	struct vhost_user_vring_state s = { .index = idx, .num = num };

	return vu_simple(vu, req, &s, sizeof(s), NULL, 0, idx, NULL);
}

int vhost_user_set_vring_num(struct vhost_user *vu, unsigned idx, unsigned num)
{
	struct vu_ring *q = vu_ring(vu, idx);

	/* Split rings: a power of two up to 32768 (virtio 1.2 s2.7); packed rings any size (s2.8). */
	if (!q || num == 0 || num > 32768 ||
	    ((num & (num - 1)) && !(vu->features & (1ull << VHOST_USER_F_RING_PACKED))))
		return -EINVAL;
	q->num = (uint16_t)num;
	q->set |= VU_RING_NUM;
	return vu_state(vu, VHOST_USER_SET_VRING_NUM, idx, num);
}

int vhost_user_set_vring_base(struct vhost_user *vu, unsigned idx, uint32_t base)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->base = base;
	q->set |= VU_RING_BASE;
	return vu_state(vu, VHOST_USER_SET_VRING_BASE, idx, base);
}

static int vu_send_addr(struct vhost_user *vu, unsigned idx)
{
	struct vu_ring *q = &vu->ring[idx];
	struct vhost_user_vring_addr a = {
		.index = idx, .desc_uaddr = q->desc, .avail_uaddr = q->avail, .used_uaddr = q->used,
	};

	return vu_simple(vu, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, idx, NULL);
}

int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned idx, uint64_t desc, uint64_t avail,
			      uint64_t used)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->set |= VU_RING_ADDR;
	return vu_send_addr(vu, idx);
}

static int vu_send_fd(struct vhost_user *vu, uint32_t req, unsigned idx, int fd)
{
	uint64_t v = idx;

	if (fd < 0)
		v |= VHOST_USER_VRING_NOFD_MASK;
	return vu_simple(vu, req, &v, sizeof(v), &fd, fd >= 0 ? 1 : 0, idx, NULL);
}

int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned idx, int fd)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->kick = fd;
	q->set |= VU_RING_KICK;
	q->stopped = false;
	return vu_send_fd(vu, VHOST_USER_SET_VRING_KICK, idx, fd);
}

int vhost_user_set_vring_call(struct vhost_user *vu, unsigned idx, int fd)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->call = fd;
	q->set |= VU_RING_CALL;
	return vu_send_fd(vu, VHOST_USER_SET_VRING_CALL, idx, fd);
}

int vhost_user_set_vring_err(struct vhost_user *vu, unsigned idx, int fd)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->err = fd;
	q->set |= VU_RING_ERR;
	return vu_send_fd(vu, VHOST_USER_SET_VRING_ERR, idx, fd);
}

int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned idx, bool enable)
{
	struct vu_ring *q = vu_ring(vu, idx);

	if (!q)
		return -EINVAL;
	q->enabled = enable;
	q->set |= VU_RING_ENABLE;
	/* Without PROTOCOL_FEATURES rings are enabled by KICK and the message does not exist. */
	if (!vu->backend_has_protocol)
		return vu->fd >= 0 ? 0 : -ENOTCONN;
	return vu_state(vu, VHOST_USER_SET_VRING_ENABLE, idx, enable);
}

int vhost_user_get_vring_base(struct vhost_user *vu, unsigned idx, uint16_t *base)
{
	uint32_t num;
	int ret = vhost_user_get_vring_state(vu, idx, &num);

	if (!ret)
		*base = (uint16_t)num;
	return ret;
}

int vhost_user_get_vring_state(struct vhost_user *vu, unsigned idx, uint32_t *num)
{
	struct vu_ring *q = vu_ring(vu, idx);
	struct vhost_user_vring_state s = { .index = idx };
	struct vhost_user_msg r;
	int ret;

	if (!q)
		return -EINVAL;
	ret = vu_simple(vu, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), NULL, 0,
			idx | ((vu->features & (1ull << VHOST_USER_F_RING_PACKED))
				       ? VHOST_USER_GET_VRING_BASE_PACKED
				       : 0),
			&r);
	if (ret)
		return ret;
	q->base = r.payload.state.num;
	q->set |= VU_RING_BASE;
	q->stopped = true;
	*num = q->base;
	return 0;
}

void vhost_user_forget_vring(struct vhost_user *vu, unsigned idx)
{
	if (idx < VHOST_USER_MAX_QUEUES)
		vu->ring[idx] = (struct vu_ring){ .kick = -1, .call = -1, .err = -1 };
}

int vhost_user_reset_owner(struct vhost_user *vu)
{
	for (unsigned i = 0; i < VHOST_USER_MAX_QUEUES; i++) {
		vu->ring[i] = (struct vu_ring){ .kick = -1, .call = -1, .err = -1 };
	}
	vu->nregions = 0;
	vu->features_set = false;
	return vu_simple(vu, VHOST_USER_RESET_OWNER, NULL, 0, NULL, 0, 0, NULL);
}

int vhost_user_get_config(struct vhost_user *vu, uint32_t offset, void *buf, uint32_t len)
{
	struct vhost_user_config c = { .offset = offset, .size = len };
	struct vhost_user_msg r;
	int ret;

	if (!vu_has_proto(vu, VHOST_USER_PROTOCOL_F_CONFIG))
		return -EOPNOTSUPP;
	if (len == 0 || len > VHOST_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	ret = vu_simple(vu, VHOST_USER_GET_CONFIG, &c, VU_CONFIG_HDR + len, NULL, 0, len, &r);
	if (ret)
		return ret;
	if (r.payload.config.offset != offset) {
		vu->st.bad_replies++;
		log_rl(LOGL_WARN, "vhost-user %s: GET_CONFIG answered for offset %u, not %u", vu->path,
		       r.payload.config.offset, offset);
		return vu_fail(vu, -ERANGE);
	}
	memcpy(buf, r.payload.config.region, len);
	return 0;
}

int vhost_user_set_config(struct vhost_user *vu, uint32_t offset, const void *buf, uint32_t len)
{
	struct vhost_user_config c = { .offset = offset, .size = len };

	if (!vu_has_proto(vu, VHOST_USER_PROTOCOL_F_CONFIG))
		return -EOPNOTSUPP;
	if (len == 0 || len > VHOST_USER_MAX_CONFIG_SIZE)
		return -EINVAL;
	memcpy(c.region, buf, len);
	/* flags 0: VHOST_SET_CONFIG_TYPE_FRONTEND (vhost-user.rst SET_CONFIG). */
	return vu_simple(vu, VHOST_USER_SET_CONFIG, &c, VU_CONFIG_HDR + len, NULL, 0, 0, NULL);
}

int vhost_user_net_set_mtu(struct vhost_user *vu, uint16_t mtu)
{
	if (!vu_has_proto(vu, VHOST_USER_PROTOCOL_F_NET_MTU))
		return -EOPNOTSUPP;
	return vu_set_u64(vu, VHOST_USER_NET_SET_MTU, mtu);
}

/* ---- Reconnect ---- */

static int vu_replay_ring(struct vhost_user *vu, unsigned idx)
{
	struct vu_ring *q = &vu->ring[idx];
	int ret = 0;

	if (q->set & VU_RING_NUM)
		ret = vu_state(vu, VHOST_USER_SET_VRING_NUM, idx, q->num);
	if (!ret && (q->set & (VU_RING_BASE | VU_RING_ADDR))) {
		/* The old backend's position died with it; the owner reads it from the used ring. */
		if (vu->cfg.ring_state && !q->stopped)
			q->base = vu->cfg.ring_state(vu->cfg.opaque, idx);
		else if (vu->cfg.ring_base && !q->stopped)
			q->base = vu->cfg.ring_base(vu->cfg.opaque, idx);
		ret = vu_state(vu, VHOST_USER_SET_VRING_BASE, idx, q->base);
	}
	if (!ret && (q->set & VU_RING_ADDR))
		ret = vu_send_addr(vu, idx);
	if (!ret && (q->set & VU_RING_CALL))
		ret = vu_send_fd(vu, VHOST_USER_SET_VRING_CALL, idx, q->call);
	if (!ret && (q->set & VU_RING_ERR))
		ret = vu_send_fd(vu, VHOST_USER_SET_VRING_ERR, idx, q->err);
	if (q->stopped)
		return ret;
	if (!ret && (q->set & VU_RING_KICK))
		ret = vu_send_fd(vu, VHOST_USER_SET_VRING_KICK, idx, q->kick);
	if (!ret && (q->set & VU_RING_ENABLE) && vu->backend_has_protocol)
		ret = vu_state(vu, VHOST_USER_SET_VRING_ENABLE, idx, q->enabled);
	return ret;
}

int vhost_user_reconnect(struct vhost_user *vu, int timeout_ms)
{
	uint64_t old_features = vu->features;
	int ret;

	ret = vhost_user_connect(vu, timeout_ms);
	if (ret)
		return ret;
	/* Until the replay is complete a failure is this attempt's, not a new disconnect. */
	vu->up = false;
	if (vu->features_set) {
		if (old_features & ~vu->backend_features) {
			log_rl(LOGL_ERR,
			       "vhost-user %s: new backend lacks negotiated features %#llx",
			       vu->path, (unsigned long long)(old_features & ~vu->backend_features));
			return vu_fail(vu, -ENOTSUP);
		}
		ret = vhost_user_set_features(vu, old_features);
	}
	if (!ret && vu->nregions)
		ret = vu_send_mem_table(vu);
	for (unsigned i = 0; !ret && i < vu->cfg.nr_queues; i++)
		ret = vu_replay_ring(vu, i);
	if (ret)
		return vu->fd >= 0 ? vu_fail(vu, ret) : ret;
	vu->up = true;
	vu->st.reconnects++;
	log_info("vhost-user %s: reconnected, state replayed", vu->path);
	return 0;
}
