/* SPDX-License-Identifier: MIT */
/*
 * out-html-data.c: the HTML page's data: one JSON object in a
 * <script type="application/json" id="mml-data"> element, which the page's
 * script (html-page.js) draws the heatmap, the time series, the worst-wait
 * windows and the flame graphs from. Times are ns from the input's first
 * event. Its size is bounded whatever the recording's length: grids of
 * TIMEAGG_COLS x TIMEAGG_ROWS (sparse), at most LEVEL_KEEP + 1 of them per
 * group level (levels.h: the groups with the most wait, then "other"), the
 * N longest waits with windows of at most WORST_WINDOW + WORST_HOLDERS + 1
 * intervals, the FLAME_STACKS heaviest stacks per kind. Keys are
 * documented in docs/REPORT.md ("The page's data").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "levels.h"
#include "report.h"
#include "stackagg.h"
#include "stacks.h"
#include "timeagg.h"
#include "worst.h"

#define FLAME_STACKS 500	/* stacks per kind in the flame graph; the rest summed */

/* A JSON string that may sit inside <script>: '<' escaped too (no "</script>"). */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int64_t rel(const struct report *r, uint64_t ts)
{
	return (int64_t)(ts - r->start_ts);
}

/* The non-empty cells of one kind of a grid: column, row, count triples. */
static void cells(FILE *f, const struct timeagg *t, const struct timeagg_col *c, int hold)
{
	const char *sep = "";

	for (size_t i = 0; i < t->ncols; i++) {
		const uint32_t *n = hold ? c[i].hold : c[i].wait;
		for (unsigned k = 0; k < TIMEAGG_ROWS; k++)
			if (n[k]) {
				fprintf(f, "%s%zu,%u,%" PRIu32, sep, i, k, n[k]);
				sep = ",";
			}
	}
}

/* One grid: per column acquisitions and contended waits, and the sparse cells. */
static void grid(const struct report *r, FILE *f, const struct timeagg *t, size_t g)
{
	const struct timeagg_col *c = t->grid[g];
	int marked = r->stats->contention_marked;

	fputs("{\"acq\":[", f);
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", c[i].acq);
	fputs("],\"cont\":[", f);
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%" PRIu32, i ? "," : "", marked ? c[i].contended_marked : c[i].contended_long);
	fputs("],\"wait\":[", f);
	cells(f, t, c, 0);
	fputs("],\"hold\":[", f);
	cells(f, t, c, 1);
	fputs("]}", f);
}

static void time_members(const struct report *r, FILE *f)
{
	const struct timeagg *t = r->ta;

	fprintf(f, ",\n\"t0\":%" PRId64 ",\"width\":%" PRIu64 ",\"ncols\":%zu,\"rows\":[",
		t->started ? rel(r, t->t0) : 0, t->width, t->ncols);
	for (unsigned k = 0; k < TIMEAGG_ROWS; k++)
		fprintf(f, "%s%" PRIu64, k ? "," : "", timeagg_row_lo(k));
	fputs("],\n\"all\":", f);
	grid(r, f, t, 0);
}

static void quantiles(FILE *f, const struct hist *h)
{
	fprintf(f, "[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", hist_quantile(h, 0.5),
		hist_quantile(h, 0.99), hist_quantile(h, 0.999), h->max);
}

static void groups(const struct report *r, FILE *f)
{
	char name[512];

	fputs(",\n\"groups\":[", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fprintf(f, "%s\n{\"name\":", i ? "," : "");
		jstr(f, agg_group_name(r->agg, g, name, sizeof(name)));
		fprintf(f, ",\"acq\":%" PRIu64 ",\"waits\":%" PRIu64 ",\"holds\":%" PRIu64
			",\"wait_ns\":%" PRIu64 ",\"hold_ns\":%" PRIu64 ",\"wq\":", report_acquisitions(g),
			g->wait.count, g->hold.count, g->wait.total, g->hold.total);
		quantiles(f, &g->wait);
		fputs(",\"hq\":", f);
		quantiles(f, &g->hold);
		fputc('}', f);
	}
	fputs("]", f);
}

