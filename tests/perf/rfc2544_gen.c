// SPDX-License-Identifier: GPL-2.0-only
/*
 * rfc2544-gen: zero-loss throughput of a vhost-user forwarder, RFC 2544 s26.1 style: offer frames
 * at a fixed rate for a trial, count what comes back, and binary-search the highest rate with no
 * loss. Driven by tests/perf/switch-rfc2544, which starts the forwarder (nfv-switch or testpmd).
 *
 * One DPDK process, one lcore, two net_virtio_user ports given as --vdev: port 0 offers the
 * frames (paced by the TSC, bursts of at most 32), port 1 receives them, both in the same loop, so
 * generator and sink never compete for a CPU through the scheduler. A frame that port 0's ring
 * does not take (the forwarder has not emptied it) counts as offered and lost, as a frame that
 * overflows a NIC's receive ring would. After each trial the receiver drains for --drain-ms.
 * Slots the generator misses while descheduled are skipped, not made up in one burst; the rate
 * actually offered is reported with every trial.
 *
 * The first trials are unpaced: the rate the forwarder delivers then is the top of the search. If
 * such a trial loses nothing (every frame the loop made was taken) the result is generator-bound
 * and said so. Otherwise the search halves [0, top] for
 * --iterations trials or until the interval is below --resolution of top.
 *
 * Output: one JSON object per line per trial ({"trial":...}) and a final {"result":...} line.
 *
 * usage: rfc2544-gen [EAL args: -l 0 --no-huge --no-pci --vdev net_virtio_user0,path=P1,...
 *                     --vdev net_virtio_user1,path=P2,...] -- --size 64 [--seconds 1]
 *                    [--iterations 8] [--resolution 0.01] [--loss 0] [--drain-ms 200]
 *                    [--dst MAC] [--src MAC]
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#define BURST 32
#define NB_DESC 1024
#define NB_MBUFS 8191

struct gen_cfg {
	unsigned size;	   /* frame size with FCS, RFC 2544 s9.1 sizes */
	double seconds;	   /* trial duration */
	unsigned iterations;
	double resolution; /* stop when (hi - lo) < resolution * top */
	double loss;	   /* acceptable loss ratio (0: RFC 2544 zero loss) */
	unsigned drain_ms;
	struct rte_ether_addr dst, src;
};

struct trial {
	double rate_pps; /* asked for; 0 = unpaced */
	uint64_t offered, sent, received;
	double secs;	 /* measured duration of the offering phase */
};

static struct rte_mempool *pool;
static uint8_t frame[RTE_ETHER_MAX_LEN];

