// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guests that misbehave: a triple fault ends the VM with status 3 and a register dump; a reset through
 * the i8042 ends it with status 5; the CMOS clock reads sane BCD; unclaimed
 * port and MMIO accesses read all-ones, are counted and the VM keeps running; an instruction neither
 * this host's KVM nor our fallback emulates (fsqrt at CPL0 on kvm_pvm) ends with status 4, registers and
 * the instruction bytes read through the page-table walker (on hosts that run it, the guest just passes).
 */
#ifdef GUEST
#include "guest.h"

static uint8_t cmos(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void unclaimed_user(void)
{
	/* The CMOS clock: BCD, 24-hour, never "update in progress", valid. */
	GUEST_ASSERT_EQ(cmos(0x0a) & 0x80, 0);
	GUEST_ASSERT_EQ(cmos(0x0d), 0x80);
	GUEST_ASSERT((cmos(0x09) & 0xf) <= 9 && (cmos(0x09) >> 4) <= 9);
	GUEST_ASSERT(cmos(0x32) == 0x20 || cmos(0x32) == 0x21);
	GUEST_ASSERT(cmos(0x04) <= 0x23);
	outb(0x2e0, 0x12);
	outl(0x1230, 0xdeadbeef);
	GUEST_ASSERT_EQ(inb(0x2f8), 0xff);
	GUEST_ASSERT_EQ(inl(0x1234), 0xffffffffu);
	GUEST_ASSERT_EQ(mmio_read32(0xd0000000ull), 0xffffffffu);
	mmio_write32(0xd0000010ull, 1);
	GUEST_PRINTF("unclaimed accesses survived");
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr;
	if (!strcmp(bi->args, "triple")) {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) empty = { 0, 0 };

		__asm__ volatile("lidt %0; ud2" : : "m"(empty));
	} else if (!strcmp(bi->args, "reset")) {
		outb(0x64, 0xfe); /* i8042: pulse the reset line, as Linux's reboot=kbd does */
		for (;;)
			__asm__ volatile("hlt");
	} else if (!strcmp(bi->args, "emulfail")) {
		__asm__ volatile("fsqrt" ::: "memory");
		GUEST_PRINTF("fsqrt ran at CPL0");
		GUEST_DONE();
	}
	guest_enter_user(unclaimed_user);
}
#else
#include <stdio.h>

#include "harness.h"

int main(int argc, char **argv)
{
	struct vmm_proc p;
	int st;

	if (argc < 3)
		return 2;
	st = vmm_run_guest_args(&p, argv[1], argv[2], "triple");
	HOST_ASSERT(&p, st == 3, "triple fault: exit status %d, want 3", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "triple fault") && vmm_output_has(&p, "rip=") &&
				vmm_output_has(&p, "cr3="),
		    "triple fault: no register dump");
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "unclaimed");
	HOST_ASSERT(&p, st == 0, "unclaimed: exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "unclaimed accesses survived"), "guest did not continue");
	HOST_ASSERT(&p, vmm_output_has(&p, "\"pio_read\":2,\"pio_write\":2,\"mmio_read\":1,\"mmio_write\":1"),
		    "unclaimed accesses not counted as 2/2/1/1");
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "reset");
	HOST_ASSERT(&p, st == 5, "i8042 reset: exit status %d, want 5", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "reset line"), "reset not logged");
	vmm_cleanup(&p);

	st = vmm_run_guest_args(&p, argv[1], argv[2], "emulfail");
	if (st == 0) {
		HOST_ASSERT(&p, vmm_output_has(&p, "fsqrt ran at CPL0"), "status 0 without the guest's report");
		printf("emulation failure: this host runs fsqrt at CPL0; dump path not exercised\n");
	} else {
		HOST_ASSERT(&p, st == 4, "emulation failure: exit status %d, want 4", st);
		HOST_ASSERT(&p, vmm_output_has(&p, "internal error") && vmm_output_has(&p, "code at"),
			    "no register/instruction dump");
		HOST_ASSERT(&p, vmm_output_has(&p, ": d9 fa"), "instruction bytes (d9 fa = fsqrt) not shown");
	}
	vmm_cleanup(&p);
	printf("faults: ok\n");
	return 0;
}
#endif
