/* SPDX-License-Identifier: MIT */
/*
 * live.c: windows over a live event stream (live.h): feeding the pairing,
 * window closing, and the memory bound.
 */
#include <string.h>
#include "live.h"

static void zero_groups(struct agg *a)
{
	for (struct agg_group **g = agg_tab_next(&a->tab, NULL); g; g = agg_tab_next(&a->tab, g))
		agg_group_reset(*g);
}

/* Broken sequences so far (pair.h's counters; open_at_end is only counted at the end). */
static uint64_t unmatched(const struct live *l)
{
	const struct pair_unmatched *u = &l->pair.um;

	return l->unmatched_before + u->release_without_acquire + u->restart + u->nested +
	       u->non_owner_releases + u->negative;
}

/* Pairing and aggregation afresh: the cached group pointers die with both. */
static int restart(struct live *l)
{
	l->unmatched_before = unmatched(l);
	l->non_owner_before += l->pair.um.non_owner_releases;
	pair_fini(&l->pair);
	agg_fini(&l->agg);
	l->resets++;
	if (pair_init(&l->pair) || agg_attach(&l->agg, &l->pair, l->by, l->meta)) {
		l->err = 1;
		return -1;
	}
	return 0;
}

static int close_window(struct live *l)
{
	struct window w = {
		.start_ns = l->win_end - l->win_ns, .len_ns = l->win_ns,
		.agg = &l->agg, .meta = l->meta,
	};
	int rc;

	w.total.events = l->events;
	w.total.lost = l->lost_total;
	w.total.unmatched = unmatched(l);
	w.total.non_owner = l->non_owner_before + l->pair.um.non_owner_releases;
	w.total.contention_marked = l->pair.contention_events != 0;
	w.stats = w.total;
	w.stats.events = l->events_win;
	w.stats.lost = l->lost_total - l->lost_win_start;
	w.stats.unmatched = w.total.unmatched - l->unmatched_win_start;
	rc = l->out.window ? l->out.window(l->out.ctx, &w) : 0;
	l->windows++;
	l->events_win = 0;
	l->lost_win_start = l->lost_total;
	l->unmatched_win_start = w.total.unmatched;
	l->win_end += l->win_ns;
	if (l->agg.tab.n > LIVE_MAX_GROUPS) {
		if (restart(l))
			return -1;
	} else {
		zero_groups(&l->agg);
	}
	return rc;
}

/* Into the pairing; by (memcg, mode): rewritten copies, a chunk at a time. */
static int feed(struct live *l, const struct mml_event *ev, size_t n)
{
	struct mml_event buf[256];
	size_t nb = 0;

	if (l->by != AGG_BY_MEMCG_MODE)
		return pair_feed(&l->pair, ev, n);
	for (size_t k = 0; k < n; k++) {
		buf[nb] = ev[k];
		if (ev[k].type != MML_EV_STACK)	/* a stack's memcg is its id (exporter --incidents) */
			buf[nb].memcg = agg_key_memcg_mode(ev[k].memcg, ev[k].flags & MML_F_WRITE);
		if (++nb == 256 || k + 1 == n) {
			if (pair_feed(&l->pair, buf, nb))
				return -1;
			nb = 0;
		}
	}
	return 0;
}

int live_events(struct live *l, const struct mml_event *ev, size_t n)
{
	size_t from = 0;

	if (!n)
		return 0;
	if (!l->win_end)
		l->win_end = ev[0].ts + l->win_ns;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && ev[i].ts < l->win_end)
			continue;
		/* feed [from, i), then close windows up to ev[i] */
		if (i > from) {
			if (feed(l, ev + from, i - from)) {
				l->err = 1;
				return -1;
			}
			l->events_win += i - from;
			l->events += i - from;
			l->last_ts = ev[i - 1].ts;
		}
		from = i;
		if (i == n)
			break;
		while (ev[i].ts >= l->win_end) {
			int rc = close_window(l);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int live_tick(struct live *l, uint64_t wm, uint64_t lost, int final)
{
	l->lost_total = lost;
	if (final)
		return 0;		/* a window cut short is not shown */
	if (wm == UINT64_MAX)		/* no clock to compare with: the stream itself */
		wm = l->last_ts;
	if (!l->win_end) {
		if (!wm)
			return 0;
		l->win_end = wm + l->win_ns;
	}
	while (wm >= l->win_end) {
		int rc = close_window(l);
		if (rc)
			return rc;
	}
	return 0;
}

int live_init(struct live *l, enum agg_by by, uint64_t win_ns, struct mml_meta *meta,
	      const struct backend_sink *out)
{
	memset(l, 0, sizeof(*l));
	l->by = by;
	l->win_ns = win_ns;
	l->meta = meta;
	if (out)
		l->out = *out;
	if (pair_init(&l->pair) || agg_attach(&l->agg, &l->pair, by, l->meta)) {
		live_fini(l);
		return -1;
	}
	return 0;
}

void live_fini(struct live *l)
{
	pair_fini(&l->pair);
	if (l->agg.tab.cap)
		agg_fini(&l->agg);
	memset(&l->agg, 0, sizeof(l->agg));
}
