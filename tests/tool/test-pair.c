/* SPDX-License-Identifier: MIT */
/*
 * test-pair: the pairing state machine (pair.c) and the histograms (agg.c)
 * on hand-built event sequences: every hard case of docs/REPORT.md with its
 * counter, exact waits and holds, and the quantile error bound; the kernel
 * stack each interval carries (stack events, format 1.1); per-task state
 * of many tasks at once (contended marks, pending stacks) kept apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pair.h"
#include "agg.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define S MML_EV_START_LOCKING
#define A MML_EV_ACQUIRE_RETURNED
#define R MML_EV_RELEASED
#define CB MML_EV_CONTENTION_BEGIN
#define CE MML_EV_CONTENTION_END
#define W MML_F_WRITE
#define OK MML_F_SUCCESS

static struct agg agg;
static struct pair pair;

static void run(enum agg_by by, const struct mml_event *ev, size_t n)
{
	if (pair.tab.t) {
		pair_fini(&pair);
		agg_fini(&agg);
	}
	if (pair_init(&pair) || agg_attach(&agg, &pair, by, NULL))
		exit(1);
	/* feed one at a time and all at once must agree: feed in two halves */
	CHECK(pair_feed(&pair, ev, n / 2) == 0);
	CHECK(pair_feed(&pair, ev + n / 2, n - n / 2) == 0);
	pair_finish(&pair);
}

static struct agg_group *grp(uint64_t key)
{
	for (struct agg_group **e = agg_tab_next(&agg.tab, NULL); e; e = agg_tab_next(&agg.tab, e))
		if ((*e)->key == key)
			return *e;
	return NULL;
}

#define EV(ts_, tid_, mm_, type_, fl_) { .ts = ts_, .mm = mm_, .memcg = 7, .tid = tid_, .type = type_, .flags = fl_ }

static void test_basic(void)
{
	struct mml_event ev[] = {
		EV(1000, 1, 0xa, S, W), EV(1500, 1, 0xa, A, W | OK), EV(4500, 1, 0xa, R, W),
		EV(5000, 1, 0xa, S, 0), EV(5100, 1, 0xa, A, OK), EV(5300, 1, 0xa, R, 0),
	};
	run(AGG_BY_TASK, ev, 6);
	struct agg_group *g = grp(1);
	CHECK(g && g->acq_write == 1 && g->acq_read == 1 && g->failed == 0);
	CHECK(g && g->wait.count == 2 && g->wait.total == 600 && g->wait.max == 500);
	CHECK(g && g->hold.count == 2 && g->hold.total == 3200 && g->hold.max == 3000);
	CHECK(pair.um.open_at_end == 0 && pair.um.release_without_acquire == 0);
}

static void test_two_mms(void)
{
	/* one task (fork: parent's and child's mm) holds two mms at once */
	struct mml_event ev[] = {
		EV(100, 1, 0xa, S, W), EV(110, 1, 0xa, A, W | OK),
		EV(120, 1, 0xb, S, W), EV(150, 1, 0xb, A, W | OK),
		EV(200, 1, 0xb, R, W), EV(400, 1, 0xa, R, W),
	};
	run(AGG_BY_MM, ev, 6);
	struct agg_group *a = grp(0xa), *b = grp(0xb);
	CHECK(a && a->hold.total == 290 && a->wait.total == 10);
	CHECK(b && b->hold.total == 50 && b->wait.total == 30);
	CHECK(pair.um.release_without_acquire == 0 && pair.um.open_at_end == 0);
}

static void test_downgrade(void)
{
	struct mml_event ev[] = {
		EV(100, 1, 0xa, S, W), EV(150, 1, 0xa, A, W | OK),
		EV(300, 1, 0xa, A, OK),			/* mmap_write_downgrade */
		EV(900, 1, 0xa, R, 0),			/* mmap_read_unlock */
	};
	run(AGG_BY_TASK, ev, 4);
	struct agg_group *g = grp(1);
	CHECK(g && g->acq_write == 1 && g->acq_read == 0 && g->downgrades == 1);
	CHECK(g && g->hold.count == 1 && g->hold.total == 750);
	CHECK(g && g->trylocks == 0);
	CHECK(pair.um.nested == 0 && pair.um.open_at_end == 0);
}

