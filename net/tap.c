// SPDX-License-Identifier: GPL-2.0-only
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define TAP_BURST_DEFAULT 32
/* Large enough for any frame the kernel queues (64 KiB GSO off), so read() never truncates. */
#define TAP_RXBUF 65536

struct tap {
	int fd;
	int kick_fd; /* rx_ready() -> loop thread: resume reading */
	struct evloop *loop;
	unsigned burst;
	char ifname[IFNAMSIZ];
	struct netdev_frontend fe;
	bool attached;
	bool paused;	     /* loop thread only */
	struct tap_stats st; /* updated atomically: tx from any thread */
	uint8_t buf[TAP_RXBUF];
};

#define STAT_ADD(t, field, n) __atomic_add_fetch(&(t)->st.field, (n), __ATOMIC_RELAXED)

static void tap_pause(struct tap *t)
{
	if (t->paused)
		return;
	if (evloop_mod(t->loop, t->fd, 0) == 0) {
		t->paused = true;
		STAT_ADD(t, rx_pauses, 1);
	}
}

static void tap_resume(struct tap *t)
{
	if (t->paused && evloop_mod(t->loop, t->fd, EPOLLIN) == 0)
		t->paused = false;
}

static void tap_on_readable(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct tap *t = opaque;

	(void)loop;
	(void)events;
	if (!t->attached) {
		tap_pause(t); /* nobody to take frames yet; tap_attach resumes */
		return;
	}
	for (unsigned i = 0; i < t->burst; i++) {
		ssize_t n;
		int ret;

		/* Check first so a frame is not read only to be thrown away. */
		if (t->fe.can_receive && !t->fe.can_receive(t->fe.opaque)) {
			tap_pause(t);
			return;
		}
		n = read(fd, t->buf, sizeof(t->buf));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_rl(LOGL_WARN, "tap %s: read: %s", t->ifname, strerror(errno));
			return;
		}
		if ((size_t)n > NETDEV_MAX_FRAME) {
			STAT_ADD(t, rx_oversize, 1);
			continue;
		}
		ret = t->fe.receive(t->fe.opaque, t->buf, (size_t)n);
		if (ret == 0) {
			STAT_ADD(t, rx_packets, 1);
			STAT_ADD(t, rx_bytes, (uint64_t)n);
		} else if (ret == -ENOBUFS || ret == -ENETDOWN) {
			STAT_ADD(t, rx_refused, 1);
			tap_pause(t);
			return;
		} else {
			STAT_ADD(t, rx_oversize, 1);
		}
	}
}

static void tap_on_kick(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct tap *t = opaque;

	(void)loop;
	(void)events;
	efd_drain(fd);
	if (t->attached)
		tap_resume(t);
}

static int tap_send(void *opaque, const void *frame, size_t len)
{
	struct tap *t = opaque;
	ssize_t n = write(t->fd, frame, len);

	if (n == (ssize_t)len) {
		STAT_ADD(t, tx_packets, 1);
		STAT_ADD(t, tx_bytes, len);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EIO || errno == ENOBUFS)) {
		/* Queue full, or interface down (EIO): the frame is lost, as on a busy wire. */
		STAT_ADD(t, tx_dropped, 1);
		return -ENOBUFS;
	}
	STAT_ADD(t, tx_errors, 1);
	log_rl(LOGL_WARN, "tap %s: write of %zu bytes: %s", t->ifname, len,
	       n < 0 ? strerror(errno) : "short write");
	return n < 0 ? -errno : -EIO;
}

static void tap_rx_ready(void *opaque)
{
	struct tap *t = opaque;

	(void)efd_signal(t->kick_fd);
}

static int tap_open(const char *ifname, char name_out[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		log_err("tap: open /dev/net/tun: %s", strerror(errno));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ifname)
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		log_err("tap: TUNSETIFF %s: %s", ifname ? ifname : "tap%d", strerror(errno));
		close(fd);
		return ret;
	}
	memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
	name_out[IFNAMSIZ - 1] = 0;
	return fd;
}

int tap_create(const struct tap_cfg *cfg, struct tap **out)
{
	struct tap *t;
	int ret;

	if (!cfg || !cfg->loop || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = cfg->loop;
	t->burst = cfg->burst ? cfg->burst : TAP_BURST_DEFAULT;
	t->kick_fd = -1;
	if (cfg->fd >= 0) {
		struct ifreq ifr;

		t->fd = cfg->fd;
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(t->fd, TUNGETIFF, &ifr) == 0)
			memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ - 1);
		else
			snprintf(t->ifname, sizeof(t->ifname), "fd%d", t->fd);
		if (fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK) < 0) {
			ret = -errno;
			goto err_fd;
		}
	} else {
		t->fd = tap_open(cfg->ifname, t->ifname);
		if (t->fd < 0) {
			ret = t->fd;
			free(t);
			return ret;
		}
	}
	t->kick_fd = efd_create();
	if (t->kick_fd < 0) {
		ret = t->kick_fd;
		goto err_fd;
	}
	/* Not reading until a device is attached. */
	t->paused = true;
	ret = evloop_add(t->loop, t->fd, 0, tap_on_readable, t);
	if (ret)
		goto err_kick;
	ret = evloop_add(t->loop, t->kick_fd, EPOLLIN, tap_on_kick, t);
	if (ret)
		goto err_del;
	*out = t;
	return 0;

err_del:
	evloop_del(t->loop, t->fd);
err_kick:
	close(t->kick_fd);
err_fd:
	log_err("tap %s: set-up failed: %s", t->ifname, strerror(-ret));
	close(t->fd);
	free(t);
	return ret;
}

void tap_destroy(struct tap *t)
{
	if (!t)
		return;
	evloop_del(t->loop, t->kick_fd);
	evloop_del(t->loop, t->fd);
	close(t->kick_fd);
	close(t->fd);
	free(t);
}

void tap_attach(struct tap *t, const struct netdev_frontend *fe)
{
	if (fe && fe->receive) {
		t->fe = *fe;
		t->attached = true;
		tap_resume(t);
	} else {
		t->attached = false;
		tap_pause(t);
	}
}

void tap_backend(struct tap *t, struct netdev_backend *out)
{
	out->send = tap_send;
	out->rx_ready = tap_rx_ready;
	out->opaque = t;
}

const char *tap_ifname(const struct tap *t)
{
	return t->ifname;
}

int tap_fd(const struct tap *t)
{
	return t->fd;
}

void tap_get_stats(const struct tap *t, struct tap_stats *out)
{
	const uint64_t *src = (const uint64_t *)&t->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
