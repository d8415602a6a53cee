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
#include "test_testpmd.h"
#include "util.h"
#include "virtio_net.h"
#include "virtio_pci.h"
#include "vq_drv.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (4ull << 20)
#define SLOT 3
#define DEVFN PCI_DEVFN(SLOT, 0)
#define QSZ 128
#define RXBUF_GPA (RAM_GPA + 0x100000)	/* QSZ x 2 KiB */
#define TXBUF_GPA (RAM_GPA + 0x200000)	/* QSZ x 2 KiB */
#define CTRL_GPA (RAM_GPA + 0x300000)
#define BUF 2048u
#define HDR 12u /* virtio_net_hdr_mrg_rxbuf (VERSION_1) */

#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_CTRL_RX (1ull << 18)
#define F_V1 (1ull << 32)

static int failures;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);      \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

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

static void queue_setup(struct vq_drv *d, unsigned q, uint64_t ring_gpa)
{
	vqd_init(d, ram, RAM_GPA, QSZ, ring_gpa);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, QSZ);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 8, d->desc_gpa);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 8, d->avail_gpa);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 8, d->used_gpa);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1);
}

static void notify(unsigned q)
{
	wr(VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa }, mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb };

/* TX @n frames (keeping fewer than the RX ring outstanding); count what comes back right. */
static unsigned traffic(struct vq_drv *rx, struct vq_drv *tx, unsigned n, unsigned *bad)
{
	unsigned sent = 0, back = 0, tx_free = QSZ;
	uint64_t end = clock_ms() + 10000;
	uint32_t id, len;

	*bad = 0;
	while ((sent < n || back < sent) && clock_ms() < end) {
		bool idle = true;

		while (vqd_get_used(tx, &id, &len))
			tx_free++;
		if (sent < n && tx_free && sent - back < QSZ / 2) {
			uint64_t b = TXBUF_GPA + (uint64_t)(sent % QSZ) * BUF;
			uint8_t *p = gpa(b);

			memset(p, 0, HDR);
			memcpy(p + HDR, mac_b, 6);
			memcpy(p + HDR + 6, mac_a, 6);
			p[HDR + 12] = 0x88;
			p[HDR + 13] = 0xb5;
			memcpy(p + HDR + 14, &sent, sizeof(sent));
			vqd_desc(tx, (uint16_t)(sent % QSZ), b, HDR + 60, 0, 0);
			vqd_kick_head(tx, (uint16_t)(sent % QSZ));
			tx_free--;
			sent++;
			notify(1);
			idle = false;
		}
		while (vqd_get_used(rx, &id, &len)) {
			uint8_t *p = gpa(RXBUF_GPA + (uint64_t)id * BUF);
			uint16_t nbuf;

			memcpy(&nbuf, p + 10, 2);
			if (id < QSZ && len == HDR + 60 && le16toh(nbuf) == 1 &&
			    !memcmp(p + HDR, mac_a, 6) && !memcmp(p + HDR + 6, mac_b, 6))
				back++;
			else
				(*bad)++;
			/* Give the buffer back (same descriptor: it still points at buffer id). */
			vqd_kick_head(rx, (uint16_t)id);
			idle = false;
		}
		if (idle)
			usleep(50);
	}
	return back;
}

