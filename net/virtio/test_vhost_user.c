// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the vhost-user frontend: message encode/decode, feature masking, and a fake
 * backend on the other end of a socket (a thread) that answers correctly or with hostile replies:
 * wrong codes, bad flags, wrong sizes, unexpected fds, silence, early close. Also checks that a
 * reconnect replays the whole state in order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost_user.h"
#include "test.h"

/* ---- Fake backend ---- */

enum fb_mode {
	FB_GOOD,
	FB_SILENT,	   /* never answers GET_FEATURES */
	FB_WRONG_REQ,	   /* answers GET_FEATURES with another request code */
	FB_BAD_FLAGS,	   /* reply without the REPLY flag */
	FB_BIG_SIZE,	   /* header claims a huge payload */
	FB_FDS,		   /* attaches fds to the GET_FEATURES reply */
	FB_CLOSE,	   /* closes the socket instead of answering GET_FEATURES */
	FB_NACK_MEM,	   /* negative ack to SET_MEM_TABLE */
	FB_BAD_RING_BASE,  /* GET_VRING_BASE answers for another ring */
	FB_UNSOLICITED,	   /* sends a message nobody asked for after the handshake */
	FB_BAD_CONFIG,	   /* GET_CONFIG answered with one byte more than asked */
};

struct fake_backend {
	int fd;
	enum fb_mode mode;
	uint64_t features;
	uint64_t pfeatures;
	uint32_t log[512];
	unsigned nlog;
	unsigned fds_got;
	uint64_t acked_features;
	uint64_t acked_pfeatures;
	uint32_t vring_base[4];
	unsigned nregions;
	pthread_t thr;
};

