/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loader's view of the running system. This is the only module that
 * knows /proc and /sys paths; every path is read below a root prefix so the
 * tests can point the whole loader at a fixture tree.
 */
#ifndef KEXEC_SYSVIEW_H
#define KEXEC_SYSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memrange.h"

struct iomem_entry {
	uint64_t start;
	uint64_t end; /* exclusive */
	unsigned int depth; /* nesting level, 0 for top-level entries */
	char name[64];
};

struct cpu_note {
	unsigned int cpu;
	uint64_t addr;
	uint64_t size;
};

/* Whether a sysfs value could be used. */
enum sv_state {
	SV_MISSING = 0,
	SV_OK = 1,
	SV_MALFORMED = 2,
};

struct sysview {
	const char *root;

	struct iomem_entry *iomem;
	size_t nr_iomem;

	/* /sys/kernel/kexec_crash_size: the region crash segments must lie in. */
	uint64_t kexec_crash_size;
	bool crash_read; /* sysview_read_crash() has run */

	/* Present CPUs with their crash notes. */
	struct cpu_note *notes;
	size_t nr_notes;

	/* Possible CPUs; state SV_MISSING or SV_MALFORMED means "not known". */
	enum sv_state possible_state;
	unsigned int nr_possible;
	unsigned int nr_cpu_dirs; /* cpuN directories: the configured count */

	enum sv_state vmcoreinfo_state;
	uint64_t vmcoreinfo_addr;
	uint64_t vmcoreinfo_size;

	bool have_text; /* _text and _end from kallsyms, non-zero */
	uint64_t text_vaddr;
	uint64_t end_vaddr;

	bool have_page_offset; /* direct-map base, from /proc/kcore */
	uint64_t page_offset;

	enum sv_state elfcorehdr_size_state;
	uint64_t crash_elfcorehdr_size;
	bool cpu_crash_hotplug; /* /sys/devices/system/cpu/crash_hotplug exists */
	bool memory_crash_hotplug;

	uint64_t acpi_rsdp; /* 0 when unknown: the capture kernel then scans for it */
};

/* Parse a CPU list such as "0-3,8-11" or "0"; counts the CPUs. */
int parse_cpu_list(const char *s, unsigned int *count, unsigned int *max_cpu);

/*
 * Read what every load needs: the memory map and the crash region size.
 * Errors name the file at fault.
 */
int sysview_read(struct sysview *sv, const char *root);

/* Add what a kexec_load crash image needs: CPUs, crash notes, vmcoreinfo, hotplug. */
int sysview_read_crash(struct sysview *sv);

/*
 * /proc/iomem entries of one name as ranges of one type, at any depth but
 * not nested in an entry of the same name.
 */
int sysview_iomem_ranges(const struct sysview *sv, const char *name, uint32_t type,
			 struct range_list *out);

/*
 * The firmware memory map as booted (/sys/firmware/memmap), as e820 types;
 * falls back to the top level of /proc/iomem in sv.
 */
int sysview_firmware_memmap(const struct sysview *sv, struct range_list *out);
void sysview_free(struct sysview *sv);

/*
 * Single values for actions that need no full view. Each returns 1 or 0 for
 * a flag that was read, -1 when it could not be read.
 */
int sysview_kexec_loaded(const char *root, bool crash);
/* Whether the running kernel can rewrite a capture kernel's elfcorehdr (6.6+). */
bool sysview_crash_hotplug(const char *root);
/* /proc/sys/kernel/kexec_load_disabled: 1, 0, or -1 when unreadable. */
int sysview_kexec_load_disabled(const char *root);
/* The active lockdown mode ("none", "integrity", "confidentiality") or "". */
void sysview_lockdown(const char *root, char *mode, size_t len);
/* /proc/cmdline, trailing newline removed. */
int sysview_cmdline(const char *root, char *buf, size_t len);

#endif
