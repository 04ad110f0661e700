/* SPDX-License-Identifier: MIT */
/*
 * out-json.c: --json, the schema of docs/JSON.md. Keys in a fixed order,
 * integers in ns, strings escaped per RFC 8259. With --stacks, the
 * "stacks" member comes from out-stacks.c.
 */
#include <inttypes.h>
#include "report.h"

void out_json(const struct report *r, struct ob *o)
{
	const struct pair_unmatched *u = &r->stats->um;
	const char *backend;
	char name[512];

	ob_printf(o, "{\n  \"input\": ");
	ob_json_str(o, r->input);
	ob_printf(o, ",\n  \"format\": \"%s\",\n  \"by\": \"%s\",\n", r->format, agg_by_name(r->agg->by));
	if (r->meta && (backend = meta_info(r->meta, "backend"))) {
		ob_printf(o, "  \"backend\": ");	/* a live recording: the back-end that made it */
		ob_json_str(o, backend);
		ob_printf(o, ",\n");
	}
	ob_printf(o, "  \"events\": %" PRIu64 ",\n  \"lost_events\": %" PRIu64 ",\n"
		"  \"duration_ns\": %" PRIu64 ",\n  \"truncated\": %s,\n  \"damaged_blocks\": %"
		PRIu64 ",\n  \"damaged_bytes\": %" PRIu64 ",\n  \"skipped_lines\": %"
		PRIu64 ",\n  \"contended_from\": \"%s\",\n  \"contention_other\": %" PRIu64
		",\n  \"stack_events\": %" PRIu64 ",\n", r->stats->events, r->stats->lost, r->duration_ns,
		r->truncated ? "true" : "false", r->damaged_blocks, r->damaged_bytes, r->skipped,
		r->stats->contention_marked ? "contention_events" : "wait_threshold",
		r->stats->contention_other, r->stats->stack_events);
	ob_printf(o, "  \"unmatched\": {\"release_without_acquire\": %" PRIu64 ", \"open_at_end\": %"
		PRIu64 ", \"open_waits_at_end\": %" PRIu64 ", \"open_holds_at_end\": %" PRIu64
		", \"restart\": %" PRIu64 ", \"nested\": %" PRIu64 ", \"non_owner_releases\": %" PRIu64
		", \"negative\": %" PRIu64 ", \"contention_unmatched\": %" PRIu64 "},\n",
		u->release_without_acquire, u->open_at_end, u->open_waits_at_end, u->open_holds_at_end,
		u->restart, u->nested, u->non_owner_releases, u->negative, u->contention_unmatched);
	ob_printf(o, "  \"groups\": [");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		ob_printf(o, "%s\n    {\"key\": ", i ? "," : "");
		ob_json_str(o, agg_group_name(r->agg, g, name, sizeof(name)));
		if (r->agg->by == AGG_BY_MEMCG) {
			const char *p = g->key ? meta_memcg(r->meta, g->key) : NULL;
			ob_printf(o, ", \"memcg_path\": ");
			if (p)
				ob_json_str(o, p);
			else
				ob_printf(o, "null");
			ob_printf(o, ", \"memcg_id\": %" PRIu64, g->key < (1ull << 62) ? g->key : 0);
			if (meta_memcg_now(r->meta, g->key))
				ob_printf(o, ", \"memcg_resolved\": \"now\"");
		}
		out_ident_json(r, g, o);
		ob_printf(o, ", \"acquisitions\": {\"read\": %" PRIu64 ", \"write\": %" PRIu64 "}"
			", \"failed\": %" PRIu64 ", \"contended\": %" PRIu64 ", \"downgrades\": %" PRIu64
			", \"trylocks\": %" PRIu64 ",\n     ", g->acq_read, g->acq_write, g->failed,
			report_contended(r, g), g->downgrades, g->trylocks);
		ob_printf(o, "\"wait_ns\": {\"count\": %" PRIu64 ", \"total\": %" PRIu64 ", \"mean\": %"
			PRIu64 ", \"p50\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "},\n     ",
			g->wait.count, g->wait.total, g->wait.count ? g->wait.total / g->wait.count : 0,
			hist_quantile(&g->wait, 0.5), hist_quantile(&g->wait, 0.99), g->wait.max);
		ob_printf(o, "\"hold_ns\": {\"count\": %" PRIu64 ", \"total\": %" PRIu64 ", \"p50\": %"
			PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "}}",
			g->hold.count, g->hold.total, hist_quantile(&g->hold, 0.5),
			hist_quantile(&g->hold, 0.99), g->hold.max);
	}
	ob_printf(o, "\n  ]");
	if (r->stacks && r->sa) {
		ob_printf(o, ",\n");
		out_stacks_json(r, o);
	}
	ob_printf(o, "\n}\n");
}
