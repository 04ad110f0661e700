/* SPDX-License-Identifier: MIT */
/*
 * agg.c: the group table and the histogram reading of agg.h. Groups sit in
 * a hashmap.h table keyed by a 64-bit key (which one depends on --by); a
 * last-hit cache catches the common run of intervals of one group.
 * The histograms are hist.h's.
 */
#define _GNU_SOURCE		/* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "agg-ident.h"

/*
 * Groups are carved from slabs of AGG_SLAB: with tens of thousands of
 * short-lived tasks (--by task), one calloc and one free per group was a
 * tenth of report's time.
 */
#define AGG_SLAB 64

struct agg_slab {
	struct agg_slab *next;
	size_t n;			/* groups handed out */
	struct agg_group g[AGG_SLAB];
};

/* process groups: tgid when known, else the tid with this bit set */
#define KEY_TID_ONLY (1ull << 40)

int agg_init(struct agg *a, enum agg_by by, const struct mml_meta *meta)
{
	memset(a, 0, sizeof(*a));
	a->by = by;
	a->meta = meta;
	return agg_tab_rehash(&a->tab, 64, NULL, NULL);
}

void agg_fini(struct agg *a)
{
	for (struct agg_group **g = agg_tab_next(&a->tab, NULL); g; g = agg_tab_next(&a->tab, g)) {
		hist_fini(&(*g)->wait);
		hist_fini(&(*g)->hold);
	}
	while (a->slab) {
		struct agg_slab *next = a->slab->next;
		free(a->slab);
		a->slab = next;
	}
	agg_tab_fini(&a->tab);
	agg_idents_free(a);
}

/* A zeroed group from the slabs; NULL when out of memory. */
static struct agg_group *group_new(struct agg *a)
{
	if (!a->slab || a->slab->n == AGG_SLAB) {
		struct agg_slab *s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->next = a->slab;
		a->slab = s;
	}
	return &a->slab->g[a->slab->n++];
}

uint64_t agg_key(const struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg)
{
	uint64_t key;

	switch (a->by) {
	case AGG_BY_MEMCG:
		key = memcg;
		break;
	case AGG_BY_PROCESS: {
		const struct mml_task_info *t = a->meta ? meta_task(a->meta, tid) : NULL;
		key = t && t->tgid ? t->tgid : KEY_TID_ONLY | tid;
		break;
	}
	case AGG_BY_TASK:
		key = tid;
		break;
	case AGG_BY_MEMCG_MODE:		/* the mode is in memcg already (agg.h) */
		key = memcg;
		break;
	default:
		key = mm;
		break;
	}
	return key;
}

struct agg_group *agg_group(struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg)
{
	return agg_group_key(a, agg_key(a, tid, mm, memcg), tid);
}

struct agg_group *agg_group_key(struct agg *a, uint64_t key, uint32_t tid)
{
	struct agg_group **s;
	int isnew;

	if (a->last && a->last->key == key)
		return a->last;
	s = agg_tab_add(&a->tab, key, &isnew);
	if (!s)
		return NULL;
	if (isnew) {
		*s = group_new(a);
		if (!*s) {
			agg_tab_del(&a->tab, s);
			return NULL;
		}
		(*s)->key = key;
		(*s)->tid = tid;
	}
	a->last = *s;
	return *s;
}

/* The group of iv: cached in the pairing state's slot when iv has one. */
static inline struct agg_group *iv_group(struct agg *a, const struct pair_interval *iv)
{
	struct agg_group *g;

	if (iv->slot && *iv->slot)
		return *iv->slot;
	g = agg_group(a, iv->tid, iv->mm, iv->memcg);
	if (iv->slot)
		*iv->slot = g;
	return g;
}

/* One function per kind (pair.h says why). */
static int on_hold_begin(void *ctx, const struct pair_interval *iv)
{
	struct agg_group *g = iv_group(ctx, iv);

	if (!g)
		return -1;
	g->trylocks += iv->trylock;	/* an acquisition without a wait */
	if (iv->write)
		g->acq_write++;
	else
		g->acq_read++;
	return 0;
}

static int on_wait(void *ctx, const struct pair_interval *iv)
{
	struct agg_group *g = iv_group(ctx, iv);
	uint64_t d = iv->end_ts - iv->start_ts;

	if (!g)
		return -1;
	hist_add(&g->wait, d);
	g->contended_marked += iv->contended;
	g->contended_long += d > AGG_CONTENDED_NS;
	return 0;
}

static int on_failed(void *ctx, const struct pair_interval *iv)
{
	struct agg_group *g = iv_group(ctx, iv);

	if (!g)
		return -1;
	g->failed += iv->kind == PAIR_FAILED || iv->failed;	/* a dropped wait's failure counts */
	return 0;
}

static int on_hold(void *ctx, const struct pair_interval *iv)
{
	struct agg_group *g = iv_group(ctx, iv);

	if (!g)
		return -1;
	hist_add(&g->hold, iv->end_ts - iv->start_ts);
	return 0;
}

static int on_downgrade(void *ctx, const struct pair_interval *iv)
{
	struct agg_group *g = iv_group(ctx, iv);

	if (!g)
		return -1;
	g->downgrades++;
	return 0;
}

