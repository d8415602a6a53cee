// SPDX-License-Identifier: GPL-2.0-only
/*
 * ne2k-tap: an NE2000 guest (lib/ne2k_drv.c at CPL3) on a tap device, the host half at the other
 * end of the tap with an AF_PACKET socket. Frames the guest sends arrive on the host intact, frames
 * the host sends arrive in the guest intact, the guest answers ARP requests for its IP and ignores
 * requests for other addresses, a stream of pings five times the size of its receive ring is
 * answered completely and in order (the tap backend holds frames back while the ring is full), and
 * the VMM's exit counters ({"cmd":"stats"}) give the exits each transmitted and received frame
 * costs.
 *
 * The guest program is a small network node that ne2k-switch and tests/perf/ne2k-vs-virtio run too.
 * --guest-args (space separated, all optional):
 *   ip=A.B.C.D   the address it answers ARP for (default 10.0.2.15)
 *   rx=rr|sp     receive with Remote Read (default, as Linux does) or Send Packet
 *   bursts=N     N > 0: first the measured bursts below with N frames each; 0: none (default 32)
 *   tsc_khz=N    TSC frequency, for the pauses around the bursts (default 2000000)
 *   role=node|gen|sink   node (default): the protocol below; gen: after 'g' send size-byte frames
 *                to peer=MAC back to back; sink: count what arrives. gen and sink print
 *                "count tx=T rx=R" on 'r' and end on 'q' (the roles of vnet_guest.c, so benchmarks
 *                can pair either guest with either).
 * Protocol (ethertypes 0x88b5-0x88b9, local experimental):
 *   1. "ne2k: ready MAC" then wait for 'g' on the serial line;
 *   2. if bursts: "ne2k: mark tx0", pause, send N frames of type 0x88b5 to broadcast (payload:
 *      seq, pattern), "ne2k: mark tx1 ...", pause, take N frames of type 0x88b6 (the peer queued
 *      them during the pause) and check their pattern, "ne2k: mark rx1 ...", pause;
 *   3. serve: ARP requests for ip get a reply; 0x88b8 frames come back as 0x88b9 to their sender;
 *      vnet_guest.c's test requests (0x88b5 "NFVT", type 1) to us or broadcast get its reply (type
 *      2); a 0x88b7 frame or 'q' on the serial line ends the run ("ne2k: served ...", GUEST_DONE).
 * No port access happens during a pause, so the exits between two marks are the burst's own.
 */
#ifdef GUEST
#include "guest.h"
#include "ne2k_drv.h"

#define ETH_TX 0x88b5
#define ETH_RX 0x88b6
#define ETH_STOP 0x88b7
#define ETH_PING 0x88b8
#define ETH_PONG 0x88b9
#define ETH_ARP 0x0806

#define COM1 0x3f8
#define POLL_CYCLES (1ull << 22)

static struct ne2k nic;
static uint64_t next_poll;
static uint8_t frame[1600], rxbuf[1600];
static uint8_t my_ip[4] = {10, 0, 2, 15};
static uint64_t tsc_khz = 2000000;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Wait without touching any port (no exits). */
static void pause_ms(unsigned ms)
{
	uint64_t t0 = rdtsc(), n = tsc_khz * ms;

	while (rdtsc() - t0 < n)
		cpu_relax();
}

/* A byte from the host, or 0; the line is looked at every POLL_CYCLES only (one exit each). */
static char serial_poll(void)
{
	uint64_t t = rdtsc();

	if (t < next_poll)
		return 0;
	next_poll = t + POLL_CYCLES;
	return (inb(COM1 + 5) & 1) ? (char)inb(COM1) : 0;
}

static const char *arg(const char *key)
{
	const char *a = guest_boot_info->args;
	size_t kl = strlen(key);

	for (const char *p = a; (p = strstr(p, key)); p += kl)
		if ((p == a || p[-1] == ' ') && p[kl] == '=')
			return p + kl + 1;
	return NULL;
}