static int fb_read(int fd, void *buf, size_t len, unsigned *nfds)
{
	size_t got = 0;

	while (got < len) {
		char ctl[CMSG_SPACE(sizeof(int) * 8)];
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		ssize_t n = recvmsg(fd, &mh, 0);

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

static void fb_send(int fd, const struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	/* A lying size (FB_BIG_SIZE) still sends only what the buffer holds. */
	struct iovec iov = { (void *)m, VHOST_USER_HDR_SIZE + MIN(m->size, VHOST_USER_PAYLOAD_MAX) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		return;
}

static void fb_reply_u64(int fd, uint32_t req, uint64_t v)
{
	struct vhost_user_msg r = { .request = req, .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				    .size = 8 };

	r.payload.u64 = v;
	fb_send(fd, &r, NULL, 0);
}

static void *fb_main(void *arg)
{
	struct fake_backend *fb = arg;
	struct vhost_user_msg m;
	bool handshake_done = false;

	for (;;) {
		unsigned nfds = 0;

		if (fb_read(fb->fd, &m, VHOST_USER_HDR_SIZE, &nfds) ||
		    m.size > VHOST_USER_PAYLOAD_MAX ||
		    fb_read(fb->fd, &m.payload, m.size, &nfds))
			break;
		fb->fds_got += nfds;
		if (fb->nlog < ARRAY_SIZE(fb->log))
			fb->log[fb->nlog++] = m.request;
		switch (m.request) {
		case VHOST_USER_GET_FEATURES: {
			struct vhost_user_msg r = { .request = m.request,
						    .flags = VHOST_USER_VERSION |
							     VHOST_USER_FLAG_REPLY,
						    .size = 8 };
			int efd = eventfd(0, 0);

			r.payload.u64 = fb->features;
			switch (fb->mode) {
			case FB_SILENT:
				break;
			case FB_WRONG_REQ:
				r.request = VHOST_USER_GET_QUEUE_NUM;
				fb_send(fb->fd, &r, NULL, 0);
				break;
			case FB_BAD_FLAGS:
				r.flags = VHOST_USER_VERSION;
				fb_send(fb->fd, &r, NULL, 0);
				break;
			case FB_BIG_SIZE:
				r.size = 0x10000000;
				fb_send(fb->fd, &r, NULL, 0);
				break;
			case FB_FDS: {
				int fds[3] = { efd, efd, efd };

				fb_send(fb->fd, &r, fds, 3);
				break;
			}
			case FB_CLOSE:
				close(efd);
				goto out;
			default:
				fb_send(fb->fd, &r, NULL, 0);
			}
			close(efd);
			continue;
		}
		case VHOST_USER_GET_PROTOCOL_FEATURES:
			fb_reply_u64(fb->fd, m.request, fb->pfeatures);
			continue;
		case VHOST_USER_GET_QUEUE_NUM:
			fb_reply_u64(fb->fd, m.request, 2);
			handshake_done = true;
			if (fb->mode == FB_UNSOLICITED)
				fb_reply_u64(fb->fd, VHOST_USER_GET_FEATURES, 0);
			continue;
		case VHOST_USER_GET_VRING_BASE: {
			struct vhost_user_msg r = { .request = m.request,
						    .flags = VHOST_USER_VERSION |
							     VHOST_USER_FLAG_REPLY,
						    .size = 8 };

			r.payload.state.index = m.payload.state.index +
						(fb->mode == FB_BAD_RING_BASE ? 1 : 0);
			r.payload.state.num = 77;
			fb_send(fb->fd, &r, NULL, 0);
			continue;
		}
		case VHOST_USER_GET_CONFIG: {
			struct vhost_user_msg r = m;
			uint32_t n = m.payload.config.size;

			r.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
			for (uint32_t i = 0; i < n && i < VHOST_USER_MAX_CONFIG_SIZE; i++)
				r.payload.config.region[i] = (uint8_t)(m.payload.config.offset + i);
			if (fb->mode == FB_BAD_CONFIG)
				r.size++;
			fb_send(fb->fd, &r, NULL, 0);
			continue;
		}
		case VHOST_USER_SET_FEATURES:
			fb->acked_features = m.payload.u64;
			break;
		case VHOST_USER_SET_PROTOCOL_FEATURES:
			fb->acked_pfeatures = m.payload.u64;
			break;
		case VHOST_USER_SET_VRING_BASE:
			if (m.payload.state.index < 4)
				fb->vring_base[m.payload.state.index] = m.payload.state.num;
			break;
		case VHOST_USER_SET_MEM_TABLE:
			fb->nregions = m.payload.memory.nregions;
			break;
		default:
			break;
		}
		(void)handshake_done;
		if (m.flags & VHOST_USER_FLAG_NEED_REPLY)
			fb_reply_u64(fb->fd, m.request,
				     fb->mode == FB_NACK_MEM && m.request == VHOST_USER_SET_MEM_TABLE);
	}
out:
	close(fb->fd);
	return NULL;
}

/* Start a fake backend on one end of a socketpair; returns the frontend's end. */
static int fb_start(struct fake_backend *fb, enum fb_mode mode)
{
	int sv[2];

	memset(fb, 0, sizeof(*fb));
	fb->mode = mode;
	/* Offers more than anyone asked for: the frontend must mask. */
	fb->features = (1ull << 32) | (1ull << 15) | (1ull << 5) | (1ull << 63) |
		       (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	fb->pfeatures = ~0ull;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fb->fd = sv[1];
	if (pthread_create(&fb->thr, NULL, fb_main, fb)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return sv[0];
}

static void fb_join(struct fake_backend *fb)
{
	pthread_join(fb->thr, NULL);
}

/* ---- Tests ---- */

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int disconnects;
static void on_disc(void *opaque)
{
	(void)opaque;
	disconnects++;
}

static uint16_t base_cb(void *opaque, unsigned idx)
{
	(void)opaque;
	return (uint16_t)(1000 + idx);
}

static struct vhost_user *mk(const char *path, bool server, int timeout_ms)
{
	struct vhost_user_cfg cfg = {
		.path = path,
		.server = server,
		.features = (1ull << 32) | (1ull << 15) | (1ull << 16),
		.protocol_features = ~0ull,
		.nr_queues = 2,
		.timeout_ms = timeout_ms,
		.on_disconnect = on_disc,
		.ring_base = base_cb,
	};
	struct vhost_user *vu = NULL;

	if (vhost_user_create(&cfg, &vu))
		return NULL;
	return vu;
}

static unsigned count_open_fds(void)
{
	unsigned n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_codec(void)
{
	struct vhost_user_msg m, out;
	uint64_t v = 0x1234;
	uint8_t big[VHOST_USER_PAYLOAD_MAX + 1];

	CHECK(vhost_user_msg_init(&m, VHOST_USER_SET_FEATURES, &v, sizeof(v)) == 0);
	CHECK(m.request == VHOST_USER_SET_FEATURES && m.flags == VHOST_USER_VERSION && m.size == 8);
	CHECK(m.payload.u64 == 0x1234);
	CHECK(vhost_user_msg_init(&m, 1, big, sizeof(big)) == -EMSGSIZE);
	CHECK(sizeof(struct vhost_user_vring_addr) == 40);
	CHECK(sizeof(struct vhost_user_memory) == 8 + 8 * 32);
	CHECK(offsetof(struct vhost_user_msg, payload) == VHOST_USER_HDR_SIZE);

	/* A good GET_FEATURES reply. */
	m = (struct vhost_user_msg){ .request = VHOST_USER_GET_FEATURES,
				     .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, .size = 8 };
	m.payload.u64 = 7;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 20, 0, &out) == 0);
	CHECK(out.payload.u64 == 7);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 19, 0, &out) == -EBADMSG);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 11, 0, &out) == -EBADMSG);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 20, 1, &out) == -EBADMSG);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_PROTOCOL_FEATURES, 0, &m, 20, 0, &out) ==
	      -EPROTO);
	m.flags = 2 | VHOST_USER_FLAG_REPLY;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 20, 0, &out) == -EPROTO);
	m.flags = VHOST_USER_VERSION;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 20, 0, &out) == -EPROTO);
	m.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY | (1u << 20);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 20, 0, &out) == -EPROTO);
	m.flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY;
	m.size = 16;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_FEATURES, 0, &m, 28, 0, &out) == -EMSGSIZE);
	/* Requests we never expect replies to. */
	m.size = 8;
	m.request = VHOST_USER_SET_LOG_BASE;
	CHECK(vhost_user_reply_parse(VHOST_USER_SET_LOG_BASE, 0, &m, 20, 0, &out) == -EINVAL);
	m.request = 9999;
	CHECK(vhost_user_reply_parse(9999, 0, &m, 20, 0, &out) == -EINVAL);
	/* Acks. */
	m.request = VHOST_USER_SET_MEM_TABLE;
	m.payload.u64 = 0;
	CHECK(vhost_user_reply_parse(VHOST_USER_SET_MEM_TABLE, 0, &m, 20, 0, &out) == 0);
	m.payload.u64 = 1;
	CHECK(vhost_user_reply_parse(VHOST_USER_SET_MEM_TABLE, 0, &m, 20, 0, &out) == -EIO);
	/* GET_VRING_BASE must be about the ring we asked for, with a 16-bit index. */
	m.request = VHOST_USER_GET_VRING_BASE;
	m.payload.state.index = 1;
	m.payload.state.num = 5;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 1, &m, 20, 0, &out) == 0);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 0, &m, 20, 0, &out) == -ERANGE);
	m.payload.state.num = 0x10000;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 1, &m, 20, 0, &out) == -ERANGE);
	m.request = VHOST_USER_GET_QUEUE_NUM;
	m.payload.u64 = 0;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_QUEUE_NUM, 0, &m, 20, 0, &out) == -ERANGE);
	/* GET_CONFIG: exactly the window asked for. */
	m = (struct vhost_user_msg){ .request = VHOST_USER_GET_CONFIG,
				     .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				     .size = 12 + 6 };
	m.payload.config.size = 6;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_CONFIG, 6, &m, 12 + 18, 0, &out) == 0);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_CONFIG, 4, &m, 12 + 18, 0, &out) == -EMSGSIZE);
	m.payload.config.size = 5;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_CONFIG, 6, &m, 12 + 18, 0, &out) == -ERANGE);
	m.size = 12 + 257;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_CONFIG, 6, &m, 12 + 18, 0, &out) == -EMSGSIZE);
	CHECK(strcmp(vhost_user_req_name(VHOST_USER_SET_MEM_TABLE), "SET_MEM_TABLE") == 0);
	CHECK(strcmp(vhost_user_req_name(12345), "UNKNOWN") == 0);
}

