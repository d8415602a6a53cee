// SPDX-License-Identifier: GPL-2.0-only
/* Unit test of the split virtqueue device side against array-backed guest memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtq.h"
#include "vq_drv.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (1024 * 1024)
#define RAM2_GPA (RAM_GPA + RAM_SIZE) /* adjacent second region */
#define RAM2_SIZE (64 * 1024)
#define BUF_GPA (RAM_GPA + 0x40000)

static int failures;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);      \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static uint8_t *ram, *ram2;
static struct gmem gm;
static unsigned broken_calls, irq_calls;

static void on_broken(struct vq *vq, void *opaque)
{
	(void)vq;
	(void)opaque;
	broken_calls++;
}

static void on_call(void *opaque)
{
	(void)opaque;
	irq_calls++;
}

/* Fresh rings of @size and a ready device queue. */
static void fresh(struct vq *vq, struct vq_drv *d, uint16_t size, bool event_idx, bool indirect)
{
	struct vq_cfg c;

	vqd_init(d, ram, RAM_GPA, size, RAM_GPA);
	vq_init(vq, &gm, "test", 0);
	vq->on_broken = on_broken;
	vq->call = on_call;
	vqd_cfg(d, &c, event_idx, indirect);
	CHECK(vq_setup(vq, &c) == 0);
	broken_calls = irq_calls = 0;
}

static int pop(struct vq *vq, struct vq_elem *e, struct iovec *iov, uint16_t max)
{
	e->iov = iov;
	e->max_iov = max;
	return vq_pop(vq, e);
}

/* The queue must now be broken by exactly one error of kind @why. */
static void expect_broken(struct vq *vq, enum vq_err why, const char *what)
{
	struct iovec iov[8];
	struct vq_elem e;
	uint64_t total = 0;

	for (int i = 0; i < VQ_ERR__MAX; i++)
		total += vq->err[i];
	if (!(vq->broken && vq->err[why] == 1 && total == 1 && broken_calls == 1)) {
		fprintf(stderr, "hostile case '%s': broken=%d err[%s]=%llu total=%llu calls=%u\n", what,
			vq->broken, vq_err_name(why), (unsigned long long)vq->err[why],
			(unsigned long long)total, broken_calls);
		failures++;
	}
	CHECK(pop(vq, &e, iov, 8) == -EIO); /* stays broken */
	CHECK(broken_calls == 1);
}

static void test_normal(void)
{
	struct vq vq;
	struct vq_drv d;
	struct vq_elem e;
	struct iovec iov[8];
	uint32_t id, len;

	fresh(&vq, &d, 8, false, false);
	CHECK(pop(&vq, &e, iov, 8) == 0);
	vqd_desc(&d, 3, BUF_GPA, 16, VRING_DESC_F_NEXT, 5);
	vqd_desc(&d, 5, BUF_GPA + 100, 512, VRING_DESC_F_NEXT, 1);
	vqd_desc(&d, 1, BUF_GPA + 1000, 1, VRING_DESC_F_WRITE, 0);
	vqd_kick_head(&d, 3);
	CHECK(vq_avail_count(&vq) == 1);
	CHECK(pop(&vq, &e, iov, 8) == 1);
	CHECK(e.head == 3 && e.n_out == 2 && e.n_in == 1);
	CHECK(e.out_len == 528 && e.in_len == 1);
	CHECK(iov[0].iov_base == ram + 0x40000 && iov[0].iov_len == 16);
	CHECK(iov[1].iov_base == ram + 0x40000 + 100 && iov[1].iov_len == 512);
	CHECK(iov[2].iov_base == ram + 0x40000 + 1000 && iov[2].iov_len == 1);
	CHECK(pop(&vq, &e, iov, 8) == 0);
	vq_push(&vq, e.head, 1);
	CHECK(vqd_get_used(&d, &id, &len) && id == 3 && len == 1);
	CHECK(!vqd_get_used(&d, &id, &len));
	/* Without event idx the NO_INTERRUPT hint decides. */
	CHECK(vq_needs_call(&vq));
	vqd_set_avail_flags(&d, VRING_AVAIL_F_NO_INTERRUPT);
	CHECK(!vq_needs_call(&vq));
	vq_disable_notify(&vq);
	CHECK(vqd_used_flags(&d) == VRING_USED_F_NO_NOTIFY);
	CHECK(!vq_enable_notify(&vq));
	CHECK(vqd_used_flags(&d) == 0);
	/* Zero-length descriptors give no segment; a buffer crossing into the adjacent region two. */
	vqd_desc(&d, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 2);
	vqd_desc(&d, 2, RAM2_GPA - 8, 24, VRING_DESC_F_WRITE, 0);
	vqd_kick_head(&d, 0);
	CHECK(pop(&vq, &e, iov, 8) == 1);
	CHECK(e.n_out == 0 && e.n_in == 2 && e.in_len == 24);
	CHECK(iov[0].iov_base == ram + RAM_SIZE - 8 && iov[0].iov_len == 8);
	CHECK(iov[1].iov_base == ram2 && iov[1].iov_len == 16);
	CHECK(!vq.broken);
}