static uint64_t arg_u64(const char *key, uint64_t def)
{
	const char *v = arg(key);
	uint64_t n = 0;

	if (!v || *v < '0' || *v > '9')
		return def;
	while (*v >= '0' && *v <= '9')
		n = n * 10 + (uint64_t)(*v++ - '0');
	return n;
}

static void parse_ip(const char *v, uint8_t ip[4])
{
	for (int i = 0; i < 4; i++) {
		unsigned n = 0;

		GUEST_ASSERT(*v >= '0' && *v <= '9');
		while (*v >= '0' && *v <= '9')
			n = n * 10 + (unsigned)(*v++ - '0');
		GUEST_ASSERT(n < 256 && (i == 3 || *v == '.'));
		ip[i] = (uint8_t)n;
		v++;
	}
}

static uint16_t type_of(const uint8_t *f)
{
	return (uint16_t)(f[12] << 8 | f[13]);
}

/* Payload of burst frame @seq of type @type: seq in bytes 14-15, then a pattern. */
static uint16_t burst_len(unsigned seq)
{
	return (uint16_t)(60 + (seq * 37u) % 140);
}

static void burst_fill(uint8_t *f, uint16_t len, unsigned seq)
{
	f[14] = (uint8_t)seq;
	f[15] = (uint8_t)(seq >> 8);
	for (unsigned i = 16; i < len; i++)
		f[i] = (uint8_t)(seq ^ i);
}

static void bursts(unsigned count)
{
	uint64_t io0;
	unsigned got = 0;

	GUEST_PRINTF("ne2k: mark tx0");
	pause_ms(800);
	io0 = nic.st.io_accesses;
	for (unsigned seq = 0; seq < count; seq++) {
		uint16_t len = burst_len(seq);

		memset(frame, 0xff, 6);
		memcpy(frame + 6, nic.mac, 6);
		frame[12] = ETH_TX >> 8;
		frame[13] = ETH_TX & 0xff;
		burst_fill(frame, len, seq);
		GUEST_ASSERT_EQ(ne2k_send(&nic, frame, len), 0);
	}
	GUEST_PRINTF("ne2k: mark tx1 frames=%u port_accesses=%llu", count,
		     (unsigned long long)(nic.st.io_accesses - io0));
	pause_ms(1500); /* the peer queues its burst now */
	io0 = nic.st.io_accesses;
	while (got < count) {
		int n = ne2k_recv_wait(&nic, rxbuf, sizeof(rxbuf));
		uint16_t seq, len;

		GUEST_ASSERT(n > 0);
		if (type_of(rxbuf) != ETH_RX)
			continue; /* whatever else the wire brings */
		seq = (uint16_t)(rxbuf[14] | rxbuf[15] << 8);
		len = burst_len(seq);
		GUEST_ASSERT_EQ(seq, got);
		GUEST_ASSERT_EQ(n, len);
		GUEST_ASSERT(memcmp(rxbuf, nic.mac, 6) == 0);
		memcpy(frame, rxbuf, 14);
		burst_fill(frame, len, seq);
		GUEST_ASSERT(memcmp(rxbuf + 14, frame + 14, len - 14u) == 0);
		got++;
	}
	GUEST_PRINTF("ne2k: mark rx1 frames=%u port_accesses=%llu", count,
		     (unsigned long long)(nic.st.io_accesses - io0));
	pause_ms(800);
}

/* RFC 826: answer a request for our address; returns true when the frame was ARP for us. */
static bool arp_answer(const uint8_t *f, int n)
{
	static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */

	if (n < 42 || memcmp(f + 14, hdr, sizeof(hdr)) || memcmp(f + 38, my_ip, 4))
		return false;
	memcpy(frame, f + 6, 6); /* to the asker */
	memcpy(frame + 6, nic.mac, 6);
	frame[12] = ETH_ARP >> 8;
	frame[13] = ETH_ARP & 0xff;
	memcpy(frame + 14, hdr, 7);
	frame[21] = 2;			/* reply */
	memcpy(frame + 22, nic.mac, 6); /* sender: us */
	memcpy(frame + 28, my_ip, 4);
	memcpy(frame + 32, f + 22, 10); /* target: the asker's MAC and IP */
	GUEST_ASSERT_EQ(ne2k_send(&nic, frame, 42), 0);
	return true;
}

