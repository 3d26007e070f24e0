// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The load path: read the files, choose the system call, build the
 * kexec_load image (crash plan, placement, boot_params, purgatory) or hand
 * the files to kexec_file_load, and turn the kernel's errors into advice.
 * Nothing is loaded until every check has passed, so a failed load leaves
 * the image the kernel already holds in place.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86_64/bootparams.h"
#include "arch/x86_64/bzimage.h"
#include "crashdump.h"
#include "image.h"
#include "load.h"
#include "purgatory.h"
#include "sysview.h"
#include "util.h"

#define FOUR_GIB (1ULL << 32)
#define CMDLINE_MAX 4096
/* " elfcorehdr=0x" and 16 hex digits */
#define ELFCOREHDR_ARG_MAX 30

/* Everything one load owns, freed in one place. */
struct load_ctx {
	const struct load_request *req;
	const struct platform *p;
	struct buf kernel_file;
	bool kernel_compressed;
	struct buf initrd; /* read only for kexec_load */
	uint64_t initrd_size;
	struct bzimage bz;
	char cmdline[CMDLINE_MAX];
	/* kexec_load only */
	struct sysview sv;
	bool have_sv;
	struct range_list crash;
	struct range_list ram;
	struct range_list memmap;
	struct buf elfcorehdr;
	struct buf bootparams;
	unsigned char *purgatory;
	struct image img;
	bool syscall_made; /* the kernel saw a load, which may have dropped the old image */
	bool image_built; /* the kexec_load image is ready */
};

static void load_ctx_free(struct load_ctx *c)
{
	buf_free(&c->kernel_file);
	buf_free(&c->initrd);
	if (c->have_sv)
		sysview_free(&c->sv);
	ranges_free(&c->crash);
	ranges_free(&c->ram);
	ranges_free(&c->memmap);
	buf_free(&c->elfcorehdr);
	buf_free(&c->bootparams);
	free(c->purgatory);
	ranges_free(&c->img.free);
}

void filter_reused_cmdline(const char *in, char *out, size_t len)
{
	const char *p = in;
	size_t o = 0;

	out[0] = '\0';
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " \t\n");
		if (strncmp(p, "crashkernel=", 12) && strncmp(p, "BOOT_IMAGE=", 11) &&
		    o + n + 2 < len) {
			if (o)
				out[o++] = ' ';
			memcpy(out + o, p, n);
			o += n;
			out[o] = '\0';
		}
		p += n;
	}
}

static int build_cmdline(struct load_ctx *c)
{
	const struct load_request *req = c->req;
	char base[CMDLINE_MAX] = "";

	if (req->reuse_cmdline) {
		char proc[CMDLINE_MAX];

		if (sysview_cmdline(c->p->root, proc, sizeof(proc)))
			return -1;
		filter_reused_cmdline(proc, base, sizeof(base));
	}
	if (snprintf(c->cmdline, sizeof(c->cmdline), "%s%s%s", base,
		     base[0] && req->append && req->append[0] ? " " : "",
		     req->append ? req->append : "") >= (int)sizeof(c->cmdline))
		return kx_error("the command line is longer than %d bytes", CMDLINE_MAX - 1);
	return 0;
}

/*
 * The kernel takes at most cmdline_size bytes; for a capture kernel the
 * loader (or, with kexec_file_load, the kernel) adds " elfcorehdr=0x...".
 */
static int check_cmdline_length(const struct load_ctx *c)
{
	size_t len = strlen(c->cmdline), added = c->req->crash ? ELFCOREHDR_ARG_MAX : 0;

	if (len + added <= c->bz.cmdline_size)
		return 0;
	if (added)
		return kx_error("the command line is %zu bytes, plus up to %zu for the elfcorehdr= "
				"that is added; %s takes at most %u (cmdline_size)",
				len, added, c->req->kernel, c->bz.cmdline_size);
	return kx_error("the command line is %zu bytes; %s takes at most %u (cmdline_size)", len,
			c->req->kernel, c->bz.cmdline_size);
}

