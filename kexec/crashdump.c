// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Crash dump setup: crash regions, the RAM a dump covers, the elfcorehdr and
 * its size, and the capture kernel's memory map. Everything here is computed
 * from the system view alone, so the same inputs always give the same plan.
 */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include "crashdump.h"

/* Where the kernel text is mapped when /proc/kallsyms hides addresses. */
#define DEFAULT_TEXT_VADDR 0xffffffff81000000ULL
/* The direct map's base without KASLR. */
#define DEFAULT_PAGE_OFFSET 0xffff888000000000ULL

static bool is_named(const struct iomem_entry *e, const char *name)
{
	return !strcmp(e->name, name);
}

int crash_regions(const struct sysview *sv, struct range_list *out)
{
	size_t i;

	for (i = 0; i < sv->nr_iomem; i++)
		if (is_named(&sv->iomem[i], "Crash kernel") &&
		    ranges_add(out, sv->iomem[i].start, sv->iomem[i].end, MEM_RAM))
			return -1;
	ranges_sort(out);
	return 0;
}

struct mem_range crash_load_region(const struct sysview *sv, const struct range_list *crash)
{
	size_t i;

	for (i = 0; i < crash->n; i++)
		if (crash->r[i].end - crash->r[i].start == sv->kexec_crash_size)
			return crash->r[i];
	return crash->r[crash->n - 1];
}

int crash_ram_ranges(const struct sysview *sv, const struct range_list *crash,
		     struct range_list *out)
{
	size_t i;

	if (sysview_iomem_ranges(sv, "System RAM", MEM_RAM, out))
		return -1;
	ranges_merge(out);
	if (ranges_exclude(out, 0, CRASH_LOW_RESERVED))
		return -1;
	for (i = 0; i < crash->n; i++)
		if (ranges_exclude(out, crash->r[i].start, crash->r[i].end))
			return -1;
	return 0;
}

static int add_phdr(struct buf *b, uint32_t type, uint32_t flags, uint64_t paddr, uint64_t vaddr,
		    uint64_t size)
{
	Elf64_Phdr ph = {
		.p_type = type,
		.p_flags = flags,
		.p_offset = paddr,
		.p_vaddr = vaddr,
		.p_paddr = paddr,
		.p_filesz = size,
		.p_memsz = size,
	};

	return buf_append(b, &ph, sizeof(ph));
}

static int kernel_text(const struct sysview *sv, uint64_t *paddr, uint64_t *vaddr, uint64_t *size)
{
	uint64_t code_start = 0, last_end = 0;
	size_t i;

	for (i = 0; i < sv->nr_iomem; i++) {
		const struct iomem_entry *e = &sv->iomem[i];

		if (is_named(e, "Kernel code") && !code_start)
			code_start = e->start;
		if (is_named(e, "Kernel code") || is_named(e, "Kernel rodata") ||
		    is_named(e, "Kernel data") || is_named(e, "Kernel bss"))
			if (e->end > last_end)
				last_end = e->end;
	}
	if (!code_start)
		return kx_error("%s/proc/iomem has no \"Kernel code\" entry: cannot describe the "
				"kernel text",
				sv->root);
	*paddr = code_start;
	if (sv->have_text) {
		*vaddr = sv->text_vaddr;
		*size = sv->end_vaddr - sv->text_vaddr;
	} else {
		*vaddr = DEFAULT_TEXT_VADDR;
		*size = last_end - code_start;
		kx_warn("%s/proc/kallsyms hides _text and _end (kptr_restrict?): the kernel text "
			"PT_LOAD gets vaddr 0x%" PRIx64
			", wrong under KASLR; dump tools then rely on "
			"vmcoreinfo",
			sv->root, *vaddr);
	}
	return 0;
}

int build_elfcorehdr(const struct sysview *sv, const struct range_list *ram, struct buf *out)
{
	uint64_t text_paddr = 0, text_vaddr = 0, text_size = 0;
	uint64_t page_offset = sv->have_page_offset ? sv->page_offset : DEFAULT_PAGE_OFFSET;
	size_t nr_phdr, i;
	Elf64_Ehdr eh;

	if (sv->vmcoreinfo_state != SV_OK)
		return kx_error("cannot read %s/sys/kernel/vmcoreinfo: the dump would lack "
				"vmcoreinfo (kernel without CONFIG_CRASH_DUMP?)",
				sv->root);
	if (kernel_text(sv, &text_paddr, &text_vaddr, &text_size))
		return -1;
	if (!sv->have_page_offset)
		kx_warn("no direct-map base from %s/proc/kcore: RAM PT_LOADs get vaddr 0x%" PRIx64
			" + paddr, wrong under KASLR or 5-level paging; dump tools then rely on "
			"vmcoreinfo",
			sv->root, page_offset);

	nr_phdr = sv->nr_notes + 2 + ram->n;
	if (nr_phdr >= PN_XNUM)
		return kx_error("%zu program headers do not fit an ELF header", nr_phdr);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)nr_phdr;
	if (buf_append(out, &eh, sizeof(eh)))
		return -1;

	for (i = 0; i < sv->nr_notes; i++)
		if (add_phdr(out, PT_NOTE, 0, sv->notes[i].addr, 0, sv->notes[i].size))
			return -1;
	if (add_phdr(out, PT_NOTE, 0, sv->vmcoreinfo_addr, 0, sv->vmcoreinfo_size))
		return -1;
	if (add_phdr(out, PT_LOAD, PF_R | PF_W | PF_X, text_paddr, text_vaddr, text_size))
		return -1;
	for (i = 0; i < ram->n; i++)
		if (add_phdr(out, PT_LOAD, PF_R | PF_W | PF_X, ram->r[i].start,
			     page_offset + ram->r[i].start, ram->r[i].end - ram->r[i].start))
			return -1;
	return 0;
}

