/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Driver side of a split virtqueue (virtio 1.2 s2.7), for unit tests, fuzz targets and benchmarks
 * that play the guest against a device model in the same process. Not for production use: it
 * trusts its caller and does no checking of its own.
 */
#ifndef NFV_VIRTIO_VQ_DRV_H
#define NFV_VIRTIO_VQ_DRV_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtq.h"

struct vq_drv {
	uint8_t *hva; /* host mapping of guest RAM starting at gpa_base */
	uint64_t gpa_base;
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t avail_idx; /* next avail slot */
	uint16_t used_seen; /* next used slot to read */
};

static inline void *vqd_ptr(struct vq_drv *d, uint64_t gpa)
{
	return d->hva + (gpa - d->gpa_base);
}

/* Lay out the rings at @ring_gpa (desc, avail, used; each suitably aligned) and zero them. */
static inline void vqd_init(struct vq_drv *d, void *hva, uint64_t gpa_base, uint16_t size,
			    uint64_t ring_gpa)
{
	memset(d, 0, sizeof(*d));
	d->hva = hva;
	d->gpa_base = gpa_base;
	d->size = size;
	d->desc_gpa = ring_gpa;
	d->avail_gpa = ring_gpa + vring_desc_bytes(size);
	d->used_gpa = (d->avail_gpa + vring_avail_bytes(size) + 3) & ~3ull;
	memset(vqd_ptr(d, ring_gpa), 0, d->used_gpa + vring_used_bytes(size) - ring_gpa);
}

/* End of the ring memory (first free GPA after the used ring). */
static inline uint64_t vqd_end(const struct vq_drv *d)
{
	return d->used_gpa + vring_used_bytes(d->size);
}

static inline void vqd_cfg(const struct vq_drv *d, struct vq_cfg *c, bool event_idx, bool indirect)
{
	*c = (struct vq_cfg){.size = d->size,
			     .desc_gpa = d->desc_gpa,
			     .avail_gpa = d->avail_gpa,
			     .used_gpa = d->used_gpa,
			     .event_idx = event_idx,
			     .indirect = indirect};
}

static inline void vqd_desc_at(struct vq_drv *d, uint64_t table_gpa, uint16_t i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc v = {htole64(addr), htole32(len), htole16(flags), htole16(next)};

	memcpy(vqd_ptr(d, table_gpa + 16ull * i), &v, sizeof(v));
}

static inline void vqd_desc(struct vq_drv *d, uint16_t i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	vqd_desc_at(d, d->desc_gpa, i, addr, len, flags, next);
}

/* Make chain @head available and publish the new avail->idx (release). */
static inline void vqd_kick_head(struct vq_drv *d, uint16_t head)
{
	uint16_t *avail = vqd_ptr(d, d->avail_gpa);

	avail[2 + (d->avail_idx & (d->size - 1))] = htole16(head);
	d->avail_idx++;
	__atomic_store_n(&avail[1], htole16(d->avail_idx), __ATOMIC_RELEASE);
}

/* Set avail->idx to any value (hostile tests). */
static inline void vqd_set_avail_idx(struct vq_drv *d, uint16_t idx)
{
	uint16_t *avail = vqd_ptr(d, d->avail_gpa);

	d->avail_idx = idx;
	__atomic_store_n(&avail[1], htole16(idx), __ATOMIC_RELEASE);
}

static inline void vqd_set_avail_flags(struct vq_drv *d, uint16_t flags)
{
	uint16_t *avail = vqd_ptr(d, d->avail_gpa);

	avail[0] = htole16(flags);
}

static inline void vqd_set_used_event(struct vq_drv *d, uint16_t ev)
{
	uint16_t *avail = vqd_ptr(d, d->avail_gpa);

	__atomic_store_n(&avail[2 + d->size], htole16(ev), __ATOMIC_RELEASE);
}

