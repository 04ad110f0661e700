/* SPDX-License-Identifier: MIT */
/*
 * cmdargs.h: the option-parsing tails that the file-reading commands
 * (report, check, export) share after their getopt_long() loop.
 */
#ifndef MMAPLOCK_TOOL_CMDARGS_H
#define MMAPLOCK_TOOL_CMDARGS_H

/*
 * getopt_long() returned '?': one line on stderr for PROG ("mmaplock
 * check") naming the bad option, or saying that it needs a value: a short
 * option of optstring (so it was known: its value is missing), or a long
 * one whose val is in long_val. Call it right after the '?', while
 * optind/optopt still describe it.
 */
void cmdargs_bad_option(const char *prog, char **argv, const char *optstring,
			const char *long_val);

/*
 * The input file after the options: *path is set when one is given and
 * left as it is otherwise. Returns 0, or -1 after a one-line error when
 * more than one is given.
 */
int cmdargs_input(const char *prog, int argc, char **argv, const char **path);

#endif
