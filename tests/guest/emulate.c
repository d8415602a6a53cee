// SPDX-License-Identifier: GPL-2.0-only
/*
 * The instruction fallback (vmm/cpu/emulate.c): each instruction it emulates, executed at CPL0 where
 * kvm_pvm's own emulator gives up, must give the architectural result. On hosts that run them natively
 * the same checks pass without the fallback (the host half then sees no emulation counted).
 */
#ifdef GUEST
#include "guest.h"


static uint16_t fnstsw(void)
{
	uint16_t sw;

	__asm__ volatile("fnstsw %%ax" : "=a"(sw));
	return sw;
}

static uint64_t popcnt64(uint64_t v)
{
	uint64_t n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* Referenced by name from inline asm (RIP-relative operand). */
extern const uint64_t pattern;
const uint64_t pattern = 0xF0F0F0F00000FFFFull;

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	uint64_t a, d, c, r, t1, t2, fl;

	(void)vcpu, (void)nr;
	/* x87: fninit, fld1/fldz push (TOP 7, 6), fstp st(0) pops. */
	__asm__ volatile("fninit");
	GUEST_ASSERT_EQ((fnstsw() >> 11) & 7, 0);
	__asm__ volatile("fld1");
	GUEST_ASSERT_EQ((fnstsw() >> 11) & 7, 7);
	__asm__ volatile("fldz");
	GUEST_ASSERT_EQ((fnstsw() >> 11) & 7, 6);
	__asm__ volatile("fstp %st(0)");
	__asm__ volatile("fstp %st(0)");
	GUEST_ASSERT_EQ((fnstsw() >> 11) & 7, 0);

	/* rdtscp: TSC in EDX:EAX (monotonic), TSC_AUX in ECX; only where the CPU model offers RDTSCP
	 * (with the default CPUID quirks on kvm_pvm it is hidden, and TSC_AUX does not exist). */
	if (!strcmp(bi->args, "nomask")) {
		uint32_t edx81;
		bool aux;

		/* TSC_AUX exists only when the CPU model has RDTSCP; without it ECX reads 0. */
		__asm__ volatile("cpuid" : "=d"(edx81) : "a"(0x80000001u), "c"(0) : "ebx");
		aux = edx81 & (1u << 27);
		if (aux)
			__asm__ volatile("wrmsr" : : "c"(0xc0000103), "a"(0x1234), "d"(0));
		__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
		t1 = a | d << 32;
		GUEST_ASSERT_EQ(c, aux ? 0x1234 : 0);
		__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
		t2 = a | d << 32;
		GUEST_ASSERT(t2 > t1);
	}

	/* popcnt: 64/32/16-bit, register and memory (RIP-relative and base+index) operands, ZF. */
	__asm__ volatile("popcnt %1, %0" : "=r"(r) : "r"(pattern));
	GUEST_ASSERT_EQ(r, popcnt64(pattern));
	__asm__ volatile("popcntl %1, %k0" : "=r"(r) : "r"((uint32_t)pattern));
	GUEST_ASSERT_EQ(r, popcnt64((uint32_t)pattern));
	r = 0xdead0000ull;
	__asm__ volatile("popcntw %w1, %w0" : "+r"(r) : "r"((uint16_t)pattern));
	GUEST_ASSERT_EQ(r, 0xdead0000ull | 16);
	__asm__ volatile("popcntq pattern(%%rip), %0" : "=r"(r));
	GUEST_ASSERT_EQ(r, popcnt64(pattern));
	{
		const uint64_t arr[2] = { 0, 0x8000000000000001ull };
		uint64_t i = 1;

		__asm__ volatile("popcntq (%1,%2,8), %0" : "=r"(r) : "r"(arr), "r"(i) : "memory");
		GUEST_ASSERT_EQ(r, 2);
		__asm__ volatile("popcntq %2, %0; pushfq; popq %1" : "=r"(r), "=r"(fl) : "m"(arr[0]) : "cc");
		GUEST_ASSERT_EQ(r, 0);
		GUEST_ASSERT(fl & (1 << 6)); /* ZF */
	}

	/* lock cmpxchg16b: equal -> store RCX:RBX, ZF=1; different -> load into RDX:RAX, ZF=0. */
	{
		static volatile struct {
			uint64_t q[2];
		} __attribute__((aligned(16))) mem = { { 1, 2 } };
		volatile uint64_t *m = mem.q;
		uint64_t lo = 1, hi = 2;
		uint8_t zf;

		__asm__ volatile("lock cmpxchg16b %1; setz %0" : "=q"(zf), "+m"(mem), "+a"(lo), "+d"(hi)
				 : "b"(10ull), "c"(20ull) : "memory", "cc");
		GUEST_ASSERT_EQ(zf, 1);
		GUEST_ASSERT(m[0] == 10 && m[1] == 20);
		lo = 1, hi = 2;
		__asm__ volatile("lock cmpxchg16b %1; setz %0" : "=q"(zf), "+m"(mem), "+a"(lo), "+d"(hi)
				 : "b"(30ull), "c"(40ull) : "memory", "cc");
		GUEST_ASSERT_EQ(zf, 0);
		GUEST_ASSERT(lo == 10 && hi == 20 && m[0] == 10 && m[1] == 20);
	}

	/* xrstor with CR4.OSXSAVE clear raises #UD (here: caught by a one-shot handler). */
	if (strcmp(bi->args, "nomask")) {
		static uint8_t area[1024] __attribute__((aligned(64)));

		guest_expect_ud = 1;
		__asm__ volatile("leaq 1f(%%rip), %%rcx\n\t"
				 "movq %%rcx, guest_ud_resume(%%rip)\n\t"
				 "xrstor64 %0\n"
				 "1:"
				 : : "m"(area), "a"(0), "d"(0) : "rcx", "memory");
		GUEST_ASSERT_EQ(guest_expect_ud, 2); /* the #UD handler ran and skipped the instruction */
		guest_expect_ud = 0;
	}

	/* stac/clac toggle RFLAGS.AC. */
	__asm__ volatile("stac; pushfq; popq %0" : "=r"(fl));
	GUEST_ASSERT(fl & (1u << 18));
	__asm__ volatile("clac; pushfq; popq %0" : "=r"(fl));
	GUEST_ASSERT(!(fl & (1u << 18)));

	/* xgetbv, when the CPU model offers XSAVE (--cpuid-quirks off on kvm_pvm hosts). */
	if (!strcmp(bi->args, "nomask")) {
		uint32_t ecx1;
		uint64_t cr4;

		__asm__ volatile("cpuid" : "=c"(ecx1) : "a"(1), "c"(0) : "ebx", "edx");
		if (ecx1 & (1u << 26)) {
			__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
			cr4 |= 1u << 18;
			__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
			__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
			GUEST_ASSERT(a & 1); /* x87 state is always enabled in XCR0 */
			GUEST_PRINTF("xgetbv: XCR0 = %lx", (unsigned long)(a | d << 32));
		} else {
			GUEST_PRINTF("xgetbv: CPU model has no XSAVE");
		}
	}
	GUEST_PRINTF("emulated instructions gave architectural results");
	GUEST_DONE();
}
#else
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(int argc, char **argv)
{
	struct vmm_proc p;
	int st;

	if (argc < 3)
		return 2;
	{
		const char *args[] = { "--mem-backing", "memfd", NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "emulated instructions gave architectural results"), "guest did not finish");
	if (vmm_output_has(&p, "\"emulated\":{\"rdtscp\":0,\"xgetbv\":0,\"clac\":0,\"stac\":0,\"popcnt\":0,\"x87\":0,\"cmpxchg16b\":0,\"xsave\":0}"))
		printf("emulate: this host ran everything natively\n");
	else
		HOST_ASSERT(&p, !vmm_output_has(&p, "\"x87\":0,") && !vmm_output_has(&p, "\"popcnt\":0,") &&
					!vmm_output_has(&p, "\"cmpxchg16b\":0,") && !vmm_output_has(&p, "\"xsave\":0}") &&
					!vmm_output_has(&p, "\"clac\":0,") && !vmm_output_has(&p, "\"stac\":0,"),
			    "some instructions were neither native nor emulated");
	vmm_cleanup(&p);
	{
		const char *args[] = { "--mem-backing", "memfd", "--cpuid-quirks", "off", "--guest-args", "nomask", NULL };

		st = vmm_run(&p, argv[1], argv[2], args, 60);
	}
	HOST_ASSERT(&p, st == 0, "xgetbv run: exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "xgetbv: "), "xgetbv part did not run");
	HOST_ASSERT(&p, vmm_output_has(&p, "\"emulated\":{\"rdtscp\":0,\"xgetbv\":0,\"clac\":0,\"stac\":0,\"popcnt\":0,\"x87\":0,\"cmpxchg16b\":0,\"xsave\":0}") ||
				!vmm_output_has(&p, "\"rdtscp\":0,"),
		    "rdtscp was neither native nor emulated");
	vmm_cleanup(&p);
	printf("emulate: ok\n");
	return 0;
}
#endif
