/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 zero page (boot_params, Documentation/arch/x86/zero-page.rst) the
 * new kernel is entered with, followed in the same segment by its command
 * line and, past 128 entries, the rest of its e820 map as setup_data.
 */
#ifndef KEXEC_X86_64_BOOTPARAMS_H
#define KEXEC_X86_64_BOOTPARAMS_H

#include <stdint.h>

#include "arch/x86_64/bzimage.h"
#include "memrange.h"
#include "util.h"

#define BP_SIZE 4096
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define E820_ENTRY_SIZE 20
#define SETUP_E820_EXT 1

struct boot_setup {
	const struct bzimage *bz;
	uint64_t kernel_addr;
	uint64_t initrd_addr;
	uint64_t initrd_size;
	const char *cmdline;
	const struct range_list *memmap;
	uint64_t acpi_rsdp;
};

/* Bytes the segment needs: zero page, command line, e820 overflow. */
uint64_t bootparams_size(const struct boot_setup *bs);

/* Build the segment for load address addr. Fails if the command line is too long. */
int bootparams_build(const struct boot_setup *bs, uint64_t addr, struct buf *out);

#endif