static void test_good_handshake_and_features(void)
{
	struct fake_backend fb;
	struct vhost_user *vu = mk("/tmp/unused-vu-sock", false, 5000);
	int fd = fb_start(&fb, FB_GOOD);
	int memfd = memfd_create("t", MFD_CLOEXEC);
	struct vhost_user_region r = { .gpa = 0, .size = 4096, .hva = 0x10000, .fd = memfd };
	int kfd = eventfd(0, EFD_CLOEXEC);
	uint16_t base = 0;
	struct vhost_user_stats st;

	CHECK(vu && fd >= 0 && memfd >= 0 && ftruncate(memfd, 4096) == 0);
	CHECK(vhost_user_connect_fd(vu, fd) == 0);
	/* Masked to what we asked: bits 32 and 15 (16 was not offered, 5/63 not asked). */
	CHECK(vhost_user_backend_features(vu) == ((1ull << 32) | (1ull << 15)));
	CHECK(vhost_user_protocol_features(vu) == VHOST_USER_PROTOCOL_SUPPORTED);
	CHECK(vhost_user_backend_queues(vu) == 2);
	/* Never hand the backend a feature it did not offer. */
	CHECK(vhost_user_set_features(vu, 1ull << 16) == -EINVAL);
	CHECK(vhost_user_set_features(vu, 1ull << 32) == 0);
	CHECK(vhost_user_set_mem_table(vu, &r, 1) == 0);
	CHECK(vhost_user_set_mem_table(vu, &r, 0) == -EINVAL);
	CHECK(vhost_user_set_vring_num(vu, 0, 256) == 0);
	CHECK(vhost_user_set_vring_num(vu, 0, 100) == -EINVAL);
	CHECK(vhost_user_set_vring_num(vu, 7, 256) == -EINVAL);
	CHECK(vhost_user_set_vring_base(vu, 0, 3) == 0);
	CHECK(vhost_user_set_vring_addr(vu, 0, 0x10000, 0x11000, 0x12000) == 0);
	CHECK(vhost_user_set_vring_kick(vu, 0, kfd) == 0);
	CHECK(vhost_user_set_vring_call(vu, 0, -1) == 0);
	CHECK(vhost_user_set_vring_enable(vu, 0, true) == 0);
	CHECK(vhost_user_get_vring_base(vu, 0, &base) == 0 && base == 77);
	{
		uint8_t cfgb[6];

		CHECK(vhost_user_get_config(vu, 10, cfgb, sizeof(cfgb)) == 0);
		CHECK(cfgb[0] == 10 && cfgb[5] == 15);
		CHECK(vhost_user_set_config(vu, 0, cfgb, sizeof(cfgb)) == 0);
		CHECK(vhost_user_get_config(vu, 0, cfgb, 0) == -EINVAL);
		CHECK(vhost_user_get_config(vu, 0, cfgb, 257) == -EINVAL);
	}
	CHECK(vhost_user_connected(vu));
	vhost_user_get_stats(vu, &st);
	CHECK(st.bad_replies == 0 && st.timeouts == 0);
	vhost_user_destroy(vu);
	fb_join(&fb);
	CHECK(fb.acked_features == ((1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES)));
	CHECK(fb.acked_pfeatures == VHOST_USER_PROTOCOL_SUPPORTED);
	CHECK(fb.vring_base[0] == 3);
	CHECK(fb.nregions == 1);
	CHECK(fb.fds_got == 2); /* memfd + kick */
	CHECK(fb.log[0] == VHOST_USER_SET_OWNER && fb.log[1] == VHOST_USER_GET_FEATURES);
	close(memfd);
	close(kfd);
}

