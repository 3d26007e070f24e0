// SPDX-License-Identifier: GPL-2.0-or-later
/* Command line parsing into a struct load_request. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "util.h"

enum {
	OPT_APPEND = 256,
	OPT_INITRD,
	OPT_REUSE_CMDLINE,
	OPT_HOTPLUG,
	OPT_ELFCOREHDRSZ,
	OPT_CONSOLE_SERIAL,
	OPT_CONSOLE_VGA,
	OPT_SERIAL,
	OPT_SERIAL_BAUD,
	OPT_MEM_MIN,
	OPT_MEM_MAX,
	OPT_REUSE_INITRD,
	OPT_NO_IFDOWN,
};

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ "load", no_argument, NULL, 'l' },
	{ "load-panic", no_argument, NULL, 'p' },
	{ "unload", no_argument, NULL, 'u' },
	{ "exec", no_argument, NULL, 'e' },
	{ "status", no_argument, NULL, 'S' },
	{ "kexec-syscall", no_argument, NULL, 'c' },
	{ "kexec-file-syscall", no_argument, NULL, 's' },
	{ "kexec-syscall-auto", no_argument, NULL, 'a' },
	{ "debug", no_argument, NULL, 'd' },
	{ "force", no_argument, NULL, 'f' },
	{ "no-ifdown", no_argument, NULL, 'x' },
	{ "no-sync", no_argument, NULL, 'y' },
	{ "no-checks", no_argument, NULL, 'i' },
	{ "type", required_argument, NULL, 't' },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "command-line", required_argument, NULL, OPT_APPEND },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "ramdisk", required_argument, NULL, OPT_INITRD },
	{ "reuse-cmdline", no_argument, NULL, OPT_REUSE_CMDLINE },
	{ "hotplug", no_argument, NULL, OPT_HOTPLUG },
	{ "elfcorehdrsz", required_argument, NULL, OPT_ELFCOREHDRSZ },
	{ "console-serial", no_argument, NULL, OPT_CONSOLE_SERIAL },
	{ "console-vga", no_argument, NULL, OPT_CONSOLE_VGA },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "serial-baud", required_argument, NULL, OPT_SERIAL_BAUD },
	{ "mem-min", required_argument, NULL, OPT_MEM_MIN },
	{ "mem-max", required_argument, NULL, OPT_MEM_MAX },
	{ NULL, 0, NULL, 0 },
};

void print_usage(void)
{
	fputs("Usage: kexec [OPTION]... [KERNEL]\n"
	      "Load a kernel to boot later (-l) or on a panic (-p), unload it, or boot it.\n"
	      "\n"
	      "Actions:\n"
	      "  -p, --load-panic        load KERNEL as the capture (kdump) kernel\n"
	      "  -l, --load              load KERNEL to boot with -e\n"
	      "  -u, --unload            unload the kernel (with -p: the capture kernel)\n"
	      "  -e, --exec              boot the loaded kernel now\n"
	      "  -S, --status            exit 1 if a capture kernel (with -l: a kernel) is "
	      "loaded,\n"
	      "                          0 if not\n"
	      "  -h, --help              show this help\n"
	      "  -v, --version           show the version\n"
	      "\n"
	      "System call:\n"
	      "  -a, --kexec-syscall-auto  kexec_file_load, falling back to kexec_load (default)\n"
	      "  -s, --kexec-file-syscall  kexec_file_load only: the kernel builds the image\n"
	      "  -c, --kexec-syscall       kexec_load only: this loader builds the image\n"
	      "\n"
	      "Image:\n"
	      "      --initrd=FILE       initramfs for the new kernel (also --ramdisk)\n"
	      "      --append=STRING     command line for the new kernel (also --command-line)\n"
	      "      --reuse-cmdline     start from /proc/cmdline, without crashkernel= and\n"
	      "                          BOOT_IMAGE=; --append text is added after it\n"
	      "  -t, --type=TYPE         image type; only bzImage (bzImage64) is supported\n"
	      "\n"
	      "Crash dump (-p with kexec_load):\n"
	      "      --hotplug           let the kernel rewrite the elfcorehdr on CPU and memory\n"
	      "                          hotplug (Linux 6.6+, CONFIG_CRASH_HOTPLUG)\n"
	      "      --elfcorehdrsz=SIZE memory reserved for the elfcorehdr (K/M/G suffix);\n"
	      "                          default with --hotplug: the kernel's\n"
	      "                          /sys/kernel/crash_elfcorehdr_size\n"
	      "\n"
	      "Purgatory and placement (any load with kexec_load):\n"
	      "      --console-serial    purgatory reports on the serial port\n"
	      "      --serial=PORT       that port: ttyS0..ttyS3 or an I/O address (0x3f8)\n"
	      "      --serial-baud=N, --console-vga  accepted for compatibility, ignored\n"
	      "      --mem-min=ADDR      place no segment below ADDR\n"
	      "      --mem-max=ADDR      place no segment above ADDR\n"
	      "\n"
	      "Other:\n"
	      "  -d, --debug             print the load plan\n"
	      "  -f, --force             with -e: do not check that a kernel is loaded\n"
	      "  -y, --no-sync           with -e: do not sync file systems first\n"
	      "  -x, --no-ifdown         accepted for compatibility (interfaces are never\n"
	      "                          brought down)\n"
	      "  -i, --no-checks         accepted for compatibility\n",
	      stdout);
}

static int parse_serial(const char *s, uint16_t *port)
{
	static const uint16_t ports[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
	uint64_t v;

	if (!strncmp(s, "ttyS", 4) && s[4] >= '0' && s[4] <= '3' && !s[5]) {
		*port = ports[s[4] - '0'];
		return 0;
	}
	if (parse_size(s, &v) || !v || v > 0xfff8)
		return kx_error("--serial=%s: expected ttyS0..ttyS3 or an I/O port such as 0x3f8",
				s);
	*port = (uint16_t)v;
	return 0;
}

/* getopt_long's '?': say what is wrong with the word, without its guesswork. */
static int bad_option(const char *word)
{
	const struct option *o;
	size_t n;

	if (strncmp(word, "--", 2))
		return kx_error("unknown option %s (try --help)", word);
	n = strcspn(word + 2, "=");
	for (o = long_options; o->name; o++)
		if (strlen(o->name) == n && !strncmp(o->name, word + 2, n))
			return kx_error("option --%s takes no value: %s (try --help)", o->name,
					word);
	for (o = long_options; o->name; o++)
		if (!strncmp(o->name, word + 2, n))
			return kx_error("option %.*s is ambiguous or unknown (try --help)",
					(int)n + 2, word);
	return kx_error("unknown option %.*s (try --help)", (int)n + 2, word);
}

