// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest half of tests/perf/blk-guest (not a test): drives the first virtio-blk disk with the
 * polled driver (lib/vblk_drv.c) at CPL3 through four phases, each for secs seconds of TSC time:
 *
 *   randread   4 KiB reads at random 4 KiB-aligned offsets, qd requests in flight
 *   randwrite  the same with writes
 *   seqread    1 MiB reads in order (wrapping at the end of the disk), sqd in flight
 *   seqwrite   the same with writes
 *
 * --guest-args "secs=3 qd=32 sqd=8 tsc_khz=N [phases=randread,randwrite,seqread,seqwrite]"
 * Prints "blk: ready", starts on 'g', and reports each phase as
 * "blk: result PHASE ops=N bytes=B ms=T errors=E" (T from the TSC), then "blk: bench done".
 * Completion is found by polling the used ring: no exits besides the notifications the device
 * does not suppress.
 */
#ifdef GUEST
#include "guest.h"
#include "vblk_drv.h"

#define MAXQD 32
#define SEQ_BS (1024u * 1024u)
#define RAND_BS 4096u

static struct vblk disk;
static uint8_t bufs[MAXQD][SEQ_BS] __attribute__((aligned(4096)));
static uint64_t tsc_khz = 2000000, rng = 0x9e3779b97f4a7c15ull;

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t arg_u64(const char *key, uint64_t def)
{
	const char *a = guest_boot_info->args, *v = NULL;
	size_t kl = strlen(key);
	uint64_t n = 0;

	for (const char *p = a; (p = strstr(p, key)); p += kl)
		if ((p == a || p[-1] == ' ') && p[kl] == '=') {
			v = p + kl + 1;
			break;
		}
	if (!v || *v < '0' || *v > '9')
		return def;
	while (*v >= '0' && *v <= '9')
		n = n * 10 + (uint64_t)(*v++ - '0');
	return n;
}

static void phase(const char *name, bool write, bool seq, unsigned qd, uint64_t secs)
{
	uint32_t bs = seq ? SEQ_BS : RAND_BS;
	uint64_t slots = disk.capacity / (bs / VBLK_SECTOR), next = 0, ops = 0, errors = 0;
	uint64_t t0, end, t1;
	unsigned inflight = 0;
	bool stop = false;

	GUEST_ASSERT(slots > 0 && qd <= MAXQD && qd <= VBLK_MAX_INFLIGHT);
	t0 = rdtsc();
	end = t0 + secs * 1000 * tsc_khz;
	for (;;) {
		int tag;
		uint8_t status;

		/* Keep qd in flight: one kick per refill, not per request. */
		if (!stop && inflight < qd) {
			while (inflight < qd) {
				uint64_t slot = seq ? next++ % slots : xorshift() % slots;
				unsigned b;

				/* the buffer of the tag we will get: the lowest free one */
				for (b = 0; b < qd && disk.busy[b]; b++)
					;
				tag = vblk_submit(&disk, write ? VBLK_T_OUT : VBLK_T_IN,
						  slot * (bs / VBLK_SECTOR), bufs[b], bs);
				GUEST_ASSERT_EQ(tag, b);
				inflight++;
			}
			vblk_kick(&disk);
		}
		while (vblk_complete(&disk, &tag, &status)) {
			inflight--;
			ops++;
			if (status != VBLK_S_OK)
				errors++;
		}
		if (!stop && rdtsc() >= end)
			stop = true;
		if (stop && !inflight)
			break;
	}
	t1 = rdtsc();
	GUEST_PRINTF("blk: result %s ops=%llu bytes=%llu ms=%llu errors=%llu", name,
		     (unsigned long long)ops, (unsigned long long)(ops * bs),
		     (unsigned long long)((t1 - t0) / tsc_khz), (unsigned long long)errors);
}

static void user_part(void)
{
	uint64_t secs = arg_u64("secs", 3);
	unsigned qd = (unsigned)arg_u64("qd", 32), sqd = (unsigned)arg_u64("sqd", 8);
	const char *ph = strstr(guest_boot_info->args, "phases=");

	tsc_khz = arg_u64("tsc_khz", tsc_khz);
	GUEST_ASSERT_EQ(vblk_init(&disk, 0), 0);
	for (unsigned i = 0; i < MAXQD; i++)
		memset(bufs[i], (int)(0x41 + i), SEQ_BS);
	GUEST_PRINTF("blk: ready %llu sectors", (unsigned long long)disk.capacity);
	while (serial_getc() != 'g')
		;
	if (!ph || strstr(ph, "randread"))
		phase("randread", false, false, qd, secs);
	if (!ph || strstr(ph, "randwrite"))
		phase("randwrite", true, false, qd, secs);
	if (!ph || strstr(ph, "seqread"))
		phase("seqread", false, true, sqd, secs);
	if (!ph || strstr(ph, "seqwrite"))
		phase("seqwrite", true, true, sqd, secs);
	GUEST_PRINTF("blk: bench done");
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_enter_user(user_part);
}
#endif
