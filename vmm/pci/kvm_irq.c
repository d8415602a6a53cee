// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM interrupt plumbing: GSI routing table, irqfd, KVM_SIGNAL_MSI, KVM_IRQ_LINE, ioeventfd, and
 * the pci_irq_ops that tie MSI/MSI-X vectors of the PCI core to them. Documentation: Linux
 * Documentation/virt/kvm/api.rst (4.52 KVM_SET_GSI_ROUTING, 4.75 KVM_IRQFD, 4.59
 * KVM_IOEVENTFD, 4.71 KVM_SIGNAL_MSI, 4.25 KVM_IRQ_LINE).
 */
#include "kvm_irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "util.h"

#define KVM_IRQ_NR_PIC 16
#define KVM_IRQ_MAX_MSI 1024 /* MSI routes we hand out (GSI 24 .. 24 + 1023) */

struct kvm_irq_msi_route {
	bool used;
	uint64_t addr;
	uint32_t data;
};

struct kvm_irq_irqfd {
	int fd;
	unsigned gsi;
};

/* An eventfd-bound PCI vector managed by pci_kvm_irq_ops. */
struct kvm_irq_vec {
	struct pci_dev *dev; /* NULL: free entry */
	bool msix;
	unsigned vector;
	int fd;
	int gsi; /* -1: no route yet */
	bool attached;
};

struct kvm_irq {
	int vm_fd;
	pthread_mutex_t lock;
	unsigned max_msi;
	struct kvm_irq_msi_route *msi; /* index = gsi - KVM_IRQ_NR_LEGACY */
	struct kvm_irq_irqfd *irqfds;
	unsigned nr_irqfds, cap_irqfds;
	struct kvm_ioevent *ioevs;
	unsigned nr_ioevs, cap_ioevs;
	struct kvm_irq_vec *vecs;
	unsigned nr_vecs, cap_vecs;
	unsigned nr_routes;
};

