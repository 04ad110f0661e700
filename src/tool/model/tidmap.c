/* SPDX-License-Identifier: MIT */
/*
 * tidmap.c: see tidmap.h. Creation and the rebuild; the lookups are inline
 * in the header.
 */
#include <stdlib.h>
#include "tidmap.h"

#define TIDMAP_MIN_CAP 256

/*
 * Idle entries are kept while the table is below TIDMAP_IDLE_SLOTS (a
 * task's next event finds its entry instead of inserting it again); from
 * there on a full table keeps the entries in use only (tidtab_make_room).
 */
#define TIDMAP_IDLE_SLOTS 65536

int tidmap_init(struct tidmap *m)
{
	m->stacks = 0;
	m->m = (struct tidtab){ 0 };
	return tidtab_rehash(&m->m, TIDMAP_MIN_CAP, NULL, NULL);
}

void tidmap_fini(struct tidmap *m)
{
	tidtab_fini(&m->m);
	m->stacks = 0;
}

struct keep_ctx {
	tidmap_open_fn open;
	void *ctx;
};

/* Is t still in use: a stack pending, or a wait its owner says is open? */
static int in_use(const struct tid_state *t, void *arg)
{
	const struct keep_ctx *k = arg;

	return t->stack || (t->has_wait && (!k->open || k->open(k->ctx, t)));
}

struct tid_state *tidmap_insert(struct tidmap *m, uint32_t tid, tidmap_open_fn open, void *ctx)
{
	struct keep_ctx k = { open, ctx };
	struct tid_state *t;
	size_t i;

	if ((m->m.n + 1) * 2 > m->m.cap &&
	    tidtab_make_room(&m->m, TIDMAP_IDLE_SLOTS, in_use, &k))
		return NULL;
	i = tidtab_pos(&m->m, tid);
	tidtab_claim(&m->m, i);
	t = &m->m.t[i];
	t->tid = tid;
	t->used = 1;
	return t;
}
