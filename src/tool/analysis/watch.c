/* SPDX-License-Identifier: MIT */
/*
 * watch.c: the engine of `mmaplock watch` (watch.h): the ring of recent
 * events, lost-event spans, and crossing detection on the live pairing.
 * The incident (blame and its file) is in watch-incident.c, the stacks of
 * read holders from /proc in watch-probe.c (watch-local.h joins them).
 *
 * The ring keeps events back to the newest minus the horizon: before, plus
 * as much again (at least a second) because a crossing is seen at its end
 * and its window starts `before` ahead of its start. A longer crossing
 * still makes an incident, its window just starts where the ring does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "watch.h"
#include "watch-local.h"
#include "mml_writer.h"
#include "stacks.h"

#define RING_START	65536
#define MAX_WINDOW_NS	(60ull * 1000000000ull)	/* merged incidents: at most this long */

uint64_t watch_horizon(const struct watch *w)
{
	uint64_t extra = w->o.before_ns > 1000000000ull ? w->o.before_ns : 1000000000ull;

	return w->o.before_ns + extra;
}

/* ---------------------------------------------------------------- ring */

struct mml_event *watch_ring_at(const struct watch_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

static int ring_grow(struct watch_ring *r, size_t ncap)
{
	struct mml_event *n = malloc(ncap * sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		n[i] = *watch_ring_at(r, i);
	free(r->ev);
	r->ev = n;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

static void ring_pop(struct watch_ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

/* Old events out (those an open incident needs stay), e in; grown or the oldest dropped. */
static int ring_push(struct watch *w, const struct mml_event *e)
{
	struct watch_ring *r = &w->ring;
	uint64_t h = watch_horizon(w);
	uint64_t keep = e->ts > h ? e->ts - h : 0;

	if (w->open && w->inc_start < keep)
		keep = w->inc_start;
	while (r->n && watch_ring_at(r, 0)->ts < keep)
		ring_pop(r);
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : RING_START;
		if (ncap > w->o.max_events)
			ncap = w->o.max_events;
		if (ncap <= r->cap || ring_grow(r, ncap)) {
			ring_pop(r);		/* at the cap: the oldest goes, counted */
			w->ring_dropped++;
		}
	}
	r->ev[(r->head + r->n) % r->cap] = *e;
	r->n++;
	return 0;
}

/* ---------------------------------------------------------------- lost events */

#define LOSS_MAX	65536	/* spans kept; past it a new span widens the newest */

/* Is there a span of loss, on any CPU, that overlaps [s, e]? */
int watch_lost_in(const struct watch *w, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].from_ts <= e && w->loss[i].to_ts >= s)
			return 1;
	return 0;
}

/* Spans that ended before anything a crossing or an incident can still reach go. */
static void loss_prune(struct watch *w)
{
	uint64_t h = 2 * watch_horizon(w);
	uint64_t keep = w->newest_ts > h ? w->newest_ts - h : 0;
	size_t k = 0;

	if (w->open && w->inc_start < keep + watch_horizon(w))
		keep = w->inc_start > watch_horizon(w) ? w->inc_start - watch_horizon(w) : 0;
	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].to_ts >= keep)
			w->loss[k++] = w->loss[i];
	w->nloss = k;
}

void watch_lost(struct watch *w, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts)
{
	w->lost += count;
	if (w->nloss == w->loss_cap)
		loss_prune(w);
	if (w->nloss == w->loss_cap && w->loss_cap < LOSS_MAX) {
		size_t n = w->loss_cap ? w->loss_cap * 2 : 256;
		void *p = realloc(w->loss, n * sizeof(*w->loss));
		if (p) {
			w->loss = p;
			w->loss_cap = n;
		}
	}
	if (w->nloss == w->loss_cap) {
		if (!w->nloss)
			return;			/* no memory at all: counted, not placed */
		struct watch_loss *l = &w->loss[w->nloss - 1];	/* wider, never narrower */
		l->count += count;
		if (from_ts < l->from_ts)
			l->from_ts = from_ts;
		if (to_ts > l->to_ts)
			l->to_ts = to_ts;
		return;
	}
	w->loss[w->nloss++] = (struct watch_loss){ cpu, count, from_ts, to_ts };
}

/* ---------------------------------------------------------------- detection */

