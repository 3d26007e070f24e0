// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for get_nr_cpus() and get_elfcorehdrsz(), each on a small sysfs
 * tree written to a temporary directory, plus the parsers they rely on.
 */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crashdump.h"
#include "sysview.h"
#include "util.h"

#define PHDR sizeof(Elf64_Phdr)
#define EHDR sizeof(Elf64_Ehdr)

struct tree {
	char root[256];
};

static void mkdirs(const char *path)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[512], dir[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdirs(dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void drop(const struct tree *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	unlink(path);
}

/* A one-CPU machine with everything a crash load reads; possible CPUs as given. */
static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->root, sizeof(t->root), "/tmp/kexec-unit-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	put(t, "proc/iomem",
	    "00001000-0009fbff : System RAM\n"
	    "00100000-3ffdffff : System RAM\n"
	    "  01000000-01ffffff : Kernel code\n"
	    "  02000000-027fffff : Kernel data\n"
	    "  2f000000-3effffff : Crash kernel\n");
	put(t, "sys/devices/system/cpu/present", "0\n");
	put(t, "sys/devices/system/cpu/cpu0/crash_notes", "3fc1e280\n");
	put(t, "sys/devices/system/cpu/cpu0/crash_notes_size", "456\n");
	put(t, "sys/kernel/vmcoreinfo", "3b3ac000 1024\n");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	assert_int_equal(system(cmd), 0);
	free(t);
	return 0;
}

static void read_view(const struct tree *t, struct sysview *sv)
{
	assert_int_equal(sysview_read(sv, t->root), 0);
	assert_int_equal(sysview_read_crash(sv), 0);
}

static unsigned int nr_cpus_with(const struct tree *t, const char *possible)
{
	struct sysview sv;
	unsigned int n;

	if (possible)
		put(t, "sys/devices/system/cpu/possible", possible);
	else
		drop(t, "sys/devices/system/cpu/possible");
	read_view(t, &sv);
	n = get_nr_cpus(&sv);
	sysview_free(&sv);
	return n;
}

static void test_nr_cpus_lists(void **state)
{
	struct tree *t = *state;

	assert_int_equal(nr_cpus_with(t, "0\n"), 1);
	assert_int_equal(nr_cpus_with(t, "0-3,8-11\n"), 8);
	assert_int_equal(nr_cpus_with(t, "0-8191\n"), 8192);
	assert_int_equal(nr_cpus_with(t, "0,2,4-5\n"), 4);
}

static void test_nr_cpus_fallback(void **state)
{
	struct tree *t = *state;

	/* Missing or malformed: the configured count, one cpuN directory per CPU. */
	put(t, "sys/devices/system/cpu/cpu1/online", "0\n");
	put(t, "sys/devices/system/cpu/cpu2/online", "0\n");
	put(t, "sys/devices/system/cpu/cpufreq/x", "\n");
	assert_int_equal(nr_cpus_with(t, NULL), 3);
	assert_int_equal(nr_cpus_with(t, "garbage\n"), 3);
	assert_int_equal(nr_cpus_with(t, "3-1\n"), 3);
	assert_int_equal(nr_cpus_with(t, "\n"), 3);
	assert_int_equal(nr_cpus_with(t, "0-3,\n"), 3);
}

static void test_parse_cpu_list(void **state)
{
	unsigned int n, max;

	assert_int_equal(parse_cpu_list("0-3,8-11\n", &n, &max), 0);
	assert_int_equal(n, 8);
	assert_int_equal(max, 11);
	assert_int_equal(parse_cpu_list("0", &n, &max), 0);
	assert_int_equal(n, 1);
	assert_int_not_equal(parse_cpu_list("", &n, NULL), 0);
	assert_int_not_equal(parse_cpu_list("a-b", &n, NULL), 0);
	assert_int_not_equal(parse_cpu_list("1-", &n, NULL), 0);
	assert_int_not_equal(parse_cpu_list("0-99999999", &n, NULL), 0);
}

static int size_of(const struct tree *t, bool hotplug, const char *option, uint64_t built,
		   uint64_t *memsz, enum elfcorehdr_size_source *src)
{
	struct elfcorehdr_size_request req = {
		.hotplug = hotplug,
		.built = built,
		.crash_size = 256ULL << 20,
		.option_arg = option,
	};
	struct sysview sv;
	int ret;

	if (option) {
		assert_int_equal(parse_size(option, &req.option), 0);
		req.option_set = true;
	}
	read_view(t, &sv);
	ret = get_elfcorehdrsz(&sv, &req, memsz, src);
	sysview_free(&sv);
	return ret;
}

