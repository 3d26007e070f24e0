// SPDX-License-Identifier: GPL-2.0-or-later
/* Building boot_params for the 64-bit entry of a bzImage. */
#include <string.h>

#include "arch/x86_64/bootparams.h"

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t ext_e820_bytes(const struct boot_setup *bs)
{
	if (bs->memmap->n <= BP_E820_MAX)
		return 0;
	return 16 + (bs->memmap->n - BP_E820_MAX) * E820_ENTRY_SIZE;
}

static uint64_t cmdline_bytes(const struct boot_setup *bs)
{
	return align_up(strlen(bs->cmdline) + 1, 16);
}

uint64_t bootparams_size(const struct boot_setup *bs)
{
	return BP_SIZE + cmdline_bytes(bs) + ext_e820_bytes(bs);
}

static void put_e820(unsigned char *p, const struct mem_range *r)
{
	put64(p, r->start);
	put64(p + 8, r->end - r->start);
	put32(p + 16, r->type);
}

int bootparams_build(const struct boot_setup *bs, uint64_t addr, struct buf *out)
{
	const struct bzimage *bz = bs->bz;
	size_t cmdlen = strlen(bs->cmdline);
	uint64_t size = bootparams_size(bs), cmdline_addr = addr + BP_SIZE;
	unsigned char *bp;
	size_t i, n_zero_page;

	if (cmdlen > bz->cmdline_size)
		return kx_error("the command line is %zu bytes; this kernel takes at most %u "
				"(cmdline_size)",
				cmdlen, bz->cmdline_size);
	if (!(bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) && addr + size > (1ULL << 32))
		return kx_error(
			"boot_params at 0x%llx is above 4 GiB, which this kernel cannot read",
			(unsigned long long)addr);

	out->len = 0;
	if (buf_reserve_zero(out, size))
		return -1;
	bp = out->data;

	/* The setup header comes from the image, then the loader's fields. */
	memcpy(bp + BZ_SETUP_HDR, bz->file + BZ_SETUP_HDR, bz->header_end - BZ_SETUP_HDR);
	bp[BP_SENTINEL] = 0;
	bp[BZ_TYPE_OF_LOADER] = 0xff;
	bp[BZ_LOADFLAGS] |= BZ_LOADED_HIGH;
	put32(bp + BZ_CODE32_START, (uint32_t)bs->kernel_addr);
	put32(bp + BZ_RAMDISK_IMAGE, (uint32_t)bs->initrd_addr);
	put32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(bs->initrd_addr >> 32));
	put32(bp + BZ_RAMDISK_SIZE, (uint32_t)bs->initrd_size);
	put32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(bs->initrd_size >> 32));
	put32(bp + BZ_CMD_LINE_PTR, (uint32_t)cmdline_addr);
	put32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline_addr >> 32));
	put32(bp + BZ_HARDWARE_SUBARCH, 0);
	put64(bp + BP_ACPI_RSDP, bs->acpi_rsdp);
	memcpy(bp + BP_SIZE, bs->cmdline, cmdlen + 1);

	n_zero_page = bs->memmap->n < BP_E820_MAX ? bs->memmap->n : BP_E820_MAX;
	bp[BP_E820_ENTRIES] = (unsigned char)n_zero_page;
	for (i = 0; i < n_zero_page; i++)
		put_e820(bp + BP_E820_TABLE + i * E820_ENTRY_SIZE, &bs->memmap->r[i]);

	put64(bp + BZ_SETUP_DATA, 0);
	if (ext_e820_bytes(bs)) {
		uint64_t sd_off = BP_SIZE + cmdline_bytes(bs);
		unsigned char *sd = bp + sd_off;
		size_t extra = bs->memmap->n - BP_E820_MAX;

		put64(sd, 0);
		put32(sd + 8, SETUP_E820_EXT);
		put32(sd + 12, (uint32_t)(extra * E820_ENTRY_SIZE));
		for (i = 0; i < extra; i++)
			put_e820(sd + 16 + i * E820_ENTRY_SIZE, &bs->memmap->r[BP_E820_MAX + i]);
		put64(bp + BZ_SETUP_DATA, addr + sd_off);
	}
	out->len = size;
	return 0;
}
