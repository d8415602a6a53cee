/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between a virtio device type (blk, net...) and a virtio transport (virtio-pci).
 *
 * The transport owns the common configuration (virtio 1.2 s4.1.4.3): feature words, device
 * status, queue size/addresses/enable. It calls into the device through struct virtio_dev_ops and
 * gives each enabled queue a struct vq whose call hook raises that queue's interrupt and whose
 * on_broken hook sets DEVICE_NEEDS_RESET (s2.1.1). The device never sees PCI.
 */
#ifndef NFV_VIRTIO_VIRTIO_DEV_H
#define NFV_VIRTIO_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/* Device status bits (virtio 1.2 s2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Device ids (virtio 1.2 s5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

struct virtio_dev_info {
	uint16_t device_id; /* VIRTIO_ID_* */
	uint16_t num_queues;
	uint16_t max_queue_size; /* per queue, power of two */
	uint32_t config_size;	 /* bytes of device-specific configuration */
};

/*
 * Callbacks into the device. @opaque is the device. Unless noted they run on the thread that
 * handles the transport's register accesses (a vCPU thread), one at a time.
 */
struct virtio_dev_ops {
	/* Offered features (all 64 bits; the transport adds nothing of its own). */
	uint64_t (*get_features)(void *opaque);
	/*
	 * The driver set FEATURES_OK with @features (already a subset of the offer). Return 0 to
	 * accept, or -errno to leave FEATURES_OK clear (s2.2.2).
	 */
	int (*set_features)(void *opaque, uint64_t features);
	/* Device config space (s4.1.4.6): @off + @len <= config_size, checked by the transport. */
	void (*config_read)(void *opaque, uint32_t off, void *buf, uint32_t len);
	void (*config_write)(void *opaque, uint32_t off, const void *buf, uint32_t len);
	/*
	 * Queue @q was enabled; @vq is set up (vq_setup succeeded) and stays valid until
	 * queue_stop(). The device may start serving it from its own threads. 0 or -errno.
	 */
	int (*queue_start)(void *opaque, unsigned q, struct vq *vq);
	/* Stop using queue @q; on return no device thread touches its vq any more. */
	void (*queue_stop)(void *opaque, unsigned q);
	/* Eventfd the transport should bind to the queue's notify address (KVM ioeventfd), or -1.
	 */
	int (*queue_kick_fd)(void *opaque, unsigned q);
	/* Driver notification for queue @q that arrived as an MMIO write (no ioeventfd). */
	void (*queue_notify)(void *opaque, unsigned q);
	/* Device reset (s2.4): every queue was already stopped. */
	void (*reset)(void *opaque);
};

#endif
