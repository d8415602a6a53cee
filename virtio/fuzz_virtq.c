// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: hostile ring memory. The input is a small header followed by the bytes of guest
 * RAM holding the descriptor table, available ring and indirect tables; the device pops and
 * pushes until the ring is empty or broken. Any crash, sanitizer report or hang is a bug.
 *
 * Header (8 bytes): [0] log2 queue size (mod 9), [1] bit0 event idx, bit1 indirect, bit2 packed
 *                   ring (bit3: start with wrap counters 0), [2..3] avail idx to start from
 *                   (le16; packed: modulo the size), [4..5] packed ring size - 1 (mod 512).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA 0x10000ull
#define RAM_SIZE (64 * 1024)
#define RAM2_GPA (RAM_GPA + RAM_SIZE)
#define RAM2_SIZE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM_SIZE], ram2[RAM2_SIZE];
	static struct gmem gm;
	struct iovec iov[64];
	struct vq_elem e = {.iov = iov, .max_iov = 64};
	struct vq_cfg c;
	struct vq vq;
	uint16_t qsize;

	if (!gm.nr) {
		log_set_level(LOGL_ERR);
		if (gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0) ||
		    gmem_add_region(&gm, RAM2_GPA, RAM2_SIZE, ram2, -1, 0))
			abort();
	}
	if (size < 8)
		return 0;
	qsize = (uint16_t)(1u << (data[0] % 9));
	memset(ram, 0, sizeof(ram));
	memset(ram2, 0, sizeof(ram2));
	memcpy(ram, data + 8, size - 8 < sizeof(ram) ? size - 8 : sizeof(ram));

	/* Rings at the start of RAM: desc table, avail ring, used ring (s2.7 layout), or the
	 * packed descriptor ring followed by the driver and device event areas (s2.8). */
	vq_init(&vq, &gm, "fuzz", 0);
	c = (struct vq_cfg){
		.size = qsize,
		.desc_gpa = RAM_GPA,
		.avail_gpa = RAM_GPA + vring_desc_bytes(qsize),
		.event_idx = data[1] & 1,
		.indirect = data[1] & 2,
		.packed = data[1] & 4,
	};
	if (c.packed) {
		qsize = c.size = (uint16_t)((data[4] | data[5] << 8) % 512 + 1);
		c.avail_gpa = RAM_GPA + vring_desc_bytes(qsize);
		c.used_gpa = c.avail_gpa + 4;
	} else {
		c.used_gpa = (c.avail_gpa + vring_avail_bytes(qsize) + 3) & ~3ull;
	}
	if (vq_setup(&vq, &c))
		return 0;
	vq.last_avail = (uint16_t)(data[2] | data[3] << 8);
	if (c.packed) {
		vq.last_avail %= qsize;
		vq.avail_wrap = vq.used_wrap = !(data[1] & 8);
	}
	vq.used_idx = vq.last_avail;
	for (int n = 0; n < 4 * qsize + 4; n++) {
		int ret = vq_pop(&vq, &e);

		if (ret <= 0)
			break;
		/* Touch every segment: the iovecs must point at real guest RAM. */
		for (unsigned i = 0; i < (unsigned)e.n_out + e.n_in; i++) {
			volatile uint8_t *p = iov[i].iov_base;

			if (iov[i].iov_len) {
				(void)p[0];
				(void)p[iov[i].iov_len - 1];
			}
			if (i >= e.n_out && iov[i].iov_len)
				p[0] = 0xab;
		}
		vq_push(&vq, e.head, e.in_len);
		vq_call_if_needed(&vq);
		(void)vq_enable_notify(&vq);
	}
	vq_reset(&vq);
	return 0;
}
