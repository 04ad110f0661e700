/* SPDX-License-Identifier: MIT */
/*
 * watch.c: the engine of `mmaplock watch` (watch.h): the ring of recent
 * events, crossing detection on the live pairing, and the incident file.
 *
 * The ring keeps events back to the newest minus the horizon: before, plus
 * as much again (at least a second) because a crossing is seen at its end
 * and its window starts `before` ahead of its start. A longer crossing
 * still makes an incident, its window just starts where the ring does.
 *
 * Who blocked whom is decided on the incident's own events, with a fresh
 * pairing: the holds on the crossing wait's mm that overlap it, per holder
 * task (the overlap summed: blamed_ns, as blame.c counts it). The same
 * events are in the file, so `mmaplock report --by holder FILE` tells the
 * same story over the whole window.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "watch.h"
#include "mml_writer.h"
#include "stacks.h"

#define RING_START	65536
#define MAX_WINDOW_NS	(60ull * 1000000000ull)	/* merged incidents: at most this long */

static uint64_t horizon(const struct watch *w)
{
	uint64_t extra = w->o.before_ns > 1000000000ull ? w->o.before_ns : 1000000000ull;

	return w->o.before_ns + extra;
}

/* ---------------------------------------------------------------- ring */

static struct mml_event *ring_at(const struct watch_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

static int ring_grow(struct watch_ring *r, size_t ncap)
{
	struct mml_event *n = malloc(ncap * sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < r->n; i++)
		n[i] = *ring_at(r, i);
	free(r->ev);
	r->ev = n;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

static void ring_pop(struct watch_ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

/* Old events out (those an open incident needs stay), e in; grown or the oldest dropped. */
static int ring_push(struct watch *w, const struct mml_event *e)
{
	struct watch_ring *r = &w->ring;
	uint64_t h = horizon(w);
	uint64_t keep = e->ts > h ? e->ts - h : 0;

	if (w->open && w->inc_start < keep)
		keep = w->inc_start;
	while (r->n && ring_at(r, 0)->ts < keep)
		ring_pop(r);
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : RING_START;
		if (ncap > w->o.max_events)
			ncap = w->o.max_events;
		if (ncap <= r->cap || ring_grow(r, ncap)) {
			ring_pop(r);		/* at the cap: the oldest goes, counted */
			w->ring_dropped++;
		}
	}
	r->ev[(r->head + r->n) % r->cap] = *e;
	r->n++;
	return 0;
}

/* ---------------------------------------------------------------- lost events */

#define LOSS_MAX	65536	/* spans kept; past it a new span widens the newest */

/* Is there a span of loss, on any CPU, that overlaps [s, e]? */
static int lost_in(const struct watch *w, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].from_ts <= e && w->loss[i].to_ts >= s)
			return 1;
	return 0;
}

/* Spans that ended before anything a crossing or an incident can still reach go. */
static void loss_prune(struct watch *w)
{
	uint64_t h = 2 * horizon(w);
	uint64_t keep = w->newest_ts > h ? w->newest_ts - h : 0;
	size_t k = 0;

	if (w->open && w->inc_start < keep + horizon(w))
		keep = w->inc_start > horizon(w) ? w->inc_start - horizon(w) : 0;
	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].to_ts >= keep)
			w->loss[k++] = w->loss[i];
	w->nloss = k;
}

void watch_lost(struct watch *w, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts)
{
	w->lost += count;
	if (w->nloss == w->loss_cap)
		loss_prune(w);
	if (w->nloss == w->loss_cap && w->loss_cap < LOSS_MAX) {
		size_t n = w->loss_cap ? w->loss_cap * 2 : 256;
		void *p = realloc(w->loss, n * sizeof(*w->loss));
		if (p) {
			w->loss = p;
			w->loss_cap = n;
		}
	}
	if (w->nloss == w->loss_cap) {
		if (!w->nloss)
			return;			/* no memory at all: counted, not placed */
		struct watch_loss *l = &w->loss[w->nloss - 1];	/* wider, never narrower */
		l->count += count;
		if (from_ts < l->from_ts)
			l->from_ts = from_ts;
		if (to_ts > l->to_ts)
			l->to_ts = to_ts;
		return;
	}
	w->loss[w->nloss++] = (struct watch_loss){ cpu, count, from_ts, to_ts };
}

/* ---------------------------------------------------------------- detection */

static uint64_t cross_len(const struct watch_crossing *c)
{
	return c->end_ts - c->start_ts;
}

