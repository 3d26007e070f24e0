// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SHA-256 (FIPS 180-4), written for purgatory: plain C over general purpose
 * registers only, since purgatory runs with no FPU or SSE state to use.
 *
 * Input bytes are assembled into big-endian words one byte at a time, which
 * makes the code independent of the host's byte order and of the alignment
 * of the ranges it is handed.
 */
#include "sha256.h"

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t round_constants[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void compress(uint32_t state[8], const uint8_t *block)
{
	uint32_t w[64];
	uint32_t a, b, c, d, e, f, g, h;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(block + 4 * i);
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}

	a = state[0];
	b = state[1];
	c = state[2];
	d = state[3];
	e = state[4];
	f = state[5];
	g = state[6];
	h = state[7];

	for (i = 0; i < 64; i++) {
		uint32_t sum1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
		uint32_t choose = (e & f) ^ (~e & g);
		uint32_t t1 = h + sum1 + choose + round_constants[i] + w[i];
		uint32_t sum0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
		uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = sum0 + majority;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}

	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

void purgatory_sha256_init(struct purgatory_sha256 *ctx)
{
	/* First 32 bits of the fractional parts of the square roots of the first 8 primes. */
	ctx->state[0] = 0x6a09e667;
	ctx->state[1] = 0xbb67ae85;
	ctx->state[2] = 0x3c6ef372;
	ctx->state[3] = 0xa54ff53a;
	ctx->state[4] = 0x510e527f;
	ctx->state[5] = 0x9b05688c;
	ctx->state[6] = 0x1f83d9ab;
	ctx->state[7] = 0x5be0cd19;
	ctx->length = 0;
}

void purgatory_sha256_update(struct purgatory_sha256 *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = ctx->length % PURGATORY_SHA256_BLOCK;

	ctx->length += len;

	/* Top up a partial block left by an earlier call first, so that ranges join seamlessly. */
	if (used) {
		while (len && used < PURGATORY_SHA256_BLOCK) {
			ctx->block[used++] = *p++;
			len--;
		}
		if (used < PURGATORY_SHA256_BLOCK)
			return;
		compress(ctx->state, ctx->block);
	}

	/* Whole blocks straight from the input: the bulk of a kernel or initrd is never copied. */
	while (len >= PURGATORY_SHA256_BLOCK) {
		compress(ctx->state, p);
		p += PURGATORY_SHA256_BLOCK;
		len -= PURGATORY_SHA256_BLOCK;
	}

	for (used = 0; used < len; used++)
		ctx->block[used] = p[used];
}

void purgatory_sha256_final(struct purgatory_sha256 *ctx, uint8_t digest[32])
{
	uint64_t bits = ctx->length * 8;
	size_t used = ctx->length % PURGATORY_SHA256_BLOCK;
	int i;

	ctx->block[used++] = 0x80;

	/* The 64-bit length must end a block: if it no longer fits after the 0x80, add a block. */
	if (used > PURGATORY_SHA256_BLOCK - 8) {
		while (used < PURGATORY_SHA256_BLOCK)
			ctx->block[used++] = 0;
		compress(ctx->state, ctx->block);
		used = 0;
	}
	while (used < PURGATORY_SHA256_BLOCK - 8)
		ctx->block[used++] = 0;

	for (i = 0; i < 8; i++)
		ctx->block[PURGATORY_SHA256_BLOCK - 1 - i] = bits >> (8 * i);
	compress(ctx->state, ctx->block);

	for (i = 0; i < 8; i++)
		store_be32(digest + 4 * i, ctx->state[i]);
}
