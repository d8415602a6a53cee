// SPDX-License-Identifier: GPL-2.0-only
/* Device side of split virtqueues, virtio 1.2 s2.7. See virtq.h for the contract. */
#include "virtq.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static const char *const vq_err_names[VQ_ERR__MAX] = {
	[VQ_ERR_RING] = "ring",	    [VQ_ERR_AVAIL_IDX] = "avail_idx",
	[VQ_ERR_HEAD] = "head",	    [VQ_ERR_NEXT] = "next",
	[VQ_ERR_CHAIN] = "chain",   [VQ_ERR_ADDR] = "addr",
	[VQ_ERR_ORDER] = "order",   [VQ_ERR_INDIRECT] = "indirect",
	[VQ_ERR_NESTED] = "nested", [VQ_ERR_LEN] = "len",
	[VQ_ERR_IOV] = "iov",
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
	log_rl(LOGL_WARN,
	       "%s: queue %u: driver error '%s' (avail %u, used %u): queue stopped until reset",
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

static int vq_add_desc(struct vq *vq, struct vq_elem *elem, unsigned *n, const struct vring_desc *d,
		       uint64_t *total);

/* ---- packed rings (virtio 1.2 s2.8) ---- */

static int vq_setup_packed(struct vq *vq, const struct vq_cfg *cfg)
{
	unsigned size = cfg->size;
	void *desc, *drv, *dev;

	/* s2.8.10.1 alignment: descriptor ring 16, event areas 4; any size up to 32768. */
	if (size == 0 || size > VQ_MAX_SIZE || !IS_ALIGNED(cfg->desc_gpa, 16) ||
	    !IS_ALIGNED(cfg->avail_gpa, 4) || !IS_ALIGNED(cfg->used_gpa, 4))
		goto bad;
	desc = gmem_ptr(vq->gm, cfg->desc_gpa, 16ull * size);
	drv = gmem_ptr(vq->gm, cfg->avail_gpa, 4);
	dev = gmem_ptr(vq->gm, cfg->used_gpa, 4);
	if (!desc || !drv || !dev)
		goto bad;
	vq->pk_ndesc = calloc(size, sizeof(*vq->pk_ndesc));
	if (!vq->pk_ndesc)
		return -ENOMEM;
	vq->packed = true;
	vq->size = (uint16_t)size;
	vq->desc_gpa = cfg->desc_gpa;
	vq->pdesc = desc;
	vq->driver_event = drv;
	vq->device_event = dev;
	vq->avail_wrap = vq->used_wrap = true; /* s2.8.1: both wrap counters start at 1 */
	vq->event_idx = cfg->event_idx;
	vq->indirect = cfg->indirect;
	vq->ready = true;
	return 0;
bad:
	__atomic_add_fetch(&vq->err[VQ_ERR_RING], 1, __ATOMIC_RELAXED);
	log_rl(LOGL_WARN,
	       "%s: queue %u: refusing packed ring size %u desc 0x%llx driver 0x%llx device 0x%llx",
	       vq->name, vq->index, size, (unsigned long long)cfg->desc_gpa,
	       (unsigned long long)cfg->avail_gpa, (unsigned long long)cfg->used_gpa);
	return -EINVAL;
}

/* s2.8.1: available when AVAIL matches the wrap counter and USED does not. */
static bool vq_packed_is_avail(uint16_t flags, bool wrap)
{
	return !!(flags & VRING_PACKED_DESC_F_AVAIL) == wrap &&
	       !!(flags & VRING_PACKED_DESC_F_USED) != wrap;
}

/* Read descriptor @i once: flags first with acquire (s2.8.20), then the rest. */
static uint16_t vq_packed_read(struct vq *vq, uint16_t i, struct vring_packed_desc *d)
{
	uint16_t flags = le16toh(__atomic_load_n(&vq->pdesc[i].flags, __ATOMIC_ACQUIRE));

	d->addr = le64toh(vq->pdesc[i].addr);
	d->len = le32toh(vq->pdesc[i].len);
	d->id = le16toh(vq->pdesc[i].id);
	d->flags = flags;
	return flags;
}

/* An indirect table of a packed ring (s2.8.19): sequential entries, no nesting. */
static int vq_packed_indirect(struct vq *vq, struct vq_elem *elem, unsigned *n,
			      const struct vring_packed_desc *ind, uint64_t *total)
{
	const uint8_t *table;
	unsigned count;

	if (!vq->indirect || (ind->flags & VRING_DESC_F_NEXT) || ind->len == 0 || ind->len % 16 ||
	    ind->len / 16 > VQ_MAX_SIZE)
		return vq_bad(vq, VQ_ERR_INDIRECT);
	table = gmem_ptr(vq->gm, ind->addr, ind->len);
	if (!table)
		return vq_bad(vq, VQ_ERR_INDIRECT);
	count = ind->len / 16;
	for (unsigned i = 0; i < count; i++) {
		struct vring_packed_desc p;
		struct vring_desc d;
		int ret;

		memcpy(&p, table + 16ull * i, sizeof(p)); /* read once */
		if (le16toh(p.flags) & VRING_DESC_F_INDIRECT)
			return vq_bad(vq, VQ_ERR_NESTED);
		d = (struct vring_desc){.addr = p.addr, .len = p.len, .flags = p.flags};
		ret = vq_add_desc(vq, elem, n, &d, total);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int vq_pop_packed(struct vq *vq, struct vq_elem *elem)
{
	uint16_t i = vq->last_avail, id = 0;
	bool wrap = vq->avail_wrap;
	uint64_t total = 0;
	unsigned n = 0, steps;

	elem->n_out = elem->n_in = 0;
	elem->out_len = elem->in_len = 0;
	for (steps = 0; steps < vq->size; steps++) {
		struct vring_packed_desc p;
		uint16_t flags = vq_packed_read(vq, i, &p);
		int ret;

		if (!vq_packed_is_avail(flags, wrap)) {
			if (steps == 0)
				return 0;		 /* nothing new */
			return vq_bad(vq, VQ_ERR_CHAIN); /* chain continues into a stale slot */
		}
		if (flags & VRING_DESC_F_INDIRECT) {
			if (steps != 0)
				return vq_bad(vq, VQ_ERR_INDIRECT);
			ret = vq_packed_indirect(vq, elem, &n, &p, &total);
		} else {
			struct vring_desc d = {.addr = htole64(p.addr),
					       .len = htole32(p.len),
					       .flags = htole16(flags)};

			ret = vq_add_desc(vq, elem, &n, &d, &total);
		}
		if (ret < 0)
			return ret;
		if (++i == vq->size) {
			i = 0;
			wrap = !wrap;
		}
		if (!(flags & VRING_DESC_F_NEXT)) {
			id = p.id; /* s2.8.6: the buffer id is in the last descriptor */
			break;
		}
	}
	if (steps == vq->size)
		return vq_bad(vq, VQ_ERR_CHAIN);
	if (id >= vq->size)
		return vq_bad(vq, VQ_ERR_HEAD);
	vq->pk_ndesc[id] = (uint16_t)(steps + 1);
	vq->last_avail = i;
	vq->avail_wrap = wrap;
	elem->head = id;
	vq->popped++;
	return 1;
}

/* s2.8.7 (used descriptors): one per buffer, written at our used position, flags last. */
static void vq_push_packed(struct vq *vq, uint16_t id, uint32_t len)
{
	volatile struct vring_packed_desc *d = &vq->pdesc[vq->used_idx];
	uint16_t ndesc = id < vq->size && vq->pk_ndesc[id] ? vq->pk_ndesc[id] : 1;
	uint16_t flags = vq->used_wrap ? VRING_PACKED_DESC_F_AVAIL | VRING_PACKED_DESC_F_USED : 0;

	d->id = htole16(id);
	d->len = htole32(len);
	__atomic_store_n(&d->flags, htole16(flags), __ATOMIC_RELEASE);
	if (id < vq->size)
		vq->pk_ndesc[id] = 0;
	/* ndesc <= size, so one subtraction brings the index back into the ring. */
	vq->used_idx = (uint16_t)(vq->used_idx + ndesc);
	if (vq->used_idx >= vq->size) {
		vq->used_idx = (uint16_t)(vq->used_idx - vq->size);
		vq->used_wrap = !vq->used_wrap;
	}
	vq->used_ctr = (uint16_t)(vq->used_ctr + ndesc);
	vq->pushed++;
}

/* s2.8.10: the driver event suppression area decides whether it wants an interrupt. */
static bool vq_needs_call_packed(struct vq *vq)
{
	struct vring_packed_event ev;
	uint16_t old = vq->signalled_used, new_ctr = vq->used_ctr, off;
	bool valid = vq->signalled_valid, wrap;
	int32_t back;

	vq->signalled_used = new_ctr;
	vq->signalled_valid = true;
	ev.flags = le16toh(vq->driver_event->flags);
	ev.off_wrap = le16toh(vq->driver_event->off_wrap);
	if (ev.flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (ev.flags != VRING_PACKED_EVENT_FLAG_DESC || !vq->event_idx)
		return true; /* ENABLE, or a value we do not know: interrupt rather than hang */
	if (!valid)
		return true;
	off = ev.off_wrap & 0x7fff;
	wrap = ev.off_wrap >> 15;
	if (off >= vq->size)
		return true;
	/* Where the event slot lies relative to our used position, in ring slots. */
	if (wrap == vq->used_wrap)
		back = (int32_t)vq->used_idx - off;
	else if (off <= vq->used_idx)
		back = (int32_t)vq->used_idx - off - vq->size; /* next lap: ahead of us */
	else
		back = (int32_t)vq->used_idx + vq->size - off; /* previous lap */
	return vring_need_event((uint16_t)(new_ctr - back), new_ctr, old);
}

int vq_setup(struct vq *vq, const struct vq_cfg *cfg)
{
	unsigned size = cfg->size;
	void *desc, *avail, *used;

	vq_reset(vq);
	if (cfg->packed)
		return vq_setup_packed(vq, cfg);
	/* s2.7: Queue Size is a power of 2 up to 32768; s2.7.1 (alignment table): 16, 2, 4. */
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1)) ||
	    !IS_ALIGNED(cfg->desc_gpa, 16) || !IS_ALIGNED(cfg->avail_gpa, 2) ||
	    !IS_ALIGNED(cfg->used_gpa, 4))
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
	free(vq->pk_ndesc);
	vq->pk_ndesc = NULL;
	vq->packed = false;
	vq->pdesc = NULL;
	vq->driver_event = vq->device_event = NULL;
	vq->avail_wrap = vq->used_wrap = false;
	vq->used_ctr = 0;
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
	if (vq->packed) {
		struct vring_packed_desc d;

		return vq_packed_is_avail(vq_packed_read(vq, vq->last_avail, &d), vq->avail_wrap);
	}
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
	if (vq->packed)
		return vq_pop_packed(vq, elem);
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
	if (vq->packed) {
		vq_push_packed(vq, head, len);
		return;
	}
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
	if (vq->packed)
		return vq_needs_call_packed(vq);
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
	if (!vq->ready)
		return;
	if (vq->packed) { /* s2.8.10 */
		vq->device_event->flags = htole16(VRING_PACKED_EVENT_FLAG_DISABLE);
		return;
	}
	if (vq->event_idx) /* with event idx, a stale avail_event suppresses kicks */
		return;
	vq->used_hdr[0] = htole16(VRING_USED_F_NO_NOTIFY);
}

bool vq_enable_notify(struct vq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->packed) {
		struct vring_packed_desc d;

		if (vq->event_idx) { /* kick when the driver makes our next slot available */
			vq->device_event->off_wrap =
				htole16((uint16_t)(vq->last_avail | (vq->avail_wrap ? 0x8000 : 0)));
			vq->device_event->flags = htole16(VRING_PACKED_EVENT_FLAG_DESC);
		} else {
			vq->device_event->flags = htole16(VRING_PACKED_EVENT_FLAG_ENABLE);
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return vq_packed_is_avail(vq_packed_read(vq, vq->last_avail, &d), vq->avail_wrap);
	}
	if (vq->event_idx)
		*vq->avail_event = htole16(vq->last_avail); /* s2.7.10: kick when idx passes this */
	else
		vq->used_hdr[0] = 0;
	/* The store above must be visible before we look at avail->idx again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_avail_idx(vq) != vq->last_avail;
}
