// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO container/group/device handling (see vfio.h). The kernel side is include/uapi/linux/vfio.h;
 * the steps follow Documentation/driver-api/vfio.rst.
 */
#include "vfio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmem.h"
#include "log.h"
#include "util.h"

#define VFIO_NUM_REGIONS (VFIO_PCI_CONFIG_REGION_INDEX + 1)
#define VFIO_MAX_DMA 16

struct vfio_dev {
	char name[64];
	int container, group, fd;
	const struct vfio_dev_io *io;
	void *io_opaque;
	struct vfio_region region[VFIO_NUM_REGIONS];
	unsigned irq_count[VFIO_PCI_NUM_IRQS];
	bool can_reset;
	struct {
		uint64_t iova, size;
	} dma[VFIO_MAX_DMA];
	unsigned nr_dma;
	struct {
		void *hva;
		uint64_t size;
	} bar_map[VFIO_PCI_ROM_REGION_INDEX];
	unsigned irq_enabled; /* bitmask of indexes with triggers set */
};

/* ---- real device operations ---- */

static int real_region_info(void *opaque, unsigned index, struct vfio_region *out)
{
	struct vfio_dev *d = opaque;
	struct vfio_region_info *ri;
	size_t argsz = sizeof(*ri);
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (int pass = 0; pass < 2; pass++) {
		ri = calloc(1, argsz);
		if (!ri)
			return -ENOMEM;
		ri->argsz = (uint32_t)argsz;
		ri->index = index;
		if (ioctl(d->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
			ret = -errno;
			free(ri);
			return ret;
		}
		if (ri->argsz <= argsz || pass == 1 || ri->argsz > 65536)
			break;
		argsz = ri->argsz; /* capabilities follow: ask again with room for them */
		free(ri);
	}
	out->offset = ri->offset;
	out->size = ri->size;
	out->flags = ri->flags;
	if ((ri->flags & VFIO_REGION_INFO_FLAG_CAPS) && ri->cap_offset) {
		uint32_t off = ri->cap_offset;

		/* Walk the capability chain; the kernel wrote it, but bound it anyway. */
		for (int n = 0; n < 16 && off >= sizeof(*ri) &&
				off + sizeof(struct vfio_info_cap_header) <= argsz;
		     n++) {
			struct vfio_info_cap_header *h = (void *)((char *)ri + off);

			if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
				out->msix_mappable = true;
			} else if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
				   off + sizeof(struct vfio_region_info_cap_sparse_mmap) <= argsz) {
				struct vfio_region_info_cap_sparse_mmap *sp = (void *)h;
				uint32_t nr = sp->nr_areas;

				if (nr > VFIO_MAX_SPARSE)
					nr = VFIO_MAX_SPARSE;
				for (uint32_t i = 0; i < nr; i++) {
					if (off + sizeof(*sp) + (i + 1) * sizeof(sp->areas[0]) >
					    argsz)
						break;
					out->sparse[out->nr_sparse].offset = sp->areas[i].offset;
					out->sparse[out->nr_sparse].size = sp->areas[i].size;
					out->nr_sparse++;
				}
			}
			if (!h->next)
				break;
			off = h->next;
		}
	}
	free(ri);
	return 0;
}

static int real_irq_count(void *opaque, unsigned index, unsigned *count)
{
	struct vfio_dev *d = opaque;
	struct vfio_irq_info ii = {.argsz = sizeof(ii), .index = index};

	if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii))
		return -errno;
	*count = ii.count;
	return 0;
}

