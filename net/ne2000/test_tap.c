// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tap backend with a fake device and with the DP8390: frames both ways through a real tap
 * interface (an AF_PACKET socket plays the host side), and back-pressure (pause while the device
 * has no room, resume on rx_ready). Needs CAP_NET_ADMIN and /dev/net/tun; skipped (77) otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp8390.h"
#include "evloop.h"
#include "log.h"
#include "tap.h"
#include "test.h"

#define ETH_TEST 0x88b5 /* IEEE 802 local experimental ethertype */

struct fake_dev {
	bool room;
	unsigned got;
	uint8_t last[2048];
	size_t len;
};

static int fake_receive(void *opaque, const void *frame, size_t len)
{
	struct fake_dev *d = opaque;
	const uint8_t *f = frame;

	if (!d->room)
		return -ENOBUFS;
	if (len >= 14 && f[12] == (ETH_TEST >> 8) && f[13] == (ETH_TEST & 0xff)) {
		memcpy(d->last, frame, len);
		d->len = len;
		d->got++;
	}
	return 0;
}

static bool fake_can_receive(void *opaque)
{
	return ((struct fake_dev *)opaque)->room;
}

static const uint8_t dev_mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x42};

static size_t make_frame(uint8_t *f, const uint8_t *dst, uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = ETH_TEST >> 8;
	f[13] = ETH_TEST & 0xff;
	for (int i = 14; i < 80; i++)
		f[i] = (uint8_t)(seed + i);
	return 80;
}

static int if_up(const char *name)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 || (ifr.ifr_flags |= IFF_UP, 0) ||
	    ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int packet_socket(const char *ifname, int *ifindex)
{
	struct sockaddr_ll sll = {0};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_TEST));

	if (fd < 0)
		return -errno;
	*ifindex = (int)if_nametoindex(ifname);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_TEST);
	sll.sll_ifindex = *ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void host_send(int pfd, int ifindex, const void *frame, size_t len)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};

	memcpy(sll.sll_addr, frame, 6);
	CHECK(sendto(pfd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len);
}