/* Each hostile reply gives a clear error, drops the connection, leaks nothing and never hangs. */
static void test_hostile(enum fb_mode mode, int want)
{
	struct fake_backend fb;
	/* Short only where the timeout is the point: a busy machine may delay a fast reply. */
	struct vhost_user *vu = mk("/tmp/unused-vu-sock", false, mode == FB_SILENT ? 300 : 5000);
	unsigned fds_before = count_open_fds();
	int fd = fb_start(&fb, mode);
	uint64_t t0 = clock_ms();
	struct vhost_user_stats st;
	int ret;

	disconnects = 0;
	ret = vhost_user_connect_fd(vu, fd);
	if (ret != want)
		fprintf(stderr, "mode %d: got %d (%s), want %d\n", mode, ret, strerror(-ret), want);
	CHECK(ret == want);
	CHECK(!vhost_user_connected(vu));
	CHECK(clock_ms() - t0 < 5000);
	/* A failed connection attempt is not a disconnect of an established session. */
	CHECK(disconnects == 0);
	vhost_user_get_stats(vu, &st);
	if (mode == FB_FDS)
		CHECK(st.unexpected_fds == 3);
	if (mode == FB_SILENT)
		CHECK(st.timeouts == 1);
	/* Calls on a dropped connection fail cleanly. */
	CHECK(vhost_user_set_vring_num(vu, 0, 256) == -ENOTCONN);
	vhost_user_destroy(vu);
	fb_join(&fb);
	CHECK(count_open_fds() == fds_before);
}

