// SPDX-License-Identifier: GPL-2.0-only
/* virtio-pci modern transport, virtio 1.2 s4.1. See virtio_pci.h for the layout and contract. */
#include "virtio_pci.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evloop.h"
#include "log.h"
#include "util.h"

#define PCI_CAP_ID_VNDR 0x09

struct vp_queue {
	uint16_t size;	      /* as the driver set it (power of two <= max) */
	uint16_t msix_vector; /* atomic: read by device threads */
	bool enabled;
	uint64_t desc, driver, device;
	struct vq vq;
};

struct virtio_pci {
	struct virtio_pci_cfg cfg;
	char name[48];
	struct pci_dev *pci;
	pthread_mutex_t lock; /* register state below; never held while calling pci_* */

	uint8_t status;		 /* atomic: DEVICE_NEEDS_RESET is set from device threads */
	uint8_t isr;		 /* atomic */
	int irq_efd;		 /* wakes the interrupt thread */
	uint64_t irq_pending[2]; /* atomic: MSI-X vectors for the interrupt thread */
	bool irq_stop;
	bool irq_thread_running;
	pthread_t irq_thread;
	uint8_t config_generation;
	uint32_t dfselect, gfselect;
	uint64_t device_features;
	uint64_t driver_features; /* being written */
	uint64_t features;	  /* accepted at FEATURES_OK */
	uint16_t config_vector;	  /* atomic */
	uint16_t queue_select;
	struct vp_queue q[VIRTIO_PCI_MAX_QUEUES];

	unsigned pcicfg_off; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	unsigned msix_cap;   /* offset of the MSI-X capability */
	bool msix_on;	     /* atomic: mirror of MSI-X Enable, kept by the cfg_write hook */
	unsigned nvec;
	int vec_fd[VIRTIO_PCI_MAX_QUEUES + 1]; /* eventfd per MSI-X vector (irqfd), or -1 */
	bool bar_mapped;
	uint64_t bar_addr;

	struct virtio_pci_stats stats;
};

#define VP_STAT(vp, f) __atomic_add_fetch(&(vp)->stats.f, 1, __ATOMIC_RELAXED)

/* ---- interrupts (s4.1.5.3, s4.1.5.4) ---- */

/*
 * Interrupts are raised from device threads (queue workers), which must never wait for the PCI
 * device lock: a vCPU holding it (a VIRTIO_PCI_CAP_PCI_CFG access that resets the device) may be
 * joining those very threads. So:
 *   - an MSI-X vector with an eventfd bound (the VMM's irqfd) is signalled directly, lock-free;
 *     masking and pending bits are handled by the PCI core and KVM around that eventfd;
 *   - anything else (pci_msix_notify, INTx level changes) is handed to the transport's own
 *     interrupt thread through a pending-vector mask and ISR, and it talks to the PCI core.
 */
static void vp_irq(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (__atomic_load_n(&vp->msix_on, __ATOMIC_ACQUIRE)) {
		/* With MSI-X on, NO_VECTOR means the driver wants no interrupt for this source. */
		if (vector == VIRTIO_MSI_NO_VECTOR || vector >= vp->nvec)
			return;
		if (vp->vec_fd[vector] >= 0) {
			efd_signal(vp->vec_fd[vector]);
			VP_STAT(vp, irqs_msix);
			return;
		}
		__atomic_or_fetch(&vp->irq_pending[vector / 64], 1ull << (vector % 64),
				  __ATOMIC_SEQ_CST);
		efd_signal(vp->irq_efd);
		return;
	}
	/* s4.1.5.3: without MSI-X, ISR says why and INTA# is asserted. */
	__atomic_or_fetch(&vp->isr, isr_bit, __ATOMIC_SEQ_CST);
	VP_STAT(vp, irqs_intx);
	efd_signal(vp->irq_efd);
}

int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned q)
{
	uint16_t vector;

	if (!vp || q >= vp->cfg.info.num_queues || !__atomic_load_n(&vp->msix_on, __ATOMIC_ACQUIRE))
		return -1;
	vector = __atomic_load_n(&vp->q[q].msix_vector, __ATOMIC_RELAXED);
	if (vector == VIRTIO_MSI_NO_VECTOR || vector >= vp->nvec)
		return -1;
	return vp->vec_fd[vector];
}

