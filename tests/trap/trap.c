// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kexec-trapped: the whole loader, run against a fixture tree, with the load
 * and reboot system calls written down instead of made.
 *
 * Environment:
 *   KEXEC_TEST_ROOT          fixture tree standing in for / (required)
 *   KEXEC_TEST_RECORD        directory the calls are recorded into (required
 *                            once the loader makes a call)
 *   KEXEC_TEST_LOAD_ERRNO    make kexec_load fail with this errno (name or number)
 *   KEXEC_TEST_FILE_ERRNO    the same for kexec_file_load
 *   KEXEC_TEST_REBOOT_ERRNO  the same for the reboot into the loaded kernel
 *
 * RECORD/calls gets one line per call. kexec_load also leaves RECORD/segments
 * and RECORD/seg<N>.bin; kexec_file_load leaves RECORD/file-kernel.bin and
 * RECORD/file-initrd.bin, the bytes the kernel would read from the two file
 * descriptors. A successful load or unload updates the kexec_loaded or
 * kexec_crash_loaded file of the fixture tree, as the kernel would, so that a
 * later status check sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform.h"

#define TRAP_EXIT_MISUSE 125

#define KEXEC_ON_CRASH 0x1UL
#define KEXEC_UPDATE_ELFCOREHDR 0x4UL
#define KEXEC_FILE_UNLOAD 0x1UL
#define KEXEC_FILE_ON_CRASH 0x2UL

struct errno_name {
	const char *name;
	int value;
};

static const struct errno_name errno_names[] = {
	{ "EPERM", EPERM },
	{ "ENOENT", ENOENT },
	{ "EINTR", EINTR },
	{ "EIO", EIO },
	{ "E2BIG", E2BIG },
	{ "ENOEXEC", ENOEXEC },
	{ "EBADF", EBADF },
	{ "EAGAIN", EAGAIN },
	{ "ENOMEM", ENOMEM },
	{ "EACCES", EACCES },
	{ "EFAULT", EFAULT },
	{ "EBUSY", EBUSY },
	{ "EEXIST", EEXIST },
	{ "EINVAL", EINVAL },
	{ "ENOSPC", ENOSPC },
	{ "ENOSYS", ENOSYS },
	{ "EOVERFLOW", EOVERFLOW },
	{ "EMSGSIZE", EMSGSIZE },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "EADDRNOTAVAIL", EADDRNOTAVAIL },
	{ "ECANCELED", ECANCELED },
	{ "ENOKEY", ENOKEY },
	{ "EKEYEXPIRED", EKEYEXPIRED },
	{ "EKEYREVOKED", EKEYREVOKED },
	{ "EKEYREJECTED", EKEYREJECTED },
	{ "ENOPKG", ENOPKG },
	{ "EBADMSG", EBADMSG },
};

static const char *root;
static const char *record_dir;
static int load_errno, file_errno, reboot_errno;

static void misuse(const char *fmt, ...)
{
	va_list ap;

	fputs("kexec-trapped: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TRAP_EXIT_MISUSE);
}

static const char *errno_to_name(int value)
{
	static char number[16];
	size_t i;

	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].value == value)
			return errno_names[i].name;
	snprintf(number, sizeof(number), "%d", value);
	return number;
}

/* An injected failure: unset or empty means none (0). */
static int injected_errno(const char *var)
{
	const char *s = getenv(var);
	char *end;
	long value;
	size_t i;

	if (!s || !*s)
		return 0;
	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (!strcmp(s, errno_names[i].name))
			return errno_names[i].value;

	errno = 0;
	value = strtol(s, &end, 10);
	if (errno || *end || value <= 0 || value > 4095)
		misuse("%s=%s is neither a known errno name nor a positive errno number", var, s);
	return (int)value;
}

static void record_path(const char *name, char *path, size_t len)
{
	if (!record_dir || !*record_dir)
		misuse("the loader made a system call but KEXEC_TEST_RECORD is not set");
	if ((size_t)snprintf(path, len, "%s/%s", record_dir, name) >= len)
		misuse("record path %s/%s is too long", record_dir, name);
}

