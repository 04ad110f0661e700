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
static void us(struct ob *o, uint64_t ns)
{
	ob_printf(o, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

/* part / whole in percent with one decimal, rounded down: "12.3" */
static void pct(struct ob *o, uint64_t part, uint64_t whole)
{
	uint64_t p = whole ? (uint64_t)((double)part * 1000.0 / (double)whole) : 0;

	ob_printf(o, "%" PRIu64 ".%" PRIu64, p / 10, p % 10);
}

static void section(const struct report *r, struct ob *o, struct stackagg_kind *k, const char *what,
		    const char *plural)
{
	size_t n = (size_t)r->stacks;
	const struct stackagg_ent **top = malloc((n ? n : 1) * sizeof(*top));
	char buf[48];

	if (!top) {
		ob_printf(o, "# out of memory\n");
		return;
	}
	n = stackagg_top(k, top, n);
	ob_printf(o, "\n# top %zu of %zu stacks by %s time (all %s: %" PRIu64 ", ", n, k->tab.n, what,
		plural, k->all_count);
	us(o, k->all_ns);
	ob_printf(o, " us; without a stack: %" PRIu64 ", ", k->nostack_count);
	us(o, k->nostack_ns);
	ob_printf(o, " us)\n");
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		ob_printf(o, "#%zu stack %" PRIu32 ": %s %" PRIu64 ", total ", i + 1, e->id, plural,
			e->count);
		us(o, e->total);
		ob_printf(o, " us (");
		pct(o, e->total, k->all_ns);
		ob_printf(o, "%% of all %s time), max ", what);
		us(o, e->max);
		ob_printf(o, " us\n   by:");
		for (unsigned t = 0; t < e->ntk; t++) {
			ob_printf(o, "%s %s %s ", t ? "," : "",
				memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)), e->tk[t].comm);
			pct(o, e->tk[t].ns, e->total);
			ob_ch(o, '%');
		}
		if (e->approx)
			ob_printf(o, " (more takers: shares are upper bounds)");
		ob_ch(o, '\n');
		if (!st)
			ob_printf(o, "        (stack %" PRIu32 " not defined in the trace)\n", e->id);
		for (unsigned j = 0; st && j < st->n; j++)
			ob_printf(o, "        %s\n", st->sym[j]);
	}
	free(top);
}

void out_stacks_table(const struct report *r, struct ob *o)
{
	if (!r->has_stacks) {
		ob_printf(o, "no kernel stacks in this trace (record with --stack)\n");
		return;
	}
	section(r, o, &r->sa->wait, "wait", "waits");
	section(r, o, &r->sa->hold, "hold", "holds");
}

static void json_kind(const struct report *r, struct ob *o, struct stackagg_kind *k)
{
	size_t n = r->has_stacks ? (size_t)r->stacks : 0;
	const struct stackagg_ent **top = malloc((n ? n : 1) * sizeof(*top));
	char buf[48];

	n = top ? stackagg_top(k, top, n) : 0;
	ob_ch(o, '[');
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		ob_printf(o, "%s\n      {\"id\": %" PRIu32 ", \"count\": %" PRIu64 ", \"total_ns\": %"
			PRIu64 ", \"max_ns\": %" PRIu64 ", \"takers\": [", i ? "," : "", e->id,
			e->count, e->total, e->max);
		for (unsigned t = 0; t < e->ntk; t++) {
			ob_printf(o, "%s{\"memcg\": ", t ? ", " : "");
			ob_json_str(o, memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)));
			ob_printf(o, ", \"comm\": ");
			ob_json_str(o, e->tk[t].comm);
			ob_printf(o, ", \"ns\": %" PRIu64 "}", e->tk[t].ns);
		}
		ob_printf(o, "], \"takers_approx\": %s, \"frames\": [", e->approx ? "true" : "false");
		for (unsigned j = 0; st && j < st->n; j++) {
			ob_printf(o, "%s", j ? ", " : "");
			ob_json_str(o, st->sym[j]);
		}
		ob_printf(o, "]}");
	}
	ob_printf(o, "%s]", n ? "\n    " : "");
	free(top);
}

void out_stacks_json(const struct report *r, struct ob *o)
{
	ob_printf(o, "  \"stacks\": {\"wait_total_ns\": %" PRIu64 ", \"wait_without_stack_ns\": %"
		PRIu64 ", \"hold_total_ns\": %" PRIu64 ", \"hold_without_stack_ns\": %" PRIu64
		",\n    \"wait\": ", r->sa->wait.all_ns, r->sa->wait.nostack_ns, r->sa->hold.all_ns,
		r->sa->hold.nostack_ns);
	json_kind(r, o, &r->sa->wait);
	ob_printf(o, ",\n    \"hold\": ");
	json_kind(r, o, &r->sa->hold);
	ob_printf(o, "}");
}

static void html_kind(const struct report *r, struct ob *o, struct stackagg_kind *k, const char *what)
{
	const struct stackagg_ent *top[10];
	size_t n = stackagg_top(k, top, 10);
	char buf[48];

	ob_printf(o, "<h3>By %s time</h3>\n<table><tr><th>stack (leaf first)</th><th>count</th>"
		"<th>total</th><th>share</th><th>max</th><th>taken most by</th></tr>\n", what);
	for (size_t i = 0; i < n; i++) {
		const struct stackagg_ent *e = top[i];
		const struct mml_stack *st = meta_stack(r->meta, e->id);

		ob_str(o, "<tr><td style=\"text-align:left;font-family:monospace\">");
		for (unsigned j = 0; st && j < st->n; j++) {
			ob_html(o, st->sym[j]);
			ob_str(o, "<br>");
		}
		if (!st)
			ob_printf(o, "stack %" PRIu32 " (not defined)", e->id);
		ob_printf(o, "</td><td>%" PRIu64 "</td><td>", e->count);
		us(o, e->total);
		ob_str(o, "</td><td>");
		pct(o, e->total, k->all_ns);
		ob_str(o, "%</td><td>");
		us(o, e->max);
		ob_str(o, "</td><td style=\"text-align:left\">");
		for (unsigned t = 0; t < e->ntk; t++) {
			ob_html(o, memcg_name(r, e->tk[t].memcg, buf, sizeof(buf)));
			ob_ch(o, ' ');
			ob_html(o, e->tk[t].comm);
			ob_ch(o, ' ');
			pct(o, e->tk[t].ns, e->total);
			ob_str(o, "%<br>");
		}
		ob_str(o, "</td></tr>\n");
	}
	ob_str(o, "</table>\n");
}

void out_stacks_html(const struct report *r, FILE *f)
{
	char buf[4096];
	struct ob o;

	if (!r->has_stacks || !r->sa)
		return;
	ob_init_file(&o, f, buf, sizeof(buf));
	OBL(&o, "<h2>Top stacks</h2>\n<p>The kernel call stacks of the waits and holds with the "
	    "most time (times in us; share: of all wait or hold time).</p>\n");
	html_kind(r, &o, &r->sa->wait, "wait");
	html_kind(r, &o, &r->sa->hold, "hold");
	ob_flush(&o);
}
