// SPDX-License-Identifier: GPL-2.0-or-later
/* The real system: system calls made for real, /proc and /sys at /. */
#include <errno.h>
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform.h"

static long sys_kexec_load(unsigned long entry, unsigned long nr_segments,
			   const struct kexec_segment *segments, unsigned long flags)
{
	return syscall(SYS_kexec_load, entry, nr_segments, segments, flags) ? -errno : 0;
}

static long sys_kexec_file_load(int kernel_fd, int initrd_fd, unsigned long cmdline_len,
				const char *cmdline, unsigned long flags)
{
	return syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, cmdline_len, cmdline, flags)
		       ? -errno
		       : 0;
}

static long sys_reboot_kexec(void)
{
	return reboot(LINUX_REBOOT_CMD_KEXEC) ? -errno : 0;
}

int main(int argc, char **argv)
{
	static const struct platform linux_platform = {
		.root = "",
		.kexec_load = sys_kexec_load,
		.kexec_file_load = sys_kexec_file_load,
		.reboot_kexec = sys_reboot_kexec,
	};

	return kexec_main(argc, argv, &linux_platform);
}