static int read_inputs(struct load_ctx *c)
{
	const struct load_request *req = c->req;
	const struct bzimage *bz = &c->bz;

	if (read_whole_file(req->kernel, true, &c->kernel_file, &c->kernel_compressed))
		return -1;
	if (bzimage_parse(req->kernel, c->kernel_file.data, c->kernel_file.len, &c->bz))
		return -1;
	kx_debug("kernel %s%s: boot protocol %u.%02u, xloadflags 0x%x, %srelocatable, "
		 "kernel_alignment 0x%" PRIx64 ", init_size 0x%" PRIx64 ", payload 0x%zx bytes, "
		 "cmdline_size %u\n",
		 req->kernel, c->kernel_compressed ? " (decompressed)" : "", bz->version >> 8,
		 bz->version & 0xff, bz->xloadflags, bz->relocatable ? "" : "not ",
		 bz->kernel_alignment, bz->init_size, bz->payload_size, bz->cmdline_size);
	if (req->initrd) {
		int fd = open_regular_file(req->initrd, &c->initrd_size);

		if (fd < 0)
			return -1;
		close(fd);
	}
	if (build_cmdline(c))
		return -1;
	return check_cmdline_length(c);
}

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "unnamed errno";
}

static bool is_signature_error(int e)
{
	return e == EKEYREJECTED || e == EBADMSG || e == ENOKEY || e == ENODATA ||
	       e == EKEYEXPIRED || e == EKEYREVOKED;
}

/* Explain a failed system call; name is "kexec_load" or "kexec_file_load". */
static int syscall_error(const struct load_ctx *c, const char *name, int e)
{
	char mode[64];

	if (e == EPERM) {
		sysview_lockdown(c->p->root, mode, sizeof(mode));
		if (mode[0] && strcmp(mode, "none"))
			return kx_error(
				"%s: the kernel is locked down (lockdown=%s)%s", name, mode,
				strcmp(name, "kexec_load")
					? ": it accepts only a kernel signed with a trusted key"
					: ", which forbids kexec_load: use -s with a signed "
					  "kernel");
		if (!strcmp(name, "kexec_load") && sysview_kexec_load_disabled(c->p->root) == 1)
			return kx_error(
				"kexec_load: permission denied (EPERM): "
				"/proc/sys/kernel/kexec_load_disabled is 1 until the next boot; "
				"use -s (kexec_file_load)");
		return kx_error("%s: permission denied (EPERM): loading a kernel needs "
				"CAP_SYS_BOOT; run kexec as root",
				name);
	}
	if (is_signature_error(e))
		return kx_error("%s: the kernel rejected the signature of %s (%s): sign it with a "
				"key the kernel trusts",
				name, c->req->kernel, errno_name(e));
	if (e == EBUSY)
		return kx_error("%s: a kexec image is in use or being loaded (EBUSY); try again",
				name);
	if (e == ENOSYS)
		return kx_error("%s: the running kernel does not provide this system call (ENOSYS)",
				name);
	if (e == EADDRNOTAVAIL || (e == ENOMEM && c->req->crash))
		return kx_error("%s: the kernel refused the segments (%s): is the crash region "
				"reserved and large enough?",
				name, errno_name(e));
	if (e == EINVAL && c->req->hotplug && !strcmp(name, "kexec_load"))
		return kx_error(
			"kexec_load: the kernel refused the load (EINVAL); a kernel older "
			"than 6.6 does not know KEXEC_UPDATE_ELFCOREHDR: try without --hotplug");
	return kx_error("%s failed: %s (%s %d)", name, strerror(e), errno_name(e), e);
}

