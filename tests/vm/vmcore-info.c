// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vmcore-info: describe an ELF64 core file in lines a test can parse.
 *
 * The VM tests run it in the capture kernel on /proc/vmcore; the host tests
 * run it on core files they make. Every read is bounded and checked against
 * the file size, so a corrupt or truncated dump gives an error, not a crash.
 *
 *   vmcore-info [FILE]      notes and PT_LOADs (default /proc/vmcore)
 *   vmcore-info -H [FILE]   program headers only, note contents not read:
 *                           for an elfcorehdr, whose PT_NOTE offsets are
 *                           physical addresses rather than file offsets
 *
 * Output, one record per line:
 *   elf type=CORE machine=62 phnum=N
 *   phdr type=NOTE offset=0x.. paddr=0x.. vaddr=0x.. filesz=0x.. memsz=0x..   (-H only)
 *   note CORE NT_PRSTATUS descsz=0x150 pid=N rip=0x..
 *   note VMCOREINFO 0x0 descsz=0x.. osrelease=6.12...
 *   load paddr=0x.. memsz=0x.. vaddr=0x.. filesz=0x.. offset=0x..
 *   summary notes=N prstatus=N vmcoreinfo=N loads=N load_bytes=0x..
 * Errors go to stderr and the exit status is 1.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NOTE_SEGMENT (64u << 20)

/* struct elf_prstatus on x86_64: pr_pid at 32, pr_reg at 112, rip is pr_reg[16]. */
#define PRSTATUS_PID_OFFSET 32
#define PRSTATUS_RIP_OFFSET (112 + 16 * 8)

struct core {
	const char *path;
	int fd;
	uint64_t size; /* 0 when unknown (st_size of /proc/vmcore is right, but be careful) */
};

