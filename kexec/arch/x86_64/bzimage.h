/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 bzImage format: the real-mode setup sectors with the setup header
 * (Documentation/arch/x86/boot.rst), followed by the protected-mode payload.
 */
#ifndef KEXEC_X86_64_BZIMAGE_H
#define KEXEC_X86_64_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Offsets in the file, which are also the offsets in boot_params. */
#define BZ_SETUP_HDR 0x1f1
#define BZ_SETUP_SECTS 0x1f1
#define BZ_SYSSIZE 0x1f4
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_CODE32_START 0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_MIN_ALIGNMENT 0x235
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_HARDWARE_SUBARCH 0x23c
#define BZ_SETUP_DATA 0x250
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260

#define BZ_LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* The 64-bit entry point is this far into the protected-mode code. */
#define BZ_ENTRY64_OFFSET 0x200
#define BZ_MIN_VERSION 0x020c

struct bzimage {
	const unsigned char *file; /* the whole image, owned by the caller */
	size_t file_size;
	const unsigned char *payload; /* protected-mode code */
	size_t payload_size;
	size_t setup_size; /* bytes before the payload */
	size_t header_end; /* end of the setup header in the file */
	uint16_t version;
	uint8_t xloadflags;
	bool relocatable;
	uint64_t kernel_alignment;
	uint64_t min_alignment;
	uint64_t pref_address;
	uint64_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
};

/*
 * Check that the file is a bzImage this loader can boot through the 64-bit
 * entry, and describe it. Messages name the path and the field at fault.
 */
int bzimage_parse(const char *path, const unsigned char *file, size_t size, struct bzimage *bz);

#endif
