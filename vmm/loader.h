/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Boot loaders for freestanding guests: ELF64 executables (PT_LOAD segments placed at their physical
 * addresses) and flat binaries (copied to a load address). Images are files the user names, so every
 * header field is checked against the file size and guest RAM before anything is copied; an error
 * names the field that was wrong.
 */
#ifndef NFV_VMM_LOADER_H
#define NFV_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

struct loader_result {
	uint64_t entry;
	uint64_t lowest;  /* lowest loaded GPA */
	uint64_t highest; /* highest loaded GPA + 1 */
};

/* Load an ELF64 x86-64 image from memory. 0 or -ENOEXEC/-EFAULT/-EINVAL with @err filled. */
int loader_elf64(struct gmem *gm, const uint8_t *img, size_t len, uint64_t min_gpa,
		 struct loader_result *res, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Copy a flat image to @gpa. */
int loader_flat(struct gmem *gm, const uint8_t *img, size_t len, uint64_t gpa, struct loader_result *res,
		char *err, size_t errlen) __attribute__((warn_unused_result));

/* Read a whole file (at most @max bytes) into a malloc'ed buffer. */
int loader_read_file(const char *path, size_t max, uint8_t **buf, size_t *len) __attribute__((warn_unused_result));

#endif
