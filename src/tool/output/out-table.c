/* SPDX-License-Identifier: MIT */
/*
 * out-table.c: the default table and --hist. A header with the input and
 * its totals, one row per group (times in microseconds, to the ns), and a
 * footer with the pairing counters (docs/REPORT.md says what they mean).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"

static void us(struct ob *o, int width, uint64_t ns)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
	ob_printf(o, " %*s", width, b);
}

static void header(const struct report *r, struct ob *o)
{
	char dmg[128];

	ob_printf(o, "# input: %s (%s)  events: %" PRIu64 "  duration: %" PRIu64 ".%09" PRIu64
		" s  lost events: %" PRIu64 "\n", r->input, r->format, r->stats->events,
		r->duration_ns / 1000000000u, r->duration_ns % 1000000000u, r->stats->lost);
	if (r->stats->lost)
		ob_printf(o, "# warning: %" PRIu64 " events were lost: some sequences are broken "
			"(see unmatched)\n", r->stats->lost);
	if (report_damage(r, dmg, sizeof(dmg)))
		ob_printf(o, "# warning: input %s: the figures cover the rest\n", dmg);
	ob_printf(o, "# groups by %s: %zu", agg_by_name(r->agg->by), r->total_groups);
	if (r->ngroups < r->total_groups)
		ob_printf(o, " (top %zu shown)", r->ngroups);
	ob_printf(o, "; times in us; contended = %s\n", r->stats->contention_marked ?
		"a lock:contention_begin inside the wait" : "wait > 10 us (no lock:contention events)");
}

static void footer(const struct report *r, struct ob *o)
{
	const struct pair_unmatched *u = &r->stats->um;

	ob_printf(o, "# unmatched: release_without_acquire=%" PRIu64 " open_at_end=%" PRIu64
		" (waits %" PRIu64 ", holds %" PRIu64 ") restart=%" PRIu64 " nested=%" PRIu64
		" non_owner_releases=%" PRIu64 " negative=%" PRIu64 "\n",
		u->release_without_acquire, u->open_at_end, u->open_waits_at_end,
		u->open_holds_at_end, u->restart, u->nested, u->non_owner_releases, u->negative);
	if (r->stats->contention_marked)
		ob_printf(o, "# lock:contention events: %" PRIu64 ", of them %" PRIu64 " outside "
			"mmap_lock waits (other locks: not counted)\n", r->stats->contention_events,
			r->stats->contention_other);
	if (r->skipped)
		ob_printf(o, "# skipped lines (not mmap_lock events): %" PRIu64 "\n", r->skipped);
	out_memcg_now_note(r, o);
}

void out_memcg_now_note(const struct report *r, struct ob *o)
{
	out_memcg_now_footnote(r->memcg_now, o);
}

void out_memcg_now_footnote(long n, struct ob *o)
{
	if (n)
		ob_printf(o, "# *: memcg path looked up on this machine at report time, not in the "
			"trace (%ld id%s): an id may have been reused since; --no-resolve shows "
			"memcg_id:N\n", n, n == 1 ? "" : "s");
}

void out_table(const struct report *r, struct ob *o)
{
	char name[512];
	int kw = 5;

	for (size_t i = 0; i < r->ngroups; i++) {
		int l = (int)strlen(agg_group_name(r->agg, r->groups[i], name, sizeof(name)));
		if (l > kw)
			kw = l < 60 ? l : 60;
	}
	header(r, o);
	ob_printf(o, "%-*s %8s %8s %7s %7s %6s %14s %10s %10s %10s %12s %14s %10s %10s %12s\n",
		kw, "GROUP", "ACQ_R", "ACQ_W", "FAILED", "CONTEND", "DOWNGR", "WAIT_TOTAL",
		"WAIT_MEAN", "WAIT_P50", "WAIT_P99", "WAIT_MAX", "HOLD_TOTAL", "HOLD_P50",
		"HOLD_P99", "HOLD_MAX");
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		ob_printf(o, "%-*s %8" PRIu64 " %8" PRIu64 " %7" PRIu64 " %7" PRIu64 " %6" PRIu64, kw,
			agg_group_name(r->agg, g, name, sizeof(name)), g->acq_read, g->acq_write,
			g->failed, report_contended(r, g), g->downgrades);
		us(o, 14, g->wait.total);
		us(o, 10, g->wait.count ? g->wait.total / g->wait.count : 0);
		us(o, 10, hist_quantile(&g->wait, 0.50));
		us(o, 10, hist_quantile(&g->wait, 0.99));
		us(o, 12, g->wait.max);
		us(o, 14, g->hold.total);
		us(o, 10, hist_quantile(&g->hold, 0.50));
		us(o, 10, hist_quantile(&g->hold, 0.99));
		us(o, 12, g->hold.max);
		ob_ch(o, '\n');
	}
	footer(r, o);
}

/* bcc's print_log2_hist layout: "     usecs : count  distribution". */
static void log2_hist(struct ob *o, const char *what, const struct hist *h)
{
	uint64_t maxc, log2_us[HIST_LOG2_US];
	int last = hist_log2_us_rows(h, log2_us, &maxc);

	ob_printf(o, "  %s: %" PRIu64 " samples\n", what, h->count);
	if (last < 0)
		return;
	ob_printf(o, "%24s : count    distribution\n", "usecs");
	for (int k = 0; k <= last; k++) {
		uint64_t lo = k ? 1ull << k : 0, hi = (1ull << (k + 1)) - 1;
		int stars = (int)(log2_us[k] * 40 / maxc);
		char range[64];

		snprintf(range, sizeof(range), "%" PRIu64 " -> %" PRIu64, lo, hi);
		ob_printf(o, "%24s : %-8" PRIu64 " |%-40.*s|\n", range, log2_us[k], stars,
			"****************************************");
	}
}

void out_hist(const struct report *r, struct ob *o)
{
	char name[512];

	header(r, o);
	for (size_t i = 0; i < r->ngroups; i++) {
		const struct agg_group *g = r->groups[i];
		ob_printf(o, "\n%s: acquisitions read %" PRIu64 " write %" PRIu64 ", failed %" PRIu64
			", contended %" PRIu64 "\n", agg_group_name(r->agg, g, name, sizeof(name)),
			g->acq_read, g->acq_write, g->failed, report_contended(r, g));
		log2_hist(o, "wait", &g->wait);
		log2_hist(o, "hold", &g->hold);
	}
	ob_ch(o, '\n');
	footer(r, o);
}