/* A UDP/IPv4 frame of cfg->size - 4 bytes (virtio-net carries no FCS). */
static void build_frame(const struct gen_cfg *cfg)
{
	unsigned len = cfg->size - RTE_ETHER_CRC_LEN;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	uint8_t *ip = frame + sizeof(*eth);
	unsigned ip_len = len - sizeof(*eth);
	uint32_t sum = 0;

	memset(frame, 0, sizeof(frame));
	rte_ether_addr_copy(&cfg->dst, &eth->dst_addr);
	rte_ether_addr_copy(&cfg->src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	ip[2] = ip_len >> 8;
	ip[3] = ip_len & 0xff;
	ip[8] = 64;	     /* TTL */
	ip[9] = 17;	     /* UDP */
	memcpy(ip + 12, (uint8_t[]){ 198, 18, 0, 1 }, 4); /* RFC 2544 s12: 198.18.0.0/15 */
	memcpy(ip + 16, (uint8_t[]){ 198, 19, 0, 1 }, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (ip[i] << 8) | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = ~sum >> 8;
	ip[11] = ~sum & 0xff;
	ip[20] = 0x04; /* UDP 1024 -> 1025, no checksum */
	ip[21] = 0x00;
	ip[22] = 0x04;
	ip[23] = 0x01;
	ip[24] = (ip_len - 20) >> 8;
	ip[25] = (ip_len - 20) & 0xff;
}

static unsigned rx_drain(uint16_t port)
{
	struct rte_mbuf *m[BURST];
	uint16_t n = rte_eth_rx_burst(port, 0, m, BURST);

	rte_pktmbuf_free_bulk(m, n);
	return n;
}

/* Offer frames at @t->rate_pps (0: as fast as port 0 takes them) for cfg->seconds, then drain. */
static int run_trial(const struct gen_cfg *cfg, struct trial *t)
{
	uint64_t hz = rte_get_tsc_hz(), start, end, now, next;
	unsigned len = cfg->size - RTE_ETHER_CRC_LEN;
	struct rte_mbuf *m[BURST];
	double per_frame = t->rate_pps > 0 ? (double)hz / t->rate_pps : 0;
	double due = 0;	    /* frames due since start, fractional */
	double skipped = 0; /* slots missed while this process was not running */

	t->offered = t->sent = t->received = 0;
	while (rx_drain(1))
		; /* leftovers of the previous trial */
	start = rte_rdtsc();
	end = start + (uint64_t)(cfg->seconds * hz);
	next = start;
	for (now = start; now < end; now = rte_rdtsc()) {
		t->received += rx_drain(1);
		unsigned n = BURST;
		if (per_frame > 0) {
			if (now < next)
				continue;
			due = (double)(now - start) / per_frame - skipped;
			/*
			 * Behind by more than a burst: the scheduler took the CPU away. A generator
			 * on its own core is never late, so let those slots go rather than send
			 * them all at once (a burst no dedicated generator would make).
			 */
			if (due - t->offered > BURST) {
				skipped += due - t->offered - BURST;
				due = t->offered + BURST;
			}
			n = (unsigned)(due - t->offered);
			if (n == 0) {
				next = start + (uint64_t)((t->offered + 1) * per_frame);
				continue;
			}
		}
		if (rte_pktmbuf_alloc_bulk(pool, m, n) != 0)
			continue; /* all mbufs in flight; counted as nothing offered */
		for (unsigned i = 0; i < n; i++) {
			char *p = rte_pktmbuf_append(m[i], len);
			memcpy(p, frame, len);
		}
		uint16_t k = rte_eth_tx_burst(0, 0, m, n);
		if (k < n)
			rte_pktmbuf_free_bulk(m + k, n - k);
		t->offered += n;
		t->sent += k;
	}
	t->secs = (double)(rte_rdtsc() - start) / hz;
	end = rte_rdtsc() + (uint64_t)cfg->drain_ms * hz / 1000;
	while (rte_rdtsc() < end)
		t->received += rx_drain(1);
	return 0;
}

static bool trial_passes(const struct gen_cfg *cfg, const struct trial *t)
{
	uint64_t lost = t->offered > t->received ? t->offered - t->received : 0;

	return t->offered > 0 && (double)lost <= cfg->loss * (double)t->offered;
}

static void print_trial(const struct trial *t, bool pass)
{
	uint64_t lost = t->offered > t->received ? t->offered - t->received : 0;

	printf("{\"trial\":{\"rate_pps\":%.0f,\"offered\":%" PRIu64 ",\"sent\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"offered_pps\":%.0f,\"pass\":%s}}\n",
	       t->rate_pps, t->offered, t->sent, t->received, lost, t->offered / t->secs,
	       pass ? "true" : "false");
	fflush(stdout);
}

static int port_init(uint16_t port)
{
	struct rte_eth_conf conf = { 0 };
	int ret;

	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, NB_DESC, rte_eth_dev_socket_id(port), NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, NB_DESC, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret)
		fprintf(stderr, "rfc2544-gen: port %u: %s\n", port, rte_strerror(-ret));
	return ret;
}

static bool links_up(unsigned timeout_ms)
{
	uint64_t end = rte_rdtsc() + (uint64_t)timeout_ms * rte_get_tsc_hz() / 1000;

	do {
		struct rte_eth_link l0, l1;
		if (rte_eth_link_get_nowait(0, &l0) == 0 && rte_eth_link_get_nowait(1, &l1) == 0 &&
		    l0.link_status && l1.link_status)
			return true;
		rte_delay_ms(50);
	} while (rte_rdtsc() < end);
	return false;
}

static int parse_args(int argc, char **argv, struct gen_cfg *cfg)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },	 { "seconds", required_argument, NULL, 't' },
		{ "iterations", required_argument, NULL, 'i' }, { "resolution", required_argument, NULL, 'r' },
		{ "loss", required_argument, NULL, 'l' },	 { "drain-ms", required_argument, NULL, 'd' },
		{ "dst", required_argument, NULL, 'D' },	 { "src", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': cfg->size = strtoul(optarg, NULL, 0); break;
		case 't': cfg->seconds = strtod(optarg, NULL); break;
		case 'i': cfg->iterations = strtoul(optarg, NULL, 0); break;
		case 'r': cfg->resolution = strtod(optarg, NULL); break;
		case 'l': cfg->loss = strtod(optarg, NULL); break;
		case 'd': cfg->drain_ms = strtoul(optarg, NULL, 0); break;
		case 'D':
		case 'S':
			if (rte_ether_unformat_addr(optarg, c == 'D' ? &cfg->dst : &cfg->src)) {
				fprintf(stderr, "rfc2544-gen: '%s' is not a MAC address\n", optarg);
				return -EINVAL;
			}
			break;
		default: return -EINVAL;
		}
	}
	if (cfg->size < 64 || cfg->size > RTE_ETHER_MAX_LEN || cfg->seconds <= 0 || cfg->seconds > 60 ||
	    cfg->iterations > 30 || cfg->resolution <= 0 || cfg->loss < 0 || cfg->drain_ms > 5000) {
		fprintf(stderr, "rfc2544-gen: --size 64..1518, --seconds (0, 60], --iterations <= 30, "
				"--resolution > 0, --loss >= 0, --drain-ms <= 5000\n");
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_cfg cfg = { .size = 64, .seconds = 1, .iterations = 8, .resolution = 0.01, .drain_ms = 200 };
	struct trial t;
	double top, lo, hi, best;
	int ret = rte_eal_init(argc, argv);

	if (ret < 0) {
		fprintf(stderr, "rfc2544-gen: EAL init failed\n");
		return 2;
	}
	rte_ether_unformat_addr("02:00:00:00:00:02", &cfg.dst);
	rte_ether_unformat_addr("02:00:00:00:00:01", &cfg.src);
	if (parse_args(argc - ret, argv + ret, &cfg))
		return 2;
	if (rte_eth_dev_count_avail() != 2) {
		fprintf(stderr, "rfc2544-gen: need exactly two ports (--vdev), have %u\n", rte_eth_dev_count_avail());
		return 2;
	}
	pool = rte_pktmbuf_pool_create("rfc2544", NB_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool || port_init(0) || port_init(1))
		return 2;
	if (!links_up(10000)) {
		fprintf(stderr, "rfc2544-gen: links did not come up\n");
		return 2;
	}
	build_frame(&cfg);

	/* Warm-up and top of the search: as fast as the forwarder takes frames. */
	t.rate_pps = 0;
	run_trial(&cfg, &t);
	run_trial(&cfg, &t);
	/* What the forwarder delivered unpaced (the loop offers far more than any ring takes). */
	top = t.received / t.secs;
	best = 0;
	print_trial(&t, trial_passes(&cfg, &t));
	if (trial_passes(&cfg, &t)) {
		best = top;
	} else {
		lo = 0;
		hi = top;
		for (unsigned i = 0; i < cfg.iterations && hi - lo > cfg.resolution * top; i++) {
			t.rate_pps = (lo + hi) / 2;
			run_trial(&cfg, &t);
			bool ok = trial_passes(&cfg, &t);
			print_trial(&t, ok);
			if (ok) {
				lo = t.rate_pps;
				best = t.offered / t.secs;
			} else {
				hi = t.rate_pps;
			}
		}
	}
	printf("{\"result\":{\"size\":%u,\"zero_loss_pps\":%.0f,\"top_pps\":%.0f,\"generator_bound\":%s,"
	       "\"loss_allowed\":%g}}\n",
	       cfg.size, best, top, best == top ? "true" : "false", cfg.loss);
	for (uint16_t p = 0; p < 2; p++) {
		ret = rte_eth_dev_stop(p);
		(void)ret;
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return 0;
}
