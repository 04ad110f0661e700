/* SPDX-License-Identifier: MIT */
/*
 * out-html.c: `mmaplock report --html OUT.html`: one self-contained page
 * (inline CSS, SVG and script; a Content-Security-Policy that lets it fetch
 * nothing). Written here, readable without the script: the summary table,
 * the latency histograms (log2 us, log-scale counts, p50/p99/p99.9/max
 * marked, wait and hold side by side on the same axes for every group),
 * the blame matrix and the top stacks (out-stacks.c). Drawn by the script
 * (html-page.js, embedded at build time) from the page's data
 * (out-html-data.c): the latency heatmap over time, the rates and wait p99
 * per interval, the longest waits each in a window of its mm, the flame
 * graphs. The windows and the per-group grids need a second reading of the
 * input (cmd/report-html.c), so a page made from stdin has neither.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "levels.h"
#include "ob.h"
#include "report.h"
#include "timeagg.h"
#include "worst.h"

extern const char out_html_js[];	/* html-page.js (cmake/embed.cmake) */

static void us(FILE *f, uint64_t ns)
{
	fprintf(f, "<td>%" PRIu64 ".%03" PRIu64 "</td>", ns / 1000, ns % 1000);
}

/* The axes every histogram shares: buckets 0..last, counts up to max. */
struct hist_axes {
	int last;
	uint64_t max;
};

static void hist_extent(const struct hist *h, struct hist_axes *ax)
{
	uint64_t b[HIST_LOG2_US], max;
	int last = hist_log2_us_rows(h, b, &max);

	ax->last = last > ax->last ? last : ax->last;
	ax->max = max > ax->max ? max : ax->max;
}

#define HX 34		/* left margin */
#define HW 18		/* px per log2 bucket */
#define HH 110		/* plot height */

/* x of a value (ns) on the log2-us axis: bucket k spans [2^k, 2^(k+1)) us, k = 0 from 0 */
static double hist_x(uint64_t ns)
{
	double us = (double)ns / 1000.0;

	return HX + HW * (us < 2 ? us / 2 : log2(us));
}

/* y of a count on the log10 axis (1 at the bottom, ax->max at the top) */
static double hist_y(uint64_t n, const struct hist_axes *ax)
{
	double top = log10((double)ax->max + 1);

	return 12 + HH - (top > 0 ? log10((double)n + 1) / top : 0) * HH;
}

/* An SVG bar chart of h's log2 us buckets, its quantiles marked, on the axes ax. */
static void hist_svg(FILE *f, const char *what, const struct hist *h, const char *color,
		     const struct hist_axes *ax)
{
	static const char *qname[] = { "p50", "p99", "p99.9", "max" };
	uint64_t b[HIST_LOG2_US], q[4];
	int w = HX + HW * (ax->last + 1) + 30;

	hist_log2_us(h, b);
	q[0] = hist_quantile(h, 0.5);
	q[1] = hist_quantile(h, 0.99);
	q[2] = hist_quantile(h, 0.999);
	q[3] = h->max;
	fprintf(f, "<figure><figcaption>%s: %" PRIu64 " samples</figcaption>", what, h->count);
	if (!h->count || ax->last < 0) {
		fputs("</figure>\n", f);
		return;
	}
	fprintf(f, "<svg width=\"%d\" height=\"%d\" role=\"img\">", w, HH + 40);
	for (int k = 0; k <= ax->last; k++) {
		double y;
		if (!b[k])
			continue;
		y = hist_y(b[k], ax);
		fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\">"
			"<title>%s %" PRIu64 "-%" PRIu64 " us: %" PRIu64 "</title></rect>",
			HX + HW * k, y, HW - 2, 12 + HH - y, color, what, (uint64_t)(k ? 1ull << k : 0),
			(uint64_t)((1ull << (k + 1)) - 1), b[k]);
	}
	for (int k = 0; k <= ax->last + 1; k += 2)
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"9\">%" PRIu64 "</text>", HX + HW * k - 3,
			HH + 24, (uint64_t)(k ? 1ull << k : 0));
	for (int i = 0; i < 4; i++) {
		double x = hist_x(q[i]);
		fprintf(f, "<line class=\"q\" x1=\"%.1f\" x2=\"%.1f\" y1=\"10\" y2=\"%d\" stroke=\"#000\" "
			"stroke-dasharray=\"%s\"><title>%s %s: %" PRIu64 " ns</title></line>"
			"<text x=\"%.1f\" y=\"%d\" font-size=\"8\">%s</text>", x, x, HH + 12,
			i == 3 ? "1,0" : "3,2", what, qname[i], q[i], x + 1, 8 + 8 * (i % 2) + (i / 2) * 0,
			qname[i]);
	}
	fprintf(f, "<text x=\"0\" y=\"20\" font-size=\"9\">%" PRIu64 "</text><text x=\"0\" y=\"%d\" "
		"font-size=\"9\">1</text><text x=\"0\" y=\"%d\" font-size=\"9\">us</text></svg></figure>\n",
		ax->max, HH + 12, HH + 24);
}

