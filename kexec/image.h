/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A kexec_load image being put together: its segments, where each goes,
 * which the digest covers, and the free memory placement hands out.
 */
#ifndef KEXEC_IMAGE_H
#define KEXEC_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "memrange.h"
#include "util.h"

#define KEXEC_MAX_SEGMENTS 16

struct segment {
	const char *name;
	const void *buf;
	uint64_t bufsz;
	uint64_t mem;
	uint64_t memsz;
	bool digest; /* covered by purgatory's SHA-256 */
};

struct image {
	struct segment seg[KEXEC_MAX_SEGMENTS];
	unsigned int nr_segments;
	uint64_t entry;
	struct range_list free; /* where segments may still go */
};

/* Place a segment of memsz bytes, highest address first; returns 0 or -1. */
int image_place(struct image *img, uint64_t memsz, uint64_t align, uint64_t min, uint64_t max,
		uint64_t *addr);

/* Record a placed segment; returns its index or -1. */
int image_add_segment(struct image *img, const char *name, const void *buf, uint64_t bufsz,
		      uint64_t mem, uint64_t memsz, bool digest);

/* Order the segments by address; segments never overlap, so the order is total. */
void image_sort(struct image *img);

/*
 * Fill purgatory's parameter block in the copy at params and compute the
 * digest over every segment marked for it.
 */
struct purgatory_params;
int image_digest(const struct image *img, struct purgatory_params *params);

void image_print(const struct image *img);

#endif
