/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest RAM backing: one shareable fd (so vhost-user backends and VFIO can map the same pages),
 * mapped MAP_SHARED into the VMM.
 *
 * Modes, in the order AUTO tries them:
 *   HUGETLBFS      an unlinked file on a hugetlbfs mount (default /dev/hugepages)
 *   MEMFD_HUGETLB  memfd_create(MFD_HUGETLB)
 *   MEMFD          plain memfd, 4 KiB pages: only when asked for, or as AUTO's logged fallback when
 *                  not enough hugepages are free (the log says how many were needed and free).
 */
#ifndef NFV_EPT_BACKING_H
#define NFV_EPT_BACKING_H

#include <stdbool.h>
#include <stdint.h>

enum backing_mode {
	BACKING_AUTO,
	BACKING_HUGETLBFS,
	BACKING_MEMFD_HUGETLB,
	BACKING_MEMFD,
};

struct backing_cfg {
	enum backing_mode mode;
	uint64_t size;		 /* bytes; rounded up to the page size by the caller */
	const char *hugetlbfs_dir; /* NULL: /dev/hugepages */
	const char *name;	 /* for the file/memfd name */
	bool lock;		 /* mlock the mapping (<memoryBacking><locked/>) */
	bool prefault;		 /* MAP_POPULATE: touch every page now, not at first guest access */
};

struct backing {
	enum backing_mode mode; /* the one actually used */
	int fd;
	uint8_t *hva;
	uint64_t size;
	uint64_t page_size;
	char desc[160]; /* human-readable: "hugetlbfs /dev/hugepages (2 MiB pages)" */
};

int backing_mode_parse(const char *s, enum backing_mode *out) __attribute__((warn_unused_result));
const char *backing_mode_str(enum backing_mode m);

/* Free 2 MiB hugepages right now (from /sys/kernel/mm/hugepages), or -errno. */
long backing_hugepages_free(void);
uint64_t backing_default_hugepage_size(void);

/*
 * Allocate and map. Errors: -ENOMEM with a log line naming what was needed and what was free
 * (explicit hugepage modes never fall back), -EINVAL for a size that is not a page multiple.
 */
int backing_create(const struct backing_cfg *cfg, struct backing **out) __attribute__((warn_unused_result));
void backing_destroy(struct backing *b);

#endif
