/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line, turned into one load request: what the user asked for,
 * nothing derived. The options follow kexec-tools, since kdump service
 * scripts call them.
 */
#ifndef KEXEC_OPTIONS_H
#define KEXEC_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

enum kexec_action {
	ACTION_NONE,
	ACTION_LOAD,
	ACTION_UNLOAD,
	ACTION_EXEC,
	ACTION_STATUS,
	ACTION_HELP,
	ACTION_VERSION,
};

enum syscall_policy {
	SYSCALL_AUTO, /* -a: kexec_file_load, falling back to kexec_load */
	SYSCALL_LOAD, /* -c: kexec_load with this project's purgatory */
	SYSCALL_FILE, /* -s: kexec_file_load only */
};

struct load_request {
	enum kexec_action action;
	bool crash; /* -p: the capture kernel, loaded into the crash region */
	bool load_normal; /* -l */
	bool exec_after_load; /* plain "kexec KERNEL": load, then boot it */
	enum syscall_policy policy;
	const char *kernel;
	const char *initrd;
	const char *append; /* --append / --command-line, last one wins */
	bool reuse_cmdline;
	bool debug;
	bool hotplug;
	bool elfcorehdrsz_set;
	uint64_t elfcorehdrsz;
	const char *elfcorehdrsz_arg; /* as typed, for messages */
	bool console_serial;
	uint16_t serial_port;
	uint64_t mem_min;
	uint64_t mem_max; /* 0: no limit */
	bool no_sync; /* -y */
	bool force; /* -f */
};

/* Fill req from argv; returns 0, or -1 after printing what is wrong. */
int parse_options(int argc, char **argv, struct load_request *req);
void print_usage(void);

#endif