/* One incoming frame of ours on the packet socket (not our own outgoing ones), or -1 after 2 s. */
static ssize_t host_recv(int pfd, uint8_t *buf, size_t cap)
{
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recvfrom(pfd, buf, cap, 0, (struct sockaddr *)&from, &fl);
		if (n > 0 && from.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
	return -1;
}

static void run_once(struct evloop *loop)
{
	if (evloop_run(loop, 50) < 0)
		test_failures++;
}

static void run_until(struct evloop *loop, const unsigned *counter, unsigned want)
{
	for (int i = 0; i < 40 && *counter < want; i++)
		run_once(loop);
}

static void test_fake_device(struct evloop *loop)
{
	struct tap_cfg cfg = {.ifname = "nfvtap%d", .fd = -1, .loop = loop};
	struct fake_dev dev = {.room = true};
	struct netdev_frontend fe = {fake_receive, fake_can_receive, &dev};
	struct netdev_backend be;
	struct tap_stats st;
	struct tap *tap;
	uint8_t f[128], buf[2048];
	int pfd, ifindex;

	CHECK(tap_create(&cfg, &tap) == 0);
	CHECK(if_up(tap_ifname(tap)) == 0);
	pfd = packet_socket(tap_ifname(tap), &ifindex);
	CHECK(pfd >= 0);
	tap_attach(tap, &fe);
	tap_backend(tap, &be);

	/* Host -> device. */
	host_send(pfd, ifindex, f, make_frame(f, dev_mac, 1));
	run_until(loop, &dev.got, 1);
	CHECK(dev.got == 1 && dev.len == 80 && memcmp(dev.last, f, 80) == 0);

	/* Device -> host. */
	make_frame(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 2);
	CHECK(be.send(be.opaque, f, 80) == 0);
	CHECK(host_recv(pfd, buf, sizeof(buf)) == 80 && memcmp(buf, f, 80) == 0);

	/* Back-pressure: no room -> frames stay queued; rx_ready -> they arrive. */
	dev.room = false;
	for (uint8_t i = 0; i < 3; i++)
		host_send(pfd, ifindex, f, make_frame(f, dev_mac, (uint8_t)(10 + i)));
	for (int i = 0; i < 4; i++)
		run_once(loop);
	CHECK(dev.got == 1);
	tap_get_stats(tap, &st);
	CHECK(st.rx_pauses >= 1);
	dev.room = true;
	be.rx_ready(be.opaque);
	run_until(loop, &dev.got, 4);
	CHECK(dev.got == 4);
	CHECK(dev.last[14] == (uint8_t)(12 + 14));

	close(pfd);
	tap_destroy(tap);
}

static void test_with_chip(struct evloop *loop)
{
	struct tap_cfg cfg = {.ifname = "nfvtap%d", .fd = -1, .loop = loop};
	struct dp8390_cfg ccfg = {.name = "ne2k-tap"};
	struct netdev_frontend fe;
	struct netdev_backend be;
	struct dp8390_stats st;
	struct dp8390 *s;
	struct tap *tap;
	uint8_t f[128], buf[2048];
	int pfd, ifindex;

	CHECK(tap_create(&cfg, &tap) == 0);
	CHECK(if_up(tap_ifname(tap)) == 0);
	pfd = packet_socket(tap_ifname(tap), &ifindex);
	CHECK(pfd >= 0);
	tap_backend(tap, &be);
	memcpy(ccfg.mac, dev_mac, 6);
	ccfg.backend = be;
	CHECK(dp8390_create(&ccfg, &s) == 0);
	dp8390_frontend(s, &fe);
	tap_attach(tap, &fe);

	/* Stopped chip: frames wait in the tap; starting the chip resumes reading. */
	host_send(pfd, ifindex, f, make_frame(f, dev_mac, 1));
	for (int i = 0; i < 4; i++)
		run_once(loop);
	dp8390_get_stats(s, &st);
	CHECK(st.rx_packets == 0);

	dp8390_write(s, DP_DCR, 0x49);
	dp8390_write(s, DP_RCR, DP_RCR_AB);
	dp8390_write(s, DP_PSTART, 0x4c);
	dp8390_write(s, DP_BNRY, 0x4c);
	dp8390_write(s, DP_PSTOP, 0x80);
	dp8390_write(s, DP_CR, 0x61); /* page 1, stopped */
	dp8390_write(s, DP_CURR, 0x4d);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_ABORT);
	dp8390_write(s, DP_TCR, 0);
	for (int i = 0; i < 20 && st.rx_packets == 0; i++) {
		run_once(loop);
		dp8390_get_stats(s, &st);
	}
	CHECK(st.rx_packets == 1);
	CHECK(dp8390_read(s, DP_ISR) & DP_ISR_PRX);

	/* TX: write the frame by remote DMA and transmit; the host sees it. */
	make_frame(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", 3);
	dp8390_write(s, DP_RBCR0, 80);
	dp8390_write(s, DP_RBCR1, 0);
	dp8390_write(s, DP_RSAR0, 0);
	dp8390_write(s, DP_RSAR1, 0x40);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_RD_WRITE);
	for (int i = 0; i < 80; i += 2)
		dp8390_data_write(s, 2, (uint32_t)(f[i] | f[i + 1] << 8));
	dp8390_write(s, DP_TPSR, 0x40);
	dp8390_write(s, DP_TBCR0, 80);
	dp8390_write(s, DP_TBCR1, 0);
	dp8390_write(s, DP_CR, DP_CR_STA | DP_CR_TXP | DP_CR_RD_ABORT);
	CHECK(host_recv(pfd, buf, sizeof(buf)) == 80 && memcmp(buf, f, 80) == 0);

	close(pfd);
	tap_destroy(tap);
	dp8390_destroy(s);
}

int main(void)
{
	struct evloop *loop;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("SKIP: needs root and /dev/net/tun\n");
		return 77;
	}
	log_set_level(LOGL_ERR);
	if (evloop_create(&loop) != 0)
		return 1;
	test_fake_device(loop);
	test_with_chip(loop);
	evloop_destroy(loop);
	TEST_DONE("tap");
}