static void histograms(const struct report *r, FILE *f)
{
	struct hist_axes ax = { -1, 0 };
	char name[512];

	fputs("<h2 id=\"hists-title\">Latency histograms</h2>\n<p>Per group, wait and hold: "
	      "log2 buckets of us, counts on a log scale (so that one wait in a million shows), "
	      "the same axes for every group; dashed: p50, p99, p99.9 (from the report's "
	      "histograms, within 1/64 of the value), solid: max. Click a group's name to "
	      "filter the page.</p>\n<div id=\"hists\">\n", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		hist_extent(&r->groups[i]->wait, &ax);
		hist_extent(&r->groups[i]->hold, &ax);
	}
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fprintf(f, "<div class=\"hgroup\" data-g=\"%zu\" id=\"hist-%zu\"><h3>", i, i);
		ob_html_file(f, agg_group_name(r->agg, g, name, sizeof(name)));
		fputs("</h3>\n", f);
		hist_svg(f, "wait", &g->wait, "#d33", &ax);
		hist_svg(f, "hold", &g->hold, "#36c", &ax);
		fputs("</div>\n", f);
	}
	fputs("</div>\n", f);
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
		ob_html_file(f, br->pairs[i].holder_cgroup);
		fputs("</td><td>", f);
		ob_html_file(f, blame_memcg_name(r->blame, br->pairs[i].victim_memcg, buf, sizeof(buf)));
		fputs("</td>", f);
		us(f, br->pairs[i].blamed_ns);
		fprintf(f, "<td>%" PRIu64 "</td></tr>\n", br->pairs[i].waits);
	}
	fputs("</table>\n<table><tr><th>holder</th><th>blamed</th><th>as writer</th>"
	      "<th>as reader</th><th>waits</th></tr>\n", f);
	for (size_t i = 0; i < br->nholders && i < 20; i++) {
		const struct blame_holder *h = &br->holders[i];
		const struct mml_task_info *t = meta_task(r->meta, h->tid);
		fputs("<tr><td>", f);
		ob_html_file(f, t && t->comm[0] ? t->comm : "?");
		fprintf(f, "[%u]</td>", h->tid);
		us(f, h->blamed_ns);
		us(f, h->write_ns);
		us(f, h->read_ns);
		fprintf(f, "<td>%" PRIu64 "</td></tr>\n", h->waits);
	}
	fputs("</table>\n", f);
}

static const char css[] =
	"body{font-family:sans-serif;margin:1em 2em}"
	"table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;"
	"padding:2px 6px;text-align:right}td:first-child,th:first-child{text-align:left}"
	"#summary tr:hover{background:#eef}figure{display:inline-block;margin:0 1em 0 0}"
	"figcaption{font-size:small}.hgroup h3{margin:0.4em 0 0}"
	"#groups button{margin:1px;border:1px solid #999;background:#f4f4f4;cursor:pointer}"
	"#groups button.on{background:#36c;color:#fff}"
	"#tip{position:absolute;display:none;background:#ffe;border:1px solid #999;padding:3px 6px;"
	"font-size:12px;pointer-events:none;z-index:9}"
	"#brush{position:absolute;display:none;background:rgba(50,100,200,0.15);pointer-events:none}"
	".worst{border-top:1px solid #ccc;margin-top:0.6em}.worst h3{margin:0.4em 0 0.2em}"
	".worst p{margin:0.2em 0}.holder{font-weight:bold;background:#fd4}"
	"rect.the-wait{stroke:#000;stroke-width:2}rect.the-holder{stroke:#fa0;stroke-width:3}"
	"#heatmap{cursor:crosshair}pre{font-size:11px;margin:0.2em 1em}"
	".fr text{pointer-events:none}#flame{cursor:pointer}.note{font-size:small;color:#444}";