int parse_options(int argc, char **argv, struct load_request *req)
{
	bool unload = false, exec = false, status = false;
	int c;

	memset(req, 0, sizeof(*req));
	req->policy = SYSCALL_AUTO;
	req->serial_port = 0x3f8;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":hvlpueScsadfxyit:", long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			req->action = ACTION_HELP;
			return 0;
		case 'v':
			req->action = ACTION_VERSION;
			return 0;
		case 'l':
			req->load_normal = true;
			break;
		case 'p':
			req->crash = true;
			break;
		case 'u':
			unload = true;
			break;
		case 'e':
			exec = true;
			break;
		case 'S':
			status = true;
			break;
		case 'c':
			req->policy = SYSCALL_LOAD;
			break;
		case 's':
			req->policy = SYSCALL_FILE;
			break;
		case 'a':
			req->policy = SYSCALL_AUTO;
			break;
		case 'd':
			req->debug = true;
			break;
		case 'f':
			req->force = true;
			break;
		case 'y':
			req->no_sync = true;
			break;
		case 'x':
		case 'i':
			break;
		case 't':
			if (strcmp(optarg, "bzImage") && strcmp(optarg, "bzImage64"))
				return kx_error("--type=%s: only bzImage (bzImage64) is supported",
						optarg);
			break;
		case OPT_APPEND:
			req->append = optarg;
			break;
		case OPT_INITRD:
			req->initrd = optarg;
			break;
		case OPT_REUSE_CMDLINE:
			req->reuse_cmdline = true;
			break;
		case OPT_HOTPLUG:
			req->hotplug = true;
			break;
		case OPT_ELFCOREHDRSZ:
			req->elfcorehdrsz_arg = optarg;
			if (parse_size(optarg, &req->elfcorehdrsz))
				return kx_error("--elfcorehdrsz=%s is not a size (decimal or 0x "
						"hex, optional K, M or G)",
						optarg);
			if (!req->elfcorehdrsz)
				return kx_error("--elfcorehdrsz=%s: the size must not be zero",
						optarg);
			req->elfcorehdrsz_set = true;
			break;
		case OPT_CONSOLE_SERIAL:
			req->console_serial = true;
			break;
		case OPT_CONSOLE_VGA:
		case OPT_SERIAL_BAUD:
			break;
		case OPT_SERIAL:
			if (parse_serial(optarg, &req->serial_port))
				return -1;
			break;
		case OPT_MEM_MIN:
			if (parse_size(optarg, &req->mem_min))
				return kx_error("--mem-min=%s is not an address", optarg);
			break;
		case OPT_MEM_MAX:
			if (parse_size(optarg, &req->mem_max))
				return kx_error("--mem-max=%s is not an address", optarg);
			break;
		case ':':
			return kx_error("option %s needs a value (try --help)", argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
		}
	}

	if (optind < argc)
		req->kernel = argv[optind++];
	if (optind < argc)
		return kx_error("unexpected argument '%s' after the kernel %s", argv[optind],
				req->kernel);

	if (req->load_normal && req->crash)
		return kx_error("-l and -p conflict: load either a kernel to boot with -e or a "
				"capture kernel");
	if (status && (unload || exec))
		return kx_error("-S conflicts with %s: give one action", unload ? "-u" : "-e");
	if (unload && exec)
		return kx_error("-u and -e conflict: give one action");
	if (req->kernel && (unload || status || (exec && !req->load_normal))) {
		const char *opt = status ? "-S" : unload ? "-u" : "-e";

		return kx_error("unexpected kernel %s: %s takes no kernel", req->kernel, opt);
	}
	if (status) {
		/* As kexec-tools: the capture kernel's state unless -l was given. */
		req->action = ACTION_STATUS;
		if (!req->load_normal)
			req->crash = true;
	} else if (unload) {
		req->action = ACTION_UNLOAD;
	} else if (exec && req->crash) {
		return kx_error("-e boots a kernel loaded with -l; a capture kernel (-p) "
				"boots only on a panic");
	} else if (exec && !req->load_normal) {
		req->action = ACTION_EXEC;
	} else if (req->load_normal || req->crash) {
		req->action = ACTION_LOAD;
		/* -l KERNEL -e: load it, then boot it. */
		req->exec_after_load = exec;
		if (!req->kernel)
			return kx_error("%s needs a kernel image file", req->crash ? "-p" : "-l");
	} else if (req->kernel) {
		/* As kexec-tools: a bare kernel is loaded and booted at once. */
		req->action = ACTION_LOAD;
		req->exec_after_load = true;
	} else {
		return kx_error("nothing to do: give an action (-p, -l, -u, -e, -S) and a kernel "
				"(try --help)");
	}
	if ((req->hotplug || req->elfcorehdrsz_set) && !req->crash)
		return kx_error("--hotplug and --elfcorehdrsz apply to a capture kernel (-p) only");
	/* The top of the address space is no limit at all. */
	if (req->mem_max == UINT64_MAX)
		req->mem_max = 0;
	if (req->mem_max && req->mem_max <= req->mem_min)
		return kx_error("--mem-max=0x%llx is not above --mem-min=0x%llx",
				(unsigned long long)req->mem_max, (unsigned long long)req->mem_min);
	return 0;
}
