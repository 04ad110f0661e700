/* SPDX-License-Identifier: MIT */
/*
 * cmdargs.c: see cmdargs.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cmdargs.h"

/* c is a short option of t; *arg set to its ':' count (0 none, 1 required, 2 optional). */
static int is_short(const struct cmdargs_opts *t, int c, int *arg)
{
	const char *s = t->shortopts ? t->shortopts : "";
	const char *p;

	if (c <= 0 || c > 127 || c == ':' || c == '+' || c == '-' || !(p = strchr(s, c)))
		return 0;
	*arg = p[1] != ':' ? 0 : p[2] == ':' ? 2 : 1;
	return 1;
}

int cmdargs_list(int argc, char **argv, const struct cmdargs_opts *t)
{
	static const char *const kind[] = { "none", "required", "optional" };
	const struct option *l;
	const char *s;
	int arg;

	if (argc < 2 || strcmp(argv[1], "--list-options"))
		return 0;
	for (l = t->lo; l && l->name; l++) {
		printf("--%s %s", l->name, kind[l->has_arg]);
		if (!l->flag && is_short(t, l->val, &arg))
			printf(" -%c", l->val);
		putchar('\n');
	}
	for (s = t->shortopts ? t->shortopts : ""; *s; s++) {
		int named = 0;
		if (!is_short(t, *s, &arg))
			continue;
		for (l = t->lo; l && l->name; l++)
			named |= !l->flag && l->val == *s;
		if (!named)
			printf("-%c %s\n", *s, kind[arg]);
	}
	return 1;
}

void cmdargs_bad(const char *prog, char **argv, const struct cmdargs_opts *t)
{
	const char *a = argv[optind - 1];
	const struct option *l;
	int arg;

	if (a[0] == '-' && a[1] == '-' && optopt) {
		for (l = t->lo; l->name; l++)
			if (!l->flag && l->val == optopt)
				break;
		if (l->name && l->has_arg == required_argument) {
			fprintf(stderr, "%s: %s: needs a value (see --help)\n", prog, a);
			return;
		}
		if (l->name && l->has_arg == no_argument) {
			fprintf(stderr, "%s: %s: takes no value (see --help)\n", prog, a);
			return;
		}
	} else if (optopt && is_short(t, optopt, &arg)) {
		fprintf(stderr, "%s: -%c: needs a value (see --help)\n", prog, optopt);
		return;
	} else if (optopt) {
		fprintf(stderr, "%s: -%c: unknown option (see --help)\n", prog, optopt);
		return;
	}
	fprintf(stderr, "%s: %s: unknown or ambiguous option (see --help)\n", prog, a);
}

const char *cmdargs_optional_number(int argc, char **argv)
{
	const char *v = optind < argc ? argv[optind] : NULL;

	/* "-1", "+3": a signed number, never an option nor a file; the caller rejects its range */
	int sign = v && (*v == '-' || *v == '+') && v[1] >= '0' && v[1] <= '9';

	if (!v || !*v || (!sign && strspn(v, "0123456789") != strlen(v)))
		return NULL;
	optind++;
	return v;
}

int cmdargs_input(const char *prog, int argc, char **argv, const char **path)
{
	if (optind < argc)
		*path = argv[optind++];
	if (*path && !**path) {
		fprintf(stderr, "%s: an empty input file name\n", prog);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: %s: only one input file\n", prog, argv[optind]);
		return -1;
	}
	return 0;
}

int cmdargs_keyword(const char *prog, const char *opt, const char *val,
		    const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(val, names[i]))
			return i;
	fprintf(stderr, "%s: %s %s: not ", prog, opt, val);
	for (i = 0; names[i]; i++)
		fprintf(stderr, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	fputc('\n', stderr);
	return -1;
}
