// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-switch ports: vhost-user sockets (DPDK vhost library) and ethdevs by devargs. Control path
 * only; the data path is pmd.c. Peers are untrusted: nothing a vhost-user frontend does reaches
 * anything but its own port's state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "log.h"
#include "sandbox.h"
#include "sw.h"

struct sw *sw_global;

/* Offloads we do not implement; frames must arrive complete (virtio 1.2 s5.1.3). */
#define VIRTIO_F_CSUM_ALL                                                                          \
	((1ull << 0) | (1ull << 1) | (1ull << 7) | (1ull << 8) | (1ull << 9) | (1ull << 10) |      \
	 (1ull << 11) | (1ull << 12) | (1ull << 13) | (1ull << 14))

struct sw_port *sw_port_find(struct sw *sw, const char *name)
{
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (sw->ports[i] && !strcmp(sw->ports[i]->name, name))
			return sw->ports[i];
	return NULL;
}

static struct sw_port *port_by_path(struct sw *sw, const char *path)
{
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (sw->ports[i] && sw->ports[i]->type == SW_PORT_VHOST &&
		    !strcmp(sw->ports[i]->path, path))
			return sw->ports[i];
	return NULL;
}

static struct sw_port *port_by_vid(struct sw *sw, int vid)
{
	for (unsigned i = 0; i < SW_MAX_PORTS; i++)
		if (sw->ports[i] && sw->ports[i]->type == SW_PORT_VHOST &&
		    __atomic_load_n(&sw->ports[i]->vid, __ATOMIC_RELAXED) == vid)
			return sw->ports[i];
	return NULL;
}

bool sw_port_link_up(const struct sw_port *port)
{
	struct rte_eth_link link;

	if (port->type == SW_PORT_VHOST)
		return __atomic_load_n(&port->vid, __ATOMIC_RELAXED) >= 0;
	if (!port->eth_started || rte_eth_link_get_nowait(port->eth_port, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_UP;
}

void sw_port_stats_read(const struct sw_port *port, struct sw_port_stats *out)
{
	uint64_t *o = (uint64_t *)out;
	const uint64_t *b = (const uint64_t *)&port->base;

	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; k < SW_MAX_PMDS; k++) {
		const uint64_t *s = (const uint64_t *)&port->stats[k];

		for (unsigned f = 0; f < SW_STATS_NFIELDS; f++)
			o[f] += __atomic_load_n(&s[f], __ATOMIC_RELAXED);
	}
	for (unsigned f = 0; f < SW_STATS_NFIELDS; f++)
		o[f] -= b[f];
}

void sw_port_stats_clear(struct sw_port *port)
{
	struct sw_port_stats cur;

	/* PMDs own the counters; clearing moves the baseline instead of writing them. */
	memset(&port->base, 0, sizeof(port->base));
	sw_port_stats_read(port, &cur);
	port->base = cur;
}

/* ---- vhost-user callbacks (vhost event thread) ---- */

static int vh_new_device(int vid)
{
	struct sw *sw = sw_global;
	char path[SW_PATH_MAX + 1];
	struct sw_port *p;
	int nvr;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return -1;
	pthread_mutex_lock(&sw->lock);
	p = port_by_path(sw, path);
	if (!p) {
		pthread_mutex_unlock(&sw->lock);
		log_rl(LOGL_WARN, "vhost device %d on unknown socket %s refused", vid, path);
		return -1;
	}
	/* We poll; kicks from the frontend would only cost it syscalls. */
	nvr = rte_vhost_get_vring_num(vid);
	for (int q = 0; q < nvr; q++)
		if (rte_vhost_enable_guest_notification(vid, (uint16_t)q, 0) < 0)
			log_debug("port %s: vring %d: notifications stay on", p->name, q);
	p->connects++;
	__atomic_store_n(&p->vid, vid, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&sw->lock);
	log_rl(LOGL_INFO, "port %s: vhost-user peer ready (vid %d, %d vrings)", p->name, vid, nvr);
	return 0;
}

static void vh_destroy_device(int vid)
{
	struct sw *sw = sw_global;
	struct sw_port *p;

	pthread_mutex_lock(&sw->lock);
	p = port_by_vid(sw, vid);
	if (p) {
		__atomic_store_n(&p->vid, -1, __ATOMIC_RELEASE);
		p->disconnects++;
	}
	/* The vhost library frees the device when we return: no PMD may still be inside a burst
	 * call for it, so wait for a quiescent point of every PMD. */
	sw_pmd_quiesce(sw);
	pthread_mutex_unlock(&sw->lock);
	if (p)
		log_rl(LOGL_INFO, "port %s: vhost-user peer gone (vid %d)", p->name, vid);
}

/* Runs with every vring lock of the device held (DPDK 22.11 vhost_user_msg_handler): no sw->lock
 * here, only the per-vid bitmap the PMDs read. */
static int vh_vring_state_changed(int vid, uint16_t queue_id, int enable)
{
	struct sw *sw = sw_global;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE || queue_id >= 64)
		return 0;	/* beyond SW_MAX_QUEUES pairs: never polled */
	if (enable)
		__atomic_fetch_or(&sw->vid_vrings[vid], 1ull << queue_id, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&sw->vid_vrings[vid], ~(1ull << queue_id), __ATOMIC_RELEASE);
	return 0;
}

