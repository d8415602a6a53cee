// SPDX-License-Identifier: GPL-2.0-only
/* Packed ring positions for vhost-user (see virtio_net_packed.h). virtio 1.2 s2.8. */
#include "virtio_net_packed.h"

#include <endian.h>
#include <errno.h>

#define VNP_IDX_MASK 0x7fffu
#define VNP_WRAP (1u << 15)

uint32_t vnp_base_encode(struct vnp_pos avail, struct vnp_pos used)
{
	uint32_t a = (avail.idx & VNP_IDX_MASK) | (avail.wrap ? VNP_WRAP : 0);
	uint32_t u = (used.idx & VNP_IDX_MASK) | (used.wrap ? VNP_WRAP : 0);

	return a | u << 16;
}

bool vnp_base_decode(uint32_t num, uint16_t size, struct vnp_pos *avail, struct vnp_pos *used)
{
	uint16_t lo = (uint16_t)num, hi = (uint16_t)(num >> 16);

	*avail = (struct vnp_pos){.idx = lo & VNP_IDX_MASK, .wrap = lo & VNP_WRAP};
	*used = hi ? (struct vnp_pos){.idx = hi & VNP_IDX_MASK, .wrap = hi & VNP_WRAP} : *avail;
	return avail->idx < size && used->idx < size;
}

/* The flags word of slot @i, read once (the driver may be writing it). */
static uint16_t vnp_flags(const volatile struct vring_packed_desc *ring, uint16_t i)
{
	return le16toh(__atomic_load_n(&ring[i].flags, __ATOMIC_ACQUIRE));
}

static bool vnp_avail_bit(uint16_t f)
{
	return f & VRING_PACKED_DESC_F_AVAIL;
}

static bool vnp_used_bit(uint16_t f)
{
	return f & VRING_PACKED_DESC_F_USED;
}

static struct vnp_pos vnp_back(struct vnp_pos p, uint16_t size)
{
	if (p.idx == 0)
		return (struct vnp_pos){.idx = (uint16_t)(size - 1), .wrap = !p.wrap};
	return (struct vnp_pos){.idx = (uint16_t)(p.idx - 1), .wrap = p.wrap};
}

static struct vnp_pos vnp_fwd(struct vnp_pos p, uint16_t size, uint16_t n)
{
	uint32_t i = (uint32_t)p.idx + n;

	if (i >= size)
		return (struct vnp_pos){.idx = (uint16_t)(i - size), .wrap = !p.wrap};
	return (struct vnp_pos){.idx = (uint16_t)i, .wrap = p.wrap};
}

int vnp_resume_pos(const volatile struct vring_packed_desc *ring, uint16_t size,
		   struct vnp_pos *out)
{
	struct vnp_pos drv, p, last;
	bool first;
	uint16_t i, k, id, tail;

	if (size == 0 || size > VQ_MAX_SIZE)
		return -EINVAL;
	/*
	 * s2.8.1/s2.8.8: the driver writes slots in order with AVAIL = its wrap counter, the device
	 * writes used descriptors with AVAIL = USED = the same pass's counter. So slots [0, D)
	 * carry the driver's current counter and [D, size) the previous one, D being the driver's
	 * next slot; a ring with one value everywhere has D = 0 and the driver in the pass after
	 * it.
	 */
	first = vnp_avail_bit(vnp_flags(ring, 0));
	for (i = 1; i < size && vnp_avail_bit(vnp_flags(ring, i)) == first; i++)
		;
	drv = i == size ? (struct vnp_pos){0, !first} : (struct vnp_pos){i, first};
	for (; i < size; i++)
		if (vnp_avail_bit(vnp_flags(ring, i)) == first)
			return -EAGAIN; /* a second change: not a ring at rest */

	/* Back from D over descriptors still available in their pass, to the last used one. */
	p = drv;
	for (k = 0; k < size; k++) {
		uint16_t f;

		p = vnp_back(p, size);
		f = vnp_flags(ring, p.idx);
		if (vnp_avail_bit(f) != p.wrap)
			return -EAGAIN;
		if (vnp_used_bit(f) == p.wrap)
			break;
	}
	if (k == size) {
		/* Nothing used in the last pass: every slot is available, the device is a pass
		 * behind. */
		*out = (struct vnp_pos){drv.idx, !drv.wrap};
		return 0;
	}
	last = p;
	/*
	 * The used descriptor replaced the chain's first slot; the rest of the chain, if any, still
	 * lies between it and D in available form, ending (no NEXT) in the descriptor with the id.
	 */
	id = le16toh(ring[last.idx].id);
	tail = 0;
	p = last;
	/*
	 * A slot nobody ever wrote (a fresh zeroed ring reads as "used in a pass with wrap 0") has
	 * no chain behind it. The device writes only id, len and flags (s2.8.7), so a used
	 * descriptor still has the driver's buffer address.
	 */
	if (ring[last.idx].addr == 0 && id == 0)
		k = 0;
	for (uint16_t j = 1; j < k + 1; j++) {
		uint16_t f;

		p = vnp_fwd(p, size, 1);
		f = vnp_flags(ring, p.idx);
		if (!(f & VRING_DESC_F_NEXT)) {
			if (le16toh(ring[p.idx].id) == id)
				tail = j;
			break;
		}
	}
	*out = vnp_fwd(last, size, (uint16_t)(tail + 1));
	return 0;
}
