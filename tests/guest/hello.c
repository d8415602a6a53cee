// SPDX-License-Identifier: GPL-2.0-only
/*
 * Serial output from CPL0 and CPL3, the test port's DONE, end-of-run statistics, and guest RAM
 * backing: hugepages used when enough are free, the logged memfd fallback when not, and a clear
 * error when hugepages were demanded explicitly.
 */
#ifdef GUEST
#include "guest.h"

static void user_part(void)
{
	serial_printf("hello from CPL%u\n", cpl());
	if (strstr(guest_boot_info->args, "wait")) {
		serial_puts("ready\n");
		while (serial_getc() != 'g')
			;
	}
	GUEST_ASSERT_EQ(cpl(), 3);
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)nr;
	GUEST_ASSERT_EQ(bi->magic, BOOT_INFO_MAGIC);
	serial_printf("nfvisor test guest: vCPU %u at CPL%u\n", vcpu, cpl());
	guest_enter_user(user_part);
}
#else
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void check_hello(const char *vmm, const char *guest)
{
	struct vmm_proc p;
	const char *args[] = { "--memory", "64M", NULL };
	int st = vmm_run(&p, vmm, guest, args, 60);
	FILE *f;
	char stats[4096] = "";

	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "nfvisor test guest: vCPU 0 at CPL0"), "CPL0 serial line missing");
	HOST_ASSERT(&p, vmm_output_has(&p, "hello from CPL3"), "CPL3 serial line missing");
	HOST_ASSERT(&p, vmm_output_has(&p, "guest vCPU 0: done"), "DONE report missing");
	f = fopen(p.stats, "r");
	HOST_ASSERT(&p, f, "no --stats-file written");
	HOST_ASSERT(&p, fgets(stats, sizeof(stats), f), "empty stats file");
	fclose(f);
	HOST_ASSERT(&p, strstr(stats, "\"first_serial_byte_ms\":") && !strstr(stats, "\"first_serial_byte_ms\":-1"),
		    "stats lack the first serial byte time: %s", stats);
	printf("hello: ok; stats %s", stats);
	vmm_cleanup(&p);
}

static void check_hugepages(const char *vmm, const char *guest)
{
	long before = host_hugepages_free();
	struct vmm_proc p;
	char fb[32], big[32];
	int st;

	if (before < 32) {
		printf("hugepages: only %ld free 2 MiB pages; hugepage-backed run not checked here\n", before);
	} else {
		const char *args[] = { "--memory", "64M", "--guest-args", "wait", NULL };
		long during;

		vmm_start(&p, vmm, guest, args);
		HOST_ASSERT(&p, vmm_wait_for(&p, "ready", 60), "guest never got ready");
		during = host_hugepages_free();
		vmm_send(&p, "g");
		st = vmm_wait(&p, 60);
		HOST_ASSERT(&p, st == 0, "exit status %d", st);
		HOST_ASSERT(&p, vmm_output_has(&p, "backed by hugetlbfs") || vmm_output_has(&p, "memfd-hugetlb"),
			    "64 MiB guest with %ld free hugepages was not hugepage-backed", before);
		HOST_ASSERT(&p, before - during >= 32, "free hugepages went from %ld to %ld only", before, during);
		printf("hugepages: 64 MiB guest took %ld hugepages\n", before - during);
		vmm_cleanup(&p);
	}

	/* More than is free: auto falls back to memfd and says how many were needed and free. */
	snprintf(fb, sizeof(fb), "%ldM", (before < 0 ? 0 : before) * 2 + 64);
	{
		const char *args[] = { "--memory", fb, NULL };

		st = vmm_run(&p, vmm, guest, args, 60);
		HOST_ASSERT(&p, st == 0, "exit status %d", st);
		HOST_ASSERT(&p, vmm_output_has(&p, "falling back to plain memfd"), "no fallback message");
		HOST_ASSERT(&p, vmm_output_has(&p, "needed") && vmm_output_has(&p, "free"),
			    "fallback message does not say needed/free");
		vmm_cleanup(&p);
	}
	/* Demanded explicitly: a configuration error, not a silent fallback. */
	snprintf(big, sizeof(big), "%ldM", (before < 0 ? 0 : before) * 2 + 64);
	{
		const char *args[] = { "--memory", big, "--mem-backing", "memfd-hugetlb", NULL };

		st = vmm_run(&p, vmm, guest, args, 60);
		HOST_ASSERT(&p, st == 2, "explicit hugepages beyond what is free: exit status %d, want 2", st);
		HOST_ASSERT(&p, vmm_output_has(&p, "needed"), "error does not say how many were needed");
		HOST_ASSERT(&p, !vmm_output_has(&p, "nfvisor test guest"), "guest ran despite the error");
		vmm_cleanup(&p);
	}
	printf("hugepages: fallback and explicit-failure paths ok\n");
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	check_hello(argv[1], argv[2]);
	check_hugepages(argv[1], argv[2]);
	return 0;
}
#endif