static void test_after_handshake(enum fb_mode mode)
{
	struct fake_backend fb;
	struct vhost_user *vu = mk("/tmp/unused-vu-sock", false, 5000);
	int fd = fb_start(&fb, mode);
	int memfd = memfd_create("t", MFD_CLOEXEC);
	struct vhost_user_region r = { .gpa = 0, .size = 4096, .hva = 0x10000, .fd = memfd };
	uint16_t base;

	disconnects = 0;
	CHECK(vhost_user_connect_fd(vu, fd) == 0);
	switch (mode) {
	case FB_NACK_MEM:
		/* A refusal is an error for the caller, but the stream is still in sync. */
		CHECK(vhost_user_set_mem_table(vu, &r, 1) == -EIO);
		CHECK(vhost_user_connected(vu));
		CHECK(vhost_user_set_vring_num(vu, 0, 256) == 0);
		break;
	case FB_BAD_RING_BASE:
		CHECK(vhost_user_get_vring_base(vu, 1, &base) == -ERANGE);
		CHECK(!vhost_user_connected(vu));
		CHECK(disconnects == 1);
		break;
	case FB_UNSOLICITED:
		usleep(50 * 1000);
		CHECK(!vhost_user_poll(vu));
		CHECK(disconnects == 1);
		break;
	case FB_BAD_CONFIG: {
		uint8_t buf[8];

		CHECK(vhost_user_get_config(vu, 0, buf, sizeof(buf)) == -EMSGSIZE);
		CHECK(!vhost_user_connected(vu));
		break;
	}
	default:
		break;
	}
	vhost_user_destroy(vu);
	fb_join(&fb);
	close(memfd);
}

/* Backend goes away: owner is told; on reconnect everything is replayed with the owner's bases. */
static void test_reconnect_replay(void)
{
	char path[64];
	struct fake_backend fb1, fb2;
	struct vhost_user *vu;
	int memfd = memfd_create("t", MFD_CLOEXEC);
	struct vhost_user_region r = { .gpa = 0, .size = 4096, .hva = 0x10000, .fd = memfd };
	int efd = eventfd(0, EFD_CLOEXEC);
	int fd, afd;
	static const uint32_t want[] = {
		VHOST_USER_SET_OWNER,	      VHOST_USER_GET_FEATURES,
		VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_SET_PROTOCOL_FEATURES,
		VHOST_USER_GET_QUEUE_NUM,     VHOST_USER_SET_FEATURES,
		VHOST_USER_SET_MEM_TABLE,     VHOST_USER_SET_VRING_NUM,
		VHOST_USER_SET_VRING_BASE,    VHOST_USER_SET_VRING_ADDR,
		VHOST_USER_SET_VRING_CALL,    VHOST_USER_SET_VRING_KICK,
		VHOST_USER_SET_VRING_ENABLE,  VHOST_USER_SET_VRING_NUM,
		VHOST_USER_SET_VRING_BASE,    VHOST_USER_SET_VRING_ADDR,
		VHOST_USER_SET_VRING_CALL,    VHOST_USER_SET_VRING_KICK,
		VHOST_USER_SET_VRING_ENABLE,
	};
	unsigned n = 0;

	/* Server mode: we listen; the "backend" connects as a client would. */
	snprintf(path, sizeof(path), "/tmp/nfv-vu-test-%d.sock", getpid());
	vu = mk(path, true, 5000);
	CHECK(vu != NULL);
	if (!vu)
		return;
	disconnects = 0;
	fd = fb_start(&fb1, FB_GOOD);
	CHECK(vhost_user_connect_fd(vu, fd) == 0);
	CHECK(vhost_user_set_features(vu, 1ull << 32) == 0);
	CHECK(vhost_user_set_mem_table(vu, &r, 1) == 0);
	for (unsigned i = 0; i < 2; i++) {
		CHECK(vhost_user_set_vring_num(vu, i, 256) == 0);
		CHECK(vhost_user_set_vring_base(vu, i, 0) == 0);
		CHECK(vhost_user_set_vring_addr(vu, i, 0x10000, 0x11000, 0x12000) == 0);
		CHECK(vhost_user_set_vring_call(vu, i, efd) == 0);
		CHECK(vhost_user_set_vring_kick(vu, i, efd) == 0);
		CHECK(vhost_user_set_vring_enable(vu, i, true) == 0);
	}
	/* Kill the backend: its thread ends when we close... so close its end from here. */
	shutdown(vhost_user_fd(vu), SHUT_RDWR);
	fb_join(&fb1);
	CHECK(!vhost_user_poll(vu));
	CHECK(disconnects == 1);

	/* The second backend connects to our listening socket. */
	afd = connect_unix(path);
	CHECK(afd >= 0);
	memset(&fb2, 0, sizeof(fb2));
	fb2.mode = FB_GOOD;
	fb2.features = (1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	fb2.pfeatures = ~0ull;
	fb2.fd = afd;
	CHECK(pthread_create(&fb2.thr, NULL, fb_main, &fb2) == 0);
	CHECK(vhost_user_reconnect(vu, 1000) == 0);
	CHECK(vhost_user_connected(vu));
	vhost_user_destroy(vu);
	fb_join(&fb2);
	CHECK(fb2.nlog == ARRAY_SIZE(want));
	for (unsigned i = 0; i < fb2.nlog && i < ARRAY_SIZE(want); i++) {
		if (fb2.log[i] != want[i]) {
			fprintf(stderr, "replay step %u: got %s want %s\n", i,
				vhost_user_req_name(fb2.log[i]), vhost_user_req_name(want[i]));
			n++;
		}
	}
	CHECK(n == 0);
	CHECK(fb2.vring_base[0] == 1000 && fb2.vring_base[1] == 1001);
	CHECK(fb2.acked_features == ((1ull << 32) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES)));
	/* memfd + 2 x (call + kick) */
	CHECK(fb2.fds_got == 5);
	CHECK(access(path, F_OK) != 0); /* the listening socket file is removed */
	close(memfd);
	close(efd);
}

