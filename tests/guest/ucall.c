// SPDX-License-Identifier: GPL-2.0-only
/* The test port: assertion reports with file, line and values; PRINT; the exit port; bad reports. */
#ifdef GUEST
#include "guest.h"

static void user_part(void)
{
	const char *a = guest_boot_info->args;

	if (!strcmp(a, "assert")) {
		volatile int two = 2;

		GUEST_ASSERT_EQ(two + 1, 4);
	} else if (!strcmp(a, "print")) {
		GUEST_PRINTF("value %d and %s", 42, "text");
	} else if (!strcmp(a, "exit")) {
		outb(GUEST_PORT_EXIT, 7);
		for (;;)
			cpu_relax();
	} else if (!strcmp(a, "bad")) {
		/* A report address outside guest RAM and a wrong-width write: counted, not fatal. */
		outl(GUEST_PORT_UCALL, 0xfffff000u);
		outw(GUEST_PORT_UCALL, 1);
	}
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(int argc, char **argv)
{
	struct vmm_proc p;
	int st;

	if (argc < 3)
		return 2;
	st = vmm_run_guest_args(&p, argv[1], argv[2], "assert");
	HOST_ASSERT(&p, st == 1, "assert: exit status %d, want 1", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "assertion failed at ") && vmm_output_has(&p, "ucall.c:"),
		    "no file:line in the report");
	HOST_ASSERT(&p, vmm_output_has(&p, "two + 1 == 4") && vmm_output_has(&p, "0x3 (3), 0x4 (4)"),
		    "expression or values missing");
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "print");
	HOST_ASSERT(&p, st == 0, "print: exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "guest vCPU 0: value 42 and text"), "PRINT report missing");
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "exit");
	HOST_ASSERT(&p, st == 7, "exit port: status %d, want 7", st);
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "bad");
	HOST_ASSERT(&p, st == 0, "bad reports: status %d, want 0 (the VM must keep running)", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "\"bad_test_reports\":2"), "bad reports not counted");
	vmm_cleanup(&p);
	printf("ucall: ok\n");
	return 0;
}
#endif