static void test_size_kernel_figure(void **state)
{
	struct tree *t = *state;
	enum elfcorehdr_size_source src;
	uint64_t memsz;

	put(t, "sys/kernel/crash_elfcorehdr_size", "917616\n");
	assert_int_equal(size_of(t, true, NULL, 0x158, &memsz, &src), 0);
	assert_int_equal(src, ELFCOREHDR_SIZE_KERNEL);
	assert_int_equal(memsz, 917616 + 4096 - 917616 % 4096);
	assert_int_equal(memsz % 4096, 0);

	/* Without --hotplug the header gets exactly its own size. */
	assert_int_equal(size_of(t, false, NULL, 0x158, &memsz, &src), 0);
	assert_int_equal(src, ELFCOREHDR_SIZE_BUILT);
	assert_int_equal(memsz, 4096);
}

static void test_size_computed(void **state)
{
	struct tree *t = *state;
	enum elfcorehdr_size_source src;
	uint64_t memsz, want;
	const char *bad[] = { "garbage\n", "0\n", "-5\n", "12abc\n", "" };
	size_t i;

	put(t, "sys/devices/system/cpu/possible", "0-8191\n");
	want = align_up(EHDR + (8192 + 2 + CRASH_MAX_MEMORY_RANGES) * PHDR, 4096);

	drop(t, "sys/kernel/crash_elfcorehdr_size");
	assert_int_equal(size_of(t, true, NULL, 0x158, &memsz, &src), 0);
	assert_int_equal(src, ELFCOREHDR_SIZE_COMPUTED);
	assert_int_equal(memsz, want);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		put(t, "sys/kernel/crash_elfcorehdr_size", bad[i]);
		assert_int_equal(size_of(t, true, NULL, 0x158, &memsz, &src), 0);
		assert_int_equal(src, ELFCOREHDR_SIZE_COMPUTED);
		assert_int_equal(memsz, want);
	}

	put(t, "sys/devices/system/cpu/possible", "0-3,8-11\n");
	assert_int_equal(size_of(t, true, NULL, 0x158, &memsz, &src), 0);
	assert_int_equal(memsz, align_up(EHDR + (8 + 2 + CRASH_MAX_MEMORY_RANGES) * PHDR, 4096));
}

static void test_size_option(void **state)
{
	struct tree *t = *state;
	enum elfcorehdr_size_source src;
	uint64_t memsz;

	put(t, "sys/kernel/crash_elfcorehdr_size", "917616\n");
	assert_int_equal(size_of(t, true, "2M", 0x158, &memsz, &src), 0);
	assert_int_equal(src, ELFCOREHDR_SIZE_OPTION);
	assert_int_equal(memsz, 2 << 20);
	assert_int_equal(size_of(t, false, "0x1800", 0x158, &memsz, &src), 0);
	assert_int_equal(memsz, 0x2000);
	assert_int_equal(size_of(t, false, "100000", 0x158, &memsz, &src), 0);
	assert_int_equal(memsz, align_up(100000, 4096));
	/* Smaller than the kernel's figure is allowed, with a warning. */
	assert_int_equal(size_of(t, true, "64K", 0x158, &memsz, &src), 0);
	assert_int_equal(memsz, 64 << 10);
	/* Smaller than the header built now, or larger than the crash region. */
	assert_int_equal(size_of(t, true, "100", 0x158, &memsz, &src), -1);
	assert_int_equal(size_of(t, true, "1G", 0x158, &memsz, &src), -1);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("0x1000", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1M", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(parse_size("2G", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_not_equal(parse_size("", &v), 0);
	assert_int_not_equal(parse_size("-1", &v), 0);
	assert_int_not_equal(parse_size("abc", &v), 0);
	assert_int_not_equal(parse_size("12Q", &v), 0);
	assert_int_not_equal(parse_size("99999999999999999999", &v), 0);
	assert_int_not_equal(parse_size("17179869184G", &v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nr_cpus_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nr_cpus_fallback, setup, teardown),
		cmocka_unit_test(test_parse_cpu_list),
		cmocka_unit_test_setup_teardown(test_size_kernel_figure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_computed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_option, setup, teardown),
		cmocka_unit_test(test_parse_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
