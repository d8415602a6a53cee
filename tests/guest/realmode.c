// SPDX-License-Identifier: GPL-2.0-only
/* Host half of realmode.S: a flat binary started in real mode prints and exits through the exit port. */
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv)
{
	struct vmm_proc p;
	const char *args[] = { "--real-mode", "--mem-backing", "memfd", "--memory", "16M", NULL };
	int st;

	if (argc < 3)
		return 2;
	st = vmm_run(&p, argv[1], argv[2], args, 60);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "real mode guest: hello"), "no serial output from real mode");
	vmm_cleanup(&p);
	printf("real mode: ok\n");
	return 0;
}