/* kexec_file_load needs an fd of the raw bzImage: decompressed images go to a memfd. */
static int kernel_fd(struct load_ctx *c)
{
	size_t done = 0;
	int fd;

	if (!c->kernel_compressed) {
		fd = open(c->req->kernel, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kx_error("cannot open %s: %s", c->req->kernel, strerror(errno));
		return fd;
	}
	fd = memfd_create("kexec-kernel", MFD_CLOEXEC);
	if (fd < 0)
		return kx_error("cannot create a memfd for the decompressed %s: %s", c->req->kernel,
				strerror(errno));
	while (done < c->kernel_file.len) {
		ssize_t n = write(fd, c->kernel_file.data + done, c->kernel_file.len - done);

		if (n <= 0) {
			close(fd);
			return kx_error("cannot write the decompressed %s to a memfd",
					c->req->kernel);
		}
		done += (size_t)n;
	}
	return fd;
}

/* Returns 0, or the positive errno of the failed call, or -1 for a local error. */
static int load_with_file_syscall(struct load_ctx *c)
{
	const struct load_request *req = c->req;
	unsigned long flags = 0;
	int kfd, ifd = -1;
	long ret;

	if (req->crash)
		flags |= KEXEC_FILE_ON_CRASH;
	if (!req->initrd)
		flags |= KEXEC_FILE_NO_INITRAMFS;
	kx_debug("kexec_file_load: kernel %s%s, initrd %s, flags 0x%lx\n", req->kernel,
		 c->kernel_compressed ? " (decompressed)" : "", req->initrd ? req->initrd : "none",
		 flags);
	kx_debug("command line: \"%s\"\n", c->cmdline);

	kfd = kernel_fd(c);
	if (kfd < 0)
		return -1;
	if (req->initrd) {
		ifd = open_regular_file(req->initrd, NULL);
		if (ifd < 0) {
			close(kfd);
			return -1;
		}
	}
	ret = c->p->kexec_file_load(kfd, ifd, strlen(c->cmdline) + 1, c->cmdline, flags);
	close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (ret < 0)
		return (int)-ret;
	if (req->hotplug && sysview_crash_hotplug(c->p->root))
		kx_debug("--hotplug: nothing to do with kexec_file_load; the kernel builds the "
			 "elfcorehdr and updates it on hotplug itself\n");
	else if (req->hotplug)
		kx_warn("--hotplug: the running kernel has no crash hotplug support "
			"(CONFIG_CRASH_HOTPLUG): the dump goes stale after CPU or memory hotplug");
	if (req->elfcorehdrsz_set)
		kx_warn("--elfcorehdrsz=%s has no effect with kexec_file_load: the kernel sizes "
			"the elfcorehdr itself",
			req->elfcorehdrsz_arg);
	if (req->mem_min || req->mem_max)
		kx_warn("--mem-min and --mem-max have no effect with kexec_file_load: the kernel "
			"places the segments itself");
	return 0;
}

/*
 * Place a segment below max (a limit of the image format, explained by
 * limit) and within --mem-min/--mem-max, or say what did not fit where.
 */
static int place_or_fail(struct load_ctx *c, const char *what, uint64_t memsz, uint64_t align,
			 uint64_t max, const char *limit, uint64_t *addr)
{
	const struct load_request *req = c->req;
	uint64_t hi = req->mem_max ? req->mem_max + 1 : UINT64_MAX;
	struct mem_range main_region;
	char a[32], b[32], where[160] = "";
	unsigned int i;

	if (max < hi)
		hi = max;
	if (!image_place(&c->img, memsz, align, req->mem_min, hi, addr))
		return 0;

	if (max < UINT64_MAX)
		snprintf(where, sizeof(where), " below 0x%" PRIx64 " (%s)", max, limit);
	if (req->mem_min || req->mem_max)
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
			 " within --mem-min=0x%" PRIx64 " and --mem-max=0x%" PRIx64, req->mem_min,
			 req->mem_max ? req->mem_max : UINT64_MAX);
	fmt_size(align_up(memsz, PAGE_SIZE), a, sizeof(a));
	if (!req->crash)
		return kx_error("no free RAM for the %s (%s, aligned to 0x%" PRIx64 ")%s", what, a,
				align, where);
	main_region = crash_load_region(&c->sv, &c->crash);
	kx_error("no room for the %s (%s, aligned to 0x%" PRIx64
		 ")%s in the crash region 0x%" PRIx64 "-0x%" PRIx64 " (%s)",
		 what, a, align, where, main_region.start, main_region.end - 1,
		 fmt_size(main_region.end - main_region.start, b, sizeof(b)));
	for (i = 0; i < c->img.nr_segments; i++)
		fprintf(stderr, "kexec:   already placed: %s, %s\n", c->img.seg[i].name,
			fmt_size(c->img.seg[i].memsz, a, sizeof(a)));
	if (!req->mem_min && !req->mem_max)
		fprintf(stderr, "kexec:   the crash region is too small: reserve more memory with "
				"crashkernel= on the running kernel's command line\n");
	return -1;
}

