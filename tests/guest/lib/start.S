/* SPDX-License-Identifier: GPL-2.0-only */
/* Entry of freestanding guests: RDI = vCPU id, RSI = vCPU count, RDX = boot_info (vmm/guest_abi.h). */
#define STACK_SIZE 16384
#define MAX_VCPUS 16

	.section .text.start, "ax"
	.globl _start
	.code64
_start:
	/* Each vCPU takes its own kernel stack from guest_stacks[id]. */
	movq	%rdi, %rax
	incq	%rax
	shlq	$14, %rax
	leaq	guest_stacks(%rip), %rsp
	addq	%rax, %rsp
	xorl	%ebp, %ebp
	call	guest_start
1:	cli
	hlt
	jmp	1b

	/* Exception stubs: push a dummy error code where the CPU does not, then the vector. */
	.macro EXC vec, has_err
	.globl guest_exc_\vec
guest_exc_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	guest_exc_common
	.endm

	EXC 0, 0
	EXC 1, 0
	EXC 2, 0
	EXC 3, 0
	EXC 4, 0
	EXC 5, 0
	EXC 6, 0
	EXC 7, 0
	EXC 8, 1
	EXC 9, 0
	EXC 10, 1
	EXC 11, 1
	EXC 12, 1
	EXC 13, 1
	EXC 14, 1
	EXC 15, 0
	EXC 16, 0
	EXC 17, 1
	EXC 18, 0
	EXC 19, 0
	EXC 20, 0
	EXC 21, 1

guest_exc_common:
	/* Caller-saved registers (and %rbx, used below), so a handled exception can resume. */
	pushq	%rbx
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	leaq	80(%rsp), %rdi		/* struct exc_frame *: vector, error, rip, cs, rflags, rsp, ss */
	movq	%rsp, %rbx
	andq	$-16, %rsp
	call	guest_exception
	movq	%rbx, %rsp
	testl	%eax, %eax
	jz	2f
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popq	%rbx
	addq	$16, %rsp		/* vector and error code */
	iretq
2:	cli
	hlt
	jmp	2b

	/* Interrupt stubs for vectors 0x40-0x47: save the caller-saved registers, call guest_irq(vector). */
	.macro IRQ vec
	.globl guest_irq_\vec
guest_irq_\vec:
	pushq	%rdi
	movq	$\vec, %rdi
	jmp	guest_irq_common
	.endm

	IRQ 0x40
	IRQ 0x41
	IRQ 0x42
	IRQ 0x43
	IRQ 0x44
	IRQ 0x45
	IRQ 0x46
	IRQ 0x47

guest_irq_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	movq	%rsp, %rax
	andq	$-16, %rsp
	pushq	%rax
	pushq	%rax
	call	guest_irq
	popq	%rax
	movq	%rax, %rsp
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popq	%rdi
	iretq

	/* Park a finished vCPU at CPL0: halted, no host CPU time. */
	.globl guest_park
guest_park:
	cli
	hlt
	jmp	guest_park

	.section .rodata
	.globl guest_exc_table
	.align 8
guest_exc_table:
	.quad guest_exc_0, guest_exc_1, guest_exc_2, guest_exc_3, guest_exc_4, guest_exc_5
	.quad guest_exc_6, guest_exc_7, guest_exc_8, guest_exc_9, guest_exc_10, guest_exc_11
	.quad guest_exc_12, guest_exc_13, guest_exc_14, guest_exc_15, guest_exc_16, guest_exc_17
	.quad guest_exc_18, guest_exc_19, guest_exc_20, guest_exc_21
	.globl guest_irq_table
guest_irq_table:
	.quad guest_irq_0x40, guest_irq_0x41, guest_irq_0x42, guest_irq_0x43
	.quad guest_irq_0x44, guest_irq_0x45, guest_irq_0x46, guest_irq_0x47

	.section .bss
	.align 4096
	.globl guest_stacks
guest_stacks:
	.skip STACK_SIZE * (MAX_VCPUS + 1)
	.globl guest_user_stacks
guest_user_stacks:
	.skip STACK_SIZE * (MAX_VCPUS + 1)

	.section .note.GNU-stack, "", @progbits
