/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lists of physical address ranges, half-open [start, end), each with a
 * type: the crash regions, RAM, the capture kernel's memory map and the free
 * space placement hands out are all one of these.
 */
#ifndef KEXEC_MEMRANGE_H
#define KEXEC_MEMRANGE_H

#include <stddef.h>
#include <stdint.h>

/* The e820 types the capture kernel's memory map uses. */
enum mem_type {
	MEM_RAM = 1,
	MEM_RESERVED = 2,
	MEM_ACPI = 3,
	MEM_NVS = 4,
};

struct mem_range {
	uint64_t start;
	uint64_t end; /* exclusive */
	uint32_t type;
};

struct range_list {
	struct mem_range *r;
	size_t n;
	size_t cap;
};

int ranges_add(struct range_list *l, uint64_t start, uint64_t end, uint32_t type);
void ranges_sort(struct range_list *l);
/* Remove [start, end) from every range, splitting where needed. */
int ranges_exclude(struct range_list *l, uint64_t start, uint64_t end);
/* Sort, then join ranges that touch or overlap and have the same type. */
void ranges_merge(struct range_list *l);
uint64_t ranges_total(const struct range_list *l);
void ranges_free(struct range_list *l);

#endif
