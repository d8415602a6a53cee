// SPDX-License-Identifier: GPL-2.0-only
/* The demo guest: reports what the VMM gave it (vCPUs, RAM map) and does a little work on every vCPU
 * at CPL3, printing on the serial console. */
#ifdef GUEST
#include "guest.h"

static volatile uint32_t arrived;
static volatile uint64_t sums[GUEST_MAX_VCPUS];

static void user_part(void)
{
	unsigned id = guest_vcpu(), nr = guest_boot_info->nr_vcpus;
	uint64_t sum = 0;

	/* A little native-speed work: sum of the first 50 million integers. */
	for (uint64_t i = 1; i <= 50000000ull; i++)
		sum += i;
	sums[id] = sum;
	atomic_inc(&arrived);
	if (id == 0) {
		while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < nr)
			cpu_relax();
		for (unsigned i = 0; i < nr; i++)
			serial_printf("  vCPU %u computed %lu at CPL3\n", i, (unsigned long)sums[i]);
		serial_puts("demo guest: all vCPUs done, powering off\n");
	}
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	if (vcpu == 0) {
		serial_printf("demo guest: %u vCPU(s), %lu MiB of RAM, e820:\n", nr, (unsigned long)(bi->ram_size >> 20));
		for (uint32_t i = 0; i < bi->nr_e820; i++)
			serial_printf("  %016lx-%016lx %s\n", (unsigned long)bi->e820[i].addr,
				      (unsigned long)(bi->e820[i].addr + bi->e820[i].size - 1),
				      bi->e820[i].type == 1 ? "usable" : "reserved");
	}
	guest_enter_user(user_part);
}
#endif
