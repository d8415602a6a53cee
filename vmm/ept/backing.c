// SPDX-License-Identifier: GPL-2.0-only
#include "backing.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC 0x958458f6
#endif

static const char *const backing_names[] = {
	[BACKING_AUTO] = "auto",
	[BACKING_HUGETLBFS] = "hugetlbfs",
	[BACKING_MEMFD_HUGETLB] = "memfd-hugetlb",
	[BACKING_MEMFD] = "memfd",
};

int backing_mode_parse(const char *s, enum backing_mode *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(backing_names); i++) {
		if (s && strcmp(s, backing_names[i]) == 0) {
			*out = (enum backing_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *backing_mode_str(enum backing_mode m)
{
	return (unsigned)m < ARRAY_SIZE(backing_names) ? backing_names[m] : "?";
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -errno;
	if (fscanf(f, "%ld", &v) != 1)
		v = -EIO;
	fclose(f);
	return v;
}

uint64_t backing_default_hugepage_size(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	unsigned long kb = 2048;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb * 1024;
}

long backing_hugepages_free(void)
{
	unsigned long long kb = (unsigned long long)(backing_default_hugepage_size() / 1024);
	char path[128];
	long free_pages, resv;

	/* free_hugepages still counts pages other mappings have reserved but not touched. */
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/free_hugepages", kb);
	free_pages = read_long(path);
	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%llukB/resv_hugepages", kb);
	resv = read_long(path);
	if (free_pages < 0)
		return free_pages;
	return free_pages - (resv > 0 ? resv : 0);
}

static int backing_open_hugetlbfs(const struct backing_cfg *cfg, uint64_t *page_size)
{
	const char *dir = cfg->hugetlbfs_dir ? cfg->hugetlbfs_dir : "/dev/hugepages";
	struct statfs sfs;
	int fd;

	if (statfs(dir, &sfs) < 0)
		return -errno;
	if ((unsigned long)sfs.f_type != HUGETLBFS_MAGIC)
		return -ENOTSUP;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		/* Older kernels: a named file, unlinked at once. */
		char path[4096];

		snprintf(path, sizeof(path), "%s/nfv-%s-%d-XXXXXX", dir, cfg->name ? cfg->name : "vm",
			 (int)getpid());
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0)
			return -errno;
		unlink(path);
	}
	*page_size = (uint64_t)sfs.f_bsize;
	return fd;
}

static int backing_open_memfd(const struct backing_cfg *cfg, bool huge, uint64_t *page_size)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "nfv-ram-%s", cfg->name ? cfg->name : "vm");
	fd = memfd_create(name, MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -errno;
	*page_size = huge ? backing_default_hugepage_size() : (uint64_t)sysconf(_SC_PAGESIZE);
	return fd;
}

static int backing_try(const struct backing_cfg *cfg, enum backing_mode mode, struct backing *b)
{
	uint64_t page_size = 4096;
	int fd, flags = MAP_SHARED;

	if (mode == BACKING_HUGETLBFS)
		fd = backing_open_hugetlbfs(cfg, &page_size);
	else
		fd = backing_open_memfd(cfg, mode == BACKING_MEMFD_HUGETLB, &page_size);
	if (fd < 0)
		return fd;
	if (cfg->size % page_size) {
		close(fd);
		return -EINVAL;
	}
	if (ftruncate(fd, (off_t)cfg->size) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	if (cfg->prefault)
		flags |= MAP_POPULATE;
	b->hva = mmap(NULL, cfg->size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (b->hva == MAP_FAILED) {
		int ret = -errno;

		b->hva = NULL;
		close(fd);
		return ret;
	}
	if (mode != BACKING_MEMFD && !cfg->prefault) {
		/*
		 * Hugetlb pages are reserved at mmap time (MAP_SHARED reserves the whole file), so a
		 * successful mmap means the pages are ours; no SIGBUS later.
		 */
	}
	if (cfg->lock && mlock(b->hva, cfg->size) < 0)
		log_warn("guest RAM: mlock of %llu MiB failed: %s (continuing unlocked)",
			 (unsigned long long)(cfg->size >> 20), strerror(errno));
	madvise(b->hva, cfg->size, MADV_DONTDUMP);
	b->fd = fd;
	b->mode = mode;
	b->size = cfg->size;
	b->page_size = page_size;
	if (mode == BACKING_HUGETLBFS)
		snprintf(b->desc, sizeof(b->desc), "hugetlbfs %s (%llu KiB pages)",
			 cfg->hugetlbfs_dir ? cfg->hugetlbfs_dir : "/dev/hugepages",
			 (unsigned long long)(page_size >> 10));
	else
		snprintf(b->desc, sizeof(b->desc), "%s (%llu KiB pages)", backing_mode_str(mode),
			 (unsigned long long)(page_size >> 10));
	return 0;
}

int backing_create(const struct backing_cfg *cfg, struct backing **out)
{
	struct backing *b = calloc(1, sizeof(*b));
	uint64_t hp = backing_default_hugepage_size();
	int ret;

	if (!b)
		return -ENOMEM;
	b->fd = -1;
	switch (cfg->mode) {
	case BACKING_AUTO: {
		long free_pages = backing_hugepages_free();
		uint64_t need = (cfg->size + hp - 1) / hp;

		if (cfg->size % hp == 0 && free_pages >= 0 && (uint64_t)free_pages >= need) {
			ret = backing_try(cfg, BACKING_HUGETLBFS, b);
			if (ret)
				ret = backing_try(cfg, BACKING_MEMFD_HUGETLB, b);
			if (!ret)
				break;
		}
		log_warn("guest RAM: falling back to plain memfd (4 KiB pages): %llu hugepages of %llu KiB "
			 "needed, %ld free%s",
			 (unsigned long long)need, (unsigned long long)(hp >> 10), free_pages < 0 ? 0 : free_pages,
			 cfg->size % hp ? " (size is not a hugepage multiple)" : "");
		ret = backing_try(cfg, BACKING_MEMFD, b);
		break;
	}
	case BACKING_HUGETLBFS:
	case BACKING_MEMFD_HUGETLB: {
		long free_pages = backing_hugepages_free();

		ret = backing_try(cfg, cfg->mode, b);
		if (ret)
			log_err("guest RAM: %s backing of %llu MiB failed: %s (%llu hugepages of %llu KiB "
				"needed, %ld free)",
				backing_mode_str(cfg->mode), (unsigned long long)(cfg->size >> 20),
				strerror(-ret), (unsigned long long)((cfg->size + hp - 1) / hp),
				(unsigned long long)(hp >> 10), free_pages < 0 ? 0 : free_pages);
		break;
	}
	case BACKING_MEMFD:
	default:
		ret = backing_try(cfg, BACKING_MEMFD, b);
		break;
	}
	if (ret) {
		free(b);
		return ret;
	}
	*out = b;
	return 0;
}

void backing_destroy(struct backing *b)
{
	if (!b)
		return;
	if (b->hva)
		munmap(b->hva, b->size);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}
