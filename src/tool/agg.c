/* SPDX-License-Identifier: MIT */
/*
 * agg.c: the group table and the histogram reading of agg.h. Groups sit in
 * an open-addressing table keyed by a 64-bit key (which one depends on
 * --by); a last-hit cache catches the common run of intervals of one group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"

/* process groups: tgid when known, else the tid with this bit set */
#define KEY_TID_ONLY (1ull << 40)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

int agg_init(struct agg *a, enum agg_by by, const struct mml_meta *meta)
{
	memset(a, 0, sizeof(*a));
	a->by = by;
	a->meta = meta;
	a->cap = 64;
	a->g = calloc(a->cap, sizeof(*a->g));
	return a->g ? 0 : -1;
}

void agg_fini(struct agg *a)
{
	for (size_t i = 0; i < a->cap; i++)
		free(a->g[i]);
	free(a->g);
	a->g = NULL;
}

static struct agg_group **slot(struct agg_group **t, size_t cap, uint64_t key)
{
	size_t i = mix(key) & (cap - 1);

	while (t[i] && t[i]->key != key)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

struct agg_group *agg_group(struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg)
{
	struct agg_group **s;
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
	default:
		key = mm;
		break;
	}
	if (a->last && a->last->key == key)
		return a->last;
	if ((a->n + 1) * 2 > a->cap) {
		size_t cap = a->cap * 2;
		struct agg_group **n = calloc(cap, sizeof(*n));
		if (!n)
			return NULL;
		for (size_t i = 0; i < a->cap; i++)
			if (a->g[i])
				*slot(n, cap, a->g[i]->key) = a->g[i];
		free(a->g);
		a->g = n;
		a->cap = cap;
	}
	s = slot(a->g, a->cap, key);
	if (!*s) {
		*s = calloc(1, sizeof(**s));
		if (!*s)
			return NULL;
		(*s)->key = key;
		(*s)->tid = tid;
		a->n++;
	}
	a->last = *s;
	return *s;
}

void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *width)
{
	if (idx < HIST_SUB) {
		*lo = idx;
		*width = 1;
		return;
	}
	unsigned e = (idx - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	unsigned sub = (idx - HIST_SUB) % HIST_SUB;
	*width = 1ull << (e - HIST_SUB_BITS);
	*lo = (1ull << e) + sub * *width;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, cum = 0, lo, w, v;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		cum += h->b[i];
		if (cum >= rank) {
			hist_bucket_range(i, &lo, &w);
			v = lo + w / 2;
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
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
	default:
		snprintf(buf, len, "0x%llx", (unsigned long long)g->key);
		break;
	}
	return buf;
}