static int place_kernel(struct load_ctx *c, uint64_t *addr)
{
	const struct bzimage *bz = &c->bz;
	uint64_t max = bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? UINT64_MAX : FOUR_GIB;
	uint64_t memsz = align_up(bz->init_size, PAGE_SIZE);

	if (c->req->crash && max == FOUR_GIB) {
		struct mem_range r = crash_load_region(&c->sv, &c->crash);

		if (r.start >= FOUR_GIB)
			return kx_error(
				"%s cannot be loaded above 4 GiB (its xloadflags 0x%x lack "
				"XLF_CAN_BE_LOADED_ABOVE_4G), but the crash region 0x%" PRIx64
				"-0x%" PRIx64
				" is above 4 GiB: reserve it below 4 GiB (crashkernel=SIZE without "
				",high) or use a newer kernel",
				c->req->kernel, bz->xloadflags, r.start, r.end - 1);
	}
	if (!bz->relocatable) {
		if (image_place(&c->img, memsz, PAGE_SIZE, bz->pref_address,
				bz->pref_address + memsz, addr) ||
		    *addr != bz->pref_address)
			return kx_error("%s is not relocatable and its address 0x%" PRIx64
					" is not free %s",
					c->req->kernel, bz->pref_address,
					c->req->crash ? "in the crash region" : "RAM");
		return 0;
	}
	if (c->req->mem_max && c->req->mem_max < max)
		max = c->req->mem_max + 1;
	if (!image_place(&c->img, memsz, bz->kernel_alignment, c->req->mem_min, max, addr))
		return 0;
	return place_or_fail(c, "kernel", memsz, bz->min_alignment,
			     bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? UINT64_MAX : FOUR_GIB,
			     "the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G", addr);
}

static int check_hotplug_support(const struct load_ctx *c)
{
	const struct sysview *sv = &c->sv;

	if (sv->elfcorehdr_size_state != SV_MISSING || sv->cpu_crash_hotplug)
		return 0;
	return kx_error("--hotplug: the running kernel cannot update the elfcorehdr on CPU or "
			"memory hotplug (%s/sys/kernel/crash_elfcorehdr_size and "
			"%s/sys/devices/system/cpu/crash_hotplug are missing; Linux 6.6 or later "
			"with CONFIG_CRASH_HOTPLUG is needed). Load without --hotplug and reload "
			"on hotplug events instead",
			sv->root, sv->root);
}

static void print_memmap(const char *whose, const struct range_list *m)
{
	static const char *const names[] = { "?", "RAM", "reserved", "ACPI", "ACPI NVS" };
	size_t i;

	kx_debug("%s memory map (e820): %zu entries\n", whose, m->n);
	for (i = 0; i < m->n; i++)
		kx_debug("  0x%010" PRIx64 "-0x%010" PRIx64 " %s\n", m->r[i].start, m->r[i].end - 1,
			 m->r[i].type < ARRAY_SIZE(names) ? names[m->r[i].type] : "?");
}

static int add_purgatory(struct load_ctx *c, uint64_t kernel_entry, uint64_t bp_addr)
{
	const struct load_request *req = c->req;
	struct purgatory_params params;
	uint64_t addr;
	unsigned int i;

	if (place_or_fail(c, "purgatory", purgatory_memsz, PAGE_SIZE, UINT64_MAX, NULL, &addr))
		return -1;
	c->purgatory = malloc(purgatory_blob_size);
	if (!c->purgatory)
		return kx_error("out of memory for purgatory");
	memcpy(c->purgatory, purgatory_blob, purgatory_blob_size);

	memset(&params, 0, sizeof(params));
	params.magic = PURGATORY_MAGIC;
	params.kernel_entry = kernel_entry;
	params.boot_params = bp_addr;
	if (req->console_serial) {
		params.flags |= PURGATORY_SERIAL;
		params.serial_port = req->serial_port;
	}
	if (image_digest(&c->img, &params))
		return -1;
	memcpy(c->purgatory + PURGATORY_PARAMS_OFFSET, &params, sizeof(params));
	if (image_add_segment(&c->img, "purgatory", c->purgatory, purgatory_blob_size, addr,
			      purgatory_memsz, false) < 0)
		return -1;
	c->img.entry = addr;

	kx_debug("purgatory at 0x%" PRIx64 ": jumps to 0x%" PRIx64 " with boot_params 0x%" PRIx64
		 "%s\n",
		 addr, kernel_entry, bp_addr,
		 req->console_serial ? ", reports on the serial port" : "");
	kx_debug("digest covers %u ranges:", params.nr_ranges);
	for (i = 0; i < params.nr_ranges; i++)
		kx_debug(" 0x%" PRIx64 "+0x%" PRIx64, params.ranges[i].start, params.ranges[i].len);
	kx_debug("\nsha256 ");
	for (i = 0; i < PURGATORY_SHA256_SIZE; i++)
		kx_debug("%02x", params.sha256[i]);
	kx_debug("\n");
	return 0;
}

