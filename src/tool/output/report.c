/* SPDX-License-Identifier: MIT */
/*
 * report.c: what every output format of the report reads the same way
 * (report.h): the damage note, a group's acquisitions and contended count.
 */
#include <inttypes.h>
#include "report.h"

const char *report_damage(const struct report *r, char *buf, size_t len)
{
	if (!r->damaged_blocks && !r->truncated)
		return NULL;
	if (!r->damaged_blocks)
		snprintf(buf, len, "truncated (not closed by its writer)");
	else
		snprintf(buf, len, "%s%" PRIu64 " damaged block%s (%" PRIu64 " bytes) skipped",
			 r->truncated ? "truncated, " : "", r->damaged_blocks,
			 r->damaged_blocks == 1 ? "" : "s", r->damaged_bytes);
	return buf;
}

uint64_t report_acquisitions(const struct agg_group *g)
{
	return g->acq_read + g->acq_write;
}

uint64_t report_contended(const struct report *r, const struct agg_group *g)
{
	return r->stats->contention_marked ? g->contended_marked : g->contended_long;
}