/* A group of a level: its name, figures, and its grid (null: the input was read once). */
static void level_group(const struct report *r, FILE *f, const struct level *l, size_t i,
			const char *nm)
{
	const struct agg_group *g = i < l->nkept ? l->kept[i] : &l->other;
	char name[512];

	fputs("{\"name\":", f);
	jstr(f, nm ? nm : agg_group_name(l->agg, g, name, sizeof(name)));
	fprintf(f, ",\"acq\":%" PRIu64 ",\"waits\":%" PRIu64 ",\"holds\":%" PRIu64
		",\"wait_ns\":%" PRIu64 ",\"hold_ns\":%" PRIu64 ",\"grid\":", report_acquisitions(g),
		g->wait.count, g->hold.count, g->wait.total, g->hold.total);
	if (l->gridded)
		grid(r, f, &l->grid, i);
	else
		fputs("null", f);
	fputc('}', f);
}

/* The group levels (levels.h): per level the kept groups, then the others summed. */
static void levels(const struct report *r, FILE *f)
{
	const struct levels *ls = r->levels;
	char other[64];

	fprintf(f, ",\n\"level\":%zu,\"keep\":%d,\"levels\":[", ls ? ls->report : 0, LEVEL_KEEP);
	for (size_t k = 0; ls && k < ls->n; k++) {
		const struct level *l = &ls->l[k];
		fprintf(f, "%s\n{\"by\":\"%s\",\"ngroups\":%zu,\"g\":[", k ? "," : "", l->name,
			l->ngroups);
		for (size_t i = 0; i < l->nkept; i++) {
			fputs(i ? ",\n" : "\n", f);
			level_group(r, f, l, i, NULL);
		}
		fputs("],\"other\":", f);
		if (l->ngroups > l->nkept) {
			snprintf(other, sizeof(other), "(%zu other groups)", l->ngroups - l->nkept);
			level_group(r, f, l, l->nkept, other);
		} else {
			fputs("null", f);
		}
		fputc('}', f);
	}
	fputs("]", f);
}

static void frames(const struct report *r, FILE *f, uint32_t id)
{
	const struct mml_stack *st = id ? meta_stack(r->meta, id) : NULL;

	if (!st) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (unsigned j = 0; j < st->n; j++) {
		fputs(j ? "," : "", f);
		jstr(f, st->sym[j]);
	}
	fputc(']', f);
}

static void task(const struct report *r, FILE *f, uint32_t tid)
{
	const struct mml_task_info *t = meta_task(r->meta, tid);
	char buf[64];

	snprintf(buf, sizeof(buf), "%s[%u]", t && t->comm[0] ? t->comm : "?", tid);
	fprintf(f, "\"tid\":%u,\"task\":", tid);
	jstr(f, buf);
	fputs(",\"cgroup\":", f);
	if (t && t->cgroup)
		jstr(f, *t->cgroup ? t->cgroup : "/");
	else
		fputs("null", f);
}

/* The index of the shown group of an interval, -1 when not shown. */
static long group_of(const struct report *r, const struct pair_interval *iv)
{
	uint64_t k = agg_key(r->agg, iv->tid, iv->mm, iv->memcg);

	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i]->key == k)
			return (long)i;
	return -1;
}

