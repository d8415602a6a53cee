/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Initial CPU state for the ways nfv-vmm starts guests:
 *  - 64-bit long mode at an ELF entry with identity page tables, a GDT and per-vCPU TSS that the VMM
 *    builds (as the Linux KVM selftests do), EFER/CR0/CR4 set through KVM_SET_SREGS (a guest wrmsr to
 *    EFER is not needed and triple-faults on some hosts);
 *  - 16-bit real mode at a load address (boot-sector style flat binaries).
 * The table builders only write guest memory (unit-tested with the page-table walker).
 */
#ifndef NFV_CPU_BOOT_H
#define NFV_CPU_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "gmem.h"

/* Identity-map [0, map_top) (rounded up to 1 GiB; at least 4 GiB) with 1 GiB pages when @gb_pages,
 * else 2 MiB pages; @user sets U/S so CPL3 code can touch everything. Returns CR3 or -errno (map too
 * large for the table area). */
int64_t boot_build_page_tables(struct gmem *gm, uint64_t map_top, bool gb_pages, bool user)
	__attribute__((warn_unused_result));
/* GDT (selectors in guest_abi.h) and one TSS per vCPU. */
int boot_build_gdt(struct gmem *gm, unsigned nr_vcpus) __attribute__((warn_unused_result));

struct boot_long_mode {
	uint64_t entry;
	uint64_t cr3;
	uint64_t rsp;
	uint64_t rdi, rsi, rdx; /* first arguments */
	unsigned vcpu_id;
};

int boot_set_long_mode(int vcpu_fd, const struct boot_long_mode *lm) __attribute__((warn_unused_result));
int boot_set_real_mode(int vcpu_fd, uint16_t cs, uint16_t ip) __attribute__((warn_unused_result));

#endif
