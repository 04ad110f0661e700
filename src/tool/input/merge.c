/* SPDX-License-Identifier: MIT */
/*
 * merge.c: per-CPU queues and their k-way merge below a watermark (merge.h).
 *
 * A delivery walks the queues with a cursor each and repeatedly takes the
 * smallest head below the watermark. Only queues with something below it
 * take part, so an idle machine with many CPUs costs little; with k active
 * queues each event costs k comparisons (k is small: the CPUs that produced
 * events in one 20 ms period). What remains in a queue is moved to its
 * front afterwards.
 */
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "merge.h"

int merge_init(struct merge *m, int nq)
{
	memset(m, 0, sizeof(*m));
	m->q = calloc((size_t)nq, sizeof(*m->q));
	m->out = malloc(sizeof(*m->out) * MERGE_CHUNK);
	if (!m->q || !m->out) {
		merge_fini(m);
		return -1;
	}
	m->nq = nq;
	return 0;
}

void merge_fini(struct merge *m)
{
	if (m->q)
		for (int i = 0; i < m->nq; i++)
			free(m->q[i].ev);
	free(m->q);
	free(m->out);
	memset(m, 0, sizeof(*m));
}

struct mml_event *merge_slot(struct merge *m, int q)
{
	struct merge_q *x = &m->q[q];

	if (ARRAY_RESERVE(x->ev, x->cap, x->n + 1, 1024) < 0)
		return NULL;
	return &x->ev[x->n];
}

void merge_commit(struct merge *m, int q)
{
	struct merge_q *x = &m->q[q];

	if (x->n && x->ev[x->n].ts < x->ev[x->n - 1].ts)
		x->unsorted = 1;
	x->n++;
}

uint64_t merge_last_ts(const struct merge *m, int q)
{
	return m->q[q].n ? m->q[q].ev[m->q[q].n - 1].ts : 0;
}

static int cmp_ts(const void *a, const void *b)
{
	const struct mml_event *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

int merge_deliver(struct merge *m, uint64_t upto, merge_cb cb, void *ctx)
{
	size_t pos[m->nq > 0 ? m->nq : 1];
	int act[m->nq > 0 ? m->nq : 1];
	int nact = 0, rc = 0;
	size_t o = 0;

	for (int i = 0; i < m->nq; i++) {
		struct merge_q *x = &m->q[i];
		pos[i] = 0;
		if (x->unsorted) {
			/* stable enough: equal stamps on one CPU keep no meaning */
			qsort(x->ev, x->n, sizeof(*x->ev), cmp_ts);
			x->unsorted = 0;
		}
		if (x->n && x->ev[0].ts < upto)
			act[nact++] = i;
	}
	while (nact && !rc) {
		int best = 0;
		for (int k = 1; k < nact; k++)
			if (m->q[act[k]].ev[pos[act[k]]].ts < m->q[act[best]].ev[pos[act[best]]].ts)
				best = k;
		int qi = act[best];
		struct merge_q *x = &m->q[qi];
		m->out[o++] = x->ev[pos[qi]++];
		if (pos[qi] == x->n || x->ev[pos[qi]].ts >= upto) {
			/* this queue is done for now; keep the others in queue order */
			memmove(&act[best], &act[best + 1], sizeof(*act) * (size_t)(nact - best - 1));
			nact--;
		}
		if (o == MERGE_CHUNK || !nact) {
			m->delivered += o;
			rc = cb(ctx, m->out, o);
			o = 0;
		}
	}
	for (int i = 0; i < m->nq; i++) {
		struct merge_q *x = &m->q[i];
		if (!pos[i])
			continue;
		memmove(x->ev, x->ev + pos[i], sizeof(*x->ev) * (x->n - pos[i]));
		x->n -= pos[i];
	}
	return rc;
}
