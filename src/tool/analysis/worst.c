/* SPDX-License-Identifier: MIT */
/*
 * worst.c: the longest waits and their windows (worst.h).
 */
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "worst.h"

int worst_init(struct worst *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max < 1 ? 1 : max > WORST_MAX ? WORST_MAX : max;
	w->w = calloc(w->max, sizeof(*w->w));
	return w->w ? 0 : -1;
}

void worst_fini(struct worst *w)
{
	for (size_t i = 0; w->w && i < w->n; i++) {
		free(w->w[i].win);
		free(w->w[i].before);
	}
	free(w->w);
	memset(w, 0, sizeof(*w));
}

static uint64_t dur(const struct pair_interval *iv)
{
	return iv->end_ts - iv->start_ts;
}

/* a is worse than b: longer; equal: earlier, then the lower tid */
static int worse(const struct pair_interval *a, const struct pair_interval *b)
{
	if (dur(a) != dur(b))
		return dur(a) > dur(b);
	if (a->start_ts != b->start_ts)
		return a->start_ts < b->start_ts;
	return a->tid < b->tid;
}

/* Restore the heap (root: the least bad kept) below i. */
static void sift_down(struct worst *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->n && worse(&w->w[m].iv, &w->w[l].iv))
			m = l;
		if (r < w->n && worse(&w->w[m].iv, &w->w[r].iv))
			m = r;
		if (m == i)
			return;
		struct worst_wait t = w->w[i];
		w->w[i] = w->w[m];
		w->w[m] = t;
		i = m;
	}
}

static void sift_up(struct worst *w, size_t i)
{
	while (i && worse(&w->w[(i - 1) / 2].iv, &w->w[i].iv)) {
		struct worst_wait t = w->w[i];
		w->w[i] = w->w[(i - 1) / 2];
		w->w[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

int worst_hook(void *ctx, const struct pair_interval *iv)
{
	struct worst *w = ctx;

	if (iv->kind == PAIR_FAILED && iv->trylock)
		return 0;		/* a failed trylock: nobody waited */
	if (w->n < w->max) {
		w->w[w->n].iv = *iv;
		w->w[w->n].iv.slot = NULL;
		sift_up(w, w->n++);
	} else if (worse(iv, &w->w[0].iv)) {
		w->w[0].iv = *iv;
		w->w[0].iv.slot = NULL;
		sift_down(w, 0);
	}
	return 0;
}

static int cmp_worse(const void *a, const void *b)
{
	const struct worst_wait *x = a, *y = b;

	return worse(&x->iv, &y->iv) ? -1 : worse(&y->iv, &x->iv);
}

void worst_sort(struct worst *w)
{
	qsort(w->w, w->n, sizeof(*w->w), cmp_worse);
	for (size_t i = 0; i < w->n; i++) {
		struct worst_wait *x = &w->w[i];
		uint64_t pad = dur(&x->iv) / 2;

		pad = pad < WORST_PAD_NS ? WORST_PAD_NS : pad;
		x->w0 = x->iv.start_ts > pad ? x->iv.start_ts - pad : 0;
		x->w1 = x->iv.end_ts + pad;
		x->holder = -1;
	}
}

/* iv is a hold of another task overlapping x's wait: a holder to blame. */
static int blamable(const struct worst_wait *x, const struct pair_interval *iv)
{
	return iv->kind == PAIR_HOLD && iv->tid != x->iv.tid &&
	       iv->start_ts < x->iv.end_ts && iv->end_ts > x->iv.start_ts;
}

/* Before the wait: into the ring (the last WORST_BEFORE stay). -1: out of memory. */
static int keep_before(struct worst_wait *x, const struct pair_interval *iv)
{
	if (!x->before && !(x->before = malloc(WORST_BEFORE * sizeof(*x->before))))
		return -1;
	x->dropped += x->nbefore >= WORST_BEFORE;
	x->before[x->nbefore % WORST_BEFORE] = *iv;
	x->before[x->nbefore++ % WORST_BEFORE].slot = NULL;
	return 0;
}

static int keep(struct worst_wait *x, const struct pair_interval *iv)
{
	int self = iv->tid == x->iv.tid && iv->start_ts == x->iv.start_ts &&
		   iv->end_ts == x->iv.end_ts && iv->kind == x->iv.kind;
	int held = blamable(x, iv), after = iv->start_ts >= x->iv.end_ts;
	size_t *n = held ? &x->nheld : after ? &x->nafter : &x->nduring;
	size_t cap = held ? WORST_HOLDERS : after ? WORST_AFTER : WORST_DURING;

	if (!self && iv->end_ts <= x->iv.start_ts)
		return keep_before(x, iv);
	if (!self && *n >= cap) {
		x->dropped++;
		return 0;
	}
	if (ARRAY_RESERVE(x->win, x->capwin, x->nwin + 1, 64) < 0)
		return -1;
	x->win[x->nwin] = *iv;
	x->win[x->nwin++].slot = NULL;
	*n += !self;
	return 0;
}

int worst_window_hook(void *ctx, const struct pair_interval *iv)
{
	struct worst *w = ctx;

	if (iv->kind == PAIR_FAILED && iv->trylock)
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		struct worst_wait *x = &w->w[i];
		if (iv->mm != x->iv.mm || iv->start_ts >= x->w1 || iv->end_ts < x->w0)
			continue;
		if (keep(x, iv)) {
			w->oom = 1;
			return -1;
		}
	}
	return 0;
}

void worst_blame(struct worst *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct worst_wait *x = &w->w[i];
		for (size_t k = 0; k < x->nwin; k++) {
			const struct pair_interval *h = &x->win[k];
			uint64_t s, e;
			if (!blamable(x, h))
				continue;
			s = h->start_ts > x->iv.start_ts ? h->start_ts : x->iv.start_ts;
			e = h->end_ts < x->iv.end_ts ? h->end_ts : x->iv.end_ts;
			/* the largest overlap; equal: the earlier hold (k: in closing order) */
			if (e - s > x->holder_ns || (e - s == x->holder_ns && x->holder >= 0 &&
			    h->start_ts < x->win[x->holder].start_ts)) {
				x->holder_ns = e - s;
				x->holder = (long)k;
			}
		}
	}
}
