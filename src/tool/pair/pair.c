/* SPDX-License-Identifier: MIT */
/*
 * pair.c: turns the event stream into waits and holds (pair.h).
 *
 * One state per (tid, mm): an optional wait (start_locking seen, answer
 * pending) and an optional hold (acquired, release pending). The rules, all
 * in docs/REPORT.md:
 *  - start_locking: opens a wait. A wait already open means an event went
 *    missing (lost events, or a trace cut): it is dropped, `restart`.
 *  - acquire_returned: closes the wait. success -> an acquisition (read or
 *    write by the event's flag), the wait recorded, a hold opened; failure ->
 *    `failed`, no hold. Without a wait it is a trylock (the kernel's
 *    mmap_read_trylock fires acquire_returned only): counted, no wait sample.
 *    acquire_returned(write=false, success) while this task holds the mm for
 *    write and no wait is open is a downgrade: `downgrades`, the hold goes on
 *    (it keeps its write attribution and ends at the read release).
 *  - released: closes this task's hold on the mm. Nobody of that task
 *    holding it: if another task holds the mm for read, the oldest such hold
 *    is closed (mmap_read_unlock_non_owner), `non_owner_releases`; else
 *    `release_without_acquire` (the trace began mid-hold, or events lost).
 *  - lock:contention_begin inside a task's open wait marks it contended;
 *    contention events outside one (other locks) count `contention_other`.
 *  - a stack event (MML_EV_STACK) belongs to the next start_locking,
 *    acquire_returned or released of its task: that event takes it when it
 *    is on the same mm. Waits carry start_locking's stack (else
 *    acquire_returned's), holds acquire_returned's (pair_interval.stack).
 *  - any interval whose end is before its start is dropped, `negative`.
 * Nothing is ever invented: a broken sequence loses its interval and
 * gains a counter.
 *
 * Every interval goes to the subscribers that take its kind (pair.h);
 * when none does, it is not even built, so a pairing read for its
 * counters alone costs no calls.
 */
#include <stdlib.h>
#include <string.h>
#include "pair.h"

/* An open wait or an open hold of a state. */
struct pair_span {
	uint64_t ts;			/* where it began */
	uint32_t stack;			/* stack id (0: none) */
	uint8_t on, write;		/* open; a write (else a read) */
};

struct pair_state {
	uint64_t mm;
	uint32_t tid;
	uint8_t used, contended, hold_read_now, hold_bits;	/* HB_* */
	uint64_t memcg;
	void *user;			/* the first subscriber's slot; NULL when memcg changed */
	struct pair_span wait, hold;
};

_Static_assert(sizeof(struct pair_state) == 64, "a pairing state is 64 bytes");

#define HB_TRYLOCK	1
#define HB_DOWNGRADED	2

#define EM_NON_OWNER	1
#define EM_REPLACED	2
#define EM_TRYLOCK	4
#define EM_FAILED	8

/* Hand an interval to the subscribers that take its kind. em: EM_*. */
static inline __attribute__((always_inline)) int
emit(struct pair *p, enum pair_kind kind, struct pair_state *s,
     uint64_t start, uint64_t end, int write, int em, uint32_t stack)
{
	struct pair_interval iv;
	uint64_t mm, memcg;
	uint32_t tid;

	if (!p->ncall[kind])
		return 0;
	/*
	 * One scalar load a field: the compiler merged them into 16-byte
	 * loads over bytes of the state stored an event earlier, and such a
	 * load waits for the store to retire (no store forwarding): a third
	 * of the pairing's time.
	 */
	mm = s->mm, memcg = s->memcg, tid = s->tid;
	__asm__("" : "+r"(mm), "+r"(memcg), "+r"(tid));
	iv = (struct pair_interval){
		.kind = kind, .tid = tid, .mm = mm, .memcg = memcg,
		.start_ts = start, .end_ts = end, .write = (uint8_t)write,
		.contended = s->contended,
		.downgraded = (s->hold_bits & HB_DOWNGRADED) != 0,
		.trylock = (s->hold_bits & HB_TRYLOCK) != 0 || (em & EM_TRYLOCK),
		.non_owner = (em & EM_NON_OWNER) != 0,
		.replaced = (em & EM_REPLACED) != 0,
		.failed = (em & EM_FAILED) != 0,
		.stack = stack,
		.slot = &s->user,
	};
	for (unsigned i = 0; i < p->ncall[kind]; i++) {
		const struct pair_call *c = &p->call[kind][i];
		int rc;

		if (!c->first)
			iv.slot = NULL;		/* the slot is the first subscriber's */
		if ((rc = c->fn(c->ctx, &iv)))
			return rc;
	}
	return 0;
}

