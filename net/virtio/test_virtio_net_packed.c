// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packed ring positions for vhost-user: the SET/GET_VRING_BASE encoding (index and wrap counters)
 * and the resume position found from the descriptor flags after a backend died, checked against
 * a driver (virtio/vq_drv.h) and a device (virtio/virtq.h) playing real ring traffic: whatever
 * the device got to, the position found is the one the device itself holds.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmem.h"
#include "vhost_user.h"
#include "virtio_net_packed.h"
#include "virtq.h"
#include "vq_drv.h"
#include "test.h"

#define RAM_GPA 0x10000ull
#define RAM_SIZE (1u << 20)
#define RING_GPA RAM_GPA
#define BUF_GPA (RAM_GPA + 0x80000)

static void test_encoding(void)
{
	struct vnp_pos a, u;

	/* Fresh ring (s2.8.1): index 0, wrap counters 1, in both halves. */
	CHECK(vnp_base_encode((struct vnp_pos){0, true}, (struct vnp_pos){0, true}) == 0x80008000u);
	CHECK(vnp_base_encode((struct vnp_pos){5, false}, (struct vnp_pos){3, true}) ==
	      (5u | (3u | 0x8000u) << 16));
	CHECK(vnp_base_encode((struct vnp_pos){32767, true}, (struct vnp_pos){32767, false}) ==
	      0x7fffffffu);
	/* Index bits beyond 14 cannot be carried. */
	CHECK(vnp_base_encode((struct vnp_pos){0x8001, false}, (struct vnp_pos){0, false}) == 1);

	CHECK(vnp_base_decode(0x80058003u, 256, &a, &u));
	CHECK(a.idx == 3 && a.wrap && u.idx == 5 && u.wrap);
	CHECK(vnp_base_decode(0x00050003u, 256, &a, &u));
	CHECK(a.idx == 3 && !a.wrap && u.idx == 5 && !u.wrap);
	/* DPDK 22.11 answers GET_VRING_BASE with the low half only: used = avail. */
	CHECK(vnp_base_decode(0x8007u, 256, &a, &u));
	CHECK(a.idx == 7 && a.wrap && u.idx == 7 && u.wrap);
	CHECK(vnp_base_decode(0x0007u, 256, &a, &u));
	CHECK(a.idx == 7 && !a.wrap && u.idx == 7 && !u.wrap);
	/* Round trip. */
	for (unsigned i = 0; i < 300; i += 7) {
		struct vnp_pos x = {(uint16_t)i, i & 1}, y = {(uint16_t)(299 - i), !(i & 2)};

		CHECK(vnp_base_decode(vnp_base_encode(x, y), 300, &a, &u));
		CHECK(a.idx == x.idx && a.wrap == x.wrap && u.idx == y.idx && u.wrap == y.wrap);
	}
	/* Hostile backend values: positions outside the ring. */
	CHECK(!vnp_base_decode(0x8100u, 256, &a, &u));
	CHECK(!vnp_base_decode(0x01008001u, 256, &a, &u));
	CHECK(!vnp_base_decode(0x7fffu, 128, &a, &u));
}

/* GET_VRING_BASE replies: 32 bits accepted for packed rings only, and only for the ring asked. */
static void test_reply(void)
{
	struct vhost_user_msg m = {.request = VHOST_USER_GET_VRING_BASE,
				   .flags = VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY,
				   .size = sizeof(struct vhost_user_vring_state)};
	struct vhost_user_msg out;
	size_t len = VHOST_USER_HDR_SIZE + sizeof(struct vhost_user_vring_state);
	const uint32_t pk = VHOST_USER_GET_VRING_BASE_PACKED;

	m.payload.state = (struct vhost_user_vring_state){1, 0x80058003u};
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 1 | pk, &m, len, 0, &out) == 0);
	CHECK(out.payload.state.num == 0x80058003u);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 1, &m, len, 0, &out) == -ERANGE);
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 2 | pk, &m, len, 0, &out) ==
	      -ERANGE);
	m.payload.state.num = 0x8003u;
	CHECK(vhost_user_reply_parse(VHOST_USER_GET_VRING_BASE, 1, &m, len, 0, &out) == 0);
}

static uint8_t *ram;
static struct gmem gm;

/*
 * Drive @rounds of: the driver makes @post chains of @chain descriptors available, the device
 * uses @use of them (in order); then compare the resume position with the device's own.
 */