static void window(const struct report *r, FILE *f, const struct worst_wait *x)
{
	const struct pair_interval *h = x->holder >= 0 ? &x->win[x->holder] : NULL;
	size_t nb = x->nbefore < WORST_BEFORE ? x->nbefore : WORST_BEFORE;

	fputs(",\"holder\":", f);
	if (h) {
		fputc('{', f);
		task(r, f, h->tid);
		fprintf(f, ",\"start\":%" PRId64 ",\"dur\":%" PRIu64 ",\"write\":%d,\"overlap\":%"
			PRIu64 ",\"stack\":", rel(r, h->start_ts), h->end_ts - h->start_ts, h->write,
			x->holder_ns);
		frames(r, f, h->stack);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	if (!r->worst->windows) {
		fputs(",\"iv\":null", f);
		return;
	}
	fprintf(f, ",\"w0\":%" PRId64 ",\"w1\":%" PRId64 ",\"dropped\":%" PRIu64 ",\"iv\":[",
		rel(r, x->w0), rel(r, x->w1), x->dropped);
	for (size_t k = 0; k < nb + x->nwin; k++) {
		/* the ring of those before the wait, oldest first, then the others */
		const struct pair_interval *v = k < nb ? &x->before[(x->nbefore + k - nb) % WORST_BEFORE] :
					       &x->win[k - nb];
		const struct mml_task_info *t = meta_task(r->meta, v->tid);
		fprintf(f, "%s[%u,", k ? "," : "", v->tid);
		jstr(f, t && t->comm[0] ? t->comm : "?");
		fprintf(f, ",%d,%d,%" PRId64 ",%" PRIu64 "]",
			v->kind == PAIR_HOLD ? 1 : v->kind == PAIR_FAILED ? 2 : 0, v->write,
			rel(r, v->start_ts), v->end_ts - v->start_ts);
	}
	fputc(']', f);
}

static void worst(const struct report *r, FILE *f)
{
	const struct worst *w = r->worst;
	char buf[64];

	fprintf(f, ",\n\"windows\":%s,\"worst\":[", w->windows ? "true" : "false");
	for (size_t i = 0; i < w->n; i++) {
		const struct worst_wait *x = &w->w[i];
		fprintf(f, "%s\n{\"rank\":%zu,", i ? "," : "", i + 1);
		task(r, f, x->iv.tid);
		fprintf(f, ",\"group\":%ld,\"lg\":[", group_of(r, &x->iv));
		for (size_t k = 0; r->levels && k < r->levels->n; k++)
			fprintf(f, "%s%zu", k ? "," : "", level_index(&r->levels->l[k], x->iv.tid,
								     x->iv.mm, x->iv.memcg));
		fputs("],\"memcg\":", f);
		jstr(f, meta_memcg_name(r->meta, x->iv.memcg, buf, sizeof(buf)));
		fprintf(f, ",\"mm\":\"0x%" PRIx64 "\",\"start\":%" PRId64 ",\"dur\":%" PRIu64
			",\"write\":%d,\"failed\":%d,\"stack\":", x->iv.mm, rel(r, x->iv.start_ts),
			x->iv.end_ts - x->iv.start_ts, x->iv.write, x->iv.kind == PAIR_FAILED);
		frames(r, f, x->iv.stack);
		window(r, f, x);
		fputc('}', f);
	}
	fputs("]", f);
}

/* The flame graph's stacks of one kind: [frames (leaf first), ns, count]. */
static void flame_kind(const struct report *r, FILE *f, struct stackagg_kind *k)
{
	const struct stackagg_ent **top = malloc(FLAME_STACKS * sizeof(*top));
	size_t n = top ? stackagg_top(k, top, FLAME_STACKS) : 0;
	uint64_t shown = 0;
	char fn[256];

	fputs("{\"s\":[", f);
	for (size_t i = 0; i < n; i++) {
		const struct mml_stack *st = meta_stack(r->meta, top[i]->id);
		fputs(i ? ",[[" : "[[", f);
		for (unsigned j = 0; st && j < st->n; j++) {
			fputs(j ? "," : "", f);
			jstr(f, stack_func(st->sym[j], fn, sizeof(fn)));
		}
		fprintf(f, "],%" PRIu64 ",%" PRIu64 "]", top[i]->total, top[i]->count);
		shown += top[i]->total;
	}
	fprintf(f, "],\"stacks\":%zu,\"all_ns\":%" PRIu64 ",\"nostack_ns\":%" PRIu64
		",\"other_ns\":%" PRIu64 "}", k->tab.n, k->all_ns, k->nostack_ns,
		k->all_ns - k->nostack_ns - shown);
	free(top);
}

void out_html_data(const struct report *r, FILE *f)
{

	fputs("{\"v\":1,\"input\":", f);
	jstr(f, r->input);
	fprintf(f, ",\"format\":\"%s\",\"by\":\"%s\",\"events\":%" PRIu64 ",\"duration\":%" PRIu64
		",\"contended\":\"%s\"", r->format, agg_by_name(r->agg->by), r->stats->events,
		r->duration_ns, r->stats->contention_marked ? "lock:contention_begin inside the wait" :
		"wait > 10 us");
	fprintf(f, ",\"limits\":{\"cols\":%d,\"groups\":%d,\"window\":%d,\"holders\":%d,"
		"\"flame\":%d}", TIMEAGG_COLS, LEVEL_KEEP, WORST_WINDOW,
		WORST_HOLDERS, FLAME_STACKS);
	time_members(r, f);
	groups(r, f);
	levels(r, f);
	worst(r, f);
	fputs(",\n\"flame\":", f);
	if (r->has_stacks && r->sa) {
		fputs("{\"wait\":", f);
		flame_kind(r, f, &r->sa->wait);
		fputs(",\"hold\":", f);
		flame_kind(r, f, &r->sa->hold);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs("}\n", f);
}
