/* SPDX-License-Identifier: MIT */
/*
 * cmdargs.c: see cmdargs.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cmdargs.h"

void cmdargs_bad_option(const char *prog, char **argv, const char *optstring,
			const char *long_val)
{
	const char *a = argv[optind - 1];
	int is_long = a[0] == '-' && a[1] == '-';

	if (optopt && ((is_long && long_val && strchr(long_val, optopt)) ||
		       (!is_long && optstring && strchr(optstring, optopt))))
		fprintf(stderr, "%s: %s: needs a value (see --help)\n", prog, argv[optind - 1]);
	else if (optopt)
		fprintf(stderr, "%s: -%c: unknown option (see --help)\n", prog, optopt);
	else
		fprintf(stderr, "%s: %s: unknown option (see --help)\n", prog, argv[optind - 1]);
}

int cmdargs_input(const char *prog, int argc, char **argv, const char **path)
{
	if (optind < argc)
		*path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "%s: %s: only one input file\n", prog, argv[optind]);
		return -1;
	}
	return 0;
}
