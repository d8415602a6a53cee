// SPDX-License-Identifier: GPL-2.0-only
/*
 * Traffic guest for virtio-net tests, the demo and the vnet-pps benchmark. It drives the first
 * virtio-net function with the polled driver (lib/virtio_net_drv.h) at CPL3 and plays one role,
 * chosen by --guest-args "role=R [peer=MAC] [count=N] [size=B] [verbose=1] [auto=R] [frames=N]
 * [match=any] [idle=1 [idlespin=L] [tick=0]]":
 *
 *   ping    waits for the link, prints "ready", then per 'g' on the serial line runs a round: sends
 *           count unicast test frames to peer and one broadcast, collects answers (test frames
 *           addressed to us; with match=any, any test frame of the round, e.g. our own looped back)
 *           until all came back or 'x' arrives, prints "round R sent S got G".
 *           'q' prints "ping done tx=T rx=R" and ends the VM. auto=R runs R rounds by itself (each
 *           ending after all answers or about 2^30 TSC cycles) and then ends.
 *   echo    answers every test request addressed to it (or broadcast) with a reply to the sender;
 *           'q' (or, with frames=N, N answers sent) prints "echo done rx=R tx=T sleeps=S
 *           irqs=A/B/C" (interrupts on IDT vectors 0x40 receive, 0x41 transmit, 0x42 timer), ends.
 *   stream  after 'g', sends one frame to peer about every 2^21 TSC cycles while the link is up
 *           and counts answers; prints "link down" / "link up N" when the device config status
 *           changes and "flowing N" once 16 answers arrived since the N-th link up. 'q' ends.
 *   gen     after 'g', sends size-byte frames to peer as fast as the ring allows (bursts of 32).
 *   sink    counts what arrives.
 *           gen and sink print "count tx=T rx=R kicks=K skipped=S loops=.. full=.. sleeps=..
 *           irqs=A/B/C tsc=.." on 'r' (K notifications written, S suppressed by the device) and
 *           end on 'q'.
 *
 * verbose=1 prints every frame sent and received (the demo). idle=1 (gen, sink, echo) halts the
 * vCPU instead of spinning when the transmit ring is full or nothing arrives, woken by the queue's
 * MSI-X interrupt (see idle_setup); a receiver halts after 2^L TSC cycles without frames (L = 15).
 * The serial line is polled only every 2^22 TSC cycles or so, since each poll is a port I/O exit.
 */
#include "guest.h"
#include "virtio_net_drv.h"

#define ETH_TEST 0x88b5 /* IEEE 802 local experimental ethertype */
#define T_REQ 1
#define T_REPLY 2
#define POLL_CYCLES (1ull << 22)

/* Test frame: Ethernet header, then this. */
struct test_hdr {
	char magic[4]; /* "NFVT" */
	uint8_t type;
	uint8_t pad;
	uint16_t round;
	uint32_t seq;
} __attribute__((packed));

static struct vnet net __attribute__((aligned(4096)));
static uint8_t peer[6];
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static unsigned count = 32, size = 64;
static bool verbose, match_any;
static uint64_t answers, next_poll;
static uint16_t cur_round;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Sleeping instead of spinning (idle=1; the benchmark, where two guests and a backend share two
 * CPUs). CPL3 cannot halt, so the guest executes HLT anyway: the #GP it raises lands in
 * vnet_gp_entry at CPL0, which, if this guest armed a wait, re-checks the watched used index with
 * interrupts still off and only then does STI; HLT, so a completion between the CPL3 check and
 * the halt cannot be missed. The MSI-X interrupt of the queue (or a 10 ms LAPIC timer tick, so
 * the serial line keeps being served) ends the halt, and it returns past the HLT. Other #GPs go
 * to the library's handler.
 */
static volatile uint16_t *volatile idle_watch __attribute__((used));
static volatile uint16_t idle_val __attribute__((used));
static bool idle_mode;
static uint64_t sleeps, idle_spin = 1u << 15; /* TSC cycles without frames before halting */