/* Keep the incident's crossings; past WATCH_CROSSINGS, the longest. */
static void add_crossing(struct watch *w, const struct watch_crossing *c)
{
	unsigned k = 0;

	if (w->ncross < WATCH_CROSSINGS) {
		w->cross[w->ncross++] = *c;
		return;
	}
	for (unsigned i = 1; i < w->ncross; i++)
		if (cross_len(&w->cross[i]) < cross_len(&w->cross[k]))
			k = i;
	if (cross_len(c) > cross_len(&w->cross[k]))
		w->cross[k] = *c;
}

static void on_crossing(struct watch *w, const struct pair_interval *iv, int is_hold)
{
	uint64_t dur = iv->end_ts - iv->start_ts;
	struct watch_crossing c = { iv->tid, iv->mm, iv->start_ts, iv->end_ts, is_hold };

	w->crossings++;
	if (w->open) {
		uint64_t end = iv->end_ts + w->o.after_ns;
		/* known suspect already: named by it only if nothing better, the window not stretched */
		if (lost_in(w, iv->start_ts, iv->end_ts))
			end = w->inc_end;
		if (end > w->inc_start + MAX_WINDOW_NS)
			end = w->inc_start + MAX_WINDOW_NS;
		if (end > w->inc_end)
			w->inc_end = end;
		if (dur > w->worst.end_ts - w->worst.start_ts)
			w->worst = c;
		add_crossing(w, &c);
		w->inc_crossings++;
		return;
	}
	if (w->o.max_incidents && w->incidents >= w->o.max_incidents)
		return;
	if (w->last_end_ts && iv->end_ts < w->last_end_ts + (uint64_t)(w->o.rate_limit_s * 1e9)) {
		w->suppressed++;
		return;
	}
	w->open = 1;
	w->inc_start = iv->start_ts > w->o.before_ns ? iv->start_ts - w->o.before_ns : 0;
	w->inc_end = iv->end_ts + w->o.after_ns;
	w->worst = c;
	w->ncross = 0;
	add_crossing(w, &c);
	w->inc_crossings = 1;
}

static int live_hook(void *ctx, const struct pair_interval *iv)
{
	struct watch *w = ctx;
	uint64_t dur = iv->end_ts - iv->start_ts;

	if ((iv->kind == PAIR_WAIT || iv->kind == PAIR_FAILED) && w->o.wait_over_ns &&
	    dur > w->o.wait_over_ns)
		on_crossing(w, iv, 0);
	else if (iv->kind == PAIR_HOLD && w->o.hold_over_ns && dur > w->o.hold_over_ns)
		on_crossing(w, iv, 1);
	return 0;
}

/* A contention stack carries the lock address: give it the mm of its task's open wait. */
static int fix_stack_mm(struct watch *w, struct mml_event *e)
{
	uint64_t *mm;

	switch (e->type) {
	case MML_EV_START_LOCKING:
		if (w->wait_mm.n > 65536) {	/* waits whose end was lost: start afresh */
			u64map_free(&w->wait_mm);
			u64map_free(&w->wait_ts);
		}
		if (!(mm = u64map_get(&w->wait_mm, e->tid, 1)))
			return -1;
		*mm = e->mm;
		if (!(mm = u64map_get(&w->wait_ts, e->tid, 1)))
			return -1;
		*mm = e->ts;
		break;
	case MML_EV_ACQUIRE_RETURNED:
		u64map_del(&w->wait_mm, e->tid);
		u64map_del(&w->wait_ts, e->tid);
		if (!(e->flags & MML_F_SUCCESS))
			break;
		if (w->hold_mm.n > 65536) {	/* holds whose release was lost */
			u64map_free(&w->hold_mm);
			u64map_free(&w->hold_ts);
		}
		if (!(mm = u64map_get(&w->hold_mm, e->tid, 1)))
			return -1;
		*mm = e->mm;
		if (!(mm = u64map_get(&w->hold_ts, e->tid, 1)))
			return -1;
		*mm = e->ts;
		break;
	case MML_EV_RELEASED:
		u64map_del(&w->hold_mm, e->tid);
		u64map_del(&w->hold_ts, e->tid);
		break;
	case MML_EV_STACK:
		if ((mm = u64map_get(&w->wait_mm, e->tid, 0)))
			e->mm = *mm;
		break;
	default:
		break;
	}
	return 0;
}

/* ---------------------------------------------------------------- read holders' stacks */

static const struct watch_probe *probe_find(const struct watch *w, uint32_t tid, uint64_t hold_ts)
{
	unsigned n = w->nprobe < WATCH_PROBES ? w->nprobe : WATCH_PROBES;

	for (unsigned i = 0; i < n; i++)
		if (w->probe[i].tid == tid && w->probe[i].hold_ts == hold_ts)
			return &w->probe[i];
	return NULL;
}

/* /proc/TID/stack ("[<0>] func+0x1a/0x80" lines) into a meta stack id; 0: none. */
static uint32_t read_proc_stack(struct watch *w, uint32_t tid)
{
	char path[64], line[256], *sym[STACK_MAX_FRAMES];
	unsigned n = 0;
	uint32_t id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stack", tid);
	if (!(f = fopen(path, "re"))) {
		if (errno == EACCES || errno == EPERM) {
			fprintf(stderr, "%s: %s: %s: holders of the lock for read get no stack "
				"(it needs root)\n", w->o.prog, path, strerror(errno));
			w->probe_off = 1;
		}
		return 0;
	}
	while (n < STACK_MAX_FRAMES && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ']');
		if (!p)
			continue;
		p += 1 + strspn(p + 1, " ");
		p[strcspn(p, "\n")] = '\0';
		if (*p && !(sym[n++] = strdup(p)))
			n--;
	}
	if (ferror(f) && !n && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr, "%s: %s: %s: holders of the lock for read get no stack (it needs root)\n",
			w->o.prog, path, strerror(errno));
		w->probe_off = 1;
	}
	fclose(f);
	if (n)
		id = stacktab_intern(meta_stacks(w->meta), NULL, (const char *const *)sym, n, NULL);
	for (unsigned i = 0; i < n; i++)
		free(sym[i]);
	return id;
}

/* Waits open past the threshold: read the stacks of their mm's holders, once per hold. */
static void probe_holders(struct watch *w)
{
	struct timespec ts;
	uint64_t now;

	if (!w->o.wait_over_ns || w->probe_off)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (struct u64map_ent *e = u64map_tab_next(&w->wait_ts, NULL); e; e = u64map_tab_next(&w->wait_ts, e)) {
		uint64_t *mm, *done;
		if (now < e->val || now - e->val <= w->o.wait_over_ns)
			continue;
		if ((done = u64map_get(&w->probed, e->key, 0)) && *done == e->val)
			continue;
		if (!(mm = u64map_get(&w->wait_mm, e->key, 0)))
			continue;
		if (w->probed.n > 65536)
			u64map_free(&w->probed);
		if ((done = u64map_get(&w->probed, e->key, 1)))
			*done = e->val;
		for (struct u64map_ent *h = u64map_tab_next(&w->hold_mm, NULL); h;
		     h = u64map_tab_next(&w->hold_mm, h)) {
			uint64_t *hts = u64map_get(&w->hold_ts, h->key, 0);
			if (h->val != *mm || h->key == e->key || !hts || probe_find(w, (uint32_t)h->key, *hts))
				continue;
			uint32_t id = read_proc_stack(w, (uint32_t)h->key);
			if (w->probe_off)
				return;
			if (!id)
				continue;
			w->probe[w->nprobe % WATCH_PROBES] = (struct watch_probe){ (uint32_t)h->key, id, *hts };
			w->nprobe++;
		}
	}
}

/* ---------------------------------------------------------------- the incident */

struct analysis {
	const struct watch_crossing *c;
	const struct watch *w;
	struct watch_party waiter;	/* the crossing wait, or the longest wait behind a crossing hold */
	int have_waiter;
	uint64_t ws, we;		/* the wait blamed */
	struct watch_party hold;	/* the crossing hold (is_hold) */
	struct watch_party h[64];	/* holders of the mm during the wait */
	int nh;
	struct {			/* closed holds of the mm, for a wait that ends later */
		uint32_t tid, stack;
		uint64_t s, e, memcg;
		int write;
		int proc;		/* stack: the one read from /proc (put in the events) */
	} *holds;
	size_t nholds, holds_cap;
};

static void party_from(struct watch_party *p, const struct pair_interval *iv)
{
	p->tid = iv->tid;
	p->memcg = iv->memcg;
	p->write = iv->write;
	p->ns = iv->end_ts - iv->start_ts;
	p->stack = iv->stack;
}

