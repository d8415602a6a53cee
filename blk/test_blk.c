// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-blk end to end on a temporary image, through a real virtqueue in array-backed guest
 * memory, with this file playing the driver. Run as:
 * test_blk io_uring|threads|packed|durability|uring-restrict.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blk.h"
#include "blk_int.h"
#include "evloop.h"
#include "log.h"
#include "util.h"
#include "vq_drv.h"
#include "test.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (4 * 1024 * 1024)
#define RING_GPA RAM_GPA
#define HDR_GPA (RAM_GPA + 0x10000)
#define STATUS_GPA (RAM_GPA + 0x11000)
#define DATA_GPA (RAM_GPA + 0x100000) /* 4 KiB aligned */
#define IMG_SIZE (4 * 1024 * 1024)
#define QSIZE 64

struct harness {
	uint8_t *ram;
	struct gmem gm;
	struct blk *blk;
	struct vq vq;
	struct vq_drv d;
	bool threads_mode; /* queue thread running: wait on the used ring instead of blk_poll */
	bool packed;	   /* packed ring (s2.8) instead of split */
	struct vq_pdrv pd;
	unsigned irqs;
};

static void on_call(void *opaque)
{
	struct harness *h = opaque;

	__atomic_add_fetch(&h->irqs, 1, __ATOMIC_RELAXED);
}

static uint8_t *gpa_ptr(struct harness *h, uint64_t gpa)
{
	return h->ram + (gpa - RAM_GPA);
}

/* Queue 0 on a fresh ring (split, or packed for h->packed), started in the device. */
static int harness_queue_start(struct harness *h)
{
	struct vq_cfg c;

	vq_init(&h->vq, &h->gm, "blk-test", 0);
	if (h->packed) {
		vqp_init(&h->pd, h->ram, RAM_GPA, QSIZE - 3, RING_GPA); /* any size for packed */
		vqp_cfg(&h->pd, &c, true, true);
	} else {
		vqd_init(&h->d, h->ram, RAM_GPA, QSIZE, RING_GPA);
		vqd_cfg(&h->d, &c, true, true);
	}
	if (vq_setup(&h->vq, &c))
		return -EINVAL;
	h->vq.call = on_call;
	h->vq.call_opaque = h;
	return blk_virtio_ops()->queue_start(h->blk, 0, &h->vq);
}

static int harness_start(struct harness *h, const struct blk_cfg *cfg)
{
	const struct virtio_dev_ops *ops = blk_virtio_ops();
	int ret;

	ret = blk_create(cfg, &h->gm, &h->blk);
	if (ret)
		return ret;
	if (ops->set_features(h->blk, ops->get_features(h->blk)))
		return -EINVAL;
	h->threads_mode = !cfg->manual_poll;
	return harness_queue_start(h);
}

static void harness_stop(struct harness *h)
{
	blk_virtio_ops()->queue_stop(h->blk, 0);
	blk_destroy(h->blk);
	h->blk = NULL;
	vq_reset(&h->vq);
}

/* Wait for the next used element; false after ~5 s. */
static bool wait_used(struct harness *h, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 5000; i++) {
		if (h->packed ? vqp_get_used(&h->pd, id, len) : vqd_get_used(&h->d, id, len))
			return true;
		if (h->threads_mode)
			usleep(1000);
		else if (blk_poll(h->blk, 0, 1) < 0)
			return false;
	}
	return false;
}

#define seg vqd_seg

