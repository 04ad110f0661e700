/* SPDX-License-Identifier: MIT */
/*
 * levels.c: the HTML page's group levels (levels.h): per level the groups
 * ranked by total wait, the first LEVEL_KEEP kept and the rest summed, the
 * map from an interval's key to its index, and a time grid per index.
 */
#include <stdlib.h>
#include <string.h>
#include "agg-ident.h"
#include "levels.h"

HASHMAP_FUNCS(level_map, level_map, struct level_ix, uint64_t, hash64, LEVEL_IX_KEY, HASHMAP_NUM_EQ,
	      LEVEL_IX_USED)

static int map_put(struct level_map *m, uint64_t key, uint32_t idx)
{
	int isnew;
	struct level_ix *e = level_map_add(m, key, &isnew);

	if (!e)
		return -1;
	e->key = key;
	e->idx = idx;
	e->used = 1;
	return 0;
}

/* Identity levels: the map from each memcg of src to the index of its folded group. */
static int map_memcgs(struct level *l, const struct agg *src, struct ctr_pods *pods)
{
	struct level_map rank = { 0 };		/* folded group key -> index */
	int rc = -1;

	for (size_t i = 0; i < l->nkept; i++)
		if (map_put(&rank, l->kept[i]->key, (uint32_t)i))
			goto out;
	for (struct agg_group **p = agg_tab_next(&src->tab, NULL); p; p = agg_tab_next(&src->tab, p)) {
		const struct agg_group *g = *p;
		const struct level_ix *e;
		long k;

		if ((k = agg_regroup_key(l->agg, src, g, pods)) < 0)
			continue;
		if ((e = level_map_find(&rank, (uint64_t)k)) && map_put(&l->map, g->key, e->idx))
			goto out;
	}
	rc = 0;
out:
	level_map_fini(&rank);
	return rc;
}

int levels_add(struct levels *ls, const struct agg *a, const struct agg *src, struct ctr_pods *pods)
{
	struct level *l;

	if (ls->n == LEVEL_MAX)
		return 0;
	l = &ls->l[ls->n];
	memset(l, 0, sizeof(*l));
	l->name = agg_by_name(a->by);
	l->agg = a;
	l->by_memcg = agg_by_identity(a->by);
	l->keyer.by = l->by_memcg ? AGG_BY_MEMCG : a->by;
	l->keyer.meta = a->meta;
	if (!(l->kept = agg_sorted(a, AGG_SORT_WAIT)))
		return -1;
	l->ngroups = a->tab.n;
	l->nkept = a->tab.n < LEVEL_KEEP ? a->tab.n : LEVEL_KEEP;
	ls->n++;
	for (size_t i = l->nkept; i < l->ngroups; i++)
		if (agg_group_fold(&l->other, l->kept[i]))
			return -1;
	if (l->by_memcg)
		return map_memcgs(l, src, pods);
	for (size_t i = 0; i < l->nkept; i++)
		if (map_put(&l->map, l->kept[i]->key, (uint32_t)i))
			return -1;
	return 0;
}

size_t level_index(const struct level *l, uint32_t tid, uint64_t mm, uint64_t memcg)
{
	const struct level_ix *e = level_map_find(&l->map, agg_key(&l->keyer, tid, mm, memcg));

	return e ? e->idx : l->nkept;
}

int levels_grids(struct levels *ls, uint64_t t0, uint64_t width)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (timeagg_init(&ls->l[i].grid, ls->l[i].nkept + 1))
			return -1;
		timeagg_fixed(&ls->l[i].grid, t0, width);
		ls->l[i].gridded = 1;
	}
	return 0;
}

void levels_add_interval(struct levels *ls, const struct pair_interval *iv)
{
	size_t col;
	unsigned row;

	if (!ls->n)
		return;
	/* the levels' grids share t0 and width (fixed): one column and row for all */
	col = timeagg_column(&ls->l[0].grid, iv->start_ts);
	row = timeagg_row(iv->end_ts - iv->start_ts);
	if (iv->tid != ls->tid || iv->mm != ls->mm || iv->memcg != ls->memcg || !ls->cached) {
		/* consecutive intervals are mostly of one task on one mm: one lookup each */
		for (size_t i = 0; i < ls->n; i++)
			ls->idx[i] = level_index(&ls->l[i], iv->tid, iv->mm, iv->memcg);
		ls->tid = iv->tid;
		ls->mm = iv->mm;
		ls->memcg = iv->memcg;
		ls->cached = 1;
	}
	for (size_t i = 0; i < ls->n; i++)
		timeagg_add_at(&ls->l[i].grid, ls->idx[i], col, row, iv);
}

void levels_meta(struct levels *ls, const struct mml_meta *meta)
{
	ls->cached = 0;
	for (size_t i = 0; i < ls->n; i++)
		ls->l[i].keyer.meta = meta;
}

void levels_fini(struct levels *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->l[i].kept);
		level_map_fini(&ls->l[i].map);
		hist_fini(&ls->l[i].other.wait);
		hist_fini(&ls->l[i].other.hold);
		if (ls->l[i].gridded)
			timeagg_fini(&ls->l[i].grid);
	}
	ls->n = 0;
}