unsigned int get_nr_cpus(const struct sysview *sv)
{
	if (sv->possible_state == SV_OK && sv->nr_possible)
		return sv->nr_possible;
	if (sv->nr_cpu_dirs)
		return sv->nr_cpu_dirs;
	return (unsigned int)sv->nr_notes;
}

const char *elfcorehdr_size_source_name(enum elfcorehdr_size_source source)
{
	switch (source) {
	case ELFCOREHDR_SIZE_OPTION:
		return "--elfcorehdrsz";
	case ELFCOREHDR_SIZE_KERNEL:
		return "/sys/kernel/crash_elfcorehdr_size";
	case ELFCOREHDR_SIZE_COMPUTED:
		return "possible CPUs and 8192 memory ranges";
	case ELFCOREHDR_SIZE_BUILT:
		return "the header as built now, no room to grow";
	}
	return "?";
}

int get_elfcorehdrsz(const struct sysview *sv, const struct elfcorehdr_size_request *req,
		     uint64_t *memsz, enum elfcorehdr_size_source *source)
{
	uint64_t size, kernel_size = 0;
	char a[32], b[32];

	if (req->hotplug && sv->elfcorehdr_size_state == SV_OK)
		kernel_size = sv->crash_elfcorehdr_size;
	if (req->hotplug && !req->option_set && sv->elfcorehdr_size_state == SV_MALFORMED)
		kx_warn("%s/sys/kernel/crash_elfcorehdr_size is malformed: sizing the elfcorehdr "
			"from the possible CPUs instead",
			sv->root);
	if (!req->option_set && kernel_size && kernel_size < req->built) {
		kx_warn("%s/sys/kernel/crash_elfcorehdr_size (%" PRIu64 ") is smaller than the "
			"elfcorehdr built now (%" PRIu64
			" bytes): sizing it from the possible CPUs "
			"instead",
			sv->root, kernel_size, req->built);
		kernel_size = 0;
	}

	if (req->option_set) {
		size = req->option;
		*source = ELFCOREHDR_SIZE_OPTION;
	} else if (kernel_size) {
		size = kernel_size;
		*source = ELFCOREHDR_SIZE_KERNEL;
	} else if (req->hotplug) {
		uint64_t phdrs = (uint64_t)get_nr_cpus(sv) + 2 + CRASH_MAX_MEMORY_RANGES;

		if (sv->possible_state == SV_MALFORMED)
			kx_warn("%s/sys/devices/system/cpu/possible is malformed: counting cpuN "
				"directories instead",
				sv->root);
		size = sizeof(Elf64_Ehdr) + phdrs * sizeof(Elf64_Phdr);
		/* A machine with more ranges than that still needs its header now. */
		if (size < req->built)
			size = req->built;
		*source = ELFCOREHDR_SIZE_COMPUTED;
	} else {
		size = req->built;
		*source = ELFCOREHDR_SIZE_BUILT;
	}

	if (req->option_set && size < req->built)
		return kx_error(
			"--elfcorehdrsz=%s is smaller than the elfcorehdr built now (%" PRIu64
			" bytes)",
			req->option_arg, req->built);
	if (size > req->crash_size) {
		if (req->option_set)
			return kx_error("--elfcorehdrsz=%s does not fit the crash region (%s)",
					req->option_arg, fmt_size(req->crash_size, a, sizeof(a)));
		return kx_error("the elfcorehdr needs %s (%s), more than the crash region (%s): "
				"reserve more with crashkernel= or give --elfcorehdrsz",
				fmt_size(size, b, sizeof(b)), elfcorehdr_size_source_name(*source),
				fmt_size(req->crash_size, a, sizeof(a)));
	}
	if (req->option_set && kernel_size && size < kernel_size)
		kx_warn("--elfcorehdrsz=%s is smaller than the kernel's crash_elfcorehdr_size "
			"(%s): later hotplug updates of the elfcorehdr may not fit",
			req->option_arg, fmt_size(kernel_size, b, sizeof(b)));
	*memsz = align_up(size, PAGE_SIZE);
	return 0;
}

int capture_memmap(const struct sysview *sv, const struct range_list *crash, uint64_t elfcorehdr,
		   uint64_t elfcorehdr_memsz, struct range_list *out)
{
	struct range_list low = { 0 };
	size_t i;
	int ret = -1;

	/* Real-mode trampolines and the like need RAM below 1 MiB. */
	if (sysview_iomem_ranges(sv, "System RAM", MEM_RAM, &low) ||
	    ranges_exclude(&low, CRASH_LOW_RESERVED, UINT64_MAX))
		goto out;
	for (i = 0; i < low.n; i++)
		if (ranges_add(out, low.r[i].start, low.r[i].end, MEM_RAM))
			goto out;
	for (i = 0; i < crash->n; i++)
		if (ranges_add(out, crash->r[i].start, crash->r[i].end, MEM_RAM))
			goto out;
	/* The capture kernel must never allocate over the dump's header. */
	if (ranges_exclude(out, elfcorehdr, elfcorehdr + elfcorehdr_memsz))
		goto out;
	if (sysview_iomem_ranges(sv, "ACPI Tables", MEM_ACPI, out) ||
	    sysview_iomem_ranges(sv, "ACPI Non-volatile Storage", MEM_NVS, out) ||
	    sysview_iomem_ranges(sv, "Reserved", MEM_RESERVED, out))
		goto out;
	ranges_merge(out);
	ret = 0;
out:
	ranges_free(&low);
	return ret;
}