static void scan_case(uint16_t size, unsigned chain, unsigned rounds, unsigned post, unsigned use,
		      unsigned seed)
{
	struct vq_pdrv d;
	struct vq vq;
	struct vq_cfg c;
	struct iovec iov[8];
	struct vqd_seg segs[4];
	unsigned outstanding = 0, next_id = 0;
	struct vnp_pos pos;
	uint32_t id, len;

	srand(seed);
	vqp_init(&d, ram, RAM_GPA, size, RING_GPA);
	vqp_cfg(&d, &c, false, false);
	vq_init(&vq, &gm, "scan", 0);
	if (vq_setup(&vq, &c)) {
		CHECK(!"vq_setup");
		return;
	}
	/* An empty ring: the device starts where it would anyway. */
	CHECK(vnp_resume_pos(vq.pdesc, size, &pos) == 0 && pos.idx == 0 && pos.wrap);
	for (unsigned r = 0; r < rounds; r++) {
		unsigned np = post ? post : (unsigned)rand() % 5,
			 nu = use ? use : (unsigned)rand() % 5;

		/* Reap what the device used, then post (free descriptors permitting). */
		while (vqp_get_used(&d, &id, &len))
			outstanding--;
		for (unsigned i = 0; i < np && (outstanding + 1) * chain <= size; i++) {
			uint16_t bid = (uint16_t)(next_id++ % size); /* distinct: used in order */

			for (unsigned k = 0; k < chain; k++)
				segs[k] = (struct vqd_seg){BUF_GPA + 64ull * k, 64, k == chain - 1};
			vqp_add(&d, segs, chain, bid);
			outstanding++;
		}
		for (unsigned i = 0; i < nu; i++) {
			struct vq_elem e = {.iov = iov, .max_iov = 8};

			if (vq_pop(&vq, &e) != 1)
				break;
			vq_push(&vq, e.head, 0);
		}
		CHECK(vnp_resume_pos(vq.pdesc, size, &pos) == 0);
		if (pos.idx != vq.used_idx || pos.wrap != vq.used_wrap) {
			TEST_FAIL("size %u chain %u round %u: found %u/%d, device at %u/%d", size,
				  chain, r, pos.idx, pos.wrap, vq.used_idx, vq.used_wrap);
			break;
		}
	}
	vq_reset(&vq);
}

/* Flags of a hand-made ring: a = AVAIL bit, u = USED bit. */
static void set_flags(struct vring_packed_desc *r, uint16_t i, bool a, bool u, uint16_t extra)
{
	r[i].flags = htole16((uint16_t)((a ? VRING_PACKED_DESC_F_AVAIL : 0) |
					(u ? VRING_PACKED_DESC_F_USED : 0) | extra));
}

static void test_hand_made(void)
{
	struct vring_packed_desc r[8];
	struct vnp_pos pos;

	memset(r, 0, sizeof(r));
	CHECK(vnp_resume_pos(r, 0, &pos) == -EINVAL);
	for (uint16_t i = 0; i < 8; i++)
		r[i].id = htole16(i);
	/* Ring full of available buffers (pass 1): the device has not begun; it is at 0, wrap 1. */
	for (uint16_t i = 0; i < 8; i++)
		set_flags(r, i, true, false, 0);
	CHECK(vnp_resume_pos(r, 8, &pos) == 0 && pos.idx == 0 && pos.wrap);
	/* All used in pass 1: the device is at 0 of pass 2 (wrap 0). */
	for (uint16_t i = 0; i < 8; i++)
		set_flags(r, i, true, true, 0);
	CHECK(vnp_resume_pos(r, 8, &pos) == 0 && pos.idx == 0 && !pos.wrap);
	/* Pass 2 (wrap 0): driver has posted 0..2, device used 0; 3..7 still used from pass 1. */
	set_flags(r, 0, false, false, 0);
	set_flags(r, 1, false, true, 0);
	set_flags(r, 2, false, true, 0);
	CHECK(vnp_resume_pos(r, 8, &pos) == 0 && pos.idx == 1 && !pos.wrap);
	/* A two-slot chain 1..2 (id 9) used at 1: the tail at 2 carries the id and is skipped. */
	set_flags(r, 1, false, false, 0);
	r[1].id = htole16(9);
	r[2].id = htole16(9);
	CHECK(vnp_resume_pos(r, 8, &pos) == 0 && pos.idx == 3 && !pos.wrap);
	/* A one-slot buffer with another id at 2 is not a tail: resume there. */
	r[2].id = htole16(4);
	CHECK(vnp_resume_pos(r, 8, &pos) == 0 && pos.idx == 2 && !pos.wrap);
	/* Hostile: a second change of the pass counter, or a slot of the wrong pass behind D. */
	set_flags(r, 5, false, false, 0);
	CHECK(vnp_resume_pos(r, 8, &pos) == -EAGAIN);
	set_flags(r, 5, true, true, 0);
	set_flags(r, 1, true, false, 0); /* slot 1 claims pass 1 between two pass-2 slots */
	CHECK(vnp_resume_pos(r, 8, &pos) == -EAGAIN);
	/* Garbage everywhere never reads outside the ring or loops (checked under ASan). */
	for (unsigned s = 0; s < 2000; s++) {
		for (uint16_t i = 0; i < 8; i++) {
			r[i].flags = (uint16_t)rand();
			r[i].id = (uint16_t)rand();
		}
		if (vnp_resume_pos(r, (uint16_t)(1 + s % 8), &pos) == 0)
			CHECK(pos.idx < 1 + s % 8);
	}
}

int main(void)
{
	ram = calloc(1, RAM_SIZE);
	if (!ram || gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	test_encoding();
	test_reply();
	test_hand_made();
	/* One-slot chains, ring sizes power of two and not; steady and random progress. */
	scan_case(8, 1, 100, 3, 3, 1);
	scan_case(8, 1, 200, 0, 0, 2);
	scan_case(256, 1, 2000, 0, 0, 3);
	scan_case(100, 1, 2000, 0, 0, 4);
	scan_case(7, 1, 500, 0, 0, 5);
	/* Multi-descriptor chains (tails skipped by the id in their last descriptor). */
	scan_case(16, 2, 500, 0, 0, 6);
	scan_case(30, 3, 500, 0, 0, 7);
	scan_case(256, 4, 2000, 0, 0, 8);
	free(ram);
	TEST_DONE("virtio_net_packed_unit");
}
