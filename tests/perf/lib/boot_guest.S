/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Boot-time guest for tests/perf/boot-time: writes one line to the COM1 serial port, then ends
 * the VM through the exit port (0x501: nfv-vmm's test device, QEMU's isa-debug-exit). Built with
 * -DBOOT_GUEST_IDLE it halts for good instead (a domain that stays up and idle).
 *
 * One image serves both VMMs: nfv-vmm loads the ELF64 and enters e_entry in 64-bit mode
 * (vmm/guest_abi.h); QEMU's -kernel finds the Xen PVH note (XEN_ELFNOTE_PHYS32_ENTRY, Xen
 * public/elfnote.h, and the PVH boot ABI: 32-bit protected mode, paging off, flat segments) and
 * its firmware jumps to the same address in 32-bit mode. The code uses only instructions whose
 * encoding means the same in both modes (port I/O, 8/16-bit moves, mov imm32 to a 32-bit register,
 * lodsb, short jumps), so there is no mode switch to write, and nothing is timed but the VMMs.
 */
#define COM1 0x3f8
#define EXIT_PORT 0x501
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a"
	.p2align 2
	.long	4			/* namesz: "Xen\0" */
	.long	4			/* descsz */
	.long	XEN_ELFNOTE_PHYS32_ENTRY
	.asciz	"Xen"
	.long	boot_entry		/* 32-bit physical entry */

	.section .text.start, "ax"
	.globl	boot_entry
	.code32
boot_entry:
	cli
	movl	$boot_msg, %esi		/* 32-bit form: zero-extends to RSI in long mode */
	movw	$COM1, %dx
1:	lodsb				/* AL = [ESI/RSI], ++ */
	testb	%al, %al
	jz	2f
	outb	%al, %dx		/* the UART's THR; an emulated 8250 is always ready */
	jmp	1b
2:
#ifndef BOOT_GUEST_IDLE
	movw	$EXIT_PORT, %dx
	xorl	%eax, %eax
	outb	%al, %dx		/* nfv-vmm: exit status 0; QEMU isa-debug-exit: status 1 */
#endif
	/* BOOT_GUEST_IDLE (tests/perf/boot-nfvd): stay up without using a CPU, interrupts off. */
3:	hlt
	jmp	3b

	.section .rodata
boot_msg:
	.asciz	"boot-time guest up\n"