void vnet_gp_entry(void);
__asm__(".text\n"
	".globl vnet_gp_entry\n"
	"vnet_gp_entry:\n\t"
	"pushq %rax\n\t"
	"pushq %rdx\n\t"
	"testb $3, 32(%rsp)\n\t" /* frame: rdx rax error rip cs rflags rsp ss */
	"jz 1f\n\t"
	"movq 24(%rsp), %rax\n\t"
	"cmpb $0xf4, (%rax)\n\t"
	"jne 1f\n\t"
	"movq idle_watch(%rip), %rdx\n\t"
	"testq %rdx, %rdx\n\t"
	"jz 1f\n\t"
	"incq 24(%rsp)\n\t"
	"movzwl (%rdx), %eax\n\t"
	"cmpw idle_val(%rip), %ax\n\t"
	"jne 2f\n\t"
	"sti\n\t"
	"hlt\n\t"
	"cli\n"
	"2:\tpopq %rdx\n\t"
	"popq %rax\n\t"
	"addq $8, %rsp\n\t"
	"iretq\n"
	"1:\tpopq %rdx\n\t"
	"popq %rax\n\t"
	"jmp guest_exc_13\n");

/* At CPL0: route #GP to vnet_gp_entry, enable the LAPIC and (@tick) start a periodic 10 ms timer
 * tick. Without the tick only the queues' interrupts end a halt: the serial line goes unserved
 * while idle (echo with frames=N ends on its own). */
static void idle_setup(bool tick)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;
	volatile uint16_t *e;
	uint64_t h = (uint64_t)vnet_gp_entry;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	e = (volatile uint16_t *)(idtr.base + 13 * 16); /* 64-bit gate: offset 15:0, 31:16, 63:32 */
	e[0] = (uint16_t)h;
	e[3] = (uint16_t)(h >> 16);
	*(volatile uint32_t *)(e + 4) = (uint32_t)(h >> 32);
	guest_lapic_enable();
	if (!tick)
		return;
	mmio_write32(GUEST_LAPIC_BASE + 0x3E0, 0xB);				   /* divide by 1 */
	mmio_write32(GUEST_LAPIC_BASE + 0x320, (1u << 17) | (GUEST_IRQ_BASE + 2)); /* periodic */
	mmio_write32(GUEST_LAPIC_BASE + 0x380, 10000000); /* 10 ms at 1 GHz */
}

/* Halt until *@idx moves away from @seen (or any interrupt). */
static void idle_sleep(volatile uint16_t *idx, uint16_t seen)
{
	idle_val = seen;
	idle_watch = idx;
	__asm__ volatile("hlt" ::: "memory");
	idle_watch = NULL;
	sleeps++;
}

/* idle=1: after ~15 us without frames, halt until the receive interrupt (or the timer tick). */
static void rx_idle(bool got, uint64_t *since)
{
	if (!idle_mode)
		return;
	if (got) {
		*since = 0;
	} else if (!*since) {
		*since = rdtsc();
	} else if (rdtsc() - *since > idle_spin) {
		if (vnet_rx_arm(&net))
			idle_sleep(&net.rxq.used->idx, net.rxq.used_seen);
		vnet_rx_disarm(&net);
		*since = 0;
	}
}

/* A byte from the host, or 0; at most every POLL_CYCLES unless @now. */
static char serial_poll(bool now)
{
	uint64_t t = rdtsc();

	if (!now && t < next_poll)
		return 0;
	next_poll = t + POLL_CYCLES;
	return (inb(0x3F8 + 5) & 1) ? (char)inb(0x3F8) : 0;
}

/* The value of "key=value" in the guest args, copied to @val (64 bytes), or NULL. */
static const char *arg(const char *key, char *val)
{
	const char *a = guest_boot_info->args;
	size_t kl = strlen(key);

	for (const char *s = a; (s = strstr(s, key)); s += kl) {
		size_t n = 0;

		if ((s != a && s[-1] != ' ') || s[kl] != '=')
			continue;
		s += kl + 1;
		while (s[n] && s[n] != ' ' && n + 1 < 64) {
			val[n] = s[n];
			n++;
		}
		val[n] = '\0';
		return val;
	}
	return NULL;
}

static unsigned arg_uint(const char *key, unsigned def)
{
	char buf[64];
	const char *v = arg(key, buf);
	unsigned n = 0;

	if (!v || !*v)
		return def;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (unsigned)(*v - '0');
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int h = hexval(s[3 * i]), l = hexval(s[3 * i + 1]);

		if (h < 0 || l < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(h << 4 | l);
	}
	return true;
}

