// SPDX-License-Identifier: GPL-2.0-only
/* Dirty-page logging: switched on through the control socket; the pages the guest writes come back. */
#ifdef GUEST
#include "guest.h"

#define BASE (64ull << 20)

static void user_part(void)
{
	serial_puts("ready\n");
	while (serial_getc() != 'g')
		;
	for (unsigned i = 0; i < 16; i++)
		*(volatile uint64_t *)(BASE + i * 8192ull) = i + 1;
	serial_puts("written\n");
	while (serial_getc() != 'q')
		;
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
	static char resp[1 << 16];
	const char *args[] = { "--memory", "128M", NULL };
	int st;

	if (argc < 3)
		return 2;
	vmm_start(&p, argv[1], argv[2], args);
	HOST_ASSERT(&p, vmm_wait_for(&p, "ready", 60), "guest never got ready");
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"dirty-log-get\"}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":false"),
		    "dirty-log-get with logging off: %s", resp);
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"dirty-log\",\"enable\":true}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":true"),
		    "enable: %s", resp);
	/* Clear whatever was dirtied before the guest's writes. */
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"dirty-log-get\"}", resp, sizeof(resp)) == 0, "first get");
	vmm_send(&p, "g");
	HOST_ASSERT(&p, vmm_wait_for(&p, "written", 60), "guest did not write");
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"dirty-log-get\"}", resp, sizeof(resp)) == 0, "second get");
	for (unsigned i = 0; i < 16; i++) {
		char gpa[32];

		snprintf(gpa, sizeof(gpa), "%llu", (64ull << 20) + i * 8192ull);
		HOST_ASSERT(&p, strstr(resp, gpa), "page %s not reported dirty: %.300s", gpa, resp);
	}
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"dirty-log-get\"}", resp, sizeof(resp)) == 0 &&
				!strstr(resp, "67108864"),
		    "bitmap not cleared by the fetch: %.300s", resp);
	vmm_send(&p, "q");
	st = vmm_wait(&p, 60);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	vmm_cleanup(&p);
	printf("dirty logging: ok\n");
	return 0;
}
#endif
