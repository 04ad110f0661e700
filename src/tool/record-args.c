/* SPDX-License-Identifier: MIT */
/*
 * record-args.c: the options of `mmaplock record` (and of `stat`, which
 * passes the report's options through), see record.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include "record.h"

/* ------------------------------------------------------------ options */

void record_usage(FILE *f)
{
	fprintf(f,
		"  -o, --output FILE      write to FILE (default mmaplock.data); an existing FILE\n"
		"                         is refused, and a FILE another recording writes too\n"
		"  -f, --force            replace an existing FILE (when the recording ends)\n"
		"  -d, --duration SEC     stop after SEC seconds\n"
		"  -p, --pid PID          only this process (all its threads and children); repeatable\n"
		"  -G, --cgroup CGROUP    only events in this memory cgroup; repeatable\n"
		"      --buffer-size KB   per-CPU ring buffer (default %u)\n"
		"      --stack            kernel call stacks of the lock takers (ftrace stacktrace trigger)\n"
		"  -- CMD [ARGS]          run CMD and record (the whole system) until it exits\n"
		"      --only-cmd         with CMD: record CMD and its threads and children only\n",
		RECORD_DEFAULT_KB);
}

static int bad(const struct record_opts *o, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", o->prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 2;
}

int record_parse_args(int argc, char **argv, struct record_opts *o, char **rest, int *nrest)
{
	int nr = 0;
	int i;

	if (!o->buffer_kb)
		o->buffer_kb = RECORD_DEFAULT_KB;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		char *end;
#define NEEDVAL() do { \
		if (i + 1 >= argc) return bad(o, "option %s needs a value", a); \
		val = argv[++i]; } while (0)
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			NEEDVAL();
			o->output = val;
		} else if (!strcmp(a, "-d") || !strcmp(a, "--duration")) {
			NEEDVAL();
			errno = 0;
			o->duration = strtod(val, &end);
			if (errno || end == val || *end || !(o->duration > 0) || o->duration > 1e7)
				return bad(o, "-d: '%s' is not a positive number of seconds", val);
		} else if (!strcmp(a, "-p") || !strcmp(a, "--pid")) {
			NEEDVAL();
			errno = 0;
			long p = strtol(val, &end, 10);
			if (errno || end == val || *end || p <= 0 || p > INT_MAX)
				return bad(o, "-p: '%s' is not a process id", val);
			if (o->npids >= RECORD_MAX_PIDS)
				return bad(o, "-p: too many pids (at most %s)", "64");
			o->pids[o->npids++] = (pid_t)p;
		} else if (!strcmp(a, "-G") || !strcmp(a, "--cgroup")) {
			NEEDVAL();
			if (o->ncgroups >= RECORD_MAX_CGROUPS)
				return bad(o, "-G: too many cgroups (at most %s)", "64");
			o->cgroups[o->ncgroups++] = val;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--force")) {
			o->force = 1;
		} else if (!strcmp(a, "--only-cmd")) {
			o->only_cmd = 1;
		} else if (!strcmp(a, "--stack")) {
			o->stack = 1;
		} else if (!strcmp(a, "--buffer-size")) {
			NEEDVAL();
			errno = 0;
			unsigned long kb = strtoul(val, &end, 10);
			if (errno || end == val || *end || kb < 4 || kb > (1ul << 22))
				return bad(o, "--buffer-size: '%s' is not a size in KB (4 to 4194304)", val);
			o->buffer_kb = (unsigned)kb;
		} else if (rest) {
			rest[nr++] = argv[i];
			/* pass its value too when it is separate and not an option */
			if (strncmp(a, "--", 2) || !strchr(a, '=')) {
				static const char *const with_val[] = { "--by", "--sort", "--top", "-s", "-n", NULL };
				for (int k = 0; with_val[k]; k++)
					if (!strcmp(a, with_val[k]) && i + 1 < argc)
						rest[nr++] = argv[++i];
				/* report's --stacks [N]: its value is optional, a number when there */
				if (!strcmp(a, "--stacks") && i + 1 < argc && argv[i + 1][0] &&
				    strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]))
					rest[nr++] = argv[++i];
			}
		} else {
			return bad(o, "unknown option '%s' (see --help)", a);
		}
#undef NEEDVAL
	}
	if (i < argc)
		o->cmd = argv + i;
	if (o->only_cmd && !o->cmd)
		return bad(o, "--only-cmd needs a command after %s", "--");
	if (!o->output)
		o->output = "mmaplock.data";
	if (nrest)
		*nrest = nr;
	return 0;
}
