/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the loader needs from the machine it runs on, gathered behind one
 * struct so that tests can run the whole loader against a fixture tree with
 * the system calls recorded instead of made.
 */
#ifndef KEXEC_PLATFORM_H
#define KEXEC_PLATFORM_H

#include <stddef.h>

struct kexec_segment {
	const void *buf;
	size_t bufsz;
	const void *mem;
	size_t memsz;
};

struct platform {
	/* Prefix for every /proc and /sys path; "" on a real system. */
	const char *root;
	/* Each returns 0 or a negative errno. */
	long (*kexec_load)(unsigned long entry, unsigned long nr_segments,
			   const struct kexec_segment *segments, unsigned long flags);
	long (*kexec_file_load)(int kernel_fd, int initrd_fd, unsigned long cmdline_len,
				const char *cmdline, unsigned long flags);
	long (*reboot_kexec)(void);
};

/* The whole program behind main(): parse argv, act, return the exit status. */
int kexec_main(int argc, char **argv, const struct platform *platform);

#endif
