/* SPDX-License-Identifier: MIT */
/*
 * out-html.c: `mmaplock report --html OUT.html`: one self-contained page
 * (inline CSS and SVG, no script, nothing fetched): the summary table of
 * the groups, log2 latency histograms (wait and hold) per group, a timeline
 * of the busiest mm (the one with the most wait time: a row per task, its
 * waits and holds as bars) and the blame matrix (holder cgroup -> victim
 * memcg, blamed time), then, for a trace recorded with --stack, the top
 * kernel stacks by wait and by hold time (out-stacks.c). The timeline's
 * intervals come from a second pass over the input (report.c); a page made
 * from stdin has none.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"

void out_html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void us(FILE *f, uint64_t ns)
{
	fprintf(f, "<td>%" PRIu64 ".%03" PRIu64 "</td>", ns / 1000, ns % 1000);
}

/* An SVG bar chart of the log2 us buckets of h. */
static void hist_svg(FILE *f, const char *what, const struct hist *h, const char *color)
{
	int last = -1;
	uint64_t maxc = 0, log2_us[HIST_LOG2_US];

	hist_log2_us(h, log2_us);
	for (int k = 0; k < HIST_LOG2_US; k++)
		if (log2_us[k]) {
			last = k;
			maxc = log2_us[k] > maxc ? log2_us[k] : maxc;
		}
	fprintf(f, "<figure><figcaption>%s: %" PRIu64 " samples</figcaption>", what, h->count);
	if (last < 0) {
		fputs("</figure>\n", f);
		return;
	}
	fprintf(f, "<svg width=\"%d\" height=\"140\" role=\"img\">", 40 + 24 * (last + 1));
	for (int k = 0; k <= last; k++) {
		int hgt = (int)(log2_us[k] * 100 / maxc);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"20\" height=\"%d\" fill=\"%s\">"
			"<title>%" PRIu64 "-%" PRIu64 " us: %" PRIu64 "</title></rect>",
			30 + 24 * k, 110 - hgt, hgt, color, (uint64_t)(k ? 1ull << k : 0),
			(uint64_t)((1ull << (k + 1)) - 1),
			log2_us[k]);
		if (k % 2 == 0)
			fprintf(f, "<text x=\"%d\" y=\"128\" font-size=\"9\">%" PRIu64 "</text>",
				30 + 24 * k, (uint64_t)(k ? 1ull << k : 0));
	}
	fputs("<text x=\"0\" y=\"128\" font-size=\"9\">us</text></svg></figure>\n", f);
}

static int cmp_iv_tid(const void *a, const void *b)
{
	const struct pair_interval *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->start_ts < y->start_ts ? -1 : x->start_ts > y->start_ts;
}

static void timeline(const struct report *r, FILE *f)
{
	struct pair_interval *iv = r->tl;
	size_t n = r->ntl, rows = 0;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	const int W = 1000, RH = 16, LEFT = 170;

	fprintf(f, "<h2>Timeline of the busiest mm</h2>\n");
	if (!n) {
		fputs("<p>No intervals (the input was read from stdin, or had no wait).</p>\n", f);
		return;
	}
	fprintf(f, "<p>mm 0x%" PRIx64 ": the first %zu waits and holds%s. Red: waiting, "
		"blue: holding for write, green: holding for read.</p>\n", r->tl_mm, n,
		r->tl_truncated ? " (cut: more followed)" : "");
	qsort(iv, n, sizeof(*iv), cmp_iv_tid);
	for (size_t i = 0; i < n; i++) {
		t0 = iv[i].start_ts < t0 ? iv[i].start_ts : t0;
		t1 = iv[i].end_ts > t1 ? iv[i].end_ts : t1;
		rows += !i || iv[i].tid != iv[i - 1].tid;
	}
	if (t1 <= t0)
		t1 = t0 + 1;
	fprintf(f, "<svg width=\"%d\" height=\"%zu\" role=\"img\">", LEFT + W + 10,
		rows * RH + 24);
	rows = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mml_task_info *t = meta_task(r->agg->meta, iv[i].tid);
		double x = LEFT + (double)(iv[i].start_ts - t0) * W / (double)(t1 - t0);
		double w = (double)(iv[i].end_ts - iv[i].start_ts) * W / (double)(t1 - t0);
		int hold = iv[i].kind == PAIR_HOLD;

		if (i && iv[i].tid != iv[i - 1].tid)
			rows++;
		if (!i || iv[i].tid != iv[i - 1].tid) {
			fprintf(f, "<text x=\"0\" y=\"%zu\" font-size=\"11\">", rows * RH + 12);
			out_html_esc(f, t && t->comm[0] ? t->comm : "?");
			fprintf(f, "[%u]</text>", iv[i].tid);
		}
		fprintf(f, "<rect x=\"%.2f\" y=\"%zu\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
			"<title>%s %s %" PRIu64 " ns</title></rect>", x, rows * RH + 2,
			w < 0.5 ? 0.5 : w, RH - 4,
			!hold ? "#d33" : iv[i].write ? "#36c" : "#3a3",
			hold ? "hold" : iv[i].kind == PAIR_FAILED ? "failed" : "wait",
			iv[i].write ? "write" : "read", iv[i].end_ts - iv[i].start_ts);
	}
	fprintf(f, "<text x=\"%d\" y=\"%zu\" font-size=\"10\">0</text>"
		"<text x=\"%d\" y=\"%zu\" font-size=\"10\" text-anchor=\"end\">+%" PRIu64 ".%03"
		PRIu64 " ms</text></svg>\n", LEFT, (rows + 1) * RH + 16, LEFT + W,
		(rows + 1) * RH + 16, (t1 - t0) / 1000000, (t1 - t0) / 1000 % 1000);
}