static int read_at(const struct core *c, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (c->size && (off > c->size || len > c->size - off)) {
		fprintf(stderr,
			"vmcore-info: %s: 0x%zx bytes at offset 0x%" PRIx64
			" lie past the end (size 0x%" PRIx64 ")\n",
			c->path, len, off, c->size);
		return -1;
	}

	while (done < len) {
		ssize_t n = pread(c->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"vmcore-info: %s: reading 0x%zx bytes at offset 0x%" PRIx64
				": %s\n",
				c->path, len, off, n ? strerror(errno) : "unexpected end of file");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static const char *phdr_type_name(uint32_t type, char *buf, size_t len)
{
	switch (type) {
	case PT_NULL:
		return "NULL";
	case PT_LOAD:
		return "LOAD";
	case PT_NOTE:
		return "NOTE";
	default:
		snprintf(buf, len, "0x%" PRIx32, type);
		return buf;
	}
}

static const char *note_type_name(const char *name, uint32_t type, char *buf, size_t len)
{
	if (!strcmp(name, "CORE") || !strcmp(name, "LINUX")) {
		switch (type) {
		case NT_PRSTATUS:
			return "NT_PRSTATUS";
		case NT_PRFPREG:
			return "NT_PRFPREG";
		case NT_PRPSINFO:
			return "NT_PRPSINFO";
		case NT_TASKSTRUCT:
			return "NT_TASKSTRUCT";
		case NT_AUXV:
			return "NT_AUXV";
		case NT_SIGINFO:
			return "NT_SIGINFO";
		case NT_FILE:
			return "NT_FILE";
		case NT_X86_XSTATE:
			return "NT_X86_XSTATE";
		}
	}
	snprintf(buf, len, "0x%" PRIx32, type);
	return buf;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* The value of KEY= in a vmcoreinfo text, copied into out as one word. */
static void vmcoreinfo_value(const unsigned char *desc, uint32_t descsz, const char *key, char *out,
			     size_t outlen)
{
	size_t klen = strlen(key);
	uint32_t i = 0;

	out[0] = '\0';
	while (i < descsz) {
		uint32_t end = i;

		while (end < descsz && desc[end] != '\n')
			end++;
		if (end - i > klen && !memcmp(desc + i, key, klen)) {
			size_t n = 0;

			for (uint32_t j = i + klen; j < end && n + 1 < outlen; j++) {
				unsigned char ch = desc[j];

				out[n++] = (ch > ' ' && ch < 0x7f) ? (char)ch : '?';
			}
			out[n] = '\0';
			return;
		}
		i = end + 1;
	}
}

struct counts {
	unsigned notes, prstatus, vmcoreinfo, loads;
	uint64_t load_bytes;
};

static int walk_notes(const char *path, const unsigned char *seg, uint64_t len,
		      struct counts *counts)
{
	uint64_t pos = 0;

	while (pos + sizeof(Elf64_Nhdr) <= len) {
		const unsigned char *p = seg + pos;
		uint32_t namesz = get_u32(p), descsz = get_u32(p + 4), type = get_u32(p + 8);
		uint64_t name_off = pos + sizeof(Elf64_Nhdr);
		uint64_t desc_off = name_off + ((namesz + 3ull) & ~3ull);
		uint64_t next = desc_off + ((descsz + 3ull) & ~3ull);
		char name[64], tbuf[16], extra[160] = "";
		size_t n;

		/* The kernel pads the note buffer of a CPU with zeros; stop there. */
		if (!namesz && !descsz && !type)
			break;
		if (next > len) {
			fprintf(stderr,
				"vmcore-info: %s: note at 0x%" PRIx64
				" (namesz 0x%x descsz 0x%x) overruns its segment of 0x%" PRIx64
				" bytes\n",
				path, pos, namesz, descsz, len);
			return -1;
		}

		n = namesz < sizeof(name) ? namesz : sizeof(name) - 1;
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = seg[name_off + i];

			name[i] = (ch > ' ' && ch < 0x7f) ? (char)ch : (ch ? '?' : '\0');
		}
		name[n] = '\0';
		if (!name[0])
			strcpy(name, "-");

		counts->notes++;
		if (!strcmp(name, "CORE") && type == NT_PRSTATUS) {
			counts->prstatus++;
			if (descsz >= PRSTATUS_RIP_OFFSET + 8)
				snprintf(extra, sizeof(extra), " pid=%" PRIu32 " rip=0x%" PRIx64,
					 get_u32(seg + desc_off + PRSTATUS_PID_OFFSET),
					 get_u64(seg + desc_off + PRSTATUS_RIP_OFFSET));
		} else if (!strcmp(name, "VMCOREINFO")) {
			char release[96];

			counts->vmcoreinfo++;
			vmcoreinfo_value(seg + desc_off, descsz, "OSRELEASE=", release,
					 sizeof(release));
			if (release[0])
				snprintf(extra, sizeof(extra), " osrelease=%s", release);
		}
		printf("note %s %s descsz=0x%" PRIx32 "%s\n", name,
		       note_type_name(name, type, tbuf, sizeof(tbuf)), descsz, extra);
		pos = next;
	}
	return 0;
}

static int describe(struct core *c, int headers_only)
{
	unsigned char ident[EI_NIDENT];
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	struct counts counts = { 0 };
	int ret = 0;

	if (read_at(c, ident, sizeof(ident), 0))
		return -1;
	if (memcmp(ident, ELFMAG, SELFMAG)) {
		fprintf(stderr, "vmcore-info: %s: not an ELF file\n", c->path);
		return -1;
	}
	if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB) {
		fprintf(stderr, "vmcore-info: %s: not a little-endian ELF64 file\n", c->path);
		return -1;
	}
	if (read_at(c, &eh, sizeof(eh), 0))
		return -1;
	/* PN_XNUM (extended numbering) never occurs in a kdump: reject it too. */
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM) {
		fprintf(stderr,
			"vmcore-info: %s: bad program header table (phentsize %u phnum %u)\n",
			c->path, eh.e_phentsize, eh.e_phnum);
		return -1;
	}

	printf("elf type=%s machine=%u phnum=%u\n", eh.e_type == ET_CORE ? "CORE" : "OTHER",
	       eh.e_machine, eh.e_phnum);

	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph) {
		fprintf(stderr, "vmcore-info: out of memory\n");
		return -1;
	}
	if (read_at(c, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff)) {
		free(ph);
		return -1;
	}

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (headers_only) {
			char tbuf[16];

			printf("phdr type=%s offset=0x%" PRIx64 " paddr=0x%" PRIx64
			       " vaddr=0x%" PRIx64 " filesz=0x%" PRIx64 " memsz=0x%" PRIx64 "\n",
			       phdr_type_name(p->p_type, tbuf, sizeof(tbuf)), p->p_offset,
			       p->p_paddr, p->p_vaddr, p->p_filesz, p->p_memsz);
		}
		if (p->p_type == PT_LOAD) {
			counts.loads++;
			counts.load_bytes += p->p_memsz;
		}
	}

	for (unsigned i = 0; i < eh.e_phnum && !headers_only; i++) {
		const Elf64_Phdr *p = &ph[i];
		unsigned char *seg;

		if (p->p_type != PT_NOTE || !p->p_filesz)
			continue;
		if (p->p_filesz > MAX_NOTE_SEGMENT) {
			fprintf(stderr,
				"vmcore-info: %s: PT_NOTE %u of 0x%" PRIx64
				" bytes is larger than the 0x%x this tool reads\n",
				c->path, i, p->p_filesz, MAX_NOTE_SEGMENT);
			ret = -1;
			break;
		}
		seg = malloc(p->p_filesz);
		if (!seg) {
			fprintf(stderr, "vmcore-info: out of memory\n");
			ret = -1;
			break;
		}
		if (read_at(c, seg, p->p_filesz, p->p_offset) ||
		    walk_notes(c->path, seg, p->p_filesz, &counts))
			ret = -1;
		free(seg);
		if (ret)
			break;
	}

	for (unsigned i = 0; i < eh.e_phnum && !headers_only; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type == PT_LOAD)
			printf("load paddr=0x%" PRIx64 " memsz=0x%" PRIx64 " vaddr=0x%" PRIx64
			       " filesz=0x%" PRIx64 " offset=0x%" PRIx64 "\n",
			       p->p_paddr, p->p_memsz, p->p_vaddr, p->p_filesz, p->p_offset);
	}
	free(ph);

	if (ret)
		return ret;
	if (headers_only)
		printf("summary phdrs=%u loads=%u load_bytes=0x%" PRIx64 "\n", eh.e_phnum,
		       counts.loads, counts.load_bytes);
	else
		printf("summary notes=%u prstatus=%u vmcoreinfo=%u loads=%u load_bytes=0x%" PRIx64
		       "\n",
		       counts.notes, counts.prstatus, counts.vmcoreinfo, counts.loads,
		       counts.load_bytes);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmcore-info [-H] [FILE]\n"
		"  describe the notes and PT_LOADs of an ELF64 core file (default /proc/vmcore)\n"
		"  -H  print the program headers only, without reading the notes\n");
}

int main(int argc, char **argv)
{
	struct core c = { .path = "/proc/vmcore" };
	int headers_only = 0;
	struct stat st;
	int opt, ret;

	while ((opt = getopt(argc, argv, "Hh")) != -1) {
		switch (opt) {
		case 'H':
			headers_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		c.path = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	c.fd = open(c.path, O_RDONLY | O_CLOEXEC);
	if (c.fd < 0) {
		fprintf(stderr, "vmcore-info: cannot open %s: %s\n", c.path, strerror(errno));
		return 1;
	}
	if (!fstat(c.fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0)
		c.size = (uint64_t)st.st_size;

	ret = describe(&c, headers_only);
	close(c.fd);
	if (fflush(stdout))
		return 1;
	return ret ? 1 : 0;
}
