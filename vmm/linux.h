/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst), entered the fast way: the VMM
 * decompresses the bzImage payload itself (XZ, as Debian builds it; the decompressor is CPL0 code that
 * hosts without VT-x/AMD-V would emulate instruction by instruction), loads the vmlinux ELF at its
 * physical addresses and starts the vCPU at the ELF entry (startup_64) in 64-bit mode with RSI
 * pointing at the zero page (struct boot_params): setup header copied from the bzImage, command line,
 * initrd, e820 map. A bare vmlinux ELF works the same way with a synthesised header.
 */
#ifndef NFV_VMM_LINUX_H
#define NFV_VMM_LINUX_H

#include <stddef.h>
#include <stdint.h>

#include "gmem.h"
#include "layout.h"

#define LINUX_ZERO_PAGE 0x7000ull
#define LINUX_CMDLINE 0x8000ull
#define LINUX_CMDLINE_MAX 0x8000u /* up to the boot page tables at 0x10000 */

struct linux_boot {
	uint64_t entry;	    /* 64-bit entry (startup_64) */
	uint64_t zero_page; /* RSI */
	uint64_t kernel_end;
	uint64_t initrd_addr, initrd_size;
};

/* True when @img is a bzImage (setup header magic "HdrS"). */
int linux_is_bzimage(const uint8_t *img, size_t len);

/*
 * Load @img (bzImage or vmlinux ELF), @initrd (may be NULL) and @cmdline into guest memory.
 * Errors name the header field or the decompression step that failed.
 */
int linux_load(struct gmem *gm, const struct mem_layout *l, const uint8_t *img, size_t len, const uint8_t *initrd,
	       size_t initrd_len, const char *cmdline, struct linux_boot *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif
