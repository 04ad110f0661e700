/* SPDX-License-Identifier: MIT */
/*
 * blame.c: attribution of wait time to the holders of the lock (blame.h).
 *
 * The hook sees intervals in time order: a wait or hold is announced when
 * it opens (*_BEGIN) and reported again when it closes. When a wait on mm
 * closes at `we` after starting at `ws`, the holders to blame are
 *  - the holds of mm still open (started before `we`): overlap
 *    we - max(hs, ws);
 *  - the holds of mm that closed since `ws`: overlap
 *    min(he, we) - max(hs, ws), when positive.
 * The second kind is why closed holds are remembered: a hold closing while
 * some wait on its mm is open is kept, and dropped once every open wait on
 * that mm started after its end (it can no longer overlap one).
 */
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "blame.h"
#include "u64map.h"

struct span {
	uint64_t start, end;		/* ns; end 0 while open */
	uint32_t tid;
	uint8_t write;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

struct blame_mm {
	uint64_t mm;
	struct spans holds, waits, closed;	/* open holds, open waits, remembered holds */
};

#define MM_KEY(e) ((*(e))->mm)
#define MM_USED(e) (*(e) != NULL)
HASHMAP_FUNCS(blame_mms, mmtab, blame_mm_p, uint64_t, hash64, MM_KEY, HASHMAP_NUM_EQ, MM_USED)

struct rec_key {
	uint32_t tid;
	uint64_t memcg;
};
#define REC_KEY(e) ((struct rec_key){ (e)->tid, (e)->victim_memcg })
#define REC_HASH(k) hash64_pair((k).memcg, (k).tid)
#define REC_EQ(a, b) ((a).tid == (b).tid && (a).memcg == (b).memcg)
#define REC_USED(e) ((e)->used)
HASHMAP_FUNCS(blame_recs, rectab, struct blame_rec, struct rec_key, REC_HASH, REC_KEY, REC_EQ,
	      REC_USED)

int blame_init(struct blame *b, const struct mml_meta *meta)
{
	memset(b, 0, sizeof(*b));
	b->meta = meta;
	b->tid_wait = calloc(1, sizeof(struct u64map));
	if (!b->tid_wait) {
		blame_fini(b);
		return -1;
	}
	return 0;
}

void blame_fini(struct blame *b)
{
	for (struct blame_mm **m = mmtab_next(&b->mm, NULL); m; m = mmtab_next(&b->mm, m)) {
		free((*m)->holds.v);
		free((*m)->waits.v);
		free((*m)->closed.v);
		free(*m);
	}
	mmtab_fini(&b->mm);
	rectab_fini(&b->rec);
	if (b->tid_wait)
		u64map_free(b->tid_wait);
	free(b->tid_wait);
	b->tid_wait = NULL;
}

/* The state of mm, created on first use. NULL: out of memory. */
static struct blame_mm *get_mm(struct blame *b, uint64_t mm)
{
	int isnew;
	struct blame_mm **m = mmtab_add(&b->mm, mm, &isnew);

	if (!m || !isnew)
		return m ? *m : NULL;
	*m = calloc(1, sizeof(**m));
	if (!*m) {
		mmtab_del(&b->mm, m);
		return NULL;
	}
	(*m)->mm = mm;
	return *m;
}

static struct blame_rec *get_rec(struct blame *b, uint32_t tid, uint64_t memcg)
{
	int isnew;
	struct blame_rec *r = rectab_add(&b->rec, (struct rec_key){ tid, memcg }, &isnew);

	if (r && isnew) {
		r->used = 1;
		r->tid = tid;
		r->victim_memcg = memcg;
	}
	return r;
}

static int push(struct spans *s, const struct span *x)
{
	if (ARRAY_RESERVE(s->v, s->cap, s->n + 1, 4) < 0)
		return -1;
	s->v[s->n++] = *x;
	return 0;
}

/* Remove tid's entry from s (order kept: closed holds stay sorted by end). Found: 1. */
static int take(struct spans *s, uint32_t tid, struct span *out)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].tid == tid) {
			if (out)
				*out = s->v[i];
			memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
			s->n--;
			return 1;
		}
	return 0;
}

/* Forget the remembered holds that ended before every open wait on m began. */
static void prune(struct blame *b, struct blame_mm *m)
{
	uint64_t oldest = UINT64_MAX;
	size_t k = 0;

	for (size_t i = 0; i < m->waits.n; i++)
		if (m->waits.v[i].start < oldest)
			oldest = m->waits.v[i].start;
	for (size_t i = 0; i < m->closed.n; i++)
		if (m->closed.v[i].end > oldest)
			m->closed.v[k++] = m->closed.v[i];
	m->closed.n = k;
	if (m->closed.n > BLAME_KEEP) {		/* a wait that never closes: bound it */
		size_t drop = m->closed.n - BLAME_KEEP / 2;
		memmove(m->closed.v, m->closed.v + drop, (m->closed.n - drop) * sizeof(*m->closed.v));
		m->closed.n -= drop;
		b->dropped_holds += drop;
	}
}

static void charge(struct blame *b, const struct span *h, uint64_t ov, uint64_t memcg)
{
	struct blame_rec *r;

	if (!ov)
		return;
	r = get_rec(b, h->tid, memcg);
	if (!r) {
		b->oom = 1;
		return;
	}
	r->blamed_ns += ov;
	if (h->write)
		r->write_ns += ov;
	else
		r->read_ns += ov;
	if (r->last_wait != b->waits) {		/* count each wait once per holder */
		r->last_wait = b->waits;
		r->waits++;
	}
}

/* A wait of tid on m closed: [ws, we]. Blame the holds that overlapped it. */
static void wait_closed(struct blame *b, struct blame_mm *m, const struct pair_interval *iv)
{
	uint64_t ws = iv->start_ts, we = iv->end_ts, blamed = 0;

	take(&m->waits, iv->tid, NULL);
	b->waits++;
	b->wait_ns += we - ws;
	for (size_t i = 0; i < m->holds.n; i++) {
		const struct span *h = &m->holds.v[i];
		if (h->tid == iv->tid || h->start >= we)
			continue;
		uint64_t ov = we - (h->start > ws ? h->start : ws);
		charge(b, h, ov, iv->memcg);
		blamed += ov;
	}
	for (size_t i = 0; i < m->closed.n; i++) {
		const struct span *h = &m->closed.v[i];
		uint64_t s = h->start > ws ? h->start : ws, e = h->end < we ? h->end : we;
		if (h->tid == iv->tid || e <= s)
			continue;
		charge(b, h, e - s, iv->memcg);
		blamed += e - s;
	}
	b->unblamed += !blamed;
	prune(b, m);
}

static void interval(void *ctx, const struct pair_interval *iv)
{
	struct blame *b = ctx;
	struct blame_mm *m = get_mm(b, iv->mm);
	struct span x = { .start = iv->start_ts, .tid = iv->tid, .write = iv->write };
	uint64_t *tw = u64map_get(b->tid_wait, iv->tid, 1);

	if (!m || !tw) {
		b->oom = 1;
		return;
	}
	if (*tw && *tw - 1 != iv->mm) {
		/* it waited on another mm and now does something: that wait's end was lost */
		struct blame_mm *o = get_mm(b, *tw - 1);
		if (!o || !(m = get_mm(b, iv->mm))) {	/* (get_mm may have moved m's slot, not m) */
			b->oom = 1;
			return;
		}
		if (take(&o->waits, iv->tid, NULL)) {
			b->lost_waits++;
			prune(b, o);
		}
		*tw = 0;
	}
	switch (iv->kind) {
	case PAIR_WAIT_BEGIN:
		take(&m->waits, iv->tid, NULL);		/* a restart replaces it */
		if (push(&m->waits, &x))
			b->oom = 1;
		*tw = iv->mm + 1;
		break;
	case PAIR_HOLD_BEGIN:
		take(&m->holds, iv->tid, NULL);		/* nested: replaces it */
		if (push(&m->holds, &x))
			b->oom = 1;
		break;
	case PAIR_WAIT:
	case PAIR_FAILED:
		if (iv->kind == PAIR_FAILED && iv->trylock)
			break;		/* a failed trylock: nobody waited */
		wait_closed(b, m, iv);
		*tw = 0;
		break;
	case PAIR_WAIT_DROPPED:
		take(&m->waits, iv->tid, NULL);
		prune(b, m);
		*tw = 0;
		break;
	case PAIR_HOLD:
		/* keep it while a wait that may overlap it is open */
		if (take(&m->holds, iv->tid, &x) && m->waits.n) {
			x.end = iv->end_ts;
			if (push(&m->closed, &x))
				b->oom = 1;
		}
		break;
	case PAIR_HOLD_DROPPED:
		take(&m->holds, iv->tid, NULL);
		break;
	default:		/* PAIR_DOWNGRADE: not subscribed */
		break;
	}
}

int blame_hook(void *ctx, const struct pair_interval *iv)
{
	struct blame *b = ctx;

	interval(b, iv);
	return b->oom ? -1 : 0;
}

const char *blame_cgroup(const struct blame *b, uint32_t tid)
{
	const struct mml_task_info *t = b->meta ? meta_task(b->meta, tid) : NULL;

	return t && t->cgroup ? (*t->cgroup ? t->cgroup : "/") : "?";
}

const char *blame_memcg_name(const struct blame *b, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(b->meta, id, buf, len);
}

static int cmp_rec(const void *x, const void *y)
{
	const struct blame_rec *a = *(const struct blame_rec *const *)x;
	const struct blame_rec *c = *(const struct blame_rec *const *)y;

	if (a->tid != c->tid)
		return a->tid < c->tid ? -1 : 1;
	if (a->blamed_ns != c->blamed_ns)
		return a->blamed_ns > c->blamed_ns ? -1 : 1;
	return a->victim_memcg < c->victim_memcg ? -1 : a->victim_memcg > c->victim_memcg;
}

static int cmp_holder(const void *x, const void *y)
{
	const struct blame_holder *a = x, *c = y;

	if (a->blamed_ns != c->blamed_ns)
		return a->blamed_ns > c->blamed_ns ? -1 : 1;
	return a->tid < c->tid ? -1 : a->tid > c->tid;
}

static int cmp_pair(const void *x, const void *y)
{
	const struct blame_pair *a = x, *c = y;
	int r;

	if (a->blamed_ns != c->blamed_ns)
		return a->blamed_ns > c->blamed_ns ? -1 : 1;
	if ((r = strcmp(a->holder_cgroup, c->holder_cgroup)))
		return r;
	return a->victim_memcg < c->victim_memcg ? -1 : a->victim_memcg > c->victim_memcg;
}

int blame_result(const struct blame *b, struct blame_result *r)
{
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->recs = malloc((b->rec.n ? b->rec.n : 1) * sizeof(*r->recs));
	r->holders = calloc(b->rec.n ? b->rec.n : 1, sizeof(*r->holders));
	r->pairs = calloc(b->rec.n ? b->rec.n : 1, sizeof(*r->pairs));
	if (!r->recs || !r->holders || !r->pairs) {
		blame_result_free(r);
		return -1;
	}
	for (struct blame_rec *e = rectab_next(&b->rec, NULL); e; e = rectab_next(&b->rec, e))
		r->recs[n++] = e;
	qsort(r->recs, n, sizeof(*r->recs), cmp_rec);
	for (size_t i = 0; i < n; i++) {
		const struct blame_rec *c = r->recs[i];
		struct blame_holder *h;
		struct blame_pair *p = NULL;
		const char *cg = blame_cgroup(b, c->tid);

		if (!r->nholders || r->holders[r->nholders - 1].tid != c->tid) {
			h = &r->holders[r->nholders++];
			h->tid = c->tid;
			h->victims = &r->recs[i];
		}
		h = &r->holders[r->nholders - 1];
		h->blamed_ns += c->blamed_ns;
		h->write_ns += c->write_ns;
		h->read_ns += c->read_ns;
		h->waits += c->waits;
		h->nvictims++;
		for (size_t k = 0; k < r->npairs && !p; k++)
			if (!strcmp(r->pairs[k].holder_cgroup, cg) &&
			    r->pairs[k].victim_memcg == c->victim_memcg)
				p = &r->pairs[k];
		if (!p) {
			p = &r->pairs[r->npairs++];
			p->holder_cgroup = cg;
			p->victim_memcg = c->victim_memcg;
		}
		p->blamed_ns += c->blamed_ns;
		p->waits += c->waits;
	}
	qsort(r->holders, r->nholders, sizeof(*r->holders), cmp_holder);
	qsort(r->pairs, r->npairs, sizeof(*r->pairs), cmp_pair);
	return 0;
}

void blame_result_free(struct blame_result *r)
{
	free(r->holders);
	free(r->pairs);
	free(r->recs);
	memset(r, 0, sizeof(*r));
}
