/* SPDX-License-Identifier: MIT */
/*
 * out-stacks.c: `report --stacks [N]`: the N kernel call stacks with the
 * most wait time and the N with the most hold time (stackagg.h), as text
 * after the report (frames one per line, leaf first, like perf and
 * bpftrace print them), as the "stacks" object of --json (docs/JSON.md),
 * and as the "top stacks" table of --html. docs/REPORT.md shows the text.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "stackagg.h"
#include "stacks.h"

/* The name of a memcg id: its path, "/" (root), "memcg_id:N" or "(no memcg)". */
static const char *memcg_name(const struct report *r, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(r->meta, id, buf, len);
}

/* ns as "us.nnn" */
static void us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

/* part / whole in percent with one decimal, rounded down: "12.3" */
static void pct(FILE *f, uint64_t part, uint64_t whole)
{
	uint64_t p = whole ? (uint64_t)((double)part * 1000.0 / (double)whole) : 0;

	fprintf(f, "%" PRIu64 ".%" PRIu64, p / 10, p % 10);
}

static void section(const struct report *r, FILE *f, struct stackagg_kind *k, const char *what,
		    const char *plural)
{
	size_t n = (size_t)r->stacks;
	const struct stackagg_ent **top = malloc((n ? n : 1) * sizeof(*top));
	char buf[48];

	if (!top) {
		fprintf(f, "# out of memory\n");
		return;
	}
	n = stackagg_top(k, top, n);
	fprintf(f, "\n# top %zu of %zu stacks by %s time (all %s: %" PRIu64 ", ", n, k->tab.n, what,
		plural, k->all_count);
	us(f, k->all_ns);
	fprintf(f, " us; without a stack: %" PRIu64 ", ", k->nostack_count);
	us(f, k->nostack_ns);
	fprintf(f, " us)\n");
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		fprintf(f, "#%zu stack %" PRIu32 ": %s %" PRIu64 ", total ", i + 1, e->id, plural,
			e->count);
		us(f, e->total);
		fprintf(f, " us (");
		pct(f, e->total, k->all_ns);
		fprintf(f, "%% of all %s time), max ", what);
		us(f, e->max);
		fprintf(f, " us\n   by:");
		for (unsigned t = 0; t < e->ntk; t++) {
			fprintf(f, "%s %s %s ", t ? "," : "",
				memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)), e->tk[t].comm);
			pct(f, e->tk[t].ns, e->total);
			fputc('%', f);
		}
		if (e->approx)
			fprintf(f, " (more takers: shares are upper bounds)");
		fputc('\n', f);
		if (!st)
			fprintf(f, "        (stack %" PRIu32 " not defined in the trace)\n", e->id);
		for (unsigned j = 0; st && j < st->n; j++)
			fprintf(f, "        %s\n", st->sym[j]);
	}
	free(top);
}

void out_stacks_table(const struct report *r, FILE *f)
{
	if (!r->has_stacks) {
		fprintf(f, "no kernel stacks in this trace (record with --stack)\n");
		return;
	}
	section(r, f, &r->sa->wait, "wait", "waits");
	section(r, f, &r->sa->hold, "hold", "holds");
}

static void json_kind(const struct report *r, FILE *f, struct stackagg_kind *k)
{
	size_t n = r->has_stacks ? (size_t)r->stacks : 0;
	const struct stackagg_ent **top = malloc((n ? n : 1) * sizeof(*top));
	char buf[48];

	n = top ? stackagg_top(k, top, n) : 0;
	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		fprintf(f, "%s\n      {\"id\": %" PRIu32 ", \"count\": %" PRIu64 ", \"total_ns\": %"
			PRIu64 ", \"max_ns\": %" PRIu64 ", \"takers\": [", i ? "," : "", e->id,
			e->count, e->total, e->max);
		for (unsigned t = 0; t < e->ntk; t++) {
			fprintf(f, "%s{\"memcg\": ", t ? ", " : "");
			out_jstr(f, memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)));
			fprintf(f, ", \"comm\": ");
			out_jstr(f, e->tk[t].comm);
			fprintf(f, ", \"ns\": %" PRIu64 "}", e->tk[t].ns);
		}
		fprintf(f, "], \"takers_approx\": %s, \"frames\": [", e->approx ? "true" : "false");
		for (unsigned j = 0; st && j < st->n; j++) {
			fprintf(f, "%s", j ? ", " : "");
			out_jstr(f, st->sym[j]);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "%s]", n ? "\n    " : "");
	free(top);
}

void out_stacks_json(const struct report *r, FILE *f)
{
	fprintf(f, "  \"stacks\": {\"wait_total_ns\": %" PRIu64 ", \"wait_without_stack_ns\": %"
		PRIu64 ", \"hold_total_ns\": %" PRIu64 ", \"hold_without_stack_ns\": %" PRIu64
		",\n    \"wait\": ", r->sa->wait.all_ns, r->sa->wait.nostack_ns, r->sa->hold.all_ns,
		r->sa->hold.nostack_ns);
	json_kind(r, f, &r->sa->wait);
	fprintf(f, ",\n    \"hold\": ");
	json_kind(r, f, &r->sa->hold);
	fprintf(f, "}");
}

static void html_kind(const struct report *r, FILE *f, struct stackagg_kind *k, const char *what)
{
	const struct stackagg_ent *top[10];
	size_t n = stackagg_top(k, top, 10);
	char buf[48];

	fprintf(f, "<h3>By %s time</h3>\n<table><tr><th>stack (leaf first)</th><th>count</th>"
		"<th>total</th><th>share</th><th>max</th><th>taken most by</th></tr>\n", what);
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		fputs("<tr><td style=\"text-align:left;font-family:monospace\">", f);
		for (unsigned j = 0; st && j < st->n; j++) {
			out_html_esc(f, st->sym[j]);
			fputs("<br>", f);
		}
		if (!st)
			fprintf(f, "stack %" PRIu32 " (not defined)", e->id);
		fprintf(f, "</td><td>%" PRIu64 "</td><td>", e->count);
		us(f, e->total);
		fputs("</td><td>", f);
		pct(f, e->total, k->all_ns);
		fputs("%</td><td>", f);
		us(f, e->max);
		fputs("</td><td style=\"text-align:left\">", f);
		for (unsigned t = 0; t < e->ntk; t++) {
			out_html_esc(f, memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)));
			fputc(' ', f);
			out_html_esc(f, e->tk[t].comm);
			fputc(' ', f);
			pct(f, e->tk[t].ns, e->total);
			fputs("%<br>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

void out_stacks_html(const struct report *r, FILE *f)
{
	if (!r->has_stacks || !r->sa)
		return;
	fputs("<h2>Top stacks</h2>\n<p>The kernel call stacks of the waits and holds with the "
	      "most time (times in us; share: of all wait or hold time).</p>\n", f);
	html_kind(r, f, &r->sa->wait, "wait");
	html_kind(r, f, &r->sa->hold, "hold");
}