static FILE *record_open(const char *name, const char *mode)
{
	char path[PATH_MAX];
	FILE *f;

	record_path(name, path, sizeof(path));
	f = fopen(path, mode);
	if (!f)
		misuse("cannot open %s: %s", path, strerror(errno));
	return f;
}

static void record_close(FILE *f, const char *name)
{
	int failed = ferror(f);

	if (fclose(f) || failed)
		misuse("cannot write %s/%s", record_dir, name);
}

/* Append one line to RECORD/calls, with " -> NAME" when the call fails. */
static void record_call(int err, const char *fmt, ...)
{
	FILE *f = record_open("calls", "a");
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(f, " -> %s", errno_to_name(err));
	fputc('\n', f);
	record_close(f, "calls");
}

static void record_bytes(const char *name, const void *buf, size_t len)
{
	FILE *f = record_open(name, "w");

	if (len && fwrite(buf, 1, len, f) != len)
		misuse("cannot write %s/%s", record_dir, name);
	record_close(f, name);
}

/* The kernel's view of a load: kexec_loaded or kexec_crash_loaded. */
static void set_loaded(const char *file, int loaded)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/kernel/%s", root, file);
	f = fopen(path, "w");
	if (!f) {
		if (errno != ENOENT)
			misuse("cannot update %s: %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%d\n", loaded);
	fclose(f);
}

/*
 * After a crash load the kernel reports in cpu/ and memory/crash_hotplug
 * whether it will rewrite the elfcorehdr on hotplug; those files exist only
 * on kernels with crash hotplug.
 */
static void set_crash_hotplug(int updatable)
{
	static const char *const files[] = {
		"sys/devices/system/cpu/crash_hotplug",
		"sys/devices/system/memory/crash_hotplug",
	};
	char path[PATH_MAX];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		if (access(path, F_OK))
			continue;
		f = fopen(path, "w");
		if (!f)
			misuse("cannot update %s: %s", path, strerror(errno));
		fprintf(f, "%d\n", updatable);
		fclose(f);
	}
}

static long trap_kexec_load(unsigned long entry, unsigned long nr_segments,
			    const struct kexec_segment *segments, unsigned long flags)
{
	int err = load_errno;
	char name[32];
	unsigned long i;
	FILE *f;

	if (nr_segments && !segments)
		err = EFAULT;
	for (i = 0; i < nr_segments && segments; i++) {
		if (segments[i].bufsz && !segments[i].buf)
			err = EFAULT;
		/* The kernel's segment checks: page-aligned, bufsz within memsz. */
		if (segments[i].bufsz > segments[i].memsz ||
		    ((unsigned long)segments[i].mem | segments[i].memsz) & 0xfff)
			err = err ? err : EINVAL;
	}

	if (nr_segments && segments) {
		f = record_open("segments", "w");
		for (i = 0; i < nr_segments; i++)
			fprintf(f, "%lu mem=0x%lx memsz=0x%lx bufsz=0x%lx\n", i,
				(unsigned long)segments[i].mem, (unsigned long)segments[i].memsz,
				(unsigned long)segments[i].bufsz);
		record_close(f, "segments");

		for (i = 0; i < nr_segments; i++) {
			snprintf(name, sizeof(name), "seg%lu.bin", i);
			record_bytes(name, segments[i].buf,
				     segments[i].buf ? segments[i].bufsz : 0);
		}
	}

	record_call(err, "kexec_load entry=0x%lx nr_segments=%lu flags=0x%lx", entry, nr_segments,
		    flags);
	/* The kernel frees the old capture kernel before it loads a new one. */
	if (err && (flags & KEXEC_ON_CRASH) && nr_segments && err != EPERM && err != EBUSY &&
	    err != ENOSYS)
		set_loaded("kexec_crash_loaded", 0);
	if (err)
		return -err;

	if (flags & KEXEC_ON_CRASH) {
		set_loaded("kexec_crash_loaded", nr_segments != 0);
		set_crash_hotplug(nr_segments && (flags & KEXEC_UPDATE_ELFCOREHDR));
	} else {
		set_loaded("kexec_loaded", nr_segments != 0);
	}
	return 0;
}