/*
 * Sort the segments by address. With --hotplug, make sure that the kernel,
 * which takes the last segment starting with the ELF magic for the
 * elfcorehdr when it rewrites it, can only find the real one.
 */
static int finish_image(const struct load_ctx *c, struct image *img)
{
	unsigned int i;

	for (i = 0; c->req->crash && c->req->hotplug && i < img->nr_segments; i++) {
		const struct segment *s = &img->seg[i];

		if (strcmp(s->name, "elfcorehdr") && s->bufsz >= 4 && !memcmp(s->buf, "\177ELF", 4))
			return kx_error(
				"the %s%s%s starts with the ELF magic, so the kernel would take it "
				"for the elfcorehdr: pass a cpio or compressed initramfs",
				s->name, strcmp(s->name, "initrd") ? "" : " ",
				strcmp(s->name, "initrd") ? "" : c->req->initrd);
	}

	image_sort(img);
	return 0;
}

/* Where segments may go: the main crash region, or for -l the RAM above 1 MiB. */
static int init_placement(struct load_ctx *c)
{
	struct range_list allowed = { 0 };
	struct mem_range main_region;
	char a[32];
	size_t i;
	int ret = -1;

	if (c->req->crash) {
		main_region = crash_load_region(&c->sv, &c->crash);
		for (i = 0; i < c->crash.n; i++)
			kx_debug("crash region 0x%010" PRIx64 "-0x%010" PRIx64 " (%s)%s\n",
				 c->crash.r[i].start, c->crash.r[i].end - 1,
				 fmt_size(c->crash.r[i].end - c->crash.r[i].start, a, sizeof(a)),
				 c->crash.r[i].start == main_region.start
					 ? ", segments go here"
					 : ", capture kernel RAM only (the kernel takes no "
					   "segments there)");
		if (ranges_add(&allowed, main_region.start, main_region.end, MEM_RAM))
			goto out;
	} else {
		if (sysview_iomem_ranges(&c->sv, "System RAM", MEM_RAM, &allowed) ||
		    ranges_exclude(&allowed, 0, CRASH_LOW_RESERVED))
			goto out;
		for (i = 0; i < c->crash.n; i++)
			if (ranges_exclude(&allowed, c->crash.r[i].start, c->crash.r[i].end))
				goto out;
	}
	for (i = 0; i < allowed.n; i++)
		if (ranges_add(&c->img.free, align_up(allowed.r[i].start, PAGE_SIZE),
			       align_down(allowed.r[i].end, PAGE_SIZE), MEM_RAM))
			goto out;
	ret = 0;
out:
	ranges_free(&allowed);
	return ret;
}

static uint64_t main_region_size(const struct load_ctx *c)
{
	struct mem_range r = crash_load_region(&c->sv, &c->crash);

	return r.end - r.start;
}

static void print_elfcorehdr(const struct buf *hdr)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)hdr->data;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(hdr->data + eh->e_phoff);
	unsigned int i;

	for (i = 0; kx_debug_enabled && i < eh->e_phnum; i++)
		kx_debug("  %s paddr 0x%010" PRIx64 " size 0x%08" PRIx64 " vaddr 0x%016" PRIx64
			 "\n",
			 ph[i].p_type == PT_NOTE ? "PT_NOTE" : "PT_LOAD", (uint64_t)ph[i].p_paddr,
			 (uint64_t)ph[i].p_memsz, (uint64_t)ph[i].p_vaddr);
}