/* The interrupt thread: delivers pending MSI-X vectors and keeps INTx level == (ISR != 0). */
static void *vp_irq_thread(void *arg)
{
	struct virtio_pci *vp = arg;
	struct pollfd p = {.fd = vp->irq_efd, .events = POLLIN};

	while (!__atomic_load_n(&vp->irq_stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		efd_drain(vp->irq_efd);
		for (unsigned w = 0; w < ARRAY_SIZE(vp->irq_pending); w++) {
			uint64_t bits =
				__atomic_exchange_n(&vp->irq_pending[w], 0, __ATOMIC_SEQ_CST);

			while (bits) {
				unsigned v = 64 * w + (unsigned)__builtin_ctzll(bits);
				int ret = pci_msix_notify(vp->pci, v);

				bits &= bits - 1;
				if (ret == 0) {
					VP_STAT(vp, irqs_msix);
				} else if (ret == -EAGAIN) {
					/* MSI-X was switched off meanwhile: INTx instead. */
					__atomic_or_fetch(&vp->isr, 1, __ATOMIC_SEQ_CST);
					VP_STAT(vp, irqs_intx);
				}
			}
		}
		/* Idempotent: a deassert racing with us is repaired by the next round. */
		pci_set_intx(vp->pci, __atomic_load_n(&vp->isr, __ATOMIC_SEQ_CST) != 0);
	}
	return NULL;
}

static void vp_config_irq(struct virtio_pci *vp)
{
	vp_irq(vp, __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED), 2);
}

