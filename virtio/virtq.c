// SPDX-License-Identifier: GPL-2.0-only
/* Device side of split virtqueues, virtio 1.2 s2.7. See virtq.h for the contract. */
#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *const vq_err_names[VQ_ERR__MAX] = {
	[VQ_ERR_RING] = "ring",	      [VQ_ERR_AVAIL_IDX] = "avail_idx", [VQ_ERR_HEAD] = "head",
	[VQ_ERR_NEXT] = "next",	      [VQ_ERR_CHAIN] = "chain",	      [VQ_ERR_ADDR] = "addr",
	[VQ_ERR_ORDER] = "order",     [VQ_ERR_INDIRECT] = "indirect", [VQ_ERR_NESTED] = "nested",
	[VQ_ERR_LEN] = "len",	      [VQ_ERR_IOV] = "iov",
};

const char *vq_err_name(enum vq_err e)
{
	return (unsigned)e < VQ_ERR__MAX ? vq_err_names[e] : "?";
}

void vq_init(struct vq *vq, struct gmem *gm, const char *name, uint16_t index)
{
	memset(vq, 0, sizeof(*vq));
	vq->gm = gm;
	vq->name = name ? name : "virtio";
	vq->index = index;
}

void vq_set_broken(struct vq *vq, enum vq_err why)
{
	__atomic_add_fetch(&vq->err[why], 1, __ATOMIC_RELAXED);
	log_rl(LOGL_WARN, "%s: queue %u: driver error '%s' (avail %u, used %u): queue stopped until reset",
	       vq->name, vq->index, vq_err_name(why), vq->last_avail, vq->used_idx);
	if (!vq->broken) {
		vq->broken = true;
		if (vq->on_broken)
			vq->on_broken(vq, vq->broken_opaque);
	}
}

/* Count a driver error, break the queue; returns -EIO for the caller to pass up. */
static int vq_bad(struct vq *vq, enum vq_err why)
{
	vq_set_broken(vq, why);
	return -EIO;
}

int vq_setup(struct vq *vq, const struct vq_cfg *cfg)
{
	unsigned size = cfg->size;
	void *desc, *avail, *used;

	vq_reset(vq);
	/* s2.7: Queue Size is a power of 2 up to 32768; s2.7.1 (alignment table): 16, 2, 4. */
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)) || !IS_ALIGNED(cfg->desc_gpa, 16) ||
	    !IS_ALIGNED(cfg->avail_gpa, 2) || !IS_ALIGNED(cfg->used_gpa, 4))
		goto bad;
	desc = gmem_ptr(vq->gm, cfg->desc_gpa, vring_desc_bytes(size));
	avail = gmem_ptr(vq->gm, cfg->avail_gpa, vring_avail_bytes(size));
	used = gmem_ptr(vq->gm, cfg->used_gpa, vring_used_bytes(size));
	if (!desc || !avail || !used)
		goto bad;
	vq->size = (uint16_t)size; /* 32768 fits */
	vq->desc_gpa = cfg->desc_gpa;
	vq->avail = avail;
	vq->used_hdr = used;
	vq->used_ring = (volatile struct vring_used_elem *)((uint8_t *)used + 4);
	vq->avail_event = (volatile uint16_t *)((uint8_t *)used + 4 + 8ull * size);
	vq->event_idx = cfg->event_idx;
	vq->indirect = cfg->indirect;
	vq->broken = false;
	vq->ready = true;
	return 0;
bad:
	__atomic_add_fetch(&vq->err[VQ_ERR_RING], 1, __ATOMIC_RELAXED);
	log_rl(LOGL_WARN,
	       "%s: queue %u: refusing rings size %u desc 0x%llx avail 0x%llx used 0x%llx "
	       "(size not a power of two, misaligned or outside guest RAM)",
	       vq->name, vq->index, size, (unsigned long long)cfg->desc_gpa,
	       (unsigned long long)cfg->avail_gpa, (unsigned long long)cfg->used_gpa);
	return -EINVAL;
}

void vq_reset(struct vq *vq)
{
	vq->ready = false;
	vq->broken = false;
	vq->size = 0;
	vq->avail = NULL;
	vq->used_hdr = NULL;
	vq->used_ring = NULL;
	vq->avail_event = NULL;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
}