uint64_t watch_cross_len(const struct watch_crossing *c)
{
	return c->end_ts - c->start_ts;
}

/* Keep the incident's crossings; past WATCH_CROSSINGS, the longest. */
static void add_crossing(struct watch *w, const struct watch_crossing *c)
{
	unsigned k = 0;

	if (w->ncross < WATCH_CROSSINGS) {
		w->cross[w->ncross++] = *c;
		return;
	}
	for (unsigned i = 1; i < w->ncross; i++)
		if (watch_cross_len(&w->cross[i]) < watch_cross_len(&w->cross[k]))
			k = i;
	if (watch_cross_len(c) > watch_cross_len(&w->cross[k]))
		w->cross[k] = *c;
}

static void on_crossing(struct watch *w, const struct pair_interval *iv, int is_hold)
{
	uint64_t dur = iv->end_ts - iv->start_ts;
	struct watch_crossing c = { iv->tid, iv->mm, iv->start_ts, iv->end_ts, is_hold };

	w->crossings++;
	if (w->open) {
		uint64_t end = iv->end_ts + w->o.after_ns;
		/* known suspect already: named by it only if nothing better, the window not stretched */
		if (watch_lost_in(w, iv->start_ts, iv->end_ts))
			end = w->inc_end;
		if (end > w->inc_start + MAX_WINDOW_NS)
			end = w->inc_start + MAX_WINDOW_NS;
		if (end > w->inc_end)
			w->inc_end = end;
		if (dur > w->worst.end_ts - w->worst.start_ts)
			w->worst = c;
		add_crossing(w, &c);
		w->inc_crossings++;
		return;
	}
	if (w->o.max_incidents && w->incidents >= w->o.max_incidents)
		return;
	if (w->last_end_ts && iv->end_ts < w->last_end_ts + (uint64_t)(w->o.rate_limit_s * 1e9)) {
		w->suppressed++;
		return;
	}
	w->open = 1;
	w->inc_start = iv->start_ts > w->o.before_ns ? iv->start_ts - w->o.before_ns : 0;
	w->inc_end = iv->end_ts + w->o.after_ns;
	w->worst = c;
	w->ncross = 0;
	add_crossing(w, &c);
	w->inc_crossings = 1;
}

static int live_hook(void *ctx, const struct pair_interval *iv)
{
	struct watch *w = ctx;
	uint64_t dur = iv->end_ts - iv->start_ts;

	if ((iv->kind == PAIR_WAIT || iv->kind == PAIR_FAILED) && w->o.wait_over_ns &&
	    dur > w->o.wait_over_ns)
		on_crossing(w, iv, 0);
	else if (iv->kind == PAIR_HOLD && w->o.hold_over_ns && dur > w->o.hold_over_ns)
		on_crossing(w, iv, 1);
	return 0;
}

