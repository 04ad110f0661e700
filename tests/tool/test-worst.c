/* SPDX-License-Identifier: MIT */
/*
 * test-worst: the longest waits and their windows (worst.c) on intervals
 * built by hand: the heap keeps the N longest (ties: the earlier), and a
 * window crowded by thousands of short intervals before the wait still
 * holds the wait itself, the last ones before it, its holder (named) and
 * the count of those left out; the time grid (timeagg.c) rows and doubling.
 */
#include <stdio.h>
#include <stdlib.h>
#include "timeagg.h"
#include "worst.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static struct pair_interval iv(enum pair_kind k, uint32_t tid, uint64_t mm, uint64_t s, uint64_t e)
{
	struct pair_interval x = { .kind = k, .tid = tid, .mm = mm, .start_ts = s, .end_ts = e };
	return x;
}

static void heap(void)
{
	struct worst w;
	struct pair_interval x;

	if (worst_init(&w, 3))
		exit(1);
	for (uint64_t i = 0; i < 100; i++) {
		x = iv(PAIR_WAIT, 1, 1, i * 1000, i * 1000 + (i % 10) * 10);
		worst_hook(&w, &x);
	}
	worst_sort(&w);
	CHECK(w.n == 3);
	/* 90 ns waits at 9000, 19000, 29000 ...: the three earliest */
	CHECK(w.w[0].iv.start_ts == 9000 && w.w[1].iv.start_ts == 19000 && w.w[2].iv.start_ts == 29000);
	worst_fini(&w);
}

static void crowded_window(void)
{
	struct worst w;
	struct pair_interval x, wait = iv(PAIR_WAIT, 7, 0xc, 10000000, 20000000);
	size_t holder_kept = 0;

	if (worst_init(&w, 1))
		exit(1);
	worst_hook(&w, &wait);
	worst_sort(&w);
	/* 5000 short holds of task 8 before the wait, in its window (from 5 ms) */
	for (uint64_t i = 0; i < 5000; i++) {
		x = iv(PAIR_HOLD, 8, 0xc, 5000000 + i * 1000, 5000000 + i * 1000 + 500);
		worst_window_hook(&w, &x);
	}
	/* another mm: never in the window */
	x = iv(PAIR_HOLD, 9, 0xd, 12000000, 13000000);
	worst_window_hook(&w, &x);
	/* the holder: task 8 holds 9.9 ms to 20 ms; then the wait closes */
	x = iv(PAIR_HOLD, 8, 0xc, 9900000, 20000000);
	worst_window_hook(&w, &x);
	worst_window_hook(&w, &wait);
	worst_blame(&w);
	CHECK(w.w[0].nbefore == 5000);
	CHECK(w.w[0].dropped == 5000 - WORST_BEFORE);
	/* the ring holds the last WORST_BEFORE: the newest ended at 9 999 500 */
	CHECK(w.w[0].before[(w.w[0].nbefore - 1) % WORST_BEFORE].end_ts == 9999500);
	CHECK(w.w[0].nwin == 2);
	CHECK(w.w[0].holder >= 0 && w.w[0].win[w.w[0].holder].tid == 8 &&
	      w.w[0].holder_ns == 10000000);
	for (size_t k = 0; k < w.w[0].nwin; k++)
		holder_kept += w.w[0].win[k].tid == 7 && w.w[0].win[k].start_ts == 10000000;
	CHECK(holder_kept == 1);	/* the wait itself */
	worst_fini(&w);
}

static void grid(void)
{
	struct timeagg t;
	struct pair_interval x;

	CHECK(timeagg_row(999) == 0 && timeagg_row(1000) == 1 && timeagg_row(1413) == 1 &&
	      timeagg_row(1414) == 2 && timeagg_row(2000) == 3);
	for (unsigned r = 1; r + 1 < TIMEAGG_ROWS; r++)
		CHECK(timeagg_row(timeagg_row_lo(r)) == r && timeagg_row(timeagg_row_lo(r + 1) - 1) == r);
	if (timeagg_init(&t, 1))
		exit(1);
	/* 5 s: the width doubles from 1 ms to 32 ms; a 500 ms wait at 4 s in column 125 */
	x = iv(PAIR_WAIT_BEGIN, 1, 1, 0, 0);
	timeagg_hook(&t, &x);
	x = iv(PAIR_WAIT, 1, 1, 4000000000ull, 4500000000ull);
	timeagg_hook(&t, &x);
	x = iv(PAIR_HOLD, 1, 1, 4999000000ull, 5000000000ull);
	timeagg_hook(&t, &x);
	CHECK(t.width == 32000000 && t.ncols == 157);
	CHECK(t.grid[0][125].wait[timeagg_row(500000000)] == 1);
	CHECK(t.grid[0][156].hold[timeagg_row(1000000)] == 1);
	timeagg_fini(&t);
}

int main(void)
{
	heap();
	crowded_window();
	grid();
	if (fails)
		return 1;
	printf("test-worst: ok\n");
	return 0;
}
