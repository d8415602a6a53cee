// SPDX-License-Identifier: GPL-2.0-only
/*
 * blk-guest: the guest virtio-blk driver (lib/vblk_drv.c, at CPL3) against nfv-vmm's virtio-blk on
 * two image files: disk 0 read-write with a serial, disk 1 readonly=on holding a pattern the host
 * wrote. The guest writes patterns (single sectors, 64 KiB, the last sector), flushes, reads them
 * back, keeps 16 reads in flight at once, checks that GET_ID returns the serial, that the read-only
 * disk offers VIRTIO_BLK_F_RO and answers a write with VIRTIO_BLK_S_IOERR, and that requests at or
 * across the end of either disk fail with IOERR. The host then checks the image file holds what
 * the guest wrote.
 *
 * --guest-args "sectors=N ro_sectors=M serial=S"
 */
#include <stdint.h>

#define RW_SECTORS 8192u /* 4 MiB */
#define RO_SECTORS 2048u /* 1 MiB */
#define SERIAL "nfv-blk-test-0001"

/* Byte @i of sector @s as a writer with @seed leaves it: both halves compute the same bytes. */
static uint8_t pattern(uint64_t s, unsigned i, unsigned seed)
{
	return (uint8_t)((s * 131u) ^ (i * 7u) ^ (i >> 8) ^ seed);
}

#ifdef GUEST
#include "guest.h"
#include "vblk_drv.h"

static struct vblk disk, rodisk;
static uint8_t buf[64 * 1024] __attribute__((aligned(4096)));
static uint8_t bufs[16][4096] __attribute__((aligned(4096)));

static void fill(uint8_t *p, uint64_t sector, unsigned nsec, unsigned seed)
{
	for (unsigned k = 0; k < nsec; k++)
		for (unsigned i = 0; i < VBLK_SECTOR; i++)
			p[k * VBLK_SECTOR + i] = pattern(sector + k, i, seed);
}

static void check(const uint8_t *p, uint64_t sector, unsigned nsec, unsigned seed)
{
	for (unsigned k = 0; k < nsec; k++)
		for (unsigned i = 0; i < VBLK_SECTOR; i++)
			if (p[k * VBLK_SECTOR + i] != pattern(sector + k, i, seed)) {
				GUEST_PRINTF("sector %llu byte %u: %02x, want %02x",
					     (unsigned long long)(sector + k), i,
					     p[k * VBLK_SECTOR + i], pattern(sector + k, i, seed));
				GUEST_FAIL("data mismatch");
			}
}

static void write_read(uint64_t sector, unsigned nsec, unsigned seed)
{
	fill(buf, sector, nsec, seed);
	GUEST_ASSERT_EQ(vblk_write(&disk, sector, buf, nsec * VBLK_SECTOR), 0);
	memset(buf, 0, sizeof(buf));
	GUEST_ASSERT_EQ(vblk_read(&disk, sector, buf, nsec * VBLK_SECTOR), 0);
	check(buf, sector, nsec, seed);
}

/* 16 reads of 8 sectors outstanding at once, completed in whatever order the device likes. */
static void parallel_reads(void)
{
	unsigned done = 0, seen = 0;
	int tags[16];

	for (unsigned j = 0; j < 16; j++) {
		tags[j] = vblk_submit(&disk, VBLK_T_IN, 1024 + 8 * j, bufs[j], 4096);
		GUEST_ASSERT(tags[j] >= 0);
	}
	vblk_kick(&disk);
	while (done < 16) {
		int tag;
		uint8_t status;

		if (!vblk_complete(&disk, &tag, &status)) {
			cpu_relax();
			continue;
		}
		GUEST_ASSERT_EQ(status, VBLK_S_OK);
		for (unsigned j = 0; j < 16; j++)
			if (tags[j] == tag && !(seen & 1u << j)) {
				seen |= 1u << j;
				check(bufs[j], 1024 + 8 * j, 8, 3);
			}
		done++;
	}
	GUEST_ASSERT_EQ(seen, 0xffffu);
	GUEST_ASSERT_EQ(disk.nbusy, 0);
}