/* vnet_guest.c's test request ("NFVT", type 1) to us or broadcast: send its reply (type 2). */
static bool test_answer(const uint8_t *f, int n)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (n < 26 || type_of(f) != ETH_TX || memcmp(f + 14, "NFVT", 4) || f[18] != 1 ||
	    (memcmp(f, nic.mac, 6) && memcmp(f, bcast, 6)))
		return false;
	memcpy(frame, f + 6, 6);
	memcpy(frame + 6, nic.mac, 6);
	memcpy(frame + 12, f + 12, (size_t)n - 12);
	frame[18] = 2;
	GUEST_ASSERT_EQ(ne2k_send(&nic, frame, (uint16_t)n), 0);
	return true;
}

static void serve(void)
{
	unsigned arp = 0, pings = 0, tests = 0, other = 0;

	for (;;) {
		int n = ne2k_recv(&nic, rxbuf, sizeof(rxbuf));

		if (n == -NE2K_EAGAIN) {
			if (serial_poll() == 'q')
				break;
			continue; /* idle: keep polling ISR */
		}
		GUEST_ASSERT(n > 0);
		if (type_of(rxbuf) == ETH_STOP)
			break;
		if (test_answer(rxbuf, n)) {
			tests++;
		} else if (type_of(rxbuf) == ETH_ARP && arp_answer(rxbuf, n)) {
			arp++;
		} else if (type_of(rxbuf) == ETH_PING && n >= 14) {
			memcpy(frame, rxbuf + 6, 6);
			memcpy(frame + 6, nic.mac, 6);
			frame[12] = ETH_PONG >> 8;
			frame[13] = ETH_PONG & 0xff;
			memcpy(frame + 14, rxbuf + 14, (size_t)n - 14);
			GUEST_ASSERT_EQ(ne2k_send(&nic, frame, (uint16_t)n), 0);
			pings++;
		} else {
			other++;
		}
	}
	GUEST_PRINTF("ne2k: served arp_replies=%u pongs=%u test_replies=%u ignored=%u rx=%llu "
		     "tx=%llu overflows=%llu bad_headers=%llu",
		     arp, pings, tests, other, (unsigned long long)nic.st.rx_packets,
		     (unsigned long long)nic.st.tx_packets, (unsigned long long)nic.st.rx_overflows,
		     (unsigned long long)nic.st.rx_bad_header);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[3 * i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return false;
		}
		if (i < 5 && s[3 * i + 2] != ':')
			return false;
		mac[i] = (uint8_t)v;
	}
	return true;
}

