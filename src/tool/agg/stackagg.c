/* SPDX-License-Identifier: MIT */
/*
 * stackagg.c: the per-stack sums of stackagg.h. One open-addressing table
 * per kind, keyed by stack id, doubled at half full.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stackagg.h"

static int kind_init(struct stackagg_kind *k)
{
	memset(k, 0, sizeof(*k));
	k->cap = 64;
	k->t = calloc(k->cap, sizeof(*k->t));
	return k->t ? 0 : -1;
}

int stackagg_init(struct stackagg *a, const struct mml_meta *meta)
{
	memset(a, 0, sizeof(*a));
	a->meta = meta;
	if (kind_init(&a->wait) || kind_init(&a->hold)) {
		stackagg_fini(a);
		return -1;
	}
	return 0;
}

void stackagg_fini(struct stackagg *a)
{
	free(a->wait.t);
	free(a->hold.t);
	a->wait.t = a->hold.t = NULL;
}

static size_t slot(const struct stackagg_ent *t, size_t cap, uint32_t id)
{
	size_t i = (id * 2654435761u) & (cap - 1);

	while (t[i].used && t[i].id != id)
		i = (i + 1) & (cap - 1);
	return i;
}

static struct stackagg_ent *ent(struct stackagg_kind *k, uint32_t id)
{
	size_t i = slot(k->t, k->cap, id);

	if (k->t[i].used)
		return &k->t[i];
	if ((k->n + 1) * 2 > k->cap) {
		size_t nc = k->cap * 2;
		struct stackagg_ent *n = calloc(nc, sizeof(*n));
		if (!n)
			return NULL;
		for (size_t j = 0; j < k->cap; j++)
			if (k->t[j].used)
				n[slot(n, nc, k->t[j].id)] = k->t[j];
		free(k->t);
		k->t = n;
		k->cap = nc;
		i = slot(k->t, k->cap, id);
	}
	k->t[i].used = 1;
	k->t[i].id = id;
	k->n++;
	return &k->t[i];
}

/* Add ns to the taker (memcg, comm) of e. */
static void taker(struct stackagg_ent *e, uint64_t memcg, const char *comm, uint64_t ns)
{
	unsigned i, min = 0;

	for (i = 0; i < e->ntk; i++)
		if (e->tk[i].memcg == memcg && !strncmp(e->tk[i].comm, comm, sizeof(e->tk[i].comm))) {
			e->tk[i].ns += ns;
			return;
		}
	if (e->ntk < STACKAGG_TAKERS) {
		i = e->ntk++;
		e->tk[i].ns = ns;
	} else {
		/* space-saving: the smallest is replaced, its time carried over */
		for (i = 1; i < STACKAGG_TAKERS; i++)
			if (e->tk[i].ns < e->tk[min].ns)
				min = i;
		i = min;
		e->tk[i].ns += ns;
		e->approx = 1;
	}
	e->tk[i].memcg = memcg;
	snprintf(e->tk[i].comm, sizeof(e->tk[i].comm), "%s", comm);
}

static void interval(void *ctx, const struct pair_interval *iv)
{
	struct stackagg *a = ctx;
	struct stackagg_kind *k;
	struct stackagg_ent *e;
	uint64_t ns;

	if (iv->kind == PAIR_WAIT)
		k = &a->wait;
	else if (iv->kind == PAIR_HOLD)
		k = &a->hold;
	else
		return;
	ns = iv->end_ts - iv->start_ts;
	k->all_count++;
	k->all_ns += ns;
	if (!iv->stack) {
		k->nostack_count++;
		k->nostack_ns += ns;
		return;
	}
	if (!(e = ent(k, iv->stack))) {
		a->oom = 1;
		return;
	}
	e->count++;
	e->total += ns;
	if (ns > e->max)
		e->max = ns;
	const struct mml_task_info *t = a->meta ? meta_task(a->meta, iv->tid) : NULL;
	taker(e, iv->memcg, t && t->comm[0] ? t->comm : "?", ns);
}

int stackagg_hook(void *ctx, const struct pair_interval *iv)
{
	struct stackagg *a = ctx;

	interval(a, iv);
	return a->oom ? -1 : 0;
}

static int cmp_ent(const void *x, const void *y)
{
	const struct stackagg_ent *a = *(const struct stackagg_ent *const *)x;
	const struct stackagg_ent *b = *(const struct stackagg_ent *const *)y;

	if (a->total != b->total)
		return a->total > b->total ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_taker(const void *x, const void *y)
{
	const struct stackagg_taker *a = x, *b = y;
	int c;

	if (a->ns != b->ns)
		return a->ns > b->ns ? -1 : 1;
	if (a->memcg != b->memcg)
		return a->memcg < b->memcg ? -1 : 1;
	c = strncmp(a->comm, b->comm, sizeof(a->comm));
	return c;
}

size_t stackagg_top(struct stackagg_kind *k, const struct stackagg_ent **out, size_t n)
{
	struct stackagg_ent **all;
	size_t m = 0;

	if (!n || !k->n)
		return 0;
	all = malloc(k->n * sizeof(*all));
	if (!all)
		return 0;
	for (size_t i = 0; i < k->cap; i++)
		if (k->t[i].used)
			all[m++] = &k->t[i];
	qsort(all, m, sizeof(*all), cmp_ent);
	if (m > n)
		m = n;
	for (size_t i = 0; i < m; i++) {
		qsort(all[i]->tk, all[i]->ntk, sizeof(all[i]->tk[0]), cmp_taker);
		out[i] = all[i];
	}
	free(all);
	return m;
}
