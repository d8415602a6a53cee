// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-pci transport (virtio/virtio_pci.c) with a virtio-blk device behind it, driven the way a
 * guest driver does: config space through the PCI host, BAR 0 registers through the MMIO bus, MSI-X
 * and INTx counted by fake interrupt ops. No /dev/kvm needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"
#include "bus.h"
#include "evloop.h"
#include "log.h"
#include "pci.h"
#include "util.h"
#include "virtio_pci.h"
#include "vq_drv.h"
#include "test.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (2 * 1024 * 1024)
#define RING_GPA RAM_GPA
#define HDR_GPA (RAM_GPA + 0x10000)
#define STATUS_GPA (RAM_GPA + 0x11000)
#define DATA_GPA (RAM_GPA + 0x100000)
#define SLOT 3
#define DEVFN PCI_DEVFN(SLOT, 0)

static unsigned msi_count[8], intx_level;

static void t_route_msi(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
			uint32_t data)
{
	(void)opaque;
	(void)dev;
	(void)addr;
	(void)data;
	if (vector < 8)
		__atomic_add_fetch(&msi_count[vector], 1, __ATOMIC_SEQ_CST);
}

static void t_set_intx(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	(void)gsi;
	__atomic_store_n(&intx_level, (unsigned)level, __ATOMIC_SEQ_CST);
}

static const struct pci_irq_ops t_irq_ops = {.route_msi = t_route_msi, .set_intx = t_set_intx};

/* "irqfd" mode: the host binds an eventfd per vector, as the KVM irq ops do. */
static int vfd[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

static void t_vector_update(void *opaque, struct pci_dev *dev, unsigned vector, int old_fd,
			    const struct pci_msi_vector *state)
{
	(void)opaque;
	(void)dev;
	(void)old_fd;
	if (vector < 8)
		vfd[vector] = state->fd;
}

static const struct pci_irq_ops t_irq_ops_fd = {
	.route_msi = t_route_msi, .set_intx = t_set_intx, .vector_update = t_vector_update};

/* What KVM would inject: every signal of a bound eventfd counts as one message. */
static void drain_vfds(void)
{
	for (unsigned v = 0; v < 8; v++)
		if (vfd[v] >= 0)
			__atomic_add_fetch(&msi_count[v], (unsigned)efd_drain(vfd[v]),
					   __ATOMIC_SEQ_CST);
}

static struct bus mmio, pio;
static uint64_t bar0, bar2;

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v = 0;

	CHECK(bus_read(&mmio, bar0 + off, size, &v));
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	CHECK(bus_write(&mmio, bar0 + off, size, v));
}

static struct pci_host *host;

/* Find the virtio vendor capability of @type; returns its config offset or 0. */
static unsigned find_vcap(uint8_t type)
{
	unsigned p = pci_host_cfg_read(host, DEVFN, 0x34, 1);

	for (int n = 0; p && n < 48; n++) {
		if (pci_host_cfg_read(host, DEVFN, p, 1) == 0x09 &&
		    pci_host_cfg_read(host, DEVFN, p + 3, 1) == type)
			return p;
		p = pci_host_cfg_read(host, DEVFN, p + 1, 1);
	}
	return 0;
}

static bool wait_for(unsigned *counter, unsigned above)
{
	for (int i = 0; i < 5000; i++) {
		drain_vfds();
		if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) > above)
			return true;
		usleep(1000);
	}
	return false;
}

/* Linux-style initialisation (virtio 1.2 s3.1.1) of queue 0 on rings laid out by @d. */
static void driver_init(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
			uint64_t want_features)
{
	uint64_t f;

	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) == 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	f = rd(VIRTIO_PCI_COMMON_DF, 4);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	f |= rd(VIRTIO_PCI_COMMON_DF, 4) << 32;
	CHECK(f & (1ull << VIRTIO_F_VERSION_1));
	CHECK(f & (1ull << VIRTIO_BLK_F_FLUSH));
	CHECK(f & (1ull << VIRTIO_F_RING_PACKED));
	CHECK(!(f & (1ull << VIRTIO_F_ACCESS_PLATFORM)));
	f &= want_features;
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)f);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, f >> 32);
	wr(VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_MSIX, 2) == 0);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2) == 64);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2) == 1);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)desc);
	wr(VIRTIO_PCI_COMMON_Q_DESCHI, 4, desc >> 32);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, avail); /* one 64-bit access works too */
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)used);
	wr(VIRTIO_PCI_COMMON_Q_USEDHI, 4, used >> 32);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_AVAILLO, 8) == avail);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2) == 0);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1);
	wr(VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
}