static void test_non_owner(void)
{
	/* task 1 read-locks, task 2 releases it (mmap_read_unlock_non_owner) */
	struct mml_event ev[] = {
		EV(100, 1, 0xa, S, 0), EV(110, 1, 0xa, A, OK),
		EV(120, 3, 0xa, S, 0), EV(130, 3, 0xa, A, OK),
		EV(500, 2, 0xa, R, 0),		/* closes the oldest: task 1's */
		EV(600, 3, 0xa, R, 0),
	};
	run(AGG_BY_TASK, ev, 6);
	CHECK(pair.um.non_owner_releases == 1 && pair.um.release_without_acquire == 0);
	CHECK(grp(1) && grp(1)->hold.total == 390);
	CHECK(grp(3) && grp(3)->hold.total == 470);
	CHECK(!grp(2));
	CHECK(pair.um.open_at_end == 0);
}

static void test_mid_trace(void)
{
	/* trace starts mid-hold (release first) and ends mid-hold and mid-wait */
	struct mml_event ev[] = {
		EV(100, 1, 0xa, R, W),
		EV(200, 1, 0xa, S, 0), EV(250, 1, 0xa, A, OK),
		EV(300, 2, 0xa, S, W),
	};
	run(AGG_BY_TASK, ev, 4);
	CHECK(pair.um.release_without_acquire == 1);
	CHECK(pair.um.open_at_end == 2 && pair.um.open_waits_at_end == 1 &&
	      pair.um.open_holds_at_end == 1);
	CHECK(grp(1) && grp(1)->hold.count == 0 && grp(1)->acq_read == 1);
}

static void test_restart_and_fallback(void)
{
	/* two start_locking in a row (an answer was lost): first wait dropped */
	struct mml_event ev[] = {
		EV(100, 1, 0xa, S, 0), EV(200, 1, 0xa, S, 0), EV(260, 1, 0xa, A, OK), EV(300, 1, 0xa, R, 0),
		/* the fault fall-back: killable attempt fails, then a plain lock */
		EV(1000, 2, 0xb, S, 0), EV(1010, 2, 0xb, A, 0),
		EV(1100, 2, 0xb, S, 0), EV(1150, 2, 0xb, A, OK), EV(1200, 2, 0xb, R, 0),
	};
	run(AGG_BY_TASK, ev, 9);
	CHECK(pair.um.restart == 1);
	CHECK(grp(1) && grp(1)->wait.count == 1 && grp(1)->wait.total == 60);
	CHECK(grp(2) && grp(2)->failed == 1 && grp(2)->acq_read == 1 && grp(2)->wait.total == 50);
	CHECK(pair.um.restart == 1 && pair.um.open_at_end == 0);
}

static void test_negative_and_trylock(void)
{
	struct mml_event ev[] = {
		EV(500, 1, 0xa, S, 0), EV(400, 1, 0xa, A, OK),	/* clock went back: no wait */
		EV(600, 1, 0xa, R, 0),
		EV(700, 2, 0xa, A, OK), EV(900, 2, 0xa, R, 0),	/* trylock success */
		EV(950, 2, 0xa, A, 0),				/* trylock failure */
	};
	run(AGG_BY_TASK, ev, 6);
	CHECK(pair.um.negative == 1);
	CHECK(grp(1) && grp(1)->wait.count == 0 && grp(1)->hold.total == 200);
	CHECK(grp(2) && grp(2)->trylocks == 1 && grp(2)->acq_read == 1 && grp(2)->failed == 1 &&
	      grp(2)->hold.total == 200 && grp(2)->wait.count == 0);
}

static void test_contention(void)
{
	struct mml_event ev[] = {
		EV(100, 1, 0xa, S, W), EV(110, 1, 0x999, CB, W), EV(5000, 1, 0x999, CE, 0),
		EV(5010, 1, 0xa, A, W | OK), EV(6000, 1, 0xa, R, W),
		EV(7000, 1, 0xa, S, 0), EV(90000, 1, 0xa, A, OK), EV(91000, 1, 0xa, R, 0),
		EV(92000, 4, 0x999, CB, 0),	/* outside any wait */
	};
	run(AGG_BY_TASK, ev, 9);
	/* contention events present: only the marked wait counts, not the long one */
	CHECK(grp(1) && grp(1)->contended_marked == 1 && grp(1)->contended_long == 1);
	CHECK(pair.contention_events == 3 && pair.contention_other == 1 &&
	      pair.um.contention_unmatched == 1);
	CHECK(grp(1) && grp(1)->contended_long == 1);
}

