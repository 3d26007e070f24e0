/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The crash dump side of a capture-kernel load: which memory is the crash
 * region, which RAM the dump must describe, the elfcorehdr itself and how
 * much room it gets, and the memory map the capture kernel may use.
 */
#ifndef KEXEC_CRASHDUMP_H
#define KEXEC_CRASHDUMP_H

#include <stdbool.h>
#include <stdint.h>

#include "memrange.h"
#include "sysview.h"
#include "util.h"

/* The most memory ranges the kernel's rebuilt header can hold, as it sizes it. */
#define CRASH_MAX_MEMORY_RANGES 8192
/* The dump never describes the first MiB: the running kernel reserves it. */
#define CRASH_LOW_RESERVED (1ULL << 20)

/* "Crash kernel" entries of /proc/iomem, sorted; empty when none is reserved. */
int crash_regions(const struct sysview *sv, struct range_list *out);

/*
 * The region crash segments must go in: the kernel accepts them only in its
 * main crash region, not in the low one that crashkernel=...,high adds. It
 * is the one /sys/kernel/kexec_crash_size measures, else the highest.
 */
struct mem_range crash_load_region(const struct sysview *sv, const struct range_list *crash);

/* System RAM the dump must contain: all of it but the crash regions and the first MiB. */
int crash_ram_ranges(const struct sysview *sv, const struct range_list *crash,
		     struct range_list *out);

/*
 * Build the ELF64 core header: a PT_NOTE per present CPU, one for
 * vmcoreinfo, a PT_LOAD for the kernel text and one per RAM range.
 */
int build_elfcorehdr(const struct sysview *sv, const struct range_list *ram, struct buf *out);

/* Possible CPUs, or the configured count where the possible mask is unreadable. */
unsigned int get_nr_cpus(const struct sysview *sv);

enum elfcorehdr_size_source {
	ELFCOREHDR_SIZE_OPTION, /* --elfcorehdrsz */
	ELFCOREHDR_SIZE_KERNEL, /* /sys/kernel/crash_elfcorehdr_size */
	ELFCOREHDR_SIZE_COMPUTED, /* possible CPUs and CRASH_MAX_MEMORY_RANGES */
	ELFCOREHDR_SIZE_BUILT, /* the header as built now, no room to grow */
};

struct elfcorehdr_size_request {
	bool hotplug;
	bool option_set;
	uint64_t option; /* --elfcorehdrsz in bytes */
	const char *option_arg; /* as typed */
	uint64_t built; /* bytes of the header built now */
	uint64_t crash_size; /* bytes of the crash region the segments go in */
};

/* Decide the elfcorehdr segment's memsz (page-rounded) and why; 0 or -1. */
int get_elfcorehdrsz(const struct sysview *sv, const struct elfcorehdr_size_request *req,
		     uint64_t *memsz, enum elfcorehdr_size_source *source);
const char *elfcorehdr_size_source_name(enum elfcorehdr_size_source source);

/*
 * The capture kernel's memory map: RAM below 1 MiB and the crash regions
 * less the elfcorehdr, plus ACPI, NVS and reserved ranges as they are.
 */
int capture_memmap(const struct sysview *sv, const struct range_list *crash, uint64_t elfcorehdr,
		   uint64_t elfcorehdr_memsz, struct range_list *out);

#endif
