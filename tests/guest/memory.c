// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest RAM sizes: the e820 map in boot_info matches --memory, every RAM range is writable and reads
 * back (sampled every 16 MiB plus each range's last page), RAM above the 4 GiB hole works, and
 * nothing in the hole is RAM.
 */
#ifdef GUEST
#include "guest.h"

static void user_part(void)
{
	struct boot_info *bi = guest_boot_info;
	uint64_t total = 0, highest = 0;

	for (uint32_t i = 0; i < bi->nr_e820; i++) {
		struct guest_e820 *e = &bi->e820[i];

		if (e->type != 1)
			continue;
		total += e->size;
		for (uint64_t a = e->addr; a < e->addr + e->size; a += 16ull << 20) {
			uint64_t addr = a < (4ull << 20) ? (4ull << 20) : a; /* skip our image and stacks */
			uint64_t last = e->addr + e->size - 8;

			if (addr >= e->addr + e->size)
				continue;
			*(volatile uint64_t *)addr = addr ^ 0x5a5a5a5a5a5a5a5aull;
			*(volatile uint64_t *)last = last ^ 0xa5a5a5a5a5a5a5a5ull;
			GUEST_ASSERT_EQ(*(volatile uint64_t *)addr, addr ^ 0x5a5a5a5a5a5a5a5aull);
			GUEST_ASSERT_EQ(*(volatile uint64_t *)last, last ^ 0xa5a5a5a5a5a5a5a5ull);
			if (last + 8 > highest)
				highest = last + 8;
		}
		GUEST_ASSERT(e->addr + e->size <= 0xC0000000ull || e->addr >= 0x100000000ull);
	}
	/* The legacy hole below 1 MiB (0x9FC00..0x100000) is reserved, so RAM is ram_size minus it. */
	GUEST_ASSERT_EQ(total + (0x100000 - 0x9FC00), bi->ram_size);
	GUEST_ASSERT_EQ(highest, bi->ram_top);
	GUEST_PRINTF("memory: %lu MiB RAM, highest address written 0x%lx", (unsigned long)(bi->ram_size >> 20),
		     (unsigned long)highest);
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv)
{
	static const char *const sizes[] = { "64M", "1G", "3584M" };
	static const char *const expect[] = { "highest address written 0x4000000", "highest address written 0x40000000",
					      "highest address written 0x120000000" };

	if (argc < 3)
		return 2;
	for (unsigned i = 0; i < 3; i++) {
		struct vmm_proc p;
		const char *args[] = { "--memory", sizes[i], "--mem-backing", "memfd", NULL };
		int st = vmm_run(&p, argv[1], argv[2], args, 120);

		HOST_ASSERT(&p, st == 0, "%s: exit status %d", sizes[i], st);
		HOST_ASSERT(&p, vmm_output_has(&p, expect[i]), "%s: expected '%s'", sizes[i], expect[i]);
		printf("memory %s: ok\n", sizes[i]);
		vmm_cleanup(&p);
	}
	return 0;
}
#endif