int main(int argc, char **argv)
{
	struct pci_host_cfg hc = { .pio = &pio, .mmio = &mmio, .irq_ops = &t_irq_ops };
	struct pci_bar_windows win = { .io_base = 0xc000, .io_limit = 0x10000,
				       .mem32_base = 0xe0000000, .mem32_limit = 0xfec00000,
				       .mem64_base = 1ull << 36,
				       .mem64_limit = (1ull << 36) + (1ull << 30) };
	char dir[64], sock[128];
	struct testpmd tp = TESTPMD_INIT;
	struct virtio_net *vn = NULL;
	struct virtio_pci_cfg vc = { .name = "virtio-net-test", .ops = &virtio_net_dev_ops };
	struct vq_drv rx, tx, ctl;
	struct evloop *loop = NULL;
	struct gmem gm = { 0 };
	pthread_t lt;
	bool loop_running = false;
	uint64_t f, want;
	unsigned msix, back, bad, cfg_irqs;
	const unsigned N = 2000;
	int memfd;

	if (argc < 2 || access(argv[1], X_OK)) {
		printf("SKIP: dpdk-testpmd not given\n");
		return 77;
	}
	log_set_level(getenv("NFV_TEST_VERBOSE") ? LOGL_DEBUG : LOGL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/nfv-vnet-%d", getpid());
	snprintf(sock, sizeof(sock), "%s/tp.sock", dir);
	if (mkdir(dir, 0700))
		return 1;
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0)
		return 1;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (ram == MAP_FAILED || bus_init(&mmio, "mmio") || bus_init(&pio, "pio") ||
	    gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, memfd, 0) || pci_host_create(&hc, &host) ||
	    evloop_create(&loop)) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	if (tp_start(&tp, argv[1], sock, false, "macswap") || !tp_ready(&tp)) {
		fprintf(stderr, "testpmd did not start\n");
		failures++;
		goto out;
	}
	{
		struct virtio_net_cfg nc = {
			.name = "net0", .mac = { 0x52, 0x54, 0, 1, 2, 3 }, .max_queue_pairs = 1,
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
		fprintf(stderr, "virtio_pci_create failed\n");
		failures++;
		goto out;
	}
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_BAR, &bar0));
	CHECK(pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_MSIX_BAR, &bar2));
	CHECK(pci_host_cfg_read(host, DEVFN, 2, 2) == 0x1041);
	if (pthread_create(&lt, NULL, loop_main, loop) == 0)
		loop_running = true;

	/* MSI-X: vector 0 config, 1 RX, 2 TX, 3 control queue. */
	msix = pci_cap_find(virtio_pci_dev(vp), 0x11);
	for (unsigned v = 0; v < 4; v++) {
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
	want = F_V1 | F_MRG | F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX;
	CHECK((f & want) == want); /* DPDK's vhost offers VERSION_1 and MRG_RXBUF */
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	wr(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)want);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, want >> 32);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK);
	CHECK(rd(VIRTIO_PCI_COMMON_STATUS, 1) & VIRTIO_STATUS_FEATURES_OK);
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK(rd(VIRTIO_PCI_COMMON_NUMQ, 2) == 3);
	queue_setup(&rx, 0, RAM_GPA + 0x10000);
	queue_setup(&tx, 1, RAM_GPA + 0x20000);
	queue_setup(&ctl, 2, RAM_GPA + 0x30000);
	for (unsigned i = 0; i < QSZ; i++) {
		vqd_desc(&rx, (uint16_t)i, RXBUF_GPA + (uint64_t)i * BUF, BUF, VRING_DESC_F_WRITE, 0);
		vqd_kick_head(&rx, (uint16_t)i);
	}
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3 | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	notify(0);
	CHECK(!memcmp((uint8_t[]){ (uint8_t)rd(VIRTIO_PCI_DEVICE_OFF, 1) }, "\x52", 1));
	CHECK(link_status() == 1);

	/* Data path: guest TX -> testpmd macswap -> guest RX, interrupts as MSI-X on vector 1. */
	usleep(200 * 1000);
	back = traffic(&rx, &tx, N, &bad);
	printf("# sent %u, back %u (bad %u), RX MSI-X %u\n", N, back, bad, msi_count[1]);
	CHECK(back == N && bad == 0);
	CHECK(msi_count[1] > 0);
	{
		uint64_t trx, ttx;

		CHECK(tp_stats(&tp, &trx, &ttx));
		printf("# testpmd RX %lu TX %lu\n", trx, ttx);
		CHECK(trx == N && ttx == N);
	}

	/* Control queue: handled by the VMM (CTRL_RX promisc on -> VIRTIO_NET_OK). */
	{
		uint8_t *c = gpa(CTRL_GPA);
		uint32_t id, len;
		unsigned before = msi_count[3];

		c[0] = 0, c[1] = 0, c[2] = 1, c[16] = 0xee;
		vqd_desc(&ctl, 0, CTRL_GPA, 3, VRING_DESC_F_NEXT, 1);
		vqd_desc(&ctl, 1, CTRL_GPA + 16, 1, VRING_DESC_F_WRITE, 0);
		vqd_kick_head(&ctl, 0);
		notify(2);
		CHECK(vqd_get_used(&ctl, &id, &len) && len == 1 && c[16] == 0);
		CHECK(wait_msi(3, before, 1000));
	}

	/* Backend restart. */
	cfg_irqs = msi_count[0];
	tp_kill(&tp);
	CHECK(wait_msi(0, cfg_irqs, 3000));
	CHECK(link_status() == 0);
	printf("# testpmd killed: link down, config interrupts %u\n", msi_count[0]);
	unlink(sock);
	cfg_irqs = msi_count[0];
	CHECK(tp_start(&tp, argv[1], sock, false, "macswap") == 0 && tp_ready(&tp));
	CHECK(wait_msi(0, cfg_irqs, 15000));
	CHECK(link_status() == 1);
	printf("# testpmd back: link up, config interrupts %u\n", msi_count[0]);
	usleep(200 * 1000);
	back = traffic(&rx, &tx, N, &bad);
	printf("# after reconnect: sent %u, back %u (bad %u)\n", N, back, bad);
	CHECK(back == N && bad == 0);

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
	tp_quit(&tp);
	pci_host_destroy(host);
	evloop_destroy(loop);
	bus_fini(&mmio);
	bus_fini(&pio);
	unlink(sock);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("all virtio-net + testpmd checks passed\n");
	return 0;
}