/* s2.1.2: a device that hit an error it cannot recover from sets DEVICE_NEEDS_RESET. */
static void vp_vq_broken(struct vq *vq, void *opaque)
{
	struct virtio_pci *vp = opaque;
	uint8_t old =
		__atomic_fetch_or(&vp->status, VIRTIO_STATUS_DEVICE_NEEDS_RESET, __ATOMIC_SEQ_CST);

	(void)vq;
	if (!(old & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
		VP_STAT(vp, needs_reset);
		/* s4.1.4.3.1: DRIVER_OK drivers get a config change interrupt. */
		if (old & VIRTIO_STATUS_DRIVER_OK)
			vp_config_irq(vp);
	}
}

static void vp_vq_call(void *opaque)
{
	struct vq *vq = opaque;
	struct vp_queue *q = container_of(vq, struct vp_queue, vq);
	struct virtio_pci *vp = vq->broken_opaque;

	vp_irq(vp, __atomic_load_n(&q->msix_vector, __ATOMIC_RELAXED), 1);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	vp->config_generation++;
	pthread_mutex_unlock(&vp->lock);
	if (__atomic_load_n(&vp->status, __ATOMIC_RELAXED) & VIRTIO_STATUS_DRIVER_OK)
		vp_config_irq(vp);
}

/* ---- ioeventfds for the notify area (s4.1.4.4) ---- */

static void vp_ioeventfds(struct virtio_pci *vp, uint64_t bar_addr, bool assign)
{
	const struct virtio_dev_ops *ops = vp->cfg.ops;

	if (!vp->cfg.kvm_irq || !ops->queue_kick_fd)
		return;
	for (unsigned i = 0; i < vp->cfg.info.num_queues; i++) {
		struct kvm_ioevent ev = {
			.pio = false,
			.addr = bar_addr + VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * i,
			.len = 0, /* any width: drivers write the 16-bit queue index */
			.fd = ops->queue_kick_fd(vp->cfg.opaque, i),
		};
		int ret;

		if (ev.fd < 0)
			continue;
		ret = assign ? kvm_irq_ioeventfd_assign(vp->cfg.kvm_irq, &ev)
			     : kvm_irq_ioeventfd_deassign(vp->cfg.kvm_irq, &ev);
		if (ret < 0)
			log_rl(LOGL_WARN,
			       "%s: %s ioeventfd for queue %u at 0x%llx: %s; "
			       "notifications fall back to MMIO exits",
			       vp->name, assign ? "assigning" : "removing", i,
			       (unsigned long long)ev.addr, strerror(-ret));
	}
}

static void vp_bar_map(void *opaque, unsigned bar, uint64_t addr, bool mapped)
{
	struct virtio_pci *vp = opaque;

	if (bar != VIRTIO_PCI_BAR)
		return;
	if (vp->bar_mapped)
		vp_ioeventfds(vp, vp->bar_addr, false);
	vp->bar_mapped = mapped;
	vp->bar_addr = addr;
	if (mapped)
		vp_ioeventfds(vp, addr, true);
}

/* ---- reset and queues ---- */

/* Called with vp->lock held. */
static void vp_reset_locked(struct virtio_pci *vp)
{
	const struct virtio_dev_ops *ops = vp->cfg.ops;

	for (unsigned i = 0; i < vp->cfg.info.num_queues; i++) {
		struct vp_queue *q = &vp->q[i];

		if (q->enabled)
			ops->queue_stop(vp->cfg.opaque, i);
		vq_reset(&q->vq);
		q->enabled = false;
		q->size = vp->cfg.info.max_queue_size;
		q->desc = q->driver = q->device = 0;
		__atomic_store_n(&q->msix_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	}
	if (ops->reset)
		ops->reset(vp->cfg.opaque);
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = vp->features = 0;
	vp->queue_select = 0;
	__atomic_store_n(&vp->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	__atomic_store_n(&vp->status, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vp->isr, 0, __ATOMIC_SEQ_CST);
	VP_STAT(vp, resets);
}

/* s4.1.5.1.3 / s2.7: enable the selected queue with the addresses the driver wrote. */
static void vp_queue_enable_locked(struct virtio_pci *vp, unsigned qi)
{
	const struct virtio_dev_ops *ops = vp->cfg.ops;
	struct vp_queue *q = &vp->q[qi];
	struct vq_cfg c = {
		.size = q->size,
		.desc_gpa = q->desc,
		.avail_gpa = q->driver,
		.used_gpa = q->device,
		.event_idx = vp->features & (1ull << VIRTIO_F_EVENT_IDX),
		.indirect = vp->features & (1ull << VIRTIO_F_INDIRECT_DESC),
		.packed = vp->features & (1ull << VIRTIO_F_RING_PACKED),
	};
	uint8_t status = __atomic_load_n(&vp->status, __ATOMIC_RELAXED);
	int ret;

	if (q->enabled)
		return;
	if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
		VP_STAT(vp, bad_value);
		log_rl(LOGL_WARN, "%s: queue %u enabled before FEATURES_OK: ignored", vp->name, qi);
		return;
	}
	q->vq.call = vp_vq_call;
	q->vq.call_opaque = &q->vq;
	q->vq.on_broken = vp_vq_broken;
	q->vq.broken_opaque = vp;
	if (vq_setup(&q->vq, &c) < 0) {
		VP_STAT(vp, ring_refused);
		vp_vq_broken(&q->vq, vp);
		return;
	}
	ret = ops->queue_start(vp->cfg.opaque, qi, &q->vq);
	if (ret < 0) {
		log_rl(LOGL_ERR, "%s: cannot start queue %u: %s", vp->name, qi, strerror(-ret));
		vq_reset(&q->vq);
		vp_vq_broken(&q->vq, vp);
		return;
	}
	q->enabled = true;
}

/* s2.2, s3.1.1 step 5: FEATURES_OK only for a subset of the offer the device accepts. */
static bool vp_features_ok_locked(struct virtio_pci *vp)
{
	const struct virtio_dev_ops *ops = vp->cfg.ops;
	uint64_t f = vp->driver_features;

	if ((f & ~vp->device_features) || !(f & (1ull << VIRTIO_F_VERSION_1)) ||
	    (ops->set_features && ops->set_features(vp->cfg.opaque, f) < 0)) {
		VP_STAT(vp, features_refused);
		log_rl(LOGL_WARN, "%s: refusing driver features 0x%llx (offered 0x%llx)", vp->name,
		       (unsigned long long)f, (unsigned long long)vp->device_features);
		return false;
	}
	vp->features = f;
	return true;
}

/* Returns true when INTx must be deasserted (after the lock is dropped). */
static bool vp_status_write_locked(struct virtio_pci *vp, uint8_t val)
{
	uint8_t old = __atomic_load_n(&vp->status, __ATOMIC_RELAXED);

	if (val == 0) { /* s4.1.4.3.1: writing 0 resets the device */
		vp_reset_locked(vp);
		return true;
	}
	/* s2.1.1: the driver never clears bits (other than by reset); keep NEEDS_RESET ours. */
	if ((old & ~val) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		VP_STAT(vp, bad_value);
	val = (uint8_t)((val & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | old);
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    !vp_features_ok_locked(vp))
		val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(val & VIRTIO_STATUS_FEATURES_OK)) {
		VP_STAT(vp, bad_value);
		log_rl(LOGL_WARN, "%s: DRIVER_OK without FEATURES_OK: ignored", vp->name);
		val &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	}
	/* Bits set from device threads (NEEDS_RESET) meanwhile are kept by the OR below. */
	__atomic_fetch_or(&vp->status, val, __ATOMIC_SEQ_CST);
	return false;
}

/* ---- common configuration registers (s4.1.4.3) ---- */

static struct vp_queue *vp_selq(struct virtio_pci *vp)
{
	return vp->queue_select < vp->cfg.info.num_queues ? &vp->q[vp->queue_select] : NULL;
}

static uint32_t vp_common_read_locked(struct virtio_pci *vp, unsigned off)
{
	struct vp_queue *q = vp_selq(vp);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_PCI_COMMON_DF:
		return vp->dfselect < 2 ? (uint32_t)(vp->device_features >> (32 * vp->dfselect))
					: 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_PCI_COMMON_GF:
		return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect))
					: 0;
	case VIRTIO_PCI_COMMON_MSIX:
		return __atomic_load_n(&vp->config_vector, __ATOMIC_RELAXED);
	case VIRTIO_PCI_COMMON_NUMQ:
		return vp->cfg.info.num_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vp->config_generation;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return vp->queue_select;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q ? q->size : 0; /* s4.1.4.3.2: 0 for an unavailable queue */
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q ? __atomic_load_n(&q->msix_vector, __ATOMIC_RELAXED)
			 : VIRTIO_MSI_NO_VECTOR;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q ? q->enabled : 0;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return q ? vp->queue_select : 0;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		return q ? (uint32_t)q->desc : 0;
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		return q ? (uint32_t)(q->desc >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		return q ? (uint32_t)q->driver : 0;
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return q ? (uint32_t)(q->driver >> 32) : 0;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return q ? (uint32_t)q->device : 0;
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return q ? (uint32_t)(q->device >> 32) : 0;
	}
	return 0;
}

