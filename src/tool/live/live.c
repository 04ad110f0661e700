/* SPDX-License-Identifier: MIT */
/*
 * live.c: windows over the recorder's live event stream (live.h): the
 * record_sink callbacks, window closing, and the memory bound.
 */
#include <string.h>
#include "live.h"

static void zero_groups(struct agg *a)
{
	for (size_t i = 0; i < a->cap; i++) {
		if (a->g[i])
			agg_group_reset(a->g[i]);
	}
}

/* Pairing and aggregation afresh: the cached group pointers die with both. */
static int restart(struct live *l)
{
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
	int rc = l->close(l, l->win_ns, l->events_win, l->lost_total - l->lost_win_start);

	l->windows++;
	l->events_win = 0;
	l->lost_win_start = l->lost_total;
	l->win_end += l->win_ns;
	if (l->agg.n > LIVE_MAX_GROUPS) {
		if (restart(l))
			return -1;
	} else {
		zero_groups(&l->agg);
	}
	return rc;
}

static int on_events(void *ctx, const struct mml_event *ev, size_t n)
{
	struct live *l = ctx;
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
			if (l->key) {
				/* rewritten copies, fed a chunk at a time */
				struct mml_event buf[256];
				size_t nb = 0;
				for (size_t k = from; k < i; k++) {
					buf[nb] = ev[k];
					nb += l->key(l, &buf[nb]) == 0;
					if ((nb == 256 || k + 1 == i) && nb) {
						if (pair_feed(&l->pair, buf, nb)) {
							l->err = 1;
							return -1;
						}
						nb = 0;
					}
				}
			} else if (pair_feed(&l->pair, ev + from, i - from)) {
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

static void on_memcg(void *ctx, uint64_t id, const char *path)
{
	struct live *l = ctx;

	meta_set_memcg(l->meta, id, path);
}

static void on_task(void *ctx, const struct mml_task_info *t)
{
	struct live *l = ctx;

	meta_set_task(l->meta, t);
}

static void on_forget(void *ctx)
{
	struct live *l = ctx;

	meta_forget_tasks(l->meta);
}

static int on_tick(void *ctx, const struct record_tick *t)
{
	struct live *l = ctx;
	uint64_t wm = t->watermark;

	l->lost_total = t->lost;
	if (t->final)
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

int live_init(struct live *l, enum agg_by by, uint64_t win_ns, live_close_fn close, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->by = by;
	l->win_ns = win_ns;
	l->close = close;
	l->ctx = ctx;
	l->meta = meta_new();
	if (!l->meta)
		return -1;
	if (pair_init(&l->pair) || agg_attach(&l->agg, &l->pair, by, l->meta)) {
		live_fini(l);
		return -1;
	}
	l->sink.events = on_events;
	l->sink.memcg = on_memcg;
	l->sink.task = on_task;
	l->sink.forget_tasks = on_forget;
	l->sink.tick = on_tick;
	l->sink.ctx = l;
	return 0;
}

void live_fini(struct live *l)
{
	pair_fini(&l->pair);
	if (l->agg.g)
		agg_fini(&l->agg);
	meta_free(l->meta);
	l->meta = NULL;
}
