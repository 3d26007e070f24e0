// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading /proc and /sys: the physical memory map, CPUs and their crash
 * notes, vmcoreinfo, kernel symbols and the crash hotplug interface.
 */
#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysview.h"
#include "util.h"

#define MAX_CPUS 65536
/* A CPU's crash notes are a few hundred bytes; anything past this is garbage. */
#define MAX_NOTE_SIZE 65536
/* __START_KERNEL_map: the kernel image mapping, above the direct map. */
#define KERNEL_IMAGE_MAP 0xffffffff80000000ULL

static void sv_path(const char *root, const char *path, char *out, size_t len)
{
	snprintf(out, len, "%s%s", root ? root : "", path);
}

/* Read a small text file; returns its length or -errno. */
static int read_text(const char *root, const char *path, char *buf, size_t len)
{
	char full[4096];
	ssize_t n;
	size_t got = 0;
	int fd;

	sv_path(root, path, full, sizeof(full));
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

/* For quoting a file's content in a message: its first line only. */
static const char *first_line(char *buf)
{
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static bool exists(const char *root, const char *path)
{
	char full[4096];

	sv_path(root, path, full, sizeof(full));
	return access(full, F_OK) == 0;
}

/* One unsigned number, the whole file (trailing white space allowed). */
static enum sv_state read_u64(const char *root, const char *path, int base, uint64_t *out)
{
	char buf[128], *end;
	unsigned long long v;

	if (read_text(root, path, buf, sizeof(buf)) < 0)
		return SV_MISSING;
	if (!isxdigit((unsigned char)buf[0]))
		return SV_MALFORMED;
	errno = 0;
	v = strtoull(buf, &end, base);
	if (errno || end == buf)
		return SV_MALFORMED;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return SV_MALFORMED;
	*out = v;
	return SV_OK;
}

int parse_cpu_list(const char *s, unsigned int *count, unsigned int *max_cpu)
{
	unsigned int total = 0, hi_seen = 0;
	const char *p = s;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return -1;
	while (*p && !isspace((unsigned char)*p)) {
		unsigned long lo, hi;

		if (!isdigit((unsigned char)*p))
			return -1;
		lo = strtoul(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			hi = strtoul(p, &end, 10);
			p = end;
		}
		/* The kernel prints CPU lists ascending, without overlaps. */
		if (hi < lo || hi >= MAX_CPUS || (total && lo <= hi_seen))
			return -1;
		total += (unsigned int)(hi - lo + 1);
		if (hi > hi_seen)
			hi_seen = (unsigned int)hi;
		if (*p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
		} else if (*p && !isspace((unsigned char)*p)) {
			return -1;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || total > MAX_CPUS)
		return -1;
	*count = total;
	if (max_cpu)
		*max_cpu = hi_seen;
	return 0;
}

/* Walk a CPU list calling back for each CPU number; the list was validated. */
static int for_each_cpu(const char *s, int (*fn)(struct sysview *, unsigned int),
			struct sysview *sv)
{
	const char *p = s;
	char *end;

	while (*p && !isspace((unsigned char)*p)) {
		unsigned long lo = strtoul(p, &end, 10), hi = lo, cpu;

		p = end;
		if (*p == '-') {
			hi = strtoul(p + 1, &end, 10);
			p = end;
		}
		for (cpu = lo; cpu <= hi; cpu++)
			if (fn(sv, (unsigned int)cpu))
				return -1;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* One hex number of at most 16 digits, no sign; returns the end or NULL. */
static const char *parse_hex(const char *p, uint64_t *v)
{
	unsigned int digits = 0;

	*v = 0;
	while (isxdigit((unsigned char)*p)) {
		if (++digits > 16)
			return NULL;
		*v = *v << 4 |
		     (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' : (*p | 0x20) - 'a' + 10);
		p++;
	}
	return digits ? p : NULL;
}

static int parse_iomem_line(const char *line, struct iomem_entry *e)
{
	uint64_t start, last;
	const char *p = line;
	unsigned int spaces = 0;
	size_t n;

	while (*p == ' ') {
		p++;
		spaces++;
	}
	p = parse_hex(p, &start);
	if (!p || *p != '-')
		return -1;
	p = parse_hex(p + 1, &last);
	if (!p || last < start)
		return -1;
	while (*p == ' ')
		p++;
	if (*p != ':')
		return -1;
	p++;
	while (*p == ' ')
		p++;
	n = strcspn(p, "\n");
	if (n >= sizeof(e->name))
		n = sizeof(e->name) - 1;
	memcpy(e->name, p, n);
	e->name[n] = '\0';
	e->start = start;
	/* An entry ending at the top of the address space cannot be half-open. */
	e->end = last == UINT64_MAX ? UINT64_MAX : last + 1;
	e->depth = spaces / 2;
	return 0;
}

static int read_iomem(struct sysview *sv)
{
	char path[4096], line[512];
	size_t cap = 0;
	unsigned int lineno = 0;
	FILE *f;

	sv_path(sv->root, "/proc/iomem", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return kx_error("cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		struct iomem_entry e;

		lineno++;
		if (parse_iomem_line(line, &e)) {
			fclose(f);
			line[strcspn(line, "\n")] = '\0';
			sysview_free(sv);
			return kx_error(
				"%s line %u is not 'START-END : NAME' with START <= END: %.60s",
				path, lineno, line);
		}
		if (sv->nr_iomem == cap) {
			struct iomem_entry *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(sv->iomem, cap * sizeof(*n));
			if (!n) {
				fclose(f);
				return kx_error("out of memory reading %s", path);
			}
			sv->iomem = n;
		}
		sv->iomem[sv->nr_iomem++] = e;
	}
	fclose(f);
	if (sv->nr_iomem == 0)
		return kx_error("%s is empty", path);
	/* Without CAP_SYS_ADMIN the kernel shows every address as zero. */
	if (sv->nr_iomem > 1 && sv->iomem[sv->nr_iomem - 1].start == 0 &&
	    sv->iomem[sv->nr_iomem - 1].end <= 1)
		return kx_error("%s shows no addresses: run kexec as root", path);
	return 0;
}

static int add_cpu_note(struct sysview *sv, unsigned int cpu)
{
	char p_addr[96], p_size[96];
	uint64_t addr, size;
	enum sv_state st;

	snprintf(p_addr, sizeof(p_addr), "/sys/devices/system/cpu/cpu%u/crash_notes", cpu);
	snprintf(p_size, sizeof(p_size), "/sys/devices/system/cpu/cpu%u/crash_notes_size", cpu);
	st = read_u64(sv->root, p_addr, 16, &addr);
	if (st == SV_MISSING)
		return kx_error("cannot read %s%s: the running kernel has no crash notes for "
				"present CPU %u (CONFIG_CRASH_DUMP?)",
				sv->root, p_addr, cpu);
	if (st == SV_MALFORMED)
		return kx_error("%s%s does not hold a hex address", sv->root, p_addr);
	st = read_u64(sv->root, p_size, 0, &size);
	if (st == SV_MALFORMED)
		return kx_error("%s%s does not hold a size", sv->root, p_size);
	if (st == SV_MISSING)
		size = 0;
	if (!size)
		/* Older kernels lack the file; their note buffer was never larger. */
		size = 1024;
	if (!addr)
		return kx_error("%s%s reads 0: CPU %u has no crash note buffer", sv->root, p_addr,
				cpu);
	if (size > MAX_NOTE_SIZE)
		return kx_error("%s%s reads %" PRIu64 ": far larger than a crash note buffer",
				sv->root, p_size, size);
	sv->notes[sv->nr_notes++] = (struct cpu_note){ .cpu = cpu, .addr = addr, .size = size };
	return 0;
}

static int read_cpus(struct sysview *sv)
{
	char buf[4096];
	unsigned int count;
	DIR *d;
	struct dirent *de;
	char path[4096];

	if (read_text(sv->root, "/sys/devices/system/cpu/possible", buf, sizeof(buf)) < 0)
		sv->possible_state = SV_MISSING;
	else if (parse_cpu_list(buf, &sv->nr_possible, NULL))
		sv->possible_state = SV_MALFORMED;
	else
		sv->possible_state = SV_OK;

	sv_path(sv->root, "/sys/devices/system/cpu", path, sizeof(path));
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			const char *p = de->d_name;

			if (strncmp(p, "cpu", 3) || !isdigit((unsigned char)p[3]))
				continue;
			for (p += 3; isdigit((unsigned char)*p); p++)
				;
			if (!*p)
				sv->nr_cpu_dirs++;
		}
		closedir(d);
	}

	if (read_text(sv->root, "/sys/devices/system/cpu/present", buf, sizeof(buf)) < 0)
		return kx_error("cannot read %s/sys/devices/system/cpu/present", sv->root);
	if (parse_cpu_list(buf, &count, NULL))
		return kx_error("%s/sys/devices/system/cpu/present is not a CPU list: %.40s",
				sv->root, first_line(buf));
	sv->notes = calloc(count, sizeof(*sv->notes));
	if (!sv->notes)
		return kx_error("out of memory for %u CPUs", count);
	return for_each_cpu(buf, add_cpu_note, sv);
}

static int read_vmcoreinfo(struct sysview *sv)
{
	char buf[128];
	unsigned long long addr, size;

	if (read_text(sv->root, "/sys/kernel/vmcoreinfo", buf, sizeof(buf)) < 0) {
		sv->vmcoreinfo_state = SV_MISSING;
		return 0;
	}
	if (sscanf(buf, "%llx %llx", &addr, &size) != 2 || !addr || !size)
		return kx_error("%s/sys/kernel/vmcoreinfo is not 'ADDR SIZE' in hex: %.40s",
				sv->root, first_line(buf));
	sv->vmcoreinfo_addr = addr;
	sv->vmcoreinfo_size = size;
	sv->vmcoreinfo_state = SV_OK;
	return 0;
}

static void read_kallsyms(struct sysview *sv)
{
	char path[4096], line[512], name[128];
	unsigned long long addr;
	char type;
	FILE *f;
	int found = 0;

	sv_path(sv->root, "/proc/kallsyms", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (found != 3 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) != 3)
			continue;
		if (!strcmp(name, "_text")) {
			sv->text_vaddr = addr;
			found |= 1;
		} else if (!strcmp(name, "_end")) {
			sv->end_vaddr = addr;
			found |= 2;
		}
	}
	fclose(f);
	sv->have_text = found == 3 && sv->text_vaddr && sv->end_vaddr > sv->text_vaddr;
}

/*
 * The direct-map base (PAGE_OFFSET, randomised by KASLR) is where /proc/kcore
 * maps RAM: any of its PT_LOADs for RAM has vaddr - paddr equal to it.
 */
static void read_page_offset(struct sysview *sv)
{
	char path[4096];
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned int i;
	int fd;

	sv_path(sv->root, "/proc/kcore", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph))
		goto out;
	for (i = 0; i < eh.e_phnum && i < 4096; i++) {
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			break;
		if (ph.p_type != PT_LOAD || ph.p_paddr == (Elf64_Addr)-1)
			continue;
		/*
		 * Only RAM and the kernel text have a physical address; the text
		 * lives at the top, in the kernel image mapping. The direct map's
		 * base depends on 4- or 5-level paging, so take it as found.
		 */
		if (ph.p_vaddr < KERNEL_IMAGE_MAP && ph.p_vaddr > ph.p_paddr) {
			sv->page_offset = ph.p_vaddr - ph.p_paddr;
			sv->have_page_offset = true;
			break;
		}
	}
out:
	close(fd);
}

static void read_acpi_rsdp(struct sysview *sv)
{
	char path[4096], line[256];
	unsigned char bp[0x78];
	unsigned long long addr = 0;
	FILE *f;
	int fd;

	/* boot_params.acpi_rsdp_addr of the running kernel, if its loader set it. */
	sv_path(sv->root, "/sys/kernel/boot_params/data", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, bp, sizeof(bp), 0) == sizeof(bp))
			memcpy(&sv->acpi_rsdp, bp + 0x70, sizeof(sv->acpi_rsdp));
		close(fd);
		if (sv->acpi_rsdp)
			return;
	}
	/* On EFI machines the system table lists it. */
	sv_path(sv->root, "/sys/firmware/efi/systab", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "ACPI20=%llx", &addr) == 1)
			break;
		if (sscanf(line, "ACPI=%llx", &addr) == 1)
			continue;
	}
	fclose(f);
	sv->acpi_rsdp = addr;
}

