/* SPDX-License-Identifier: MIT */
/*
 * report-run.h: `mmaplock report` (and stat's report): its options, their
 * parsing, and the run: read -> pair -> aggregate and analyse -> one
 * output (output/report.h).
 */
#ifndef MML_REPORT_RUN_H
#define MML_REPORT_RUN_H

#include <stdio.h>
#include "agg.h"

struct cmdargs_opts;

struct report_opts {
	const char *path;		/* input; default "mmaplock.data" */
	enum agg_by by;			/* --by, default memcg */
	enum agg_sort sort;		/* --sort, default wait (total) */
	long top;			/* --top N; 0: all groups */
	int hist, json, csv;
	int holder;			/* --by holder: blame (blame.h) instead of groups */
	const char *html;		/* --html OUT: the page (out-html.c) instead of stdout */
	long html_worst;		/* --html-worst N: the page's longest waits; 0: 10 */
	const char *pods_dir;		/* --pods-dir: names of pods (container.h); NULL: default */
	long stacks;			/* --stacks [N]: top N stacks by wait and by hold; 0: off */
	int no_resolve;			/* --no-resolve: no memcg paths from this machine */
};

/*
 * Parse report's arguments (argv[0] is the command name). Returns 0 when
 * the run should go on, 1 when --help (or --list-options) was printed
 * (exit 0), -1 after a one-line error on stderr (exit 2).
 */
int report_parse_args(struct report_opts *o, int argc, char **argv);
/* report's options (cmdargs.h), which stat passes through. */
extern const struct cmdargs_opts report_options;
void report_usage(FILE *f);

/*
 * Read o->path, pair, aggregate, print to out. Returns the exit status: 0,
 * 1, 2, or EXIT_DAMAGED (3) when the input was damaged or truncated.
 */
int report_run(const struct report_opts *o, FILE *out);

#endif
