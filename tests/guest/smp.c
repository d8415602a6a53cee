// SPDX-License-Identifier: GPL-2.0-only
/* Two and four vCPUs: each runs at CPL3, increments a shared counter, and reports done. */
#ifdef GUEST
#include "guest.h"

static volatile uint32_t arrived;
static volatile uint32_t seen[GUEST_MAX_VCPUS];

static void user_part(void)
{
	unsigned id = guest_vcpu(), nr = guest_boot_info->nr_vcpus;

	seen[id] = 1;
	atomic_inc(&arrived);
	while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < nr)
		cpu_relax();
	for (unsigned i = 0; i < nr; i++)
		GUEST_ASSERT_EQ(seen[i], 1);
	GUEST_PRINTF("vCPU %u of %u running", id, nr);
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	GUEST_ASSERT_EQ(bi->nr_vcpus, nr);
	GUEST_ASSERT(vcpu < nr);
	guest_enter_user(user_part);
}
#else
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv)
{
	static const char *const counts[] = { "2", "4" };

	if (argc < 3)
		return 2;
	for (unsigned i = 0; i < 2; i++) {
		struct vmm_proc p;
		const char *args[] = { "--vcpus", counts[i], "--mem-backing", "memfd", NULL };
		int st = vmm_run(&p, argv[1], argv[2], args, 120);
		char want[64];

		HOST_ASSERT(&p, st == 0, "%s vCPUs: exit status %d", counts[i], st);
		for (int v = 0; v < (counts[i][0] - '0'); v++) {
			snprintf(want, sizeof(want), "guest vCPU %d: vCPU %d of %s running", v, v, counts[i]);
			HOST_ASSERT(&p, vmm_output_has(&p, want), "missing '%s'", want);
			snprintf(want, sizeof(want), "guest vCPU %d: done", v);
			HOST_ASSERT(&p, vmm_output_has(&p, want), "missing '%s'", want);
		}
		printf("smp %s vCPUs: ok\n", counts[i]);
		vmm_cleanup(&p);
	}
	return 0;
}
#endif
