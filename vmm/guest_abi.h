/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between nfv-vmm and the freestanding guest programs it runs directly (tests, demo,
 * benchmark guests): where the VMM leaves boot information, the test/exit device's ports and the
 * layout of a report. Only fixed-width types, so both sides (host C and -ffreestanding guest C)
 * include it.
 */
#ifndef NFV_GUEST_ABI_H
#define NFV_GUEST_ABI_H

#include <stdint.h>

/* Entry state in 64-bit mode: RDI = vCPU id, RSI = number of vCPUs, RDX = GPA of struct boot_info.
 * Paging: identity map of all RAM and the MMIO hole (2 MiB or 1 GiB pages), user-accessible.
 * GDT at GUEST_GDT_GPA with the selectors below; TR = the vCPU's own TSS with RSP0 set and an I/O
 * permission bitmap that allows every port, so CPL3 code can do port I/O even where the hypervisor
 * does not let a guest run user code with IOPL 3 (kvm_pvm forces IOPL 0 and IF 1 at CPL3). */
#define GUEST_SEL_KCODE 0x08
#define GUEST_SEL_KDATA 0x10
#define GUEST_SEL_UDATA 0x18
#define GUEST_SEL_UCODE 0x20
#define GUEST_SEL_TSS(id) (0x28 + 16 * (id))
#define GUEST_MAX_VCPUS 16

#define GUEST_GDT_GPA 0x1000ull
#define GUEST_TSS_GPA 0x70000ull /* + GUEST_TSS_STRIDE * id: TSS + I/O bitmap allowing every port */
#define GUEST_TSS_STRIDE 0x2100ull
#define GUEST_TSS_LIMIT (0x68 + 8192) /* the bitmap's terminating 0xff byte is the last one */
#define GUEST_BOOT_INFO_GPA 0x5000ull
#define GUEST_PT_GPA 0x10000ull	       /* page tables: 0x10000 .. 0x60000 */
#define GUEST_PT_END 0x60000ull
#define GUEST_RSP0_TOP(id) (0x61000ull + 0x1000ull * (id)) /* CPL0 stacks for traps from CPL3 */
#define GUEST_REALMODE_LOAD 0x7c00ull
#define GUEST_ELF_MIN_GPA 0x100000ull /* ELF segments must lie at or above 1 MiB */

#define BOOT_INFO_MAGIC 0x4e465642u /* "NFVB" */

struct guest_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t pad;
};

struct boot_info {
	uint32_t magic;
	uint32_t nr_vcpus;
	uint64_t ram_size;	/* bytes of RAM */
	uint64_t ram_top;	/* highest RAM address + 1 */
	uint64_t map_top;	/* identity map covers [0, map_top) */
	uint32_t nr_e820;
	uint32_t pad;
	struct guest_e820 e820[16];
	char args[256];		/* --guest-args string, NUL-terminated */
};

/* Test/exit device (I/O ports). */
#define GUEST_PORT_EXIT 0x0501	/* outb code: end the VM with that exit status (any width) */
#define GUEST_PORT_UCALL 0x0510 /* outl GPA of a struct guest_ucall (identity-mapped address) */

enum guest_ucall_cmd {
	UCALL_PRINT = 1,  /* print msg */
	UCALL_ASSERT = 2, /* assertion failed: file, line, msg, args */
	UCALL_DONE = 3,	  /* this vCPU finished; the VM ends when every vCPU is done */
	UCALL_SYNC = 4,	  /* progress report: args[0] = stage */
};

struct guest_ucall {
	uint32_t cmd;
	uint32_t vcpu;
	uint32_t line;
	uint32_t nargs;
	uint64_t file;	/* GPA of a NUL-terminated string, or 0 */
	uint64_t msg;	/* GPA of a NUL-terminated string, or 0 */
	uint64_t args[4];
};

#endif
