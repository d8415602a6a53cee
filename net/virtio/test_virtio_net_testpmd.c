// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net end to end without a guest: the virtio-pci transport and the virtio-net device of
 * nfv-vmm, driven through config space and BAR 0 the way a guest driver does (rings in a memfd
 * "guest RAM"), with dpdk-testpmd (net_vhost, macswap) as the vhost-user backend on the data path.
 *
 *   - feature negotiation through the transport (the backend's MRG_RXBUF offered and accepted),
 *     config space MAC and LINK_UP;
 *   - frames put on the TX queue come back, MACs swapped, in RX buffers the driver posted, with a
 *     virtio-net header; RX interrupts arrive as MSI-X messages relayed from the backend's call fd;
 *   - the control queue answers in the VMM;
 *   - testpmd killed: link down + config interrupt; restarted: link up + config interrupt, and
 *     traffic flows again on the same rings.
 *   - with nfv-switch built: the device on a switch port, a vhost-user netdev on another, frames
 *     both ways, on split and on packed rings;
 *   - all of it again with packed rings (VIRTIO_F_RING_PACKED, virtio 1.2 s2.8) on every queue,
 *     the control queue included: the restarted testpmd resumes each ring at the slot and wrap
 *     counter the driver expects, found from the ring after the old one died mid-ring.
 *
 * Usage: test_virtio_net_testpmd /usr/bin/dpdk-testpmd
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "evloop.h"
#include "gmem.h"
#include "log.h"
#include "pci.h"
#include "testproc.h"
#include "util.h"
#include "virtio_net.h"
#include "vhost_user_netdev.h"
#include "virtio_pci.h"
#include "vq_drv.h"
#include "test.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (4ull << 20)
#define SLOT 3
#define DEVFN PCI_DEVFN(SLOT, 0)
#define QSZ 128
/* Per queue pair p: RX and TX buffers, QSZ x 2 KiB each. */
#define RXBUF_GPA(p) (RAM_GPA + 0x100000 + (uint64_t)(p) * 0x80000)
#define TXBUF_GPA(p) (RAM_GPA + 0x140000 + (uint64_t)(p) * 0x80000)
#define CTRL_GPA (RAM_GPA + 0x300000)
#define BUF 2048u
#define HDR 12u /* virtio_net_hdr_mrg_rxbuf (VERSION_1) */

#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_CTRL_RX (1ull << 18)
#define F_MQ (1ull << 22)
#define F_V1 (1ull << 32)
#define F_PACKED (1ull << 34)

static unsigned msi_count[8];

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
	(void)level;
}

static const struct pci_irq_ops t_irq_ops = { .route_msi = t_route_msi, .set_intx = t_set_intx };

static struct bus mmio, pio;
static uint64_t bar0, bar2;
static struct pci_host *host;
static struct virtio_pci *vp;
static uint8_t *ram;

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

static void *gpa(uint64_t a)
{
	return ram + (a - RAM_GPA);
}

/* One driver-side ring, split or packed. */
struct tq {
	bool packed;
	struct vq_drv s;
	struct vq_pdrv p;
};

/* Make buffer @id (one descriptor, or two for @len2) available. */
static void tq_post2(struct tq *t, uint16_t id, uint64_t b, uint32_t len, bool write, uint64_t b2,
		     uint32_t len2, bool write2)
{
	if (t->packed) {
		struct vqd_seg seg[2] = { { b, len, write }, { b2, len2, write2 } };

		vqp_add(&t->p, seg, len2 ? 2 : 1, id);
		return;
	}
	if (len2) {
		vqd_desc(&t->s, id, b, len, (write ? VRING_DESC_F_WRITE : 0) | VRING_DESC_F_NEXT,
			 (uint16_t)(id + 1));
		vqd_desc(&t->s, (uint16_t)(id + 1), b2, len2, write2 ? VRING_DESC_F_WRITE : 0, 0);
	} else {
		vqd_desc(&t->s, id, b, len, write ? VRING_DESC_F_WRITE : 0, 0);
	}
	vqd_kick_head(&t->s, id);
}

