// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device table of nfv-vmm (see devices.h for the --device syntax). Each device type has one
 * create and one destroy function; nothing registers itself.
 */
#include "devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "blk.h"
#include "dp8390.h"
#include "json.h"
#include "kvm_irq.h"
#include "log.h"
#include "ne2k_pci.h"
#include "netdev.h"
#include "pci.h"
#include "pci_testdev.h"
#include "tap.h"
#include "util.h"
#include "vhost_user_netdev.h"
#include "vun_port.h"
#include "virtio_net.h"
#include "vfio_pci.h"
#include "virtio_pci.h"
#include "vm_priv.h"

#define DEV_MAX_KV 16

struct kv {
	char *key, *val;
};

struct devspec {
	char buf[VM_DEVICE_SPEC_MAX];
	const char *type;
	struct kv kv[DEV_MAX_KV];
	unsigned nkv;
	bool used[DEV_MAX_KV];
};

struct vm_dev;

struct dev_type {
	const char *name;
	const char *const *keys; /* accepted keys besides slot */
	int (*create)(struct vm *vm, struct vm_dev *d, struct devspec *s);
	void (*destroy)(struct vm_dev *d);
	void (*info)(struct vm_dev *d, struct jbuf *b);
};

/* An NE2000's backend: tap or a vhost-user port with rings the VMM owns (net/virtio/vun_port.h). */
struct ne2k_state {
	struct ne2k_pci *nic;
	struct tap *tap;
	struct vun_port *port;
};

struct vm_dev {
	const struct dev_type *type;
	unsigned slot;
	char name[32];
	struct vm *vm;
	struct virtio_pci *vp;
	struct virtio_net *vn;
	struct blk *blk;
	struct pci_testdev *td;
	int td_fd[PCI_TESTDEV_VECTORS]; /* eventfds bound to the test device's MSI-X vectors */
	struct vfio_pci *vfio;
	struct ne2k_state ne;
};

/* ---- spec parsing ---- */

static const char *spec_get(struct devspec *s, const char *key)
{
	for (unsigned i = 0; i < s->nkv; i++) {
		if (!strcmp(s->kv[i].key, key)) {
			s->used[i] = true;
			return s->kv[i].val;
		}
	}
	return NULL;
}

static int spec_parse(const char *spec, struct devspec *s, char *why, size_t whylen)
{
	char *save = NULL, *tok;

	memset(s, 0, sizeof(*s));
	if (strlen(spec) >= sizeof(s->buf)) {
		snprintf(why, whylen, "device spec longer than %d bytes", VM_DEVICE_SPEC_MAX - 1);
		return -EINVAL;
	}
	strcpy(s->buf, spec);
	s->type = strtok_r(s->buf, ",", &save);
	if (!s->type) {
		snprintf(why, whylen, "empty device spec");
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok) {
			snprintf(why, whylen, "'%s': expected key=value", tok);
			return -EINVAL;
		}
		if (s->nkv == DEV_MAX_KV) {
			snprintf(why, whylen, "more than %d options", DEV_MAX_KV);
			return -EINVAL;
		}
		*eq = '\0';
		for (unsigned i = 0; i < s->nkv; i++) {
			if (!strcmp(s->kv[i].key, tok)) {
				snprintf(why, whylen, "option '%s' given twice", tok);
				return -EINVAL;
			}
		}
		s->kv[s->nkv].key = tok;
		s->kv[s->nkv].val = eq + 1;
		s->nkv++;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return -EINVAL; /* multicast bit: not a station address */
	return 0;
}

/* 52:54:00 + three bytes derived from the VM name and slot, stable across runs. */
static void default_mac(const struct vm *vm, unsigned slot, uint8_t mac[6])
{
	uint32_t h = 2166136261u;

	for (const char *p = vm->cfg.name ? vm->cfg.name : "guest"; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ slot) * 16777619u;
	mac[0] = 0x52, mac[1] = 0x54, mac[2] = 0x00;
	mac[3] = (uint8_t)(h >> 16), mac[4] = (uint8_t)(h >> 8), mac[5] = (uint8_t)h;
}