/* gen and sink: 'g' starts, 'r' reports, 'q' ends. */
static void role_gen_sink(bool gen)
{
	const char *pm = arg("peer");
	uint8_t peer[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint16_t size = (uint16_t)arg_u64("size", 64);
	bool running = false;

	GUEST_ASSERT(!gen || (pm && parse_mac(pm, peer)));
	GUEST_ASSERT(size >= 60 && size <= NE2K_MAX_FRAME);
	memcpy(frame, peer, 6);
	memcpy(frame + 6, nic.mac, 6);
	frame[12] = ETH_TX >> 8;
	frame[13] = ETH_TX & 0xff;
	memset(frame + 14, 0x3c, size - 14u);
	for (;;) {
		char c = serial_poll();

		if (c == 'q')
			break;
		if (c == 'g')
			running = true;
		if (c == 'r')
			GUEST_PRINTF("count tx=%llu rx=%llu", (unsigned long long)nic.st.tx_packets,
				     (unsigned long long)nic.st.rx_packets);
		if (gen && running) {
			GUEST_ASSERT_EQ(ne2k_send(&nic, frame, size), 0);
		} else {
			int n = ne2k_recv(&nic, rxbuf, sizeof(rxbuf));

			GUEST_ASSERT(n > 0 || n == -NE2K_EAGAIN);
		}
	}
	GUEST_PRINTF("%s done tx=%llu rx=%llu", gen ? "gen" : "sink",
		     (unsigned long long)nic.st.tx_packets, (unsigned long long)nic.st.rx_packets);
}

static void user_part(void)
{
	const char *role = arg("role");
	struct ne2k_cfg cfg = {.rx_mode = NE2K_RX_REMOTE_READ};
	const char *ip = arg("ip"), *rx = arg("rx");
	unsigned count = (unsigned)arg_u64("bursts", 32);

	tsc_khz = arg_u64("tsc_khz", tsc_khz);
	if (ip)
		parse_ip(ip, my_ip);
	if (rx && !strncmp(rx, "sp", 2))
		cfg.rx_mode = NE2K_RX_SEND_PACKET;
	GUEST_ASSERT(count <= 48); /* a burst of up to 200-byte frames must fit the ring */
	GUEST_ASSERT_EQ(ne2k_probe(&nic, 0), 0);
	GUEST_ASSERT_EQ(ne2k_init(&nic, &cfg), 0);
	GUEST_PRINTF("ne2k: ready %02x:%02x:%02x:%02x:%02x:%02x", nic.mac[0], nic.mac[1],
		     nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5]);
	if (role && (!strncmp(role, "gen", 3) || !strncmp(role, "sink", 4))) {
		role_gen_sink(role[0] == 'g');
		GUEST_DONE();
	}
	while (serial_getc() != 'g')
		;
	if (count)
		bursts(count);
	serve();
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define GUEST_MAC "52:54:00:12:34:56"
#define NBURST 32
#define NSTREAM 100

/* Ping lengths of the stream: 60 to 1411 bytes. */
static unsigned stream_len(unsigned seq)
{
	return 60 + (seq * 599u) % 1352;
}

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t host_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				 .sll_protocol = 0x0300 /* ETH_P_ALL, be */};

static int if_up(const char *name)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The guest's pauses count TSC ticks; "cpu MHz" is the TSC rate on hosts with tsc_known_freq. */
static long host_tsc_khz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 2000;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':')) {
			mhz = strtod(strchr(line, ':') + 1, NULL);
			break;
		}
	if (f)
		fclose(f);
	return (long)(mhz * 1000);
}

static unsigned long long io_exits(struct vmm_proc *p)
{
	char resp[4096];
	const char *io;

	HOST_ASSERT(p, vmm_control(p, "{\"cmd\":\"stats\"}", resp, sizeof(resp)) == 0,
		    "control socket stats failed");
	io = strstr(resp, "\"io\":");
	HOST_ASSERT(p, io != NULL, "no io exit counter in %s", resp);
	return strtoull(io + 5, NULL, 10);
}

/* The guest's own count of port accesses per burst, as reported in its marks. */
static void print_marks(struct vmm_proc *p)
{
	for (const char *m = p->err; m && (m = strstr(m, "ne2k: mark ")); m++) {
		const char *eol = strchr(m, '\n');

		printf("  %.*s\n", eol ? (int)(eol - m) : 60, m);
	}
}

/* Next frame of @type from the guest (not our own outgoing ones) within @ms; its length or 0. */
static ssize_t recv_type(int fd, uint16_t type, uint8_t *buf, size_t cap, int ms)
{
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pf, 1, ms) <= 0)
			return 0;
		n = recvfrom(fd, buf, cap, 0, (struct sockaddr *)&from, &fl);
		if (n >= 14 && from.sll_pkttype != PACKET_OUTGOING &&
		    (buf[12] << 8 | buf[13]) == type)
			return n;
	}
}

