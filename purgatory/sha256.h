/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4) for purgatory. Freestanding: no libc, no allocation,
 * so the same source builds into the blob and into the host unit test.
 *
 * The names carry a purgatory_ prefix so that the host test can include
 * Nettle's <nettle/sha2.h>, whose sha256_* names are macros, next to this one.
 */
#ifndef PURGATORY_SHA256_H
#define PURGATORY_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define PURGATORY_SHA256_BLOCK 64

struct purgatory_sha256 {
	uint32_t state[8];
	uint64_t length; /* bytes fed so far */
	uint8_t block[PURGATORY_SHA256_BLOCK]; /* a partial block waiting for more input */
};

void purgatory_sha256_init(struct purgatory_sha256 *ctx);
void purgatory_sha256_update(struct purgatory_sha256 *ctx, const void *data, size_t len);
void purgatory_sha256_final(struct purgatory_sha256 *ctx, uint8_t digest[32]);

#endif