static void tq_post(struct tq *t, uint16_t id, uint64_t b, uint32_t len, bool write)
{
	tq_post2(t, id, b, len, write, 0, 0, false);
}

static bool tq_used(struct tq *t, uint32_t *id, uint32_t *len)
{
	return t->packed ? vqp_get_used(&t->p, id, len) : vqd_get_used(&t->s, id, len);
}

static void config_changed(void *opaque)
{
	(void)opaque;
	if (vp)
		virtio_pci_config_changed(vp);
}

static void *loop_main(void *arg)
{
	(void)!evloop_run(arg, -1);
	return NULL;
}

static bool wait_msi(unsigned v, unsigned above, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&msi_count[v], __ATOMIC_SEQ_CST) > above)
			return true;
		usleep(1000);
	}
	return false;
}

static uint16_t link_status(void)
{
	return (uint16_t)rd(VIRTIO_PCI_DEVICE_OFF + 6, 2);
}

static void queue_setup(struct tq *t, bool packed, unsigned q, uint64_t ring_gpa)
{
	uint64_t desc, driver, device;

	t->packed = packed;
	if (packed) {
		vqp_init(&t->p, ram, RAM_GPA, QSZ, ring_gpa);
		desc = t->p.desc_gpa, driver = t->p.drv_gpa, device = t->p.dev_gpa;
	} else {
		vqd_init(&t->s, ram, RAM_GPA, QSZ, ring_gpa);
		desc = t->s.desc_gpa, driver = t->s.avail_gpa, device = t->s.used_gpa;
	}
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, QSZ);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, desc);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, driver);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 8, device);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1);
}