/* The dump's header, built and placed; its address goes on the command line. */
static int add_elfcorehdr(struct load_ctx *c, uint64_t *hdr_addr, uint64_t *hdr_memsz)
{
	const struct load_request *req = c->req;
	struct elfcorehdr_size_request sreq;
	enum elfcorehdr_size_source source;

	if (crash_ram_ranges(&c->sv, &c->crash, &c->ram) ||
	    build_elfcorehdr(&c->sv, &c->ram, &c->elfcorehdr))
		return -1;
	sreq = (struct elfcorehdr_size_request){
		.hotplug = req->hotplug,
		.option_set = req->elfcorehdrsz_set,
		.option = req->elfcorehdrsz,
		.option_arg = req->elfcorehdrsz_arg,
		.built = c->elfcorehdr.len,
		.crash_size = main_region_size(c),
	};
	if (get_elfcorehdrsz(&c->sv, &sreq, hdr_memsz, &source))
		return -1;
	if (place_or_fail(c, "elfcorehdr", *hdr_memsz, PAGE_SIZE, UINT64_MAX, NULL, hdr_addr) ||
	    image_add_segment(&c->img, "elfcorehdr", c->elfcorehdr.data, c->elfcorehdr.len,
			      *hdr_addr, *hdr_memsz, !req->hotplug) < 0)
		return -1;
	kx_debug("elfcorehdr at 0x%" PRIx64 ": bufsz 0x%zx memsz 0x%" PRIx64
		 " (size: %s), %zu CPU notes, %zu RAM ranges\n",
		 *hdr_addr, c->elfcorehdr.len, *hdr_memsz, elfcorehdr_size_source_name(source),
		 c->sv.nr_notes, c->ram.n);
	print_elfcorehdr(&c->elfcorehdr);
	kx_debug("elfcorehdr %s\n", req->hotplug
					    ? "left out of the digest: the kernel rewrites it on "
					      "hotplug (KEXEC_UPDATE_ELFCOREHDR)"
					    : "in the digest: hotplug updates are not requested");
	return 0;
}

/* Build the image for kexec_load: the capture kernel with -p, else a kernel for -e. */
static int build_image(struct load_ctx *c)
{
	const struct load_request *req = c->req;
	const struct bzimage *bz = &c->bz;
	uint64_t kernel_addr, initrd_addr = 0, hdr_addr = 0, hdr_memsz = 0, bp_addr, initrd_max;
	uint64_t low_max = bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G ? UINT64_MAX : FOUR_GIB;
	struct boot_setup bs;
	char cmdline[CMDLINE_MAX + 64];

	if (!c->have_sv) {
		c->have_sv = true;
		if (sysview_read(&c->sv, c->p->root))
			return -1;
	}
	if (req->crash && sysview_read_crash(&c->sv))
		return -1;
	if (req->hotplug && check_hotplug_support(c))
		return -1;
	if (!c->crash.n && crash_regions(&c->sv, &c->crash))
		return -1;
	if (init_placement(c))
		return -1;

	if (place_kernel(c, &kernel_addr))
		return -1;
	if (image_add_segment(&c->img, "kernel", bz->payload, bz->payload_size, kernel_addr,
			      bz->init_size, true) < 0)
		return -1;

	if (req->initrd) {
		const char *limit = "the kernel's initrd_addr_max";

		initrd_max = (uint64_t)bz->initrd_addr_max + 1;
		if (initrd_max > low_max || bz->xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G) {
			initrd_max = low_max;
			limit = "the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G";
		}
		if (read_whole_file(req->initrd, false, &c->initrd, NULL))
			return -1;
		if (place_or_fail(c, "initrd", c->initrd.len, PAGE_SIZE, initrd_max, limit,
				  &initrd_addr) ||
		    image_add_segment(&c->img, "initrd", c->initrd.data, c->initrd.len, initrd_addr,
				      c->initrd.len, true) < 0)
			return -1;
	}

	if (req->crash) {
		if (add_elfcorehdr(c, &hdr_addr, &hdr_memsz) ||
		    capture_memmap(&c->sv, &c->crash, hdr_addr, hdr_memsz, &c->memmap))
			return -1;
		snprintf(cmdline, sizeof(cmdline), "%s%selfcorehdr=0x%" PRIx64, c->cmdline,
			 c->cmdline[0] ? " " : "", hdr_addr);
	} else {
		if (sysview_firmware_memmap(&c->sv, &c->memmap))
			return -1;
		snprintf(cmdline, sizeof(cmdline), "%s", c->cmdline);
	}
	print_memmap(req->crash ? "capture kernel" : "new kernel", &c->memmap);
	kx_debug("command line: \"%s\"\n", cmdline);

	bs = (struct boot_setup){
		.bz = bz,
		.kernel_addr = kernel_addr,
		.initrd_addr = initrd_addr,
		.initrd_size = c->initrd.len,
		.cmdline = cmdline,
		.memmap = &c->memmap,
		.acpi_rsdp = c->sv.acpi_rsdp,
	};
	if (place_or_fail(c, "boot_params", bootparams_size(&bs), PAGE_SIZE, low_max,
			  "the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G", &bp_addr) ||
	    bootparams_build(&bs, bp_addr, &c->bootparams) ||
	    image_add_segment(&c->img, "boot_params", c->bootparams.data, c->bootparams.len,
			      bp_addr, c->bootparams.len, true) < 0)
		return -1;

	if (add_purgatory(c, kernel_addr + BZ_ENTRY64_OFFSET, bp_addr))
		return -1;
	return finish_image(c, &c->img);
}

