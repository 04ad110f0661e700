/* SPDX-License-Identifier: MIT */
/*
 * record-args.h: record's options (record-args.c), parsed by record and
 * stat into the recorder's struct record_opts (live/record.h).
 */
#ifndef MML_RECORD_ARGS_H
#define MML_RECORD_ARGS_H

#include <stdio.h>
#include "record.h"

struct cmdargs_opts;

/* record's options (cmdargs.h); stat parses them too, with its own and report's. */
extern const struct cmdargs_opts record_options;

/*
 * Parse record's options from argv (argv[0] is the command name). Options
 * stop at "--" (CMD follows) or at the first non-option. Returns 0, 1 after
 * --help (the caller prints the usage), or 2 after a one-line usage error on
 * stderr.
 */
int record_parse_args(int argc, char **argv, struct record_opts *o);
/*
 * The pieces of record_parse_args() for a command that parses more options
 * (stat): apply one option of record_options (getopt_long()'s return value
 * and optarg), returning 0, 1 for --help, 2 after a one-line usage error, or
 * -1 when c is not one of record's; then, with optind at the first
 * argument left, take CMD and check the whole (0 or 2).
 */
int record_parse_opt(struct record_opts *o, int c, const char *arg);
int record_parse_finish(struct record_opts *o, int argc, char **argv);
/* Usage text of record's options; output_help describes -o FILE. */
void record_usage(FILE *f, const char *output_help);

#endif
