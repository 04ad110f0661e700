/* SPDX-License-Identifier: MIT */
/*
 * cmdargs.h: what the commands share around their getopt_long() loop: the
 * option table as one object (so that a command's help can be checked
 * against the options it really parses, and stat can pass report's options
 * through without a list of its own), and the tails after the loop.
 */
#ifndef MMAPLOCK_TOOL_CMDARGS_H
#define MMAPLOCK_TOOL_CMDARGS_H

#include <getopt.h>
#include <stdio.h>

/* A command's options: the table and the short options its getopt_long() uses. */
struct cmdargs_opts {
	const struct option *lo;	/* ends with a NULL name */
	const char *shortopts;		/* getopt's optstring ('+' first: stop at CMD) */
};

/*
 * `mmaplock CMD --list-options` (not in the help: tests/sh/help.sh asks it
 * to compare each --help text with what the command parses). When argv[1]
 * is --list-options, print one line per option of t to stdout, "--NAME
 * none|required|optional [-C]" (or "-C none|required" for a short option
 * without a long one), and return 1; otherwise return 0.
 */
int cmdargs_list(int argc, char **argv, const struct cmdargs_opts *t);

/*
 * getopt_long() returned '?' for table t: one line on stderr for PROG
 * naming the bad option, saying that it needs a value or takes none. Call it
 * right after the '?', while optind/optopt still describe it.
 */
void cmdargs_bad(const char *prog, char **argv, const struct cmdargs_opts *t);

/*
 * An optional_argument option given without "=VALUE": its value is the next
 * argument when that is all digits (report's --stacks N), or a sign and a
 * digit ("-1": given as the value, so the caller's range check says so
 * rather than "unknown option"). Returns it and
 * steps optind over it, or NULL. Report and stat's pass-through both use it,
 * so that they split the arguments the same way.
 */
const char *cmdargs_optional_number(int argc, char **argv);

/*
 * val as one of names (NULL-terminated): its index, or -1 after one line,
 * "PROG: OPT VAL: not a, b or c".
 */
int cmdargs_keyword(const char *prog, const char *opt, const char *val,
		    const char *const *names);

/*
 * The input file after the options: *path is set when one is given and
 * left as it is otherwise. Returns 0, or -1 after a one-line error when
 * more than one is given or it is "" (`mmaplock report "$unset_var"`).
 */
int cmdargs_input(const char *prog, int argc, char **argv, const char **path);

#endif