static int real_rw(void *opaque, unsigned index, uint64_t off, void *buf, size_t len, bool write)
{
	struct vfio_dev *d = opaque;
	uint64_t pos = d->region[index].offset + off;
	ssize_t n;

	n = write ? pwrite(d->fd, buf, len, (off_t)pos) : pread(d->fd, buf, len, (off_t)pos);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int real_set_irqs(void *opaque, unsigned index, uint32_t action, unsigned start,
			 unsigned count, const int *fds)
{
	struct vfio_dev *d = opaque;
	size_t argsz = sizeof(struct vfio_irq_set) + (size_t)count * sizeof(int32_t);
	struct vfio_irq_set *s = calloc(1, argsz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)argsz;
	s->index = index;
	s->start = start;
	s->count = count;
	s->flags = action | (count && fds ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	if (count && fds)
		memcpy(s->data, fds, count * sizeof(int32_t));
	else
		s->argsz = sizeof(*s);
	if (ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s))
		ret = -errno;
	free(s);
	return ret;
}

static int real_reset(void *opaque)
{
	struct vfio_dev *d = opaque;

	if (!d->can_reset)
		return -ENOTSUP;
	return ioctl(d->fd, VFIO_DEVICE_RESET) ? -errno : 0;
}

static const struct vfio_dev_io real_io = {
	.region_info = real_region_info,
	.irq_count = real_irq_count,
	.rw = real_rw,
	.set_irqs = real_set_irqs,
	.reset = real_reset,
};

/* ---- open / close ---- */

static struct vfio_dev *dev_alloc(const char *name)
{
	struct vfio_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	snprintf(d->name, sizeof(d->name), "vfio %s", name);
	d->container = d->group = d->fd = -1;
	return d;
}

static int load_info(struct vfio_dev *d)
{
	int ret;

	for (unsigned i = 0; i < VFIO_NUM_REGIONS; i++) {
		ret = d->io->region_info(d->io_opaque, i, &d->region[i]);
		if (ret == -EINVAL) /* index beyond what this device has */
			memset(&d->region[i], 0, sizeof(d->region[i]));
		else if (ret) {
			log_err("%s: VFIO_DEVICE_GET_REGION_INFO %u: %s", d->name, i,
				strerror(-ret));
			return ret;
		}
	}
	for (unsigned i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (d->io->irq_count(d->io_opaque, i, &d->irq_count[i]))
			d->irq_count[i] = 0;
	if (!d->region[VFIO_PCI_CONFIG_REGION_INDEX].size) {
		log_err("%s: no PCI config space region", d->name);
		return -ENODEV;
	}
	return 0;
}

int vfio_dev_create_io(const struct vfio_dev_io *io, void *opaque, const char *name,
		       struct vfio_dev **out)
{
	struct vfio_dev *d = dev_alloc(name);
	int ret;

	if (!d)
		return -ENOMEM;
	d->io = io;
	d->io_opaque = opaque;
	ret = load_info(d);
	if (ret) {
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

static int read_group(const struct vfio_dev_cfg *cfg, int *group)
{
	char p[PATH_MAX], t[PATH_MAX], *base, *end;
	ssize_t n;
	long g;

	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/iommu_group",
		 cfg->sysfs_root ? cfg->sysfs_root : "/sys", cfg->host);
	n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return -ENXIO;
	t[n] = '\0';
	base = strrchr(t, '/');
	base = base ? base + 1 : t;
	g = strtol(base, &end, 10);
	if (end == base || *end || g < 0 || g > INT32_MAX)
		return -EIO;
	*group = (int)g;
	return 0;
}

int vfio_dev_open(const struct vfio_dev_cfg *cfg, struct vfio_dev **out)
{
	const char *dir = cfg->vfio_dir ? cfg->vfio_dir : "/dev/vfio";
	struct vfio_group_status gs = {.argsz = sizeof(gs)};
	struct vfio_device_info di = {.argsz = sizeof(di)};
	struct vfio_dev *d;
	char p[PATH_MAX];
	int group, ret;

	if (!cfg->host || strlen(cfg->host) > 16 || strchr(cfg->host, '/'))
		return -EINVAL;
	d = dev_alloc(cfg->host);
	if (!d)
		return -ENOMEM;
	d->io = &real_io;
	d->io_opaque = d;

	ret = read_group(cfg, &group);
	if (ret) {
		log_err("%s: no IOMMU group (no IOMMU enabled, or not a PCI device)", d->name);
		goto fail;
	}
	snprintf(p, sizeof(p), "%s/vfio", dir);
	d->container = open(p, O_RDWR | O_CLOEXEC);
	if (d->container < 0) {
		ret = -errno;
		log_err("%s: %s: %s (vfio module not loaded?)", d->name, p, strerror(-ret));
		goto fail;
	}
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) <= 0) {
		log_err("%s: the kernel's VFIO lacks API version %d or the type-1 IOMMU "
			"(vfio_iommu_type1 not loaded?)",
			d->name, VFIO_API_VERSION);
		ret = -EPROTO;
		goto fail;
	}
	snprintf(p, sizeof(p), "%s/%d", dir, group);
	d->group = open(p, O_RDWR | O_CLOEXEC);
	if (d->group < 0) {
		ret = -errno;
		log_err("%s: %s: %s%s", d->name, p, strerror(-ret),
			ret == -EBUSY ? " (group in use by another process)" : "");
		goto fail;
	}
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &gs)) {
		ret = -errno;
		log_err("%s: VFIO_GROUP_GET_STATUS: %s", d->name, strerror(-ret));
		goto fail;
	}
	if (!(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_err("%s: IOMMU group %d is not viable: bind every device of "
			"/sys/kernel/iommu_groups/%d/devices to vfio-pci or unbind it",
			d->name, group, group);
		ret = -EPERM;
		goto fail;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container)) {
		ret = -errno;
		log_err("%s: VFIO_GROUP_SET_CONTAINER: %s", d->name, strerror(-ret));
		goto fail;
	}
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU)) {
		ret = -errno;
		log_err("%s: VFIO_SET_IOMMU(TYPE1): %s", d->name, strerror(-ret));
		goto fail;
	}
	d->fd = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, cfg->host);
	if (d->fd < 0) {
		ret = -errno;
		log_err("%s: VFIO_GROUP_GET_DEVICE_FD: %s%s", d->name, strerror(-ret),
			ret == -EBUSY ? " (device already in use)" : "");
		goto fail;
	}
	if (ioctl(d->fd, VFIO_DEVICE_GET_INFO, &di)) {
		ret = -errno;
		log_err("%s: VFIO_DEVICE_GET_INFO: %s", d->name, strerror(-ret));
		goto fail;
	}
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI)) {
		log_err("%s: not a PCI device", d->name);
		ret = -ENODEV;
		goto fail;
	}
	d->can_reset = di.flags & VFIO_DEVICE_FLAGS_RESET;
	ret = load_info(d);
	if (ret)
		goto fail;
	/* Start from a clean device: whatever the previous user (or the host driver) left. */
	if (!cfg->no_reset && d->can_reset && ioctl(d->fd, VFIO_DEVICE_RESET))
		log_warn("%s: VFIO_DEVICE_RESET: %s", d->name, strerror(errno));
	if (cfg->gm) {
		ret = vfio_dev_dma_map_gmem(d, cfg->gm);
		if (ret)
			goto fail;
	}
	*out = d;
	return 0;