static void test_indirect(void)
{
	struct vq vq;
	struct vq_drv d;
	struct vq_elem e;
	struct iovec iov[8];
	uint64_t tbl = BUF_GPA + 0x8000;

	fresh(&vq, &d, 4, false, true);
	vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
	vqd_desc_at(&d, tbl, 2, BUF_GPA + 16, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	vqd_desc_at(&d, tbl, 1, BUF_GPA + 8192, 1, VRING_DESC_F_WRITE, 0);
	vqd_desc(&d, 2, tbl, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vqd_kick_head(&d, 2);
	CHECK(pop(&vq, &e, iov, 8) == 1);
	CHECK(e.head == 2 && e.n_out == 1 && e.n_in == 2 && e.out_len == 16 && e.in_len == 4097);
	CHECK(iov[1].iov_base == ram + 0x40000 + 16);
	CHECK(!vq.broken);
}

static void test_event_idx(void)
{
	struct vq vq;
	struct vq_drv d;
	struct vq_elem e;
	struct iovec iov[4];

	fresh(&vq, &d, 8, true, false);
	for (int i = 0; i < 8; i++)
		vqd_desc(&d, (uint16_t)i, BUF_GPA + 64 * i, 64, VRING_DESC_F_WRITE, 0);
	for (int i = 0; i < 6; i++)
		vqd_kick_head(&d, (uint16_t)i);
	/* Device side: kicks wanted again after what we consumed. */
	for (int i = 0; i < 6; i++)
		CHECK(pop(&vq, &e, iov, 4) == 1);
	CHECK(!vq_enable_notify(&vq));
	CHECK(vqd_avail_event(&d) == 6);
	vqd_kick_head(&d, 6);
	CHECK(vq_enable_notify(&vq)); /* arrived: keep polling */

	/* Driver wants an interrupt only once used idx passes 3 (used_event = 3). */
	vqd_set_used_event(&d, 3);
	vq_push(&vq, 0, 64);
	CHECK(vq_needs_call(&vq)); /* first call always */
	vq_push(&vq, 1, 64);
	CHECK(!vq_needs_call(&vq)); /* used idx 2: event 3 not passed */
	vq_push(&vq, 2, 64);
	vq_push(&vq, 3, 64);
	CHECK(vq_needs_call(&vq)); /* 2 -> 4 passes 3 */
	vq_push(&vq, 4, 64);
	CHECK(!vq_needs_call(&vq));
	vqd_set_used_event(&d, 5); /* driver caught up, wants the next one */
	vq_push(&vq, 5, 64);
	CHECK(vq_needs_call(&vq));
	irq_calls = 0;
	vq_call_if_needed(&vq);
	CHECK(irq_calls == 0 && vq.suppressed_calls == 1);
}

/* 16-bit index wrap: many more chains than 65536 through a 4-entry ring. */
static void test_wrap(void)
{
	struct vq vq;
	struct vq_drv d;
	struct vq_elem e;
	struct iovec iov[4];
	uint32_t id, len;

	fresh(&vq, &d, 4, true, false);
	for (int i = 0; i < 4; i++)
		vqd_desc(&d, (uint16_t)i, BUF_GPA + 64 * i, 64, VRING_DESC_F_WRITE, 0);
	for (unsigned n = 0; n < 70000; n++) {
		uint16_t h = n & 3;

		vqd_kick_head(&d, h);
		if (pop(&vq, &e, iov, 4) != 1 || e.head != h) {
			failures++;
			fprintf(stderr, "wrap: pop failed at %u\n", n);
			return;
		}
		vq_push(&vq, e.head, (uint32_t)n & 0xff);
		if (!vqd_get_used(&d, &id, &len) || id != h || len != (n & 0xff)) {
			failures++;
			fprintf(stderr, "wrap: used mismatch at %u\n", n);
			return;
		}
		vqd_set_used_event(&d, (uint16_t)(n + 1));
		(void)vq_needs_call(&vq);
	}
	CHECK(vq.last_avail == (uint16_t)70000 && vq.used_idx == (uint16_t)70000);
	/* Four outstanding across the wrap point are fine; a fifth is a driver error. */
	for (int i = 0; i < 4; i++)
		vqd_kick_head(&d, (uint16_t)i);
	CHECK(vq_avail_count(&vq) == 4);
	vqd_kick_head(&d, 0);
	CHECK(pop(&vq, &e, iov, 4) == -EIO);
	expect_broken(&vq, VQ_ERR_AVAIL_IDX, "avail idx too far ahead");
}

/* Hostile chains: each breaks the queue with exactly one counted error, then reset recovers. */
static void test_hostile(void)
{
	struct vq vq;
	struct vq_drv d;
	struct vq_elem e;
	struct iovec iov[4];
	uint64_t tbl = BUF_GPA + 0x8000;
	struct vq_cfg c;

#define HOSTILE(why, name, indirect, setup)                                                        \
	do {                                                                                       \
		fresh(&vq, &d, 8, false, indirect);                                                \
		setup;                                                                             \
		CHECK(pop(&vq, &e, iov, 4) == -EIO);                                               \
		expect_broken(&vq, why, name);                                                     \
	} while (0)

	HOSTILE(VQ_ERR_HEAD, "head out of range", false, vqd_kick_head(&d, 8));
	HOSTILE(VQ_ERR_HEAD, "head 0xffff", false, vqd_kick_head(&d, 0xffff));
	HOSTILE(VQ_ERR_NEXT, "next out of range", false, ({
			vqd_desc(&d, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 9);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_CHAIN, "loop", false, ({
			vqd_desc(&d, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 1);
			vqd_desc(&d, 1, BUF_GPA, 0, VRING_DESC_F_NEXT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_CHAIN, "self loop", false, ({
			vqd_desc(&d, 4, BUF_GPA, 0, VRING_DESC_F_NEXT, 4);
			vqd_kick_head(&d, 4);
		}));
	HOSTILE(VQ_ERR_ADDR, "addr outside RAM", false, ({
			vqd_desc(&d, 0, 0x1000, 16, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_ADDR, "buffer runs past RAM end", false, ({
			vqd_desc(&d, 0, RAM2_GPA + RAM2_SIZE - 8, 16, VRING_DESC_F_WRITE, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_ADDR, "addr wraps 2^64", false, ({
			vqd_desc(&d, 0, ~0ull - 4, 16, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_ORDER, "readable after writable", false, ({
			vqd_desc(&d, 0, BUF_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
			vqd_desc(&d, 1, BUF_GPA, 16, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_LEN, "chain over 4 GiB", false, ({
			vqd_desc(&d, 0, BUF_GPA, 0x20, VRING_DESC_F_NEXT, 1);
			vqd_desc(&d, 1, BUF_GPA, 0xfffffff0u, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_IOV, "more segments than the device takes", false, ({
			for (int i = 0; i < 7; i++)
				vqd_desc(&d, (uint16_t)i, BUF_GPA, 16, VRING_DESC_F_NEXT,
					 (uint16_t)(i + 1));
			vqd_desc(&d, 7, BUF_GPA, 16, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect not negotiated", false, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, tbl, 16, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect len 0", true, ({
			vqd_desc(&d, 0, tbl, 0, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect len not multiple of 16", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, tbl, 17, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect table outside RAM", true, ({
			vqd_desc(&d, 0, 0x2000, 32, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect with NEXT", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, tbl, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
			vqd_desc(&d, 1, BUF_GPA, 16, 0, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_INDIRECT, "indirect after a direct descriptor", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
			vqd_desc(&d, 1, tbl, 16, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_NESTED, "nested indirect", true, ({
			vqd_desc_at(&d, tbl, 0, tbl + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
			vqd_desc(&d, 0, tbl, 16, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_NEXT, "indirect next out of table", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
			vqd_desc_at(&d, tbl, 1, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, tbl, 32, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_CHAIN, "indirect loop", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 1);
			vqd_desc_at(&d, tbl, 1, BUF_GPA, 0, VRING_DESC_F_NEXT, 0);
			vqd_desc(&d, 0, tbl, 32, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_ORDER, "indirect readable after writable", true, ({
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
			vqd_desc_at(&d, tbl, 1, BUF_GPA, 16, 0, 0);
			vqd_desc(&d, 0, tbl, 32, VRING_DESC_F_INDIRECT, 0);
			vqd_kick_head(&d, 0);
		}));
	HOSTILE(VQ_ERR_AVAIL_IDX, "avail idx jump", false, vqd_set_avail_idx(&d, 9));
#undef HOSTILE

	/* Reset recovers a broken queue. */
	vqd_init(&d, ram, RAM_GPA, 8, RAM_GPA);
	vqd_cfg(&d, &c, false, false);
	CHECK(vq_setup(&vq, &c) == 0 && !vq.broken);
	vqd_desc(&d, 0, BUF_GPA, 16, 0, 0);
	vqd_kick_head(&d, 0);
	CHECK(pop(&vq, &e, iov, 4) == 1);

	/* Ring configurations the device refuses. */
	vq_init(&vq, &gm, "test", 1);
	c = (struct vq_cfg){ .size = 6, .desc_gpa = RAM_GPA, .avail_gpa = RAM_GPA + 0x1000,
			     .used_gpa = RAM_GPA + 0x2000 };
	CHECK(vq_setup(&vq, &c) == -EINVAL); /* not a power of two */
	c.size = 8;
	c.desc_gpa = RAM_GPA + 8;
	CHECK(vq_setup(&vq, &c) == -EINVAL); /* misaligned */
	c.desc_gpa = RAM_GPA;
	c.used_gpa = RAM2_GPA + RAM2_SIZE - 16;
	CHECK(vq_setup(&vq, &c) == -EINVAL); /* used ring past the end of RAM */
	c.size = 0;
	CHECK(vq_setup(&vq, &c) == -EINVAL);
	CHECK(vq.err[VQ_ERR_RING] == 4 && !vq.ready);
	CHECK(pop(&vq, &e, iov, 4) == -EIO);
}

int main(void)
{
	log_set_level(LOGL_ERR);
	ram = calloc(1, RAM_SIZE);
	ram2 = calloc(1, RAM2_SIZE);
	if (!ram || !ram2 || gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0) ||
	    gmem_add_region(&gm, RAM2_GPA, RAM2_SIZE, ram2, -1, 0)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	test_normal();
	test_indirect();
	test_event_idx();
	test_wrap();
	test_hostile();
	free(ram);
	free(ram2);
	if (failures) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	printf("virtq: all tests passed\n");
	return 0;
}
