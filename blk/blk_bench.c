// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark driver for virtio-blk: a host thread plays the guest driver (split ring, event idx,
 * kick eventfd, interrupt eventfd) against the real device model and its queue thread, and prints
 * one line "<workload> iops=<n> mbps=<n>" per run. tests/perf/blk-bench compares the numbers with
 * fio on the same file. Not a test: it never fails on speed.
 *
 * Usage: blk_bench FILE randread|randwrite|read|write BS QD SECONDS [io_uring|threads]
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "evloop.h"
#include "log.h"
#include "util.h"
#include "vq_drv.h"

#define RAM_GPA 0x100000000ull
#define QSIZE 256

static void bench_call(void *opaque)
{
	efd_signal(*(int *)opaque);
}

int main(int argc, char **argv)
{
	struct blk_cfg cfg = {.queue_size = QSIZE, .cache = BLK_CACHE_NONE};
	const struct virtio_dev_ops *ops = blk_virtio_ops();
	uint64_t bs, qd, secs, nblocks, seq = 0, rng = 88172645463325252ull, done = 0, bytes = 0;
	uint64_t ram_size, data_gpa, t0, deadline;
	bool rand_io, wr;
	struct gmem gm = {0};
	struct vq_drv d;
	struct vq_cfg c;
	struct vq vq;
	struct blk *blk;
	struct stat st;
	uint8_t *ram;
	int call_fd, kick_fd;
	unsigned inflight = 0;

	if (argc < 6 || parse_size(argv[3], &bs) || parse_u64(argv[4], &qd) ||
	    parse_u64(argv[5], &secs) || !bs || bs % 4096 || !qd || qd > QSIZE / 3 || !secs) {
		fprintf(stderr,
			"usage: %s FILE randread|randwrite|read|write BS QD SECONDS "
			"[io_uring|threads]\n",
			argv[0]);
		return 2;
	}
	rand_io = !strncmp(argv[2], "rand", 4);
	wr = strstr(argv[2], "write") != NULL;
	if (argc > 6 && blk_io_parse(argv[6], &cfg.io)) {
		fprintf(stderr, "bad io mode %s\n", argv[6]);
		return 2;
	}
	log_set_level(LOGL_WARN);
	if (stat(argv[1], &st)) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	/* Guest RAM: rings + headers/status in the first 64 KiB, then one data buffer per slot. */
	ram_size = 65536 + qd * bs;
	ram = aligned_alloc(4096, ALIGN_UP(ram_size, 4096));
	if (!ram || gmem_add_region(&gm, RAM_GPA, ram_size, ram, -1, 0))
		return 1;
	memset(ram, 0x5a, ram_size);
	data_gpa = RAM_GPA + 65536;
	cfg.path = argv[1];
	if (blk_create(&cfg, &gm, &blk) || ops->set_features(blk, ops->get_features(blk)))
		return 1;
	nblocks = blk_capacity(blk) * 512 / bs; /* works for block devices too */
	if (!nblocks) {
		fprintf(stderr, "%s: smaller than one %llu-byte block\n", argv[1],
			(unsigned long long)bs);
		return 2;
	}
	vqd_init(&d, ram, RAM_GPA, QSIZE, RAM_GPA);
	vq_init(&vq, &gm, "bench", 0);
	vqd_cfg(&d, &c, true, false);
	call_fd = efd_create();
	kick_fd = ops->queue_kick_fd(blk, 0);
	vq.call = bench_call;
	vq.call_opaque = &call_fd;
	if (call_fd < 0 || vq_setup(&vq, &c) || ops->queue_start(blk, 0, &vq))
		return 1;
	/* Fixed chains: slot i uses descriptors 3i (header), 3i+1 (data), 3i+2 (status). */
	for (uint64_t i = 0; i < qd; i++) {
		uint64_t hdr = RAM_GPA + 0x8000 + 16 * i, status = RAM_GPA + 0xc000 + i;

		vqd_desc(&d, (uint16_t)(3 * i), hdr, 16, VRING_DESC_F_NEXT, (uint16_t)(3 * i + 1));
		vqd_desc(&d, (uint16_t)(3 * i + 1), data_gpa + i * bs, (uint32_t)bs,
			 (uint16_t)(VRING_DESC_F_NEXT | (wr ? 0 : VRING_DESC_F_WRITE)),
			 (uint16_t)(3 * i + 2));
		vqd_desc(&d, (uint16_t)(3 * i + 2), status, 1, VRING_DESC_F_WRITE, 0);
	}

	t0 = clock_ns();
	deadline = t0 + secs * 1000000000ull;
	for (;;) {
		uint16_t old = d.avail_idx;
		uint32_t id, len;
		bool stop = clock_ns() >= deadline;
		unsigned got = 0;

		/* Refill every free slot, then kick once if the device asked for it (s2.7.10). */
		while (!stop && inflight < qd) {
			static uint64_t next_slot;
			uint64_t slot = next_slot++ % qd, blkno;
			struct virtio_blk_outhdr h;

			if (rand_io) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				blkno = rng % nblocks;
			} else {
				blkno = seq++ % nblocks;
			}
			h = (struct virtio_blk_outhdr){
				htole32(wr ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN), 0,
				htole64(blkno * (bs / 512))};
			memcpy(ram + 0x8000 + 16 * slot, &h, sizeof(h));
			vqd_kick_head(&d, (uint16_t)(3 * slot));
			inflight++;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (d.avail_idx != old && vring_need_event(vqd_avail_event(&d), d.avail_idx, old))
			efd_signal(kick_fd);
		while (vqd_get_used(&d, &id, &len)) {
			if (ram[0xc000 + id / 3] != VIRTIO_BLK_S_OK) {
				fprintf(stderr, "request failed with status %u\n",
					ram[0xc000 + id / 3]);
				return 1;
			}
			inflight--;
			done++;
			bytes += bs;
			got++;
		}
		if (stop && !inflight)
			break;
		if (!got) {
			struct pollfd p = {.fd = call_fd, .events = POLLIN};

			/* Ask for an interrupt at the next completion, then sleep until it comes.
			 */
			vqd_set_used_event(&d, d.used_seen);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (vqd_used_idx(&d) == d.used_seen)
				(void)poll(&p, 1, 10);
			efd_drain(call_fd);
		}
	}
	{
		double s = (double)(clock_ns() - t0) / 1e9;

		printf("%s bs=%llu qd=%llu iops=%.0f mbps=%.1f backend=%s\n", argv[2],
		       (unsigned long long)bs, (unsigned long long)qd, (double)done / s,
		       (double)bytes / s / 1e6, blk_io_backend(blk));
	}
	ops->queue_stop(blk, 0);
	blk_destroy(blk);
	close(call_fd);
	free(ram);
	return 0;
}
