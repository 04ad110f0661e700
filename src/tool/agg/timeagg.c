/* SPDX-License-Identifier: MIT */
/*
 * timeagg.c: the time grid of timeagg.h: rows, the adaptive column width
 * (doubling, pairs of columns merged) and the pairing subscriber.
 */
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "timeagg.h"

int timeagg_init(struct timeagg *t, size_t ngrid)
{
	memset(t, 0, sizeof(*t));
	t->width = TIMEAGG_WIDTH0;
	t->ngrid = ngrid;
	t->grid = calloc(ngrid ? ngrid : 1, sizeof(*t->grid));
	return t->grid ? 0 : -1;
}

void timeagg_fini(struct timeagg *t)
{
	free(t->grid);
	t->grid = NULL;
}

void timeagg_fixed(struct timeagg *t, uint64_t t0, uint64_t width)
{
	t->t0 = t0;
	t->width = width ? width : 1;
	t->started = t->fixed = 1;
}

/*
 * Two rows per octave above 1 us, a factor sqrt(2) apart: row r >= 1 starts
 * at timeagg_row_lo(r), 2^((r - 1) / 2) us rounded to the ns, so that the
 * page's row labels are the rows' exact bounds.
 */
/* timeagg_row_lo from a table: timeagg_row runs for every interval of every grid. */
static uint64_t row_lo(unsigned r)
{
	static uint64_t lo[TIMEAGG_ROWS];
	static int made;

	if (!made) {
		for (unsigned k = 0; k < TIMEAGG_ROWS; k++)
			lo[k] = timeagg_row_lo(k);
		made = 1;
	}
	return lo[r];
}

unsigned timeagg_row(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned r;

	if (!us)
		return 0;
	r = 1 + 2 * (63 - (unsigned)__builtin_clzll(us));	/* 1000 * 2^k <= ns */
	if (r + 1 < TIMEAGG_ROWS && ns >= row_lo(r + 1))
		r++;
	return r < TIMEAGG_ROWS ? r : TIMEAGG_ROWS - 1;
}

uint64_t timeagg_row_lo(unsigned r)
{
	static const double sqrt2 = 1.4142135623730951;
	uint64_t us;

	if (!r)
		return 0;
	us = 1ull << ((r - 1) / 2);
	return (r - 1) % 2 ? (uint64_t)(us * 1000 * sqrt2 + 0.5) : us * 1000;
}

/* Double the width of every grid: column c takes columns 2c and 2c + 1. */
static void widen(struct timeagg *t)
{
	for (size_t g = 0; g < t->ngrid; g++) {
		struct timeagg_col *c = t->grid[g];
		for (size_t i = 0; i < TIMEAGG_COLS / 2; i++) {
			struct timeagg_col m = c[2 * i];
			const struct timeagg_col *b = &c[2 * i + 1];
			m.acq += b->acq;
			m.contended_marked += b->contended_marked;
			m.contended_long += b->contended_long;
			for (unsigned r = 0; r < TIMEAGG_ROWS; r++) {
				m.wait[r] += b->wait[r];
				m.hold[r] += b->hold[r];
			}
			c[i] = m;
		}
		memset(&c[TIMEAGG_COLS / 2], 0, TIMEAGG_COLS / 2 * sizeof(*c));
	}
	t->width *= 2;
	t->ncols = (t->ncols + 1) / 2;
}

/* The column of ts, widening the grids until it fits (fixed: the last column). */
static size_t column(struct timeagg *t, uint64_t ts)
{
	uint64_t off;

	if (!t->started) {
		t->t0 = ts;
		t->started = 1;
	}
	off = ts > t->t0 ? ts - t->t0 : 0;
	while (!t->fixed && off / t->width >= TIMEAGG_COLS)
		widen(t);
	if (off / t->width >= TIMEAGG_COLS)
		return TIMEAGG_COLS - 1;
	if (off / t->width >= t->ncols)
		t->ncols = off / t->width + 1;
	return off / t->width;
}

size_t timeagg_column(struct timeagg *t, uint64_t ts)
{
	return column(t, ts);
}

void timeagg_add_at(struct timeagg *t, size_t g, size_t col, unsigned row,
		    const struct pair_interval *iv)
{
	struct timeagg_col *c = &t->grid[g][col];

	switch (iv->kind) {
	case PAIR_HOLD_BEGIN:
		c->acq++;
		break;
	case PAIR_WAIT:
		c->contended_marked += iv->contended;
		c->contended_long += iv->end_ts - iv->start_ts > AGG_CONTENDED_NS;
		/* fall through */
	case PAIR_FAILED:
		if (iv->kind == PAIR_FAILED && iv->trylock)
			break;		/* a failed trylock: nobody waited */
		c->wait[row]++;
		break;
	case PAIR_HOLD:
		c->hold[row]++;
		break;
	default:
		break;
	}
}

void timeagg_add(struct timeagg *t, size_t g, const struct pair_interval *iv)
{
	timeagg_add_at(t, g, column(t, iv->start_ts), timeagg_row(iv->end_ts - iv->start_ts), iv);
}

int timeagg_hook(void *ctx, const struct pair_interval *iv)
{
	struct timeagg *t = ctx;

	if (iv->kind == PAIR_WAIT_BEGIN) {
		column(t, iv->start_ts);	/* t0: the first start */
		return 0;
	}
	timeagg_add(t, 0, iv);
	return 0;
}
