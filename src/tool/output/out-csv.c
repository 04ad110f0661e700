/* SPDX-License-Identifier: MIT */
/*
 * out-csv.c: --csv, one header line and one row per group, flat column
 * names (the JSON keys joined with '_'), times in ns. Keys are quoted when
 * they hold a comma, a quote or a line break (RFC 4180).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"

void out_csv(const struct report *r, struct ob *o)
{
	char name[512];

	ob_printf(o, "key,acquisitions_read,acquisitions_write,failed,contended,downgrades,"
		"wait_ns_count,wait_ns_total,wait_ns_mean,wait_ns_p50,wait_ns_p99,wait_ns_max,"
		"hold_ns_count,hold_ns_total,hold_ns_p50,hold_ns_p99,hold_ns_max");
	out_ident_csv_header(r, o);	/* after the figures: their columns stay where they were */
	ob_ch(o, '\n');
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		ob_csv_field(o, agg_group_name(r->agg, g, name, sizeof(name)));
		ob_printf(o, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
			g->acq_read, g->acq_write, g->failed, report_contended(r, g), g->downgrades,
			g->wait.count, g->wait.total, g->wait.count ? g->wait.total / g->wait.count : 0,
			hist_quantile(&g->wait, 0.5), hist_quantile(&g->wait, 0.99), g->wait.max,
			g->hold.count, g->hold.total, hist_quantile(&g->hold, 0.5),
			hist_quantile(&g->hold, 0.99), g->hold.max);
		out_ident_csv(r, g, o);
		ob_ch(o, '\n');
	}
}