struct pair_key {
	uint32_t tid;
	uint64_t mm;
};

#define PK_HASH(k) hash64_pair((k).mm, (k).tid)
#define PK_OF(e) ((struct pair_key){ (e)->tid, (e)->mm })
#define PK_EQ(a, b) ((a).tid == (b).tid && (a).mm == (b).mm)
#define PS_USED(e) ((e)->used)
HASHMAP_FUNCS(pairtab, pairtab, struct pair_state, struct pair_key, PK_HASH, PK_OF, PK_EQ,
	      PS_USED)

int pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	return !pairtab_rehash(&p->tab, 1024, NULL, NULL) && !tidmap_init(&p->tids) ? 0 : -1;
}

void pair_fini(struct pair *p)
{
	pairtab_fini(&p->tab);
	tidmap_fini(&p->tids);
}

int pair_subscribe_each(struct pair *p, const pair_fn on[PAIR_NKINDS], void *ctx)
{
	if (p->nsub == PAIR_MAX_SUBS)
		return -1;
	for (int k = 0; k < PAIR_NKINDS; k++)
		if (on[k])
			p->call[k][p->ncall[k]++] = (struct pair_call){ on[k], ctx, p->nsub == 0 };
	p->nsub++;
	return 0;
}

int pair_subscribe(struct pair *p, pair_fn fn, void *ctx, unsigned kinds)
{
	pair_fn on[PAIR_NKINDS] = { 0 };

	for (int k = 0; k < PAIR_NKINDS; k++)
		if (kinds & PAIR_KIND(k))
			on[k] = fn;
	return pair_subscribe_each(p, on, ctx);
}

static size_t find(const struct pair *p, uint32_t tid, uint64_t mm)
{
	return pairtab_pos(&p->tab, (struct pair_key){ tid, mm });
}

/* Is s open (kept by a rebuild past the idle allowance)? */
static int state_open(const struct pair_state *s, void *ctx)
{
	return s->wait.on || s->hold.on;
}

/*
 * Closed states are not removed one by one (that would cost a deletion per
 * release): they stay as idle entries, which also keeps the (tid, mm) ->
 * group lookup cached for the next acquisition. When the table reaches half
 * full it doubles, idle entries kept, up to PAIR_IDLE_SLOTS slots (4 MiB);
 * from there on a full table is rebuilt with the open states only, and
 * doubled only if those alone fill a quarter of it: memory is that fixed
 * allowance plus what is open at one time, never proportional to events.
 */
#define PAIR_IDLE_SLOTS 65536

/* A new state for (tid, mm) at its empty slot i; out of line: rare. (size_t)-1: no memory. */
static __attribute__((noinline)) size_t insert(struct pair *p, uint32_t tid, uint64_t mm, size_t i)
{
	if ((p->tab.n + 1) * 2 > p->tab.cap) {
		if (pairtab_make_room(&p->tab, PAIR_IDLE_SLOTS, state_open, NULL))
			return (size_t)-1;
		i = find(p, tid, mm);
	}
	pairtab_claim(&p->tab, i);
	p->tab.t[i].used = 1;
	p->tab.t[i].tid = tid;
	p->tab.t[i].mm = mm;
	return i;
}

/* The slot for (tid, mm), created if create. (size_t)-1: none / no memory. */
static inline size_t get(struct pair *p, uint32_t tid, uint64_t mm, int create)
{
	size_t i = p->last[tid & (PAIR_LAST - 1)];

	/* checked by content, so a stale entry (after a rebuild) is harmless */
	if (i < p->tab.cap && p->tab.t[i].tid == tid && p->tab.t[i].mm == mm && p->tab.t[i].used)
		return i;
	i = find(p, tid, mm);
	if (!p->tab.t[i].used) {
		if (!create)
			return (size_t)-1;
		if ((i = insert(p, tid, mm, i)) == (size_t)-1)
			return i;
	}
	p->last[tid & (PAIR_LAST - 1)] = i;
	return i;
}

/* s's events are now in memcg: what a subscriber cached for another memcg is forgotten. */
static inline void set_memcg(struct pair_state *s, uint64_t memcg)
{
	if (s->memcg != memcg) {
		s->memcg = memcg;
		s->user = NULL;
	}
}

static inline int close_hold(struct pair *p, struct pair_state *s, uint64_t ts, int non_owner)
{
	int em = non_owner ? EM_NON_OWNER : 0, rc;

	/*
	 * The state is written after the emit: emit copies it in wide loads,
	 * and a load over a byte just stored stalls (no store forwarding).
	 */
	if (ts < s->hold.ts) {
		p->um.negative++;
		rc = emit(p, PAIR_HOLD_DROPPED, s, s->hold.ts, ts, s->hold.write, em, s->hold.stack);
	} else {
		rc = emit(p, PAIR_HOLD, s, s->hold.ts, ts, s->hold.write, em, s->hold.stack);
	}
	s->hold.on = 0;
	return rc;
}