/* Width of the field at @off (the driver uses exactly that width, 64-bit ones as two 32-bit). */
static unsigned vp_common_width(unsigned off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	default:
		return off < VIRTIO_PCI_COMMON_SIZE && !(off & 1) ? 2 : 0;
	}
}

static uint64_t vp_common_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	uint64_t v;

	if (size == 8 && (off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
			  off == VIRTIO_PCI_COMMON_Q_USEDLO)) {
		pthread_mutex_lock(&vp->lock);
		v = vp_common_read_locked(vp, off) | (uint64_t)vp_common_read_locked(vp, off + 4)
							     << 32;
		pthread_mutex_unlock(&vp->lock);
		return v;
	}
	if (vp_common_width(off) != size) {
		VP_STAT(vp, bad_access);
		log_rl(LOGL_INFO, "%s: common cfg read of %u bytes at 0x%x", vp->name, size, off);
		return 0;
	}
	pthread_mutex_lock(&vp->lock);
	v = vp_common_read_locked(vp, off);
	pthread_mutex_unlock(&vp->lock);
	return v;
}

static void vp_set64(uint64_t *field, bool hi, uint32_t v)
{
	*field = hi ? (*field & 0xffffffffull) | (uint64_t)v << 32 : (*field & ~0xffffffffull) | v;
}

