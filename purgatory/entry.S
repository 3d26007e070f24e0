/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Purgatory's first and last instructions: the jump at byte 0, the switch to
 * purgatory's own stack and GDT, and the final jump into the capture kernel.
 *
 * Design: the blob is position-independent code with a parameter block at a
 * fixed offset and no relocations at all. The loader may place it at any
 * page-aligned address in the crash region and only has to fill in the
 * parameter block; there is no relocation code, in the loader or here, that
 * could get an address wrong. Every reference is %rip-relative, and the
 * build links purgatory as a PIE and fails if the linker leaves a single
 * dynamic relocation, so an absolute address cannot slip in unnoticed.
 *
 * The crashing kernel enters at byte 0 in 64-bit mode with interrupts off on
 * an identity map of RAM. The GDT it leaves loaded may already be invalid
 * and its stack may be the one that overflowed, so nothing here touches
 * either before replacing it.
 */
#include "layout.h"

	.code64

/*
 * Byte 0. A two-byte short jump cannot reach past the 0x140-byte parameter
 * block, so this is the five-byte near jump, which still fits before the
 * block at 0x10. Its 0xe9 opcode also keeps the blob from ever starting with
 * the ELF magic that marks the elfcorehdr segment.
 */
	.section .head.entry, "ax", @progbits
	.globl purgatory_start
purgatory_start:
	jmp	purgatory_setup

	.section .text.entry, "ax", @progbits
purgatory_setup:
	/*
	 * Zero .bss (the stack with it) before anything is pushed: the kernel
	 * zero-fills the segment past its bufsz at load time, but the crashed
	 * kernel had the time between load and panic to stray into it.
	 */
	cld
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb

	leaq	purgatory_stack_top(%rip), %rsp

	/* A known %rflags: interrupts, single-step, alignment checks and DF all off. */
	pushq	$0
	popfq

	/* lgdt wants the GDT's absolute address, only known now: build the pointer on the stack. */
	subq	$16, %rsp
	movw	$(purgatory_gdt_end - purgatory_gdt - 1), 6(%rsp)
	leaq	purgatory_gdt(%rip), %rax
	movq	%rax, 8(%rsp)
	lgdt	6(%rsp)
	addq	$16, %rsp

	/* CS can only be reloaded by a far transfer; lretq pops the new %rip, then CS. */
	pushq	$PURGATORY_BOOT_CS
	leaq	1f(%rip), %rax
	pushq	%rax
	lretq
1:
	movl	$PURGATORY_BOOT_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* Returns only when the digest matched. */
	call	purgatory_main

	/*
	 * Enter the kernel the way its 64-bit boot protocol asks: %rsi holds
	 * boot_params, interrupts are off, CS and DS are the flat selectors.
	 * The entry address goes on the stack so that every other general
	 * purpose register can be zero when the kernel starts; the kernel
	 * sets up its own stack, so the one word left on ours is harmless.
	 */
	movq	purgatory_params + PURGATORY_PARAMS_BOOT_PARAMS(%rip), %rsi
	pushq	purgatory_params + PURGATORY_PARAMS_KERNEL_ENTRY(%rip)
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	ret

/*
 * Flat 4 GiB descriptors. The accessed bit is preset so that the CPU never
 * writes to this table when a selector is loaded.
 */
	.section .rodata.gdt, "a", @progbits
	.balign 16
purgatory_gdt:
	.quad	0			/* 0x00: the null descriptor */
	.quad	0			/* 0x08: unused */
	.quad	0x00af9b000000ffff	/* 0x10: code, 64-bit (L), present, ring 0, read/execute */
	.quad	0x00cf93000000ffff	/* 0x18: data, present, ring 0, read/write */
purgatory_gdt_end:

	.section .bss.stack, "aw", @nobits
	.balign 16
	.skip	PURGATORY_STACK_SIZE
purgatory_stack_top:

	.section .note.GNU-stack, "", @progbits