/*
 * N waits open at once, each with a lock:contention_begin inside: every one
 * is contended, whatever the tids. Tids t and t + 256 both appear, and with
 * more than 256 tasks any cache of 256 entries by tid puts two in one
 * entry: per-task state must be keyed by the whole tid.
 */
#define NCOLL 300
static uint32_t coll_tid(unsigned i)
{
	return 1000 + i / 2 + (i & 1) * 256;
}

static void test_contention_collide(void)
{
	struct mml_event *ev = calloc(5 * NCOLL, sizeof(*ev));
	size_t n = 0;

	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(100 + i, coll_tid(i), 0x10 + i % 7, S, W);
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(1000 + i, coll_tid(i), 0x999, CB, W);
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(2000 + i, coll_tid(i), 0x999, CE, 0);
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(3000 + i, coll_tid(i), 0x10 + i % 7, A, W | OK);
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(4000 + i, coll_tid(i), 0x10 + i % 7, R, W);
	run(AGG_BY_MEMCG, ev, n);
	CHECK(grp(7) && grp(7)->wait.count == NCOLL && grp(7)->contended_marked == NCOLL);
	CHECK(pair.contention_events == 2 * NCOLL && pair.contention_other == 0 &&
	      pair.um.contention_unmatched == 0);

	/*
	 * Two tasks only: B's start_locking between A's and A's
	 * contention_begin. Tids 5 and 238 shared an entry of the 256-entry
	 * cache ((tid * 2654435761) >> 24) that the per-task map replaced.
	 */
	struct mml_event two[] = {
		EV(100, 5, 0xa, S, W), EV(110, 238, 0xb, S, W),
		EV(120, 5, 0x999, CB, W), EV(130, 238, 0x998, CB, W),
		EV(140, 5, 0x999, CE, 0), EV(150, 238, 0x998, CE, 0),
		EV(200, 5, 0xa, A, W | OK), EV(210, 238, 0xb, A, W | OK),
	};
	run(AGG_BY_TASK, two, sizeof(two) / sizeof(two[0]));
	CHECK(grp(5) && grp(5)->contended_marked == 1);
	CHECK(grp(238) && grp(238)->contended_marked == 1);
	CHECK(pair.contention_other == 0);
	free(ev);
}

/* 100000 waits open at once, then their contention: the tid map's rebuilds keep open waits */
static void test_contention_many(void)
{
	enum { N = 100000 };
	struct mml_event *ev = calloc(3 * N, sizeof(*ev));
	for (uint32_t i = 0; i < N; i++) {
		ev[i] = (struct mml_event)EV(i, i + 1, 0x10 + (i % 7), S, 0);
		ev[N + i] = (struct mml_event)EV(N + i, i + 1, 0x999, CB, 0);
		ev[2 * N + i] = (struct mml_event)EV(2 * N + i, i + 1, 0x10 + (i % 7), A, OK);
	}
	run(AGG_BY_MEMCG, ev, 3 * N);
	CHECK(grp(7) && grp(7)->wait.count == N && grp(7)->contended_marked == N);
	CHECK(pair.contention_other == 0);
	free(ev);
}

static void test_many_states(void)
{
	/* 100000 tasks open and close: the table must shrink back (deletion correct) */
	enum { N = 100000 };
	struct mml_event *ev = calloc(3 * N, sizeof(*ev));
	for (uint32_t i = 0; i < N; i++) {
		ev[i] = (struct mml_event)EV(i, i + 1, 0x10 + (i % 7), S, 0);
		ev[N + i] = (struct mml_event)EV(N + i, i + 1, 0x10 + (i % 7), A, OK);
		ev[2 * N + i] = (struct mml_event)EV(3 * N - i, N - i, 0x10 + ((N - 1 - i) % 7), R, 0);
	}
	run(AGG_BY_MEMCG, ev, 3 * N);
	struct agg_group *g = grp(7);
	CHECK(pair.um.open_at_end == 0 && pair.um.release_without_acquire == 0);
	CHECK(g && g->acq_read == N && g->wait.count == N && g->wait.total == (uint64_t)N * N);
	CHECK(g && g->hold.count == N && g->wait.max == N);
	free(ev);
}