static void notify(unsigned q)
{
	wr(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

/* TX @n frames on pair @p (keeping fewer than the RX ring outstanding); count what comes back. */
static unsigned traffic(unsigned p, struct tq *rx, struct tq *tx, unsigned n, unsigned *bad)
{
	unsigned sent = 0, back = 0, tx_free = QSZ;
	uint64_t end = clock_ms() + 30000;
	uint32_t id, len;

	*bad = 0;
	while ((sent < n || back < sent) && clock_ms() < end) {
		bool idle = true;

		while (tq_used(tx, &id, &len))
			tx_free++;
		if (sent < n && tx_free && sent - back < QSZ / 2) {
			uint64_t b = TXBUF_GPA(p) + (uint64_t)(sent % QSZ) * BUF;
			uint8_t *f = gpa(b);

			memset(f, 0, HDR);
			memcpy(f + HDR, mac_b, 6);
			memcpy(f + HDR + 6, mac_a, 6);
			f[HDR + 12] = 0x88;
			f[HDR + 13] = 0xb5;
			memcpy(f + HDR + 14, &sent, sizeof(sent));
			tq_post(tx, (uint16_t)(sent % QSZ), b, HDR + 60, false);
			tx_free--;
			sent++;
			notify(2 * p + 1);
			idle = false;
		}
		while (tq_used(rx, &id, &len)) {
			uint8_t *f = gpa(RXBUF_GPA(p) + (uint64_t)(id % QSZ) * BUF);
			uint16_t nbuf;

			memcpy(&nbuf, f + 10, 2);
			if (id < QSZ && len == HDR + 60 && le16toh(nbuf) == 1 &&
			    !memcmp(f + HDR, mac_a, 6) && !memcmp(f + HDR + 6, mac_b, 6))
				back++;
			else
				(*bad)++;
			/* Give the buffer back. */
			tq_post(rx, (uint16_t)(id % QSZ), RXBUF_GPA(p) + (uint64_t)(id % QSZ) * BUF,
				BUF, true);
			idle = false;
		}
		if (idle)
			usleep(50);
	}
	return back;
}

/* One control command with a 1-byte ack; returns the ack or -1. */
static int ctrl_cmd(struct tq *ctl, unsigned q, const uint8_t *cmd, unsigned len)
{
	uint8_t *c = gpa(CTRL_GPA);
	uint32_t id, l;

	memcpy(c, cmd, len);
	c[64] = 0xee;
	tq_post2(ctl, 0, CTRL_GPA, len, false, CTRL_GPA + 64, 1, true);
	notify(q);
	if (!tq_used(ctl, &id, &l) || id != 0 || l != 1)
		return -1;
	return c[64];
}

struct ne_rx {
	unsigned ok, bad;
};

static int ne_rx_cb(void *opaque, const void *frame, size_t len)
{
	struct ne_rx *c = opaque;
	const uint8_t *f = frame;

	/* What the guest sent: to B from A. */
	if (len == 60 && !memcmp(f, mac_b, 6) && !memcmp(f + 6, mac_a, 6))
		c->ok++;
	else
		c->bad++;
	return 0;
}

/* Guest (A) -> nfv-switch -> vhost-user netdev (B). */
static unsigned switch_g2v(struct tq *tx, struct vun *vun, unsigned n, unsigned *bad)
{
	struct ne_rx c = { 0 };
	unsigned sent = 0, tx_free = QSZ;
	uint64_t end = clock_ms() + 30000;
	uint32_t id, len;

	while ((sent < n || c.ok + c.bad < sent) && clock_ms() < end) {
		while (tq_used(tx, &id, &len))
			tx_free++;
		if (sent < n && tx_free && sent - (c.ok + c.bad) < 64) {
			uint64_t b = TXBUF_GPA(0) + (uint64_t)(sent % QSZ) * BUF;
			uint8_t *f = gpa(b);

			memset(f, 0, HDR + 60);
			memcpy(f + HDR, mac_b, 6);
			memcpy(f + HDR + 6, mac_a, 6);
			f[HDR + 12] = 0x88;
			f[HDR + 13] = 0xb5;
			tq_post(tx, (uint16_t)(sent % QSZ), b, HDR + 60, false);
			tx_free--;
			sent++;
			notify(1);
		} else if (!vun_poll_rx(vun, ne_rx_cb, &c, 64)) {
			usleep(50);
		}
	}
	*bad = c.bad;
	return c.ok;
}

/* Vhost-user netdev (B) -> nfv-switch -> guest (A). */
static unsigned switch_v2g(struct tq *rx, struct vun *vun, unsigned n, unsigned *bad)
{
	uint8_t frame[60] = { 0 };
	unsigned sent = 0, back = 0;
	uint64_t end = clock_ms() + 30000;
	uint32_t id, len;

	*bad = 0;
	memcpy(frame, mac_a, 6);
	memcpy(frame + 6, mac_b, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	while ((sent < n || back < sent) && clock_ms() < end) {
		bool idle = true;

		if (sent < n && sent - back < QSZ / 2 && vun_send(vun, frame, sizeof(frame)) == 0) {
			sent++;
			idle = false;
		}
		while (tq_used(rx, &id, &len)) {
			uint8_t *f = gpa(RXBUF_GPA(0) + (uint64_t)(id % QSZ) * BUF);

			if (id < QSZ && len == HDR + 60 && !memcmp(f + HDR, mac_a, 6) &&
			    !memcmp(f + HDR + 6, mac_b, 6))
				back++;
			else
				(*bad)++;
			tq_post(rx, (uint16_t)(id % QSZ), RXBUF_GPA(0) + (uint64_t)(id % QSZ) * BUF, BUF,
				true);
			idle = false;
		}
		if (idle)
			usleep(50);
	}
	return back;
}

/*
 * The whole scenario with @pairs queue pairs: against testpmd macswap (it gets as many queues),
 * or, with @sw_bin, against nfv-switch with a vhost-user netdev on its second port.
 */
static void scenario(const char *bin, const char *sw_bin, unsigned pairs, bool packed)
{
	struct pci_host_cfg hc = { .pio = &pio, .mmio = &mmio, .irq_ops = &t_irq_ops };
	struct pci_bar_windows win = { .io_base = 0xc000, .io_limit = 0x10000,
				       .mem32_base = 0xe0000000, .mem32_limit = 0xfec00000,
				       .mem64_base = 1ull << 36,
				       .mem64_limit = (1ull << 36) + (1ull << 30) };
	char dir[64], sock[128], vdev[192];
	const char *vdevs[1] = { vdev };
	const char *mq_args[2] = { "--rxq=2", "--txq=2" };
	struct testpmd tp = TESTPMD_INIT;
	struct tproc sw = TPROC_INIT;
	char ne_sock[128], sw_conf[128], sw_ctl[128];
	struct vun *ne = NULL;
	struct virtio_net *vn = NULL;
	struct virtio_pci_cfg vc = { .name = "virtio-net-test", .ops = &virtio_net_dev_ops };
	struct tq rx[2], tx[2], ctl;
	struct evloop *loop = NULL;
	struct gmem gm = { 0 };
	pthread_t lt;
	bool loop_running = false;
	uint64_t f, want;
	unsigned msix, back, bad, cfg_irqs, ctlq = 2 * pairs;
	const unsigned N = 2000;
	int memfd;

	printf("# scenario: %u queue pair(s), %s rings, backend %s\n", pairs,
	       packed ? "packed" : "split", sw_bin ? "nfv-switch" : "testpmd");
	memset(msi_count, 0, sizeof(msi_count));
	snprintf(dir, sizeof(dir), "/tmp/nfv-vnet-%d-%u%s%s", getpid(), pairs, sw_bin ? "s" : "",
		 packed ? "p" : "");
	snprintf(sock, sizeof(sock), "%s/tp.sock", dir);
	snprintf(ne_sock, sizeof(ne_sock), "%s/ne.sock", dir);
	snprintf(sw_conf, sizeof(sw_conf), "%s/switch.conf", dir);
	snprintf(sw_ctl, sizeof(sw_ctl), "%s/switch-ctl.sock", dir);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=%u,client=0", sock, pairs);
	if (mkdir(dir, 0700)) {
		test_failures++;
		return;
	}
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0) {
		test_failures++;
		return;
	}
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (ram == MAP_FAILED || bus_init(&mmio, "mmio") || bus_init(&pio, "pio") ||
	    gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, memfd, 0) || pci_host_create(&hc, &host) ||
	    evloop_create(&loop)) {
		TEST_FAIL("setup failed");
		return;
	}
	if (sw_bin) {
		struct tsw_port ports[2] = { { "p0", sock }, { "p1", ne_sock } };
		struct tsw_cfg swc = { .bin = sw_bin, .ctl = sw_ctl, .config = sw_conf,
				       .ports = ports, .nports = 2, .mem_mb = 256, .mbufs = 4095,
				       .lcores = "0@0,1@1" };
		struct vun_cfg uc = { .path = ne_sock, .timeout_ms = 3000 };
		int swr = tsw_start(&sw, &swc);

		CHECK(swr == 0);
		CHECK(vun_create(&uc, &ne) == 0);
		/* The switch creates its sockets once up: the netdev's connect retries until then. */
		if (swr || !ne || vun_connect(ne, 40000)) {
			TEST_FAIL("nfv-switch did not come up");
			goto out;
		}
	} else if (tp_start_ex(&tp, bin, "0@0,1@0", vdevs, 1, "macswap", mq_args,
			       pairs > 1 ? 2 : 0) ||
		   !tp_ready(&tp)) {
		TEST_FAIL("testpmd did not start");
		goto out;
	}
	{
		struct virtio_net_cfg nc = {
			.name = "net0", .mac = { 0x52, 0x54, 0, 1, 2, 3 },
			.max_queue_pairs = (uint16_t)pairs,
			.queue_size = 256, .gm = &gm, .socket_path = sock, .timeout_ms = 3000,
			.loop = loop, .config_changed = config_changed,
		};

		CHECK(virtio_net_create(&nc, &vn) == 0);
	}
	if (!vn)
		goto out;
	CHECK(virtio_net_link_up(vn));
	vc.opaque = vn;
	vc.gm = &gm;
	virtio_net_dev_info(vn, &vc.info);
	if (virtio_pci_create(&vc, host, SLOT, &vp) || pci_host_assign_bars(host, &win)) {
		TEST_FAIL("virtio_pci_create failed");
		goto out;
	}
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_BAR, &bar0));
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_MSIX_BAR, &bar2));
	CHECK(pci_host_cfg_read(host, DEVFN, 2, 2) == 0x1041);
	if (pthread_create(&lt, NULL, loop_main, loop) == 0)
		loop_running = true;

	/* MSI-X: vector 0 config, vector q + 1 for queue q. */
	msix = pci_cap_find(virtio_pci_dev(vp), 0x11);
	for (unsigned v = 0; v < ctlq + 2; v++) {
		CHECK(bus_write(&mmio, bar2 + 16 * v, 4, 0xfee00000));
		CHECK(bus_write(&mmio, bar2 + 16 * v + 8, 4, 0x40 + v));
		CHECK(bus_write(&mmio, bar2 + 16 * v + 12, 4, 0));
	}
	pci_host_cfg_write(host, DEVFN, msix + 2, 2, 0x8000);

	/* Driver initialisation (virtio 1.2 s3.1.1). */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	f = rd(VIRTIO_PCI_COMMON_DF, 4);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	f |= rd(VIRTIO_PCI_COMMON_DF, 4) << 32;
	printf("# offered features %#llx\n", (unsigned long long)f);
	want = F_V1 | F_MRG | F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX | (pairs > 1 ? F_MQ : 0) |
	       (packed ? F_PACKED : 0);
	/* DPDK's vhost offers VERSION_1, MRG_RXBUF, RING_PACKED and the queues */
	CHECK((f & want) == want);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)want);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, want >> 32);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_NUMQ, 2) == ctlq + 1);
	CHECK(rd(VIRTIO_PCI_DEVICE_OFF + 8, 2) == pairs); /* max_virtqueue_pairs */
	for (unsigned p = 0; p < pairs; p++) {
		queue_setup(&rx[p], packed, 2 * p, RAM_GPA + 0x10000 + p * 0x20000);
		queue_setup(&tx[p], packed, 2 * p + 1, RAM_GPA + 0x20000 + p * 0x20000);
		for (unsigned i = 0; i < QSZ; i++)
			tq_post(&rx[p], (uint16_t)i, RXBUF_GPA(p) + (uint64_t)i * BUF, BUF, true);
	}
	queue_setup(&ctl, packed, ctlq, RAM_GPA + 0x70000);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	for (unsigned p = 0; p < pairs; p++)
		notify(2 * p);
	CHECK(rd(VIRTIO_PCI_DEVICE_OFF, 1) == 0x52);
	CHECK(link_status() == 1);

	/* Control queue: handled by the VMM (CTRL_RX promisc on -> VIRTIO_NET_OK). */
	{
		unsigned before = msi_count[ctlq + 1];

		CHECK(ctrl_cmd(&ctl, ctlq, (const uint8_t[]){ 0, 0, 1 }, 3) == 0);
		CHECK(wait_msi(ctlq + 1, before, 1000));
	}
	if (pairs > 1) {
		/* s5.1.6.5.5: the driver turns the second pair on. */
		CHECK(ctrl_cmd(&ctl, ctlq, (const uint8_t[]){ 4, 0, (uint8_t)pairs, 0 }, 4) == 0);
		CHECK(virtio_net_active_pairs(vn) == pairs);
	}

	if (sw_bin) {
		/* Both directions through the switch; the first frames flood, then it has learned. */
		usleep(200 * 1000);
		for (int round = 0; round < 2; round++) {
			unsigned b1 = 0, b2 = 0, g1, g2;

			g1 = switch_g2v(&tx[0], ne, N, &b1);
			g2 = switch_v2g(&rx[0], ne, N, &b2);
			printf("# round %d: guest->netdev %u/%u (bad %u), netdev->guest %u/%u (bad %u)\n",
			       round, g1, N, b1, g2, N, b2);
			CHECK(g1 == N && b1 == 0 && g2 == N && b2 == 0);
		}
		CHECK(wait_msi(1, 0, 3000));
		goto reset;
	}
	/* Data path on every pair: guest TX -> testpmd macswap -> guest RX, MSI-X per RX queue. */
	usleep(200 * 1000);
	for (unsigned p = 0; p < pairs; p++) {
		back = traffic(p, &rx[p], &tx[p], N, &bad);
		/* The relay runs on the loop thread, which a busy machine may schedule late. */
		CHECK(wait_msi(2 * p + 1, 0, 3000));
		printf("# pair %u: sent %u, back %u (bad %u), RX MSI-X %u\n", p, N, back, bad,
		       msi_count[2 * p + 1]);
		CHECK(back == N && bad == 0);
	}
	{
		uint64_t trx, ttx;

		CHECK(tp_stats(&tp, &trx, &ttx));
		printf("# testpmd RX %lu TX %lu\n", trx, ttx);
		CHECK(trx == N * pairs && ttx == N * pairs);
	}

	/* Backend restart. */
	cfg_irqs = msi_count[0];
	tp_kill(&tp);
	CHECK(wait_msi(0, cfg_irqs, 10000));
	CHECK(link_status() == 0);
	printf("# testpmd killed: link down, config interrupts %u\n", msi_count[0]);
	unlink(sock);
	cfg_irqs = msi_count[0];
	CHECK(tp_start_ex(&tp, bin, "0@0,1@0", vdevs, 1, "macswap", mq_args, pairs > 1 ? 2 : 0) ==
		      0 &&
	      tp_ready(&tp));
	CHECK(wait_msi(0, cfg_irqs, 30000));
	CHECK(link_status() == 1);
	printf("# testpmd back: link up, config interrupts %u\n", msi_count[0]);
	usleep(200 * 1000);
	for (unsigned p = 0; p < pairs; p++) {
		back = traffic(p, &rx[p], &tx[p], N, &bad);
		printf("# after reconnect, pair %u: sent %u, back %u (bad %u)\n", p, N, back, bad);
		CHECK(back == N && bad == 0);
	}

