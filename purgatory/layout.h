/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Numbers that entry.S and the C half of purgatory must agree on. Kept free
 * of C declarations so the assembler can include it; purgatory.c checks the
 * parameter offsets against struct purgatory_params at compile time.
 */
#ifndef PURGATORY_LAYOUT_H
#define PURGATORY_LAYOUT_H

/* Far more than the SHA-256 and serial code need; it only costs crash region memory. */
#define PURGATORY_STACK_SIZE 0x2000

/* Selectors the x86 64-bit boot protocol expects to be loaded when the kernel is entered. */
#define PURGATORY_BOOT_CS 0x10
#define PURGATORY_BOOT_DS 0x18

/* Offsets inside struct purgatory_params that entry.S reads. */
#define PURGATORY_PARAMS_KERNEL_ENTRY 0x08
#define PURGATORY_PARAMS_BOOT_PARAMS 0x10

#endif
