// SPDX-License-Identifier: GPL-2.0-or-later
/* Recognising and describing an x86 bzImage from its setup header. */
#include <string.h>

#include "arch/x86_64/bzimage.h"
#include "util.h"

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int bzimage_parse(const char *path, const unsigned char *f, size_t size, struct bzimage *bz)
{
	unsigned int setup_sects;
	uint64_t syssize;

	memset(bz, 0, sizeof(*bz));
	if (size < 0x264 || get16(f + BZ_BOOT_FLAG) != 0xaa55 || memcmp(f + BZ_HEADER, "HdrS", 4)) {
		if (size >= 4 && !memcmp(f, "\177ELF", 4))
			return kx_error("%s is an ELF file (vmlinux?), not a bzImage: pass the "
					"bzImage (vmlinuz)",
					path);
		if (size < 0x264 && size >= 0x206 && !memcmp(f + BZ_HEADER, "HdrS", 4))
			return kx_error("%s is truncated: %zu bytes end inside the setup header",
					path, size);
		return kx_error(
			"%s is not an x86 bzImage (no boot flag 0xaa55 and \"HdrS\" setup header)",
			path);
	}

	bz->version = get16(f + BZ_VERSION);
	if (bz->version < BZ_MIN_VERSION)
		return kx_error("%s uses boot protocol %u.%02u; this loader needs 2.12 or later",
				path, bz->version >> 8, bz->version & 0xff);

	bz->xloadflags = f[BZ_XLOADFLAGS];
	if (!(bz->xloadflags & XLF_KERNEL_64))
		return kx_error("%s has no 64-bit entry point (xloadflags 0x%x lacks "
				"XLF_KERNEL_64): not an x86_64 kernel",
				path, bz->xloadflags);

	setup_sects = f[BZ_SETUP_SECTS] ? f[BZ_SETUP_SECTS] : 4;
	bz->setup_size = (size_t)(setup_sects + 1) * 512;
	bz->header_end = BZ_JUMP + 2 + f[BZ_JUMP + 1];
	if (bz->header_end > bz->setup_size || bz->header_end < BZ_INIT_SIZE + 8)
		return kx_error(
			"%s has a setup header ending at 0x%zx, outside its %u setup sectors", path,
			bz->header_end, setup_sects);
	syssize = (uint64_t)get32(f + BZ_SYSSIZE) * 16;
	if (bz->setup_size >= size)
		return kx_error("%s is truncated: %zu bytes, but its setup code alone is %zu bytes",
				path, size, bz->setup_size);
	if (syssize && bz->setup_size + syssize > size)
		return kx_error("%s is truncated: %zu bytes, but its header says %llu (setup 0x%zx "
				"+ payload 0x%llx)",
				path, size, (unsigned long long)(bz->setup_size + syssize),
				bz->setup_size, (unsigned long long)syssize);

	bz->file = f;
	bz->file_size = size;
	bz->payload = f + bz->setup_size;
	bz->payload_size = size - bz->setup_size;
	bz->relocatable = f[BZ_RELOCATABLE] != 0;
	bz->kernel_alignment = get32(f + BZ_KERNEL_ALIGNMENT);
	bz->min_alignment = f[BZ_MIN_ALIGNMENT] < 32 ? 1ULL << f[BZ_MIN_ALIGNMENT] : 0;
	bz->pref_address = get64(f + BZ_PREF_ADDRESS);
	bz->init_size = get32(f + BZ_INIT_SIZE);
	bz->initrd_addr_max = get32(f + BZ_INITRD_ADDR_MAX);
	bz->cmdline_size = get32(f + BZ_CMDLINE_SIZE);

	if (!bz->kernel_alignment || (bz->kernel_alignment & (bz->kernel_alignment - 1)))
		return kx_error("%s: kernel_alignment 0x%llx is not a power of two", path,
				(unsigned long long)bz->kernel_alignment);
	if (bz->min_alignment < PAGE_SIZE || bz->min_alignment > bz->kernel_alignment)
		bz->min_alignment = bz->kernel_alignment;
	if (bz->init_size < bz->payload_size)
		bz->init_size = bz->payload_size;
	if (!bz->cmdline_size)
		bz->cmdline_size = 255;
	return 0;
}