static const pair_fn agg_on[PAIR_NKINDS] = {
	[PAIR_HOLD_BEGIN] = on_hold_begin,
	[PAIR_WAIT] = on_wait,
	[PAIR_FAILED] = on_failed,
	[PAIR_WAIT_DROPPED] = on_failed,
	[PAIR_HOLD] = on_hold,
	[PAIR_DOWNGRADE] = on_downgrade,
};

int agg_subscribe(struct agg *a, struct pair *p)
{
	return pair_subscribe_each(p, agg_on, a);
}

int agg_attach(struct agg *a, struct pair *p, enum agg_by by, const struct mml_meta *meta)
{
	if (agg_init(a, by, meta))
		return -1;
	return agg_subscribe(a, p);
}

static uint64_t sort_value(const struct agg_group *g, enum agg_sort key)
{
	switch (key) {
	case AGG_SORT_HOLD:
		return g->hold.total;
	case AGG_SORT_COUNT:
		return g->acq_read + g->acq_write;
	default:
		return g->wait.total;
	}
}

static int cmp_group(const void *a, const void *b, void *key)
{
	const struct agg_group *x = *(const struct agg_group *const *)a;
	const struct agg_group *y = *(const struct agg_group *const *)b;
	uint64_t u = sort_value(x, *(enum agg_sort *)key), v = sort_value(y, *(enum agg_sort *)key);

	if (u != v)
		return u > v ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

struct agg_group **agg_sorted(const struct agg *a, enum agg_sort key)
{
	struct agg_group **g = malloc((a->tab.n ? a->tab.n : 1) * sizeof(*g));
	size_t n = 0;

	if (!g)
		return NULL;
	for (struct agg_group **e = agg_tab_next(&a->tab, NULL); e; e = agg_tab_next(&a->tab, e))
		g[n++] = *e;
	qsort_r(g, n, sizeof(*g), cmp_group, &key);
	return g;
}

int agg_group_fold(struct agg_group *d, const struct agg_group *s)
{
	d->acq_read += s->acq_read;
	d->acq_write += s->acq_write;
	d->failed += s->failed;
	d->contended_marked += s->contended_marked;
	d->contended_long += s->contended_long;
	d->downgrades += s->downgrades;
	d->trylocks += s->trylocks;
	return hist_merge(&d->wait, &s->wait) || hist_merge(&d->hold, &s->hold) ? -1 : 0;
}

void agg_group_reset(struct agg_group *g)
{
	uint64_t key = g->key;
	uint32_t tid = g->tid;

	hist_fini(&g->wait);
	hist_fini(&g->hold);
	memset(g, 0, sizeof(*g));
	g->key = key;
	g->tid = tid;
}

size_t agg_group_bytes(const struct agg_group *g)
{
	return sizeof(*g) - sizeof(g->wait) - sizeof(g->hold) + hist_bytes(&g->wait) +
	       hist_bytes(&g->hold);
}

const char *agg_group_name(const struct agg *a, const struct agg_group *g, char *buf, size_t len)
{
	const struct mml_task_info *t;
	const char *p;

	switch (a->by) {
	case AGG_BY_MEMCG:
		p = meta_memcg_name(a->meta, g->key, buf, len);
		if (p != buf)
			snprintf(buf, len, "%s", p);
		break;
	case AGG_BY_MEMCG_MODE:
		p = meta_memcg_name(a->meta, agg_key_memcg(g->key), buf, len);
		if (p != buf)
			snprintf(buf, len, "%s", p);
		snprintf(buf + strlen(buf), len - strlen(buf), " (%s)",
			 agg_key_write(g->key) ? "write" : "read");
		break;
	case AGG_BY_PROCESS:
		t = a->meta ? meta_task(a->meta, g->tid) : NULL;
		if (g->key & KEY_TID_ONLY)
			snprintf(buf, len, "%s[%u]", t && t->comm[0] ? t->comm : "?",
				 (unsigned)(g->key & 0xffffffffu));
		else {
			const struct mml_task_info *l = a->meta ? meta_task(a->meta, (uint32_t)g->key) : NULL;
			if (l && l->comm[0])	/* the group leader names the process */
				t = l;
			snprintf(buf, len, "%s[%llu]", t && t->comm[0] ? t->comm : "?",
				 (unsigned long long)g->key);
		}
		break;
	case AGG_BY_TASK:
		t = a->meta ? meta_task(a->meta, (uint32_t)g->key) : NULL;
		snprintf(buf, len, "%s[%llu]", t && t->comm[0] ? t->comm : "?",
			 (unsigned long long)g->key);
		break;
	case AGG_BY_CONTAINER:
	case AGG_BY_POD:
	case AGG_BY_UNIT:
		snprintf(buf, len, "%s", agg_ident_name(a, g));
		break;
	default:
		snprintf(buf, len, "0x%llx", (unsigned long long)g->key);
		break;
	}
	return buf;
}

const char *agg_by_name(enum agg_by by)
{
	static const char *const names[] = { "memcg", "process", "task", "mm", "memcg_mode",
					     "container", "pod", "unit" };

	return (unsigned)by < sizeof(names) / sizeof(names[0]) ? names[by] : "?";
}
