// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU pinning: each vCPU thread runs on the host CPU the configuration names (read back from the
 * kernel, not from the VMM's own word), the emulator threads stay on theirs, a live re-pin works, and
 * a pin that cannot be applied is refused before the guest starts.
 */
#ifdef GUEST
#include "guest.h"

static volatile uint32_t go;

static void user_part(void)
{
	if (guest_vcpu() == 0) {
		serial_puts("ready\n");
		while (serial_getc() != 'g')
			;
		__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
			cpu_relax();
	}
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Cpus_allowed_list of the thread named @name in process @pid. */
static int thread_affinity(pid_t pid, const char *name, char *out, size_t len)
{
	char path[320], line[256], comm[64];
	struct dirent *de;
	DIR *d;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f || !fgets(comm, sizeof(comm), f)) {
			if (f)
				fclose(f);
			continue;
		}
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, de->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "Cpus_allowed_list:", 18)) {
				snprintf(out, len, "%s", line + 18 + strspn(line + 18, " \t"));
				out[strcspn(out, "\n")] = '\0';
				found = 0;
			}
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

int main(int argc, char **argv)
{
	struct vmm_proc p;
	char aff[64], resp[4096];
	int st;

	if (argc < 3)
		return 2;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		host_skip("pinning needs at least 2 host CPUs");
	{
		const char *args[] = { "--vcpus", "2", "--vcpu-pin", "0:1,1:0", "--emulator-pin", "0",
				       "--mem-backing", "memfd", NULL };

		vmm_start(&p, argv[1], argv[2], args);
	}
	HOST_ASSERT(&p, vmm_wait_for(&p, "ready", 60), "guest never got ready");
	HOST_ASSERT(&p, thread_affinity(p.pid, "vcpu0", aff, sizeof(aff)) == 0, "no vcpu0 thread");
	HOST_ASSERT(&p, !strcmp(aff, "1"), "vcpu0 affinity is '%s', want '1'", aff);
	HOST_ASSERT(&p, thread_affinity(p.pid, "vcpu1", aff, sizeof(aff)) == 0, "no vcpu1 thread");
	HOST_ASSERT(&p, !strcmp(aff, "0"), "vcpu1 affinity is '%s', want '0'", aff);
	HOST_ASSERT(&p, thread_affinity(p.pid, "nfv-vmm", aff, sizeof(aff)) == 0, "no main thread");
	HOST_ASSERT(&p, !strcmp(aff, "0"), "emulator thread affinity is '%s', want '0'", aff);
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"info\"}", resp, sizeof(resp)) == 0, "control info failed");
	HOST_ASSERT(&p, strstr(resp, "\"id\":0,") && strstr(resp, "\"affinity\":\"1\",\"pinned\":true"),
		    "control info does not report the pin: %s", resp);
	/* Live re-pin of vCPU 1, as nfvctl vcpupin does. */
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"vcpupin\",\"vcpu\":1,\"cpuset\":\"1\"}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":true"),
		    "vcpupin refused: %s", resp);
	HOST_ASSERT(&p, thread_affinity(p.pid, "vcpu1", aff, sizeof(aff)) == 0 && !strcmp(aff, "1"),
		    "vcpu1 affinity after re-pin is '%s', want '1'", aff);
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"vcpupin\",\"vcpu\":1,\"cpuset\":\"4000\"}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":false"),
		    "re-pin to a missing CPU accepted: %s", resp);
	vmm_send(&p, "g");
	st = vmm_wait(&p, 60);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	vmm_cleanup(&p);

	/* A pin that cannot be applied fails before the guest starts, naming the CPU. */
	{
		const char *args[] = { "--vcpus", "2", "--vcpu-pin", "0:1,1:900", NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 2, "bad pin: exit status %d, want 2", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "vCPU 1 cannot be pinned: host CPU 900 is not online"),
		    "bad pin: message does not name the CPU");
	HOST_ASSERT(&p, !vmm_output_has(&p, "running:"), "guest started despite a bad pin");
	vmm_cleanup(&p);
	printf("pinning: ok\n");
	return 0;
}
#endif
