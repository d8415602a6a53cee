/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO device access (Linux Documentation/driver-api/vfio.rst, include/uapi/linux/vfio.h):
 * container + group + device fd for one PCI function bound to vfio-pci, the type-1 IOMMU with
 * guest RAM mapped for DMA (iova = guest physical address), region access (config space, BARs),
 * BAR mmap, interrupts through eventfds (VFIO_DEVICE_SET_IRQS) and device reset.
 *
 * Opening (vfio_dev_open) follows vfio.rst "VFIO Usage Example":
 *   open /dev/vfio/vfio, VFIO_GET_API_VERSION == VFIO_API_VERSION, VFIO_CHECK_EXTENSION(TYPE1),
 *   open /dev/vfio/GROUP (GROUP from /sys/bus/pci/devices/ADDR/iommu_group), VFIO_GROUP_GET_STATUS
 *   must say VIABLE, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(TYPE1), VFIO_GROUP_GET_DEVICE_FD,
 *   VFIO_DEVICE_GET_INFO (must be a PCI device), then VFIO_DEVICE_RESET when supported.
 * Every error names the step and the device.
 *
 * For unit tests, a device can also be built on a struct vfio_dev_io test double that emulates
 * the region layout in memory (vfio_dev_create_io); nothing else changes.
 *
 * Not thread-safe: one owner (the VMM's device) serialises calls; region reads/writes are
 * pread/pwrite and may be issued from several threads.
 */
#ifndef NFV_VMM_VFIO_H
#define NFV_VMM_VFIO_H

#include <linux/vfio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gmem;
struct vfio_dev;

#define VFIO_MAX_SPARSE 8

/* One region of the device (VFIO_PCI_*_REGION_INDEX). */
struct vfio_region {
	uint64_t offset; /* within the device fd */
	uint64_t size;
	uint32_t flags;	    /* VFIO_REGION_INFO_FLAG_READ/WRITE/MMAP */
	bool msix_mappable; /* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE */
	/* VFIO_REGION_INFO_CAP_SPARSE_MMAP areas (offset, size) relative to the region; when
	 * nr_sparse is 0 and FLAG_MMAP is set, the whole region may be mapped. */
	unsigned nr_sparse;
	struct {
		uint64_t offset, size;
	} sparse[VFIO_MAX_SPARSE];
};

/* Device operations; the real ones are ioctls/pread/pwrite on the VFIO device fd. */
struct vfio_dev_io {
	int (*region_info)(void *opaque, unsigned index, struct vfio_region *out);
	int (*irq_count)(void *opaque, unsigned index, unsigned *count);
	/* Read/write @len bytes at @off of region @index. 0 or -errno. */
	int (*rw)(void *opaque, unsigned index, uint64_t off, void *buf, size_t len, bool write);
	/* VFIO_DEVICE_SET_IRQS: @fds[count] (eventfds, -1 = none) for @action; count 0 disables. */
	int (*set_irqs)(void *opaque, unsigned index, uint32_t action, unsigned start,
			unsigned count, const int *fds);
	int (*reset)(void *opaque);
};

struct vfio_dev_cfg {
	const char *host;	/* PCI address "dddd:bb:dd.f" of a device bound to vfio-pci */
	const char *sysfs_root; /* NULL: "/sys" */
	const char *vfio_dir;	/* NULL: "/dev/vfio" */
	struct gmem *gm;	/* guest RAM to map for DMA (may be NULL: map later) */
	bool no_reset;		/* skip the reset on open (tests of devices without one) */
};

/*
 * Open the device and map @cfg->gm for DMA. Errors: -ENXIO (no IOMMU group: no IOMMU), -ENOENT
 * (/dev/vfio/vfio missing: vfio module not loaded), -EPERM (group not viable: another device of
 * the group is bound to a host driver), -EBUSY (group or device already open elsewhere),
 * -EPROTO (VFIO API / TYPE1 missing), -ENODEV (not a PCI device), or the ioctl's -errno.
 */
int vfio_dev_open(const struct vfio_dev_cfg *cfg, struct vfio_dev **out)
	__attribute__((warn_unused_result));
/* A device built on test-double operations (no container, no DMA). */
int vfio_dev_create_io(const struct vfio_dev_io *io, void *opaque, const char *name,
		       struct vfio_dev **out) __attribute__((warn_unused_result));
/* Disable interrupts, reset the device (when supported), unmap DMA and BARs, close. NULL-safe. */
void vfio_dev_close(struct vfio_dev *dev);

const char *vfio_dev_name(const struct vfio_dev *dev);
/* Region @index (VFIO_PCI_BAR0_REGION_INDEX .. VFIO_PCI_CONFIG_REGION_INDEX), cached at open. */
const struct vfio_region *vfio_dev_region(const struct vfio_dev *dev, unsigned index);
/* Number of vectors of interrupt @index (VFIO_PCI_INTX/MSI/MSIX_IRQ_INDEX); 0 when absent. */
unsigned vfio_dev_irq_count(const struct vfio_dev *dev, unsigned index);

/* Region access; a range outside the region is -EINVAL. 0 or -errno. */
int vfio_dev_read(struct vfio_dev *dev, unsigned index, uint64_t off, void *buf, size_t len)
	__attribute__((warn_unused_result));
int vfio_dev_write(struct vfio_dev *dev, unsigned index, uint64_t off, const void *buf, size_t len)
	__attribute__((warn_unused_result));

/* Map [hva, hva+size) at @iova for device DMA (VFIO_IOMMU_MAP_DMA, read+write) / unmap it. */
int vfio_dev_dma_map(struct vfio_dev *dev, void *hva, uint64_t iova, uint64_t size)
	__attribute__((warn_unused_result));
int vfio_dev_dma_unmap(struct vfio_dev *dev, uint64_t iova, uint64_t size)
	__attribute__((warn_unused_result));
/* Map every region of @gm (hva at gpa). Undone by vfio_dev_close. */
int vfio_dev_dma_map_gmem(struct vfio_dev *dev, struct gmem *gm)
	__attribute__((warn_unused_result));

/*
 * mmap BAR @bar (shared, read/write) so that it can be given to the guest as a KVM memslot.
 * *hva covers the whole BAR (*size bytes); only the parts listed as mmappable by the kernel are
 * backed by the device, the rest (the MSI-X table/PBA page when the kernel does not allow mapping
 * it) is PROT_NONE and must be trapped: the caller registers memslots only for the ranges
 * vfio_dev_bar_mmap_ranges reports. Returns 0, -ENOTSUP (BAR not mmappable: trap all of it) or
 * -errno. The mapping lives until vfio_dev_close.
 */
int vfio_dev_bar_mmap(struct vfio_dev *dev, unsigned bar, void **hva, uint64_t *size)
	__attribute__((warn_unused_result));
/* The device-backed ranges of a mapped BAR: up to @max (offset, size) pairs; returns the count. */
unsigned vfio_dev_bar_mmap_ranges(struct vfio_dev *dev, unsigned bar, uint64_t (*ranges)[2],
				  unsigned max);

/*
 * Interrupts: bind @count eventfds to vectors start.. of @index (ACTION_TRIGGER); count 0
 * disables the index. vfio_dev_intx_unmask_fd binds an eventfd whose signal unmasks INTx
 * (ACTION_UNMASK): the resamplefd of a KVM irqfd with KVM_IRQFD_FLAG_RESAMPLE.
 */
int vfio_dev_set_irq_fds(struct vfio_dev *dev, unsigned index, unsigned start, unsigned count,
			 const int *fds) __attribute__((warn_unused_result));
int vfio_dev_intx_unmask_fd(struct vfio_dev *dev, int fd) __attribute__((warn_unused_result));
int vfio_dev_intx_unmask(struct vfio_dev *dev) __attribute__((warn_unused_result));

/* VFIO_DEVICE_RESET (function-level reset). -ENOTSUP when the device has no reset. */
int vfio_dev_reset(struct vfio_dev *dev) __attribute__((warn_unused_result));

#endif
