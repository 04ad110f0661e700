/* SPDX-License-Identifier: MIT */
/*
 * timeagg.h: waits and holds binned over time, for the HTML page's heatmap
 * and time series. A grid has TIMEAGG_COLS columns of equal width (ns) and,
 * per column, the count of acquisitions, of contended waits and of waits and
 * holds per latency row (TIMEAGG_ROWS rows, two per octave: row 0 below
 * 1 us, row r >= 1 from 2^((r-1)/2) us, the last open-ended). An interval
 * falls in the column of its start.
 *
 * The recording's length is not known while it streams, so the width
 * adapts: it starts at TIMEAGG_WIDTH0 and doubles (pairs of columns merged)
 * whenever an interval starts past the last column. Memory is the grid, a
 * fixed size, whatever the number of events; the columns used at the end
 * are between half and all of them (for a recording longer than
 * TIMEAGG_COLS * TIMEAGG_WIDTH0).
 *
 * A set of grids (one for the whole recording, or one per group in the
 * page's second pass) shares t0 and width: timeagg_fixed() freezes them.
 */
#ifndef MML_TIMEAGG_H
#define MML_TIMEAGG_H

#include <stddef.h>
#include <stdint.h>
#include "pair.h"

#define TIMEAGG_COLS	240
#define TIMEAGG_ROWS	48
#define TIMEAGG_WIDTH0	1000000ull	/* ns: the first column width, 1 ms */

struct timeagg_col {
	uint64_t acq;			/* acquisitions (holds that began) */
	uint32_t contended_marked;	/* waits with a lock:contention_begin inside */
	uint32_t contended_long;	/* waits longer than AGG_CONTENDED_NS */
	uint32_t wait[TIMEAGG_ROWS];	/* waits per latency row */
	uint32_t hold[TIMEAGG_ROWS];	/* holds per latency row */
};

struct timeagg {
	uint64_t t0;			/* ns: start of column 0 (the first interval's start) */
	uint64_t width;			/* ns per column */
	int started, fixed;		/* t0 set; width frozen (no rebinning) */
	size_t ncols;			/* columns used: up to the latest start seen */
	size_t ngrid;
	struct timeagg_col (*grid)[TIMEAGG_COLS];	/* ngrid grids */
};

/* ngrid grids, empty. -1: out of memory. */
int timeagg_init(struct timeagg *t, size_t ngrid);
void timeagg_fini(struct timeagg *t);
/* Freeze t0 and width (a second pass over the same input reuses the first's columns). */
void timeagg_fixed(struct timeagg *t, uint64_t t0, uint64_t width);

/* The latency row of a value in ns. */
unsigned timeagg_row(uint64_t ns);
/* The lower bound (ns) of row r. */
uint64_t timeagg_row_lo(unsigned r);

/* Add an interval (PAIR_HOLD_BEGIN, PAIR_WAIT, PAIR_FAILED, PAIR_HOLD) to grid g. */
void timeagg_add(struct timeagg *t, size_t g, const struct pair_interval *iv);

/*
 * The same in two steps, for several sets of grids on one t0 and width
 * (the page's group levels): the column of a start (widening the grids
 * unless fixed), then the interval into column col of grid g, row its
 * length's timeagg_row().
 */
size_t timeagg_column(struct timeagg *t, uint64_t ts);
void timeagg_add_at(struct timeagg *t, size_t g, size_t col, unsigned row,
		    const struct pair_interval *iv);

/*
 * The pairing subscriber for grid 0 (ctx: the struct timeagg): the closed
 * intervals, and the *_BEGIN kinds, which set t0 to the first start.
 */
int timeagg_hook(void *ctx, const struct pair_interval *iv);
#define TIMEAGG_KINDS	(PAIR_KIND(PAIR_WAIT_BEGIN) | PAIR_KIND(PAIR_HOLD_BEGIN) | \
			 PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) | PAIR_KIND(PAIR_HOLD))

#endif