/* A vid is reused by the next connection: forget its vrings. */
static int vh_new_connection(int vid)
{
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE)
		__atomic_store_n(&sw_global->vid_vrings[vid], 0, __ATOMIC_RELEASE);
	return 0;
}

static void vh_destroy_connection(int vid)
{
	(void)vh_new_connection(vid);
}

const struct rte_vhost_device_ops sw_vhost_ops = {
	.new_device = vh_new_device,
	.destroy_device = vh_destroy_device,
	.vring_state_changed = vh_vring_state_changed,
	.new_connection = vh_new_connection,
	.destroy_connection = vh_destroy_connection,
};

/* ---- port creation ---- */

static int vhost_start(struct sw *sw, struct sw_port *p, char *err, size_t errlen)
{
	uint64_t flags = p->client ? RTE_VHOST_USER_CLIENT : 0;
	int r;

	(void)sw;
	if (!p->client)
		unlink(p->path);	/* a stale socket from an earlier run; ours is unique by path */
	r = rte_vhost_driver_register(p->path, flags);
	if (r) {
		snprintf(err, errlen, "path '%s': vhost-user socket registration failed", p->path);
		return -EIO;
	}
	p->registered = true;
	if (rte_vhost_driver_disable_features(p->path, VIRTIO_F_CSUM_ALL) ||
	    rte_vhost_driver_callback_register(p->path, &sw_vhost_ops)) {
		snprintf(err, errlen, "path '%s': vhost-user setup failed", p->path);
		return -EIO;
	}
	return 0;
}

