/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every part of the loader: error reporting, the -d
 * log, size parsing, a growable byte buffer and whole-file reading (with
 * gzip and xz decompression for kernel images).
 */
#ifndef KEXEC_UTIL_H
#define KEXEC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ULL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

/* Print "kexec: MESSAGE" on stderr and return -1, for "return kx_error(...)". */
int kx_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kx_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The -d log: printed to stdout only when debug output was asked for. */
extern bool kx_debug_enabled;
void kx_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse a size: decimal or 0x hex, with an optional K, M or G suffix (powers
 * of 1024). Returns 0, or -1 for anything else (empty, negative, trailing
 * junk, overflow).
 */
int parse_size(const char *s, uint64_t *out);

/* Human-readable size for messages, e.g. "256 MiB" or "0x1a3 bytes". */
const char *fmt_size(uint64_t size, char *buf, size_t len);

struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

int buf_append(struct buf *b, const void *data, size_t len);
/* Make room for len zeroed bytes past b->len (b->len is unchanged). */
int buf_reserve_zero(struct buf *b, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);

/*
 * Open a file to load: it must be a regular, non-empty file.
 * Returns the descriptor (size in *size if given) or -1 after a message.
 */
int open_regular_file(const char *path, uint64_t *size);

/*
 * Read a whole file into memory. With decompress set, a gzip or xz file is
 * decompressed on the way in; *was_compressed tells which happened.
 * Errors are reported with the path named; returns 0 or -1.
 */
int read_whole_file(const char *path, bool decompress, struct buf *out, bool *was_compressed);

#endif
