// SPDX-License-Identifier: GPL-2.0-only
#include "layout.h"

#include <errno.h>
#include <string.h>

#include "util.h"

#define LAYOUT_MAX_GPA (1ull << 46)

static void e820_add(struct mem_layout *l, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size && l->nr_e820 < E820_MAX)
		l->e820[l->nr_e820++] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
}

int layout_compute(uint64_t ram_size, uint64_t align, struct mem_layout *l)
{
	uint64_t low, high;

	memset(l, 0, sizeof(*l));
	if (!align || (align & (align - 1)))
		return -EINVAL;
	if (ram_size < MiB || ram_size % align)
		return -EINVAL;
	if (ram_size > LAYOUT_MAX_GPA - LAYOUT_HOLE_END)
		return -EINVAL;

	low = MIN(ram_size, LAYOUT_HOLE_START);
	high = ram_size - low;
	l->ram_size = ram_size;
	l->bank[l->nr_banks++] = (struct mem_bank){ .gpa = 0, .size = low, .fd_offset = 0 };
	if (high)
		l->bank[l->nr_banks++] =
			(struct mem_bank){ .gpa = LAYOUT_HOLE_END, .size = high, .fd_offset = low };
	l->pci_mmio64_base = ALIGN_UP(layout_ram_top(l), GiB);
	if (l->pci_mmio64_base < LAYOUT_HOLE_END)
		l->pci_mmio64_base = LAYOUT_HOLE_END;

	e820_add(l, 0, LAYOUT_EBDA_START, E820_RAM);
	e820_add(l, LAYOUT_EBDA_START, LAYOUT_BIOS_END - LAYOUT_EBDA_START, E820_RESERVED);
	e820_add(l, LAYOUT_BIOS_END, low - LAYOUT_BIOS_END, E820_RAM);
	e820_add(l, LAYOUT_PCI_ECAM_BASE, LAYOUT_PCI_ECAM_SIZE, E820_RESERVED);
	if (high)
		e820_add(l, LAYOUT_HOLE_END, high, E820_RAM);
	return 0;
}

uint64_t layout_ram_top(const struct mem_layout *l)
{
	if (!l->nr_banks)
		return 0;
	return l->bank[l->nr_banks - 1].gpa + l->bank[l->nr_banks - 1].size;
}
