// SPDX-License-Identifier: GPL-2.0-only
/*
 * ne2k-pci: the guest NE2000 driver (lib/ne2k_drv.c) against nfv-vmm's RTL8029 model, with the
 * chip in internal loopback (TCR LB=01) so no peer is needed: PCI probe, reset, PROM MAC, frames
 * of odd and even sizes through the transmit buffer and the receive ring in both receive modes
 * (Remote Read and Send Packet), ring wrap-around, truncation, and a buffer ring overflow that the
 * driver recovers from with the frames stored before it intact.
 *
 * Host half: nfv-vmm --device ne2k-pci,mac=52:54:00:12:34:56,backend=tap:IFNAME (root, for the
 * tap; skipped otherwise); the guest checks the MAC it reads from the PROM against --guest-args.
 */
#ifdef GUEST
#include "guest.h"
#include "ne2k_drv.h"

#define ETH_TEST 0x88b5

static struct ne2k nic;
static uint8_t frame[1600], rxbuf[1600];

static uint16_t make(uint16_t len, uint16_t seq)
{
	memcpy(frame, nic.mac, 6);
	memcpy(frame + 6, nic.mac, 6);
	frame[12] = ETH_TEST >> 8;
	frame[13] = ETH_TEST & 0xff;
	frame[14] = (uint8_t)seq;
	frame[15] = (uint8_t)(seq >> 8);
	for (unsigned i = 16; i < len; i++)
		frame[i] = (uint8_t)(seq * 7 + i);
	return len;
}

static void send_ok(uint16_t len)
{
	int ret = ne2k_send(&nic, frame, len);

	GUEST_ASSERT_EQ(ret, 0);
}

/* The frame as the receiver must show it: padded with zeros to 60 bytes. */
static void expect(int n, uint16_t len)
{
	uint16_t want = len < NE2K_MIN_FRAME ? NE2K_MIN_FRAME : len;

	GUEST_ASSERT_EQ(n, want);
	GUEST_ASSERT(memcmp(rxbuf, frame, len) == 0);
	for (uint16_t i = len; i < want; i++)
		GUEST_ASSERT_EQ(rxbuf[i], 0);
}

static void round_trips(enum ne2k_rx_mode mode, const char *name)
{
	struct ne2k_cfg cfg = {.rx_mode = mode, .loopback = true};
	uint64_t io0;
	int n;

	GUEST_ASSERT_EQ(ne2k_init(&nic, &cfg), 0);
	/* Sizes around the minimum, odd ones, the maximum; 40 frames wrap the ring often. */
	for (uint16_t seq = 0; seq < 40; seq++) {
		uint16_t len = (uint16_t)(14 + (seq * 389u) % (NE2K_MAX_FRAME - 13));

		if (seq == 1)
			len = NE2K_MAX_FRAME;
		if (seq == 2)
			len = 61;
		make(len, seq);
		send_ok(len);
		n = ne2k_recv_wait(&nic, rxbuf, sizeof(rxbuf));
		expect(n, len);
	}
	GUEST_ASSERT_EQ(ne2k_recv(&nic, rxbuf, sizeof(rxbuf)), -NE2K_EAGAIN);

	/* Truncation: the caller's buffer is smaller than the frame; the next frame is intact. */
	make(300, 1000);
	send_ok(300);
	n = ne2k_recv_wait(&nic, rxbuf, 100);
	GUEST_ASSERT_EQ(n, 100);
	GUEST_ASSERT_EQ(nic.st.rx_truncated, 1);
	make(200, 1001);
	send_ok(200);
	expect(ne2k_recv_wait(&nic, rxbuf, sizeof(rxbuf)), 200);

	/* Register accesses for one 1000-byte frame out and back in (each one a VM exit). */
	io0 = nic.st.io_accesses;
	make(1000, 1002);
	send_ok(1000);
	GUEST_ASSERT_EQ(ne2k_recv_wait(&nic, rxbuf, sizeof(rxbuf)), 1000);
	GUEST_PRINTF("ne2k: %s: 44 frames ok, %u port accesses per send+receive", name,
		     (unsigned)(nic.st.io_accesses - io0));
}