static int ethdev_start(struct sw *sw, struct sw_port *p, char *err, size_t errlen)
{
	char devname[SW_DEVARGS_MAX];
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nrx, ntx, nrxd = 1024, ntxd = 1024;
	int r;

	/* Under the seccomp filter only vdevs that need no host access (sandbox.h). */
	r = sw_sandbox_hotplug_check(p->devargs, err, errlen);
	if (r)
		return r;
	snprintf(devname, sizeof(devname), "%s", p->devargs);
	devname[strcspn(devname, ",")] = 0;
	if (rte_eth_dev_get_port_by_name(devname, &p->eth_port) == 0) {
		snprintf(err, errlen, "devargs '%s': device %s already in use", p->devargs, devname);
		return -EEXIST;
	}
	r = rte_dev_probe(p->devargs);
	if (r < 0) {
		snprintf(err, errlen, "devargs '%s': probe failed (%s)", p->devargs, strerror(-r));
		return r;
	}
	if (rte_eth_dev_get_port_by_name(devname, &p->eth_port) != 0) {
		snprintf(err, errlen, "devargs '%s': no ethdev named %s after probe", p->devargs,
			 devname);
		rte_eal_hotplug_remove("vdev", devname);
		return -ENODEV;
	}
	r = rte_eth_dev_info_get(p->eth_port, &info);
	if (r)
		goto fail;
	nrx = (uint16_t)RTE_MIN(p->queues, info.max_rx_queues);
	ntx = (uint16_t)RTE_MIN(sw->npmds, info.max_tx_queues);
	if (nrx == 0 || ntx == 0) {
		r = -ENOTSUP;
		goto fail;
	}
	p->queues = nrx;
	p->eth_txqs = ntx;
	memset(&conf, 0, sizeof(conf));
	r = rte_eth_dev_configure(p->eth_port, nrx, ntx, &conf);
	if (r && ntx != nrx) {
		/* Some PMDs (net_tap) want as many tx as rx queues: share tx queues among PMDs. */
		ntx = nrx;
		p->eth_txqs = ntx;
		r = rte_eth_dev_configure(p->eth_port, nrx, ntx, &conf);
	}
	if (r)
		goto fail;
	r = rte_eth_dev_adjust_nb_rx_tx_desc(p->eth_port, &nrxd, &ntxd);
	if (r)
		goto fail;
	for (uint16_t q = 0; q < nrx && !r; q++)
		r = rte_eth_rx_queue_setup(p->eth_port, q, nrxd, (unsigned)rte_eth_dev_socket_id(p->eth_port),
					   NULL, sw->pool);
	for (uint16_t q = 0; q < ntx && !r; q++)
		r = rte_eth_tx_queue_setup(p->eth_port, q, ntxd, (unsigned)rte_eth_dev_socket_id(p->eth_port),
					   NULL);
	if (r)
		goto fail;
	r = rte_eth_dev_start(p->eth_port);
	if (r)
		goto fail;
	p->eth_started = true;
	if (rte_eth_promiscuous_enable(p->eth_port) != 0)
		log_warn("port %s: promiscuous mode not supported", p->name);
	return 0;
fail:
	snprintf(err, errlen, "devargs '%s': ethdev setup failed (%s)", p->devargs, strerror(r < 0 ? -r : r));
	rte_eth_dev_close(p->eth_port);
	rte_eal_hotplug_remove("vdev", devname);
	return r < 0 ? r : -EIO;
}

static void ethdev_stop(struct sw_port *p)
{
	char devname[SW_DEVARGS_MAX];

	snprintf(devname, sizeof(devname), "%s", p->devargs);
	devname[strcspn(devname, ",")] = 0;
	if (p->eth_started && rte_eth_dev_stop(p->eth_port) != 0)
		log_warn("port %s: stop failed", p->name);
	p->eth_started = false;
	if (rte_eth_dev_close(p->eth_port) != 0)
		log_warn("port %s: close failed", p->name);
	if (rte_eal_hotplug_remove("vdev", devname) != 0)
		log_warn("port %s: device %s not removed", p->name, devname);
}

static void vhost_stop(struct sw *sw, struct sw_port *p)
{
	if (!p->registered)
		return;
	/* Unregistering may wait for a callback that needs sw->lock: drop it meanwhile. The port
	 * is no longer in sw->ports, so callbacks find nothing. */
	pthread_mutex_unlock(&sw->lock);
	for (int i = 0; i < 1000; i++) {
		if (rte_vhost_driver_unregister(p->path) == 0)
			break;
		usleep(1000);
	}
	pthread_mutex_lock(&sw->lock);
	p->registered = false;
	if (!p->client)
		unlink(p->path);
}

/* May this process create and remove files next to @path? Not after --user in a root-owned
 * directory: the usual reason a server socket cannot be created at run time. */
static bool sock_dir_writable(const char *path)
{
	char dir[SW_PATH_MAX + 1];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return access(".", W_OK | X_OK) == 0;
	slash[slash == dir] = '\0';
	return access(dir, W_OK | X_OK) == 0;
}

