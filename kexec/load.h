/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading, unloading and booting: from a load request to the system call. */
#ifndef KEXEC_LOAD_H
#define KEXEC_LOAD_H

#include "options.h"
#include "platform.h"

#define KEXEC_ON_CRASH 0x1
#define KEXEC_UPDATE_ELFCOREHDR 0x4
#define KEXEC_ARCH_X86_64 (62 << 16)

#define KEXEC_FILE_UNLOAD 0x1
#define KEXEC_FILE_ON_CRASH 0x2
#define KEXEC_FILE_NO_INITRAMFS 0x4
#define KEXEC_FILE_DEBUG 0x8

int do_load(const struct load_request *req, const struct platform *p);
int do_unload(const struct load_request *req, const struct platform *p);
int do_exec(const struct load_request *req, const struct platform *p);
/* Exit status of -S: 1 when loaded, 0 when not, 2 when it cannot tell. */
int do_status(const struct load_request *req, const struct platform *p);

/* --reuse-cmdline: /proc/cmdline without crashkernel= and BOOT_IMAGE= words. */
void filter_reused_cmdline(const char *in, char *out, size_t len);

#endif
