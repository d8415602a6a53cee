// SPDX-License-Identifier: GPL-2.0-only
/*
 * ne2k-pci end to end: a freestanding guest with its own polled NE2000 driver (PCI enumeration
 * through 0xCF8/0xCFC, reset port, PROM read, ring set-up, remote DMA with rep insw/outsw) against
 * the RTL8029 model in nfv-vmm.
 *
 * Guest modes (--guest-args):
 *   loop   the chip's internal loopback (TCR LB=01): frames sent come back into the ring; no
 * backend echo   send frames (ethertype 0x88b5, broadcast) and expect each back from the wire with
 * the destination set to our MAC and ethertype 0x88b6 (the host half, or a peer, echoes them)
 *
 * Host half: needs nfv-vmm to offer the NIC as
 *     --nic ne2k-pci,mac=52:54:00:12:34:56[,tap=IFNAME]
 * (skipped, exit 77, while nfv-vmm --help does not mention ne2k-pci). "echo" runs over a tap the
 * VMM creates; an AF_PACKET socket on it plays the far end (root only; skipped otherwise).
 */
#ifdef GUEST
#include "guest.h"

#define ETH_TEST 0x88b5
#define ETH_ECHO 0x88b6
#define TX_PAGE 0x40
#define RX_START 0x46
#define RX_STOP 0x80
#define NFRAMES 8
#define POLL_LIMIT 400000 /* ISR polls (each a port exit) before giving up on a frame */

static uint16_t io;
static uint8_t mac[6];
static uint8_t next_pkt;
static uint8_t frame[1600], rxbuf[1600];

/* ---- PCI configuration mechanism #1 ---- */
static uint32_t pci_cfg_read(unsigned slot, unsigned off)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	return inl(0xcfc);
}

static void pci_cfg_write(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xcf8, 0x80000000u | slot << 11 | (off & 0xfc));
	outl(0xcfc, v);
}

static bool ne_find(void)
{
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t bar;

		if (pci_cfg_read(slot, 0x00) != 0x802910ecu)
			continue;
		GUEST_ASSERT_EQ(pci_cfg_read(slot, 0x08) >> 8, 0x020000);
		bar = pci_cfg_read(slot, 0x10);
		GUEST_ASSERT(bar & 1); /* I/O BAR */
		if ((bar & ~3u) == 0) {
			/* No firmware placed it: do it ourselves, as a BIOS would. */
			pci_cfg_write(slot, 0x10, 0xc100);
			bar = pci_cfg_read(slot, 0x10);
		}
		pci_cfg_write(slot, 0x04, pci_cfg_read(slot, 0x04) | 0x1); /* I/O decode */
		io = (uint16_t)(bar & ~3u);
		GUEST_PRINTF("ne2k: RTL8029 at slot %u, I/O 0x%x", slot, io);
		return true;
	}
	return false;
}

/* ---- registers ---- */
static void w(unsigned reg, uint8_t v)
{
	outb((uint16_t)(io + reg), v);
}

static uint8_t r(unsigned reg)
{
	return inb((uint16_t)(io + reg));
}

static void rdma_setup(uint16_t addr, uint16_t count, uint8_t cmd)
{
	w(0x00, 0x22); /* page 0, abort DMA, start */
	w(0x07, 0x40); /* ack RDC */
	w(0x0a, (uint8_t)count);
	w(0x0b, (uint8_t)(count >> 8));
	w(0x08, (uint8_t)addr);
	w(0x09, (uint8_t)(addr >> 8));
	w(0x00, (uint8_t)(cmd | 0x02));
}

static void rdma_wait(void)
{
	for (unsigned i = 0; i < POLL_LIMIT; i++)
		if (r(0x07) & 0x40) {
			w(0x07, 0x40);
			return;
		}
	GUEST_FAIL("remote DMA never completed (ISR.RDC)");
}

/* Word-mode block moves; @count is rounded up to whole words, the buffers are big enough. */
static void block_in(uint16_t addr, void *buf, uint16_t count)
{
	rdma_setup(addr, count, 0x08);
	insw((uint16_t)(io + 0x10), buf, (count + 1u) / 2);
	rdma_wait();
}

static void block_out(uint16_t addr, const void *buf, uint16_t count)
{
	rdma_setup(addr, count, 0x10);
	outsw((uint16_t)(io + 0x10), buf, (count + 1u) / 2);
	rdma_wait();
}

