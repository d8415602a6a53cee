/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-pci modern transport (virtio 1.2 s4.1) for any device type written against
 * virtio/virtio_dev.h.
 *
 * PCI identity (s4.1.2): vendor 0x1af4, device 0x1040 + virtio device id, revision 1, subsystem
 * 0x1af4:0x1100. One 64-bit memory BAR (BAR 0, 16 KiB) holds the structures the vendor capabilities
 * (s4.1.4) point at:
 *     0x0000 common configuration (s4.1.4.3)
 *     0x1000 ISR status (s4.1.4.5)
 *     0x2000 device-specific configuration (s4.1.4.6)
 *     0x3000 notifications, queue q at 0x3000 + 4 * q (notify_off_multiplier 4, s4.1.4.4)
 * BAR 2 (32-bit memory, 4 KiB) holds the MSI-X table and PBA: one vector per queue plus one for
 * configuration changes. A VIRTIO_PCI_CAP_PCI_CFG window (s4.1.4.9) gives access to BAR 0 through
 * configuration space.
 *
 * Notifications: when the caller passes a struct kvm_irq and the device exposes a kick eventfd per
 * queue (virtio_dev_ops.queue_kick_fd), each queue's notify address is bound to that eventfd as a
 * KVM ioeventfd whenever BAR 0 is mapped, so kicks never exit to the VMM; otherwise MMIO writes to
 * the notify area call virtio_dev_ops.queue_notify. Interrupts: vq->call fires the queue's MSI-X
 * vector, or, while MSI-X is off, sets ISR bit 0 and asserts INTA#. When the host's pci_irq_ops
 * has vector_update (pci_kvm_irq_ops does), every MSI-X vector gets an eventfd bound with
 * pci_msi_set_vector_fd(), i.e. a KVM irqfd, and device threads signal it without any lock.
 *
 * Everything the driver writes is checked: bad sizes, offsets, vectors, queue numbers and ring
 * addresses are counted (struct virtio_pci_stats), logged rate-limited and ignored; a ring
 * violation found later by the virtqueue sets DEVICE_NEEDS_RESET and raises the config interrupt
 * (s2.1.2). Register accesses may come from several vCPU threads at once (one internal lock);
 * interrupts may be raised from device threads.
 */
#ifndef NFV_VIRTIO_VIRTIO_PCI_H
#define NFV_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"
#include "kvm_irq.h"
#include "pci.h"
#include "virtio_dev.h"

#define VIRTIO_PCI_VENDOR_ID 0x1af4
#define VIRTIO_PCI_DEVICE_ID_BASE 0x1040
#define VIRTIO_PCI_MAX_QUEUES 64
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* BAR 0 layout. */
#define VIRTIO_PCI_BAR 0
#define VIRTIO_PCI_MSIX_BAR 2
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_COMMON_OFF 0x0000
#define VIRTIO_PCI_ISR_OFF 0x1000
#define VIRTIO_PCI_DEVICE_OFF 0x2000
#define VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4

/* Common configuration offsets (s4.1.4.3). */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_SIZE 0x38

/* Vendor capability types (s4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

struct virtio_pci_cfg {
	const char *name;		  /* for logs, e.g. "virtio-blk0" */
	const struct virtio_dev_ops *ops; /* the device type */
	void *opaque;			  /* the device, passed to ops */
	struct virtio_dev_info info;	  /* num_queues <= VIRTIO_PCI_MAX_QUEUES */
	struct gmem *gm;		  /* guest RAM for the rings */
	uint32_t class_code;		  /* 0: by device id (blk 0x018000, net 0x020000) */
	struct kvm_irq *kvm_irq;	  /* for ioeventfds; NULL: notifications by MMIO exit */
};

struct virtio_pci_stats {
	uint64_t bad_access; /* accesses of a bad size/offset, or to read-only fields */
	uint64_t bad_value;  /* out-of-range queue select, vector, queue size, status transition */
	uint64_t features_refused; /* FEATURES_OK refused (unknown bits, no VERSION_1, device said
				      no) */
	uint64_t ring_refused;	   /* queue_enable with rings outside RAM / misaligned / bad size */
	uint64_t needs_reset;	   /* DEVICE_NEEDS_RESET raised */
	uint64_t resets;
	uint64_t notifies; /* MMIO notifications (not counting ioeventfd ones) */
	uint64_t irqs_msix, irqs_intx;
};

struct virtio_pci;

/*
 * Add the device at @slot of @host. Returns 0, -EINVAL (bad cfg), or what pci_dev_add returned.
 * Queue threads start when the driver enables a queue.
 */
int virtio_pci_create(const struct virtio_pci_cfg *cfg, struct pci_host *host, unsigned slot,
		      struct virtio_pci **out) __attribute__((warn_unused_result));
/* Stop the queues, reset the device, remove the PCI function. vCPUs stopped. NULL-safe. */
void virtio_pci_destroy(struct virtio_pci *vp);

struct pci_dev *virtio_pci_dev(struct virtio_pci *vp);
uint8_t virtio_pci_status(struct virtio_pci *vp);
uint64_t virtio_pci_features(struct virtio_pci *vp); /* negotiated (after FEATURES_OK) */
void virtio_pci_get_stats(struct virtio_pci *vp, struct virtio_pci_stats *out);
/* The queue's struct vq (for statistics: error counters), or NULL. */
const struct vq *virtio_pci_vq(struct virtio_pci *vp, unsigned q);

/*
 * The eventfd bound (as a KVM irqfd) to the MSI-X vector the driver assigned to queue @q, or -1 when
 * MSI-X is off, the queue has no vector, or no eventfd is bound. A vhost-user backend given this fd as
 * its call fd interrupts the guest without passing through the VMM. Valid for the queue's current
 * set-up: read it at queue_start (s4.1.5.1.2: the vector is configured before the queue is enabled).
 */
int virtio_pci_queue_irqfd(struct virtio_pci *vp, unsigned q);

/* Tell the driver the device configuration changed (config_generation++, config interrupt). */
void virtio_pci_config_changed(struct virtio_pci *vp);

#endif