static void test_bounded(void)
{
	/* 1 M distinct (task, mm) sequences, each closed before the next opens:
	 * closed states are dropped at rebuilds, so the table stays small */
	enum { N = 1000000 };
	struct mml_event ev[3];
	run(AGG_BY_MEMCG, ev, 0);
	for (uint32_t i = 0; i < N; i++) {
		ev[0] = (struct mml_event)EV(3 * i, i + 1, 0x1000 + i, S, 0);
		ev[1] = (struct mml_event)EV(3 * i + 1, i + 1, 0x1000 + i, A, OK);
		ev[2] = (struct mml_event)EV(3 * i + 2, i + 1, 0x1000 + i, R, 0);
		CHECK(pair_feed(&pair, ev, 3) == 0);
	}
	pair_finish(&pair);
	CHECK(pair.tab.cap <= 65536);	/* PAIR_IDLE_SLOTS */
	CHECK(pair.tids.m.cap <= 65536);	/* TIDMAP_IDLE_SLOTS: closed waits dropped */
	CHECK(grp(7) && grp(7)->hold.count == N && grp(7)->hold.total == N && pair.um.open_at_end == 0);
}

static void test_hist(void)
{
	struct hist *h = calloc(1, sizeof(*h));
	uint64_t lo, w, prev_end = 0;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {	/* buckets tile the range */
		hist_bucket_range(i, &lo, &w);
		CHECK(lo == prev_end);
		if (lo != prev_end)
			break;
		prev_end = lo + w;
	}
	for (uint64_t v = 1; v < (1ull << 40); v = v * 3 + 1) {
		hist_fini(h);
		hist_add(h, v);
		hist_add(h, v + 10000000000ull);
		uint64_t q = hist_quantile(h, 0.5);
		double err = (double)(q > v ? q - v : v - q) / (double)v;
		CHECK(err <= 1.0 / 64 + 1e-9);
	}
	hist_fini(h);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(h, v * 1000);
	CHECK(h->total == 500500000 && h->max == 1000000 && h->count == 1000);
	uint64_t p50 = hist_quantile(h, 0.5), p99 = hist_quantile(h, 0.99);
	CHECK(p50 >= 500000 * 63 / 64 && p50 <= 500000 * 65 / 64);
	CHECK(p99 >= 990000 * 63 / 64 && p99 <= 990000 * 65 / 64);
	uint64_t log2_us[HIST_LOG2_US];
	hist_log2_us(h, log2_us);
	CHECK(log2_us[9] == 489 && log2_us[8] == 256 && log2_us[0] == 1);	/* [512,1000], [256,511], {1} */
	hist_fini(h);
	free(h);
}

/* The interval hook: every interval reported, in order, with its fields. */
static struct pair_interval got[64];
static int ngot;

static int hook(void *ctx, const struct pair_interval *iv)
{
	CHECK(ctx == &ngot);
	if (ngot < 64)
		got[ngot++] = *iv;
	return 0;
}