/* The oldest read hold on mm by a task other than tid (mmap_read_unlock_non_owner). */
static size_t oldest_reader(struct pair *p, uint32_t tid, uint64_t mm)
{
	size_t best = (size_t)-1;

	for (size_t i = 0; i < p->tab.cap; i++) {
		struct pair_state *s = &p->tab.t[i];
		if (s->used && s->hold.on && s->mm == mm && s->tid != tid && s->hold_read_now &&
		    (best == (size_t)-1 || s->hold.ts < p->tab.t[best].hold.ts ||
		     (s->hold.ts == p->tab.t[best].hold.ts && s->tid < p->tab.t[best].tid)))
			best = i;	/* a tie: the lower tid, not the table's order */
	}
	return best;
}

/* For the tid map's rebuilds: is the wait that t points at still open? */
static int wait_open(void *ctx, const struct tid_state *t)
{
	struct pair *p = ctx;
	size_t i = find(p, t->tid, t->wait_mm);

	return p->tab.t[i].used && p->tab.t[i].wait.on;
}

/* The stack of e (a lock event of e->tid): see tidmap_stack_take(). */
static inline uint32_t take_stack(struct pair *p, const struct mml_event *e)
{
	return tidmap_stack_take(&p->tids, e->tid, e->mm);
}

/* The state of tid's open wait, for its contention events. NULL: none. */
static inline struct pair_state *open_wait(struct pair *p, uint32_t tid)
{
	struct tid_state *t = tidmap_find(&p->tids, tid);
	size_t i;

	if (!t || !t->has_wait || (i = get(p, tid, t->wait_mm, 0)) == (size_t)-1)
		return NULL;
	return p->tab.t[i].wait.on ? &p->tab.t[i] : NULL;
}

static int on_stack(struct pair *p, const struct mml_event *e)
{
	p->events--;
	p->stack_events++;
	return tidmap_stack_set(&p->tids, e->tid, e->mm, (uint32_t)e->memcg, wait_open, p);
}

/*
 * span_open(): sp, the wait or the hold of s, opens at e->ts. The BEGIN
 * interval goes out first, marked replaced when one was open already (that
 * one is dropped, and counted in *replaced); then sp remembers the new one.
 */
static inline __attribute__((always_inline)) int
span_open(struct pair *p, enum pair_kind begin, struct pair_state *s, struct pair_span *sp,
	  const struct mml_event *e, int w, uint32_t st, uint64_t *replaced)
{
	int was = sp->on, rc;

	*replaced += was;
	/* emitted before the stores below: read back at once, they stalled the copy */
	if ((rc = emit(p, begin, s, e->ts, 0, w, was ? EM_REPLACED : 0, st)))
		return rc;
	sp->stack = st;
	sp->on = 1;
	sp->ts = e->ts;
	sp->write = (uint8_t)w;
	return 0;
}

static int on_start_locking(struct pair *p, const struct mml_event *e, int w)
{
	uint32_t st = take_stack(p, e);
	struct tid_state *t = tidmap_get(&p->tids, e->tid, wait_open, p);
	struct pair_state *s;
	size_t i;

	if (!t)
		return -1;
	t->wait_mm = e->mm;
	t->has_wait = 1;
	if ((i = get(p, e->tid, e->mm, 1)) == (size_t)-1)
		return -1;
	s = &p->tab.t[i];
	set_memcg(s, e->memcg);
	s->contended = 0;
	return span_open(p, PAIR_WAIT_BEGIN, s, &s->wait, e, w, st, &p->um.restart);
}

/* acquire_returned(failure): the wait (or trylock) failed, no hold. */
static int acquire_failed(struct pair *p, struct pair_state *s, const struct mml_event *e,
			  int w, uint32_t st)
{
	uint32_t wst = s->wait.stack ? s->wait.stack : st;
	int rc;

	if (!s->wait.on)	/* a failed trylock: no wait */
		return emit(p, PAIR_FAILED, s, e->ts, e->ts, w, EM_TRYLOCK, st);
	if (e->ts < s->wait.ts)
		rc = emit(p, PAIR_WAIT_DROPPED, s, s->wait.ts, e->ts, s->wait.write, EM_FAILED, wst);
	else
		rc = emit(p, PAIR_FAILED, s, s->wait.ts, e->ts, s->wait.write, 0, wst);
	s->wait.on = 0;
	return rc;
}