/* How the page bounds its size: said in the page (the issue of a 10 M-event recording). */
static void downsample_note(const struct report *r, FILE *f)
{
	const struct timeagg *t = r->ta;
	const struct levels *ls = r->levels;

	fprintf(f, "<p class=\"note\" id=\"downsample\">How this page stays small: time is cut into "
		"at most %d intervals (here %zu of %" PRIu64 ".%03" PRIu64 " ms: the interval doubles "
		"until the recording fits), latency into %d rows (two per octave); each cell keeps a "
		"count. The time charts can show one group at a level of your choice; each level keeps "
		"the %d groups with the most wait time, each with its own charts, and sums the rest as "
		"one \"other\" group (here:", TIMEAGG_COLS, t->ncols, t->width / 1000000,
		t->width / 1000 % 1000, TIMEAGG_ROWS, LEVEL_KEEP);
	for (size_t i = 0; ls && i < ls->n; i++)
		fprintf(f, "%s %s %zu of %zu", i ? "," : "", ls->l[i].name, ls->l[i].nkept,
			ls->l[i].ngroups);
	fprintf(f, ")%s. Each of the "
		"%zu longest waits shows at most %d intervals of its mm around it (the last %d before "
		"it, the first %d during it plus up to %d holds of others overlapping it, the first %d "
		"after it); the flame graphs keep the 500 stacks with the most time per kind and "
		"sum the rest as \"(other stacks)\". Histograms and the tables are exact.</p>\n",
		ls && ls->n && ls->l[0].gridded ? "" :
		"; no per-group charts here: the input was read once, from stdin",
		r->worst->n, WORST_WINDOW, WORST_BEFORE, WORST_DURING, WORST_HOLDERS, WORST_AFTER);
}

static void summary(const struct report *r, FILE *f)
{
	char name[512];

	fputs("<h2>Summary</h2>\n<table id=\"summary\"><tr><th>group</th><th>acq read</th>"
	      "<th>acq write</th><th>failed</th><th>contended</th><th>wait total</th><th>wait p50</th>"
	      "<th>wait p99</th><th>wait max</th><th>hold total</th><th>hold p99</th>"
	      "<th>hold max</th></tr>\n", f);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fputs("<tr><td>", f);
		ob_html_file(f, agg_group_name(r->agg, g, name, sizeof(name)));
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
	fputs("</table>\n", f);
}

/* The sections the script draws into. */
static void drawn(const struct report *r, FILE *f)
{
	fputs("<noscript><p><b>Scripts are off:</b> the heatmap, the time series, the longest "
	      "waits and the flame graphs need the page's own script.</p></noscript>\n"
	      "<h2 id=\"heatmap-sec\">Latency over time</h2>\n<p id=\"groups\"></p>\n"
	      "<p><label><input type=\"radio\" name=\"hmkind\" value=\"wait\" checked> wait</label> "
	      "<label><input type=\"radio\" name=\"hmkind\" value=\"hold\"> hold</label> "
	      "<span id=\"heatmap-title\"></span></p>\n<canvas id=\"heatmap\" width=\"1080\" "
	      "height=\"200\"></canvas>\n<h3>Rates and wait p99 per interval</h3>\n"
	      "<div id=\"timeseries\"></div>\n<p class=\"note\">Drag across the heatmap or the chart "
	      "to zoom on time; double-click for the whole recording; hover for exact figures.</p>\n"
	      "<h2 id=\"worst\">The longest waits</h2>\n<p>Each with what happened on its mm around "
	      "it: a row per task, the holder to blame (the hold of another task that overlapped the "
	      "wait most) highlighted.</p>\n<div id=\"worst-list\"></div>\n", f);
	if (r->has_stacks && r->sa)
		fputs("<h2>Flame graphs</h2>\n<p><label><input type=\"radio\" name=\"flkind\" "
		      "value=\"wait\" checked> by wait time</label> <label><input type=\"radio\" "
		      "name=\"flkind\" value=\"hold\"> by hold time</label> <span id=\"flame-title\">"
		      "</span></p>\n<div id=\"flame\"></div>\n", f);
}

void out_html(const struct report *r, FILE *f)
{
	char name[512];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "script-src 'unsafe-inline'; style-src 'unsafe-inline'\">"
	      "<title>mmaplock report</title>\n<style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n<h1>mmaplock report</h1>\n<p>", f);
	ob_html_file(f, r->input);
	fprintf(f, " (%s): %" PRIu64 " events over %" PRIu64 ".%06" PRIu64 " s, %" PRIu64
		" lost. Groups by %s; times in us.</p>\n", r->format, r->stats->events,
		r->duration_ns / 1000000000u, r->duration_ns / 1000 % 1000000, r->stats->lost,
		agg_by_name(r->agg->by));
	if (report_damage(r, name, sizeof(name)))
		fprintf(f, "<p><b>Damaged input:</b> %s; the figures cover the rest.</p>\n", name);
	downsample_note(r, f);
	summary(r, f);
	drawn(r, f);
	histograms(r, f);
	matrix(r, f);
	out_stacks_html(r, f);
	fputs("<div id=\"tip\"></div><div id=\"brush\"></div>\n"
	      "<p class=\"note\">Drawn in <span id=\"render-ms\">?</span> ms.</p>\n"
	      "<script type=\"application/json\" id=\"mml-data\">", f);
	out_html_data(r, f);
	fputs("</script>\n<script>\n", f);
	fputs(out_html_js, f);
	fputs("</script>\n</body></html>\n", f);
}