static void matrix(const struct report *r, FILE *f)
{
	const struct blame_result *br = r->br;
	char buf[48];

	fputs("<h2>Blame: who held the lock while others waited</h2>\n", f);
	fprintf(f, "<p>%" PRIu64 " waits, %" PRIu64 " with no recorded holder. Time in us "
		"(docs/REPORT.md, \"Blame\").</p>\n", r->blame->waits, r->blame->unblamed);
	fputs("<table><tr><th>holder cgroup</th><th>victim memcg</th><th>blamed</th>"
	      "<th>waits</th></tr>\n", f);
	for (size_t i = 0; i < br->npairs; i++) {
		fputs("<tr><td>", f);
		out_html_esc(f, br->pairs[i].holder_cgroup);
		fputs("</td><td>", f);
		out_html_esc(f, blame_memcg_name(r->blame, br->pairs[i].victim_memcg, buf, sizeof(buf)));
		fputs("</td>", f);
		us(f, br->pairs[i].blamed_ns);
		fprintf(f, "<td>%" PRIu64 "</td></tr>\n", br->pairs[i].waits);
	}
	fputs("</table>\n<table><tr><th>holder</th><th>blamed</th><th>as writer</th>"
	      "<th>as reader</th><th>waits</th></tr>\n", f);
	for (size_t i = 0; i < br->nholders && i < 20; i++) {
		const struct blame_holder *h = &br->holders[i];
		const struct mml_task_info *t = meta_task(r->agg->meta, h->tid);
		fputs("<tr><td>", f);
		out_html_esc(f, t && t->comm[0] ? t->comm : "?");
		fprintf(f, "[%u]</td>", h->tid);
		us(f, h->blamed_ns);
		us(f, h->write_ns);
		us(f, h->read_ns);
		fprintf(f, "<td>%" PRIu64 "</td></tr>\n", h->waits);
	}
	fputs("</table>\n", f);
}

void out_html(const struct report *r, FILE *f)
{
	char name[512];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<title>mmaplock report</title>\n<style>body{font-family:sans-serif;margin:1em 2em}"
	      "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;"
	      "padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}"
	      "figure{display:inline-block;margin:0 1em 0 0}figcaption{font-size:small}"
	      "</style></head><body>\n<h1>mmaplock report</h1>\n<p>", f);
	out_html_esc(f, r->input);
	fprintf(f, " (%s): %" PRIu64 " events over %" PRIu64 ".%06" PRIu64 " s, %" PRIu64
		" lost. Groups by %s; times in us.</p>\n", r->format, r->events,
		r->duration_ns / 1000000000u, r->duration_ns / 1000 % 1000000, r->lost,
		agg_by_name(r->o->by));
	if (report_damage(r, name, sizeof(name)))
		fprintf(f, "<p><b>Damaged input:</b> %s; the figures cover the rest.</p>\n", name);
	fputs("<h2>Summary</h2>\n<table><tr><th>group</th><th>acq read</th><th>acq write</th>"
	      "<th>failed</th><th>contended</th><th>wait total</th><th>wait p50</th>"
	      "<th>wait p99</th><th>wait max</th><th>hold total</th><th>hold p99</th>"
	      "<th>hold max</th></tr>\n", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fputs("<tr><td>", f);
		out_html_esc(f, agg_group_name(r->agg, g, name, sizeof(name)));
		fprintf(f, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%"
			PRIu64 "</td>", g->acq_read, g->acq_write, g->failed, report_contended(r, g));
		us(f, g->wait.total);
		us(f, hist_quantile(&g->wait, 0.5));
		us(f, hist_quantile(&g->wait, 0.99));
		us(f, g->wait.max);
		us(f, g->hold.total);
		us(f, hist_quantile(&g->hold, 0.99));
		us(f, g->hold.max);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<h2>Latency histograms (log2 us)</h2>\n", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fputs("<h3>", f);
		out_html_esc(f, agg_group_name(r->agg, g, name, sizeof(name)));
		fputs("</h3>\n", f);
		hist_svg(f, "wait", &g->wait, "#d33");
		hist_svg(f, "hold", &g->hold, "#36c");
	}
	timeline(r, f);
	matrix(r, f);
	out_stacks_html(r, f);
	fputs("</body></html>\n", f);
}