reset:
	/* Reset by the driver: rings stopped in the backend (GET_VRING_BASE), no crash. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) == 0);
out:
	if (loop_running) {
		evloop_stop(loop);
		pthread_join(lt, NULL);
	}
	virtio_pci_destroy(vp);
	vp = NULL;
	virtio_net_destroy(vn);
	vun_destroy(ne);
	tp_quit(&tp, 5000);
	tsw_stop(&sw, 5000);
	unlink(ne_sock);
	unlink(sw_conf);
	unlink(sw_ctl);
	pci_host_destroy(host);
	host = NULL;
	evloop_destroy(loop);
	bus_fini(&mmio);
	bus_fini(&pio);
	munmap(ram, RAM_SIZE);
	close(memfd);
	unlink(sock);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc < 2 || access(argv[1], X_OK)) {
		printf("SKIP: dpdk-testpmd not given\n");
		return 77;
	}
	log_set_level(getenv("NFV_TEST_VERBOSE") ? LOGL_DEBUG : LOGL_ERR);
	scenario(argv[1], NULL, 1, false);
	scenario(argv[1], NULL, 2, false);
	scenario(argv[1], NULL, 2, true);
	if (argc > 2 && access(argv[2], X_OK) == 0) {
		scenario(argv[1], argv[2], 1, false);
		scenario(argv[1], argv[2], 1, true);
	} else
		printf("# nfv-switch not built: guest-to-netdev through the switch skipped\n");
	TEST_DONE("virtio_net_testpmd");
}