static int an_hook(void *ctx, const struct pair_interval *iv)
{
	struct analysis *a = ctx;
	const struct watch_crossing *c = a->c;

	if (iv->mm != c->mm)
		return 0;
	if (iv->kind == PAIR_HOLD) {
		if (c->is_hold && iv->tid == c->tid && iv->start_ts == c->start_ts)
			party_from(&a->hold, iv);
		if (a->nholds == a->holds_cap) {
			size_t n = a->holds_cap ? a->holds_cap * 2 : 256;
			void *p = realloc(a->holds, n * sizeof(*a->holds));
			if (!p)
				return -1;
			a->holds = p;
			a->holds_cap = n;
		}
		a->holds[a->nholds].tid = iv->tid;
		a->holds[a->nholds].stack = iv->stack;
		a->holds[a->nholds].s = iv->start_ts;
		a->holds[a->nholds].e = iv->end_ts;
		a->holds[a->nholds].memcg = iv->memcg;
		a->holds[a->nholds].write = iv->write;
		const struct watch_probe *pr = iv->stack ? probe_find(a->w, iv->tid, iv->start_ts) : NULL;
		a->holds[a->nholds].proc = pr && pr->stack == iv->stack;
		a->nholds++;
	} else if (iv->kind == PAIR_WAIT || iv->kind == PAIR_FAILED) {
		if (!c->is_hold) {
			if (iv->tid == c->tid && iv->start_ts == c->start_ts) {
				party_from(&a->waiter, iv);
				a->ws = iv->start_ts;
				a->we = iv->end_ts;
				a->have_waiter = 1;
			}
		} else if (iv->tid != c->tid && iv->start_ts < c->end_ts && iv->end_ts > c->start_ts &&
			   (!a->have_waiter || iv->end_ts - iv->start_ts > a->waiter.ns)) {
			party_from(&a->waiter, iv);	/* the longest wait behind the crossing hold */
			a->ws = iv->start_ts;
			a->we = iv->end_ts;
			a->have_waiter = 1;
		}
	}
	return 0;
}

/* The holders of the blamed wait: holds on its mm that overlap it, by task. */
static void an_holders(struct analysis *a)
{
	for (size_t i = 0; i < a->nholds; i++) {
		uint64_t s = a->holds[i].s > a->ws ? a->holds[i].s : a->ws;
		uint64_t e = a->holds[i].e < a->we ? a->holds[i].e : a->we;
		int k;

		if (e <= s || a->holds[i].tid == a->waiter.tid)
			continue;
		for (k = 0; k < a->nh && a->h[k].tid != a->holds[i].tid; k++)
			;
		if (k == a->nh) {
			if (a->nh == (int)(sizeof(a->h) / sizeof(a->h[0])))
				continue;
			a->h[a->nh++] = (struct watch_party){ .tid = a->holds[i].tid };
		}
		struct watch_party *p = &a->h[k];
		uint64_t len = a->holds[i].e - a->holds[i].s;
		p->blamed_ns += e - s;
		p->write |= a->holds[i].write;
		if (len > p->ns) {
			p->ns = len;
			p->memcg = a->holds[i].memcg;
			if (a->holds[i].stack || !p->stack) {
				p->stack = a->holds[i].stack;
				p->stack_proc = a->holds[i].proc;
			}
		}
		if (!p->stack) {
			p->stack = a->holds[i].stack;
			p->stack_proc = a->holds[i].proc;
		}
		if (!p->stack) {	/* a read hold not in the window's events: the probe itself */
			const struct watch_probe *pr = probe_find(a->w, a->holds[i].tid, a->holds[i].s);
			if (pr) {
				p->stack = pr->stack;
				p->stack_proc = 1;
			}
		}
	}
}

