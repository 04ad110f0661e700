/* SPDX-License-Identifier: MIT */
/*
 * report.h: the view that the report's outputs (out-*.c: table, --hist,
 * --json, --csv, --by holder, --html, --stacks) print: the aggregation,
 * the names, the run statistics and what the analyses found. Outputs get
 * this and nothing else (never the pairing); the run that fills it is
 * cmd/report-run.c.
 */
#ifndef MML_REPORT_H
#define MML_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include "agg.h"
#include "blame.h"
#include "meta.h"
#include "ob.h"
#include "pair.h"
#include "runstats.h"

struct stackagg;
struct timeagg;
struct levels;
struct ctr_pods;
struct worst;

/* What the outputs print. */
struct report {
	const struct agg *agg;		/* its groups, names (agg_group_name) and key (agg->by) */
	const struct mml_meta *meta;
	const struct run_stats *stats;	/* events, lost, the pairing's counters */
	const char *input, *format;	/* path, source kind */
	uint64_t duration_ns, skipped;
	int truncated;			/* mmaplock file without END block */
	uint64_t damaged_blocks, damaged_bytes;	/* skipped (source.h) */
	struct agg_group **groups;	/* sorted, at most the --top asked for */
	size_t ngroups, total_groups;
	long stacks;			/* --stacks N: stacks shown per kind; 0: off */
	const struct blame *blame;	/* --by holder, --html */
	struct blame_result *br;
	uint64_t start_ts;		/* ns: the input's first event (the page's time 0) */
	const struct timeagg *ta;	/* --html: the whole recording over time (grid 0) */
	const struct levels *levels;	/* --html: the group levels (levels.h); their grids
					   are filled when the input was read twice (not stdin) */
	const struct worst *worst;	/* --html: the longest waits (their windows: worst->windows) */
	struct stackagg *sa;		/* --stacks, --html: sums per kernel stack (stackagg_top sorts in it) */
	int has_stacks;			/* the input had stack events or STACK entries */
	long memcg_now;			/* memcg ids named from this machine (cgroupfs_name_now) */
	struct ctr_pods *pods;		/* names pods for the identity fields (container.h) */
};

/*
 * "truncated (not closed by its writer)", "N damaged blocks (B bytes)
 * skipped" or both, into buf; NULL when the input was whole.
 */
const char *report_damage(const struct report *r, char *buf, size_t len);

/* A group's contended count: from lock:contention events when the trace has any. */
uint64_t report_contended(const struct report *r, const struct agg_group *g);
uint64_t report_acquisitions(const struct agg_group *g);

/* Outputs (out-*.c), written through o (ob.h). */
void out_table(const struct report *r, struct ob *o);
void out_hist(const struct report *r, struct ob *o);
/* The footnote for memcg paths marked '*' (meta_memcg_now), when there are any. */
void out_memcg_now_note(const struct report *r, struct ob *o);
/* The same for n such ids (0: nothing), for a command that is not a report (check). */
void out_memcg_now_footnote(long n, struct ob *o);
void out_json(const struct report *r, struct ob *o);
void out_csv(const struct report *r, struct ob *o);
/* --by holder (out-blame.c): table, --json, --csv. */
void out_blame_table(const struct report *r, struct ob *o);
void out_blame_json(const struct report *r, struct ob *o);
void out_blame_csv(const struct report *r, struct ob *o);
/* --html OUT: the self-contained page (out-html.c). */
void out_html(const struct report *r, FILE *f);
/* --html: the page's data, one JSON object its script draws from (out-html-data.c). */
void out_html_data(const struct report *r, FILE *f);
/* --stacks (out-stacks.c): the top stacks as text, the "stacks" JSON member, the HTML table. */
void out_stacks_table(const struct report *r, struct ob *o);
void out_stacks_json(const struct report *r, struct ob *o);
void out_stacks_html(const struct report *r, FILE *f);
/*
 * The identity fields of group g (container.h) where known (out-ident.c):
 * JSON members (", \"kind\": ..." each only when known), or the CSV
 * columns of out_ident_csv_header() (empty when unknown). out_ident_csv*
 * print nothing for groupings without identities (process, task, mm).
 */
void out_ident_json(const struct report *r, const struct agg_group *g, struct ob *o);
void out_ident_csv_header(const struct report *r, struct ob *o);
void out_ident_csv(const struct report *r, const struct agg_group *g, struct ob *o);

#endif