static void ne_init(uint8_t tcr)
{
	uint8_t prom[32];

	/* Reset port: read, write back; then RST must show. */
	outb((uint16_t)(io + 0x1f), inb((uint16_t)(io + 0x1f)));
	GUEST_ASSERT(r(0x07) & 0x80);
	GUEST_ASSERT_EQ(r(0x0a), 0x50); /* RTL8029 ID bytes */
	GUEST_ASSERT_EQ(r(0x0b), 0x43);

	w(0x00, 0x21); /* page 0, stop */
	w(0x0e, 0x49); /* word-wide, normal, FIFO 8 bytes */
	w(0x0a, 0);
	w(0x0b, 0);
	w(0x0f, 0); /* polled: no interrupts */
	w(0x07, 0xff);
	/* PROM with byte reads in word mode, as Linux's ne2k-pci does: the MAC comes out in order.
	 */
	rdma_setup(0, 32, 0x08);
	for (int i = 0; i < 16; i++)
		prom[i] = inb((uint16_t)(io + 0x10));
	rdma_wait();
	memcpy(mac, prom, 6);
	GUEST_ASSERT_EQ(prom[14], 0x57);

	w(0x00, 0x21);
	w(0x0c, 0x04); /* RCR: broadcast + our address */
	w(0x0d, 0x02); /* loopback while setting up */
	w(0x04, TX_PAGE);
	w(0x01, RX_START);
	w(0x03, RX_START);
	w(0x02, RX_STOP);
	w(0x00, 0x61); /* page 1 */
	for (int i = 0; i < 6; i++)
		w(0x01 + i, mac[i]);
	for (int i = 0; i < 8; i++)
		w(0x08 + i, 0);
	w(0x07, RX_START + 1);
	next_pkt = RX_START + 1;
	w(0x00, 0x22); /* page 0, start */
	w(0x07, 0xff);
	w(0x0d, tcr);
}

static void ne_send(const void *f, uint16_t len)
{
	block_out(TX_PAGE << 8, f, len);
	w(0x04, TX_PAGE);
	w(0x05, (uint8_t)len);
	w(0x06, (uint8_t)(len >> 8));
	w(0x00, 0x26); /* transmit */
	for (unsigned i = 0; i < POLL_LIMIT; i++) {
		uint8_t isr = r(0x07);

		if (isr & 0x0a) {
			w(0x07, 0x0a);
			GUEST_ASSERT(isr & 0x02); /* PTX, not TXE */
			return;
		}
	}
	GUEST_FAIL("transmit never completed");
}

/* Next frame from the ring (Linux ei_receive's walk), or -1 after the poll limit. */
static int ne_recv(void *buf)
{
	uint8_t hdr[4];
	unsigned len;

	for (unsigned i = 0; i < POLL_LIMIT; i++) {
		w(0x00, 0x62);
		uint8_t curr = r(0x07);

		w(0x00, 0x22);
		if (curr != next_pkt)
			break;
		if (i + 1 == POLL_LIMIT)
			return -1;
	}
	w(0x07, 0x01); /* ack PRX */
	block_in((uint16_t)(next_pkt << 8), hdr, 4);
	len = (unsigned)(hdr[2] | hdr[3] << 8);
	GUEST_ASSERT(hdr[0] & 0x01);
	GUEST_ASSERT(len >= 64 && len <= 1518 + 4);
	GUEST_ASSERT(hdr[1] >= RX_START && hdr[1] < RX_STOP);
	len -= 4;
	block_in((uint16_t)((next_pkt << 8) + 4), buf, (uint16_t)len);
	next_pkt = hdr[1];
	w(0x03, (uint8_t)(next_pkt == RX_START ? RX_STOP - 1 : next_pkt - 1));
	return (int)len;
}

static uint16_t make(const uint8_t *dst, uint16_t type, uint16_t len, uint8_t seq)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, mac, 6);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
	frame[14] = seq;
	for (unsigned i = 15; i < len; i++)
		frame[i] = (uint8_t)(seq * 3 + i);
	return len;
}

static void mode_loop(void)
{
	ne_init(0x02);
	for (uint8_t seq = 0; seq < NFRAMES; seq++) {
		uint16_t len = make(mac, ETH_TEST, (uint16_t)(60 + seq * 97), seq);
		int n;

		ne_send(frame, len);
		n = ne_recv(rxbuf);
		GUEST_ASSERT_EQ(n, len);
		GUEST_ASSERT(memcmp(rxbuf, frame, len) == 0);
	}
	GUEST_PRINTF("ne2k: loopback ok, %d frames", NFRAMES);
}