static int cmp_party(const void *x, const void *y)
{
	const struct watch_party *a = x, *b = y;

	if (a->blamed_ns != b->blamed_ns)
		return a->blamed_ns > b->blamed_ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static void name_party(const struct watch *w, struct watch_party *p)
{
	const struct mml_task_info *t = meta_task(w->meta, p->tid);

	snprintf(p->comm, sizeof(p->comm), "%s", t && t->comm[0] ? t->comm : "?");
	p->tgid = t ? t->tgid : 0;
}

/* Pair the window's events again: the waiter and its holders into inc. -1: out of memory. */
static int analyse(struct watch *w, const struct mml_event *ev, size_t n, struct watch_incident *inc)
{
	struct analysis a = { .c = &w->worst, .w = w };
	struct pair p;
	int rc = 0;

	if (pair_init(&p))
		return -1;
	if (pair_subscribe(&p, an_hook, &a, PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) |
						PAIR_KIND(PAIR_HOLD))) {
		pair_fini(&p);
		return -1;
	}
	if (pair_feed(&p, ev, n))
		rc = -1;
	pair_finish(&p);
	if (!w->worst.is_hold && !a.have_waiter) {	/* its start was dropped from the ring */
		a.waiter = (struct watch_party){ .tid = w->worst.tid,
						 .ns = w->worst.end_ts - w->worst.start_ts };
		a.ws = w->worst.start_ts;
		a.we = w->worst.end_ts;
		a.have_waiter = 1;
	}
	if (a.have_waiter)
		an_holders(&a);
	if (w->worst.is_hold) {
		int k;
		if (!a.hold.tid)
			a.hold = (struct watch_party){ .tid = w->worst.tid,
						       .ns = w->worst.end_ts - w->worst.start_ts };
		for (k = 0; k < a.nh && a.h[k].tid != a.hold.tid; k++)
			;
		if (k == a.nh) {	/* the crossing hold first, whatever the overlap */
			memmove(&a.h[1], &a.h[0], sizeof(a.h[0]) * (size_t)(a.nh < 63 ? a.nh : 63));
			a.h[0] = a.hold;
			a.nh = a.nh < 64 ? a.nh + 1 : 64;
		}
	}
	qsort(a.h + (w->worst.is_hold ? 1 : 0), (size_t)a.nh - (w->worst.is_hold && a.nh ? 1 : 0),
	      sizeof(a.h[0]), cmp_party);
	inc->is_hold = w->worst.is_hold;
	if (a.have_waiter) {
		inc->waiter = a.waiter;
		name_party(w, &inc->waiter);
	}
	inc->nholders = a.nh < WATCH_HOLDERS ? a.nh : WATCH_HOLDERS;
	for (int i = 0; i < inc->nholders; i++) {
		inc->holders[i] = a.h[i];
		name_party(w, &inc->holders[i]);
	}
	pair_fini(&p);
	free(a.holds);
	return rc;
}

/*
 * The crossing the incident is named by: its longest that no loss overlaps;
 * if every one is overlapped, the longest, and the incident is suspect.
 */
