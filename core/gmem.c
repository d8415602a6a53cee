// SPDX-License-Identifier: GPL-2.0-only
#include "gmem.h"

#include <errno.h>
#include <string.h>

#include "util.h"

int gmem_add_region(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva, int fd,
		    uint64_t fd_offset)
{
	if (size == 0 || gpa + size < gpa || !hva)
		return -EINVAL;
	if (gm->nr >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned i = 0; i < gm->nr; i++)
		if (range_overlaps(gpa, size, gm->r[i].gpa, gm->r[i].size))
			return -EEXIST;
	gm->r[gm->nr++] = (struct gmem_region){
		.gpa = gpa, .size = size, .hva = hva, .fd = fd, .fd_offset = fd_offset,
	};
	return 0;
}

const struct gmem_region *gmem_find(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (len == 0)
		len = 1;
	for (unsigned i = 0; i < gm->nr; i++) {
		const struct gmem_region *r = &gm->r[i];

		/* Written so that no sum can wrap: gpa - r->gpa is only computed when gpa >= r->gpa. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *gmem_ptr(struct gmem *gm, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = gmem_find(gm, gpa, len);

	if (!r) {
		__atomic_add_fetch(&gm->bad_accesses, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return r->hva + (gpa - r->gpa);
}

int gmem_read(struct gmem *gm, uint64_t gpa, void *dst, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(struct gmem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int gmem_iov(struct gmem *gm, uint64_t gpa, uint64_t len, struct iovec *iov)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	iov->iov_base = p;
	iov->iov_len = len;
	return 0;
}

uint64_t gmem_total(const struct gmem *gm)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < gm->nr; i++)
		t += gm->r[i].size;
	return t;
}
