// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test for purgatory's SHA-256 (purgatory/sha256.c built for the host):
 * every digest is compared with Nettle's, over the FIPS 180 examples, every
 * length that exercises the padding, a large buffer, awkward chunkings and
 * discontiguous ranges hashed as one stream the way purgatory does it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs the headers above to be included first. */
#include <cmocka.h>
#include <nettle/sha2.h>

#include "purgatory.h"
#include "sha256.h"

#define DIGEST_SIZE 32
#define MIB (1024 * 1024)

static void ours(const void *data, size_t len, uint8_t digest[DIGEST_SIZE])
{
	struct purgatory_sha256 ctx;

	purgatory_sha256_init(&ctx);
	purgatory_sha256_update(&ctx, data, len);
	purgatory_sha256_final(&ctx, digest);
}

static void nettle(const void *data, size_t len, uint8_t digest[DIGEST_SIZE])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, data);
	sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
}

/* Deterministic filler (xorshift64), so a failure can be reproduced exactly. */
static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = x >> 24;
	}
}

static void assert_agrees(const void *data, size_t len)
{
	uint8_t a[DIGEST_SIZE], b[DIGEST_SIZE];

	ours(data, len, a);
	nettle(data, len, b);
	assert_memory_equal(a, b, DIGEST_SIZE);
}

/* A published vector: ours gives it, and Nettle agrees. */
static void assert_known(const void *data, size_t len, const uint8_t *expected)
{
	uint8_t digest[DIGEST_SIZE];

	ours(data, len, digest);
	assert_memory_equal(digest, expected, DIGEST_SIZE);
	assert_agrees(data, len);
}

static void test_empty(void **state)
{
	/* FIPS 180-2 gives no empty example; this value is the well known SHA-256(""). */
	static const uint8_t expected[DIGEST_SIZE] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
		0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
		0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
	};

	assert_known("", 0, expected);
}

static void test_fips_abc(void **state)
{
	static const uint8_t expected[DIGEST_SIZE] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};

	assert_known("abc", 3, expected);
}

/* The two-block FIPS example: its padding does not fit in the first block. */
static void test_fips_two_blocks(void **state)
{
	static const char msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const uint8_t expected[DIGEST_SIZE] = {
		0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26,
		0x93, 0x0c, 0x3e, 0x60, 0x39, 0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff,
		0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1,
	};

	assert_known(msg, strlen(msg), expected);
}

/* 0..300 covers empty, every padding case around 55/56/64 bytes and several blocks. */
static void test_lengths(void **state)
{
	uint8_t buf[301];
	size_t len;

	fill(buf, sizeof(buf), 0x5eed);
	for (len = 0; len <= 300; len++) {
		assert_agrees(buf, len);
		/* An odd start address too: purgatory's ranges need not be aligned. */
		if (len < 300)
			assert_agrees(buf + 1, len);
	}
}

/* Splitting one input at every point must not change the digest. */
static void test_split_points(void **state)
{
	uint8_t buf[200], whole[DIGEST_SIZE], split[DIGEST_SIZE];
	struct purgatory_sha256 ctx;
	size_t cut;

	fill(buf, sizeof(buf), 42);
	nettle(buf, sizeof(buf), whole);
	for (cut = 0; cut <= sizeof(buf); cut++) {
		purgatory_sha256_init(&ctx);
		purgatory_sha256_update(&ctx, buf, cut);
		purgatory_sha256_update(&ctx, buf + cut, sizeof(buf) - cut);
		purgatory_sha256_final(&ctx, split);
		assert_memory_equal(split, whole, DIGEST_SIZE);
	}
}

static void test_one_mib(void **state)
{
	static const size_t chunks[] = { 1, 63, 64, 65, 1000, 4096 };
	uint8_t expected[DIGEST_SIZE], digest[DIGEST_SIZE];
	uint8_t *buf = malloc(MIB);
	struct purgatory_sha256 ctx;
	size_t i, off;

	assert_non_null(buf);
	fill(buf, MIB, 0x1234567);
	nettle(buf, MIB, expected);

	ours(buf, MIB, digest);
	assert_memory_equal(digest, expected, DIGEST_SIZE);

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		purgatory_sha256_init(&ctx);
		for (off = 0; off < MIB; off += chunks[i]) {
			size_t n = MIB - off < chunks[i] ? MIB - off : chunks[i];

			purgatory_sha256_update(&ctx, buf + off, n);
		}
		purgatory_sha256_final(&ctx, digest);
		assert_memory_equal(digest, expected, DIGEST_SIZE);
	}
	free(buf);
}

/* Hashes the ranges in order as one stream, as purgatory.c does (physical = virtual there). */
static void hash_ranges(const struct purgatory_range *ranges, size_t n, uint8_t digest[DIGEST_SIZE])
{
	struct purgatory_sha256 ctx;
	size_t i;

	purgatory_sha256_init(&ctx);
	for (i = 0; i < n; i++) {
		const void *p = (const void *)(uintptr_t)ranges[i].start;

		purgatory_sha256_update(&ctx, p, ranges[i].len);
	}
	purgatory_sha256_final(&ctx, digest);
}

/*
 * What purgatory does at panic time: ranges scattered over memory, with gaps
 * between them, hashed in order as one stream. The loader computes the same
 * digest over its segment buffers, so Nettle gets the concatenation.
 */
static void test_discontiguous_ranges(void **state)
{
	static const struct {
		size_t off, len;
	} layout[] = {
		{ 0x0, 0x1000 },   { 0x1800, 0x37 }, { 0x2000, 0 },
		{ 0x2041, 0x1c3 }, { 0x3000, 0x40 }, { 0x3100, 0x10001 },
	};
	const size_t n = sizeof(layout) / sizeof(layout[0]);
	uint8_t expected[DIGEST_SIZE], digest[DIGEST_SIZE];
	struct purgatory_range ranges[PURGATORY_MAX_RANGES];
	uint8_t *memory, *joined;
	size_t i, total = 0;

	assert_true(n <= PURGATORY_MAX_RANGES);
	memory = malloc(0x20000);
	joined = malloc(0x20000);
	assert_non_null(memory);
	assert_non_null(joined);
	fill(memory, 0x20000, 7);

	for (i = 0; i < n; i++) {
		ranges[i].start = (uintptr_t)memory + layout[i].off;
		ranges[i].len = layout[i].len;
		memcpy(joined + total, memory + layout[i].off, layout[i].len);
		total += layout[i].len;
	}
	nettle(joined, total, expected);

	hash_ranges(ranges, n, digest);
	assert_memory_equal(digest, expected, DIGEST_SIZE);

	/* And the digest must notice one flipped byte inside a range, not just at its ends. */
	memory[0x3100 + 0x8000] ^= 1;
	hash_ranges(ranges, n, digest);
	assert_memory_not_equal(digest, expected, DIGEST_SIZE);

	free(joined);
	free(memory);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fips_abc),
		cmocka_unit_test(test_fips_two_blocks),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_split_points),
		cmocka_unit_test(test_one_mib),
		cmocka_unit_test(test_discontiguous_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
