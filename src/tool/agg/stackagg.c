/* SPDX-License-Identifier: MIT */
/*
 * stackagg.c: the per-stack sums of stackagg.h. One hashmap.h table per
 * kind, keyed by stack id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stackagg.h"

int stackagg_init(struct stackagg *a, const struct mml_meta *meta)
{
	memset(a, 0, sizeof(*a));
	a->meta = meta;
	return 0;
}

void stackagg_fini(struct stackagg *a)
{
	stackagg_tab_fini(&a->wait.tab);
	stackagg_tab_fini(&a->hold.tab);
}

static struct stackagg_ent *ent(struct stackagg_kind *k, uint32_t id)
{
	int isnew;
	struct stackagg_ent *e = stackagg_tab_add(&k->tab, id, &isnew);

	if (e && isnew) {
		e->used = 1;
		e->id = id;
	}
	return e;
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

	if (!n || !k->tab.n)
		return 0;
	all = malloc(k->tab.n * sizeof(*all));
	if (!all)
		return 0;
	for (struct stackagg_ent *e = stackagg_tab_next(&k->tab, NULL); e;
	     e = stackagg_tab_next(&k->tab, e))
		all[m++] = e;
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