static void mode_echo(void)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	ne_init(0x00);
	serial_printf("ne2k: ready %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3],
		      mac[4], mac[5]);
	while (serial_getc() != 'g')
		;
	for (uint8_t seq = 0; seq < NFRAMES; seq++) {
		uint16_t len = make(bcast, ETH_TEST, (uint16_t)(42 + seq * 151), seq);
		int n;

		ne_send(frame, len);
		/* Skip whatever else the wire brings (the host's own broadcasts). */
		for (;;) {
			n = ne_recv(rxbuf);
			GUEST_ASSERT(n > 0);
			if (rxbuf[12] == (ETH_ECHO >> 8) && rxbuf[13] == (ETH_ECHO & 0xff))
				break;
		}
		GUEST_ASSERT(memcmp(rxbuf, mac, 6) == 0);
		GUEST_ASSERT_EQ(rxbuf[14], seq);
		GUEST_ASSERT_EQ(n, len < 60 ? 60 : len);
		GUEST_ASSERT(memcmp(rxbuf + 15, frame + 15, (size_t)len - 15) == 0);
	}
	GUEST_PRINTF("ne2k: echo ok, %d frames", NFRAMES);
}

static void user_part(void)
{
	const char *a = guest_boot_info->args;

	GUEST_ASSERT(ne_find());
	if (!strcmp(a, "echo"))
		mode_echo();
	else
		mode_loop();
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
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAC "52:54:00:12:34:56"

static bool vmm_has_ne2k(const char *vmm)
{
	char cmd[512], buf[8192];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "'%s' --help 2>&1", vmm);
	f = popen(cmd, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	pclose(f);
	return strstr(buf, "ne2k-pci") != NULL;
}

static void check_loop(const char *vmm, const char *guest)
{
	const char *args[] = {"--nic", "ne2k-pci,mac=" MAC, "--guest-args", "loop", NULL};
	struct vmm_proc p;
	int st = vmm_run(&p, vmm, guest, args, 240);

	HOST_ASSERT(&p, st == 0, "loop: exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "ne2k: loopback ok"), "loopback report missing");
	printf("ne2k loop: ok\n");
	vmm_cleanup(&p);
}

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

/* The far end: every 0x88b5 frame from the guest comes back to it as 0x88b6. */
static void check_echo_tap(const char *vmm, const char *guest)
{
	char nic[128], ifname[IFNAMSIZ];
	const char *args[] = {"--nic", nic, "--guest-args", "echo", NULL};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(0x88b5)};
	struct vmm_proc p;
	unsigned echoed = 0;
	int fd, st;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("ne2k echo: skipped (needs root and /dev/net/tun)\n");
		return;
	}
	snprintf(ifname, sizeof(ifname), "nfvne%d", (int)getpid() % 100000);
	snprintf(nic, sizeof(nic), "ne2k-pci,mac=" MAC ",tap=%s", ifname);
	vmm_start(&p, vmm, guest, args);
	HOST_ASSERT(&p, vmm_wait_for(&p, "ne2k: ready 52:54:00:12:34:56", 120),
		    "guest never got ready");
	HOST_ASSERT(&p, if_up(ifname) == 0, "cannot bring %s up", ifname);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
	HOST_ASSERT(&p, fd >= 0, "AF_PACKET socket: %s", strerror(errno));
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	HOST_ASSERT(&p, bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == 0, "bind: %s",
		    strerror(errno));
	vmm_send(&p, "g");
	while (echoed < 8) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		uint8_t buf[2048];
		ssize_t n;

		if (poll(&pf, 1, 60000) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 14 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		memcpy(buf, buf + 6, 6); /* back to the sender */
		memcpy(buf + 6, "\x02\x00\x00\x00\x00\x01", 6);
		buf[13] = 0xb6;
		sll.sll_halen = 6;
		memcpy(sll.sll_addr, buf, 6);
		HOST_ASSERT(&p,
			    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&sll, sizeof(sll)) ==
				    n,
			    "sendto: %s", strerror(errno));
		echoed++;
	}
	close(fd);
	st = vmm_wait(&p, 120);
	HOST_ASSERT(&p, st == 0, "echo: exit status %d after %u echoes", st, echoed);
	HOST_ASSERT(&p, vmm_output_has(&p, "ne2k: echo ok"), "echo report missing");
	printf("ne2k echo over tap: ok\n");
	vmm_cleanup(&p);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	if (!vmm_has_ne2k(argv[1]))
		host_skip("nfv-vmm has no '--nic ne2k-pci,...' option yet");
	check_loop(argv[1], argv[2]);
	check_echo_tap(argv[1], argv[2]);
	return 0;
}
#endif
