/* SPDX-License-Identifier: MIT */
/*
 * agg.c: the group table and the histogram reading of agg.h. Groups sit in
 * an open-addressing table keyed by a 64-bit key (which one depends on
 * --by); a last-hit cache catches the common run of intervals of one group.
 * The histograms are hist.h's.
 */
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
	for (size_t i = 0; i < a->cap; i++) {
		if (!a->g[i])
			continue;
		hist_fini(&a->g[i]->wait);
		hist_fini(&a->g[i]->hold);
	}
	while (a->slab) {
		struct agg_slab *next = a->slab->next;
		free(a->slab);
		a->slab = next;
	}
	free(a->g);
	a->g = NULL;
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

static struct agg_group **slot(struct agg_group **t, size_t cap, uint64_t key)
{
	size_t i = mix(key) & (cap - 1);

	while (t[i] && t[i]->key != key)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

struct agg_group *agg_group(struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg)
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
	return agg_group_key(a, key, tid);
}

struct agg_group *agg_group_key(struct agg *a, uint64_t key, uint32_t tid)
{
	struct agg_group **s;

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
		*s = group_new(a);
		if (!*s)
			return NULL;
		(*s)->key = key;
		(*s)->tid = tid;
		a->n++;
	}
	a->last = *s;
	return *s;
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