static void test_hook(void)
{
	struct mml_event ev[] = {
		EV(1000, 1, 0xa, S, W), EV(1500, 1, 0xa, A, W | OK),	/* wait 500, hold */
		EV(1600, 2, 0xa, S, 0), EV(2000, 1, 0xa, A, OK),	/* downgrade */
		EV(2500, 1, 0xa, R, 0),					/* hold 1000, downgraded */
		EV(2600, 2, 0xa, A, OK), EV(2700, 3, 0xa, A, OK),	/* wait 1000; trylock */
		EV(2800, 9, 0xa, R, 0),					/* non-owner: closes tid 2's */
		EV(3000, 3, 0xa, R, 0),
		EV(3100, 4, 0xb, S, W), EV(3300, 4, 0xb, A, W),		/* failed */
		EV(3400, 5, 0xb, S, 0), EV(3350, 5, 0xb, A, OK),	/* negative: dropped */
		EV(3500, 4, 0xb, A, W),					/* failed trylock */
		EV(3600, 4, 0xb, S, 0), EV(3700, 4, 0xb, S, 0),	/* restart: replaced */
	};
	if (pair.tab.t) {
		pair_fini(&pair);
		agg_fini(&agg);
	}
	if (pair_init(&pair) || agg_attach(&agg, &pair, AGG_BY_TASK, NULL))
		exit(1);
	if (pair_subscribe(&pair, hook, &ngot, PAIR_INTERVALS))
		exit(1);
	CHECK(pair_feed(&pair, ev, sizeof(ev) / sizeof(ev[0])) == 0);
	pair_finish(&pair);
	struct { enum pair_kind k; uint32_t tid; uint64_t s, e; int w, dg, try, no; } want[] = {
		{ PAIR_WAIT_BEGIN, 1, 1000, 0, 1, 0, 0, 0 },
		{ PAIR_WAIT, 1, 1000, 1500, 1, 0, 0, 0 },
		{ PAIR_HOLD_BEGIN, 1, 1500, 0, 1, 0, 0, 0 },
		{ PAIR_WAIT_BEGIN, 2, 1600, 0, 0, 0, 0, 0 },
		{ PAIR_HOLD, 1, 1500, 2500, 1, 1, 0, 0 },
		{ PAIR_WAIT, 2, 1600, 2600, 0, 0, 0, 0 },
		{ PAIR_HOLD_BEGIN, 2, 2600, 0, 0, 0, 0, 0 },
		{ PAIR_HOLD_BEGIN, 3, 2700, 0, 0, 0, 1, 0 },
		{ PAIR_HOLD, 2, 2600, 2800, 0, 0, 0, 1 },
		{ PAIR_HOLD, 3, 2700, 3000, 0, 0, 1, 0 },
		{ PAIR_WAIT_BEGIN, 4, 3100, 0, 1, 0, 0, 0 },
		{ PAIR_FAILED, 4, 3100, 3300, 1, 0, 0, 0 },
		{ PAIR_WAIT_BEGIN, 5, 3400, 0, 0, 0, 0, 0 },
		{ PAIR_WAIT_DROPPED, 5, 3400, 3350, 0, 0, 0, 0 },
		{ PAIR_HOLD_BEGIN, 5, 3350, 0, 0, 0, 0, 0 },
		{ PAIR_FAILED, 4, 3500, 3500, 1, 0, 1, 0 },
		{ PAIR_WAIT_BEGIN, 4, 3600, 0, 0, 0, 0, 0 },
		{ PAIR_WAIT_BEGIN, 4, 3700, 0, 0, 0, 0, 0 },
	};
	int n = (int)(sizeof(want) / sizeof(want[0]));
	CHECK(ngot == n);
	CHECK(ngot == n && got[n - 1].replaced && !got[n - 2].replaced && !got[2].replaced);
	for (int i = 0; i < n && i < ngot; i++) {
		const struct pair_interval *g = &got[i];
		if (g->kind != want[i].k || g->tid != want[i].tid || g->start_ts != want[i].s ||
		    g->end_ts != want[i].e || g->write != want[i].w || g->downgraded != want[i].dg ||
		    g->trylock != want[i].try || g->non_owner != want[i].no ||
		    g->memcg != 7 || g->mm != (want[i].tid >= 4 ? 0xb : 0xa)) {
			fprintf(stderr, "interval %d: kind %d tid %u [%llu, %llu] w%d dg%d try%d no%d\n",
				i, g->kind, g->tid, (unsigned long long)g->start_ts,
				(unsigned long long)g->end_ts, g->write, g->downgraded, g->trylock,
				g->non_owner);
			fails++;
		}
	}
	/* the histograms are unchanged by the hook */
	CHECK(grp(1)->wait.total == 500 && grp(1)->hold.total == 1000);
	CHECK(grp(2)->wait.total == 1000 && grp(2)->hold.total == 200);
}

/*
 * Stack events (type 6): each goes to the next lock event of its task when
 * that is on the same mm. Waits carry start_locking's stack, else
 * acquire_returned's; holds acquire_returned's.
 */
#define ST(ts_, tid_, mm_, id_) { .ts = ts_, .mm = mm_, .memcg = id_, .tid = tid_, .type = MML_EV_STACK }