int sysview_cmdline(const char *root, char *buf, size_t len)
{
	int n = read_text(root, "/proc/cmdline", buf, len);

	if (n < 0)
		return kx_error("cannot read %s/proc/cmdline: %s", root, strerror(-n));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/*
 * Entries of one name at any depth, but not those nested inside an entry of
 * the same name (they would be counted twice).
 */
int sysview_iomem_ranges(const struct sysview *sv, const char *name, uint32_t type,
			 struct range_list *out)
{
	unsigned int outer_depth = 0;
	uint64_t outer_end = 0;
	size_t i;

	for (i = 0; i < sv->nr_iomem; i++) {
		const struct iomem_entry *e = &sv->iomem[i];

		if (strcmp(e->name, name))
			continue;
		if (e->start < outer_end && e->depth > outer_depth)
			continue;
		outer_depth = e->depth;
		outer_end = e->end;
		if (ranges_add(out, e->start, e->end, type))
			return -1;
	}
	return 0;
}

static uint32_t memmap_type(const char *name)
{
	if (!strcmp(name, "System RAM"))
		return MEM_RAM;
	if (!strcmp(name, "ACPI Tables"))
		return MEM_ACPI;
	if (!strcmp(name, "ACPI Non-volatile Storage"))
		return MEM_NVS;
	return MEM_RESERVED;
}

int sysview_firmware_memmap(const struct sysview *sv, struct range_list *out)
{
	char path[128], type[64];
	unsigned int i;
	size_t k;

	for (i = 0;; i++) {
		uint64_t start, end;
		int n;

		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/start", i);
		if (read_u64(sv->root, path, 16, &start) != SV_OK)
			break;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/end", i);
		if (read_u64(sv->root, path, 16, &end) != SV_OK || end < start)
			return kx_error("%s%s is missing or not an address", sv->root, path);
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%u/type", i);
		n = read_text(sv->root, path, type, sizeof(type));
		if (n < 0)
			return kx_error("cannot read %s%s", sv->root, path);
		type[strcspn(type, "\n")] = '\0';
		if (ranges_add(out, start, end + 1, memmap_type(type)))
			return -1;
	}
	if (i == 0) {
		for (k = 0; k < sv->nr_iomem; k++) {
			const struct iomem_entry *e = &sv->iomem[k];
			uint32_t t = memmap_type(e->name);

			if (e->depth == 0 && (t != MEM_RESERVED || !strcmp(e->name, "Reserved")) &&
			    ranges_add(out, e->start, e->end, t))
				return -1;
		}
	}
	ranges_merge(out);
	return 0;
}

int sysview_read(struct sysview *sv, const char *root)
{
	memset(sv, 0, sizeof(*sv));
	sv->root = root;
	if (read_iomem(sv))
		return -1;
	read_acpi_rsdp(sv);
	if (read_u64(root, "/sys/kernel/kexec_crash_size", 10, &sv->kexec_crash_size) != SV_OK)
		sv->kexec_crash_size = 0;
	return 0;
}

int sysview_read_crash(struct sysview *sv)
{
	const char *root = sv->root;
	enum sv_state st;

	if (sv->crash_read)
		return 0;
	sv->crash_read = true;
	if (read_cpus(sv) || read_vmcoreinfo(sv))
		return -1;
	read_kallsyms(sv);
	read_page_offset(sv);

	st = read_u64(root, "/sys/kernel/crash_elfcorehdr_size", 10, &sv->crash_elfcorehdr_size);
	if (st == SV_OK && !sv->crash_elfcorehdr_size)
		st = SV_MALFORMED;
	sv->elfcorehdr_size_state = st;
	sv->cpu_crash_hotplug = exists(root, "/sys/devices/system/cpu/crash_hotplug");
	sv->memory_crash_hotplug = exists(root, "/sys/devices/system/memory/crash_hotplug");
	return 0;
}

void sysview_free(struct sysview *sv)
{
	free(sv->iomem);
	free(sv->notes);
	sv->iomem = NULL;
	sv->notes = NULL;
}

int sysview_kexec_loaded(const char *root, bool crash)
{
	uint64_t v;

	if (read_u64(root, crash ? "/sys/kernel/kexec_crash_loaded" : "/sys/kernel/kexec_loaded",
		     10, &v) != SV_OK)
		return -1;
	return v ? 1 : 0;
}

bool sysview_crash_hotplug(const char *root)
{
	return exists(root, "/sys/kernel/crash_elfcorehdr_size") ||
	       exists(root, "/sys/devices/system/cpu/crash_hotplug");
}

int sysview_kexec_load_disabled(const char *root)
{
	uint64_t v;

	if (read_u64(root, "/proc/sys/kernel/kexec_load_disabled", 10, &v) != SV_OK)
		return -1;
	return v ? 1 : 0;
}

void sysview_lockdown(const char *root, char *mode, size_t len)
{
	char buf[256], *open_br, *close_br;

	mode[0] = '\0';
	if (read_text(root, "/sys/kernel/security/lockdown", buf, sizeof(buf)) < 0)
		return;
	open_br = strchr(buf, '[');
	close_br = open_br ? strchr(open_br, ']') : NULL;
	if (!close_br)
		return;
	*close_br = '\0';
	snprintf(mode, len, "%s", open_br + 1);
}