static void vp_common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t val)
{
	struct vp_queue *q;
	bool deassert = false;
	uint32_t v = (uint32_t)val;

	if (size == 8 && (off == VIRTIO_PCI_COMMON_Q_DESCLO || off == VIRTIO_PCI_COMMON_Q_AVAILLO ||
			  off == VIRTIO_PCI_COMMON_Q_USEDLO)) {
		vp_common_write(vp, off, 4, (uint32_t)val);
		vp_common_write(vp, off + 4, 4, val >> 32);
		return;
	}
	if (vp_common_width(off) != size) {
		VP_STAT(vp, bad_access);
		log_rl(LOGL_INFO, "%s: common cfg write of %u bytes at 0x%x", vp->name, size, off);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	q = vp_selq(vp);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		vp->dfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		vp->gfselect = v;
		break;
	case VIRTIO_PCI_COMMON_GF:
		/* s2.2: features are fixed once FEATURES_OK is set. */
		if (vp->gfselect >= 2 || (vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			VP_STAT(vp, bad_value);
			break;
		}
		vp_set64(&vp->driver_features, vp->gfselect, v);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		/* s4.1.5.3: an unusable vector reads back as NO_VECTOR. */
		if (v != VIRTIO_MSI_NO_VECTOR && v > vp->cfg.info.num_queues) {
			VP_STAT(vp, bad_value);
			v = VIRTIO_MSI_NO_VECTOR;
		}
		__atomic_store_n(&vp->config_vector, (uint16_t)v, __ATOMIC_RELAXED);
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		deassert = vp_status_write_locked(vp, (uint8_t)v);
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		vp->queue_select = (uint16_t)v; /* any value; unavailable queues read size 0 */
		break;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		/* s2.7: split rings take a power of two; s2.8: packed rings any size up to max. */
		if (!q || q->enabled || !v || v > vp->cfg.info.max_queue_size ||
		    (!(vp->features & (1ull << VIRTIO_F_RING_PACKED)) && (v & (v - 1)))) {
			VP_STAT(vp, bad_value);
			log_rl(LOGL_INFO, "%s: queue %u: refusing size %u", vp->name,
			       vp->queue_select, v);
			break;
		}
		q->size = (uint16_t)v;
		break;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (!q) {
			VP_STAT(vp, bad_value);
			break;
		}
		if (v != VIRTIO_MSI_NO_VECTOR && v > vp->cfg.info.num_queues) {
			VP_STAT(vp, bad_value);
			v = VIRTIO_MSI_NO_VECTOR;
		}
		__atomic_store_n(&q->msix_vector, (uint16_t)v, __ATOMIC_RELAXED);
		break;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		/* s4.1.4.3.2: the driver writes 1 only; disabling is done by reset. */
		if (!q || v != 1) {
			VP_STAT(vp, bad_value);
			break;
		}
		vp_queue_enable_locked(vp, vp->queue_select);
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI: {
		uint64_t *f;

		if (!q || q->enabled) {
			VP_STAT(vp, bad_value);
			break;
		}
		f = off < VIRTIO_PCI_COMMON_Q_AVAILLO  ? &q->desc
		    : off < VIRTIO_PCI_COMMON_Q_USEDLO ? &q->driver
						       : &q->device;
		vp_set64(f, off & 4, v);
		break;
	}
	default: /* read-only fields */
		VP_STAT(vp, bad_access);
		break;
	}
	pthread_mutex_unlock(&vp->lock);
	if (deassert) {
		pci_set_intx(vp->pci, 0);
		efd_signal(vp->irq_efd);
	}
}

/* ---- BAR 0 dispatch ---- */

static uint64_t vp_bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = opaque;

	if (off < VIRTIO_PCI_ISR_OFF)
		return vp_common_read(vp, (unsigned)off, size);
	if (off == VIRTIO_PCI_ISR_OFF && size == 1) {
		/* s4.1.4.5: reading ISR clears it and deasserts INTx. */
		uint8_t isr = __atomic_exchange_n(&vp->isr, 0, __ATOMIC_SEQ_CST);

		if (isr) {
			pci_set_intx(vp->pci, 0);
			efd_signal(vp->irq_efd); /* resync in case it is asserting right now */
		}
		return isr;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF) {
		uint32_t o = (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF);
		uint64_t v = 0;

		if (size <= 8 && o + size <= vp->cfg.info.config_size) {
			vp->cfg.ops->config_read(vp->cfg.opaque, o, &v, size);
			return le64toh(v);
		}
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF)
		return 0; /* notify area is write-only */
	VP_STAT(vp, bad_access);
	log_rl(LOGL_INFO, "%s: read of %u bytes at BAR offset 0x%llx", vp->name, size,
	       (unsigned long long)off);
	return 0;
}