static void test_stacks(void)
{
	struct mml_event ev[] = {
		/* tid 1: both; tid 7's stack and event in between (another slot) */
		ST(100, 1, 0xa, 11), ST(100, 7, 0xc, 71), EV(100, 1, 0xa, S, W), EV(100, 7, 0xc, S, 0),
		ST(150, 1, 0xa, 12), EV(150, 1, 0xa, A, W | OK), EV(300, 1, 0xa, R, W),
		EV(310, 7, 0xc, A, OK), EV(320, 7, 0xc, R, 0),
		/* tid 2: on start_locking only */
		ST(400, 2, 0xa, 21), EV(400, 2, 0xa, S, 0), EV(450, 2, 0xa, A, OK), EV(500, 2, 0xa, R, 0),
		/* tid 3: on acquire_returned only */
		EV(600, 3, 0xa, S, 0), ST(650, 3, 0xa, 31), EV(650, 3, 0xa, A, OK), EV(700, 3, 0xa, R, 0),
		/* tid 4: a stack for mm 0xa followed by an event on 0xb: not taken, and gone */
		ST(800, 4, 0xa, 41), EV(800, 4, 0xb, S, 0), EV(850, 4, 0xb, A, OK),
		EV(900, 4, 0xa, S, 0), EV(950, 4, 0xa, A, OK), EV(960, 4, 0xa, R, 0), EV(970, 4, 0xb, R, 0),
		/* tid 5: a trylock hold */
		ST(1000, 5, 0xa, 51), EV(1000, 5, 0xa, A, OK), EV(1100, 5, 0xa, R, 0),
		/* tid 6: a failed trylock, then a failed wait */
		ST(1200, 6, 0xb, 61), EV(1200, 6, 0xb, A, 0),
		ST(1300, 6, 0xb, 62), EV(1300, 6, 0xb, S, W), ST(1350, 6, 0xb, 63), EV(1350, 6, 0xb, A, W),
		/* tid 8: a stack on released is taken there, not by the next acquisition */
		EV(1400, 8, 0xa, A, OK), ST(1500, 8, 0xa, 81), EV(1500, 8, 0xa, R, 0),
		EV(1600, 8, 0xa, A, OK), EV(1700, 8, 0xa, R, 0),
	};
	struct { enum pair_kind k; uint32_t tid; uint64_t s, e; uint32_t stack; int try; } want[] = {
		{ PAIR_WAIT_BEGIN, 1, 100, 0, 11, 0 },
		{ PAIR_WAIT_BEGIN, 7, 100, 0, 71, 0 },
		{ PAIR_WAIT, 1, 100, 150, 11, 0 },
		{ PAIR_HOLD_BEGIN, 1, 150, 0, 12, 0 },
		{ PAIR_HOLD, 1, 150, 300, 12, 0 },
		{ PAIR_WAIT, 7, 100, 310, 71, 0 },
		{ PAIR_HOLD_BEGIN, 7, 310, 0, 0, 0 },
		{ PAIR_HOLD, 7, 310, 320, 0, 0 },
		{ PAIR_WAIT_BEGIN, 2, 400, 0, 21, 0 },
		{ PAIR_WAIT, 2, 400, 450, 21, 0 },
		{ PAIR_HOLD_BEGIN, 2, 450, 0, 0, 0 },
		{ PAIR_HOLD, 2, 450, 500, 0, 0 },
		{ PAIR_WAIT_BEGIN, 3, 600, 0, 0, 0 },
		{ PAIR_WAIT, 3, 600, 650, 31, 0 },
		{ PAIR_HOLD_BEGIN, 3, 650, 0, 31, 0 },
		{ PAIR_HOLD, 3, 650, 700, 31, 0 },
		{ PAIR_WAIT_BEGIN, 4, 800, 0, 0, 0 },
		{ PAIR_WAIT, 4, 800, 850, 0, 0 },
		{ PAIR_HOLD_BEGIN, 4, 850, 0, 0, 0 },
		{ PAIR_WAIT_BEGIN, 4, 900, 0, 0, 0 },
		{ PAIR_WAIT, 4, 900, 950, 0, 0 },
		{ PAIR_HOLD_BEGIN, 4, 950, 0, 0, 0 },
		{ PAIR_HOLD, 4, 950, 960, 0, 0 },
		{ PAIR_HOLD, 4, 850, 970, 0, 0 },
		{ PAIR_HOLD_BEGIN, 5, 1000, 0, 51, 1 },
		{ PAIR_HOLD, 5, 1000, 1100, 51, 1 },
		{ PAIR_FAILED, 6, 1200, 1200, 61, 1 },
		{ PAIR_WAIT_BEGIN, 6, 1300, 0, 62, 0 },
		{ PAIR_FAILED, 6, 1300, 1350, 62, 0 },
		{ PAIR_HOLD_BEGIN, 8, 1400, 0, 0, 1 },
		{ PAIR_HOLD, 8, 1400, 1500, 0, 1 },
		{ PAIR_HOLD_BEGIN, 8, 1600, 0, 0, 1 },
		{ PAIR_HOLD, 8, 1600, 1700, 0, 1 },
	};
	size_t nev = sizeof(ev) / sizeof(ev[0]), nst = 0;
	int n = (int)(sizeof(want) / sizeof(want[0]));

	for (size_t i = 0; i < nev; i++)
		nst += ev[i].type == MML_EV_STACK;
	/* every split point (a stack and its event in different batches included) */
	for (size_t cut = 0; cut <= nev; cut++) {
		if (pair.tab.t) {
			pair_fini(&pair);
			agg_fini(&agg);
		}
		if (pair_init(&pair) || agg_attach(&agg, &pair, AGG_BY_TASK, NULL))
			exit(1);
		ngot = 0;
		if (pair_subscribe(&pair, hook, &ngot, PAIR_INTERVALS))
			exit(1);
		CHECK(pair_feed(&pair, ev, cut) == 0);
		CHECK(pair_feed(&pair, ev + cut, nev - cut) == 0);
		pair_finish(&pair);
		CHECK(ngot == n);
		for (int i = 0; i < n && i < ngot; i++) {
			const struct pair_interval *g = &got[i];
			if (g->kind != want[i].k || g->tid != want[i].tid || g->start_ts != want[i].s ||
			    g->end_ts != want[i].e || g->stack != want[i].stack ||
			    g->trylock != want[i].try || g->memcg != 7) {
				fprintf(stderr, "cut %zu interval %d: kind %d tid %u [%llu, %llu] stack %u try%d\n",
					cut, i, g->kind, g->tid, (unsigned long long)g->start_ts,
					(unsigned long long)g->end_ts, g->stack, g->trylock);
				fails++;
			}
		}
		/* stack events are not lock events: not counted, no effect on the figures */
		CHECK(pair.events == nev - nst && pair.stack_events == nst && nst == 11);
		CHECK(grp(1) && grp(1)->wait.total == 50 && grp(1)->hold.total == 150);
		CHECK(grp(6) && grp(6)->failed == 2 && grp(6)->wait.count == 0);
		CHECK(grp(8) && grp(8)->trylocks == 2 && grp(8)->hold.total == 200);
		CHECK(pair.um.open_at_end == 0 && pair.um.release_without_acquire == 0);
	}
}

