/* SPDX-License-Identifier: MIT */
/*
 * out-json.c: --json, the schema of docs/JSON.md. Keys in a fixed order,
 * integers in ns, strings escaped per RFC 8259. With --stacks, the
 * "stacks" member comes from out-stacks.c.
 */
#include <inttypes.h>
#include "report.h"

void out_jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

#define jstr out_jstr

void out_json(const struct report *r, FILE *f)
{
	const struct pair_unmatched *u = &r->pair->um;
	const char *backend;
	char name[512];

	fprintf(f, "{\n  \"input\": ");
	jstr(f, r->input);
	fprintf(f, ",\n  \"format\": \"%s\",\n  \"by\": \"%s\",\n", r->format, agg_by_name(r->o->by));
	if (r->agg && r->agg->meta && (backend = meta_info(r->agg->meta, "backend"))) {
		fprintf(f, "  \"backend\": ");	/* a live recording: the back-end that made it */
		jstr(f, backend);
		fprintf(f, ",\n");
	}
	fprintf(f, "  \"events\": %" PRIu64 ",\n  \"lost_events\": %" PRIu64 ",\n"
		"  \"duration_ns\": %" PRIu64 ",\n  \"truncated\": %s,\n  \"damaged_blocks\": %"
		PRIu64 ",\n  \"damaged_bytes\": %" PRIu64 ",\n  \"skipped_lines\": %"
		PRIu64 ",\n  \"contended_from\": \"%s\",\n  \"contention_other\": %" PRIu64
		",\n  \"stack_events\": %" PRIu64 ",\n", r->events, r->lost, r->duration_ns,
		r->truncated ? "true" : "false", r->damaged_blocks, r->damaged_bytes, r->skipped,
		r->pair->contention_events ? "contention_events" : "wait_threshold",
		r->pair->contention_other, r->pair->stack_events);
	fprintf(f, "  \"unmatched\": {\"release_without_acquire\": %" PRIu64 ", \"open_at_end\": %"
		PRIu64 ", \"open_waits_at_end\": %" PRIu64 ", \"open_holds_at_end\": %" PRIu64
		", \"restart\": %" PRIu64 ", \"nested\": %" PRIu64 ", \"non_owner_releases\": %" PRIu64
		", \"negative\": %" PRIu64 ", \"contention_unmatched\": %" PRIu64 "},\n",
		u->release_without_acquire, u->open_at_end, u->open_waits_at_end, u->open_holds_at_end,
		u->restart, u->nested, u->non_owner_releases, u->negative, u->contention_unmatched);
	fprintf(f, "  \"groups\": [");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		fprintf(f, "%s\n    {\"key\": ", i ? "," : "");
		jstr(f, agg_group_name(r->agg, g, name, sizeof(name)));
		if (r->o->by == AGG_BY_MEMCG) {
			const char *p = g->key ? meta_memcg(r->agg->meta, g->key) : NULL;
			fprintf(f, ", \"memcg_path\": ");
			if (p)
				jstr(f, p);
			else
				fprintf(f, "null");
			fprintf(f, ", \"memcg_id\": %" PRIu64, g->key < (1ull << 62) ? g->key : 0);
			if (meta_memcg_now(r->agg->meta, g->key))
				fprintf(f, ", \"memcg_resolved\": \"now\"");
		}
		out_ident_json(r, g, f);
		fprintf(f, ", \"acquisitions\": {\"read\": %" PRIu64 ", \"write\": %" PRIu64 "}"
			", \"failed\": %" PRIu64 ", \"contended\": %" PRIu64 ", \"downgrades\": %" PRIu64
			", \"trylocks\": %" PRIu64 ",\n     ", g->acq_read, g->acq_write, g->failed,
			report_contended(r, g), g->downgrades, g->trylocks);
		fprintf(f, "\"wait_ns\": {\"count\": %" PRIu64 ", \"total\": %" PRIu64 ", \"mean\": %"
			PRIu64 ", \"p50\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "},\n     ",
			g->wait.count, g->wait.total, g->wait.count ? g->wait.total / g->wait.count : 0,
			hist_quantile(&g->wait, 0.5), hist_quantile(&g->wait, 0.99), g->wait.max);
		fprintf(f, "\"hold_ns\": {\"count\": %" PRIu64 ", \"total\": %" PRIu64 ", \"p50\": %"
			PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64 "}}",
			g->hold.count, g->hold.total, hist_quantile(&g->hold, 0.5),
			hist_quantile(&g->hold, 0.99), g->hold.max);
	}
	fprintf(f, "\n  ]");
	if (r->o->stacks && r->sa) {
		fprintf(f, ",\n");
		out_stacks_json(r, f);
	}
	fprintf(f, "\n}\n");
}
