/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Instruction fallback: some KVM hosts (kvm_pvm, which emulates guest CPL0 code in software) return
 * KVM_EXIT_INTERNAL_ERROR for instructions their emulator lacks. CPUID hides the features that would
 * make a kernel choose most of them (cpuid.c); this emulates the rest in user space: it reads the
 * instruction through the guest page-table walker, executes it against the vCPU's registers, FPU state
 * and guest memory, advances RIP and lets the vCPU resume. On VT-x/AMD-V hosts these instructions never
 * exit, so none of this runs there.
 *
 * Emulated (64-bit and 32-bit protected mode code):
 *   rdtscp (0f 01 f9), xgetbv (0f 01 d0; #UD unless CR4.OSXSAVE), clac/stac (0f 01 ca/cb; CPL0 only),
 *   popcnt r, r/m (f3 0f b8, 16/32/64-bit, register or memory operand),
 *   x87: fninit (db e3), fld1 (d9 e8), fldz (d9 ee), fstp st(0) (dd d8), fnstsw ax (df e0),
 *   [lock] cmpxchg16b m128 (REX.W 0f c7 /1; atomic on the host mapping, #GP if misaligned),
 *   xsave/xrstor/xsaveopt/xsavec/xsaves/xrstors with CR4.OSXSAVE clear: #UD, as the CPU raises it (Linux
 *   fixes such faults up through its exception table; with OSXSAVE set they stay unsupported)
 * Anything else stays an internal error (registers and instruction bytes are printed).
 */
#ifndef NFV_CPU_EMULATE_H
#define NFV_CPU_EMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "vcpu.h"

enum emu_insn {
	EMU_RDTSCP,
	EMU_XGETBV,
	EMU_CLAC,
	EMU_STAC,
	EMU_POPCNT,
	EMU_X87,
	EMU_CMPXCHG16B,
	EMU_XSAVE, /* xsave/xrstor/xsaveopt/xsavec family */
	EMU__MAX,
};

/* Try to emulate the instruction at RIP. 0 (emulated, RIP advanced, or an exception injected; *kind
 * says which), -ENOTSUP (not one we know) or -EFAULT (instruction not readable). */
int emu_fallback(struct vcpu *v, enum emu_insn *kind) __attribute__((warn_unused_result));

/* Decoder, exported for unit tests and the fuzz target: length and kind of the instruction in @b
 * (64-bit mode when @long_mode), or -ENOTSUP. */
int emu_decode(const uint8_t *b, size_t len, int long_mode, enum emu_insn *kind, unsigned *insn_len)
	__attribute__((warn_unused_result));

const char *emu_insn_name(enum emu_insn k);

#endif