/*
 * Fill the ring without taking frames until a frame finds no room and OVW is set (s7.0); the
 * frames stored before it must come out intact, then reception resumes. 58 ring pages hold nine
 * 6-page frames either way; 2-page frames fill 56 pages with BNRY one page behind (Remote Read)
 * but all 58 with Send Packet, where the full ring then looks empty until OVW tells otherwise.
 */
static void overflow(enum ne2k_rx_mode mode, uint16_t len, unsigned want)
{
	struct ne2k_cfg cfg = {.rx_mode = mode, .loopback = true};
	unsigned got = 0;

	GUEST_ASSERT_EQ(ne2k_init(&nic, &cfg), 0);
	for (uint16_t seq = 0; seq < want + 3; seq++) {
		make(len, seq);
		send_ok(len);
	}
	GUEST_ASSERT(ne2k_isr(&nic) & 0x10); /* OVW */
	for (;;) {
		int n = ne2k_recv(&nic, rxbuf, sizeof(rxbuf));

		if (n == -NE2K_EAGAIN)
			break;
		make(len, (uint16_t)got);
		expect(n, len);
		got++;
	}
	GUEST_ASSERT_EQ(got, want);
	GUEST_ASSERT_EQ(nic.st.rx_overflows, 1);
	make(100, 77);
	send_ok(100);
	expect(ne2k_recv_wait(&nic, rxbuf, sizeof(rxbuf)), 100);
	GUEST_PRINTF("ne2k: overflow with %u-byte frames ok, %u frames kept", len, got);
}

static void user_part(void)
{
	const char *want = strstr(guest_boot_info->args, "mac=");
	char mac[18];

	GUEST_ASSERT_EQ(ne2k_probe(&nic, 0), 0);
	GUEST_PRINTF("ne2k: RTL8029 at 00:%02x.0, I/O 0x%x", nic.slot, nic.io);
	GUEST_ASSERT_EQ(ne2k_init(&nic, NULL), 0);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic.mac[0], nic.mac[1],
		 nic.mac[2], nic.mac[3], nic.mac[4], nic.mac[5]);
	GUEST_PRINTF("ne2k: PROM MAC %s", mac);
	GUEST_ASSERT(want && !strncmp(want + 4, mac, 17));
	/* Receive before anything was sent: nothing there. */
	GUEST_ASSERT_EQ(ne2k_recv(&nic, rxbuf, sizeof(rxbuf)), -NE2K_EAGAIN);

	round_trips(NE2K_RX_REMOTE_READ, "remote read");
	round_trips(NE2K_RX_SEND_PACKET, "send packet");
	overflow(NE2K_RX_REMOTE_READ, NE2K_MAX_FRAME, 9);
	overflow(NE2K_RX_SEND_PACKET, NE2K_MAX_FRAME, 9);
	overflow(NE2K_RX_REMOTE_READ, 300, 28);
	overflow(NE2K_RX_SEND_PACKET, 300, 29);
	GUEST_PRINTF("ne2k: loopback ok");
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#else
#include <stdio.h>
#include <unistd.h>

#include "harness.h"

#define MAC "52:54:00:12:34:56"

int main(int argc, char **argv)
{
	char dev[128];
	const char *args[] = {"--device", dev, "--guest-args", "mac=" MAC, NULL};
	struct vmm_proc p;
	int st;

	if (argc < 3)
		return 2;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0)
		host_skip("needs root and /dev/net/tun for the NE2000's tap backend");
	snprintf(dev, sizeof(dev), "ne2k-pci,mac=" MAC ",backend=tap:nfvlo%d",
		 (int)getpid() % 100000);
	st = vmm_run(&p, argv[1], argv[2], args, 240);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "ne2k: loopback ok"), "loopback report missing");
	printf("%s", p.err ? p.err : "");
	vmm_cleanup(&p);
	return 0;
}
#endif