static int choose_crossing(struct watch *w)
{
	int best = -1;

	for (unsigned i = 0; i < w->ncross; i++) {
		const struct watch_crossing *c = &w->cross[i];
		if (lost_in(w, c->start_ts, c->end_ts))
			continue;
		if (best < 0 || cross_len(c) > cross_len(&w->cross[best]))
			best = (int)i;
	}
	if (best >= 0) {
		w->worst = w->cross[best];
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- the file */

/*
 * Has the acquisition ev[i] a kernel stack? The pairing gives an
 * acquisition the stack event of its task that comes last before it, with
 * no other lock event of the task in between (contention events do not
 * take one), when it is on the same mm.
 */
static int has_stack(const struct mml_event *ev, size_t i)
{
	const struct mml_event *a = &ev[i];

	while (i-- > 0) {
		const struct mml_event *e = &ev[i];
		if (e->tid != a->tid || e->type == MML_EV_CONTENTION_BEGIN ||
		    e->type == MML_EV_CONTENTION_END)
			continue;
		return e->type == MML_EV_STACK && e->mm == a->mm;
	}
	return 0;
}

struct put {
	size_t at;			/* before this event */
	uint32_t stack;
};

static int cmp_put(const void *x, const void *y)
{
	size_t a = ((const struct put *)x)->at, b = ((const struct put *)y)->at;

	return a < b ? -1 : a > b;
}

/*
 * The holders' stacks read from /proc into the window's events, as the
 * kernel's stacks are: a stack event right before the hold's acquisition,
 * with its tid, ts, cpu and mm (docs/FILE-FORMAT.md), for an acquisition
 * that has none from the kernel. *ev grows; *n counted. Stacks put, or -1.
 */
static long put_probe_stacks(const struct watch *w, struct mml_event **ev, size_t *n)
{
	unsigned np = w->nprobe < WATCH_PROBES ? w->nprobe : WATCH_PROBES;
	struct put put[WATCH_PROBES];
	struct mml_event *e = *ev, *out;
	size_t k = 0, m = *n;

	for (unsigned p = 0; p < np; p++) {
		const struct watch_probe *pr = &w->probe[p];
		size_t lo = 0, hi = m;
		while (lo < hi) {		/* the first event stamped at the hold's start */
			size_t mid = lo + (hi - lo) / 2;
			if (e[mid].ts < pr->hold_ts)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < m && e[i].ts == pr->hold_ts; i++) {
			if (e[i].type != MML_EV_ACQUIRE_RETURNED || e[i].tid != pr->tid ||
			    !(e[i].flags & MML_F_SUCCESS))
				continue;
			if (!has_stack(e, i))
				put[k++] = (struct put){ i, pr->stack };
			break;
		}
	}
	if (!k)
		return 0;
	qsort(put, k, sizeof(put[0]), cmp_put);	/* one probe per hold: the places differ */
	if (!(out = malloc((m + k) * sizeof(*out))))
		return -1;
	size_t o = 0, j = 0;
	for (size_t i = 0; i < m; i++) {
		if (j < k && put[j].at == i) {
			out[o++] = (struct mml_event){ .ts = e[i].ts, .mm = e[i].mm,
						       .memcg = put[j].stack, .tid = e[i].tid,
						       .cpu = e[i].cpu, .type = MML_EV_STACK };
			j++;
		}
		out[o++] = e[i];
	}
	free(e);
	*ev = out;
	*n = o;
	return (long)k;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The distinct values of key(ev[i]), sorted, into *out. Count, or -1. */
static long distinct(const struct mml_event *ev, size_t n, int what, uint64_t **out)
{
	uint64_t *v = malloc((n + 1) * sizeof(*v));
	size_t m = 0, k = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (what == 0 && ev[i].type <= MML_EV_RELEASED)
			v[m++] = ev[i].memcg;
		else if (what == 1)
			v[m++] = ev[i].tid;
		else if (what == 2 && ev[i].type == MML_EV_STACK)
			v[m++] = ev[i].memcg;
	}
	qsort(v, m, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < m; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	*out = v;
	return (long)k;
}

static int write_meta(struct watch *w, struct mml_writer *mw, const struct mml_event *ev, size_t n)
{
	uint64_t *v;
	long k;

	if ((k = distinct(ev, n, 0, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const char *path = meta_memcg(w->meta, v[i]);
		if (path && v[i])
			mml_writer_memcg(mw, v[i], path);
	}
	free(v);
	if ((k = distinct(ev, n, 1, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const struct mml_task_info *t = meta_task(w->meta, (uint32_t)v[i]);
		if (t && v[i])
			mml_writer_task(mw, t->tid, t->tgid, t->comm, t->cgroup_id, t->cgroup);
	}
	free(v);
	if ((k = distinct(ev, n, 2, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const struct mml_stack *st = meta_stack(w->meta, (uint32_t)v[i]);
		if (st)
			mml_writer_stack(mw, st->id, st->addr, st->sym, st->n);
	}
	free(v);
	return 0;
}

static void write_info(struct watch *w, struct mml_writer *mw, const struct watch_incident *inc,
		       unsigned long nproc)
{
	struct utsname u;
	char buf[256];

	if (!uname(&u)) {
		mml_writer_info(mw, "kernel", u.release);
		mml_writer_info(mw, "hostname", u.nodename);
		mml_writer_info(mw, "machine", u.machine);
	}
	mml_writer_info(mw, "clock", "mono");
	mml_writer_info(mw, "tool", "mmaplock watch");
	mml_writer_info(mw, "backend", w->o.backend ? w->o.backend : "tracefs");
	mml_writer_info(mw, "stacks", w->o.stacks ? w->o.stacks : "write acquisitions, contended waits");
	snprintf(buf, sizeof(buf), "%s %.3f ms, task %u", inc->is_hold ? "hold" : "wait",
		 (w->worst.end_ts - w->worst.start_ts) / 1e6, w->worst.tid);
	mml_writer_info(mw, "incident", buf);
	snprintf(buf, sizeof(buf), "%u", inc->crossings);
	mml_writer_info(mw, "incident_crossings", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)w->ring_dropped);
	mml_writer_info(mw, "ring_dropped", buf);
	if (nproc) {		/* stack events whose stack was read from /proc/TID/stack */
		snprintf(buf, sizeof(buf), "%lu", nproc);
		mml_writer_info(mw, "stacks_from_proc", buf);
	}
	if (inc->suspect)
		mml_writer_info(mw, "incident_suspect", "events lost where they could make the crossing");
}

/* The loss of the window, one LOST entry per CPU (spans that overlap it). The total. */
static uint64_t window_lost(const struct watch *w, struct mml_writer *mw)
{
	uint64_t total = 0;
	uint32_t maxcpu = 0;

	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].cpu > maxcpu)
			maxcpu = w->loss[i].cpu;
	for (uint32_t cpu = 0; w->nloss && cpu <= maxcpu; cpu++) {
		uint64_t n = 0;
		for (size_t i = 0; i < w->nloss; i++)
			if (w->loss[i].cpu == cpu && w->loss[i].from_ts <= w->inc_end &&
			    w->loss[i].to_ts >= w->inc_start)
				n += w->loss[i].count;
		if (n && mw)
			mml_writer_lost(mw, cpu, n);
		total += n;
	}
	return total;
}

/* Events of the window, per CPU stream. */
static int write_events(struct mml_writer *mw, const struct mml_event *ev, size_t n)
{
	struct mml_event *buf = malloc((n + 1) * sizeof(*buf));
	uint32_t maxcpu = 0;

	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (ev[i].cpu > maxcpu)
			maxcpu = ev[i].cpu;
	for (uint32_t cpu = 0; cpu <= maxcpu; cpu++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (ev[i].cpu == cpu)
				buf[m++] = ev[i];
		if (m && mml_writer_events(mw, cpu, buf, (uint32_t)m)) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* DIR/incident-YYYYmmdd-HHMMSS.mmm[-N].mml, never over an existing file: link, then unlink tmp. */
static int commit_name(struct watch *w, const char *tmp, uint64_t rt_ns, char *out, size_t len)
{
	time_t sec = (time_t)(rt_ns / 1000000000ull);
	struct tm tm;
	char stamp[64];

	localtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(out, len, "%s/incident-%s.%03u.mml", w->o.dir, stamp,
				 (unsigned)(rt_ns / 1000000ull % 1000));
		else
			snprintf(out, len, "%s/incident-%s.%03u-%d.mml", w->o.dir, stamp,
				 (unsigned)(rt_ns / 1000000ull % 1000), i);
		if (!link(tmp, out)) {
			unlink(tmp);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static uint64_t mono_to_real(uint64_t ts)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	uint64_t r = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	uint64_t m = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	return ts <= m ? r - (m - ts) : r;
}

/* Write the open incident, hand it to the callback. 0, or -1 out of memory. */
static int write_incident(struct watch *w)
{
	struct watch_ring *r = &w->ring;
	struct watch_incident inc = { .crossings = w->inc_crossings, .meta = w->meta };
	struct mml_event *ev;
	size_t n = 0;
	char tmp[PATH_MAX], path[PATH_MAX];
	int rc = 0;

	w->open = 0;
	w->last_end_ts = w->worst.end_ts;
	ev = malloc((r->n + 1) * sizeof(*ev));
	if (!ev)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct mml_event *e = ring_at(r, i);
		if (e->ts >= w->inc_start && e->ts <= w->inc_end)
			ev[n++] = *e;
	}
	long nproc = put_probe_stacks(w, &ev, &n);
	if (nproc < 0) {
		free(ev);
		return -1;
	}
	inc.suspect = choose_crossing(w);
	if (analyse(w, ev, n, &inc))
		rc = -1;
	/* no holder seen, and events lost since before the wait: the holder's may be those */
	if (!inc.suspect && !inc.is_hold && !inc.nholders &&
	    lost_in(w, w->worst.start_ts > horizon(w) ? w->worst.start_ts - horizon(w) : 0, w->worst.end_ts))
		inc.suspect = 1;
	inc.lost = window_lost(w, NULL) + w->lost_pending;
	w->lost_pending = 0;
	inc.realtime_ns = mono_to_real(w->worst.end_ts);
	inc.events = n;
	inc.backend = w->o.backend ? w->o.backend : "tracefs";

	struct mml_file_header h = { 0 };
	h.source = MML_SOURCE_KERNEL;
	h.ncpus = (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
	h.start_ts_ns = n ? ev[0].ts : w->inc_start;
	h.start_realtime_ns = mono_to_real(h.start_ts_ns);
	h.clock = MML_CLOCK_MONOTONIC;
	snprintf(tmp, sizeof(tmp), "%s/.incident-XXXXXX", w->o.dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0) {			/* mkstemp's 0600: the mode record gives its files instead */
		mode_t um = umask(0);
		umask(um);
		fchmod(fd, 0666 & ~um);
	}
	struct mml_writer *mw = fd >= 0 ? mml_writer_fdopen(fd, &h) : NULL;
	int werr = !mw;
	if (mw) {
		write_info(w, mw, &inc, (unsigned long)nproc);
		werr = write_meta(w, mw, ev, n) || write_events(mw, ev, n);
		window_lost(w, mw);	/* per CPU; the END block's total adds the back-end's gaps */
		werr |= mml_writer_close(mw, n, inc.lost) != 0;
	}
	free(ev);
	struct stat st;
	if (!werr && !stat(tmp, &st) && w->o.max_bytes && w->bytes + (uint64_t)st.st_size > w->o.max_bytes) {
		fprintf(stderr, "%s: incident not written: the files of this run would pass the disk cap (%llu MB)\n",
			w->o.prog, (unsigned long long)(w->o.max_bytes >> 20));
		unlink(tmp);
		w->write_errors++;
		return rc;
	}
	if (werr || commit_name(w, tmp, inc.realtime_ns, path, sizeof(path))) {
		fprintf(stderr, "%s: %s: cannot write the incident: %s\n", w->o.prog, w->o.dir,
			strerror(errno ? errno : EIO));
		if (fd >= 0)
			unlink(tmp);
		w->write_errors++;
		return rc;
	}
	w->bytes += (uint64_t)st.st_size;
	if (inc.suspect)
		w->suspects++;
	else
		w->incidents++;
	inc.file = path;
	if (w->cb)
		w->cb(w->cb_ctx, &inc);
	return rc;
}

/* ---------------------------------------------------------------- interface */

static int live_pairing(struct watch *w);

int watch_init(struct watch *w, const struct watch_opts *o, struct mml_meta *meta,
	       watch_cb cb, void *cb_ctx)
{
	memset(w, 0, sizeof(*w));
	w->o = *o;
	if (!w->o.max_events)
		w->o.max_events = RING_START;
	w->meta = meta;
	w->cb = cb;
	w->cb_ctx = cb_ctx;
	return live_pairing(w);
}

void watch_fini(struct watch *w)
{
	pair_fini(&w->pair);
	u64map_free(&w->wait_mm);
	u64map_free(&w->wait_ts);
	u64map_free(&w->hold_mm);
	u64map_free(&w->hold_ts);
	u64map_free(&w->probed);
	free(w->loss);
	w->loss = NULL;
	free(w->ring.ev);
	w->ring.ev = NULL;
}

static int done(const struct watch *w)
{
	return w->o.max_incidents && w->incidents >= w->o.max_incidents;
}

int watch_events(struct watch *w, const struct mml_event *ev, size_t n)
{
	if (w->err)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct mml_event e = ev[i];

		if (fix_stack_mm(w, &e))
			return -1;
		if (e.ts > w->newest_ts)
			w->newest_ts = e.ts;
		if (w->open && e.ts > w->inc_end && write_incident(w))
			return -1;
		if (done(w))
			return 1;
		ring_push(w, &e);
		if (!w->o.external && pair_feed(&w->pair, &e, 1))
			return -1;
	}
	return 0;
}

/* Subscribe the live crossing detection to a fresh pairing. */
static int live_pairing(struct watch *w)
{
	if (pair_init(&w->pair))
		return -1;
	if (pair_subscribe(&w->pair, live_hook, w, PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) |
						   PAIR_KIND(PAIR_HOLD))) {
		pair_fini(&w->pair);
		return -1;
	}
	return 0;
}

void watch_gap(struct watch *w, uint64_t lost)
{
	w->lost += lost;
	w->lost_pending += lost;
	pair_fini(&w->pair);
	u64map_free(&w->wait_mm);
	if (live_pairing(w))
		w->err = 1;
}

int watch_crossing(struct watch *w, uint32_t tid, uint64_t mm, uint64_t start_ts, uint64_t end_ts,
		   int is_hold)
{
	struct pair_interval iv = { .kind = is_hold ? PAIR_HOLD : PAIR_WAIT, .tid = tid, .mm = mm,
				    .start_ts = start_ts, .end_ts = end_ts };

	if (w->err)
		return -1;
	if (w->open && end_ts > w->inc_end && write_incident(w))
		return -1;
	if (done(w))
		return 1;
	on_crossing(w, &iv, is_hold);
	return 0;
}

int watch_late_stack(struct watch *w, const struct mml_event *st)
{
	struct watch_ring *r = &w->ring;
	size_t i = r->n;

	while (i > 0 && ring_at(r, i - 1)->ts >= st->ts)
		i--;
	if (!r->n || (i == 0 && ring_at(r, 0)->ts != st->ts))
		return 0;		/* older than the ring */
	if (r->n == r->cap) {
		size_t ncap = r->cap * 2 > w->o.max_events ? w->o.max_events : r->cap * 2;
		if (ncap <= r->cap || ring_grow(r, ncap)) {
			if (!i)
				return 0;
			ring_pop(r);		/* at the cap: the oldest goes, counted */
			w->ring_dropped++;
			i--;
		}
	}
	for (size_t j = r->n; j > i; j--)
		*ring_at(r, j) = *ring_at(r, j - 1);
	*ring_at(r, i) = *st;
	r->n++;
	return 0;
}

int watch_tick(struct watch *w, uint64_t now_ts)
{
	probe_holders(w);
	if (w->open && now_ts > w->inc_end && write_incident(w))
		return -1;
	return done(w);
}

void watch_finish(struct watch *w)
{
	if (w->open)
		write_incident(w);
}
