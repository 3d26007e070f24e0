// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Segment placement and the digest. Segments are placed top-down in the
 * allowed memory, aligned, never overlapping; the digest is the one rule of
 * what purgatory verifies: every segment marked for it, in segment order.
 */
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "purgatory.h"

int image_place(struct image *img, uint64_t memsz, uint64_t align, uint64_t min, uint64_t max,
		uint64_t *addr)
{
	size_t i;

	memsz = align_up(memsz, PAGE_SIZE);
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	for (i = img->free.n; i-- > 0;) {
		const struct mem_range *r = &img->free.r[i];
		uint64_t lo = r->start > min ? r->start : min;
		uint64_t hi = r->end < max ? r->end : max;
		uint64_t at;

		if (hi <= lo || hi - lo < memsz)
			continue;
		at = align_down(hi - memsz, align);
		if (at < lo)
			continue;
		*addr = at;
		return ranges_exclude(&img->free, at, at + memsz);
	}
	return -1;
}

int image_add_segment(struct image *img, const char *name, const void *buf, uint64_t bufsz,
		      uint64_t mem, uint64_t memsz, bool digest)
{
	struct segment *s;

	if (img->nr_segments == KEXEC_MAX_SEGMENTS)
		return kx_error("more than %d segments", KEXEC_MAX_SEGMENTS);
	s = &img->seg[img->nr_segments];
	*s = (struct segment){
		.name = name,
		.buf = buf,
		.bufsz = bufsz,
		.mem = mem,
		.memsz = align_up(memsz, PAGE_SIZE),
		.digest = digest,
	};
	return (int)img->nr_segments++;
}

static int cmp_segment(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->mem < y->mem ? -1 : x->mem > y->mem;
}

void image_sort(struct image *img)
{
	qsort(img->seg, img->nr_segments, sizeof(img->seg[0]), cmp_segment);
}

int image_digest(const struct image *img, struct purgatory_params *params)
{
	struct sha256_ctx ctx;
	unsigned int i, n = 0;

	sha256_init(&ctx);
	for (i = 0; i < img->nr_segments; i++) {
		const struct segment *s = &img->seg[i];

		if (!s->digest || !s->bufsz)
			continue;
		if (n == PURGATORY_MAX_RANGES)
			return kx_error("more than %d segments to digest", PURGATORY_MAX_RANGES);
		params->ranges[n].start = s->mem;
		params->ranges[n].len = s->bufsz;
		sha256_update(&ctx, s->bufsz, s->buf);
		n++;
	}
	params->nr_ranges = (uint16_t)n;
	sha256_digest(&ctx, sizeof(params->sha256), params->sha256);
	return 0;
}

void image_print(const struct image *img)
{
	unsigned int i;

	kx_debug("segments: %u, entry 0x%" PRIx64 "\n", img->nr_segments, img->entry);
	for (i = 0; i < img->nr_segments; i++) {
		const struct segment *s = &img->seg[i];

		kx_debug("  segment %u %-12s mem 0x%010" PRIx64 "-0x%010" PRIx64
			 " memsz 0x%08" PRIx64 " bufsz 0x%08" PRIx64 " %s\n",
			 i, s->name, s->mem, s->mem + s->memsz - 1, s->memsz, s->bufsz,
			 s->digest ? "digest" : "not in digest");
	}
}