static void vp_bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *vp = opaque;

	if (off < VIRTIO_PCI_ISR_OFF) {
		vp_common_write(vp, (unsigned)off, size, val);
		return;
	}
	if (off >= VIRTIO_PCI_DEVICE_OFF && off < VIRTIO_PCI_NOTIFY_OFF) {
		uint32_t o = (uint32_t)(off - VIRTIO_PCI_DEVICE_OFF);
		uint64_t v = htole64(val);

		if (size <= 8 && o + size <= vp->cfg.info.config_size) {
			vp->cfg.ops->config_write(vp->cfg.opaque, o, &v, size);
			return;
		}
	}
	if (off >= VIRTIO_PCI_NOTIFY_OFF) {
		uint64_t qi = (off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULT;
		bool enabled;

		pthread_mutex_lock(&vp->lock);
		enabled = qi < vp->cfg.info.num_queues && vp->q[qi].enabled;
		pthread_mutex_unlock(&vp->lock);
		if (!enabled) {
			VP_STAT(vp, bad_value);
			log_rl(LOGL_INFO, "%s: notification for queue %llu, not enabled", vp->name,
			       (unsigned long long)qi);
			return;
		}
		VP_STAT(vp, notifies);
		if (vp->cfg.ops->queue_notify)
			vp->cfg.ops->queue_notify(vp->cfg.opaque, (unsigned)qi);
		return;
	}
	VP_STAT(vp, bad_access);
	log_rl(LOGL_INFO, "%s: write of %u bytes at BAR offset 0x%llx", vp->name, size,
	       (unsigned long long)off);
}

static const struct bus_ops vp_bar_ops = {.read = vp_bar_read, .write = vp_bar_write};

/* ---- VIRTIO_PCI_CAP_PCI_CFG window (s4.1.4.9) ---- */

/* Layout inside the capability: +4 bar, +8 offset, +12 length, +16 pci_cfg_data. */
static bool vp_pcicfg_target(struct virtio_pci *vp, unsigned size, uint32_t *bar_off, unsigned *len)
{
	unsigned c = vp->pcicfg_off;
	uint8_t bar = (uint8_t)pci_cfg_get(vp->pci, c + 4, 1);

	*bar_off = pci_cfg_get(vp->pci, c + 8, 4);
	*len = pci_cfg_get(vp->pci, c + 12, 4);
	if (bar != VIRTIO_PCI_BAR || (*len != 1 && *len != 2 && *len != 4) || size < *len ||
	    *bar_off % *len || *bar_off >= VIRTIO_PCI_BAR_SIZE) {
		VP_STAT(vp, bad_access);
		return false;
	}
	return true;
}

static uint32_t vp_cfg_read(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_pci *vp = opaque;
	uint32_t bar_off;
	unsigned len;

	if (!vp->pcicfg_off || off != vp->pcicfg_off + 16 ||
	    !vp_pcicfg_target(vp, size, &bar_off, &len))
		return val;
	return (uint32_t)vp_bar_read(vp, bar_off, len);
}

static void vp_cfg_write(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_pci *vp = opaque;
	uint32_t bar_off;
	unsigned len;

	/* Mirror MSI-X Enable (PCI 3.0 s6.8.2.3) so interrupt paths need not take the PCI lock. */
	if (vp->msix_cap && range_overlaps(off, size, vp->msix_cap + 2, 2))
		__atomic_store_n(&vp->msix_on,
				 !!(pci_cfg_get(vp->pci, vp->msix_cap + 2, 2) & 0x8000),
				 __ATOMIC_RELEASE);

	if (!vp->pcicfg_off || off != vp->pcicfg_off + 16 ||
	    !vp_pcicfg_target(vp, size, &bar_off, &len))
		return;
	vp_bar_write(vp, bar_off, len, val & (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1));
}