/* Stacks of many tasks pending at once: each wait gets its own task's (id = tid). */
static int stack_ok, stack_bad;

static int stack_hook(void *ctx, const struct pair_interval *iv)
{
	if (iv->kind == PAIR_WAIT_BEGIN) {
		stack_ok += iv->stack == iv->tid;
		stack_bad += iv->stack != iv->tid;
	}
	return 0;
}

static void test_stacks_collide(void)
{
	struct mml_event ev[2 * NCOLL];
	size_t n = 0;

	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)ST(100, coll_tid(i), 0xa, coll_tid(i));
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(200 + i, coll_tid(i), 0xa, S, 0);
	if (pair.tab.t) {
		pair_fini(&pair);
		agg_fini(&agg);
	}
	if (pair_init(&pair) || agg_attach(&agg, &pair, AGG_BY_TASK, NULL))
		exit(1);
	if (pair_subscribe(&pair, stack_hook, NULL, PAIR_INTERVALS))
		exit(1);
	CHECK(pair_feed(&pair, ev, n) == 0);
	CHECK(stack_ok == NCOLL && stack_bad == 0);
}

int main(void)
{
	test_basic();
	test_two_mms();
	test_downgrade();
	test_non_owner();
	test_mid_trace();
	test_restart_and_fallback();
	test_negative_and_trylock();
	test_contention();
	test_contention_collide();
	test_contention_many();
	test_many_states();
	test_bounded();
	test_hist();
	test_hook();
	test_stacks();
	test_stacks_collide();
	pair_fini(&pair);
	agg_fini(&agg);
	if (fails) {
		fprintf(stderr, "test-pair: %d checks failed\n", fails);
		return 1;
	}
	printf("test-pair: ok\n");
	return 0;
}
