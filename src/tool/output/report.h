/* SPDX-License-Identifier: MIT */
/*
 * report.h: the core of `mmaplock report`, also used by `stat`: options,
 * the read -> pair -> aggregate run, and the sinks (table, --hist, --json,
 * --csv; out-*.c).
 */
#ifndef MML_REPORT_H
#define MML_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "agg.h"
#include "pair.h"
#include "blame.h"

struct stackagg;
struct ctr_pods;
struct cmdargs_opts;

enum report_sort { SORT_WAIT, SORT_HOLD, SORT_COUNT };

struct report_opts {
	const char *path;		/* input; default "mmaplock.data" */
	enum agg_by by;			/* --by, default memcg */
	enum report_sort sort;		/* --sort, default wait (total) */
	long top;			/* --top N; 0: all groups */
	int hist, json, csv;
	int holder;			/* --by holder: blame (blame.h) instead of groups */
	const char *html;		/* --html OUT: the page (out-html.c) instead of stdout */
	long stacks;			/* --stacks [N]: top N stacks by wait and by hold; 0: off */
	int no_resolve;			/* --no-resolve: no memcg paths from this machine */
	const char *pods_dir;		/* --pods-dir: names of pods (container.h); NULL: default */
};

/* What the sinks print. */
struct report {
	const struct report_opts *o;
	const char *input, *format;	/* path, source kind */
	uint64_t events, lost, duration_ns, skipped;
	int truncated;			/* mmaplock file without END block */
	uint64_t damaged_blocks, damaged_bytes;	/* skipped (source.h) */
	struct agg *agg;
	struct pair *pair;
	struct agg_group **groups;	/* sorted, at most o->top */
	size_t ngroups, total_groups;
	const struct blame *blame;	/* --by holder, --html */
	struct blame_result *br;
	struct pair_interval *tl;	/* --html: intervals of the busiest mm */
	size_t ntl;
	uint64_t tl_mm;
	int tl_truncated;
	struct stackagg *sa;		/* --stacks, --html: sums per kernel stack */
	int has_stacks;			/* the input had stack events or STACK entries */
	long memcg_now;			/* memcg ids named from this machine (cgroupfs_name_now) */
	struct ctr_pods *pods;		/* names pods for the identity fields (container.h) */
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

/*
 * "truncated (not closed by its writer)", "N damaged blocks (B bytes)
 * skipped" or both, into buf; NULL when the input was whole.
 */
const char *report_damage(const struct report *r, char *buf, size_t len);

/* A group's contended count: from lock:contention events when the trace has any. */
uint64_t report_contended(const struct report *r, const struct agg_group *g);
uint64_t report_acquisitions(const struct agg_group *g);

/* Sinks (out-*.c). */
void out_table(const struct report *r, FILE *f);
void out_hist(const struct report *r, FILE *f);
/* The footnote for memcg paths marked '*' (meta_memcg_now), when there are any. */
void out_memcg_now_note(const struct report *r, FILE *f);
void out_json(const struct report *r, FILE *f);
/* One CSV field (RFC 4180 quoting when needed). */
void out_cstr(FILE *f, const char *s);
void out_csv(const struct report *r, FILE *f);
/* --by holder (out-blame.c): table, --json, --csv. */
void out_blame_table(const struct report *r, FILE *f);
void out_blame_json(const struct report *r, FILE *f);
void out_blame_csv(const struct report *r, FILE *f);
/* --html OUT: the self-contained page (out-html.c). */
void out_html(const struct report *r, FILE *f);
/* Text into HTML: < > & " escaped (out-html.c). */
void out_html_esc(FILE *f, const char *s);
/* --stacks (out-stacks.c): the top stacks as text, the "stacks" JSON member, the HTML table. */
void out_stacks_table(const struct report *r, FILE *f);
void out_stacks_json(const struct report *r, FILE *f);
void out_stacks_html(const struct report *r, FILE *f);
/* JSON string, escaped per RFC 8259 (out-json.c). */
void out_jstr(FILE *f, const char *s);
/*
 * The identity fields of group g (container.h) where known (out-ident.c):
 * JSON members (", \"kind\": ..." each only when known), or the CSV
 * columns of out_ident_csv_header() (empty when unknown). out_ident_csv*
 * print nothing for groupings without identities (process, task, mm).
 */
void out_ident_json(const struct report *r, const struct agg_group *g, FILE *f);
void out_ident_csv_header(const struct report *r, FILE *f);
void out_ident_csv(const struct report *r, const struct agg_group *g, FILE *f);

#endif
