/* SPDX-License-Identifier: MIT */
/*
 * test-merge: the live recorder's time merge (merge.c). Random per-CPU
 * streams (sorted, with ties, and one CPU slightly out of order) are pushed
 * in random slices and delivered below rising watermarks, as the recorder
 * does: everything comes out exactly once, in time order, never an event at
 * or above the watermark of its delivery, and a callback's stop is obeyed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "merge.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define NQ	4
#define PER	50000

struct sink {
	uint64_t last_ts, upto, n, sum_id;
	int order_bad, above_bad, calls, stop_after;
};

static int cb(void *ctx, const struct mml_event *ev, size_t n)
{
	struct sink *s = ctx;

	s->calls++;
	if (n == 0 || n > MERGE_CHUNK)
		s->order_bad++;
	for (size_t i = 0; i < n; i++) {
		if (ev[i].ts < s->last_ts)
			s->order_bad++;
		if (ev[i].ts >= s->upto)
			s->above_bad++;
		s->last_ts = ev[i].ts;
		s->sum_id += ev[i].mm;
		s->n++;
	}
	return s->stop_after && s->calls >= s->stop_after;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int main(void)
{
	static uint64_t ts[NQ][PER];
	struct merge m;
	struct sink s = { 0 };
	uint64_t seed = 88172645463325252ull, want_sum = 0, id = 1;
	size_t pos[NQ] = { 0 };

	for (int q = 0; q < NQ; q++) {
		uint64_t t = 1000 + q;
		for (int i = 0; i < PER; i++) {
			t += rnd(&seed) % (q == 3 ? 5000 : 1000);	/* CPU 3 is quieter */
			ts[q][i] = t;
		}
		/* CPU 1: a few neighbours swapped (the recorder sorts such a batch) */
		if (q == 1)
			for (int i = 10; i + 1 < PER; i += 997) {
				uint64_t x = ts[q][i];
				ts[q][i] = ts[q][i + 1];
				ts[q][i + 1] = x;
			}
	}
	CHECK(merge_init(&m, NQ) == 0);
	uint64_t wm = 0;
	for (int round = 0;; round++) {
		int left = 0;
		wm += 200000;
		/* push what each CPU has produced up to the watermark, plus a bit more */
		for (int q = 0; q < NQ; q++) {
			while (pos[q] < PER && ts[q][pos[q]] < wm + rnd(&seed) % 50000) {
				struct mml_event *e = merge_slot(&m, q);
				CHECK(e != NULL);
				memset(e, 0, sizeof(*e));
				e->ts = ts[q][pos[q]];
				e->mm = id;
				want_sum += id++;
				merge_commit(&m, q);
				pos[q]++;
			}
			left += pos[q] < PER;
		}
		s.upto = left ? wm : UINT64_MAX;
		CHECK(merge_deliver(&m, s.upto, cb, &s) == 0);
		if (!left)
			break;
		CHECK(round < 1000000);
	}
	for (int q = 0; q < NQ; q++)
		CHECK(merge_pending(&m, q) == 0);
	CHECK(s.n == (uint64_t)NQ * PER);
	CHECK(m.delivered == (uint64_t)NQ * PER);
	CHECK(s.sum_id == want_sum);
	CHECK(s.order_bad == 0);
	CHECK(s.above_bad == 0);
	merge_fini(&m);

	/* a callback that stops: delivery ends after that chunk, the rest stays */
	struct sink t = { .upto = UINT64_MAX, .stop_after = 1 };
	CHECK(merge_init(&m, 2) == 0);
	for (int i = 0; i < 3 * MERGE_CHUNK; i++) {
		struct mml_event *e = merge_slot(&m, i & 1);
		memset(e, 0, sizeof(*e));
		e->ts = (uint64_t)i;
		merge_commit(&m, i & 1);
	}
	CHECK(merge_deliver(&m, UINT64_MAX, cb, &t) == 1);
	CHECK(t.n == MERGE_CHUNK);
	CHECK(merge_pending(&m, 0) + merge_pending(&m, 1) == 2 * MERGE_CHUNK);
	t.stop_after = 0;
	CHECK(merge_deliver(&m, UINT64_MAX, cb, &t) == 0);
	CHECK(t.n == 3 * MERGE_CHUNK);
	CHECK(t.order_bad == 0);
	merge_fini(&m);

	if (fails)
		return 1;
	printf("test-merge: ok\n");
	return 0;
}
