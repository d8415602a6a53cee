// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: hostile virtio-blk requests. The input describes up to 16 descriptors and the bytes
 * of the guest buffer area they point into (request headers, discard segments, data); the device
 * serves every chain against a small scratch image. Any crash, sanitizer report, hang, or write
 * outside the image is a bug.
 *
 * Input: [0] number of descriptors N (mod 17), then N records of 6 bytes:
 *        flags (bit0 device-writable, bit1 chain continues), len (le16), offset (le16, into the
 *        buffer area; bit15 of len adds 0x10000 to the offset), then the buffer area contents.
 */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "log.h"
#include "util.h"
#include "vq_drv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA 0x200000ull
#define RAM_SIZE (256 * 1024)
#define BUF_OFF 0x10000 /* buffer area inside RAM */
#define BUF_SIZE (RAM_SIZE - BUF_OFF)
#define IMG_SIZE (1024 * 1024)
#define QSIZE 16

static uint8_t *ram;
static struct gmem gm;
static struct blk *blk;
static char img[64];

static void fuzz_cleanup(void)
{
	blk_destroy(blk);
	if (img[0])
		unlink(img);
}

static int fuzz_init(void)
{
	struct blk_cfg cfg = {.serial = "fuzz",
			      .queue_size = QSIZE,
			      .manual_poll = true,
			      .cache = BLK_CACHE_WRITEBACK};
	int fd;

	log_set_level(LOGL_ERR);
	snprintf(img, sizeof(img), "/var/tmp/nfv-fuzz-blk-XXXXXX");
	fd = mkstemp(img);
	if (fd < 0 || ftruncate(fd, IMG_SIZE) < 0)
		return -1;
	close(fd);
	ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram || gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0))
		return -1;
	cfg.path = img;
	if (blk_create(&cfg, &gm, &blk))
		return -1;
	if (blk_virtio_ops()->set_features(blk, blk_virtio_ops()->get_features(blk)))
		return -1;
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct virtio_dev_ops *ops;
	struct vq_drv d;
	struct vq_cfg c;
	struct vq vq;
	unsigned n;
	uint16_t head = 0;
	struct stat st;

	if (!blk && fuzz_init())
		abort();
	ops = blk_virtio_ops();
	if (size < 1)
		return 0;
	n = data[0] % 17;
	if (size < 1 + 6 * n)
		return 0;
	memset(ram, 0, RAM_SIZE);
	vqd_init(&d, ram, RAM_GPA, QSIZE, RAM_GPA);
	memcpy(ram + BUF_OFF, data + 1 + 6 * n, MIN(size - 1 - 6 * n, (size_t)BUF_SIZE));
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *r = data + 1 + 6 * i;
		uint16_t len = (uint16_t)(r[1] | r[2] << 8);
		uint32_t off = (uint32_t)(r[3] | r[4] << 8) | (len & 0x8000 ? 0x10000u : 0);
		bool more = (r[0] & 2) && i + 1 < n;

		vqd_desc(&d, (uint16_t)i, RAM_GPA + BUF_OFF + off % BUF_SIZE, len & 0x7fff,
			 (uint16_t)((r[0] & 1 ? VRING_DESC_F_WRITE : 0) |
				    (more ? VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
		if (!more) {
			vqd_kick_head(&d, head);
			head = (uint16_t)(i + 1);
		}
	}
	vq_init(&vq, &gm, "fuzz-blk", 0);
	vqd_cfg(&d, &c, true, true);
	if (vq_setup(&vq, &c) || ops->queue_start(blk, 0, &vq))
		abort();
	ops->queue_notify(blk, 0);
	/* Until every chain came back, the queue broke, or (bounded) time ran out. */
	for (int i = 0; i < 2000 && !vq.broken && vq.pushed < vq.popped + vq_avail_count(&vq); i++)
		if (blk_poll(blk, 0, 1) < 0)
			abort();
	if (!vq.broken && vq.pushed != d.avail_idx)
		abort(); /* a request was lost */
	ops->queue_stop(blk, 0);
	if (stat(img, &st) || st.st_size != IMG_SIZE)
		abort(); /* the guest changed the image size */
	return 0;
}
