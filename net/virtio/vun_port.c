// SPDX-License-Identifier: GPL-2.0-only
/*
 * netdev seam (net/netdev.h) on top of the vhost-user netdev: event-driven RX with the device's
 * back-pressure, lock-light TX from vCPU threads, link supervision and reconnect with backoff.
 */
#include "vun_port.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "vhost_user.h"

#define VP_BACKOFF_MIN_MS 100u
#define VP_BACKOFF_MAX_MS 5000u

struct vun_port {
	struct vun_port_cfg cfg;
	char *path;
	struct vun *vun;
	pthread_mutex_t tx_lock; /* serialises senders (several vCPUs) */
	struct netdev_frontend fe;
	bool attached;
	bool paused;	   /* the device said -ENOBUFS; waiting for rx_ready */
	bool destroying;
	int resume_fd;	   /* rx_ready() signals it */
	int timer_fd;	   /* reconnect backoff */
	int sock_dup;	   /* dup of the control socket, watched for hang-up */
	unsigned backoff_ms;
	bool listen_watched, rx_watched, resume_watched, timer_watched;
};

static void vp_arm_timer(struct vun_port *p, unsigned ms)
{
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (long)(ms % 1000) * 1000000L } };

	if (timerfd_settime(p->timer_fd, 0, &its, NULL) < 0)
		log_rl(LOGL_ERR, "vhost-user port %s: timerfd: %s", p->path, strerror(errno));
}

static void vp_unwatch_sock(struct vun_port *p)
{
	if (p->sock_dup < 0)
		return;
	evloop_del(p->cfg.loop, p->sock_dup);
	close(p->sock_dup);
	p->sock_dup = -1;
}

static void vp_sock_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vun_port *p = opaque;

	(void)loop;
	(void)fd;
	(void)events;
	/* vun_check() drops a dead connection, which calls vp_on_link(false). */
	if (!vun_check(p->vun))
		vp_unwatch_sock(p);
}

/* Called from inside vun calls, all of which run on the loop's thread (or in create/destroy). */
static void vp_on_link(void *opaque, bool up)
{
	struct vun_port *p = opaque;

	if (p->destroying)
		return;
	if (up) {
		p->backoff_ms = VP_BACKOFF_MIN_MS;
		vp_unwatch_sock(p);
		p->sock_dup = fcntl(vun_sock_fd(p->vun), F_DUPFD_CLOEXEC, 0);
		if (p->sock_dup >= 0 &&
		    evloop_add(p->cfg.loop, p->sock_dup, EPOLLIN | EPOLLRDHUP, vp_sock_cb, p)) {
			close(p->sock_dup);
			p->sock_dup = -1;
		}
		log_info("vhost-user port %s: link up", p->path);
	} else {
		log_warn("vhost-user port %s: backend gone, link down; reconnecting", p->path);
		p->backoff_ms = VP_BACKOFF_MIN_MS;
		if (!p->cfg.server)
			vp_arm_timer(p, 1);
	}
	if (p->cfg.on_link)
		p->cfg.on_link(p->cfg.opaque, up);
}

static int vp_rx_one(void *opaque, const void *frame, size_t len)
{
	struct vun_port *p = opaque;
	int ret = p->fe.receive(p->fe.opaque, frame, len);

	if (ret == -ENOBUFS) {
		p->paused = true;
		return -ENOBUFS;
	}
	return 0; /* taken, or dropped and counted by the device */
}

static void vp_deliver(struct vun_port *p)
{
	unsigned burst = p->cfg.burst ? p->cfg.burst : 32;

	if (!p->attached || p->paused)
		return;
	/* A full burst may mean more is waiting: come back after other watches had their turn. */
	if (vun_poll_rx(p->vun, vp_rx_one, p, burst) == burst && !p->paused)
		efd_signal(vun_rx_fd(p->vun));
}

static void vp_rx_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	(void)loop;
	(void)events;
	efd_drain(fd);
	vp_deliver(opaque);
}

static void vp_resume_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vun_port *p = opaque;

	(void)loop;
	(void)events;
	efd_drain(fd);
	p->paused = false;
	vp_deliver(p);
}

static void vp_try(struct vun_port *p)
{
	int ret;

	if (vun_link_up(p->vun))
		return;
	vp_unwatch_sock(p);
	ret = vun_reconnect(p->vun, 0);
	if (ret == 0)
		return;
	if (!p->cfg.server) {
		/* Say why (e.g. EACCES when the VMM dropped privileges and the socket is root's). */
		log_rl(LOGL_WARN, "vhost-user port %s: reconnect failed: %s; retrying in %u ms", p->path,
		       strerror(-ret), p->backoff_ms);
		vp_arm_timer(p, p->backoff_ms);
		p->backoff_ms = MIN(p->backoff_ms * 2, VP_BACKOFF_MAX_MS);
	}
}

