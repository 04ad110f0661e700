/* SPDX-License-Identifier: MIT */
/*
 * record-args.c: the options of `mmaplock record`, which stat takes too
 * (cmd-stat.c adds its own and report's to this table), see record.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <getopt.h>
#include "cmdargs.h"
#include "record-args.h"

/* ------------------------------------------------------------ options */

/* The vals of the long-only options are below 256, so never a short option. */
enum { OPT_BUFFER = 1, OPT_STACK, OPT_ONLY_CMD };

static const struct option lo[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "force", no_argument, NULL, 'f' },
	{ "duration", required_argument, NULL, 'd' },
	{ "pid", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, 'G' },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER },
	{ "stack", no_argument, NULL, OPT_STACK },
	{ "only-cmd", no_argument, NULL, OPT_ONLY_CMD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
/* '+': options end at the first non-option, CMD (or at "--") */
const struct cmdargs_opts record_options = { lo, "+o:fd:p:G:h" };

void record_usage(FILE *f, const char *output_help)
{
	fprintf(f,
		"  -o, --output FILE      %s\n"
		"  -f, --force            replace an existing FILE (when the recording ends)\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -p, --pid PID          only this process (all its threads and children); repeatable\n"
		"  -G, --cgroup CGROUP    only events in this memory cgroup; repeatable\n"
		"      --buffer-size KB   per-CPU ring buffer (default %u)\n"
		"      --stack            kernel call stacks of the lock takers (ftrace stacktrace trigger)\n"
		"  -- CMD [ARGS]          run CMD and record (the whole system) until it exits\n"
		"      --only-cmd         with CMD: record CMD and its threads and children only\n",
		output_help, RECORD_DEFAULT_KB);
}

static int bad(const struct record_opts *o, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", o->prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

int record_parse_opt(struct record_opts *o, int c, const char *val)
{
	char *end;

	if (!o->buffer_kb)
		o->buffer_kb = RECORD_DEFAULT_KB;
	switch (c) {
	case 'h':
		return 1;
	case 'o':
		if (!*val)
			return bad(o, "%s: an empty file name", "-o");
		o->output = val;
		return 0;
	case 'f':
		o->force = 1;
		return 0;
	case 'd':
		errno = 0;
		o->duration = strtod(val, &end);
		if (errno || end == val || *end || !(o->duration > 0) || o->duration > 1e7)
			return bad(o, "-d: '%s' is not a number of seconds (more than 0, at most 10000000)", val);
		return 0;
	case 'p': {
		errno = 0;
		long p = strtol(val, &end, 10);
		if (errno || end == val || *end || p <= 0 || p > INT_MAX)
			return bad(o, "-p: '%s' is not a process id", val);
		if (o->npids >= RECORD_MAX_PIDS)
			return bad(o, "-p: too many pids (at most %s)", "64");
		o->pids[o->npids++] = (pid_t)p;
		return 0;
	}
	case 'G':
		if (o->ncgroups >= RECORD_MAX_CGROUPS)
			return bad(o, "-G: too many cgroups (at most %s)", "64");
		o->cgroups[o->ncgroups++] = val;
		return 0;
	case OPT_ONLY_CMD:
		o->only_cmd = 1;
		return 0;
	case OPT_STACK:
		o->stack = 1;
		return 0;
	case OPT_BUFFER: {
		errno = 0;
		unsigned long kb = strtoul(val, &end, 10);
		if (errno || end == val || *end || kb < 4 || kb > (1ul << 22))
			return bad(o, "--buffer-size: '%s' is not a size in KB (4 to 4194304)", val);
		o->buffer_kb = (unsigned)kb;
		return 0;
	}
	}
	return -1;
}

int record_parse_finish(struct record_opts *o, int argc, char **argv)
{
	if (!o->buffer_kb)
		o->buffer_kb = RECORD_DEFAULT_KB;
	if (optind < argc)
		o->cmd = argv + optind;
	if (o->only_cmd && !o->cmd)
		return bad(o, "--only-cmd needs a command after %s", "--");
	if (!o->output)
		o->output = "mmaplock.data";
	return 0;
}

int record_parse_args(int argc, char **argv, struct record_opts *o)
{
	int c, rc;

	optind = 0;	/* GNU getopt: start afresh, '+' included */
	opterr = 0;
	while ((c = getopt_long(argc, argv, record_options.shortopts, lo, NULL)) != -1) {
		rc = record_parse_opt(o, c, optarg);
		if (rc < 0) {
			cmdargs_bad(o->prog, argv, &record_options);
			return 2;
		}
		if (rc)
			return rc;
	}
	return record_parse_finish(o, argc, argv);
}
