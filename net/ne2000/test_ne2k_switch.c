// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two DP8390 chips exchanging frames through nfv-switch, as two ne2k-pci guests would: each chip's
 * backend is a vhost-user port with VMM-owned rings (net/virtio/vun_port.h) on the switch. The main
 * thread plays both guests' drivers (registers and remote DMA only); an evloop thread runs the
 * ports, so frames arrive concurrently with register accesses, as with vCPU and I/O threads.
 *
 *   1. A -> B and B -> A, every length from 60 to 1514 in steps, contents and order checked.
 *   2. Back-pressure: A sends far more than B's ring holds while B does not read. B's ring fills,
 *      OVW is raised, the port pauses; B then drains its ring and reception resumes. Every frame
 *      B stores is intact and in order; losses are only counted drops.
 *
 * Usage: test_ne2k_switch /path/to/nfv-switch (skipped, 77, when it is not built).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dp8390.h"
#include "evloop.h"
#include "log.h"
#include "vun_port.h"
#include "testproc.h"
#include "test.h"

#define TX_PAGE 0x40
#define RX_START 0x4c
#define RX_STOP 0x80
#define ETH_TEST 0x88b5

static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0x00, 0x0a, 0x01};
static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0x00, 0x0b, 0x02};

struct nic {
	const char *name;
	const uint8_t *mac;
	struct dp8390 *chip;
	struct vun_port *port;
	uint8_t next_pkt;
};

static int links_up;

static void on_link(void *opaque, bool up)
{
	(void)opaque;
	__atomic_add_fetch(&links_up, up ? 1 : -1, __ATOMIC_SEQ_CST);
}

/* ---- the guest driver, reduced to what the test needs ---- */

