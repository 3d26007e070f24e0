// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kexec_main: the program behind main(). It parses the command line once
 * into a load request and hands it to the action asked for; only here is
 * an error turned into an exit status.
 */
#include <stdio.h>

#include "config.h"
#include "load.h"
#include "options.h"
#include "platform.h"
#include "util.h"

int kexec_main(int argc, char **argv, const struct platform *p)
{
	struct load_request req;
	int ret;

	if (parse_options(argc, argv, &req))
		return 2;
	kx_debug_enabled = req.debug;

	switch (req.action) {
	case ACTION_HELP:
		print_usage();
		return 0;
	case ACTION_VERSION:
		printf("kexec (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	case ACTION_STATUS:
		return do_status(&req, p);
	case ACTION_UNLOAD:
		return do_unload(&req, p) ? 1 : 0;
	case ACTION_EXEC:
		return do_exec(&req, p) ? 1 : 0;
	case ACTION_LOAD:
		ret = do_load(&req, p);
		if (!ret && req.exec_after_load)
			ret = do_exec(&req, p);
		return ret ? 1 : 0;
	case ACTION_NONE:
		break;
	}
	return 2;
}