fail:
	vfio_dev_close(d);
	return ret;
}

void vfio_dev_close(struct vfio_dev *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < VFIO_PCI_NUM_IRQS; i++)
		if (d->irq_enabled & (1u << i))
			(void)d->io->set_irqs(d->io_opaque, i, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0,
					      NULL);
	/* Quiesce the device before its DMA mappings go away (vfio.rst: reset on release). */
	if (d->fd >= 0 && d->can_reset && ioctl(d->fd, VFIO_DEVICE_RESET))
		log_warn("%s: VFIO_DEVICE_RESET on release: %s", d->name, strerror(errno));
	for (unsigned i = 0; i < ARRAY_SIZE(d->bar_map); i++)
		if (d->bar_map[i].hva)
			munmap(d->bar_map[i].hva, d->bar_map[i].size);
	while (d->nr_dma) {
		d->nr_dma--;
		if (vfio_dev_dma_unmap(d, d->dma[d->nr_dma].iova, d->dma[d->nr_dma].size))
			log_warn("%s: VFIO_IOMMU_UNMAP_DMA failed", d->name);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->group >= 0) {
		if (d->container >= 0)
			(void)ioctl(d->group, VFIO_GROUP_UNSET_CONTAINER);
		close(d->group);
	}
	if (d->container >= 0)
		close(d->container);
	free(d);
}

const char *vfio_dev_name(const struct vfio_dev *d)
{
	return d->name;
}

const struct vfio_region *vfio_dev_region(const struct vfio_dev *d, unsigned index)
{
	return index < VFIO_NUM_REGIONS ? &d->region[index] : NULL;
}

unsigned vfio_dev_irq_count(const struct vfio_dev *d, unsigned index)
{
	return index < VFIO_PCI_NUM_IRQS ? d->irq_count[index] : 0;
}

static int region_rw(struct vfio_dev *d, unsigned index, uint64_t off, void *buf, size_t len,
		     bool write)
{
	if (index >= VFIO_NUM_REGIONS || !len || len > d->region[index].size ||
	    off > d->region[index].size - len)
		return -EINVAL;
	return d->io->rw(d->io_opaque, index, off, buf, len, write);
}

int vfio_dev_read(struct vfio_dev *d, unsigned index, uint64_t off, void *buf, size_t len)
{
	return region_rw(d, index, off, buf, len, false);
}

int vfio_dev_write(struct vfio_dev *d, unsigned index, uint64_t off, const void *buf, size_t len)
{
	return region_rw(d, index, off, (void *)buf, len, true);
}

int vfio_dev_dma_map(struct vfio_dev *d, void *hva, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)hva,
		.iova = iova,
		.size = size,
	};

	if (d->container < 0)
		return 0; /* test double: nothing to map */
	if (d->nr_dma == VFIO_MAX_DMA)
		return -ENOSPC;
	if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &m)) {
		int ret = -errno;

		log_err("%s: VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%llx: %s", d->name,
			(unsigned long long)iova, (unsigned long long)size, strerror(-ret));
		return ret;
	}
	d->dma[d->nr_dma].iova = iova;
	d->dma[d->nr_dma].size = size;
	d->nr_dma++;
	return 0;
}