/* Post one chain made of @segs and wait for it; returns the status byte at STATUS_GPA. */
static int run_chain(struct harness *h, const struct seg *segs, int n, uint32_t *used_len)
{
	uint32_t id, len;

	*gpa_ptr(h, STATUS_GPA) = 0xee;
	if (h->packed)
		vqp_add(&h->pd, segs, (unsigned)n, 0);
	for (int i = 0; i < n && !h->packed; i++)
		vqd_desc(&h->d, (uint16_t)i, segs[i].gpa, segs[i].len,
			 (uint16_t)((segs[i].write ? VRING_DESC_F_WRITE : 0) |
				    (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(i + 1));
	if (!h->packed)
		vqd_kick_head(&h->d, 0);
	blk_virtio_ops()->queue_notify(h->blk, 0);
	if (!wait_used(h, &id, &len) || id != 0) {
		fprintf(stderr, "request did not complete\n");
		test_failures++;
		return -1;
	}
	if (used_len)
		*used_len = len;
	return *gpa_ptr(h, STATUS_GPA);
}

static void set_hdr(struct harness *h, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr hdr = {htole32(type), 0, htole64(sector)};

	memcpy(gpa_ptr(h, HDR_GPA), &hdr, sizeof(hdr));
}

/* Simple request: header, optional data (direction from type), status. */
static int req(struct harness *h, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
	       uint32_t *used_len)
{
	struct seg s[3];
	int n = 0;

	set_hdr(h, type, sector);
	s[n++] = (struct seg){HDR_GPA, 16, false};
	if (len)
		s[n++] = (struct seg){data_gpa, len,
				      type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID};
	s[n++] = (struct seg){STATUS_GPA, 1, true};
	return run_chain(h, s, n, used_len);
}

static int dwz(struct harness *h, uint32_t type, uint64_t sector, uint32_t nsec, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes seg = {htole64(sector), htole32(nsec),
						      htole32(flags)};

	memcpy(gpa_ptr(h, DATA_GPA), &seg, sizeof(seg));
	return req(h, type, 0, DATA_GPA, sizeof(seg), NULL);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

static char img_path[256];

static int make_image(void)
{
	const char *dir = getenv("NFV_TEST_TMPDIR") ? getenv("NFV_TEST_TMPDIR") : "/var/tmp";
	int fd;

	snprintf(img_path, sizeof(img_path), "%s/nfv-blk-test-XXXXXX", dir);
	fd = mkstemp(img_path);
	if (fd < 0 || ftruncate(fd, IMG_SIZE) < 0) {
		perror("image");
		return -1;
	}
	close(fd);
	return 0;
}

static void test_requests(struct harness *h, enum blk_io io)
{
	struct blk_cfg cfg = {.serial = "nfv-serial-1",
			      .queue_size = QSIZE,
			      .io = io,
			      .manual_poll = true,
			      .cache = BLK_CACHE_NONE};
	uint8_t *data = gpa_ptr(h, DATA_GPA);
	uint8_t expect[8192];
	struct blk_stats st;
	uint32_t ulen;
	struct seg s[4];

	cfg.path = img_path;
	if (harness_start(h, &cfg)) {
		fprintf(stderr, "cannot start device\n");
		test_failures++;
		return;
	}
	printf("backend %s\n", blk_io_backend(h->blk));
	CHECK(blk_capacity(h->blk) == IMG_SIZE / 512);

	/* Write, flush, read back. */
	fill(expect, sizeof(expect), 1);
	memcpy(data, expect, sizeof(expect));
	CHECK(req(h, VIRTIO_BLK_T_OUT, 8, DATA_GPA, 8192, &ulen) == VIRTIO_BLK_S_OK && ulen == 1);
	CHECK(req(h, VIRTIO_BLK_T_FLUSH, 0, 0, 0, &ulen) == VIRTIO_BLK_S_OK);
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 8, DATA_GPA, 8192, &ulen) == VIRTIO_BLK_S_OK);
	CHECK(ulen == 8193 && !memcmp(data, expect, 8192));

	/* Header split over two descriptors, data over three, status on its own. */
	set_hdr(h, VIRTIO_BLK_T_IN, 8);
	memset(data, 0, 8192);
	s[0] = (struct seg){HDR_GPA, 8, false};
	s[1] = (struct seg){HDR_GPA + 8, 8, false};
	s[2] = (struct seg){DATA_GPA, 4096, true};
	s[3] = (struct seg){STATUS_GPA, 1, true};
	CHECK(run_chain(h, s, 4, &ulen) == VIRTIO_BLK_S_OK && ulen == 4097);
	CHECK(!memcmp(data, expect, 4096));

	/* Data and status in one writable descriptor (any framing, s2.7.4). */
	set_hdr(h, VIRTIO_BLK_T_IN, 9);
	s[0] = (struct seg){HDR_GPA, 16, false};
	s[1] = (struct seg){DATA_GPA, 513, true};
	*gpa_ptr(h, DATA_GPA + 512) = 0xee;
	CHECK(run_chain(h, s, 2, &ulen) == 0xee && ulen == 513); /* status not at STATUS_GPA */
	CHECK(*gpa_ptr(h, DATA_GPA + 512) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, expect + 512, 512));

	/* Unaligned guest buffer: O_DIRECT cannot take it; served anyway. */
	memcpy(data + 1, expect, 4096);
	CHECK(req(h, VIRTIO_BLK_T_OUT, 100, DATA_GPA + 1, 4096, NULL) == VIRTIO_BLK_S_OK);
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 100, DATA_GPA, 4096, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, expect, 4096));

	/* GET_ID: 20 bytes, zero padded. */
	memset(data, 0xff, 64);
	CHECK(req(h, VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20, &ulen) == VIRTIO_BLK_S_OK && ulen == 21);
	CHECK(!memcmp(data, "nfv-serial-1\0\0\0\0\0\0\0\0", 20) && data[20] == 0xff);

	/* Write zeroes and discard. */
	memcpy(data, expect, 8192);
	CHECK(req(h, VIRTIO_BLK_T_OUT, 200, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	CHECK(dwz(h, VIRTIO_BLK_T_WRITE_ZEROES, 201, 2, 0) == VIRTIO_BLK_S_OK);
	CHECK(req(h, VIRTIO_BLK_T_IN, 200, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	{
		static const uint8_t zero[1024];

		CHECK(!memcmp(data, expect, 512) && !memcmp(data + 512, zero, 1024) &&
		      !memcmp(data + 1536, expect + 1536, 8192 - 1536));
	}
	CHECK(dwz(h, VIRTIO_BLK_T_WRITE_ZEROES, 204, 4, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ==
	      VIRTIO_BLK_S_OK);
	CHECK(dwz(h, VIRTIO_BLK_T_DISCARD, 1024, 64, 0) == VIRTIO_BLK_S_OK);
	CHECK(dwz(h, VIRTIO_BLK_T_DISCARD, 1024, 64, 1) == VIRTIO_BLK_S_UNSUPP); /* unmap flag */
	CHECK(dwz(h, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 6) == VIRTIO_BLK_S_UNSUPP);
	CHECK(dwz(h, VIRTIO_BLK_T_DISCARD, IMG_SIZE / 512 - 1, 2, 0) == VIRTIO_BLK_S_IOERR);
	CHECK(dwz(h, VIRTIO_BLK_T_WRITE_ZEROES, 0, 0, 0) == VIRTIO_BLK_S_IOERR);

	/* Hostile requests: answered, counted, the device keeps working. */
	CHECK(req(h, VIRTIO_BLK_T_IN, IMG_SIZE / 512 - 1, DATA_GPA, 1024, NULL) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(req(h, VIRTIO_BLK_T_OUT, IMG_SIZE / 512, DATA_GPA, 512, NULL) == VIRTIO_BLK_S_IOERR);
	CHECK(req(h, VIRTIO_BLK_T_OUT, ~0ull - 1, DATA_GPA, 4096, NULL) == VIRTIO_BLK_S_IOERR);
	CHECK(req(h, VIRTIO_BLK_T_IN, 1ull << 55, DATA_GPA, 512, NULL) == VIRTIO_BLK_S_IOERR);
	CHECK(req(h, VIRTIO_BLK_T_IN, 0, DATA_GPA, 0, NULL) == VIRTIO_BLK_S_IOERR);   /* no data */
	CHECK(req(h, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 0, NULL) == VIRTIO_BLK_S_IOERR);  /* no data */
	CHECK(req(h, VIRTIO_BLK_T_IN, 0, DATA_GPA, 100, NULL) == VIRTIO_BLK_S_IOERR); /* partial */
	CHECK(req(h, 99, 0, 0, 0, NULL) == VIRTIO_BLK_S_UNSUPP);
	CHECK(req(h, VIRTIO_BLK_T_GET_ID, 0, 0, 0, NULL) == VIRTIO_BLK_S_IOERR);
	/* Wrong direction: read with device-readable data; write with device-writable data. */
	set_hdr(h, VIRTIO_BLK_T_IN, 0);
	s[0] = (struct seg){HDR_GPA, 16, false};
	s[1] = (struct seg){DATA_GPA, 512, false};
	s[2] = (struct seg){STATUS_GPA, 1, true};
	CHECK(run_chain(h, s, 3, &ulen) == VIRTIO_BLK_S_IOERR && ulen == 1);
	set_hdr(h, VIRTIO_BLK_T_OUT, 0);
	s[1].write = true;
	CHECK(run_chain(h, s, 3, &ulen) == VIRTIO_BLK_S_IOERR && ulen == 1);
	/* Flush with data attached. */
	set_hdr(h, VIRTIO_BLK_T_FLUSH, 0);
	CHECK(run_chain(h, s, 3, NULL) == VIRTIO_BLK_S_IOERR);
	/* Short header. */
	set_hdr(h, VIRTIO_BLK_T_IN, 0);
	s[0].len = 12;
	s[1] = (struct seg){STATUS_GPA, 1, true};
	CHECK(run_chain(h, s, 2, NULL) == VIRTIO_BLK_S_IOERR);
	/* Zero-length status buffer: nothing to answer in; returned with used length 0. */
	s[0].len = 16;
	s[1] = (struct seg){STATUS_GPA, 0, true};
	CHECK(run_chain(h, s, 2, &ulen) == 0xee && ulen == 0);
	/* No writable part at all. */
	CHECK(run_chain(h, s, 1, &ulen) == 0xee && ulen == 0);

	/* Still serving. */
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 8, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, expect, 8192));
	CHECK(!h->vq.broken && h->irqs > 0);

	blk_get_stats(h->blk, &st);
	CHECK(st.bad_requests == 14 && st.unsupported == 3 && st.no_status == 2);
	CHECK(st.flushes == 1 && st.get_ids == 1 && st.write_zeroes == 2 && st.discards == 1);
	CHECK(st.io_errors == 0);

	/* A ring violation breaks the queue (DEVICE_NEEDS_RESET), never the process. */
	if (h->packed)
		vqp_add(&h->pd, s, 1, 1000); /* buffer id out of range */
	else
		vqd_kick_head(&h->d, 1000);
	blk_virtio_ops()->queue_notify(h->blk, 0);
	CHECK(blk_poll(h->blk, 0, 10) == 0);
	CHECK(h->vq.broken && h->vq.err[VQ_ERR_HEAD] == 1);
	harness_stop(h);

	/* Nothing the guest did changed the image size. */
	{
		struct stat sb;

		CHECK(stat(img_path, &sb) == 0 && sb.st_size == IMG_SIZE);
	}
}

static void test_readonly(struct harness *h, enum blk_io io)
{
	struct blk_cfg cfg = {.path = img_path,
			      .readonly = true,
			      .queue_size = QSIZE,
			      .io = io,
			      .manual_poll = true};
	struct blk_stats st;

	if (harness_start(h, &cfg)) {
		test_failures++;
		return;
	}
	CHECK(blk_virtio_ops()->get_features(h->blk) & (1ull << VIRTIO_BLK_F_RO));
	CHECK(req(h, VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, NULL) == VIRTIO_BLK_S_IOERR);
	CHECK(dwz(h, VIRTIO_BLK_T_DISCARD, 0, 8, 0) == VIRTIO_BLK_S_UNSUPP); /* not offered */
	CHECK(req(h, VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, NULL) == VIRTIO_BLK_S_OK);
	CHECK(req(h, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL) == VIRTIO_BLK_S_OK);
	blk_get_stats(h->blk, &st);
	CHECK(st.ro_writes == 1);
	harness_stop(h);
}

/* Queue worker thread (no manual polling), kicks by eventfd, interrupts through vq->call. */
static void test_queue_thread(struct harness *h, enum blk_io io)
{
	struct blk_cfg cfg = {.path = img_path,
			      .queue_size = QSIZE,
			      .io = io,
			      .num_queues = 2,
			      .cache = BLK_CACHE_WRITEBACK};
	uint8_t *data = gpa_ptr(h, DATA_GPA);
	uint32_t id = 0, len = 0;
	unsigned done = 0;

	if (harness_start(h, &cfg)) {
		test_failures++;
		return;
	}
	/* 20 reads of 4 KiB in flight at once, each into its own buffer. */
	for (uint16_t i = 0; i < 20; i++) {
		vqd_desc(&h->d, (uint16_t)(3 * i), HDR_GPA + 16 * i, 16, VRING_DESC_F_NEXT,
			 (uint16_t)(3 * i + 1));
		vqd_desc(&h->d, (uint16_t)(3 * i + 1), DATA_GPA + 4096ull * i, 4096,
			 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(3 * i + 2));
		vqd_desc(&h->d, (uint16_t)(3 * i + 2), STATUS_GPA + i, 1, VRING_DESC_F_WRITE, 0);
		{
			struct virtio_blk_outhdr hdr = {htole32(VIRTIO_BLK_T_IN), 0, htole64(8)};

			memcpy(gpa_ptr(h, HDR_GPA + 16 * i), &hdr, sizeof(hdr));
		}
		vqd_kick_head(&h->d, (uint16_t)(3 * i));
	}
	memset(data, 0, 20 * 4096);
	efd_signal(blk_virtio_ops()->queue_kick_fd(h->blk, 0)); /* as KVM's ioeventfd would */
	while (done < 20 && wait_used(h, &id, &len)) {
		CHECK(id % 3 == 0 && len == 4097 && *gpa_ptr(h, STATUS_GPA + id / 3) == 0);
		done++;
	}
	CHECK(done == 20);
	{
		uint8_t expect[4096];

		fill(expect, sizeof(expect), 1);
		CHECK(!memcmp(data + 19 * 4096, expect, 4096));
	}
	CHECK(__atomic_load_n(&h->irqs, __ATOMIC_RELAXED) >= 1);
	CHECK(blk_virtio_ops()->get_features(h->blk) & (1ull << VIRTIO_BLK_F_MQ));
	harness_stop(h);
}

/*
 * Durability: a child runs the device and is SIGKILLed as soon as the flush that follows a write
 * is in the used ring; the parent must then find the data in the file.
 */
static void test_durability(enum blk_io io)
{
	struct harness *h;
	uint8_t expect[65536];
	pid_t pid;
	int status, fd;
	uint8_t got[65536];

	h = mmap(NULL, sizeof(*h) + RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (h == MAP_FAILED) {
		test_failures++;
		return;
	}
	memset(h, 0, sizeof(*h));
	h->ram = (uint8_t *)h + ALIGN_UP(sizeof(*h), 4096);
	if (gmem_add_region(&h->gm, RAM_GPA, RAM_SIZE - 4096, h->ram, -1, 0)) {
		test_failures++;
		return;
	}
	vqd_init(&h->d, h->ram, RAM_GPA, QSIZE, RING_GPA);
	fill(expect, sizeof(expect), 42);
	pid = fork();
	if (pid == 0) {
		struct blk_cfg cfg = {.path = img_path,
				      .queue_size = QSIZE,
				      .io = io,
				      .cache = BLK_CACHE_WRITEBACK,
				      .manual_poll = true};
		struct blk *blk;
		struct vq vq;
		struct vq_cfg c;

		if (blk_create(&cfg, &h->gm, &blk))
			_exit(2);
		if (blk_virtio_ops()->set_features(blk, blk_virtio_ops()->get_features(blk)))
			_exit(2);
		vq_init(&vq, &h->gm, "durability", 0);
		vqd_cfg(&h->d, &c, false, false);
		if (vq_setup(&vq, &c) || blk_virtio_ops()->queue_start(blk, 0, &vq))
			_exit(2);
		for (;;)
			if (blk_poll(blk, 0, 100) < 0)
				_exit(3);
	}
	/* Parent: the driver. Write 64 KiB at sector 2048, then flush. */
	{
		struct virtio_blk_outhdr w = {htole32(VIRTIO_BLK_T_OUT), 0, htole64(2048)};
		struct virtio_blk_outhdr f = {htole32(VIRTIO_BLK_T_FLUSH), 0, 0};
		uint32_t id = ~0u, len = 0;
		int waited = 0;

		memcpy(gpa_ptr(h, HDR_GPA), &w, 16);
		memcpy(gpa_ptr(h, HDR_GPA + 16), &f, 16);
		memcpy(gpa_ptr(h, DATA_GPA), expect, sizeof(expect));
		vqd_desc(&h->d, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
		vqd_desc(&h->d, 1, DATA_GPA, sizeof(expect), VRING_DESC_F_NEXT, 2);
		vqd_desc(&h->d, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
		vqd_desc(&h->d, 3, HDR_GPA + 16, 16, VRING_DESC_F_NEXT, 4);
		vqd_desc(&h->d, 4, STATUS_GPA + 1, 1, VRING_DESC_F_WRITE, 0);
		vqd_kick_head(&h->d, 0);
		while (!vqd_get_used(&h->d, &id, &len) && waited++ < 500000)
			usleep(10);
		CHECK(id == 0 && *gpa_ptr(h, STATUS_GPA) == 0);
		vqd_kick_head(&h->d, 3);
		while (!vqd_get_used(&h->d, &id, &len) && waited++ < 500000)
			usleep(10);
		kill(pid, SIGKILL); /* right after the flush completion is visible */
		CHECK(id == 3 && *gpa_ptr(h, STATUS_GPA + 1) == 0);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	      WTERMSIG(status) == SIGKILL);
	fd = open(img_path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, got, sizeof(got), 2048 * 512) == (ssize_t)sizeof(got));
	CHECK(!memcmp(got, expect, sizeof(got)));
	if (fd >= 0)
		close(fd);
	munmap(h, sizeof(*h) + RAM_SIZE);
}

/* ---- io_uring confinement (uring-restrict) ---- */

/* Stop queue 0 and start it again on a fresh ring, as a driver reset does. */
static int harness_restart_queue(struct harness *h)
{
	blk_virtio_ops()->queue_stop(h->blk, 0);
	vq_reset(&h->vq);
	return harness_queue_start(h);
}

#define RAW_TAG 0x5a5a5a5aull /* user data of our own sqes: never a blk_req */

/* A blank sqe on @ring for the caller to fill. */
static struct io_uring_sqe *raw_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		fprintf(stderr, "no sqe\n");
		exit(1);
	}
	return sqe;
}

/* Submit what raw_sqe() prepared, with @flags, and return its completion's result. */
static int raw_run(struct io_uring *ring, struct io_uring_sqe *sqe, uint8_t flags)
{
	struct io_uring_cqe *cqe;
	int res;

	io_uring_sqe_set_flags(sqe, flags);
	io_uring_sqe_set_data64(sqe, RAW_TAG);
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe) < 0) {
		test_failures++;
		return 1;
	}
	res = cqe->res;
	CHECK(io_uring_cqe_get_data64(cqe) == RAW_TAG);
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/*
 * The rings blk_create() leaves behind accept nothing but what the device needs: what a
 * compromised process could try through an existing ring, since the sandbox refuses new ones.
 */
static void test_uring_restricted(struct harness *h)
{
	struct blk_cfg cfg = {.path = img_path,
			      .queue_size = QSIZE,
			      .manual_poll = true,
			      .cache = BLK_CACHE_NONE};
	uint8_t *data = gpa_ptr(h, DATA_GPA);
	static uint8_t expect[8192], buf[4096] __attribute__((aligned(4096)));
	struct iovec iov = {buf, sizeof(buf)};
	struct io_uring_sqe *sqe;
	struct io_uring *ring;
	struct blk_stats st;
	int fd, n_eacces = 0, other = 0;

	if (harness_start(h, &cfg)) {
		fprintf(stderr, "cannot start device\n");
		test_failures++;
		return;
	}
	ring = blk_queue_ring(h->blk, 0);
	if (!ring) {
		/* io_uring unusable on this kernel: blk_create said why; nothing to check here. */
		printf("no io_uring ring (backend %s): skipped\n", blk_io_backend(h->blk));
		harness_stop(h);
		return;
	}
	CHECK(!strcmp(blk_io_backend(h->blk), "io_uring"));
	/* Normal I/O through the ring: aligned (fixed file 0) and unaligned (fixed file 1 when
	 * O_DIRECT works here), then a flush and a write-zeroes (fallocate). */
	fill(expect, sizeof(expect), 3);
	memcpy(data, expect, sizeof(expect));
	CHECK(req(h, VIRTIO_BLK_T_OUT, 16, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	memcpy(data + 1, expect, 4096);
	CHECK(req(h, VIRTIO_BLK_T_OUT, 32, DATA_GPA + 1, 4096, NULL) == VIRTIO_BLK_S_OK);
	CHECK(req(h, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL) == VIRTIO_BLK_S_OK);
	CHECK(dwz(h, VIRTIO_BLK_T_WRITE_ZEROES, 48, 8, 0) == VIRTIO_BLK_S_OK);
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 16, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, expect, 8192));
	blk_get_stats(h->blk, &st);
	CHECK(st.io_errors == 0 && st.writes == 2 && st.flushes == 1 && st.write_zeroes == 1);
	CHECK(h->blk->nfixed == (h->blk->direct ? 2u : 1u));

	/* A reset: the ring survives the stop and is used by the next start. */
	blk_virtio_ops()->queue_stop(h->blk, 0);
	CHECK(blk_queue_ring(h->blk, 0) == ring);

	/* Opcodes outside READV/WRITEV/FSYNC/FALLOCATE are refused by the kernel. */
	sqe = raw_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, img_path, O_RDWR, 0);
	CHECK(raw_run(ring, sqe, 0) == -EACCES);
	sqe = raw_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, img_path, O_RDWR, 0);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == -EACCES);
	sqe = raw_sqe(ring);
	io_uring_prep_read(sqe, 0, buf, sizeof(buf), 0); /* READ, not READV */
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == -EACCES);
	sqe = raw_sqe(ring);
	io_uring_prep_connect(sqe, 0, NULL, 0);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == -EACCES);
	sqe = raw_sqe(ring);
	io_uring_prep_send(sqe, 0, buf, 1, 0);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == -EACCES);
	sqe = raw_sqe(ring);
	io_uring_prep_nop(sqe); /* blk never submits NOP either */
	CHECK(raw_run(ring, sqe, 0) == -EACCES);
	/* An allowed opcode on a plain fd, not the fixed-file table: refused. */
	fd = open(img_path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	sqe = raw_sqe(ring);
	io_uring_prep_readv(sqe, fd, &iov, 1, 0);
	CHECK(raw_run(ring, sqe, 0) == -EACCES);
	/* Other sqe flags are not allowed either. */
	sqe = raw_sqe(ring);
	io_uring_prep_readv(sqe, 0, &iov, 1, 0);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE | IOSQE_ASYNC) == -EACCES);
	/* Past the table (the image fds only). */
	sqe = raw_sqe(ring);
	io_uring_prep_readv(sqe, (int)h->blk->nfixed, &iov, 1, 0);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == -EBADF);
	/* What blk submits still works on the same ring. */
	memset(buf, 0, sizeof(buf));
	sqe = raw_sqe(ring);
	io_uring_prep_readv(sqe, 0, &iov, 1, 16 * 512);
	CHECK(raw_run(ring, sqe, IOSQE_FIXED_FILE) == (int)sizeof(buf));
	CHECK(!memcmp(buf, expect, sizeof(buf)));

	/* io_uring_register(2): every opcode is refused, so no new file, buffer, eventfd,
	 * personality or restriction change. The kernel checks this before the arguments. */
	CHECK(io_uring_register_files(ring, &fd, 1) == -EACCES);
	CHECK(io_uring_unregister_files(ring) == -EACCES);
	CHECK(io_uring_register_eventfd(ring, fd) == -EACCES);
	CHECK(io_uring_unregister_eventfd(ring) == -EACCES);
	CHECK(io_uring_register_personality(ring) == -EACCES);
	for (unsigned op = 0; op < 64; op++) {
		long r = syscall(__NR_io_uring_register, ring->ring_fd, op, NULL, 0);

		if (r < 0 && errno == EACCES)
			n_eacces++;
		else if (!(r < 0 && errno == EINVAL && op >= IORING_REGISTER_LAST))
			other++; /* EINVAL only for opcodes this kernel does not know */
	}
	CHECK(n_eacces >= IORING_REGISTER_LAST && other == 0);
	if (fd >= 0)
		close(fd);

	/* A completion left on the ring while the queue is stopped does not reach the restarted
	 * queue (its user data is no request of ours). */
	sqe = raw_sqe(ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, RAW_TAG);
	CHECK(io_uring_submit_and_wait(ring, 1) == 1 && io_uring_cq_ready(ring) == 1);
	CHECK(harness_restart_queue(h) == 0);
	CHECK(blk_queue_ring(h->blk, 0) == ring && io_uring_cq_ready(ring) == 0);
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 16, DATA_GPA, 8192, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data, expect, 8192));
	memset(data, 0, 8192);
	CHECK(req(h, VIRTIO_BLK_T_IN, 32, DATA_GPA + 1, 4096, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(data + 1, expect, 4096));
	blk_get_stats(h->blk, &st);
	CHECK(st.io_errors == 0);
	harness_stop(h);

	/* io=threads has no ring. */
	cfg.io = BLK_IO_THREADS;
	if (harness_start(h, &cfg) == 0) {
		CHECK(blk_queue_ring(h->blk, 0) == NULL);
		CHECK(!strcmp(blk_io_backend(h->blk), "threads"));
		harness_stop(h);
	} else {
		test_failures++;
	}
}