static void send_frame(struct vmm_proc *p, int fd, const uint8_t *f, size_t len)
{
	HOST_ASSERT(p, sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len,
		    "sendto: %s", strerror(errno));
}

static size_t arp_request(uint8_t *f, const uint8_t ip[4])
{
	static const uint8_t host_ip[4] = {10, 0, 2, 2};

	memset(f, 0xff, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x08, f[13] = 0x06;
	memcpy(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + 22, host_mac, 6);
	memcpy(f + 28, host_ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, ip, 4);
	return 42;
}

static void run(const char *vmm, const char *guest, const char *rxmode)
{
	char dev[128], gargs[128], ifname[IFNAMSIZ];
	const char *args[] = {"--device", dev, "--guest-args", gargs, NULL};
	static const uint8_t ip[4] = {10, 0, 2, 15}, other_ip[4] = {10, 0, 2, 99};
	unsigned long long e0, e1, e2;
	uint8_t f[2048];
	struct vmm_proc p;
	ssize_t n;
	int fd, st;

	snprintf(ifname, sizeof(ifname), "nfvt%d", (int)getpid() % 100000);
	snprintf(dev, sizeof(dev), "ne2k-pci,mac=" GUEST_MAC ",backend=tap:%s", ifname);
	snprintf(gargs, sizeof(gargs), "ip=10.0.2.15 rx=%s bursts=%d tsc_khz=%ld", rxmode, NBURST,
		 host_tsc_khz());
	vmm_start(&p, vmm, guest, args);
	HOST_ASSERT(&p, vmm_wait_for(&p, "ne2k: ready " GUEST_MAC, 60), "guest never got ready");
	HOST_ASSERT(&p, if_up(ifname) == 0, "cannot bring %s up", ifname);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x0003));
	HOST_ASSERT(&p, fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	sll.sll_protocol = htons(0x0003);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	HOST_ASSERT(&p, bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0, "bind: %s",
		    strerror(errno));
	vmm_send(&p, "g");

	/* Guest -> host burst. */
	HOST_ASSERT(&p, vmm_wait_for(&p, "ne2k: mark tx0", 60), "no tx0 mark");
	e0 = io_exits(&p);
	for (unsigned seq = 0; seq < NBURST; seq++) {
		unsigned len = 60 + (seq * 37u) % 140;

		n = recv_type(fd, 0x88b5, f, sizeof(f), 10000);
		HOST_ASSERT(&p, n == (ssize_t)len, "frame %u: %zd bytes, want %u", seq, n, len);
		HOST_ASSERT(&p,
			    !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) &&
				    !memcmp(f + 6, guest_mac, 6),
			    "frame %u: bad addresses", seq);
		HOST_ASSERT(&p, (f[14] | f[15] << 8) == (int)seq, "frame %u out of order", seq);
		for (unsigned i = 16; i < len; i++)
			HOST_ASSERT(&p, f[i] == (uint8_t)(seq ^ i), "frame %u byte %u", seq, i);
	}
	HOST_ASSERT(&p, vmm_wait_for(&p, "ne2k: mark tx1", 60), "no tx1 mark");
	e1 = io_exits(&p);

	/* Host -> guest burst, queued in the guest's ring while it pauses. */
	for (unsigned seq = 0; seq < NBURST; seq++) {
		unsigned len = 60 + (seq * 37u) % 140;

		memcpy(f, guest_mac, 6);
		memcpy(f + 6, host_mac, 6);
		f[12] = 0x88, f[13] = 0xb6;
		f[14] = (uint8_t)seq, f[15] = (uint8_t)(seq >> 8);
		for (unsigned i = 16; i < len; i++)
			f[i] = (uint8_t)(seq ^ i);
		send_frame(&p, fd, f, len);
	}
	HOST_ASSERT(&p, vmm_wait_for(&p, "ne2k: mark rx1", 60), "no rx1 mark (frames lost?)");
	e2 = io_exits(&p);
	/* Each mark is one exit (the report), counted in the burst before it. */
	printf("ne2k-tap rx=%s: tx %.1f exits/frame, rx %.1f exits/frame (%d frames of 60-199 "
	       "bytes)\n",
	       rxmode, (double)(e1 - e0 - 1) / NBURST, (double)(e2 - e1 - 1) / NBURST, NBURST);
	print_marks(&p);

	/* ARP for the guest's address is answered, for another address it is not. */
	send_frame(&p, fd, f, arp_request(f, other_ip));
	send_frame(&p, fd, f, arp_request(f, ip));
	n = recv_type(fd, 0x0806, f, sizeof(f), 10000);
	HOST_ASSERT(&p, n >= 42, "no ARP reply");
	HOST_ASSERT(&p, !memcmp(f, host_mac, 6) && !memcmp(f + 6, guest_mac, 6),
		    "ARP reply addresses");
	HOST_ASSERT(&p, !memcmp(f + 14, "\x00\x01\x08\x00\x06\x04\x00\x02", 8), "not an ARP reply");
	HOST_ASSERT(&p, !memcmp(f + 22, guest_mac, 6) && !memcmp(f + 28, ip, 4),
		    "ARP sender fields");
	HOST_ASSERT(&p, !memcmp(f + 32, host_mac, 6) && !memcmp(f + 38, "\x0a\x00\x02\x02", 4),
		    "ARP target fields");
	HOST_ASSERT(&p, recv_type(fd, 0x0806, f, sizeof(f), 300) == 0,
		    "ARP reply for an address the guest does not have");

	/* A ping frame comes back as a pong; then stop. */
	memcpy(f, guest_mac, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x88, f[13] = 0xb8;
	memset(f + 14, 0x5a, 1000);
	send_frame(&p, fd, f, 1014);
	n = recv_type(fd, 0x88b9, f, sizeof(f), 10000);
	HOST_ASSERT(&p, n == 1014 && !memcmp(f, host_mac, 6) && f[1013] == 0x5a, "bad pong (%zd)",
		    n);

	/*
	 * A stream far larger than the guest's ring (about 70 KiB into 14.5 KiB): the tap backend
	 * must hold frames back while the ring is full, so every ping is answered, in order.
	 */
	for (unsigned seq = 0; seq < NSTREAM; seq++) {
		unsigned len = stream_len(seq);

		memcpy(f, guest_mac, 6);
		memcpy(f + 6, host_mac, 6);
		f[12] = 0x88, f[13] = 0xb8;
		f[14] = (uint8_t)seq, f[15] = (uint8_t)(seq >> 8);
		for (unsigned i = 16; i < len; i++)
			f[i] = (uint8_t)(seq * 5 + i);
		send_frame(&p, fd, f, len);
	}
	for (unsigned seq = 0; seq < NSTREAM; seq++) {
		unsigned len = stream_len(seq);

		n = recv_type(fd, 0x88b9, f, sizeof(f), 20000);
		HOST_ASSERT(&p, n == (ssize_t)len, "pong %u: %zd bytes, want %u", seq, n, len);
		HOST_ASSERT(&p, (f[14] | f[15] << 8) == (int)seq, "pong %u out of order", seq);
		for (unsigned i = 16; i < len; i++)
			HOST_ASSERT(&p, f[i] == (uint8_t)(seq * 5 + i), "pong %u byte %u", seq, i);
	}
	f[12] = 0x88, f[13] = 0xb7;
	memcpy(f, guest_mac, 6);
	send_frame(&p, fd, f, 60);
	st = vmm_wait(&p, 60);
	close(fd);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "ne2k: served arp_replies=1 pongs=101"),
		    "guest summary missing or wrong");
	vmm_cleanup(&p);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		host_skip("needs root and /dev/net/tun");
	run(argv[1], argv[2], "rr");
	run(argv[1], argv[2], "sp");
	printf("ne2k-tap: ok\n");
	return 0;
}
#endif
