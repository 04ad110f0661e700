/* SPDX-License-Identifier: MIT */
/*
 * test-live: the windows of live.c (top, exporter) on hand-made event
 * streams fed through live_events() and live_tick() as the tracefs back-end
 * does: an
 * interval counts in the window in which it ends (a hold spanning a window
 * boundary pairs and lands in the later window), the watermark closes empty
 * windows, groups are zeroed between windows, lost events are per window,
 * groups by (memcg, mode) split the modes, and too many groups start
 * pairing afresh (memory bound).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "live.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

struct win {
	uint64_t acq, waits, wait_max, holds, hold_max, events, lost, groups;
};
static struct win wins[16];
static int nwin;

static int on_window(void *ctx, const struct window *win)
{
	struct win *w = &wins[nwin++];

	(void)ctx;
	memset(w, 0, sizeof(*w));
	for (struct agg_group **e = agg_tab_next(&win->agg->tab, NULL); e;
	     e = agg_tab_next(&win->agg->tab, e)) {
		const struct agg_group *g = *e;

		w->groups++;
		w->acq += g->acq_read + g->acq_write;
		w->waits += g->wait.count;
		w->holds += g->hold.count;
		if (g->wait.max > w->wait_max)
			w->wait_max = g->wait.max;
		if (g->hold.max > w->hold_max)
			w->hold_max = g->hold.max;
	}
	w->events = win->stats.events;
	w->lost = win->stats.lost;
	return nwin == 16;
}

static struct mml_event ev(uint64_t ts, int type, uint32_t tid, uint64_t mm, int flags)
{
	struct mml_event e;

	memset(&e, 0, sizeof(e));
	e.ts = ts;
	e.type = (uint8_t)type;
	e.tid = tid;
	e.mm = mm;
	e.memcg = 7;
	e.flags = (uint8_t)flags;
	return e;
}

static void tick(struct live *l, uint64_t wm, uint64_t lost)
{
	CHECK(live_tick(l, wm, lost, 0) == 0);
}

static const struct backend_sink sink = { .window = on_window };

int main(void)
{
	struct live l;
	struct mml_meta *meta = meta_new();
	const int S = MML_EV_START_LOCKING, A = MML_EV_ACQUIRE_RETURNED, R = MML_EV_RELEASED;
	const int OK = MML_F_SUCCESS;

	CHECK(live_init(&l, AGG_BY_MEMCG, 1000, meta, &sink) == 0);
	/* window 1 is [100, 1100): a wait of 100 in it, the hold ends at 1500 */
	struct mml_event a[] = {
		ev(100, S, 1, 0xa, 0), ev(200, A, 1, 0xa, OK),
		ev(300, S, 2, 0xb, 0), ev(350, A, 2, 0xb, OK), ev(400, R, 2, 0xb, 0),
		ev(1500, R, 1, 0xa, 0),		/* window 2: the hold 200 -> 1500 */
		ev(1600, S, 3, 0xc, 0),
	};
	CHECK(live_events(&l, a, 5) == 0);
	tick(&l, 900, 0);
	CHECK(nwin == 0);			/* 1100 not passed yet */
	tick(&l, 1000, 3);
	CHECK(live_events(&l, a + 5, 2) == 0);	/* closes window 1 */
	CHECK(nwin == 1);
	CHECK(wins[0].acq == 2 && wins[0].waits == 2 && wins[0].wait_max == 100);
	CHECK(wins[0].holds == 1 && wins[0].hold_max == 50);
	CHECK(wins[0].events == 5 && wins[0].lost == 3);
	tick(&l, 2099, 3);
	CHECK(nwin == 1);
	tick(&l, 3150, 10);			/* closes [1100,2100) and [2100,3100) */
	CHECK(nwin == 3);
	CHECK(wins[1].holds == 1 && wins[1].hold_max == 1300 && wins[1].acq == 0);
	CHECK(wins[1].events == 2 && wins[1].lost == 7);
	CHECK(wins[2].holds == 0 && wins[2].waits == 0 && wins[2].events == 0 && wins[2].lost == 0);
	CHECK(wins[2].groups == 1);		/* kept, zeroed */
	/* tid 3's wait, open since 1600, ends in window 4 */
	struct mml_event b[] = { ev(3200, A, 3, 0xc, OK), ev(3300, R, 3, 0xc, 0) };
	CHECK(live_events(&l, b, 2) == 0);
	tick(&l, 4100, 10);
	CHECK(nwin == 4 && wins[3].waits == 1 && wins[3].wait_max == 1600 && wins[3].holds == 1);
	/* the final tick does not close the window cut short */
	CHECK(live_tick(&l, UINT64_MAX, 10, 1) == 0 && nwin == 4);
	live_fini(&l);

	/* groups by (memcg, mode) (the exporter's), rewritten in chunks; tid 99's events not fed */
	nwin = 0;
	CHECK(live_init(&l, AGG_BY_MEMCG_MODE, 1000000000, meta, &sink) == 0);
	static struct mml_event km[3000];
	for (int i = 0; i < 1000; i++) {
		int w = i % 3 == 0 ? MML_F_WRITE : 0;
		km[3 * i] = ev((uint64_t)(10 + 3 * i), S, 5, 0xd, w);
		km[3 * i + 1] = ev((uint64_t)(11 + 3 * i), A, 5, 0xd, OK | w);
		km[3 * i + 2] = ev((uint64_t)(12 + 3 * i), R, 5, 0xd, w);
		if (i % 10 == 9)
			km[3 * i + 2].tid = 99;		/* dropped by the hook: the hold stays open */
	}
	static struct mml_event kept[3000];
	size_t nk = 0;
	for (int i = 0; i < 3000; i++)
		if (km[i].tid != 99)
			kept[nk++] = km[i];
	CHECK(live_events(&l, kept, nk) == 0);
	struct agg_group *gr = NULL, *gw = NULL;
	for (struct agg_group **e = agg_tab_next(&l.agg.tab, NULL); e; e = agg_tab_next(&l.agg.tab, e)) {
		if ((*e)->key == agg_key_memcg_mode(7, 0))
			gr = *e;
		if ((*e)->key == agg_key_memcg_mode(7, 1))
			gw = *e;
	}
	CHECK(l.agg.tab.n == 2 && gr && gw);
	CHECK(gw && gw->acq_write == 334 && gw->wait.count == 334);
	CHECK(gr && gr->acq_read == 666 && gr->wait.count == 666);
	/* a release dropped: the next acquisition is nested; 900 holds closed */
	CHECK(gr && gw && gr->hold.count + gw->hold.count == 900);
	CHECK(l.pair.um.nested == 99 && l.events == 2900);
	CHECK(gw && agg_key_memcg(gw->key) == 7 && agg_key_write(gw->key) == 1);
	char nm[64];
	CHECK(meta_set_memcg(meta, 7, "/a") == 0);
	CHECK(gw && !strcmp(agg_group_name(&l.agg, gw, nm, sizeof(nm)), "/a (write)"));
	live_fini(&l);

	/* too many groups at a window's end: pairing and aggregation start afresh */
	nwin = 0;
	CHECK(live_init(&l, AGG_BY_MM, 1000000, meta, &sink) == 0);
	static struct mml_event many[2 * (LIVE_MAX_GROUPS + 10)];
	for (int i = 0; i < LIVE_MAX_GROUPS + 10; i++) {
		many[2 * i] = ev((uint64_t)(10 + 2 * i), S, 5, 0x1000 + (uint64_t)i, 0);
		many[2 * i + 1] = ev((uint64_t)(11 + 2 * i), A, 5, 0x1000 + (uint64_t)i, OK);
	}
	CHECK(live_events(&l, many, sizeof(many) / sizeof(many[0])) == 0);
	tick(&l, 2000000, 0);
	CHECK(nwin == 1 && wins[0].groups == LIVE_MAX_GROUPS + 10 && wins[0].acq == LIVE_MAX_GROUPS + 10);
	CHECK(l.resets == 1 && l.agg.tab.n == 0);
	tick(&l, 3100000, 0);
	CHECK(nwin == 3 && wins[1].groups == 0 && wins[2].groups == 0);
	live_fini(&l);
	meta_free(meta);

	if (fails)
		return 1;
	printf("test-live: ok\n");
	return 0;
}