int sw_port_add(struct sw *sw, const struct sw_port_params *pa, char *err, size_t errlen)
{
	struct sw_port *p;
	unsigned id;
	int r;

	if (sw_port_find(sw, pa->name)) {
		snprintf(err, errlen, "name '%s': port exists", pa->name);
		return -EEXIST;
	}
	if (pa->type == SW_PORT_VHOST && port_by_path(sw, pa->path)) {
		snprintf(err, errlen, "path '%s': used by another port", pa->path);
		return -EEXIST;
	}
	for (id = 0; id < SW_MAX_PORTS && sw->ports[id]; id++)
		;
	if (id == SW_MAX_PORTS) {
		snprintf(err, errlen, "name '%s': too many ports (max %d)", pa->name, SW_MAX_PORTS);
		return -ENOSPC;
	}
	p = rte_zmalloc("sw_port", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(p->name, sizeof(p->name), "%s", pa->name);
	p->id = (uint16_t)id;
	p->type = pa->type;
	p->queues = pa->queues;
	p->client = pa->client;
	p->vid = -1;
	p->vlan = pa->vlan;
	for (unsigned k = 0; k < SW_MAX_PMDS; k++)
		rte_spinlock_init(&p->txq_lock[k]);
	if (pa->type == SW_PORT_VHOST) {
		snprintf(p->path, sizeof(p->path), "%s", pa->path);
		r = vhost_start(sw, p, err, errlen);
	} else {
		snprintf(p->devargs, sizeof(p->devargs), "%s", pa->devargs);
		r = ethdev_start(sw, p, err, errlen);
	}
	if (r)
		goto fail;
	/* Stale entries for a recycled id would misdirect frames. */
	fdb_flush_port(sw->fdb, p->id);
	sw->ports[id] = p;
	r = sw_pmd_reload(sw);
	if (r) {
		sw->ports[id] = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (pa->type == SW_PORT_VHOST && rte_vhost_driver_start(p->path) != 0) {
		snprintf(err, errlen, "path '%s': cannot %s vhost-user socket%s", p->path,
			 p->client ? "connect" : "listen on",
			 !p->client && !sock_dir_writable(p->path) ?
				 " (this process may not write to its directory)" : "");
		sw->ports[id] = NULL;
		if (sw_pmd_reload(sw))
			sw_pmd_quiesce(sw);
		r = -EIO;
		goto fail;
	}
	if (pa->type == SW_PORT_VHOST && !p->client && sw->cfg.socket_group &&
	    (chown(p->path, (uid_t)-1, sw->cfg.socket_gid) < 0 || chmod(p->path, 0660) < 0)) {
		/* A frontend in that group (nfv-vmm run as another user) must be able to connect. */
		r = -errno;
		snprintf(err, errlen, "path '%s': cannot give the socket to group %u, mode 0660 (%s)",
			 p->path, sw->cfg.socket_gid, strerror(-r));
		sw->ports[id] = NULL;
		if (sw_pmd_reload(sw))
			sw_pmd_quiesce(sw);
		goto fail;
	}
	log_info("port %s added (id %u, %s)", p->name, id,
		 p->type == SW_PORT_VHOST ? p->path : p->devargs);
	return 0;
fail:
	if (p->type == SW_PORT_VHOST)
		vhost_stop(sw, p);
	rte_free(p);
	return r;
}

int sw_port_del(struct sw *sw, struct sw_port *p)
{
	int r;

	sw->ports[p->id] = NULL;
	r = sw_pmd_reload(sw);
	if (r) {
		sw->ports[p->id] = p;
		return r;
	}
	/* No PMD references the port now. */
	if (p->type == SW_PORT_VHOST)
		vhost_stop(sw, p);
	else
		ethdev_stop(p);
	fdb_flush_port(sw->fdb, p->id);
	log_info("port %s deleted", p->name);
	rte_free(p);
	return 0;
}
