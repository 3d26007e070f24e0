// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The C half of purgatory: owns the parameter block, checks it, hashes the
 * ranges the loader listed and compares the result with the loader's digest.
 * It returns to entry.S only when the capture kernel may be started; on any
 * doubt it stops the machine, because booting a capture kernel that the
 * crashed kernel may have scribbled over would cost the dump and could
 * corrupt disks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "purgatory.h"
#include "serial.h"
#include "sha256.h"

_Static_assert(PURGATORY_PARAMS_OFFSET == 0x10, "purgatory.lds places the parameter block at 0x10");
_Static_assert(offsetof(struct purgatory_params, kernel_entry) == PURGATORY_PARAMS_KERNEL_ENTRY,
	       "entry.S reads kernel_entry at PURGATORY_PARAMS_KERNEL_ENTRY");
_Static_assert(offsetof(struct purgatory_params, boot_params) == PURGATORY_PARAMS_BOOT_PARAMS,
	       "entry.S reads boot_params at PURGATORY_PARAMS_BOOT_PARAMS");

/*
 * The loader overwrites this in its copy of the blob. The magic is filled in
 * here too, so that the loader can recognise a blob built for this layout.
 * Compilers give an object this large 32-byte alignment unless told
 * otherwise, which would push it past offset 0x10.
 */
__attribute__((section(".head.params"), used,
	       aligned(16))) struct purgatory_params purgatory_params = {
	.magic = PURGATORY_MAGIC,
};

void purgatory_main(void);

static __attribute__((noreturn)) void halt(void)
{
	serial_puts("purgatory: halted\n");

	/* hlt wakes on NMI or SMI, so it has to be repeated forever. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void print_digest(const char *label, const uint8_t *digest)
{
	unsigned int i;

	serial_puts(label);
	for (i = 0; i < PURGATORY_SHA256_SIZE; i++)
		serial_put_hex(digest[i], 2);
	serial_puts("\n");
}

static void print_ranges(const struct purgatory_params *params)
{
	unsigned int i;

	for (i = 0; i < params->nr_ranges; i++) {
		serial_puts("purgatory: range ");
		serial_put_hex(i, 2);
		serial_puts(" start 0x");
		serial_put_hex(params->ranges[i].start, 16);
		serial_puts(" len 0x");
		serial_put_hex(params->ranges[i].len, 16);
		serial_puts("\n");
	}
}

static bool digest_matches(const struct purgatory_params *params, uint8_t computed[32])
{
	struct purgatory_sha256 ctx;
	unsigned int i;
	uint8_t diff = 0;

	/* Physical addresses serve as pointers: the crashing kernel left an identity map. */
	purgatory_sha256_init(&ctx);
	for (i = 0; i < params->nr_ranges; i++)
		purgatory_sha256_update(&ctx, (const void *)(uintptr_t)params->ranges[i].start,
					params->ranges[i].len);
	purgatory_sha256_final(&ctx, computed);

	for (i = 0; i < PURGATORY_SHA256_SIZE; i++)
		diff |= computed[i] ^ params->sha256[i];
	return diff == 0;
}

/* Called by entry.S on purgatory's own stack and GDT; returns only if the kernel may start. */
void purgatory_main(void)
{
	const struct purgatory_params *params = &purgatory_params;
	uint8_t computed[PURGATORY_SHA256_SIZE];

	/*
	 * Without the magic the block is not one this blob understands, and its
	 * serial_port cannot be trusted with an outb either: stop silently.
	 */
	if (params->magic != PURGATORY_MAGIC)
		halt();

	if (params->flags & PURGATORY_SERIAL)
		serial_init(params->serial_port);

	if (params->nr_ranges > PURGATORY_MAX_RANGES) {
		serial_puts("purgatory: parameter block lists 0x");
		serial_put_hex(params->nr_ranges, 4);
		serial_puts(" ranges, more than the 0x");
		serial_put_hex(PURGATORY_MAX_RANGES, 2);
		serial_puts(" it can hold; not booting the capture kernel\n");
		halt();
	}

	serial_puts("purgatory: verifying the SHA-256 digest of 0x");
	serial_put_hex(params->nr_ranges, 2);
	serial_puts(" ranges\n");

	if (!digest_matches(params, computed)) {
		serial_puts("purgatory: SHA-256 digest mismatch, not booting the capture kernel\n");
		print_digest("purgatory: expected ", params->sha256);
		print_digest("purgatory: computed ", computed);
		print_ranges(params);
		halt();
	}

	serial_puts("purgatory: digest ok, starting the capture kernel at 0x");
	serial_put_hex(params->kernel_entry, 16);
	serial_puts("\n");
}