static void fmt_mac(char *buf, const uint8_t m[6])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Build a test frame in the next transmit buffer; false when none is free. */
static bool send_test(const uint8_t dst[6], uint8_t type, uint32_t seq, unsigned len)
{
	uint8_t *b = vnet_tx_buf(&net);
	struct test_hdr *h;

	if (!b)
		return false;
	memcpy(b, dst, 6);
	memcpy(b + 6, net.mac, 6);
	b[12] = ETH_TEST >> 8;
	b[13] = ETH_TEST & 0xff;
	h = (struct test_hdr *)(b + 14);
	memcpy(h->magic, "NFVT", 4);
	h->type = type;
	h->pad = 0;
	h->round = cur_round;
	h->seq = seq;
	vnet_tx_commit(&net, len);
	if (verbose) {
		char m[18];

		fmt_mac(m, dst);
		GUEST_PRINTF("tx %s %u bytes to %s seq %u", type == T_REQ ? "request" : "reply",
			     len, m, seq);
	}
	return true;
}

static const struct test_hdr *test_frame(const uint8_t *f, uint32_t len)
{
	const struct test_hdr *h = (const struct test_hdr *)(f + 14);

	if (len < 14 + sizeof(*h) || f[12] != (ETH_TEST >> 8) || f[13] != (ETH_TEST & 0xff) ||
	    memcmp(h->magic, "NFVT", 4))
		return NULL;
	return h;
}

static void log_rx(const uint8_t *f, uint32_t len, const struct test_hdr *h)
{
	char m[18];

	if (!verbose)
		return;
	fmt_mac(m, f + 6);
	GUEST_PRINTF("rx %s %u bytes from %s seq %u", h && h->type == T_REPLY ? "reply" : "request",
		     len, m, h ? h->seq : 0);
}

/* ping and stream: an answer is a test frame addressed to us (an echo's reply or a macswap). */
static void on_answer(void *opaque, const uint8_t *f, uint32_t len)
{
	const struct test_hdr *h = test_frame(f, len);

	(void)opaque;
	if (!h || (!match_any && memcmp(f, net.mac, 6)))
		return;
	log_rx(f, len, h);
	if (h->round == cur_round)
		answers++;
}

static void wait_link(void)
{
	while (!vnet_link_up(&net)) {
		for (uint64_t t = rdtsc() + POLL_CYCLES; rdtsc() < t;)
			cpu_relax();
	}
}

static void ready(void)
{
	char m[18];

	fmt_mac(m, net.mac);
	GUEST_PRINTF("ready mac %s link %s", m, vnet_link_up(&net) ? "up" : "down");
}

/*
 * Interactive rounds ('g' per round, 'x' ends one early, 'q' quits), or with auto=R, R rounds on
 * their own, each ending when all answers came or after about 2^30 TSC cycles.
 */
static void role_ping(unsigned autorounds)
{
	wait_link();
	ready();
	for (;;) {
		char c = autorounds ? (cur_round < autorounds ? 'g' : 'q') : serial_getc();
		uint64_t deadline = rdtsc() + (1ull << 30);
		unsigned sent = 0;

		if (c == 'q')
			break;
		if (c != 'g')
			continue;
		wait_link(); /* the backend may have been replaced since the last round */
		cur_round++;
		answers = 0;
		for (unsigned i = 0; i <= count; i++) {
			/* the last frame of a round is the broadcast */
			while (!send_test(i < count ? peer : bcast, T_REQ, i, size))
				vnet_flush(&net);
			sent++;
		}
		vnet_flush(&net);
		while (answers < sent) {
			vnet_rx_burst(&net, 32, on_answer, NULL);
			vnet_tx_reclaim(&net);
			if (autorounds ? rdtsc() > deadline : serial_poll(false) == 'x')
				break;
		}
		GUEST_PRINTF("round %u sent %u got %lu", cur_round, sent, (unsigned long)answers);
	}
	GUEST_PRINTF("ping done tx=%lu rx=%lu", (unsigned long)net.st.tx_frames,
		     (unsigned long)net.st.rx_frames);
	GUEST_DONE();
}