int vfio_dev_dma_unmap(struct vfio_dev *d, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u), .iova = iova, .size = size};

	if (d->container < 0)
		return 0;
	if (ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	for (unsigned i = 0; i < d->nr_dma; i++) {
		if (d->dma[i].iova == iova) {
			d->dma[i] = d->dma[--d->nr_dma];
			break;
		}
	}
	return 0;
}

int vfio_dev_dma_map_gmem(struct vfio_dev *d, struct gmem *gm)
{
	for (unsigned i = 0; i < gm->nr; i++) {
		int ret = vfio_dev_dma_map(d, gm->r[i].hva, gm->r[i].gpa, gm->r[i].size);

		if (ret)
			return ret;
	}
	return 0;
}

int vfio_dev_bar_mmap(struct vfio_dev *d, unsigned bar, void **hva, uint64_t *size)
{
	const struct vfio_region *r;
	uint8_t *base;

	if (bar >= ARRAY_SIZE(d->bar_map))
		return -EINVAL;
	r = &d->region[bar];
	if (d->bar_map[bar].hva) {
		*hva = d->bar_map[bar].hva;
		*size = d->bar_map[bar].size;
		return 0;
	}
	if (!r->size || !(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || d->fd < 0)
		return -ENOTSUP;
	/* Reserve the whole BAR inaccessible, then map the device-backed parts over it. */
	base = mmap(NULL, r->size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	for (unsigned i = 0; i < (r->nr_sparse ? r->nr_sparse : 1); i++) {
		uint64_t off = r->nr_sparse ? r->sparse[i].offset : 0;
		uint64_t len = r->nr_sparse ? r->sparse[i].size : r->size;

		if (!len)
			continue;
		if (off > r->size || len > r->size - off ||
		    mmap(base + off, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, d->fd,
			 (off_t)(r->offset + off)) == MAP_FAILED) {
			int ret = -errno;

			log_err("%s: mmap of BAR %u [0x%llx+0x%llx]: %s", d->name, bar,
				(unsigned long long)off, (unsigned long long)len,
				strerror(ret ? -ret : EINVAL));
			munmap(base, r->size);
			return ret ? ret : -EINVAL;
		}
	}
	d->bar_map[bar].hva = base;
	d->bar_map[bar].size = r->size;
	*hva = base;
	*size = r->size;
	return 0;
}

unsigned vfio_dev_bar_mmap_ranges(struct vfio_dev *d, unsigned bar, uint64_t (*ranges)[2],
				  unsigned max)
{
	const struct vfio_region *r;
	unsigned n = 0;

	if (bar >= ARRAY_SIZE(d->bar_map) || !d->bar_map[bar].hva)
		return 0;
	r = &d->region[bar];
	if (!r->nr_sparse) {
		if (max) {
			ranges[0][0] = 0;
			ranges[0][1] = r->size;
			n = 1;
		}
		return n;
	}
	for (unsigned i = 0; i < r->nr_sparse && n < max; i++) {
		if (!r->sparse[i].size)
			continue;
		ranges[n][0] = r->sparse[i].offset;
		ranges[n][1] = r->sparse[i].size;
		n++;
	}
	return n;
}

int vfio_dev_set_irq_fds(struct vfio_dev *d, unsigned index, unsigned start, unsigned count,
			 const int *fds)
{
	int ret;

	if (index >= VFIO_PCI_NUM_IRQS || start > d->irq_count[index] ||
	    count > d->irq_count[index] - start)
		return -EINVAL;
	ret = d->io->set_irqs(d->io_opaque, index, VFIO_IRQ_SET_ACTION_TRIGGER, start, count, fds);
	if (ret) {
		log_err("%s: VFIO_DEVICE_SET_IRQS index %u (%u vectors): %s", d->name, index, count,
			strerror(-ret));
		return ret;
	}
	if (count)
		d->irq_enabled |= 1u << index;
	else
		d->irq_enabled &= ~(1u << index);
	return 0;
}

int vfio_dev_intx_unmask_fd(struct vfio_dev *d, int fd)
{
	if (!d->irq_count[VFIO_PCI_INTX_IRQ_INDEX])
		return -ENOTSUP;
	return d->io->set_irqs(d->io_opaque, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0,
			       1, &fd);
}

int vfio_dev_intx_unmask(struct vfio_dev *d)
{
	if (!d->irq_count[VFIO_PCI_INTX_IRQ_INDEX])
		return -ENOTSUP;
	return d->io->set_irqs(d->io_opaque, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 0,
			       1, NULL);
}

int vfio_dev_reset(struct vfio_dev *d)
{
	return d->io->reset(d->io_opaque);
}
