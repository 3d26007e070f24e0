// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crash-file-load: load a capture kernel with the kernel's own
 * kexec_file_load, independent of the loader under test.
 *
 *   crash-file-load KERNEL INITRD CMDLINE
 *   crash-file-load -u            unload the crash image
 *
 * The VM tests use it to prove that the guest, the capture kernel and
 * vmcore-info work before they blame the loader; it only ever runs inside
 * a QEMU guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILE_UNLOAD 0x1
#define FILE_ON_CRASH 0x2

int main(int argc, char **argv)
{
	int kernel_fd, initrd_fd;
	long ret;

	if (argc == 2 && !strcmp(argv[1], "-u")) {
		ret = syscall(SYS_kexec_file_load, -1, -1, 0UL, "", FILE_UNLOAD | FILE_ON_CRASH);
		if (ret) {
			fprintf(stderr, "crash-file-load: unload: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: crash-file-load KERNEL INITRD CMDLINE | -u\n");
		return 2;
	}

	kernel_fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (kernel_fd < 0) {
		fprintf(stderr, "crash-file-load: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	initrd_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (initrd_fd < 0) {
		fprintf(stderr, "crash-file-load: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}

	ret = syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, strlen(argv[3]) + 1, argv[3],
		      FILE_ON_CRASH);
	if (ret) {
		fprintf(stderr, "crash-file-load: kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