/* Seccomp filter for the calling thread: system call @nr fails with @err, the rest is allowed. */
static int deny_syscall(int nr, int err)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = (unsigned short)ARRAY_SIZE(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

/*
 * A kernel that cannot set a ring up (@nr refused with @err, as before Linux 5.10 for
 * R_DISABLED and restrictions): blk_create names the step, and the device serves through threads.
 * Runs in a child because the filter stays.
 */
static void test_uring_fallback(struct harness *h, int nr, int err, const char *step)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct blk_cfg cfg = {.path = img_path, .queue_size = QSIZE, .manual_poll = true};
		char *logbuf = NULL;
		size_t loglen = 0;
		FILE *logf = open_memstream(&logbuf, &loglen);

		test_failures = 0;
		if (!logf || deny_syscall(nr, err))
			_exit(2);
		log_set_stream(logf);
		log_set_level(LOGL_WARN);
		if (harness_start(h, &cfg))
			_exit(3);
		log_set_stream(NULL);
		fclose(logf);
		CHECK(blk_queue_ring(h->blk, 0) == NULL);
		CHECK(!strcmp(blk_io_backend(h->blk), "threads"));
		CHECK(strstr(logbuf, step) && strstr(logbuf, strerror(err)) &&
		      strstr(logbuf, "using I/O threads"));
		if (test_failures)
			fprintf(stderr, "log was: %s\n", logbuf);
		free(logbuf);
		memset(gpa_ptr(h, DATA_GPA), 0, 4096);
		CHECK(req(h, VIRTIO_BLK_T_IN, 16, DATA_GPA, 4096, NULL) == VIRTIO_BLK_S_OK);
		harness_stop(h);
		_exit(test_failures ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
}

/* A harness with zeroed guest RAM registered at RAM_GPA, or NULL. */
static struct harness *harness_alloc(void)
{
	struct harness *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ram = aligned_alloc(4096, RAM_SIZE);
	if (!h->ram || gmem_add_region(&h->gm, RAM_GPA, RAM_SIZE, h->ram, -1, 0)) {
		free(h->ram);
		free(h);
		return NULL;
	}
	memset(h->ram, 0, RAM_SIZE);
	return h;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "io_uring";
	char name[64];
	struct harness *h;
	enum blk_io io = BLK_IO_IO_URING;

	log_set_level(getenv("NFV_TEST_VERBOSE") ? LOGL_DEBUG : LOGL_ERR);
	if (!strcmp(mode, "threads"))
		io = BLK_IO_THREADS;
	/* "packed": the request suite over a packed ring (s2.8) instead of a split one. */
	if (make_image())
		return 1;
	if (!strcmp(mode, "durability")) {
		test_durability(BLK_IO_IO_URING);
		test_durability(BLK_IO_THREADS);
	} else if (!strcmp(mode, "uring-restrict")) {
		h = harness_alloc();
		if (!h) {
			unlink(img_path);
			return 1;
		}
		test_uring_restricted(h);
		test_uring_fallback(h, __NR_io_uring_setup, ENOSYS,
				    "io_uring_setup(IORING_SETUP_R_DISABLED) failed for queue 0");
		test_uring_fallback(h, __NR_io_uring_register, EINVAL,
				    "registering the completion eventfd failed for queue 0");
		free(h->ram);
		free(h);
	} else {
		h = harness_alloc();
		if (!h) {
			unlink(img_path);
			return 1;
		}
		h->packed = !strcmp(mode, "packed");
		test_requests(h, io);
		test_readonly(h, io);
		if (!h->packed)
			test_queue_thread(h, io);
		free(h->ram);
		free(h);
	}
	unlink(img_path);
	snprintf(name, sizeof(name), "blk %s", mode);
	TEST_DONE(name);
}