static inline uint16_t vqd_avail_event(struct vq_drv *d)
{
	uint16_t *p = vqd_ptr(d, d->used_gpa + 4 + 8ull * d->size);

	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline uint16_t vqd_used_flags(struct vq_drv *d)
{
	uint16_t *used = vqd_ptr(d, d->used_gpa);

	return le16toh(__atomic_load_n(&used[0], __ATOMIC_ACQUIRE));
}

static inline uint16_t vqd_used_idx(struct vq_drv *d)
{
	uint16_t *used = vqd_ptr(d, d->used_gpa);

	return le16toh(__atomic_load_n(&used[1], __ATOMIC_ACQUIRE));
}

/* Take the next used element; false when there is none. */
static inline bool vqd_get_used(struct vq_drv *d, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem e;

	if (vqd_used_idx(d) == d->used_seen)
		return false;
	memcpy(&e, vqd_ptr(d, d->used_gpa + 4 + 8ull * (d->used_seen & (d->size - 1))), sizeof(e));
	d->used_seen++;
	*id = le32toh(e.id);
	*len = le32toh(e.len);
	return true;
}

/* ---- packed ring driver (virtio 1.2 s2.8) ---- */

#define VQ_PDRV_MAX_ID 256

struct vqd_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct vq_pdrv {
	uint8_t *hva;
	uint64_t gpa_base;
	uint16_t size;
	uint16_t avail_idx, used_idx;
	bool avail_wrap, used_wrap;
	uint64_t desc_gpa, drv_gpa, dev_gpa;
	uint16_t chain_len[VQ_PDRV_MAX_ID]; /* descriptors per outstanding buffer id */
};

/* Descriptor ring at @ring_gpa, then the driver and the device event areas; zeroed. */
static inline void vqp_init(struct vq_pdrv *p, void *hva, uint64_t gpa_base, uint16_t size,
			    uint64_t ring_gpa)
{
	memset(p, 0, sizeof(*p));
	p->hva = hva;
	p->gpa_base = gpa_base;
	p->size = size;
	p->avail_wrap = p->used_wrap = true; /* s2.8.1 */
	p->desc_gpa = ring_gpa;
	p->drv_gpa = ring_gpa + 16ull * size;
	p->dev_gpa = p->drv_gpa + 4;
	memset(p->hva + (ring_gpa - gpa_base), 0, 16ull * size + 8);
}

static inline void vqp_cfg(const struct vq_pdrv *p, struct vq_cfg *c, bool event_idx, bool indirect)
{
	*c = (struct vq_cfg){.size = p->size,
			     .desc_gpa = p->desc_gpa,
			     .avail_gpa = p->drv_gpa,
			     .used_gpa = p->dev_gpa,
			     .packed = true,
			     .event_idx = event_idx,
			     .indirect = indirect};
}

/* Make a chain available as buffer @id (< VQ_PDRV_MAX_ID); the head's flags are written last. */
static inline void vqp_add(struct vq_pdrv *p, const struct vqd_seg *segs, unsigned n, uint16_t id)
{
	uint16_t head_flags = 0, head = p->avail_idx;

	for (unsigned k = 0; k < n; k++) {
		struct vring_packed_desc d = {htole64(segs[k].gpa), htole32(segs[k].len),
					      htole16(id), 0};
		uint16_t f = (uint16_t)((p->avail_wrap ? VRING_PACKED_DESC_F_AVAIL
						       : VRING_PACKED_DESC_F_USED) |
					(segs[k].write ? VRING_DESC_F_WRITE : 0) |
					(k + 1 < n ? VRING_DESC_F_NEXT : 0));
		uint8_t *slot = p->hva + (p->desc_gpa - p->gpa_base) + 16ull * p->avail_idx;

		memcpy(slot, &d, 14);
		if (k == 0)
			head_flags = f;
		else
			__atomic_store_n((uint16_t *)(slot + 14), htole16(f), __ATOMIC_RELEASE);
		if (++p->avail_idx == p->size) {
			p->avail_idx = 0;
			p->avail_wrap = !p->avail_wrap;
		}
	}
	p->chain_len[id % VQ_PDRV_MAX_ID] = (uint16_t)n;
	__atomic_store_n((uint16_t *)(p->hva + (p->desc_gpa - p->gpa_base) + 16ull * head + 14),
			 htole16(head_flags), __ATOMIC_RELEASE);
}

/* Take the next used buffer; false when there is none. */
static inline bool vqp_get_used(struct vq_pdrv *p, uint32_t *id, uint32_t *len)
{
	uint8_t *slot = p->hva + (p->desc_gpa - p->gpa_base) + 16ull * p->used_idx;
	uint16_t f = le16toh(__atomic_load_n((uint16_t *)(slot + 14), __ATOMIC_ACQUIRE));
	struct vring_packed_desc d;
	uint16_t n;

	if (!!(f & VRING_PACKED_DESC_F_AVAIL) != p->used_wrap ||
	    !!(f & VRING_PACKED_DESC_F_USED) != p->used_wrap)
		return false;
	memcpy(&d, slot, sizeof(d));
	*id = le16toh(d.id);
	*len = le32toh(d.len);
	n = p->chain_len[*id % VQ_PDRV_MAX_ID];
	p->used_idx = (uint16_t)(p->used_idx + (n ? n : 1));
	if (p->used_idx >= p->size) {
		p->used_idx = (uint16_t)(p->used_idx - p->size);
		p->used_wrap = !p->used_wrap;
	}
	return true;
}

#endif