static unsigned long crash_flags(const struct load_request *req)
{
	unsigned long flags = KEXEC_ARCH_X86_64;

	if (req->crash)
		flags |= KEXEC_ON_CRASH;
	if (req->crash && req->hotplug)
		flags |= KEXEC_UPDATE_ELFCOREHDR;
	return flags;
}

static int load_with_load_syscall(struct load_ctx *c)
{
	struct kexec_segment segs[KEXEC_MAX_SEGMENTS];
	unsigned long flags = crash_flags(c->req);
	unsigned int i;
	long ret;

	if (!c->image_built && build_image(c))
		return -1;
	image_print(&c->img);
	kx_debug("kexec_load flags 0x%lx: %s%sKEXEC_ARCH_X86_64\n", flags,
		 flags & KEXEC_ON_CRASH ? "KEXEC_ON_CRASH | " : "",
		 flags & KEXEC_UPDATE_ELFCOREHDR ? "KEXEC_UPDATE_ELFCOREHDR | " : "");

	for (i = 0; i < c->img.nr_segments; i++)
		segs[i] = (struct kexec_segment){
			.buf = c->img.seg[i].buf,
			.bufsz = c->img.seg[i].bufsz,
			.mem = (const void *)(uintptr_t)c->img.seg[i].mem,
			.memsz = c->img.seg[i].memsz,
		};
	c->syscall_made = true;
	ret = c->p->kexec_load(c->img.entry, c->img.nr_segments, segs, flags);
	return ret < 0 ? (int)-ret : 0;
}

/*
 * Before any system call: a capture kernel needs a crash region, and one
 * that can hold at least the kernel and initrd. kexec_load's placement
 * checks the rest; kexec_file_load would only fail with a bare errno.
 */
static int check_crash_region(struct load_ctx *c)
{
	uint64_t need = align_up(c->bz.init_size, PAGE_SIZE) + align_up(c->initrd_size, PAGE_SIZE);
	struct mem_range r;
	char a[32], b[32];

	c->have_sv = true;
	if (sysview_read(&c->sv, c->p->root))
		return -1;
	if (crash_regions(&c->sv, &c->crash))
		return -1;
	if (!c->crash.n)
		return kx_error(
			"no crash region: %s/proc/iomem has no \"Crash kernel\" entry; boot the "
			"running kernel with crashkernel=SIZE (for example crashkernel=256M)",
			c->p->root);
	r = crash_load_region(&c->sv, &c->crash);
	if (r.end - r.start < need)
		return kx_error("the crash region 0x%" PRIx64 "-0x%" PRIx64
				" (%s) is too small for the kernel %s%s (%s at least): "
				"reserve more with crashkernel=",
				r.start, r.end - 1, fmt_size(r.end - r.start, a, sizeof(a)),
				c->req->kernel, c->req->initrd ? " and its initrd" : "",
				fmt_size(need, b, sizeof(b)));
	return 0;
}