static void vp_timer_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	uint64_t n;

	(void)loop;
	(void)events;
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	vp_try(opaque);
}

static void vp_listen_cb(struct evloop *loop, int fd, uint32_t events, void *opaque)
{
	struct vun_port *p = opaque;

	(void)loop;
	(void)events;
	if (!vun_link_up(p->vun)) {
		vp_try(p);
	} else {
		/* One backend at a time: refuse a second one rather than spin on it. */
		int extra = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (extra >= 0)
			close(extra);
	}
}

/* ---- netdev_backend ---- */

static int vp_send(void *opaque, const void *frame, size_t len)
{
	struct vun_port *p = opaque;
	int ret;

	pthread_mutex_lock(&p->tx_lock);
	ret = vun_send(p->vun, frame, len);
	pthread_mutex_unlock(&p->tx_lock);
	return ret;
}

static void vp_rx_ready(void *opaque)
{
	struct vun_port *p = opaque;

	efd_signal(p->resume_fd);
}

void vun_port_backend(struct vun_port *p, struct netdev_backend *out)
{
	*out = (struct netdev_backend){ .send = vp_send, .rx_ready = vp_rx_ready, .opaque = p };
}

void vun_port_attach(struct vun_port *p, const struct netdev_frontend *fe)
{
	p->fe = *fe;
	p->attached = fe->receive != NULL;
	p->paused = false;
	if (p->attached)
		efd_signal(vun_rx_fd(p->vun)); /* frames may be waiting already */
}

bool vun_port_link_up(const struct vun_port *p)
{
	return vun_link_up(p->vun);
}

struct vun *vun_port_vun(struct vun_port *p)
{
	return p->vun;
}

/* ---- create / destroy ---- */

int vun_port_create(const struct vun_port_cfg *cfg, struct vun_port **out)
{
	struct vun_cfg vcfg = {
		.path = cfg->path, .server = cfg->server, .queue_size = cfg->queue_size,
		.timeout_ms = cfg->timeout_ms, .on_link = vp_on_link,
	};
	struct vun_port *p;
	int ret;

	if (!cfg->loop || !cfg->path)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->resume_fd = p->timer_fd = p->sock_dup = -1;
	p->backoff_ms = VP_BACKOFF_MIN_MS;
	pthread_mutex_init(&p->tx_lock, NULL);
	p->path = strdup(cfg->path);
	if (!p->path) {
		ret = -ENOMEM;
		goto err;
	}
	p->cfg.path = p->path;
	vcfg.opaque = p;
	ret = vun_create(&vcfg, &p->vun);
	if (ret)
		goto err;
	p->resume_fd = efd_create();
	p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (p->resume_fd < 0 || p->timer_fd < 0) {
		ret = p->resume_fd < 0 ? p->resume_fd : -errno;
		goto err;
	}
	ret = evloop_add(cfg->loop, vun_rx_fd(p->vun), EPOLLIN, vp_rx_cb, p);
	if (ret)
		goto err;
	p->rx_watched = true;
	ret = evloop_add(cfg->loop, p->resume_fd, EPOLLIN, vp_resume_cb, p);
	if (ret)
		goto err;
	p->resume_watched = true;
	ret = evloop_add(cfg->loop, p->timer_fd, EPOLLIN, vp_timer_cb, p);
	if (ret)
		goto err;
	p->timer_watched = true;
	if (cfg->server) {
		ret = evloop_add(cfg->loop, vhost_user_listen_fd(vun_vhost_user(p->vun)), EPOLLIN,
				 vp_listen_cb, p);
		if (ret)
			goto err;
		p->listen_watched = true;
	}
	if (vun_connect(p->vun, 0) != 0) {
		log_warn("vhost-user port %s: no backend yet; link down, waiting", p->path);
		if (!cfg->server)
			vp_arm_timer(p, p->backoff_ms);
	}
	*out = p;
	return 0;
err:
	vun_port_destroy(p);
	return ret;
}

void vun_port_destroy(struct vun_port *p)
{
	if (!p)
		return;
	p->destroying = true;
	vp_unwatch_sock(p);
	if (p->listen_watched)
		evloop_del(p->cfg.loop, vhost_user_listen_fd(vun_vhost_user(p->vun)));
	if (p->rx_watched)
		evloop_del(p->cfg.loop, vun_rx_fd(p->vun));
	if (p->resume_watched)
		evloop_del(p->cfg.loop, p->resume_fd);
	if (p->timer_watched)
		evloop_del(p->cfg.loop, p->timer_fd);
	vun_destroy(p->vun);
	if (p->resume_fd >= 0)
		close(p->resume_fd);
	if (p->timer_fd >= 0)
		close(p->timer_fd);
	pthread_mutex_destroy(&p->tx_lock);
	free(p->path);
	free(p);
}
