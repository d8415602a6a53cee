/* SPDX-License-Identifier: GPL-2.0-only */
/* A boot-sector style guest: prints through COM1 in 16-bit real mode, then ends via the exit port. */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	$msg - _start + 0x7c00, %si
1:	lodsb
	testb	%al, %al
	jz	2f
	movw	$0x3f8, %dx
	outb	%al, %dx
	jmp	1b
2:	movw	$0x501, %dx
	movb	$0, %al
	outb	%al, %dx
3:	hlt
	jmp	3b
msg:
	.asciz	"real mode guest: hello\r\n"
	.section .note.GNU-stack, "", @progbits