static void on_request(void *opaque, const uint8_t *f, uint32_t len)
{
	const struct test_hdr *h = test_frame(f, len);
	uint8_t *b;

	(void)opaque;
	if (!h || h->type != T_REQ || (memcmp(f, net.mac, 6) && memcmp(f, bcast, 6)))
		return;
	log_rx(f, len, h);
	b = vnet_tx_buf(&net);
	if (!b)
		return; /* counted by nobody: the ring is 256 deep and we flush every burst */
	memcpy(b, f, len);
	memcpy(b, f + 6, 6);
	memcpy(b + 6, net.mac, 6);
	((struct test_hdr *)(b + 14))->type = T_REPLY;
	vnet_tx_commit(&net, len);
	if (verbose) {
		char m[18];

		fmt_mac(m, f + 6);
		GUEST_PRINTF("tx reply %u bytes to %s seq %u", len, m, h->seq);
	}
}

/* Until 'q', or with frames=N until N answers went out. */
static void role_echo(unsigned frames)
{
	uint64_t since = 0;

	ready();
	for (;;) {
		unsigned got = vnet_rx_burst(&net, 32, on_request, NULL);

		if (got)
			vnet_flush(&net);
		rx_idle(got, &since);
		vnet_tx_reclaim(&net);
		if (frames && net.st.tx_frames >= frames)
			break;
		if (serial_poll(false) == 'q')
			break;
	}
	/* Let the backend take the last answers before the VM (and with it the rings) goes away. */
	for (uint64_t end = rdtsc() + (1ull << 30); net.tx_nfree < net.txq.size && rdtsc() < end;)
		vnet_tx_reclaim(&net);
	GUEST_PRINTF("echo done rx=%lu tx=%lu sleeps=%lu irqs=%u/%u/%u",
		     (unsigned long)net.st.rx_frames, (unsigned long)net.st.tx_frames,
		     (unsigned long)sleeps, guest_irq_count[0], guest_irq_count[1],
		     guest_irq_count[2]);
	GUEST_DONE();
}

static void role_stream(void)
{
	unsigned ups = 1;
	uint64_t since_up = 0, next_send = 0, next_link = 0, t;
	bool up = true, flowing = false;

	wait_link();
	ready();
	while (serial_getc() != 'g')
		;
	cur_round = 1;
	for (;;) {
		char c = serial_poll(false);

		if (c == 'q')
			break;
		t = rdtsc();
		if (t >= next_link) {
			/* two config-space exits: a few times per poll period only */
			bool now = vnet_link_up(&net);

			next_link = t + POLL_CYCLES / 4;
			if (now != up) {
				up = now;
				if (up) {
					ups++;
					since_up = answers;
					flowing = false;
					GUEST_PRINTF("link up %u", ups);
				} else {
					GUEST_PRINTF("link down (sent %lu answers %lu)",
						     (unsigned long)net.st.tx_frames,
						     (unsigned long)answers);
				}
			}
			if (vnet_dev_status(&net) & VIRTIO_STATUS_NEEDS_RESET)
				GUEST_FAIL("device needs reset");
		}
		if (up && t >= next_send) {
			next_send = t + (POLL_CYCLES >> 1);
			if (send_test(peer, T_REQ, (uint32_t)net.st.tx_frames, size))
				vnet_flush(&net);
		}
		vnet_rx_burst(&net, 32, on_answer, NULL);
		vnet_tx_reclaim(&net);
		if (!flowing && up && answers - since_up >= 16) {
			flowing = true;
			GUEST_PRINTF("flowing %u", ups);
		}
	}
	GUEST_PRINTF("stream done tx=%lu rx=%lu", (unsigned long)net.st.tx_frames,
		     (unsigned long)answers);
	GUEST_DONE();
}

static void count_rx(void *opaque, const uint8_t *f, uint32_t len)
{
	(void)opaque, (void)f, (void)len;
}

static uint64_t loops, ring_full;