/* ---- create / destroy ---- */

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
		      uint32_t extra, bool has_extra)
{
	/* struct virtio_pci_cap (s4.1.4) after cap_vndr and cap_next. */
	uint8_t body[18] = {0};
	unsigned blen = has_extra ? 18 : 14;

	body[0] = (uint8_t)(blen + 2); /* cap_len */
	body[1] = type;
	body[2] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_BAR;
	off = htole32(off);
	len = htole32(len);
	extra = htole32(extra);
	memcpy(body + 6, &off, 4);
	memcpy(body + 10, &len, 4);
	if (has_extra)
		memcpy(body + 14, &extra, 4);
	return pci_cap_add(vp->pci, PCI_CAP_ID_VNDR, body, blen);
}

/*
 * One eventfd per MSI-X vector, bound through the PCI core so the VMM attaches it as an irqfd
 * (pci_irq_ops.vector_update). Hosts without vector_update keep the pci_msix_notify() path.
 */
static void vp_bind_vector_fds(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->nvec; v++) {
		int fd = efd_create(), ret;

		if (fd < 0)
			break;
		ret = pci_msi_set_vector_fd(vp->pci, true, v, fd);
		if (ret < 0) {
			close(fd);
			if (ret != -EOPNOTSUPP)
				log_warn("%s: cannot bind an eventfd to MSI-X vector %u: %s",
					 vp->name, v, strerror(-ret));
			break;
		}
		vp->vec_fd[v] = fd;
	}
}

int virtio_pci_create(const struct virtio_pci_cfg *cfg, struct pci_host *host, unsigned slot,
		      struct virtio_pci **out)
{
	const struct virtio_dev_info *in = &cfg->info;
	struct pci_dev_cfg pc;
	struct virtio_pci *vp;
	int ret;

	*out = NULL;
	if (!cfg->ops || !cfg->ops->queue_start || !cfg->ops->queue_stop ||
	    !cfg->ops->config_read || !cfg->ops->config_write || !cfg->ops->get_features ||
	    !cfg->gm || !in->num_queues || in->num_queues > VIRTIO_PCI_MAX_QUEUES ||
	    !in->max_queue_size || in->max_queue_size > VQ_MAX_SIZE ||
	    (in->max_queue_size & (in->max_queue_size - 1)) ||
	    in->config_size > VIRTIO_PCI_NOTIFY_OFF - VIRTIO_PCI_DEVICE_OFF) {
		log_err("%s: invalid virtio-pci configuration", cfg->name ? cfg->name : "virtio");
		return -EINVAL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->cfg = *cfg;
	snprintf(vp->name, sizeof(vp->name), "%s", cfg->name ? cfg->name : "virtio");
	vp->cfg.name = NULL;
	pthread_mutex_init(&vp->lock, NULL);
	vp->irq_efd = efd_create();
	if (vp->irq_efd < 0) {
		free(vp);
		return -ENOMEM;
	}
	/* There is no platform IOMMU here: never offer ACCESS_PLATFORM. */
	vp->device_features = (cfg->ops->get_features(cfg->opaque) | 1ull << VIRTIO_F_VERSION_1) &
			      ~(1ull << VIRTIO_F_ACCESS_PLATFORM);
	for (unsigned i = 0; i < in->num_queues; i++) {
		vq_init(&vp->q[i].vq, cfg->gm, vp->name, (uint16_t)i);
		vp->q[i].size = in->max_queue_size;
		vp->q[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->nvec = in->num_queues + 1u;
	for (unsigned v = 0; v < ARRAY_SIZE(vp->vec_fd); v++)
		vp->vec_fd[v] = -1;

	pc = (struct pci_dev_cfg){
		.name = vp->name,
		.vendor_id = VIRTIO_PCI_VENDOR_ID,
		.device_id = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + in->device_id),
		.subsys_vendor_id = VIRTIO_PCI_VENDOR_ID,
		.subsys_id = 0x1100, /* s4.1.2.1: 0x40 or higher for non-transitional devices */
		.revision = 1,	     /* s4.1.2.1 */
		.class_code = cfg->class_code			 ? cfg->class_code
			      : in->device_id == VIRTIO_ID_NET	 ? 0x020000u
			      : in->device_id == VIRTIO_ID_BLOCK ? 0x018000u
								 : 0xff0000u,
		.intx_pin = 1,
		.msix_vectors = in->num_queues + 1u,
		.msix_bar = VIRTIO_PCI_MSIX_BAR,
		.msix_table_offset = 0,
		.msix_pba_offset = 0x800,
		.pcie = false,
		.cfg_read = vp_cfg_read,
		.cfg_write = vp_cfg_write,
		.bar_map = vp_bar_map,
		.opaque = vp,
	};
	pc.bar[VIRTIO_PCI_BAR] = (struct pci_bar_cfg){.type = PCI_BAR_MEM64,
						      .size = VIRTIO_PCI_BAR_SIZE,
						      .ops = &vp_bar_ops,
						      .opaque = vp};
	pc.bar[VIRTIO_PCI_MSIX_BAR] = (struct pci_bar_cfg){.type = PCI_BAR_MEM32, .size = 0x1000};
	ret = pci_dev_add(host, slot, &pc, &vp->pci);
	if (ret < 0)
		goto err;

	/* s4.1.4: the capabilities a modern driver looks for. */
	if ((ret = vp_add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, 0x1000, 0, 0)) <
		    0 ||
	    (ret = vp_add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 0x1000, 0, 0)) < 0 ||
	    (ret = vp_add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF,
			      MAX(in->config_size, 1u), 0, 0)) < 0 ||
	    (ret = vp_add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
			      VIRTIO_PCI_NOTIFY_MULT * in->num_queues, VIRTIO_PCI_NOTIFY_MULT, 1)) <
		    0)
		goto err_dev;
	ret = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0,
			 1); /* 4 trailing bytes: pci_cfg_data */
	if (ret < 0)
		goto err_dev;
	vp->pcicfg_off = (unsigned)ret;
	pci_cfg_set_wmask(vp->pci, vp->pcicfg_off + 4, 1, 0xff);	 /* bar */
	pci_cfg_set_wmask(vp->pci, vp->pcicfg_off + 8, 4, 0xffffffffu);	 /* offset */
	pci_cfg_set_wmask(vp->pci, vp->pcicfg_off + 12, 4, 0xffffffffu); /* length */
	pci_cfg_set_wmask(vp->pci, vp->pcicfg_off + 16, 4, 0xffffffffu); /* data */
	vp->msix_cap = pci_cap_find(vp->pci, 0x11);
	vp_bind_vector_fds(vp);
	ret = -pthread_create(&vp->irq_thread, NULL, vp_irq_thread, vp);
	if (ret < 0)
		goto err_dev;
	vp->irq_thread_running = true;
	*out = vp;
	return 0;