/* kexec_file_load errors after which kexec_load may still work. */
static bool file_load_may_fall_back(int e)
{
	return e == ENOSYS || e == ENOEXEC || e == EOPNOTSUPP || e == EINVAL;
}

int do_load(const struct load_request *req, const struct platform *p)
{
	struct load_ctx c = { .req = req, .p = p };
	int e, file_errno = 0, ret = -1;

	if (read_inputs(&c))
		goto out;
	if (req->crash && check_crash_region(&c))
		goto out;
	/*
	 * The kernel drops the loaded capture kernel as soon as a load begins,
	 * even one it then refuses. With -a, build the kexec_load fallback
	 * first, so that input only it rejects is refused before any call.
	 */
	if (req->crash && req->policy == SYSCALL_AUTO) {
		kx_debug("the kexec_load fallback, built before kexec_file_load is tried:\n");
		if (build_image(&c))
			goto out;
		c.image_built = true;
	}

	if (req->policy != SYSCALL_LOAD) {
		e = load_with_file_syscall(&c);
		if (e <= 0) {
			ret = e;
			goto out;
		}
		c.syscall_made = true;
		if (req->policy == SYSCALL_FILE || !file_load_may_fall_back(e)) {
			syscall_error(&c, "kexec_file_load", e);
			goto out;
		}
		file_errno = e;
		kx_debug("kexec_file_load failed with %s; falling back to kexec_load\n",
			 errno_name(e));
	}
	e = load_with_load_syscall(&c);
	if (e && file_errno)
		kx_error("kexec_file_load had failed first: %s (%s), so kexec_load was tried",
			 strerror(file_errno), errno_name(file_errno));
	if (e > 0)
		syscall_error(&c, "kexec_load", e);
	else
		ret = e;
out:
	/*
	 * The kernel frees the loaded capture kernel before it takes a new one
	 * into the same reserved memory, so a load it refused leaves none.
	 */
	if (ret && c.syscall_made && req->crash && sysview_kexec_loaded(p->root, true) == 0)
		kx_error("no capture kernel is loaded now: the kernel dropped the previous one "
			 "when it began this load");
	load_ctx_free(&c);
	return ret;
}

int do_unload(const struct load_request *req, const struct platform *p)
{
	struct load_ctx c = { .req = req, .p = p };
	long ret;

	if (req->policy != SYSCALL_LOAD) {
		ret = p->kexec_file_load(-1, -1, 0, NULL,
					 KEXEC_FILE_UNLOAD |
						 (req->crash ? KEXEC_FILE_ON_CRASH : 0));
		if (!ret)
			return 0;
		if (req->policy == SYSCALL_FILE || !file_load_may_fall_back((int)-ret))
			return syscall_error(&c, "kexec_file_load", (int)-ret);
	}
	ret = p->kexec_load(0, 0, NULL, crash_flags(req) & ~KEXEC_UPDATE_ELFCOREHDR);
	if (ret)
		return syscall_error(&c, "kexec_load", (int)-ret);
	return 0;
}

int do_status(const struct load_request *req, const struct platform *p)
{
	int loaded = sysview_kexec_loaded(p->root, req->crash);

	if (loaded < 0) {
		kx_error("cannot read %s/sys/kernel/%s", p->root,
			 req->crash ? "kexec_crash_loaded" : "kexec_loaded");
		return 2;
	}
	return loaded;
}

int do_exec(const struct load_request *req, const struct platform *p)
{
	struct load_ctx c = { .req = req, .p = p };
	long ret;

	if (!req->force && sysview_kexec_loaded(p->root, false) == 0)
		return kx_error("no kernel is loaded: load one with -l first");
	if (!req->no_sync)
		sync();
	ret = p->reboot_kexec();
	if (ret)
		return syscall_error(&c, "reboot(LINUX_REBOOT_CMD_KEXEC)", (int)-ret);
	return 0;
}