static int blk_read_req_q(struct vq_drv *d, unsigned q, uint8_t *ram, uint64_t sector,
			  unsigned *irq_counter)
{
	struct virtio_blk_outhdr h = {htole32(VIRTIO_BLK_T_IN), 0, htole64(sector)};
	unsigned before = irq_counter ? __atomic_load_n(irq_counter, __ATOMIC_SEQ_CST) : 0;
	uint32_t id, len;

	memcpy(ram + (HDR_GPA - RAM_GPA), &h, sizeof(h));
	ram[STATUS_GPA - RAM_GPA] = 0xee;
	vqd_desc(d, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
	vqd_desc(d, 1, DATA_GPA, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vqd_desc(d, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	vqd_set_used_event(d, d->used_seen); /* interrupt for the next completion (s2.7.7.2) */
	vqd_kick_head(d, 0);
	/* The queue's notify address; the value written is the queue index (s4.1.5.2). */
	wr(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
	for (int i = 0; i < 5000 && !vqd_get_used(d, &id, &len); i++)
		usleep(1000);
	if (irq_counter)
		CHECK(wait_for(irq_counter, before));
	return ram[STATUS_GPA - RAM_GPA];
}

static int blk_read_req(struct vq_drv *d, uint8_t *ram, uint64_t sector, unsigned *irq_counter)
{
	return blk_read_req_q(d, 0, ram, sector, irq_counter);
}

int main(int argc, char **argv)
{
	bool irqfd_mode = argc > 1 && !strcmp(argv[1], "irqfd");
	struct pci_host_cfg hc = {.pio = &pio, .mmio = &mmio, .irq_ops = &t_irq_ops};
	struct pci_bar_windows win = {.io_base = 0xc000,
				      .io_limit = 0x10000,
				      .mem32_base = 0xe0000000,
				      .mem32_limit = 0xfec00000,
				      .mem64_base = 1ull << 36,
				      .mem64_limit = (1ull << 36) + (1ull << 30)};
	char img[] = "/var/tmp/nfv-vpci-test-XXXXXX";
	struct blk_cfg bc = {.path = img, .queue_size = 64, .serial = "vpci", .num_queues = 2};
	struct virtio_pci_cfg vc = {.name = "virtio-blk-test", .ops = blk_virtio_ops()};
	struct virtio_pci_stats st;
	struct virtio_pci *vp;
	struct gmem gm = {0};
	struct blk *blk;
	struct vq_drv d;
	uint8_t *ram;
	unsigned msix, c;
	int fd;

	log_set_level(getenv("NFV_TEST_VERBOSE") ? LOGL_DEBUG : LOGL_ERR);
	if (irqfd_mode)
		hc.irq_ops = &t_irq_ops_fd;
	fd = mkstemp(img);
	ram = aligned_alloc(4096, RAM_SIZE);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || !ram || bus_init(&mmio, "mmio") ||
	    bus_init(&pio, "pio") || gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0) ||
	    pci_host_create(&hc, &host) || blk_create(&bc, &gm, &blk)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	close(fd);
	memset(ram, 0, RAM_SIZE);
	vc.opaque = blk;
	vc.gm = &gm;
	blk_virtio_info(blk, &vc.info);
	if (virtio_pci_create(&vc, host, SLOT, &vp) || pci_host_assign_bars(host, &win)) {
		fprintf(stderr, "virtio_pci_create failed\n");
		return 1;
	}
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_BAR, &bar0) && bar0 >= (1ull << 36));
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_MSIX_BAR, &bar2));

	/* Identity and capabilities (s4.1.2, s4.1.4). */
	CHECK(pci_host_cfg_read(host, DEVFN, 0, 2) == 0x1af4);
	CHECK(pci_host_cfg_read(host, DEVFN, 2, 2) == 0x1042);
	CHECK(pci_host_cfg_read(host, DEVFN, 8, 1) == 1);
	for (uint8_t t = 1; t <= 5; t++)
		CHECK(find_vcap(t) != 0);
	c = find_vcap(VIRTIO_PCI_CAP_NOTIFY_CFG);
	CHECK(pci_host_cfg_read(host, DEVFN, c + 2, 1) == 20);
	CHECK(pci_host_cfg_read(host, DEVFN, c + 8, 4) == VIRTIO_PCI_NOTIFY_OFF);
	CHECK(pci_host_cfg_read(host, DEVFN, c + 16, 4) == VIRTIO_PCI_NOTIFY_MULT);
	c = find_vcap(VIRTIO_PCI_CAP_DEVICE_CFG);
	CHECK(pci_host_cfg_read(host, DEVFN, c + 4, 1) == VIRTIO_PCI_BAR);

	/* INTx first: MSI-X off. */
	vqd_init(&d, ram, RAM_GPA, 64, RING_GPA);
	driver_init(d.size, d.desc_gpa, d.avail_gpa, d.used_gpa, ~(1ull << VIRTIO_F_RING_PACKED));
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) == 15);
	CHECK(rd(VIRTIO_PCI_DEVICE_OFF, 8) == (1 << 20) / 512); /* capacity */
	CHECK(rd(VIRTIO_PCI_COMMON_NUMQ, 2) == 2);
	CHECK(blk_read_req(&d, ram, 0, &intx_level) == 0);
	CHECK(rd(VIRTIO_PCI_ISR_OFF, 1) == 1); /* queue interrupt; the read clears it */
	for (int i = 0; i < 1000 && __atomic_load_n(&intx_level, __ATOMIC_SEQ_CST); i++)
		usleep(1000); /* deasserted at once; a racing assert is undone by the irq thread */
	CHECK(intx_level == 0 && rd(VIRTIO_PCI_ISR_OFF, 1) == 0);

	/* MSI-X on: unmask vectors 0 (config) and 1 (queue 0), enable the function. */
	msix = pci_cap_find(virtio_pci_dev(vp), 0x11);
	CHECK(msix != 0);
	for (unsigned v = 0; v < 3; v++) {
		CHECK(bus_write(&mmio, bar2 + 16 * v, 4, 0xfee00000));
		CHECK(bus_write(&mmio, bar2 + 16 * v + 8, 4, 0x40 + v));
		CHECK(bus_write(&mmio, bar2 + 16 * v + 12, 4, 0));
	}
	pci_host_cfg_write(host, DEVFN, msix + 2, 2, 0x8000);
	CHECK(pci_msix_enabled(virtio_pci_dev(vp)));
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0); /* reset before the rings are reused */
	vqd_init(&d, ram, RAM_GPA, 64, RING_GPA);
	driver_init(d.size, d.desc_gpa, d.avail_gpa, d.used_gpa, ~(1ull << VIRTIO_F_RING_PACKED));
	CHECK(blk_read_req(&d, ram, 1, &msi_count[1]) == 0);
	CHECK(blk_read_req(&d, ram, 2, &msi_count[1]) == 0);
	drain_vfds();
	CHECK(msi_count[0] == 0);
	CHECK(irqfd_mode == (vfd[1] >= 0));

	/* VIRTIO_PCI_CAP_PCI_CFG window: read num_queues (BAR 0 offset 0x12, 2 bytes). */
	c = find_vcap(VIRTIO_PCI_CAP_PCI_CFG);
	pci_host_cfg_write(host, DEVFN, c + 4, 1, VIRTIO_PCI_BAR);
	pci_host_cfg_write(host, DEVFN, c + 8, 4, VIRTIO_PCI_COMMON_NUMQ);
	pci_host_cfg_write(host, DEVFN, c + 12, 4, 2);
	CHECK(pci_host_cfg_read(host, DEVFN, c + 16, 2) == 2);

	/* Second queue (VIRTIO_BLK_F_MQ): own rings, own notify address, own vector 2. */
	{
		struct vq_drv d1;

		vqd_init(&d1, ram, RAM_GPA, 32, RING_GPA + 0x8000);
		wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
		wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 32);
		wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
		wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, d1.desc_gpa);
		wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, d1.avail_gpa);
		wr(VIRTIO_PCI_COMMON_Q_USEDLO, 8, d1.used_gpa);
		CHECK(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2) == 1);
		wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
		CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1);
		wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
		CHECK(blk_read_req_q(&d1, 1, ram, 4, &msi_count[2]) == 0);
		CHECK(blk_read_req(&d, ram, 4, &msi_count[1]) == 0);
	}

	/* Hostile register accesses: counted and ignored. */
	virtio_pci_get_stats(vp, &st);
	{
		uint64_t bad_access = st.bad_access, bad_value = st.bad_value;

		wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 100); /* queue enabled; not a power of 2 */
		wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 7);
		CHECK(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2) == 0);
		wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1); /* no such queue */
		wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, 3);
		wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
		wr(VIRTIO_PCI_COMMON_MSIX, 2, 77); /* out of range: NO_VECTOR */
		CHECK(rd(VIRTIO_PCI_COMMON_MSIX, 2) == VIRTIO_MSI_NO_VECTOR);
		wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
		wr(VIRTIO_PCI_NOTIFY_OFF + 4 * 9, 2, 9);    /* notify a queue that does not exist */
		wr(VIRTIO_PCI_COMMON_NUMQ, 2, 5);	    /* read-only */
		(void)rd(VIRTIO_PCI_COMMON_STATUS, 4);	    /* wrong width */
		(void)rd(0x3, 1);			    /* misaligned */
		(void)rd(VIRTIO_PCI_DEVICE_OFF + 0x100, 4); /* past the device config */
		virtio_pci_get_stats(vp, &st);
		CHECK(st.bad_value - bad_value == 5);
		CHECK(st.bad_access - bad_access == 4);
		CHECK(rd(VIRTIO_PCI_COMMON_NUMQ, 2) == 2);
	}

	/* A broken ring: DEVICE_NEEDS_RESET and a config interrupt; the process carries on. */
	{
		unsigned before = msi_count[0];

		vqd_kick_head(&d, 999);
		wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		CHECK(wait_for(&msi_count[0], before));
		CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
		CHECK(virtio_pci_vq(vp, 0)->err[VQ_ERR_HEAD] == 1);
	}

	/* Reset, then a driver asking for a feature we do not offer: FEATURES_OK stays clear. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) == 0 && rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1 | 1u << 30);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(!(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK));
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1); /* before FEATURES_OK: ignored */
	CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0);
	/* Rings outside guest RAM: refused at enable, NEEDS_RESET. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x10);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	virtio_pci_get_stats(vp, &st);
	CHECK(st.features_refused == 1 && st.ring_refused == 1);

	/* And a clean restart still works. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	vqd_init(&d, ram, RAM_GPA, 64, RING_GPA);
	driver_init(d.size, d.desc_gpa, d.avail_gpa, d.used_gpa, ~(1ull << VIRTIO_F_RING_PACKED));
	CHECK(blk_read_req(&d, ram, 3, &msi_count[1]) == 0);

	/* Packed ring (s2.8) negotiated; its size need not be a power of two. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	{
		struct vq_pdrv p;
		struct virtio_blk_outhdr h = {htole32(VIRTIO_BLK_T_IN), 0, htole64(5)};
		struct vqd_seg segs[3] = {
			{HDR_GPA, 16, false}, {DATA_GPA, 4096, true}, {STATUS_GPA, 1, true}};
		unsigned before = msi_count[1];
		uint32_t id = ~0u, len = 0;

		vqp_init(&p, ram, RAM_GPA, 48, RING_GPA);
		driver_init(48, p.desc_gpa, p.drv_gpa, p.dev_gpa, ~0ull);
		CHECK(virtio_pci_features(vp) & (1ull << VIRTIO_F_RING_PACKED));
		memcpy(ram + (HDR_GPA - RAM_GPA), &h, sizeof(h));
		ram[STATUS_GPA - RAM_GPA] = 0xee;
		vqp_add(&p, segs, 3, 7);
		wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		for (int i = 0; i < 5000 && !vqp_get_used(&p, &id, &len); i++)
			usleep(1000);
		CHECK(id == 7 && len == 4097 && ram[STATUS_GPA - RAM_GPA] == 0);
		CHECK(wait_for(&msi_count[1], before));
	}

	/*
	 * Reset through the VIRTIO_PCI_CAP_PCI_CFG window (PCI device lock held) while the queue
	 * thread is completing requests and raising interrupts: must neither hang nor crash.
	 */
	for (int round = 0; round < 20; round++) {
		wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
		vqd_init(&d, ram, RAM_GPA, 64, RING_GPA);
		driver_init(d.size, d.desc_gpa, d.avail_gpa, d.used_gpa,
			    ~(1ull << VIRTIO_F_RING_PACKED | 1ull << VIRTIO_F_EVENT_IDX));
		for (uint16_t i = 0; i < 20; i++) {
			struct virtio_blk_outhdr h = {htole32(VIRTIO_BLK_T_IN), 0, htole64(i)};

			memcpy(ram + (HDR_GPA - RAM_GPA) + 16 * i, &h, sizeof(h));
			vqd_desc(&d, (uint16_t)(3 * i), HDR_GPA + 16 * i, 16, VRING_DESC_F_NEXT,
				 (uint16_t)(3 * i + 1));
			vqd_desc(&d, (uint16_t)(3 * i + 1), DATA_GPA + 4096ull * i, 4096,
				 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(3 * i + 2));
			vqd_desc(&d, (uint16_t)(3 * i + 2), STATUS_GPA + i, 1, VRING_DESC_F_WRITE,
				 0);
			vqd_kick_head(&d, (uint16_t)(3 * i));
			wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);
		}
		c = find_vcap(VIRTIO_PCI_CAP_PCI_CFG);
		pci_host_cfg_write(host, DEVFN, c + 4, 1, VIRTIO_PCI_BAR);
		pci_host_cfg_write(host, DEVFN, c + 8, 4, VIRTIO_PCI_COMMON_STATUS);
		pci_host_cfg_write(host, DEVFN, c + 12, 4, 1);
		pci_host_cfg_write(host, DEVFN, c + 16, 1, 0); /* device_status = 0: reset */
		CHECK(pci_host_cfg_read(host, DEVFN, c + 16, 1) == 0);
	}

	virtio_pci_destroy(vp);
	blk_destroy(blk);
	pci_host_destroy(host);
	bus_fini(&mmio);
	bus_fini(&pio);
	unlink(img);
	free(ram);
	TEST_DONE(irqfd_mode ? "virtio_pci (irqfd)" : "virtio_pci");
}
