/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest-memory accessor: the only way device models and loaders touch guest RAM.
 *
 * Guest physical memory is a small set of non-overlapping regions, each backed by a host mapping
 * (and, for vhost-user and VFIO, by a shareable fd). Every access is checked to lie entirely inside
 * one region: a guest-supplied address and length can never reach outside guest RAM, whatever
 * their values (including wrap-around at 2^64). Regions are fixed before vCPUs start, so lookups
 * take no lock.
 */
#ifndef NFV_CORE_GMEM_H
#define NFV_CORE_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;	     /* guest physical start */
	uint64_t size;	     /* bytes, > 0 */
	uint8_t *hva;	     /* host mapping of the whole region */
	int fd;		     /* backing fd, or -1 */
	uint64_t fd_offset;  /* offset of gpa within fd */
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned nr;
	uint64_t bad_accesses; /* atomic: failed lookups, for statistics */
};

/* Add a region; -EINVAL for size 0 or wrap, -EEXIST for overlap, -ENOSPC when full. */
int gmem_add_region(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva, int fd,
		    uint64_t fd_offset) __attribute__((warn_unused_result));

/* The region holding [gpa, gpa+len), or NULL. len 0 is treated as 1. */
const struct gmem_region *gmem_find(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* Host pointer for [gpa, gpa+len) when it lies inside one region, else NULL (counted). */
void *gmem_ptr(struct gmem *gm, uint64_t gpa, uint64_t len);

/* Copy to/from guest memory; 0 or -EFAULT when the range is not entirely inside one region. */
int gmem_read(struct gmem *gm, uint64_t gpa, void *dst, size_t len) __attribute__((warn_unused_result));
int gmem_write(struct gmem *gm, uint64_t gpa, const void *src, size_t len)
	__attribute__((warn_unused_result));

/* Fill one iovec for [gpa, gpa+len); 0 or -EFAULT. */
int gmem_iov(struct gmem *gm, uint64_t gpa, uint64_t len, struct iovec *iov)
	__attribute__((warn_unused_result));

/* Total bytes of guest RAM. */
uint64_t gmem_total(const struct gmem *gm);

#endif
