// SPDX-License-Identifier: GPL-2.0-only
/*
 * blk-durability: what the guest was told is flushed is in the image file, even when nfv-vmm dies
 * right then. The guest (lib/vblk_drv.c at CPL3) writes 512 KiB in 64 KiB requests, flushes
 * (VIRTIO_BLK_T_FLUSH), prints "blk: flushed" on the serial line once the flush completed, and then
 * spins without touching any device; the host kills nfv-vmm with SIGKILL as soon as it reads the
 * line and checks the image file. Runs once with cache=writeback (data in the page cache until the
 * flush's fdatasync) and once with cache=none (O_DIRECT).
 */
#include <stdint.h>

#define SECTORS 4096u /* 2 MiB image */
#define START 1000u   /* first sector written */
#define COUNT 1024u   /* sectors written (512 KiB) */

static uint8_t pattern(uint64_t s, unsigned i)
{
	return (uint8_t)((s * 29u) ^ (i * 13u) ^ (i >> 7) ^ 0xa5);
}

#ifdef GUEST
#include "guest.h"
#include "vblk_drv.h"

static struct vblk disk;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static uint8_t buf[64 * 1024] __attribute__((aligned(4096)));

static void user_part(void)
{
	const unsigned per = sizeof(buf) / VBLK_SECTOR;

	GUEST_ASSERT_EQ(vblk_init(&disk, 0), 0);
	GUEST_ASSERT(disk.has_flush);
	for (unsigned s = START; s < START + COUNT; s += per) {
		for (unsigned k = 0; k < per; k++)
			for (unsigned i = 0; i < VBLK_SECTOR; i++)
				buf[k * VBLK_SECTOR + i] = pattern(s + k, i);
		GUEST_ASSERT_EQ(vblk_write(&disk, s, buf, sizeof(buf)), 0);
	}
	GUEST_ASSERT_EQ(vblk_flush(&disk), 0);
	serial_puts("blk: flushed\n");
	/*
	 * Wait to be killed; no exits, so nothing else happens in the VMM on our behalf. Not for
	 * ever, though: if the kill went astray (a launcher between the test and the VMM), the VM
	 * ends itself after about half a minute instead of spinning on.
	 */
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < (1ull << 36);)
		cpu_relax();
	GUEST_FAIL("still running long after the flush report: the host never killed the VMM");
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char tmpdir[] = "/var/tmp/nfv-blkd-XXXXXX";

/* Runs on every exit, failures included (host_fail exits): no image is left behind. */
static void remove_images(void)
{
	char img[96];

	for (int i = 0; i < 2; i++) {
		snprintf(img, sizeof(img), "%s/disk-%s.img", tmpdir, i ? "none" : "writeback");
		unlink(img);
	}
	rmdir(tmpdir);
}

static void run(const char *vmm, const char *guest, const char *dir, const char *cache)
{
	char img[96], dev[200];
	const char *args[] = {"--device", dev, NULL};
	uint8_t sec[512];
	struct vmm_proc p;
	int fd, st;

	snprintf(img, sizeof(img), "%s/disk-%s.img", dir, cache);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)SECTORS * 512) < 0) {
		perror(img);
		exit(1);
	}
	close(fd);
	snprintf(dev, sizeof(dev), "virtio-blk,path=%s,cache=%s", img, cache);
	vmm_start(&p, vmm, guest, args);
	HOST_ASSERT(&p, vmm_wait_for(&p, "blk: flushed", 120), "no flush report");
	HOST_ASSERT(&p, kill(p.pid, SIGKILL) == 0, "kill");
	st = vmm_wait(&p, 30);
	HOST_ASSERT(&p, st == 128 + SIGKILL, "exit status %d, want SIGKILL", st);

	fd = open(img, O_RDONLY | O_CLOEXEC);
	HOST_ASSERT(&p, fd >= 0, "cannot reopen %s", img);
	for (unsigned s = START; s < START + COUNT; s++) {
		HOST_ASSERT(&p, pread(fd, sec, 512, (off_t)s * 512) == 512, "short read");
		for (unsigned i = 0; i < 512; i++)
			HOST_ASSERT(&p, sec[i] == pattern(s, i),
				    "cache=%s: sector %u byte %u is %02x, want %02x", cache, s, i,
				    sec[i], pattern(s, i));
	}
	/* Sectors around the written range stay zero. */
	HOST_ASSERT(&p, pread(fd, sec, 512, (off_t)(START - 1) * 512) == 512, "short read");
	for (unsigned i = 0; i < 512; i++)
		HOST_ASSERT(&p, sec[i] == 0, "sector before the range written");
	close(fd);
	unlink(img);
	printf("blk-durability cache=%s: %u flushed sectors in the image after SIGKILL\n", cache,
	       COUNT);
	vmm_cleanup(&p);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(remove_images);
	run(argv[1], argv[2], tmpdir, "writeback");
	run(argv[1], argv[2], tmpdir, "none");
	return 0;
}
#endif