static void report(void)
{
	GUEST_PRINTF("count tx=%lu rx=%lu kicks=%lu skipped=%lu loops=%lu full=%lu sleeps=%lu "
		     "irqs=%u/%u/%u tsc=%lu",
		     (unsigned long)net.st.tx_frames, (unsigned long)net.st.rx_frames,
		     (unsigned long)(net.txq.kicks + net.rxq.kicks),
		     (unsigned long)(net.txq.kicks_skipped + net.rxq.kicks_skipped),
		     (unsigned long)loops, (unsigned long)ring_full, (unsigned long)sleeps,
		     guest_irq_count[0], guest_irq_count[1], guest_irq_count[2],
		     (unsigned long)rdtsc());
}

static void role_gen(void)
{
	uint8_t *b;

	ready();
	while (serial_getc() != 'g')
		;
	cur_round = 1;
	for (;;) {
		char c;

		loops++;
		if (!vnet_tx_buf(&net)) {
			ring_full++;
			if (idle_mode) {
				if (vnet_tx_arm(&net))
					idle_sleep(&net.txq.used->idx, net.txq.used_seen);
				vnet_tx_disarm(&net);
			}
		}
		for (unsigned i = 0; i < 32 && (b = vnet_tx_buf(&net)); i++) {
			/* header written once per buffer would be enough; keep the frame honest */
			memcpy(b, peer, 6);
			memcpy(b + 6, net.mac, 6);
			b[12] = ETH_TEST >> 8;
			b[13] = ETH_TEST & 0xff;
			vnet_tx_commit(&net, size);
		}
		vnet_flush(&net);
		vnet_rx_burst(&net, 32, count_rx, NULL);
		c = serial_poll(false);
		if (c == 'r')
			report();
		else if (c == 'q')
			break;
	}
	report();
	GUEST_DONE();
}

static void role_sink(void)
{
	uint64_t since = 0;

	ready();
	for (;;) {
		char c;

		loops++;
		rx_idle(vnet_rx_burst(&net, 64, count_rx, NULL) != 0, &since);
		c = serial_poll(false);
		if (c == 'r')
			report();
		else if (c == 'q')
			break;
	}
	report();
	GUEST_DONE();
}

static void user_main(void)
{
	char rbuf[64], pbuf[64], mbuf[64];
	const char *role = arg("role", rbuf), *p = arg("peer", pbuf);
	int ret;

	count = arg_uint("count", 32);
	size = arg_uint("size", 64);
	verbose = arg_uint("verbose", 0) != 0;
	match_any = arg("match", mbuf) && !strcmp(mbuf, "any");
	if (size < 60)
		size = 60;
	if (size > 1514)
		size = 1514; /* without the FCS, which virtio-net does not carry */
	if (count > 200)
		count = 200;
	if (p && !parse_mac(p, peer))
		GUEST_FAIL("peer=MAC is not a MAC address");
	ret = vnet_init(&net, 0,
			(arg_uint("mrg", 0) ? VNET_OPT_MRG_RXBUF : 0) |
				(idle_mode ? VNET_OPT_IRQ : 0) |
				(arg_uint("packed", 0) ? VNET_OPT_PACKED : 0));
	if (ret)
		GUEST_ASSERT_EQ(ret, 0);
	GUEST_PRINTF("virtio-net at 00:%02x.0: features %lx, queues %u/%u entries, notify mult %u",
		     net.pci.slot, (unsigned long)net.pci.features, net.rxq.size, net.txq.size,
		     net.pci.notify_mult);
	if (!role || !strcmp(role, "ping"))
		role_ping(arg_uint("auto", 0));
	else if (!strcmp(role, "echo"))
		role_echo(arg_uint("frames", 0));
	else if (!strcmp(role, "stream"))
		role_stream();
	else if (!strcmp(role, "gen"))
		role_gen();
	else if (!strcmp(role, "sink"))
		role_sink();
	GUEST_FAIL("unknown role= (ping, echo, stream, gen, sink)");
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	char v[64];

	(void)bi;
	if (vcpu != 0 || nr != 1)
		GUEST_DONE(); /* one vCPU drives the device */
	idle_mode = arg("idle", v) && v[0] == '1';
	if (arg_uint("idlespin", 0))
		idle_spin = 1ull << (arg_uint("idlespin", 0) & 63);
	if (idle_mode)
		idle_setup(arg_uint("tick", 1) != 0);
	guest_enter_user(user_main);
}