static void user_part(void)
{
	char id[VBLK_ID_BYTES + 1];

	GUEST_ASSERT_EQ(vblk_init(&disk, 0), 0);
	GUEST_ASSERT_EQ(vblk_init(&rodisk, 1), 0);
	GUEST_PRINTF(
		"blk: disk0 at 00:%02x.0 %llu sectors, blk_size %u, seg_max %u, flush %d, ro %d",
		disk.pci.slot, (unsigned long long)disk.capacity, disk.blk_size, disk.seg_max,
		disk.has_flush, disk.readonly);
	GUEST_ASSERT_EQ(disk.capacity, RW_SECTORS);
	GUEST_ASSERT_EQ(rodisk.capacity, RO_SECTORS);
	GUEST_ASSERT(disk.has_flush && !disk.readonly);
	GUEST_ASSERT(rodisk.readonly);

	/* Patterns: first sector, an odd one, 64 KiB in one request, the last sector. */
	write_read(0, 1, 1);
	write_read(777, 3, 2);
	write_read(100, 128, 4);
	write_read(RW_SECTORS - 1, 1, 5);
	for (unsigned j = 0; j < 16; j++) {
		fill(bufs[j], 1024 + 8 * j, 8, 3);
		GUEST_ASSERT_EQ(vblk_write(&disk, 1024 + 8 * j, bufs[j], 4096), 0);
	}
	GUEST_ASSERT_EQ(vblk_flush(&disk), 0);
	memset(bufs, 0, sizeof(bufs));
	parallel_reads();

	/* At and across the end: IOERR, and nothing written. */
	GUEST_ASSERT_EQ(vblk_read(&disk, RW_SECTORS, buf, 512), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_read(&disk, RW_SECTORS - 1, buf, 1024), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_write(&disk, RW_SECTORS, buf, 512), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_write(&disk, ~0ull, buf, 512), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_read(&disk, ~0ull - 1, buf, 4096), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_read(&rodisk, RO_SECTORS, buf, 512), -VBLK_EIO);
	/* The driver itself refuses partial sectors. */
	GUEST_ASSERT_EQ(vblk_read(&disk, 0, buf, 100), -VBLK_EINVAL);

	/* GET_ID: the serial, NUL-padded. */
	GUEST_ASSERT_EQ(vblk_get_id(&disk, id), 0);
	GUEST_PRINTF("blk: disk0 serial '%s'", id);
	GUEST_ASSERT(!strcmp(id, SERIAL));

	/* Read-only disk: reads see the host's pattern, writes get IOERR, flush is harmless. */
	GUEST_ASSERT_EQ(vblk_read(&rodisk, 0, buf, 16 * VBLK_SECTOR), 0);
	check(buf, 0, 16, 9);
	GUEST_ASSERT_EQ(vblk_read(&rodisk, RO_SECTORS - 8, buf, 8 * VBLK_SECTOR), 0);
	check(buf, RO_SECTORS - 8, 8, 9);
	fill(buf, 0, 1, 10);
	GUEST_ASSERT_EQ(vblk_write(&rodisk, 0, buf, 512), -VBLK_EIO);
	GUEST_ASSERT_EQ(vblk_read(&rodisk, 0, buf, 512), 0);
	check(buf, 0, 1, 9);
	GUEST_PRINTF("blk: rw reads=%llu writes=%llu flushes=%llu errors=%llu bad_used=%llu",
		     (unsigned long long)disk.st.reads, (unsigned long long)disk.st.writes,
		     (unsigned long long)disk.st.flushes, (unsigned long long)disk.st.errors,
		     (unsigned long long)disk.st.bad_used);
	GUEST_ASSERT_EQ(disk.st.errors, 5);
	GUEST_ASSERT_EQ(rodisk.st.errors, 2);
	GUEST_PRINTF("blk: ok");
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char dir[] = "/tmp/nfv-blk-XXXXXX", rw[64], ro[64];

/* Runs on every exit, failures included (host_fail exits): no image is left behind. */
static void remove_images(void)
{
	unlink(rw);
	unlink(ro);
	rmdir(dir);
}

static void make_image(const char *path, unsigned sectors, int seed)
{
	uint8_t sec[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || ftruncate(fd, (off_t)sectors * 512) < 0) {
		perror(path);
		exit(1);
	}
	for (unsigned s = 0; seed >= 0 && s < sectors; s++) {
		for (unsigned i = 0; i < 512; i++)
			sec[i] = pattern(s, i, (unsigned)seed);
		if (pwrite(fd, sec, 512, (off_t)s * 512) != 512) {
			perror(path);
			exit(1);
		}
	}
	close(fd);
}

/* Does @path hold the @seed pattern in sectors [@s, @s + @n)? */
static bool image_has(const char *path, uint64_t s, unsigned n, unsigned seed)
{
	uint8_t sec[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0;

	for (unsigned k = 0; ok && k < n; k++) {
		ok = pread(fd, sec, 512, (off_t)(s + k) * 512) == 512;
		for (unsigned i = 0; ok && i < 512; i++)
			ok = sec[i] == pattern(s + k, i, seed);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	char d0[160], d1[160];
	const char *args[] = {"--device", d0, "--device", d1, NULL};
	struct vmm_proc p;
	int st;

	if (argc < 3)
		return 2;
	if (!mkdtemp(dir))
		return 1;
	snprintf(rw, sizeof(rw), "%s/rw.img", dir);
	snprintf(ro, sizeof(ro), "%s/ro.img", dir);
	atexit(remove_images);
	make_image(rw, RW_SECTORS, -1);
	make_image(ro, RO_SECTORS, 9);
	snprintf(d0, sizeof(d0), "virtio-blk,path=%s,serial=" SERIAL ",slot=4", rw);
	snprintf(d1, sizeof(d1), "virtio-blk,path=%s,readonly=on,slot=5", ro);
	st = vmm_run(&p, argv[1], argv[2], args, 240);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "blk: ok"), "guest report missing");
	HOST_ASSERT(&p,
		    image_has(rw, 0, 1, 1) && image_has(rw, 777, 3, 2) &&
			    image_has(rw, 100, 128, 4) && image_has(rw, RW_SECTORS - 1, 1, 5) &&
			    image_has(rw, 1024, 128, 3),
		    "the image does not hold what the guest wrote");
	HOST_ASSERT(&p, image_has(ro, 0, RO_SECTORS, 9), "the read-only image changed");
	printf("blk-guest: ok\n");
	vmm_cleanup(&p);
	return 0;
}
#endif
