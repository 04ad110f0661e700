/* SPDX-License-Identifier: MIT */
/*
 * tidmap.c: see tidmap.h. Creation and the rebuild; the lookups are inline
 * in the header.
 */
#include <stdlib.h>
#include "tidmap.h"

#define TIDMAP_MIN_BITS 8

static int alloc(struct tidmap *m, unsigned bits)
{
	m->t = calloc((size_t)1 << bits, sizeof(*m->t));
	m->cap = (size_t)1 << bits;
	m->shift = 64 - bits;
	m->n = 0;
	return m->t ? 0 : -1;
}

int tidmap_init(struct tidmap *m)
{
	m->stacks = 0;
	return alloc(m, TIDMAP_MIN_BITS);
}

void tidmap_fini(struct tidmap *m)
{
	free(m->t);
	m->t = NULL;
	m->cap = m->n = m->stacks = 0;
}

/* Is t still in use: a stack pending, or a wait its owner says is open? */
static int in_use(const struct tid_state *t, tidmap_open_fn open, void *ctx)
{
	return t->stack || (t->has_wait && (!open || open(ctx, t)));
}

/*
 * The table is half full. Below TIDMAP_IDLE_SLOTS it doubles, idle entries
 * kept: a task's next event finds its entry instead of inserting it again.
 * From there on it is rebuilt with the entries in use only, at the same
 * size unless those alone fill a quarter of it: a rebuild comes at most
 * every cap / 4 insertions (amortised constant time), and memory is that
 * allowance plus what is pending at one moment.
 */
#define TIDMAP_IDLE_SLOTS 65536
static int rebuild(struct tidmap *m, tidmap_open_fn open, void *ctx)
{
	struct tidmap o = *m;
	size_t live = 0;
	unsigned bits = 64 - m->shift;
	int keep_idle = o.cap < TIDMAP_IDLE_SLOTS;

	for (size_t i = 0; i < o.cap; i++)
		live += o.t[i].used && (keep_idle || in_use(&o.t[i], open, ctx));
	if (keep_idle)
		bits++;
	while ((live + 1) * 4 > ((size_t)1 << bits))
		bits++;
	if (alloc(m, bits)) {
		*m = o;
		return -1;
	}
	for (size_t i = 0; i < o.cap; i++) {
		if (!o.t[i].used || !(keep_idle || in_use(&o.t[i], open, ctx)))
			continue;
		size_t j = tidmap_slot(m, o.t[i].tid);
		while (m->t[j].used)
			j = (j + 1) & (m->cap - 1);
		m->t[j] = o.t[i];
		m->n++;
	}
	free(o.t);
	return 0;
}

struct tid_state *tidmap_insert(struct tidmap *m, uint32_t tid, tidmap_open_fn open, void *ctx)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && rebuild(m, open, ctx))
		return NULL;
	i = tidmap_slot(m, tid);
	while (m->t[i].used)
		i = (i + 1) & (m->cap - 1);
	m->t[i] = (struct tid_state){ .tid = tid, .used = 1 };
	m->n++;
	return &m->t[i];
}