/* A reconnect to a backend that lacks a feature the guest already has must fail, not degrade. */
static void test_reconnect_lost_feature(void)
{
	char path[64];
	struct fake_backend fb1, fb2;
	struct vhost_user *vu;
	int fd, afd;

	snprintf(path, sizeof(path), "/tmp/nfv-vu-test2-%d.sock", getpid());
	vu = mk(path, true, 5000);
	CHECK(vu != NULL);
	if (!vu)
		return;
	fd = fb_start(&fb1, FB_GOOD);
	CHECK(vhost_user_connect_fd(vu, fd) == 0);
	CHECK(vhost_user_set_features(vu, (1ull << 32) | (1ull << 15)) == 0);
	vhost_user_disconnect(vu);
	fb_join(&fb1);

	afd = connect_unix(path);
	CHECK(afd >= 0);
	memset(&fb2, 0, sizeof(fb2));
	fb2.features = (1ull << 32); /* no bit 15, no protocol features */
	fb2.fd = afd;
	CHECK(pthread_create(&fb2.thr, NULL, fb_main, &fb2) == 0);
	CHECK(vhost_user_reconnect(vu, 1000) == -ENOTSUP);
	CHECK(!vhost_user_connected(vu));
	vhost_user_destroy(vu);
	fb_join(&fb2);
}

static void test_client_no_backend(void)
{
	struct vhost_user *vu = mk("/tmp/nfv-vu-test-nonexistent.sock", false, 100);
	uint64_t t0 = clock_ms();

	CHECK(vu != NULL);
	CHECK(vhost_user_connect(vu, 150) == -ENOENT);
	CHECK(clock_ms() - t0 < 2000);
	vhost_user_destroy(vu);
	/* Server that nobody connects to. */
	vu = mk("/tmp/nfv-vu-test-lonely.sock", true, 100);
	CHECK(vu != NULL);
	CHECK(vhost_user_connect(vu, 100) == -ETIMEDOUT);
	vhost_user_destroy(vu);
}

int main(void)
{
	log_set_level(LOGL_ERR);
	test_codec();
	test_good_handshake_and_features();
	test_hostile(FB_SILENT, -ETIMEDOUT);
	test_hostile(FB_WRONG_REQ, -EPROTO);
	test_hostile(FB_BAD_FLAGS, -EPROTO);
	test_hostile(FB_BIG_SIZE, -EMSGSIZE);
	test_hostile(FB_FDS, -EBADMSG);
	test_hostile(FB_CLOSE, -ECONNRESET);
	test_after_handshake(FB_NACK_MEM);
	test_after_handshake(FB_BAD_RING_BASE);
	test_after_handshake(FB_UNSOLICITED);
	test_after_handshake(FB_BAD_CONFIG);
	test_reconnect_replay();
	test_reconnect_lost_feature();
	test_client_no_backend();
	TEST_DONE("vhost_user_unit");
}