static inline uint16_t vq_avail_idx(struct vq *vq)
{
	/* Acquire: ring entries written before idx are visible once we see idx (s2.7.13). */
	return le16toh(__atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE));
}

uint16_t vq_avail_count(struct vq *vq)
{
	uint16_t n;

	if (!vq->ready || vq->broken)
		return 0;
	n = (uint16_t)(vq_avail_idx(vq) - vq->last_avail);
	return n <= vq->size ? n : 0;
}

/*
 * Append [gpa, gpa+len) to elem->iov. A buffer may cross from one guest RAM region into an
 * adjacent one, so it is split at region ends; every piece is inside guest RAM.
 */
static int vq_map_buf(struct vq *vq, struct vq_elem *elem, unsigned *n, uint64_t gpa, uint32_t len)
{
	while (len) {
		const struct gmem_region *r = gmem_find(vq->gm, gpa, 1);
		uint64_t chunk;

		if (!r) {
			__atomic_add_fetch(&vq->gm->bad_accesses, 1, __ATOMIC_RELAXED);
			return vq_bad(vq, VQ_ERR_ADDR);
		}
		if (*n >= elem->max_iov)
			return vq_bad(vq, VQ_ERR_IOV);
		chunk = MIN((uint64_t)len, r->size - (gpa - r->gpa));
		elem->iov[*n].iov_base = r->hva + (gpa - r->gpa);
		elem->iov[*n].iov_len = chunk;
		(*n)++;
		gpa += chunk; /* cannot wrap: the chunk ends inside region r */
		len -= (uint32_t)chunk;
	}
	return 0;
}

/* Add one (already copied) descriptor's buffer to the element, enforcing readable-then-writable. */
static int vq_add_desc(struct vq *vq, struct vq_elem *elem, unsigned *n, const struct vring_desc *d,
		       uint64_t *total)
{
	uint32_t len = le32toh(d->len);
	uint64_t addr = le64toh(d->addr);
	bool wr = le16toh(d->flags) & VRING_DESC_F_WRITE;

	/* s2.7.4.2: device-writable descriptors come after all device-readable ones. */
	if (!wr && elem->n_in)
		return vq_bad(vq, VQ_ERR_ORDER);
	*total += len;
	if (*total > UINT32_MAX)
		return vq_bad(vq, VQ_ERR_LEN);
	if (len && addr + len < addr) /* wraps at 2^64 */
		return vq_bad(vq, VQ_ERR_ADDR);
	{
		unsigned before = *n;
		int ret = vq_map_buf(vq, elem, n, addr, len);

		if (ret < 0)
			return ret;
		if (wr) {
			elem->n_in += (uint16_t)(*n - before);
			elem->in_len += len;
		} else {
			elem->n_out += (uint16_t)(*n - before);
			elem->out_len += len;
		}
	}
	return 0;
}

/* Walk an indirect table (s2.7.5.3): its own index space, at most len/16 entries, no nesting. */
static int vq_walk_indirect(struct vq *vq, struct vq_elem *elem, unsigned *n,
			    const struct vring_desc *ind, uint64_t *total)
{
	uint64_t addr = le64toh(ind->addr);
	uint32_t len = le32toh(ind->len);
	const uint8_t *table;
	unsigned count, i = 0;

	/* s2.7.5.3.1: INDIRECT and NEXT are exclusive; the table holds whole descriptors. */
	if (!vq->indirect || (le16toh(ind->flags) & VRING_DESC_F_NEXT) || len == 0 || len % 16 ||
	    len / 16 > VQ_MAX_SIZE)
		return vq_bad(vq, VQ_ERR_INDIRECT);
	table = gmem_ptr(vq->gm, addr, len);
	if (!table)
		return vq_bad(vq, VQ_ERR_INDIRECT);
	count = len / 16;
	for (unsigned steps = 0; steps < count; steps++) {
		struct vring_desc d;
		uint16_t flags;
		int ret;

		memcpy(&d, table + 16ull * i, sizeof(d)); /* read once */
		flags = le16toh(d.flags);
		if (flags & VRING_DESC_F_INDIRECT)
			return vq_bad(vq, VQ_ERR_NESTED);
		ret = vq_add_desc(vq, elem, n, &d, total);
		if (ret < 0)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= count)
			return vq_bad(vq, VQ_ERR_NEXT);
	}
	return vq_bad(vq, VQ_ERR_CHAIN);
}

