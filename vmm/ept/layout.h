/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest physical memory layout (x86-64 PC-like):
 *
 *   0 .. lowmem_end            RAM (lowmem_end <= 3 GiB)
 *   3 GiB .. 4 GiB             MMIO hole: PCI 32-bit BARs, ECAM, IOAPIC (0xFEC00000), LAPIC (0xFEE00000)
 *   4 GiB .. 4 GiB + highmem   RAM above the hole, when the guest has more than 3 GiB
 *   above that                 PCI 64-bit BAR window
 *
 * The e820 map given to guests marks the legacy area (EBDA, VGA, BIOS: 0x9FC00..0x100000) reserved.
 * Pure computation: no KVM, unit-tested.
 */
#ifndef NFV_EPT_LAYOUT_H
#define NFV_EPT_LAYOUT_H

#include <stdint.h>

#define LAYOUT_HOLE_START 0xC0000000ull /* 3 GiB */
#define LAYOUT_HOLE_END 0x100000000ull	/* 4 GiB */
#define LAYOUT_PCI_MMIO32_BASE 0xC0000000ull
#define LAYOUT_PCI_MMIO32_END 0xE0000000ull
#define LAYOUT_PCI_ECAM_BASE 0xE0000000ull /* 256 MiB: 256 buses */
#define LAYOUT_PCI_ECAM_SIZE 0x10000000ull
#define LAYOUT_IOAPIC_BASE 0xFEC00000ull
#define LAYOUT_LAPIC_BASE 0xFEE00000ull
#define LAYOUT_EBDA_START 0x9FC00ull
#define LAYOUT_BIOS_END 0x100000ull

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX 16

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* One contiguous piece of guest RAM and where it lives in the backing fd. */
struct mem_bank {
	uint64_t gpa;
	uint64_t size;
	uint64_t fd_offset;
};

struct mem_layout {
	uint64_t ram_size;	/* total guest RAM */
	struct mem_bank bank[2]; /* below the hole, above it */
	unsigned nr_banks;
	uint64_t pci_mmio64_base; /* first address above RAM for 64-bit BARs, 1 GiB aligned */
	struct e820_entry e820[E820_MAX];
	unsigned nr_e820;
};

/*
 * Compute the layout for @ram_size bytes (a multiple of @align, which is the backing page size).
 * Returns 0, or -EINVAL when ram_size is 0, not aligned, below 1 MiB, or so large that addresses
 * would exceed 2^46 (the guest physical address width we promise).
 */
int layout_compute(uint64_t ram_size, uint64_t align, struct mem_layout *out)
	__attribute__((warn_unused_result));

/* Highest RAM address + 1 (the end of the last bank). */
uint64_t layout_ram_top(const struct mem_layout *l);

#endif