/* acquire_returned(success): the wait (if any) closes, a hold opens. */
static int acquired(struct pair *p, struct pair_state *s, const struct mml_event *e,
		    int w, uint32_t st)
{
	int rc = 0;

	if (s->wait.on) {
		uint32_t wst = s->wait.stack ? s->wait.stack : st;

		if (e->ts < s->wait.ts) {
			p->um.negative++;
			rc = emit(p, PAIR_WAIT_DROPPED, s, s->wait.ts, e->ts, s->wait.write, 0, wst);
		} else {
			rc = emit(p, PAIR_WAIT, s, s->wait.ts, e->ts, s->wait.write, 0, wst);
		}
		s->wait.on = 0;
		s->hold_bits = 0;
	} else {
		s->hold_bits = HB_TRYLOCK;
	}
	if (rc)
		return rc;
	if ((rc = span_open(p, PAIR_HOLD_BEGIN, s, &s->hold, e, w, st, &p->um.nested)))
		return rc;
	s->hold_read_now = (uint8_t)!w;
	return 0;
}

static int on_acquire_returned(struct pair *p, const struct mml_event *e, int w)
{
	uint32_t st = take_stack(p, e);
	struct pair_state *s;
	size_t i;

	if ((i = get(p, e->tid, e->mm, 1)) == (size_t)-1)
		return -1;
	s = &p->tab.t[i];
	if (!s->wait.on && s->hold.on && s->hold.write && !w &&
	    (e->flags & MML_F_SUCCESS) && !s->hold_read_now) {
		/* downgrade: the hold continues, now shared */
		s->hold_read_now = 1;
		s->hold_bits |= HB_DOWNGRADED;
		return emit(p, PAIR_DOWNGRADE, s, e->ts, e->ts, s->hold.write, 0, s->hold.stack);
	}
	set_memcg(s, e->memcg);
	if (!(e->flags & MML_F_SUCCESS))
		return acquire_failed(p, s, e, w, st);
	return acquired(p, s, e, w, st);
}

static int on_released(struct pair *p, const struct mml_event *e, int w)
{
	size_t i;

	(void)take_stack(p, e);		/* a hold carries its acquisition's */
	i = get(p, e->tid, e->mm, 0);
	if (i != (size_t)-1 && p->tab.t[i].hold.on)
		return close_hold(p, &p->tab.t[i], e->ts, 0);
	if (!w && (i = oldest_reader(p, e->tid, e->mm)) != (size_t)-1) {
		p->um.non_owner_releases++;
		return close_hold(p, &p->tab.t[i], e->ts, 1);
	}
	p->um.release_without_acquire++;
	return 0;
}

static void on_contention(struct pair *p, const struct mml_event *e)
{
	struct pair_state *s;

	p->contention_events++;
	if ((s = open_wait(p, e->tid))) {
		if (e->type == MML_EV_CONTENTION_BEGIN)
			s->contended = 1;
	} else {
		p->contention_other++;
		p->um.contention_unmatched++;	/* the old name of the same count */
	}
}

int pair_feed(struct pair *p, const struct mml_event *ev, size_t n)
{
	p->events += n;
	for (size_t k = 0; k < n; k++) {
		const struct mml_event *e = &ev[k];
		int w = (e->flags & MML_F_WRITE) != 0, rc = 0;

		switch (e->type) {
		case MML_EV_STACK:
			rc = on_stack(p, e);
			break;
		case MML_EV_START_LOCKING:
			rc = on_start_locking(p, e, w);
			break;
		case MML_EV_ACQUIRE_RETURNED:
			rc = on_acquire_returned(p, e, w);
			break;
		case MML_EV_RELEASED:
			rc = on_released(p, e, w);
			break;
		case MML_EV_CONTENTION_BEGIN:
		case MML_EV_CONTENTION_END:
			on_contention(p, e);
			break;
		}
		if (rc)
			return rc;
	}
	return 0;
}

void pair_finish(struct pair *p)
{
	for (size_t i = 0; i < p->tab.cap; i++) {
		struct pair_state *s = &p->tab.t[i];
		if (!s->used)
			continue;
		p->um.open_waits_at_end += s->wait.on;
		p->um.open_holds_at_end += s->hold.on;
	}
	p->um.open_at_end = p->um.open_waits_at_end + p->um.open_holds_at_end;
}

void pair_stats(const struct pair *p, struct run_stats *st)
{
	const struct pair_unmatched *u = &p->um;

	*st = (struct run_stats){
		.events = p->events,
		.unmatched = u->release_without_acquire + u->open_at_end + u->restart +
			     u->nested + u->negative,
		.contention_marked = p->contention_events != 0,
		.stack_events = p->stack_events,
		.contention_events = p->contention_events,
		.contention_other = p->contention_other,
		.um = *u,
	};
}