int vq_pop(struct vq *vq, struct vq_elem *elem)
{
	const uint8_t *table;
	uint16_t avail_idx, head, i;
	uint64_t total = 0;
	unsigned n = 0;

	if (!vq->ready || vq->broken)
		return -EIO;
	avail_idx = vq_avail_idx(vq);
	if (avail_idx == vq->last_avail)
		return 0;
	/* s2.7.6: the driver can be at most a queue size ahead of the device. */
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return vq_bad(vq, VQ_ERR_AVAIL_IDX);
	head = le16toh(vq->avail[2 + (vq->last_avail & (vq->size - 1))]);
	if (head >= vq->size)
		return vq_bad(vq, VQ_ERR_HEAD);
	vq->last_avail++;

	elem->head = head;
	elem->n_out = elem->n_in = 0;
	elem->out_len = elem->in_len = 0;
	/* The table was checked to be inside guest RAM at setup; it stays mapped while ready. */
	table = gmem_ptr(vq->gm, vq->desc_gpa, vring_desc_bytes(vq->size));
	if (!table)
		return vq_bad(vq, VQ_ERR_RING);
	i = head;
	/* A chain visits each descriptor at most once: more than size steps means a loop. */
	for (unsigned steps = 0; steps < vq->size; steps++) {
		struct vring_desc d;
		uint16_t flags;
		int ret;

		memcpy(&d, table + 16ull * i, sizeof(d)); /* read once; the guest may change it */
		flags = le16toh(d.flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* s2.7.5.3.1: an indirect descriptor is the only one in its chain here. */
			if (steps != 0)
				return vq_bad(vq, VQ_ERR_INDIRECT);
			ret = vq_walk_indirect(vq, elem, &n, &d, &total);
			if (ret < 0)
				return ret;
			vq->popped++;
			return 1;
		}
		ret = vq_add_desc(vq, elem, &n, &d, &total);
		if (ret < 0)
			return ret;
		if (!(flags & VRING_DESC_F_NEXT)) {
			vq->popped++;
			return 1;
		}
		i = le16toh(d.next);
		if (i >= vq->size)
			return vq_bad(vq, VQ_ERR_NEXT);
	}
	return vq_bad(vq, VQ_ERR_CHAIN);
}

void vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
	volatile struct vring_used_elem *e;

	if (!vq->ready)
		return;
	e = &vq->used_ring[vq->used_idx & (vq->size - 1)];
	e->id = htole32(head);
	e->len = htole32(len);
	vq->used_idx++;
	/* Release: the element is visible before the index that publishes it (s2.7.8). */
	__atomic_store_n(&vq->used_hdr[1], htole16(vq->used_idx), __ATOMIC_RELEASE);
	vq->pushed++;
}

bool vq_needs_call(struct vq *vq)
{
	uint16_t old, new_idx, event;
	bool valid;

	if (!vq->ready)
		return false;
	/* Our used->idx store must be visible before we read the driver's suppression fields. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx) /* s2.7.7.1 without VIRTIO_F_EVENT_IDX: the flags hint */
		return !(le16toh(vq->avail[0]) & VRING_AVAIL_F_NO_INTERRUPT);

	/* s2.7.7.1 with VIRTIO_F_EVENT_IDX: interrupt when used idx passes used_event. */
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	new_idx = vq->used_idx;
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	event = le16toh(vq->avail[2 + vq->size]);
	return vring_need_event(event, new_idx, old);
}

void vq_call_if_needed(struct vq *vq)
{
	if (vq_needs_call(vq)) {
		vq->calls++;
		if (vq->call)
			vq->call(vq->call_opaque);
	} else {
		vq->suppressed_calls++;
	}
}

void vq_disable_notify(struct vq *vq)
{
	if (!vq->ready || vq->event_idx) /* with event idx, a stale avail_event suppresses kicks */
		return;
	vq->used_hdr[0] = htole16(VRING_USED_F_NO_NOTIFY);
}

bool vq_enable_notify(struct vq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx)
		*vq->avail_event = htole16(vq->last_avail); /* s2.7.10: kick when idx passes this */
	else
		vq->used_hdr[0] = 0;
	/* The store above must be visible before we look at avail->idx again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_avail_idx(vq) != vq->last_avail;
}
