/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest page-table walker: translates a guest virtual address to a guest physical address by reading
 * the guest's own page tables through the bounds-checked accessor. Used for diagnostics (instruction
 * bytes at a faulting RIP) and by the instruction fallback. The tables are guest-controlled: every
 * entry is read through gmem, and a walk never loops (fixed depth).
 *
 * Supports: paging off, 32-bit (with PSE 4 MiB pages), PAE, 4-level and 5-level long mode, with 2 MiB
 * and 1 GiB pages. Accessed/dirty bits are not updated (diagnostic walk).
 */
#ifndef NFV_EPT_PGWALK_H
#define NFV_EPT_PGWALK_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

struct pgwalk_mode {
	uint64_t cr0, cr3, cr4, efer;
};

enum pgwalk_access {
	PGWALK_READ = 0,
	PGWALK_WRITE = 1 << 0,
	PGWALK_USER = 1 << 1,
	PGWALK_FETCH = 1 << 2,
};

/*
 * Translate @gva. Returns 0 with *gpa set, -EFAULT when a table is outside guest RAM, -ENOENT when
 * an entry is not present, -EACCES when @access is not allowed (write to read-only, user to
 * supervisor page, fetch from NX), -EINVAL for a non-canonical address or reserved bits.
 */
int pgwalk_translate(struct gmem *gm, const struct pgwalk_mode *mode, uint64_t gva, unsigned access,
		     uint64_t *gpa) __attribute__((warn_unused_result));

/* Copy @len bytes from guest virtual memory (crossing pages as needed); 0 or as above. */
int pgwalk_read(struct gmem *gm, const struct pgwalk_mode *mode, uint64_t gva, void *dst, size_t len)
	__attribute__((warn_unused_result));

#endif
