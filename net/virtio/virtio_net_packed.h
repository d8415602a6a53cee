/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packed virtqueue (virtio 1.2 s2.8) state as virtio-net hands it to a vhost-user backend: the
 * SET_VRING_BASE / GET_VRING_BASE payload encoding, and the position to resume a ring at after
 * the backend died (it cannot be asked any more, and a packed ring has no used index in memory).
 *
 * Pure functions on caller-provided memory; no locking, no logging. The descriptor ring is guest
 * memory: every flags word is read once, nothing found there can make these functions loop more
 * than the ring size or read outside it.
 */
#ifndef NFV_NET_VIRTIO_VIRTIO_NET_PACKED_H
#define NFV_NET_VIRTIO_VIRTIO_NET_PACKED_H

#include <stdbool.h>
#include <stdint.h>

#include "virtq.h"

/* A position in a packed ring: descriptor index (< ring size, < 2^15) and its wrap counter. */
struct vnp_pos {
	uint16_t idx;
	bool wrap;
};

/*
 * The vhost-user ring base for a packed ring (vhost-user.rst "Vring descriptor indices for packed
 * virtqueues"): bits 0-14 the next descriptor the backend processes, bit 15 the avail wrap
 * counter, bits 16-30 the next used descriptor, bit 31 the used wrap counter. Index bits above 14
 * are dropped (a packed ring has at most 32768 descriptors, so indices fit 15 bits).
 */
uint32_t vnp_base_encode(struct vnp_pos avail, struct vnp_pos used);

/*
 * Split a GET_VRING_BASE payload into its two positions. Backends that fill only the low 16 bits
 * (DPDK 22.11's lib/vhost) have processed and used up to the same position when the ring stops,
 * so a zero upper half is read as "used = avail". Returns false when a position is outside a
 * ring of @size descriptors (the backend's value is not to be trusted then).
 */
bool vnp_base_decode(uint32_t num, uint16_t size, struct vnp_pos *avail, struct vnp_pos *used);

/*
 * Where a new backend has to resume ring @ring of @size descriptors so that the driver sees its
 * buffers used in order: the slot after the last buffer the old backend marked used (the driver
 * expects its next used descriptor there, s2.8.7), with that pass's wrap counter. Buffers that
 * were made available but never marked used (in flight in the old backend) are processed again,
 * as on split rings.
 *
 * Found from the descriptor flags alone: the AVAIL bit of each slot is the wrap counter of the
 * pass that last wrote it (driver or device), which locates the driver's next slot; walking back
 * from there over available descriptors leads to the last used one; the used descriptor of a
 * chain overwrote its first slot, and the rest of the chain (still in available form) is skipped
 * when it ends in a descriptor carrying the used buffer id (s2.8.6: the id is in the last
 * descriptor); a slot still all zero (never written since the ring was zeroed) has no tail.
 * Assumes the backend used buffers in the order it took them (DPDK's vhost does);
 * if a driver reused that buffer id at once for a one-slot buffer that the backend had not taken
 * yet, that buffer is taken as the chain's tail. With indirect descriptors every chain is one slot
 * and there is no such case.
 *
 * Returns 0 with *out set, or -EAGAIN when the flags are not those of a consistent ring (a driver
 * half-way through publishing a chain across the point we look at, or a hostile driver); the
 * caller may look again a little later or fall back to a position it knows.
 */
int vnp_resume_pos(const volatile struct vring_packed_desc *ring, uint16_t size,
		   struct vnp_pos *out) __attribute__((warn_unused_result));

#endif