/* The file behind a descriptor, as the kernel would see it; 0 or an errno. */
static int fd_path(int fd, char *path, size_t len)
{
	char link[64];
	ssize_t n;

	if (fd < 0) {
		snprintf(path, len, "-");
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, len - 1);
	if (n < 0) {
		snprintf(path, len, "<bad fd %d>", fd);
		return EBADF;
	}
	path[n] = '\0';
	return 0;
}

#define RECORD_FD_MAX (64 << 20)

/* Copy what the kernel would read from fd (its first 64 MiB), keeping the offset. */
static void record_fd(int fd, const char *name)
{
	FILE *f = record_open(name, "w");
	char buf[65536];
	off_t off = 0;
	ssize_t n;

	/* Enough for any test's comparison; huge sparse files stay cheap. */
	while (fd >= 0 && off < RECORD_FD_MAX && (n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			misuse("cannot write %s/%s", record_dir, name);
		off += n;
	}
	record_close(f, name);
}

static long trap_kexec_file_load(int kernel_fd, int initrd_fd, unsigned long cmdline_len,
				 const char *cmdline, unsigned long flags)
{
	char kernel[PATH_MAX], initrd[PATH_MAX];
	unsigned long shown = cmdline_len;
	int err = file_errno;

	if (fd_path(kernel_fd, kernel, sizeof(kernel)))
		err = EBADF;
	if (fd_path(initrd_fd, initrd, sizeof(initrd)))
		err = EBADF;
	if (cmdline_len && !cmdline) {
		err = EFAULT;
		shown = 0;
	}
	if (shown && cmdline[shown - 1] == '\0')
		shown--;

	if (!(flags & KEXEC_FILE_UNLOAD)) {
		record_fd(kernel_fd, "file-kernel.bin");
		record_fd(initrd_fd, "file-initrd.bin");
	}

	record_call(err,
		    "kexec_file_load kernel=%s initrd=%s cmdline_len=%lu flags=0x%lx cmdline=%.*s",
		    kernel, initrd, cmdline_len, flags, (int)shown, shown ? cmdline : "");
	if (err && (flags & KEXEC_FILE_ON_CRASH) && !(flags & KEXEC_FILE_UNLOAD) && err != EPERM &&
	    err != EBUSY && err != EBADF && err != ENOSYS)
		set_loaded("kexec_crash_loaded", 0);
	if (err)
		return -err;

	if (flags & KEXEC_FILE_ON_CRASH) {
		set_loaded("kexec_crash_loaded", !(flags & KEXEC_FILE_UNLOAD));
		set_crash_hotplug(!(flags & KEXEC_FILE_UNLOAD));
	} else {
		set_loaded("kexec_loaded", !(flags & KEXEC_FILE_UNLOAD));
	}
	return 0;
}

static long trap_reboot_kexec(void)
{
	record_call(reboot_errno, "reboot_kexec");
	return reboot_errno ? -reboot_errno : 0;
}

int main(int argc, char **argv)
{
	struct platform platform = {
		.kexec_load = trap_kexec_load,
		.kexec_file_load = trap_kexec_file_load,
		.reboot_kexec = trap_reboot_kexec,
	};
	struct stat st;

	root = getenv("KEXEC_TEST_ROOT");
	if (!root || !*root)
		misuse("KEXEC_TEST_ROOT is not set: point it at a fixture tree");
	if (stat(root, &st) || !S_ISDIR(st.st_mode))
		misuse("KEXEC_TEST_ROOT=%s is not a directory", root);
	record_dir = getenv("KEXEC_TEST_RECORD");

	load_errno = injected_errno("KEXEC_TEST_LOAD_ERRNO");
	file_errno = injected_errno("KEXEC_TEST_FILE_ERRNO");
	reboot_errno = injected_errno("KEXEC_TEST_REBOOT_ERRNO");

	platform.root = root;
	return kexec_main(argc, argv, &platform);
}
