// SPDX-License-Identifier: GPL-2.0-only
/*
 * Debian's own kernel (linux-image-amd64) under nfv-vmm, entered through the 64-bit boot protocol
 * after the VMM decompressed the bzImage.
 *
 *   linux-boot-test VMM [early]   the kernel's banner and early set-up lines (e820 map from our zero
 *                                 page, our MP table, the boot CPU) within a bound; then stop the VM
 *   linux-boot-test VMM initramfs as far as it gets toward the busybox initramfs shell (slow suite)
 *
 * On hosts without VT-x/AMD-V every kernel instruction before user space is emulated; the bound below
 * was measured there (banner after ~37 s, MP table lines after ~50 s) and doubled for noisy machines.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define EARLY_BOUND_S 150
#define INITRAMFS_BOUND_S 1800

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Newest /boot/vmlinuz-*, or NULL. */
static const char *find_kernel(void)
{
	static char best[512];
	struct dirent *de;
	DIR *d = opendir("/boot");

	best[0] = '\0';
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "vmlinuz-", 8))
			continue;
		if (!best[0] || strcmp(de->d_name, best + 6) > 0)
			snprintf(best, sizeof(best), "/boot/%s", de->d_name);
	}
	if (d)
		closedir(d);
	return best[0] ? best : NULL;
}

/* A newc cpio archive with /init (a shell script) and busybox. */
static void cpio_add(FILE *f, const char *name, unsigned mode, const void *data, size_t len)
{
	static unsigned ino = 1;
	size_t nlen = strlen(name) + 1, pad;

	fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++, mode, 0u, 0u, 1u, 0u, len,
		0u, 0u, 0u, 0u, nlen, 0u);
	fwrite(name, 1, nlen, f);
	pad = (4 - ((110 + nlen) % 4)) % 4;
	fwrite("\0\0\0", 1, pad, f);
	if (len)
		fwrite(data, 1, len, f);
	pad = (4 - (len % 4)) % 4;
	fwrite("\0\0\0", 1, pad, f);
}

static int make_initramfs(const char *path)
{
	static const char init[] = "#!/bin/busybox sh\n"
				   "/bin/busybox mkdir -p /proc /sys\n"
				   "/bin/busybox mount -t proc proc /proc\n"
				   "echo nfvisor initramfs: shell reached\n"
				   "/bin/busybox uname -a\n"
				   "/bin/busybox poweroff -f\n";
	FILE *bb = fopen("/bin/busybox", "rb"), *out;
	char *buf;
	long n;

	if (!bb)
		return -1;
	fseek(bb, 0, SEEK_END);
	n = ftell(bb);
	fseek(bb, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (!buf || fread(buf, 1, (size_t)n, bb) != (size_t)n) {
		fclose(bb);
		free(buf);
		return -1;
	}
	fclose(bb);
	out = fopen(path, "wb");
	if (!out) {
		free(buf);
		return -1;
	}
	cpio_add(out, "bin", 040755, NULL, 0);
	cpio_add(out, "dev", 040755, NULL, 0);
	cpio_add(out, "bin/busybox", 0100755, buf, (size_t)n);
	cpio_add(out, "init", 0100755, init, sizeof(init) - 1);
	cpio_add(out, "TRAILER!!!", 0, NULL, 0);
	free(buf);
	return fclose(out);
}

int main(int argc, char **argv)
{
	static const char *const early[] = {
		"Linux version ", "Command line: console=ttyS0", "BIOS-e820: [mem 0x0000000000100000-",
		"found SMP MP-table at [mem 0x000f0000-", "MPTABLE: OEM ID: NFVISOR", "Processor #0 (Bootup-CPU)",
		"IOAPIC[0]: apic_id 1",
	};
	const char *kernel = find_kernel();
	bool slow = argc > 2 && !strcmp(argv[2], "initramfs");
	char initrd[] = "/tmp/nfv-initramfs-XXXXXX";
	struct vmm_proc p;
	double t0;
	int st;

	if (argc < 2)
		return 2;
	if (!kernel)
		host_skip("no /boot/vmlinuz-* (Debian package linux-image-amd64)");
	if (!slow) {
		const char *args[] = { "--memory", "256M", "--mem-backing", "memfd", "--cmdline",
				       "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr acpi=off lpj=1000000", NULL };

		t0 = now();
		vmm_start(&p, argv[1], kernel, args);
		for (unsigned i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
			int left = EARLY_BOUND_S - (int)(now() - t0);

			HOST_ASSERT(&p, left > 0 && vmm_wait_for(&p, early[i], left), "'%s' not printed within %d s", early[i],
				    EARLY_BOUND_S);
			printf("%6.1f s  %s\n", now() - t0, early[i]);
			fflush(stdout);
		}
		kill(p.pid, SIGTERM);
		st = vmm_wait(&p, 30);
		HOST_ASSERT(&p, st == 128 + SIGTERM, "SIGTERM: exit status %d, want %d", st, 128 + SIGTERM);
		vmm_cleanup(&p);
		printf("linux early boot: ok (%s)\n", kernel);
		return 0;
	}
	{
		int fd = mkstemp(initrd);

		if (fd < 0)
			return 1;
		close(fd);
		if (make_initramfs(initrd))
			host_skip("cannot build the initramfs (is busybox-static installed?)");
	}
	{
		const char *args[] = { "--memory", "512M", "--mem-backing", "memfd", "--initrd", initrd, "--cmdline",
				       "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr acpi=off lpj=1000000 rdinit=/init "
				       "panic=-1",
				       NULL };
		double last = 0;

		t0 = now();
		vmm_start(&p, argv[1], kernel, args);
		/* Report progress every minute: the last kernel line reached. */
		while (!vmm_output_has(&p, "nfvisor initramfs: shell reached") && now() - t0 < INITRAMFS_BOUND_S) {
			if (!vmm_wait_for(&p, "nfvisor initramfs: shell reached", 60) && now() - last >= 60) {
				const char *tail = p.out ? p.out + (p.out_len > 200 ? p.out_len - 200 : 0) : "";
				const char *nl = strrchr(tail, '[');

				printf("%6.0f s: %s\n", now() - t0, nl ? nl : tail);
				fflush(stdout);
				last = now();
			}
			if (p.out_fd < 0 && p.err_fd < 0)
				break;
		}
		st = vmm_wait(&p, 120);
	}
	unlink(initrd);
	HOST_ASSERT(&p, vmm_output_has(&p, "nfvisor initramfs: shell reached"), "no shell within %d s (status %d)",
		    INITRAMFS_BOUND_S, st);
	printf("linux initramfs: shell reached after %.0f s, exit status %d\n", now() - t0, st);
	vmm_cleanup(&p);
	return 0;
}