static void rdma(struct nic *n, uint16_t addr, uint16_t count, uint8_t cmd)
{
	dp8390_write(n->chip, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	dp8390_write(n->chip, DP_RBCR0, (uint8_t)count);
	dp8390_write(n->chip, DP_RBCR1, (uint8_t)(count >> 8));
	dp8390_write(n->chip, DP_RSAR0, (uint8_t)addr);
	dp8390_write(n->chip, DP_RSAR1, (uint8_t)(addr >> 8));
	dp8390_write(n->chip, DP_CR, (uint8_t)(cmd | DP_CR_STA));
}

static void block_in(struct nic *n, uint16_t addr, uint8_t *buf, uint16_t count)
{
	rdma(n, addr, count, DP_CR_RD_READ);
	for (unsigned i = 0; i < count; i += 2) {
		uint16_t v = (uint16_t)dp8390_data_read(n->chip, 2);

		buf[i] = (uint8_t)v;
		if (i + 1 < count)
			buf[i + 1] = (uint8_t)(v >> 8);
	}
}

static void nic_init(struct nic *n)
{
	struct dp8390 *s = n->chip;

	dp8390_reset(s);
	dp8390_write(s, DP_CR, DP_CR_STP | DP_CR_RD_ABORT);
	dp8390_write(s, DP_DCR, 0x49);
	dp8390_write(s, DP_RCR, DP_RCR_AB);
	dp8390_write(s, DP_TCR, 0x02);
	dp8390_write(s, DP_TPSR, TX_PAGE);
	dp8390_write(s, DP_PSTART, RX_START);
	dp8390_write(s, DP_BNRY, RX_STOP - 1);
	dp8390_write(s, DP_PSTOP, RX_STOP);
	dp8390_write(s, DP_ISR, 0xff);
	dp8390_write(s, DP_CR, 0x40 | DP_CR_STP | DP_CR_RD_ABORT);
	for (int i = 0; i < 6; i++)
		dp8390_write(s, DP_PAR0 + i, n->mac[i]);
	dp8390_write(s, DP_CURR, RX_START);
	n->next_pkt = RX_START;
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	dp8390_write(s, DP_TCR, 0);
}

static void nic_send(struct nic *n, const uint8_t *f, uint16_t len)
{
	rdma(n, TX_PAGE << 8, len, DP_CR_RD_WRITE);
	for (unsigned i = 0; i < len; i += 2)
		dp8390_data_write(n->chip, 2, (uint32_t)(f[i] | (i + 1 < len ? f[i + 1] << 8 : 0)));
	CHECK(dp8390_read(n->chip, DP_ISR) & DP_ISR_RDC);
	dp8390_write(n->chip, DP_TPSR, TX_PAGE);
	dp8390_write(n->chip, DP_TBCR0, (uint8_t)len);
	dp8390_write(n->chip, DP_TBCR1, (uint8_t)(len >> 8));
	dp8390_write(n->chip, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK(dp8390_read(n->chip, DP_ISR) & DP_ISR_PTX);
	dp8390_write(n->chip, DP_ISR, DP_ISR_PTX | DP_ISR_RDC);
}

/* Next stored frame, or -1 when the ring is empty. */
static int nic_recv(struct nic *n, uint8_t *buf)
{
	uint8_t hdr[4], curr;
	unsigned len;

	dp8390_write(n->chip, DP_CR, 0x40 | DP_CR_RD_ABORT);
	curr = dp8390_read(n->chip, DP_CURR);
	dp8390_write(n->chip, DP_CR, DP_CR_RD_ABORT);
	if (curr == n->next_pkt)
		return -1;
	block_in(n, (uint16_t)(n->next_pkt << 8), hdr, 4);
	len = (unsigned)(hdr[2] | hdr[3] << 8) - 4;
	CHECK(hdr[0] & DP_RSR_PRX);
	CHECK(len >= 60 && len <= 1514);
	CHECK(hdr[1] >= RX_START && hdr[1] < RX_STOP);
	if (len > 1514 || hdr[1] < RX_START || hdr[1] >= RX_STOP)
		return -2;
	block_in(n, (uint16_t)((n->next_pkt << 8) + 4), buf, (uint16_t)len);
	n->next_pkt = hdr[1];
	dp8390_write(n->chip, DP_BNRY,
		     (uint8_t)(n->next_pkt == RX_START ? RX_STOP - 1 : n->next_pkt - 1));
	dp8390_write(n->chip, DP_ISR, DP_ISR_PRX | DP_ISR_OVW);
	return (int)len;
}

static uint16_t make(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t len, uint32_t seq)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	memcpy(f + 14, &seq, 4);
	for (unsigned i = 18; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
	return len;
}

/* Check a received test frame; returns its sequence number or -1. */
static long check_frame(const uint8_t *f, int len, const uint8_t *dst, const uint8_t *src)
{
	uint8_t want[1600];
	uint32_t seq;

	if (len < 60 || memcmp(f, dst, 6) || memcmp(f + 6, src, 6) || f[12] != (ETH_TEST >> 8))
		return -1;
	memcpy(&seq, f + 14, 4);
	make(want, dst, src, (uint16_t)len, seq);
	return memcmp(want, f, (size_t)len) ? -1 : (long)seq;
}

/* ---- test 1: both directions, many lengths ---- */

static void exchange(struct nic *from, struct nic *to, unsigned count)
{
	uint8_t f[1600], buf[1600];
	unsigned got = 0, bad = 0;
	long last = -1;

	for (unsigned i = 0; i < count; i++) {
		uint16_t len = (uint16_t)(60 + (i * 97) % (1514 - 60 + 1));

		nic_send(from, f, make(f, to->mac, from->mac, len, i));
		/* Wait for it (the port delivers on the loop thread). */
		for (int t = 0; t < 2000; t++) {
			int n = nic_recv(to, buf);

			if (n == -1) {
				usleep(500);
				continue;
			}
			long seq = check_frame(buf, n, to->mac, from->mac);

			if (seq < 0 || seq <= last)
				bad++;
			else
				last = seq, got++;
			if (seq == (long)i)
				break;
		}
	}
	printf("# %s -> %s: sent %u, received %u intact in order, %u bad\n", from->name, to->name,
	       count, got, bad);
	CHECK(got == count);
	CHECK(bad == 0);
}

/* ---- test 2: back-pressure through a full ring ---- */

static void backpressure(struct nic *a, struct nic *b)
{
	uint8_t f[1600], buf[1600];
	const unsigned burst = 150; /* 1000-byte frames: 4 pages each, the ring holds 12 */
	unsigned got = 0, bad = 0;
	struct dp8390_stats st;
	uint64_t stored0;
	long last = -1;

	dp8390_get_stats(b->chip, &st);
	stored0 = st.rx_packets;
	for (unsigned i = 0; i < burst; i++)
		nic_send(a, f, make(f, b->mac, a->mac, 1000, 100000 + i));
	usleep(300 * 1000);
	dp8390_get_stats(b->chip, &st);
	CHECK(st.rx_overflows >= 1);
	CHECK(st.rx_packets - stored0 == 12); /* 51 free pages, 4 per frame */
	CHECK(dp8390_read(b->chip, DP_ISR) & DP_ISR_OVW);
	CHECK(!dp8390_can_receive(b->chip));
	/* Drain; every BNRY write frees room and the port resumes. */
	for (int idle = 0; idle < 400;) {
		int n = nic_recv(b, buf);
		long seq;

		if (n == -1) {
			idle++;
			usleep(1000);
			continue;
		}
		idle = 0;
		seq = check_frame(buf, n, b->mac, a->mac);
		if (seq < 100000 || seq <= last)
			bad++;
		else
			last = seq, got++;
	}
	dp8390_get_stats(b->chip, &st);
	printf("# back-pressure: %u sent, %u received intact in order, %u bad; chip overflows "
	       "%llu, "
	       "refused %llu\n",
	       burst, got, bad, (unsigned long long)st.rx_overflows,
	       (unsigned long long)st.rx_no_room);
	CHECK(bad == 0);
	CHECK(got > 12); /* reception resumed after the ring was drained */
	CHECK(got <= burst);
	/* Normal traffic afterwards. */
	exchange(a, b, 20);
}

static void *loop_main(void *arg)
{
	if (evloop_run(arg, -1) < 0)
		test_failures++;
	return NULL;
}

int main(int argc, char **argv)
{
	char dir[64], sa[128], sb[128], conf[128], ctl[128], prefix[64];
	struct nic a = {.name = "A", .mac = mac_a}, b = {.name = "B", .mac = mac_b};
	struct nic *nics[2] = {&a, &b};
	struct tsw_port ports[2] = {{"a", sa}, {"b", sb}};
	/* PMD on CPU 1, control thread on CPU 0. */
	struct tsw_cfg swc = {.ctl = ctl, .config = conf, .ports = ports, .nports = 2,
			      .mem_mb = 256, .mbufs = 4095, .lcores = "0@0,1@1", .prefix = prefix};
	struct tproc sw = TPROC_INIT;
	struct evloop *loop;
	pthread_t th;

	if (argc < 2 || access(argv[1], X_OK) != 0) {
		printf("SKIP: nfv-switch not built (%s)\n", argc > 1 ? argv[1] : "no path given");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOGL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/nfv-ne2ksw-%d", (int)getpid());
	if (mkdir(dir, 0700)) {
		perror(dir);
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/switch.conf", dir);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", dir);
	snprintf(sa, sizeof(sa), "%s/a.sock", dir);
	snprintf(sb, sizeof(sb), "%s/b.sock", dir);
	snprintf(prefix, sizeof(prefix), "nfvne2ksw%d", (int)getpid());
	swc.bin = argv[1];
	CHECK(tsw_start(&sw, &swc) == 0);
	CHECK(evloop_create(&loop) == 0);
	for (int i = 0; i < 2; i++) {
		struct nic *n = nics[i];
		struct vun_port_cfg pc = {
			.path = i ? sb : sa, .loop = loop, .timeout_ms = 3000, .on_link = on_link};
		struct dp8390_cfg cc = {.name = n->name};
		struct netdev_frontend fe;

		CHECK(vun_port_create(&pc, &n->port) == 0);
		memcpy(cc.mac, n->mac, 6);
		vun_port_backend(n->port, &cc.backend);
		CHECK(dp8390_create(&cc, &n->chip) == 0);
		dp8390_frontend(n->chip, &fe);
		vun_port_attach(n->port, &fe);
	}
	CHECK(pthread_create(&th, NULL, loop_main, loop) == 0);
	for (int i = 0; i < 400 && __atomic_load_n(&links_up, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(50 * 1000);
	CHECK(__atomic_load_n(&links_up, __ATOMIC_SEQ_CST) == 2);
	if (links_up == 2) {
		usleep(300 * 1000); /* the switch polls both rings by now */
		nic_init(&a);
		nic_init(&b);
		exchange(&a, &b, 120);
		exchange(&b, &a, 120);
		backpressure(&a, &b);
	}
	evloop_stop(loop);
	pthread_join(th, NULL);
	for (int i = 0; i < 2; i++) {
		vun_port_destroy(nics[i]->port);
		dp8390_destroy(nics[i]->chip);
	}
	evloop_destroy(loop);
	tsw_stop(&sw, 5000);
	unlink(sa);
	unlink(sb);
	unlink(conf);
	unlink(ctl);
	rmdir(dir);
	TEST_DONE("ne2k_switch");
}