/* Install the whole table: legacy pins then every used MSI route. Lock held. */
static int kvm_irq_commit(struct kvm_irq *ki)
{
	struct kvm_irq_routing *t;
	unsigned n = 0, max = KVM_IRQ_NR_LEGACY + KVM_IRQ_NR_PIC + ki->max_msi;
	int ret;

	t = calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return -ENOMEM;
	for (unsigned gsi = 0; gsi < KVM_IRQ_NR_LEGACY; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (gsi < KVM_IRQ_NR_PIC) {
			e = &t->entries[n++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip =
				gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		e = &t->entries[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi;
	}
	for (unsigned i = 0; i < ki->max_msi; i++) {
		struct kvm_irq_routing_entry *e;

		if (!ki->msi[i].used)
			continue;
		e = &t->entries[n++];
		e->gsi = KVM_IRQ_NR_LEGACY + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)ki->msi[i].addr;
		e->u.msi.address_hi = (uint32_t)(ki->msi[i].addr >> 32);
		e->u.msi.data = ki->msi[i].data;
	}
	t->nr = n;
	ret = ioctl(ki->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	if (ret)
		log_rl(LOGL_ERR, "kvm_irq: KVM_SET_GSI_ROUTING with %u entries: %s", n,
		       strerror(-ret));
	else
		ki->nr_routes = n;
	return ret;
}

int kvm_irq_create(int vm_fd, struct kvm_irq **out)
{
	struct kvm_irq *ki;
	int ret, max;

	ki = calloc(1, sizeof(*ki));
	if (!ki)
		return -ENOMEM;
	ki->vm_fd = vm_fd;
	/* KVM_CAP_IRQ_ROUTING answers with the most routing entries the VM accepts. */
	max = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	if (max <= KVM_IRQ_NR_LEGACY + KVM_IRQ_NR_PIC) {
		free(ki);
		log_err("kvm_irq: no GSI routing support (KVM_CAP_IRQ_ROUTING = %d)", max);
		return -ENOTSUP;
	}
	ki->max_msi = MIN((unsigned)max - KVM_IRQ_NR_LEGACY - KVM_IRQ_NR_PIC, KVM_IRQ_MAX_MSI);
	ki->msi = calloc(ki->max_msi, sizeof(*ki->msi));
	if (!ki->msi) {
		free(ki);
		return -ENOMEM;
	}
	pthread_mutex_init(&ki->lock, NULL);
	ret = kvm_irq_commit(ki);
	if (ret) {
		log_err("kvm_irq: cannot install the routing table (no in-kernel irqchip?): %s",
			strerror(-ret));
		kvm_irq_destroy(ki);
		return ret;
	}
	*out = ki;
	return 0;
}

static int kvm_irqfd_ioctl(struct kvm_irq *ki, int fd, unsigned gsi, int resample_fd, bool deassign)
{
	struct kvm_irqfd req = {.fd = (uint32_t)fd, .gsi = gsi};

	if (deassign) {
		req.flags = KVM_IRQFD_FLAG_DEASSIGN;
	} else if (resample_fd >= 0) {
		req.flags = KVM_IRQFD_FLAG_RESAMPLE;
		req.resamplefd = (uint32_t)resample_fd;
	}
	return ioctl(ki->vm_fd, KVM_IRQFD, &req) < 0 ? -errno : 0;
}

static int kvm_ioeventfd_ioctl(struct kvm_irq *ki, const struct kvm_ioevent *ev, bool deassign)
{
	struct kvm_ioeventfd req = {
		.addr = ev->addr,
		.len = ev->len,
		.fd = ev->fd,
	};

	if (ev->pio)
		req.flags |= KVM_IOEVENTFD_FLAG_PIO;
	if (ev->datamatch) {
		req.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
		req.datamatch = ev->data;
	}
	if (deassign)
		req.flags |= KVM_IOEVENTFD_FLAG_DEASSIGN;
	return ioctl(ki->vm_fd, KVM_IOEVENTFD, &req) < 0 ? -errno : 0;
}

void kvm_irq_destroy(struct kvm_irq *ki)
{
	bool had_msi = false;

	if (!ki)
		return;
	for (unsigned i = 0; i < ki->nr_irqfds; i++)
		if (kvm_irqfd_ioctl(ki, ki->irqfds[i].fd, ki->irqfds[i].gsi, -1, true) < 0)
			log_warn("kvm_irq: cannot deassign irqfd %d (GSI %u)", ki->irqfds[i].fd,
				 ki->irqfds[i].gsi);
	for (unsigned i = 0; i < ki->nr_ioevs; i++)
		if (kvm_ioeventfd_ioctl(ki, &ki->ioevs[i], true) < 0)
			log_warn("kvm_irq: cannot deassign ioeventfd %d", ki->ioevs[i].fd);
	for (unsigned i = 0; ki->msi && i < ki->max_msi; i++) {
		had_msi |= ki->msi[i].used;
		ki->msi[i].used = false;
	}
	if (had_msi && kvm_irq_commit(ki) < 0)
		log_warn("kvm_irq: cannot restore the legacy routing table");
	pthread_mutex_destroy(&ki->lock);
	free(ki->msi);
	free(ki->irqfds);
	free(ki->ioevs);
	free(ki->vecs);
	free(ki);
}

static int kvm_irq_msi_route_add_locked(struct kvm_irq *ki, uint64_t addr, uint32_t data,
					unsigned *gsi_out)
{
	int ret;

	for (unsigned i = 0; i < ki->max_msi; i++) {
		if (ki->msi[i].used)
			continue;
		ki->msi[i] = (struct kvm_irq_msi_route){.used = true, .addr = addr, .data = data};
		ret = kvm_irq_commit(ki);
		if (ret) {
			ki->msi[i].used = false;
			return ret;
		}
		*gsi_out = KVM_IRQ_NR_LEGACY + i;
		return 0;
	}
	log_rl(LOGL_ERR, "kvm_irq: all %u MSI routes in use", ki->max_msi);
	return -ENOSPC;
}

static struct kvm_irq_msi_route *kvm_irq_msi_lookup(struct kvm_irq *ki, unsigned gsi)
{
	if (gsi < KVM_IRQ_NR_LEGACY || gsi - KVM_IRQ_NR_LEGACY >= ki->max_msi ||
	    !ki->msi[gsi - KVM_IRQ_NR_LEGACY].used)
		return NULL;
	return &ki->msi[gsi - KVM_IRQ_NR_LEGACY];
}

static int kvm_irq_msi_route_update_locked(struct kvm_irq *ki, unsigned gsi, uint64_t addr,
					   uint32_t data)
{
	struct kvm_irq_msi_route *r = kvm_irq_msi_lookup(ki, gsi), old;
	int ret;

	if (!r)
		return -ENOENT;
	if (r->addr == addr && r->data == data)
		return 0;
	old = *r;
	r->addr = addr;
	r->data = data;
	ret = kvm_irq_commit(ki);
	if (ret)
		*r = old;
	return ret;
}

static int kvm_irq_msi_route_remove_locked(struct kvm_irq *ki, unsigned gsi)
{
	struct kvm_irq_msi_route *r = kvm_irq_msi_lookup(ki, gsi);
	int ret;

	if (!r)
		return -ENOENT;
	r->used = false;
	ret = kvm_irq_commit(ki);
	if (ret)
		r->used = true;
	return ret;
}

int kvm_irq_msi_route_add(struct kvm_irq *ki, uint64_t addr, uint32_t data, unsigned *gsi_out)
{
	int ret;

	pthread_mutex_lock(&ki->lock);
	ret = kvm_irq_msi_route_add_locked(ki, addr, data, gsi_out);
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

int kvm_irq_msi_route_update(struct kvm_irq *ki, unsigned gsi, uint64_t addr, uint32_t data)
{
	int ret;

	pthread_mutex_lock(&ki->lock);
	ret = kvm_irq_msi_route_update_locked(ki, gsi, addr, data);
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

int kvm_irq_msi_route_remove(struct kvm_irq *ki, unsigned gsi)
{
	int ret;

	pthread_mutex_lock(&ki->lock);
	ret = kvm_irq_msi_route_remove_locked(ki, gsi);
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

unsigned kvm_irq_nr_routes(struct kvm_irq *ki)
{
	unsigned n;

	pthread_mutex_lock(&ki->lock);
	n = ki->nr_routes;
	pthread_mutex_unlock(&ki->lock);
	return n;
}

/* Grow an array of @elem-sized entries by one slot; 0 or -ENOMEM. */
static int grow(void **arr, unsigned nr, unsigned *cap, size_t elem)
{
	void *n;
	unsigned ncap;

	if (nr < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

static int kvm_irq_irqfd_assign_locked(struct kvm_irq *ki, int fd, unsigned gsi, int resample_fd)
{
	int ret = grow((void **)&ki->irqfds, ki->nr_irqfds, &ki->cap_irqfds, sizeof(*ki->irqfds));

	if (ret)
		return ret;
	ret = kvm_irqfd_ioctl(ki, fd, gsi, resample_fd, false);
	if (ret)
		return ret;
	ki->irqfds[ki->nr_irqfds++] = (struct kvm_irq_irqfd){.fd = fd, .gsi = gsi};
	return 0;
}

static int kvm_irq_irqfd_deassign_locked(struct kvm_irq *ki, int fd, unsigned gsi)
{
	int ret = kvm_irqfd_ioctl(ki, fd, gsi, -1, true);

	for (unsigned i = 0; i < ki->nr_irqfds; i++) {
		if (ki->irqfds[i].fd == fd && ki->irqfds[i].gsi == gsi) {
			ki->irqfds[i] = ki->irqfds[--ki->nr_irqfds];
			break;
		}
	}
	return ret;
}

int kvm_irq_irqfd_assign(struct kvm_irq *ki, int fd, unsigned gsi, int resample_fd)
{
	int ret;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&ki->lock);
	ret = kvm_irq_irqfd_assign_locked(ki, fd, gsi, resample_fd);
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

int kvm_irq_irqfd_deassign(struct kvm_irq *ki, int fd, unsigned gsi)
{
	int ret;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&ki->lock);
	ret = kvm_irq_irqfd_deassign_locked(ki, fd, gsi);
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

int kvm_irq_signal_msi(struct kvm_irq *ki, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};
	int r = ioctl(ki->vm_fd, KVM_SIGNAL_MSI, &msi);

	if (r < 0)
		return -errno;
	return r > 0 ? 1 : 0;
}

int kvm_irq_line(struct kvm_irq *ki, unsigned gsi, int level)
{
	struct kvm_irq_level l = {.irq = gsi, .level = level ? 1 : 0};

	return ioctl(ki->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static bool ioev_same(const struct kvm_ioevent *a, const struct kvm_ioevent *b)
{
	return a->pio == b->pio && a->addr == b->addr && a->len == b->len &&
	       a->datamatch == b->datamatch && (!a->datamatch || a->data == b->data) &&
	       a->fd == b->fd;
}

int kvm_irq_ioeventfd_assign(struct kvm_irq *ki, const struct kvm_ioevent *ev)
{
	int ret;

	if (!ev || ev->fd < 0 ||
	    (ev->len != 0 && ev->len != 1 && ev->len != 2 && ev->len != 4 && ev->len != 8) ||
	    (ev->len == 0 && (ev->pio || ev->datamatch)))
		return -EINVAL;
	pthread_mutex_lock(&ki->lock);
	ret = grow((void **)&ki->ioevs, ki->nr_ioevs, &ki->cap_ioevs, sizeof(*ki->ioevs));
	if (!ret)
		ret = kvm_ioeventfd_ioctl(ki, ev, false);
	if (!ret)
		ki->ioevs[ki->nr_ioevs++] = *ev;
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

int kvm_irq_ioeventfd_deassign(struct kvm_irq *ki, const struct kvm_ioevent *ev)
{
	int ret;

	if (!ev || ev->fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&ki->lock);
	ret = kvm_ioeventfd_ioctl(ki, ev, true);
	for (unsigned i = 0; i < ki->nr_ioevs; i++) {
		if (ioev_same(&ki->ioevs[i], ev)) {
			ki->ioevs[i] = ki->ioevs[--ki->nr_ioevs];
			break;
		}
	}
	pthread_mutex_unlock(&ki->lock);
	return ret;
}

/* ---- pci_irq_ops on KVM ---- */

static void pci_kvm_route_msi(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
			      uint32_t data)
{
	int r = kvm_irq_signal_msi(opaque, addr, data);

	if (r < 0)
		log_rl(LOGL_WARN, "pci %s: MSI vector %u (0x%llx/0x%x) not injected: %s",
		       pci_dev_name(dev), vector, (unsigned long long)addr, data, strerror(-r));
}

static void pci_kvm_set_intx(void *opaque, unsigned gsi, int level)
{
	int r = kvm_irq_line(opaque, gsi, level);

	if (r < 0)
		log_rl(LOGL_WARN, "pci: INTx GSI %u level %d: %s", gsi, level, strerror(-r));
}

static struct kvm_irq_vec *kvm_irq_vec_get(struct kvm_irq *ki, struct pci_dev *dev, bool msix,
					   unsigned vector, bool create)
{
	struct kvm_irq_vec *free_e = NULL;

	for (unsigned i = 0; i < ki->nr_vecs; i++) {
		struct kvm_irq_vec *e = &ki->vecs[i];

		if (e->dev == dev && e->msix == msix && e->vector == vector)
			return e;
		if (!e->dev && !free_e)
			free_e = e;
	}
	if (!create)
		return NULL;
	if (!free_e) {
		if (grow((void **)&ki->vecs, ki->nr_vecs, &ki->cap_vecs, sizeof(*ki->vecs)))
			return NULL;
		free_e = &ki->vecs[ki->nr_vecs++];
	}
	*free_e = (struct kvm_irq_vec){
		.dev = dev, .msix = msix, .vector = vector, .fd = -1, .gsi = -1};
	return free_e;
}

/*
 * Keep an eventfd-bound vector's irqfd attached exactly while it is deliverable. A masked vector's
 * eventfd is detached and keeps its count; KVM_IRQFD injects at once when it is re-attached with a
 * count pending (irqfd assignment polls the eventfd), which is the spec's "send on unmask".
 */
static void pci_kvm_vector_update(void *opaque, struct pci_dev *dev, unsigned vector, int old_fd,
				  const struct pci_msi_vector *st)
{
	struct kvm_irq *ki = opaque;
	struct kvm_irq_vec *e;
	unsigned gsi;
	int ret = 0;

	(void)old_fd; /* we track the attached fd ourselves */
	pthread_mutex_lock(&ki->lock);
	e = kvm_irq_vec_get(ki, dev, st->is_msix, vector, st->fd >= 0);
	if (!e) {
		if (st->fd >= 0)
			log_rl(LOGL_ERR, "pci %s: no memory to track vector %u", pci_dev_name(dev),
			       vector);
		goto out;
	}
	if (e->attached && (e->fd != st->fd || !st->deliverable || st->fd < 0)) {
		ret = kvm_irq_irqfd_deassign_locked(ki, e->fd, (unsigned)e->gsi);
		if (ret)
			log_rl(LOGL_WARN, "pci %s: vector %u irqfd detach: %s", pci_dev_name(dev),
			       vector, strerror(-ret));
		e->attached = false;
	}
	if (st->fd < 0) {
		if (e->gsi >= 0 && kvm_irq_msi_route_remove_locked(ki, (unsigned)e->gsi) < 0)
			log_rl(LOGL_WARN, "pci %s: vector %u route removal failed",
			       pci_dev_name(dev), vector);
		e->dev = NULL;
		goto out;
	}
	e->fd = st->fd;
	if (!st->deliverable)
		goto out;
	if (e->gsi < 0) {
		ret = kvm_irq_msi_route_add_locked(ki, st->addr, st->data, &gsi);
		if (ret)
			goto fail;
		e->gsi = (int)gsi;
	} else {
		ret = kvm_irq_msi_route_update_locked(ki, (unsigned)e->gsi, st->addr, st->data);
		if (ret)
			goto fail;
	}
	if (!e->attached) {
		ret = kvm_irq_irqfd_assign_locked(ki, e->fd, (unsigned)e->gsi, -1);
		if (ret)
			goto fail;
		e->attached = true;
	}
out:
	pthread_mutex_unlock(&ki->lock);
	return;
fail:
	log_rl(LOGL_ERR, "pci %s: vector %u: cannot attach irqfd %d: %s", pci_dev_name(dev), vector,
	       st->fd, strerror(-ret));
	pthread_mutex_unlock(&ki->lock);
}

const struct pci_irq_ops pci_kvm_irq_ops = {
	.route_msi = pci_kvm_route_msi,
	.set_intx = pci_kvm_set_intx,
	.vector_update = pci_kvm_vector_update,
};