static int spec_uint(struct devspec *s, const char *key, unsigned min, unsigned max, unsigned *out)
{
	const char *v = spec_get(s, key);
	uint64_t n;

	if (!v)
		return 0;
	if (parse_u64(v, &n) || n < min || n > max) {
		log_err("--device %s: %s=%s is not a number from %u to %u", s->type, key, v, min, max);
		return -EINVAL;
	}
	*out = (unsigned)n;
	return 0;
}

static int spec_bool(struct devspec *s, const char *key, bool *out)
{
	const char *v = spec_get(s, key);

	if (!v)
		return 0;
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "1") || !strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "0") || !strcmp(v, "false"))
		*out = false;
	else {
		log_err("--device %s: %s=%s is not on/off", s->type, key, v);
		return -EINVAL;
	}
	return 0;
}

/* ---- pci-testdev ---- */

/*
 * Besides its own FIRE register, each MSI-X vector of the test device gets an eventfd bound as a
 * KVM irqfd (through pci_msi_set_vector_fd): the path a vhost-user backend or VFIO takes, which
 * devices_fire() (control socket "irq-fire") exercises from the host side.
 */
static int testdev_create_fn(struct vm *vm, struct vm_dev *d, struct devspec *s)
{
	int ret;

	(void)s;
	for (unsigned v = 0; v < PCI_TESTDEV_VECTORS; v++)
		d->td_fd[v] = -1;
	ret = pci_testdev_create(vm->pci, d->slot, &d->td);
	if (ret)
		return ret;
	for (unsigned v = 0; v < PCI_TESTDEV_VECTORS; v++) {
		d->td_fd[v] = efd_create();
		if (d->td_fd[v] < 0)
			return d->td_fd[v];
		ret = pci_msi_set_vector_fd(pci_testdev_pci(d->td), true, v, d->td_fd[v]);
		if (ret) {
			log_err("%s: binding an eventfd to MSI-X vector %u: %s", d->name, v, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void testdev_destroy_fn(struct vm_dev *d)
{
	pci_testdev_destroy(d->td);
	for (unsigned v = 0; v < PCI_TESTDEV_VECTORS; v++)
		if (d->td_fd[v] >= 0)
			close(d->td_fd[v]);
}

int devices_fire(struct vm *vm, unsigned slot, unsigned vector)
{
	for (unsigned i = 0; i < vm->nr_devs; i++) {
		struct vm_dev *d = vm->devs[i];

		if (d->slot != slot)
			continue;
		if (!d->td)
			return -ENOTSUP;
		if (vector >= PCI_TESTDEV_VECTORS)
			return -EINVAL;
		return efd_signal(d->td_fd[vector]);
	}
	return -ENODEV;
}

/* ---- virtio-net ---- */

static void vnet_config_changed(void *opaque)
{
	struct vm_dev *d = opaque;

	if (d->vp)
		virtio_pci_config_changed(d->vp);
}

/* The backend's call fd for data queue @q: the irqfd of the queue's MSI-X vector, so backend
 * interrupts reach the guest without passing through nfv-vmm (-1: the device relays them). */
static int vnet_queue_call_fd(void *opaque, unsigned q)
{
	struct vm_dev *d = opaque;

	return d->vp ? virtio_pci_queue_irqfd(d->vp, q) : -1;
}

static int vnet_create_fn(struct vm *vm, struct vm_dev *d, struct devspec *s)
{
	struct virtio_net_cfg nc = {
		.name = d->name,
		.gm = &vm->gm,
		.loop = vm->loop,
		.config_changed = vnet_config_changed,
		.queue_call_fd = vnet_queue_call_fd,
		.opaque = d,
	};
	struct virtio_pci_cfg pc = { .name = d->name, .ops = &virtio_net_dev_ops, .gm = &vm->gm, .kvm_irq = vm->kirq };
	const char *mode = spec_get(s, "mode"), *mac = spec_get(s, "mac");
	unsigned pairs = 1, qsize = 256, mtu = 0;
	int ret;

	nc.socket_path = spec_get(s, "socket");
	if (!nc.socket_path) {
		log_err("--device virtio-net: socket=PATH (the vhost-user socket) is required");
		return -EINVAL;
	}
	if (mode && strcmp(mode, "client") && strcmp(mode, "server")) {
		log_err("--device virtio-net: mode=%s is not client or server", mode);
		return -EINVAL;
	}
	nc.server = mode && !strcmp(mode, "server");
	if (mac) {
		if (parse_mac(mac, nc.mac)) {
			log_err("--device virtio-net: mac=%s is not a unicast MAC address", mac);
			return -EINVAL;
		}
	} else {
		default_mac(vm, d->slot, nc.mac);
	}
	if (spec_uint(s, "queues", 1, 8, &pairs) || spec_uint(s, "queue_size", 64, 32768, &qsize) ||
	    spec_uint(s, "mtu", 68, 65535, &mtu))
		return -EINVAL;
	if (qsize & (qsize - 1)) {
		log_err("--device virtio-net: queue_size=%u is not a power of two", qsize);
		return -EINVAL;
	}
	nc.max_queue_pairs = (uint16_t)pairs;
	nc.queue_size = (uint16_t)qsize;
	nc.mtu = (uint16_t)mtu;
	ret = virtio_net_create(&nc, &d->vn);
	if (ret) {
		log_err("%s: virtio-net on %s: %s", d->name, nc.socket_path, strerror(-ret));
		return ret;
	}
	pc.opaque = d->vn;
	virtio_net_dev_info(d->vn, &pc.info);
	ret = virtio_pci_create(&pc, vm->pci, d->slot, &d->vp);
	if (ret) {
		virtio_net_destroy(d->vn);
		d->vn = NULL;
	}
	return ret;
}

static void vnet_destroy_fn(struct vm_dev *d)
{
	virtio_pci_destroy(d->vp);
	virtio_net_destroy(d->vn);
}

static void vnet_info_fn(struct vm_dev *d, struct jbuf *b)
{
	struct virtio_net_stats st;

	virtio_net_get_stats(d->vn, &st);
	jbuf_printf(b, ",\"link\":\"%s\",\"link_down_events\":%llu,\"reconnect_attempts\":%llu",
		    virtio_net_link_up(d->vn) ? "up" : "down", (unsigned long long)st.link_down,
		    (unsigned long long)st.reconnect_attempts);
}

/* ---- virtio-blk ---- */

static int vblk_create_fn(struct vm *vm, struct vm_dev *d, struct devspec *s)
{
	struct blk_cfg bc = { .name = d->name, .serial = spec_get(s, "serial") };
	struct virtio_pci_cfg pc = { .name = d->name, .ops = blk_virtio_ops(), .gm = &vm->gm, .kvm_irq = vm->kirq };
	const char *cache = spec_get(s, "cache"), *io = spec_get(s, "io");
	unsigned q = 1, qsize = 256;
	int ret;

	bc.path = spec_get(s, "path");
	if (!bc.path) {
		log_err("--device virtio-blk: path=FILE is required");
		return -EINVAL;
	}
	if (spec_bool(s, "readonly", &bc.readonly) || spec_uint(s, "queues", 1, 64, &q) ||
	    spec_uint(s, "queue_size", 2, 1024, &qsize))
		return -EINVAL;
	if (cache && blk_cache_parse(cache, &bc.cache)) {
		log_err("--device virtio-blk: cache=%s is not none, writeback or directsync", cache);
		return -EINVAL;
	}
	if (io && blk_io_parse(io, &bc.io)) {
		log_err("--device virtio-blk: io=%s is not io_uring, native or threads", io);
		return -EINVAL;
	}
	bc.num_queues = q;
	bc.queue_size = qsize;
	ret = blk_create(&bc, &vm->gm, &d->blk);
	if (ret) {
		log_err("%s: %s: %s", d->name, bc.path, strerror(-ret));
		return ret;
	}
	pc.opaque = d->blk;
	blk_virtio_info(d->blk, &pc.info);
	ret = virtio_pci_create(&pc, vm->pci, d->slot, &d->vp);
	if (ret) {
		blk_destroy(d->blk);
		d->blk = NULL;
	}
	return ret;
}

static void vblk_destroy_fn(struct vm_dev *d)
{
	virtio_pci_destroy(d->vp);
	blk_destroy(d->blk);
}

/* ---- ne2k-pci ---- */

static int ne2k_create_fn(struct vm *vm, struct vm_dev *d, struct devspec *s)
{
	struct ne2k_pci_cfg nc = { .name = d->name, .slot = d->slot };
	const char *mac = spec_get(s, "mac"), *backend = spec_get(s, "backend");
	struct netdev_frontend fe;
	int ret;

	if (mac && parse_mac(mac, nc.mac)) {
		log_err("--device ne2k-pci: mac=%s is not a unicast MAC address", mac);
		return -EINVAL;
	}
	if (!mac)
		default_mac(vm, d->slot, nc.mac);
	if (!backend) {
		log_err("--device ne2k-pci: backend=tap:IFNAME or backend=vhost-user:PATH[:server] is required");
		return -EINVAL;
	}
	if (!strncmp(backend, "tap:", 4)) {
		struct tap_cfg tc = { .ifname = backend + 4, .fd = -1, .loop = vm->loop };

		ret = tap_create(&tc, &d->ne.tap);
		if (ret) {
			log_err("%s: tap %s: %s", d->name, backend + 4, strerror(-ret));
			return ret;
		}
		tap_backend(d->ne.tap, &nc.backend);
	} else if (!strncmp(backend, "vhost-user:", 11)) {
		char path[256];
		struct vun_port_cfg vc = { .path = path, .loop = vm->loop };
		char *colon;

		snprintf(path, sizeof(path), "%s", backend + 11);
		colon = strrchr(path, ':');
		if (colon && !strcmp(colon, ":server")) {
			*colon = '\0';
			vc.server = true;
		}
		/* vun_port: thread-safe send from vCPU threads, receive on the loop, reconnect forever. */
		ret = vun_port_create(&vc, &d->ne.port);
		if (ret) {
			log_err("%s: vhost-user %s: %s", d->name, path, strerror(-ret));
			return ret;
		}
		vun_port_backend(d->ne.port, &nc.backend);
	} else {
		log_err("--device ne2k-pci: backend=%s is not tap:IFNAME or vhost-user:PATH[:server]", backend);
		return -EINVAL;
	}
	ret = ne2k_pci_create(vm->pci, &nc, &d->ne.nic);
	if (ret)
		return ret;
	dp8390_frontend(ne2k_pci_chip(d->ne.nic), &fe);
	if (d->ne.tap)
		tap_attach(d->ne.tap, &fe);
	if (d->ne.port)
		vun_port_attach(d->ne.port, &fe);
	return 0;
}

static void ne2k_destroy_fn(struct vm_dev *d)
{
	/* The backend goes first: nothing may deliver into the chip once it is gone. */
	vun_port_destroy(d->ne.port);
	tap_destroy(d->ne.tap);
	ne2k_pci_destroy(d->ne.nic);
}

static void ne2k_info_fn(struct vm_dev *d, struct jbuf *b)
{
	if (d->ne.port) {
		jbuf_printf(b, ",\"backend\":\"vhost-user\",\"link\":\"%s\"", vun_port_link_up(d->ne.port) ? "up" : "down");
	} else {
		jbuf_printf(b, ",\"backend\":\"tap\"");
	}
}

/* ---- vfio-pci: a host device (an SR-IOV VF) assigned to the guest ---- */

/*
 * BAR pieces the device can serve directly become KVM memslots, so the guest's register accesses do
 * not exit (the MSI-X table and PBA pages stay trapped and emulated). Slots from VM_BAR_SLOT_BASE up,
 * reused when the guest moves or unmaps a BAR.
 */
static int vfio_map_bar(void *opaque, uint64_t gpa, void *hva, uint64_t size, bool map)
{
	struct vm *vm = opaque;
	int free_slot = -1, ret;

	pthread_mutex_lock(&vm->bar_slot_lock);
	for (unsigned i = 0; i < VM_BAR_SLOTS; i++) {
		if (map && !vm->bar_slot[i].size && free_slot < 0)
			free_slot = (int)i;
		if (!map && vm->bar_slot[i].size && vm->bar_slot[i].gpa == gpa && vm->bar_slot[i].hva == hva) {
			ret = kvm_set_memslot(vm->kvm, VM_BAR_SLOT_BASE + i, 0, gpa, 0, hva);
			if (!ret)
				vm->bar_slot[i].size = 0;
			pthread_mutex_unlock(&vm->bar_slot_lock);
			return ret;
		}
	}
	if (!map || free_slot < 0) {
		pthread_mutex_unlock(&vm->bar_slot_lock);
		return map ? -ENOSPC : -ENOENT;
	}
	ret = kvm_set_memslot(vm->kvm, VM_BAR_SLOT_BASE + (unsigned)free_slot, 0, gpa, size, hva);
	if (!ret)
		vm->bar_slot[free_slot] = (struct vm_bar_slot){ .gpa = gpa, .hva = hva, .size = size };
	pthread_mutex_unlock(&vm->bar_slot_lock);
	return ret;
}

static int vfio_create_fn(struct vm *vm, struct vm_dev *d, struct devspec *s)
{
	struct vfio_dev_cfg dc = { .host = spec_get(s, "host"), .gm = &vm->gm };
	struct vfio_pci_cfg pc = { .host = vm->pci, .slot = d->slot, .map_bar = vfio_map_bar, .map_opaque = vm };
	int ret;

	if (!dc.host || strlen(dc.host) >= 16) {
		log_err("--device vfio-pci: host=dddd:bb:dd.f (a device bound to vfio-pci) is required");
		return -EINVAL;
	}
	ret = vfio_dev_open(&dc, &pc.dev); /* DMA-maps guest RAM, resets the device; logs what failed */
	if (ret)
		return ret;
	return vfio_pci_create(&pc, &d->vfio); /* owns pc.dev from here, also on failure */
}

static void vfio_destroy_fn(struct vm_dev *d)
{
	vfio_pci_destroy(d->vfio);
}

/* ---- the table ---- */

static const char *const vnet_keys[] = { "socket", "mode", "mac", "queues", "queue_size", "mtu", NULL };
static const char *const vblk_keys[] = { "path", "readonly", "serial", "queues", "queue_size", "cache", "io", NULL };
static const char *const ne2k_keys[] = { "mac", "backend", NULL };
static const char *const vfio_keys[] = { "host", NULL };
static const char *const no_keys[] = { NULL };

static const struct dev_type dev_types[] = {
	{ "virtio-net", vnet_keys, vnet_create_fn, vnet_destroy_fn, vnet_info_fn },
	{ "virtio-blk", vblk_keys, vblk_create_fn, vblk_destroy_fn, NULL },
	{ "ne2k-pci", ne2k_keys, ne2k_create_fn, ne2k_destroy_fn, ne2k_info_fn },
	{ "vfio-pci", vfio_keys, vfio_create_fn, vfio_destroy_fn, NULL },
	{ "pci-testdev", no_keys, testdev_create_fn, testdev_destroy_fn, NULL },
};

static const struct dev_type *dev_type_find(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(dev_types); i++)
		if (!strcmp(dev_types[i].name, name))
			return &dev_types[i];
	return NULL;
}

static bool key_known(const struct dev_type *t, const char *key)
{
	if (!strcmp(key, "slot"))
		return true;
	for (const char *const *k = t->keys; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

int devices_check_spec(const char *spec, char *why, size_t whylen)
{
	struct devspec s;
	const struct dev_type *t;
	int ret = spec_parse(spec, &s, why, whylen);

	if (ret)
		return ret;
	t = dev_type_find(s.type);
	if (!t) {
		snprintf(why, whylen, "unknown device type '%s' (virtio-net, virtio-blk, ne2k-pci, vfio-pci, pci-testdev)", s.type);
		return -EINVAL;
	}
	for (unsigned i = 0; i < s.nkv; i++) {
		if (!key_known(t, s.kv[i].key)) {
			snprintf(why, whylen, "%s has no option '%s'", t->name, s.kv[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

static void devices_reset_request(void *opaque)
{
	log_info("guest requested a reset through 0xCF9");
	vm_request_reset(opaque);
}

int devices_create(struct vm *vm)
{
	struct pci_host_cfg hc = {
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.ecam_base = LAYOUT_PCI_ECAM_BASE,
		.irq_ops = &pci_kvm_irq_ops,
		.reset_request = devices_reset_request,
		.reset_opaque = vm,
	};
	struct pci_bar_windows win = {
		.io_base = 0xc000,
		.io_limit = 0x10000,
		.mem32_base = LAYOUT_PCI_MMIO32_BASE,
		.mem32_limit = LAYOUT_PCI_MMIO32_END,
		.mem64_base = vm->layout.pci_mmio64_base,
		.mem64_limit = vm->layout.pci_mmio64_base + VM_PCI_MMIO64_SIZE,
	};
	bool used[PCI_SLOTS] = { true }; /* slot 0: host bridge */
	int ret;

	if (!vm->kvm->irqchip) {
		if (vm->cfg.nr_devices) {
			log_err("PCI devices need KVM's in-kernel irqchip, which this host lacks");
			return -ENOTSUP;
		}
		return 0;
	}
	ret = kvm_irq_create(vm->kvm->vm_fd, &vm->kirq);
	if (ret) {
		log_err("KVM interrupt routing: %s", strerror(-ret));
		return ret;
	}
	hc.irq_opaque = vm->kirq;
	ret = pci_host_create(&hc, &vm->pci);
	if (ret) {
		log_err("PCI host bridge: %s", strerror(-ret));
		return ret;
	}
	for (unsigned i = 0; i < vm->cfg.nr_devices; i++) {
		struct devspec s;
		struct vm_dev *d;
		char why[160];
		const char *slot;
		unsigned sl = 0;

		ret = devices_check_spec(vm->cfg.devices[i].spec, why, sizeof(why));
		if (ret) {
			log_err("--device %s: %s", vm->cfg.devices[i].spec, why);
			return ret;
		}
		(void)spec_parse(vm->cfg.devices[i].spec, &s, why, sizeof(why));
		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		d->type = dev_type_find(s.type);
		d->vm = vm;
		slot = spec_get(&s, "slot");
		if (slot) {
			uint64_t v;

			if (parse_u64(slot, &v) || v < 1 || v >= PCI_SLOTS || used[v]) {
				log_err("--device %s: slot=%s is not a free PCI slot 1..31", s.type, slot);
				free(d);
				return -EINVAL;
			}
			sl = (unsigned)v;
		} else {
			for (sl = 1; sl < PCI_SLOTS && used[sl]; sl++)
				;
			if (sl == PCI_SLOTS) {
				log_err("--device %s: no free PCI slot", s.type);
				free(d);
				return -ENOSPC;
			}
		}
		used[sl] = true;
		d->slot = sl;
		snprintf(d->name, sizeof(d->name), "%s@%02x", s.type, sl);
		vm->devs[vm->nr_devs++] = d;
		ret = d->type->create(vm, d, &s);
		if (ret) {
			log_err("--device %s: %s", vm->cfg.devices[i].spec, strerror(-ret));
			vm->devs[--vm->nr_devs] = NULL;
			d->type->destroy(d);
			free(d);
			return ret;
		}
		log_info("PCI 00:%02x.0: %s", sl, d->name);
	}
	ret = pci_host_assign_bars(vm->pci, &win);
	if (ret)
		log_err("PCI: cannot place the devices' BARs: %s", strerror(-ret));
	return ret;
}

void devices_destroy(struct vm *vm)
{
	while (vm->nr_devs) {
		struct vm_dev *d = vm->devs[--vm->nr_devs];

		d->type->destroy(d);
		free(d);
		vm->devs[vm->nr_devs] = NULL;
	}
	pci_host_destroy(vm->pci);
	vm->pci = NULL;
	kvm_irq_destroy(vm->kirq);
	vm->kirq = NULL;
}

void devices_info(struct vm *vm, struct jbuf *b)
{
	jbuf_printf(b, "\"devices\":[");
	for (unsigned i = 0; i < vm->nr_devs; i++) {
		struct vm_dev *d = vm->devs[i];

		jbuf_printf(b, "%s{\"type\":\"%s\",\"slot\":%u,\"name\":", i ? "," : "", d->type->name, d->slot);
		jbuf_quote(b, d->name);
		if (d->type->info)
			d->type->info(d, b);
		jbuf_printf(b, "}");
	}
	jbuf_printf(b, "]");
}
