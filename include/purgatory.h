/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The contract between the loader and purgatory: the layout of the purgatory
 * blob and of the parameter block the loader fills in before the load.
 *
 * The blob is position-independent code with no relocations. It starts with
 * a near jump (never the ELF magic), its parameter block sits at a fixed
 * offset, and its entry point is its first byte. The loader copies the blob,
 * writes the parameter block into the copy and loads it as one segment; that
 * segment is the one the digest never covers, since it holds the digest.
 */
#ifndef KEXEC_PURGATORY_H
#define KEXEC_PURGATORY_H

#include <stddef.h>
#include <stdint.h>

#define PURGATORY_PARAMS_OFFSET 0x10
#define PURGATORY_MAGIC 0x3130505248584b4bULL /* "KKXHRP01" little-endian */
#define PURGATORY_MAX_RANGES 16
#define PURGATORY_SHA256_SIZE 32

/* purgatory_params.flags */
#define PURGATORY_SERIAL 0x1 /* report progress and a digest mismatch on serial_port */

struct purgatory_range {
	uint64_t start;
	uint64_t len;
};

struct purgatory_params {
	uint64_t magic;
	uint64_t kernel_entry; /* physical address of the kernel's 64-bit entry */
	uint64_t boot_params; /* physical address of boot_params, passed in %rsi */
	uint32_t flags;
	uint16_t serial_port; /* I/O port base of an 8250 UART, 0x3f8 for ttyS0 */
	uint16_t nr_ranges;
	uint8_t sha256[PURGATORY_SHA256_SIZE]; /* digest of ranges[], in order */
	struct purgatory_range ranges[PURGATORY_MAX_RANGES];
};

/* Generated at build time from purgatory/purgatory.bin. */
extern const unsigned char purgatory_blob[];
extern const size_t purgatory_blob_size; /* bytes of code and data in the blob */
extern const size_t purgatory_memsz; /* bytes the running purgatory needs, stack included */

#endif
