/* SPDX-License-Identifier: MIT */
/*
 * report-html.h: what `report --html` collects beyond the other outputs:
 * the recording over time (timeagg.h) and the longest waits (worst.h) in
 * the first pass; the same time grid per shown group and the windows
 * around the longest waits in a second reading of the input (not for
 * stdin). Both passes keep bounded memory: fixed grids, N waits, capped
 * windows.
 */
#ifndef MML_REPORT_HTML_H
#define MML_REPORT_HTML_H

#include <stdio.h>
#include "pair.h"
#include "report.h"
#include "timeagg.h"
#include "worst.h"

#define HTML_GROUPS	12	/* groups with their own grid (the first of the order) */

struct report_html {
	struct timeagg ta;		/* first pass: the whole recording */
	struct timeagg gta;		/* second pass: a grid per shown group */
	struct worst worst;
	int on;
};

/* First pass: subscribe to p; worst: the N longest waits kept. -1: out of memory. */
int report_html_subscribe(struct report_html *h, struct pair *p, long worst);
/*
 * After the first pass and the view: the second reading of path (unless
 * "-"), then the view's HTML members. 0, or -1 after a one-line message.
 */
int report_html_pass2(struct report_html *h, struct report *r, const char *path);
void report_html_free(struct report_html *h);

#endif
