// SPDX-License-Identifier: GPL-2.0-or-later
/* Physical range lists: add, sort, cut out, merge. */
#include <stdlib.h>
#include <string.h>

#include "memrange.h"
#include "util.h"

int ranges_add(struct range_list *l, uint64_t start, uint64_t end, uint32_t type)
{
	if (end <= start)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct mem_range *r = realloc(l->r, cap * sizeof(*r));

		if (!r)
			return kx_error("out of memory for a range list of %zu entries", cap);
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n++] = (struct mem_range){ .start = start, .end = end, .type = type };
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct mem_range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

void ranges_sort(struct range_list *l)
{
	if (l->n > 1)
		qsort(l->r, l->n, sizeof(*l->r), cmp_range);
}

int ranges_exclude(struct range_list *l, uint64_t start, uint64_t end)
{
	size_t i, n = l->n;

	if (end <= start)
		return 0;
	for (i = 0; i < n; i++) {
		struct mem_range *r = &l->r[i];

		if (r->end <= start || r->start >= end)
			continue;
		if (r->start < start && r->end > end) {
			uint64_t tail_end = r->end;
			uint32_t type = r->type;

			r->end = start;
			/* ranges_add may move the array: r is not used after it. */
			if (ranges_add(l, end, tail_end, type))
				return -1;
			continue;
		}
		if (r->start >= start && r->end <= end) {
			r->end = r->start; /* emptied, dropped below */
			continue;
		}
		if (r->start < start)
			r->end = start;
		else
			r->start = end;
	}

	/* Drop the emptied entries. */
	for (i = 0, n = 0; i < l->n; i++)
		if (l->r[i].end > l->r[i].start)
			l->r[n++] = l->r[i];
	l->n = n;
	ranges_sort(l);
	return 0;
}

void ranges_merge(struct range_list *l)
{
	size_t i, n = 0;

	ranges_sort(l);
	for (i = 0; i < l->n; i++) {
		if (n && l->r[n - 1].type == l->r[i].type && l->r[i].start <= l->r[n - 1].end) {
			if (l->r[i].end > l->r[n - 1].end)
				l->r[n - 1].end = l->r[i].end;
			continue;
		}
		l->r[n++] = l->r[i];
	}
	l->n = n;
}

uint64_t ranges_total(const struct range_list *l)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < l->n; i++)
		total += l->r[i].end - l->r[i].start;
	return total;
}

void ranges_free(struct range_list *l)
{
	free(l->r);
	memset(l, 0, sizeof(*l));
}
