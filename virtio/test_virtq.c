// SPDX-License-Identifier: GPL-2.0-only
/* Unit test of the split virtqueue device side against array-backed guest memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtq.h"
#include "vq_drv.h"
#include "test.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (1024 * 1024)
#define RAM2_GPA (RAM_GPA + RAM_SIZE) /* adjacent second region */
#define RAM2_SIZE (64 * 1024)
#define BUF_GPA (RAM_GPA + 0x40000)

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
		TEST_FAIL("hostile case '%s': broken=%d err[%s]=%llu total=%llu calls=%u", what,
			  vq->broken, vq_err_name(why), (unsigned long long)vq->err[why],
			  (unsigned long long)total, broken_calls);
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
	/* Zero-length descriptors give no segment; a buffer crossing into the adjacent region two.
	 */
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
			TEST_FAIL("wrap: pop failed at %u", n);
			return;
		}
		vq_push(&vq, e.head, (uint32_t)n & 0xff);
		if (!vqd_get_used(&d, &id, &len) || id != h || len != (n & 0xff)) {
			TEST_FAIL("wrap: used mismatch at %u", n);
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
			vqd_desc_at(&d, tbl, 0, BUF_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
				    1);
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
	c = (struct vq_cfg){.size = 6,
			    .desc_gpa = RAM_GPA,
			    .avail_gpa = RAM_GPA + 0x1000,
			    .used_gpa = RAM_GPA + 0x2000};
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

/* ---- packed rings (s2.8) ---- */

struct pk_drv {
	uint16_t size;
	uint16_t avail_idx, used_idx;
	bool avail_wrap, used_wrap;
	uint64_t desc_gpa, drv_gpa, dev_gpa;
};

static void pk_fresh(struct vq *vq, struct pk_drv *p, uint16_t size, bool event_idx, bool indirect)
{
	struct vq_cfg c;

	memset(ram, 0, 0x10000);
	*p = (struct pk_drv){.size = size,
			     .avail_wrap = true,
			     .used_wrap = true,
			     .desc_gpa = RAM_GPA,
			     .drv_gpa = RAM_GPA + 16ull * size,
			     .dev_gpa = RAM_GPA + 16ull * size + 4};
	vq_init(vq, &gm, "packed", 0);
	vq->on_broken = on_broken;
	c = (struct vq_cfg){.size = size,
			    .desc_gpa = p->desc_gpa,
			    .avail_gpa = p->drv_gpa,
			    .used_gpa = p->dev_gpa,
			    .packed = true,
			    .event_idx = event_idx,
			    .indirect = indirect};
	CHECK(vq_setup(vq, &c) == 0);
	broken_calls = 0;
}

static void pk_write(uint64_t gpa, uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	struct vring_packed_desc d = {htole64(addr), htole32(len), htole16(id), 0};
	uint8_t *p = ram + (gpa - RAM_GPA);

	memcpy(p, &d, 14); /* addr, len, id; flags last */
	__atomic_store_n((uint16_t *)(p + 14), htole16(flags), __ATOMIC_RELEASE);
}

/* Make a chain of @n descriptors available (id in every descriptor; the last one counts). */
static void pk_add(struct pk_drv *p, unsigned n, const uint32_t *lens, const bool *wr, uint16_t id,
		   uint16_t extra_flags)
{
	for (unsigned k = 0; k < n; k++) {
		uint16_t f = (uint16_t)((p->avail_wrap ? VRING_PACKED_DESC_F_AVAIL
						       : VRING_PACKED_DESC_F_USED) |
					(wr[k] ? VRING_DESC_F_WRITE : 0) |
					(k + 1 < n ? VRING_DESC_F_NEXT : 0) | extra_flags);

		pk_write(p->desc_gpa + 16ull * p->avail_idx, BUF_GPA + 4096ull * k, lens[k], id, f);
		if (++p->avail_idx == p->size) {
			p->avail_idx = 0;
			p->avail_wrap = !p->avail_wrap;
		}
	}
}

/* Read the next used descriptor; false when none. Advances by @ndesc slots. */
static bool pk_used(struct pk_drv *p, unsigned ndesc, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc d;
	uint16_t f;

	memcpy(&d, ram + (p->desc_gpa - RAM_GPA) + 16ull * p->used_idx, sizeof(d));
	f = le16toh(d.flags);
	if (!!(f & VRING_PACKED_DESC_F_AVAIL) != p->used_wrap ||
	    !!(f & VRING_PACKED_DESC_F_USED) != p->used_wrap)
		return false;
	*id = le16toh(d.id);
	*len = le32toh(d.len);
	p->used_idx = (uint16_t)(p->used_idx + ndesc);
	if (p->used_idx >= p->size) {
		p->used_idx = (uint16_t)(p->used_idx - p->size);
		p->used_wrap = !p->used_wrap;
	}
	return true;
}

static void pk_set_event(struct pk_drv *p, uint16_t flags, uint16_t off, bool wrap)
{
	struct vring_packed_event e = {htole16((uint16_t)(off | (wrap ? 0x8000 : 0))),
				       htole16(flags)};

	memcpy(ram + (p->drv_gpa - RAM_GPA), &e, sizeof(e));
}

static void test_packed(void)
{
	static const uint32_t lens[3] = {16, 512, 1};
	static const bool wr3[3] = {false, false, true}, wr1[1] = {true};
	struct vq vq;
	struct pk_drv p;
	struct vq_elem e;
	struct iovec iov[8];
	uint16_t id;
	uint32_t len;

	/* A three-descriptor chain: readable, readable, writable; the id comes from the last. */
	pk_fresh(&vq, &p, 8, false, false);
	CHECK(pop(&vq, &e, iov, 8) == 0 && vq_avail_count(&vq) == 0);
	pk_add(&p, 3, lens, wr3, 5, 0);
	CHECK(vq_avail_count(&vq) == 1);
	CHECK(pop(&vq, &e, iov, 8) == 1);
	CHECK(e.head == 5 && e.n_out == 2 && e.n_in == 1 && e.out_len == 528 && e.in_len == 1);
	CHECK(iov[1].iov_base == ram + 0x40000 + 4096);
	CHECK(pop(&vq, &e, iov, 8) == 0);
	CHECK(!pk_used(&p, 3, &id, &len));
	vq_push(&vq, 5, 1);
	CHECK(pk_used(&p, 3, &id, &len) && id == 5 && len == 1);
	CHECK(vq.used_idx == 3 && p.used_idx == 3);

	/* Notification suppression both ways. */
	CHECK(vq_needs_call(&vq)); /* ENABLE (0) */
	pk_set_event(&p, VRING_PACKED_EVENT_FLAG_DISABLE, 0, true);
	CHECK(!vq_needs_call(&vq));
	vq_disable_notify(&vq);
	CHECK(le16toh(*(uint16_t *)(ram + (p.dev_gpa - RAM_GPA) + 2)) ==
	      VRING_PACKED_EVENT_FLAG_DISABLE);
	CHECK(!vq_enable_notify(&vq));
	CHECK(le16toh(*(uint16_t *)(ram + (p.dev_gpa - RAM_GPA) + 2)) ==
	      VRING_PACKED_EVENT_FLAG_ENABLE);
	vq_reset(&vq);

	/* Index wrap with event idx: 1-descriptor chains through a 4-slot ring, 10000 times. */
	pk_fresh(&vq, &p, 4, true, false);
	for (unsigned n = 0; n < 10000; n++) {
		uint16_t want = (uint16_t)(n % 4);

		pk_add(&p, 1, lens + 2, wr1, want, 0);
		if (pop(&vq, &e, iov, 8) != 1 || e.head != want) {
			TEST_FAIL("packed wrap: pop failed at %u", n);
			break;
		}
		/*
		 * Even rounds: the driver wants an interrupt when the slot about to be used is
		 * used; odd rounds: only at the slot after it (not reached by this push).
		 */
		{
			uint16_t off = p.used_idx;
			bool w = p.used_wrap, want_call = !(n & 1);

			if (n & 1 && ++off == p.size) {
				off = 0;
				w = !w;
			}
			pk_set_event(&p, VRING_PACKED_EVENT_FLAG_DESC, off, w);
			vq_push(&vq, e.head, n & 0xff);
			if (vq_needs_call(&vq) != want_call) {
				TEST_FAIL("packed wrap: interrupt decision wrong at %u", n);
				break;
			}
		}
		if (!pk_used(&p, 1, &id, &len) || id != want || len != (n & 0xff)) {
			TEST_FAIL("packed wrap: used mismatch at %u", n);
			break;
		}
	}
	CHECK(!vq.broken);
	CHECK(vq_enable_notify(&vq) == false);
	{
		uint16_t ow = le16toh(*(uint16_t *)(ram + (p.dev_gpa - RAM_GPA)));

		CHECK((ow & 0x7fff) == vq.last_avail && !!(ow & 0x8000) == vq.avail_wrap);
	}
	vq_reset(&vq);

	/* Indirect. */
	pk_fresh(&vq, &p, 8, false, true);
	{
		uint64_t tbl = BUF_GPA + 0x8000;

		pk_write(tbl, BUF_GPA, 16, 0, 0);
		pk_write(tbl + 16, BUF_GPA + 16, 4096, 0, VRING_DESC_F_WRITE);
		pk_write(tbl + 32, BUF_GPA + 8192, 1, 0, VRING_DESC_F_WRITE);
		pk_write(p.desc_gpa, tbl, 48, 3, VRING_PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT);
		CHECK(pop(&vq, &e, iov, 8) == 1);
		CHECK(e.head == 3 && e.n_out == 1 && e.n_in == 2 && e.in_len == 4097);
		vq_push(&vq, 3, 4097);
		CHECK(vq.used_idx == 1);
	}
	vq_reset(&vq);

#define PK_HOSTILE(why, name, indirect, setup)                                                     \
	do {                                                                                       \
		pk_fresh(&vq, &p, 8, false, indirect);                                             \
		setup;                                                                             \
		CHECK(pop(&vq, &e, iov, 4) == -EIO);                                               \
		expect_broken(&vq, why, name);                                                     \
		vq_reset(&vq);                                                                     \
	} while (0)

	PK_HOSTILE(VQ_ERR_HEAD, "packed id out of range", false, pk_add(&p, 1, lens, wr3, 8, 0));
	PK_HOSTILE(VQ_ERR_CHAIN, "packed chain into a stale slot", false,
		   ({ pk_add(&p, 1, lens, wr3, 0, VRING_DESC_F_NEXT); }));
	PK_HOSTILE(VQ_ERR_CHAIN, "packed chain around the whole ring", false, ({
			   static const uint32_t zero_len[1] = {0};

			   for (int k = 0; k < 8; k++)
				   pk_add(&p, 1, zero_len, wr3, 0, VRING_DESC_F_NEXT);
		   }));
	PK_HOSTILE(VQ_ERR_ORDER, "packed readable after writable", false, ({
			   static const bool wrr[2] = {true, false};

			   pk_add(&p, 2, lens, wrr, 0, 0);
		   }));
	PK_HOSTILE(VQ_ERR_ADDR, "packed addr outside RAM", false,
		   pk_write(p.desc_gpa, 0x1000, 16, 0, VRING_PACKED_DESC_F_AVAIL));
	PK_HOSTILE(VQ_ERR_INDIRECT, "packed indirect not negotiated", false,
		   pk_write(p.desc_gpa, BUF_GPA, 16, 0,
			    VRING_PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT));
	PK_HOSTILE(VQ_ERR_INDIRECT, "packed indirect bad size", true,
		   pk_write(p.desc_gpa, BUF_GPA, 24, 0,
			    VRING_PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT));
	PK_HOSTILE(VQ_ERR_NESTED, "packed nested indirect", true, ({
			   pk_write(BUF_GPA, BUF_GPA + 64, 16, 0, VRING_DESC_F_INDIRECT);
			   pk_write(p.desc_gpa, BUF_GPA, 16, 0,
				    VRING_PACKED_DESC_F_AVAIL | VRING_DESC_F_INDIRECT);
		   }));
#undef PK_HOSTILE
	{
		struct vq_cfg c = {.size = 6,
				   .desc_gpa = RAM_GPA + 8,
				   .avail_gpa = RAM_GPA + 0x1000,
				   .used_gpa = RAM_GPA + 0x1004,
				   .packed = true};

		vq_init(&vq, &gm, "packed", 1);
		CHECK(vq_setup(&vq, &c) == -EINVAL); /* misaligned ring */
		c.desc_gpa = RAM_GPA;
		CHECK(vq_setup(&vq, &c) == 0 && vq.size == 6); /* any size is fine for packed */
		vq_reset(&vq);
	}
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
	test_packed();
	free(ram);
	free(ram2);
	TEST_DONE("virtq");
}