err_dev:
	log_err("%s: cannot set up the device: %s", vp->name, strerror(-ret));
	pci_dev_remove(vp->pci);
	for (unsigned v = 0; v < vp->nvec; v++)
		if (vp->vec_fd[v] >= 0)
			close(vp->vec_fd[v]);
err:
	close(vp->irq_efd);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
	return ret;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	pthread_mutex_lock(&vp->lock);
	vp_reset_locked(vp);
	pthread_mutex_unlock(&vp->lock);
	if (vp->irq_thread_running) {
		__atomic_store_n(&vp->irq_stop, true, __ATOMIC_RELEASE);
		efd_signal(vp->irq_efd);
		pthread_join(vp->irq_thread, NULL);
	}
	close(vp->irq_efd);
	pci_dev_remove(vp->pci); /* unmaps BAR 0 (bar_map removes the ioeventfds), unbinds fds */
	for (unsigned v = 0; v < vp->nvec; v++)
		if (vp->vec_fd[v] >= 0)
			close(vp->vec_fd[v]);
	pthread_mutex_destroy(&vp->lock);
	free(vp);
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp)
{
	return vp->pci;
}

uint8_t virtio_pci_status(struct virtio_pci *vp)
{
	return __atomic_load_n(&vp->status, __ATOMIC_SEQ_CST);
}

uint64_t virtio_pci_features(struct virtio_pci *vp)
{
	uint64_t f;

	pthread_mutex_lock(&vp->lock);
	f = vp->features;
	pthread_mutex_unlock(&vp->lock);
	return f;
}

void virtio_pci_get_stats(struct virtio_pci *vp, struct virtio_pci_stats *out)
{
	const uint64_t *src = (const uint64_t *)&vp->stats;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

const struct vq *virtio_pci_vq(struct virtio_pci *vp, unsigned q)
{
	return q < vp->cfg.info.num_queues ? &vp->q[q].vq : NULL;
}
