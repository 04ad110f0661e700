/* SPDX-License-Identifier: MIT */
/*
 * report-html.h: what `report --html` collects beyond the other outputs:
 * the recording over time (timeagg.h), the longest waits (worst.h) and the
 * groups by memcg and by process (agg.h, unless the report's own grouping
 * is that) in the first pass; the group levels (levels.h: memcg,
 * container/pod, process) ranked after it; the same time grid per kept
 * group of every level and the windows around the longest waits in a second
 * reading of the input (not for stdin). Both passes keep bounded memory:
 * fixed grids, N waits, capped windows.
 */
#ifndef MML_REPORT_HTML_H
#define MML_REPORT_HTML_H

#include <stdio.h>
#include "pair.h"
#include "report.h"
#include "levels.h"
#include "timeagg.h"
#include "worst.h"

struct report_html {
	struct timeagg ta;		/* first pass: the whole recording */
	const struct agg *a1;		/* first pass: the report's aggregation */
	struct agg mem, proc;		/* first pass: by memcg, by process (when a1 is not) */
	struct agg ctr;			/* folded from the memcg groups: by container/pod */
	struct levels levels;		/* the page's group levels, their grids (second pass) */
	struct worst worst;
	int on;
};

/*
 * First pass: subscribe to p; a1: the report's aggregation (already
 * subscribed); worst: the N longest waits kept. -1: out of memory.
 */
int report_html_subscribe(struct report_html *h, struct pair *p, const struct agg *a1, long worst);
/*
 * After the first pass and the view: the second reading of path (unless
 * "-"), then the view's HTML members. 0, or -1 after a one-line message.
 */
int report_html_pass2(struct report_html *h, struct report *r, const char *path);
void report_html_free(struct report_html *h);

#endif