/* A contention stack carries the lock address: give it the mm of its task's open wait. */
static int fix_stack_mm(struct watch *w, struct mml_event *e)
{
	uint64_t *mm;

	switch (e->type) {
	case MML_EV_START_LOCKING:
		if (w->wait_mm.n > 65536) {	/* waits whose end was lost: start afresh */
			u64map_free(&w->wait_mm);
			u64map_free(&w->wait_ts);
		}
		if (!(mm = u64map_get(&w->wait_mm, e->tid, 1)))
			return -1;
		*mm = e->mm;
		if (!(mm = u64map_get(&w->wait_ts, e->tid, 1)))
			return -1;
		*mm = e->ts;
		break;
	case MML_EV_ACQUIRE_RETURNED:
		u64map_del(&w->wait_mm, e->tid);
		u64map_del(&w->wait_ts, e->tid);
		if (!(e->flags & MML_F_SUCCESS))
			break;
		if (w->hold_mm.n > 65536) {	/* holds whose release was lost */
			u64map_free(&w->hold_mm);
			u64map_free(&w->hold_ts);
		}
		if (!(mm = u64map_get(&w->hold_mm, e->tid, 1)))
			return -1;
		*mm = e->mm;
		if (!(mm = u64map_get(&w->hold_ts, e->tid, 1)))
			return -1;
		*mm = e->ts;
		break;
	case MML_EV_RELEASED:
		u64map_del(&w->hold_mm, e->tid);
		u64map_del(&w->hold_ts, e->tid);
		break;
	case MML_EV_STACK:
		if ((mm = u64map_get(&w->wait_mm, e->tid, 0)))
			e->mm = *mm;
		break;
	default:
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------- interface */

static int live_pairing(struct watch *w);

int watch_init(struct watch *w, const struct watch_opts *o, struct mml_meta *meta,
	       watch_cb cb, void *cb_ctx)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	if (!w->o.max_events)
		w->o.max_events = RING_START;
	w->meta = meta;
	w->cb = cb;
	w->cb_ctx = cb_ctx;
	return live_pairing(w);
}

void watch_fini(struct watch *w)
{
	pair_fini(&w->pair);
	u64map_free(&w->wait_mm);
	u64map_free(&w->wait_ts);
	u64map_free(&w->hold_mm);
	u64map_free(&w->hold_ts);
	u64map_free(&w->probed);
	free(w->loss);
	w->loss = NULL;
	free(w->ring.ev);
	w->ring.ev = NULL;
}

static int done(const struct watch *w)
{
	return w->o.max_incidents && w->incidents >= w->o.max_incidents;
}

int watch_events(struct watch *w, const struct mml_event *ev, size_t n)
{
	if (w->err)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct mml_event e = ev[i];

		if (fix_stack_mm(w, &e))
			return -1;
		if (e.ts > w->newest_ts)
			w->newest_ts = e.ts;
		if (w->open && e.ts > w->inc_end && watch_write_incident(w))
			return -1;
		if (done(w))
			return 1;
		ring_push(w, &e);
		if (!w->o.external && pair_feed(&w->pair, &e, 1))
			return -1;
	}
	return 0;
}

/* Subscribe the live crossing detection to a fresh pairing. */
static int live_pairing(struct watch *w)
{
	if (pair_init(&w->pair))
		return -1;
	if (pair_subscribe(&w->pair, live_hook, w, PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) |
						   PAIR_KIND(PAIR_HOLD))) {
		pair_fini(&w->pair);
		return -1;
	}
	return 0;
}

void watch_gap(struct watch *w, uint64_t lost)
{
	w->lost += lost;
	w->lost_pending += lost;
	pair_fini(&w->pair);
	u64map_free(&w->wait_mm);
	if (live_pairing(w))
		w->err = 1;
}

int watch_crossing(struct watch *w, uint32_t tid, uint64_t mm, uint64_t start_ts, uint64_t end_ts,
		   int is_hold)
{
	struct pair_interval iv = { .kind = is_hold ? PAIR_HOLD : PAIR_WAIT, .tid = tid, .mm = mm,
				    .start_ts = start_ts, .end_ts = end_ts };

	if (w->err)
		return -1;
	if (w->open && end_ts > w->inc_end && watch_write_incident(w))
		return -1;
	if (done(w))
		return 1;
	on_crossing(w, &iv, is_hold);
	return 0;
}

int watch_late_stack(struct watch *w, const struct mml_event *st)
{
	struct watch_ring *r = &w->ring;
	size_t i = r->n;

	while (i > 0 && watch_ring_at(r, i - 1)->ts >= st->ts)
		i--;
	if (!r->n || (i == 0 && watch_ring_at(r, 0)->ts != st->ts))
		return 0;		/* older than the ring */
	if (r->n == r->cap) {
		size_t ncap = r->cap * 2 > w->o.max_events ? w->o.max_events : r->cap * 2;
		if (ncap <= r->cap || ring_grow(r, ncap)) {
			if (!i)
				return 0;
			ring_pop(r);		/* at the cap: the oldest goes, counted */
			w->ring_dropped++;
			i--;
		}
	}
	for (size_t j = r->n; j > i; j--)
		*watch_ring_at(r, j) = *watch_ring_at(r, j - 1);
	*watch_ring_at(r, i) = *st;
	r->n++;
	return 0;
}

int watch_tick(struct watch *w, uint64_t now_ts)
{
	watch_probe_holders(w);
	if (w->open && now_ts > w->inc_end && watch_write_incident(w))
		return -1;
	return done(w);
}

void watch_finish(struct watch *w)
{
	if (w->open)
		watch_write_incident(w);
}
