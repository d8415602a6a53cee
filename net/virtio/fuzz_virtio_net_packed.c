// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the packed ring resume position (descriptor flags and ids are guest memory)
 * and the ring base decoding (GET_VRING_BASE payloads come from the backend).
 * Input: u16 ring size (taken modulo 512, plus 1), u32 base, then descriptors (16 bytes each).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net_packed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vring_packed_desc *ring;
	struct vnp_pos pos, a, u;
	uint16_t n;
	uint32_t base;

	if (size < 6)
		return 0;
	memcpy(&n, data, 2);
	memcpy(&base, data + 2, 4);
	n = (uint16_t)(n % 512 + 1);
	if (vnp_base_decode(base, n, &a, &u) && (a.idx >= n || u.idx >= n))
		abort();
	ring = calloc(n, sizeof(*ring));
	if (!ring)
		return 0;
	memcpy(ring, data + 6, size - 6 < n * sizeof(*ring) ? size - 6 : n * sizeof(*ring));
	if (vnp_resume_pos(ring, n, &pos) == 0 && pos.idx >= n)
		abort();
	free(ring);
	return 0;
}
