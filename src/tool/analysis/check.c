/* SPDX-License-Identifier: MIT */
/*
 * check.c: the lock-usage rules of `mmaplock check` (check.h).
 *
 * State per (tid, mm): seen (the task had an event on that mm), waiting,
 * held (mode, since when, downgraded), and whether its last event on that
 * mm was a release. Per task: the mms it holds, in the order it took them.
 * Per ordered pair of mms (a, b): the first task that took b while holding
 * a. The rules (docs/CHECK.md):
 *  - start_locking on an mm the task holds: write after read when it asks
 *    for write while holding for read (an upgrade: it waits for itself),
 *    else self-deadlock;
 *  - start_locking, or an acquisition without one (trylock), flagged
 *    hardirq / softirq / NMI: irq context;
 *  - acquired b while holding a, and some task took a while holding b:
 *    order inversion, once per pair of mms;
 *  - released while not holding it: legal when another task holds the mm
 *    for read (mmap_read_unlock_non_owner; the oldest such hold ends); a
 *    double release when the task's last event on that mm was a release; a
 *    release without acquire when the task had other events on that mm
 *    before; nothing when it is the task's first event on that mm (the
 *    trace began while it held the lock);
 *  - a hold longer than max_hold_ns, at its release.
 * acquire_returned(read, success) while holding for write with no wait
 * open is mmap_write_downgrade(): the hold goes on.
 * Stack events (format 1.1) are not lock events: each gives its stack to
 * the next event of its task on the same mm (as in pair.c); a finding
 * carries the stacks of the events it names.
 */
#include <stdlib.h>
#include <string.h>
#include "check.h"

struct check_state {
	uint64_t mm;
	uint64_t wait_ts, hold_ts;
	uint32_t tid;
	uint8_t used, seen, waiting, held;
	uint8_t hold_write, downgraded, released_last, pad;
	uint32_t hold_stack;		/* of the acquisition, or of the last release */
};

#define TASK_HELD 8		/* mms one task holds at once that order checks follow */

struct check_task {
	uint32_t tid;
	uint8_t used, n;
	uint64_t mm[TASK_HELD];
};

struct check_edge {
	uint64_t a, b, ts;
	uint32_t tid, stack;		/* the first taker of b while holding a, its stack */
	uint8_t used, reported;
};

struct two { uint64_t a, b; };	/* (mm, tid) of a state, (a, b) of an edge */
#define TWO_EQ(x, y) ((x).a == (y).a && (x).b == (y).b)
#define TWO_HASH(k) hash64_pair((k).a, (k).b)
#define USED(e) ((e)->used)
#define STATE_KEY(e) ((struct two){ (e)->mm, (e)->tid })
#define TASK_KEY(e) ((e)->tid)
#define EDGE_KEY(e) ((struct two){ (e)->a, (e)->b })
HASHMAP_FUNCS(check_states, states, struct check_state, struct two, TWO_HASH, STATE_KEY, TWO_EQ,
	      USED)
HASHMAP_FUNCS(check_tasks, tasks, struct check_task, uint32_t, hash64, TASK_KEY, HASHMAP_NUM_EQ,
	      USED)
HASHMAP_FUNCS(check_edges, edges, struct check_edge, struct two, TWO_HASH, EDGE_KEY, TWO_EQ, USED)

static const char *names[CK_NKINDS] = {
	"release_without_acquire", "double_release", "self_deadlock", "write_after_read",
	"irq_context", "long_hold", "order_inversion",
};

const char *check_kind_name(enum check_kind k)
{
	return k < CK_NKINDS ? names[k] : "?";
}

int check_init(struct check *c, uint64_t max_hold_ns, check_report_fn report, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->max_hold_ns = max_hold_ns;
	c->report = report;
	c->ctx = ctx;
	if (states_rehash(&c->t, 1024, NULL, NULL) || tidmap_init(&c->tids)) {
		check_fini(c);
		return -1;
	}
	return 0;
}

void check_fini(struct check *c)
{
	states_fini(&c->t);
	tasks_fini(&c->tasks);
	edges_fini(&c->edges);
	tidmap_fini(&c->tids);
}

static struct check_state *state(struct check *c, uint32_t tid, uint64_t mm)
{
	int isnew;
	struct check_state *s = states_add(&c->t, (struct two){ mm, tid }, &isnew);

	if (s && isnew) {
		s->used = 1;
		s->tid = tid;
		s->mm = mm;
	}
	return s;
}

static struct check_task *task(struct check *c, uint32_t tid)
{
	int isnew;
	struct check_task *t = tasks_add(&c->tasks, tid, &isnew);

	if (t && isnew) {
		t->used = 1;
		t->tid = tid;
	}
	return t;
}

/* The edge (a, b), created if create. */
static struct check_edge *edge(struct check *c, uint64_t a, uint64_t b, int create)
{
	int isnew;
	struct check_edge *e;

	if (!create)
		return edges_find(&c->edges, (struct two){ a, b });
	e = edges_add(&c->edges, (struct two){ a, b }, &isnew);
	if (e && isnew) {
		e->used = 1;
		e->a = a;
		e->b = b;
	}
	return e;
}

static void found(struct check *c, struct check_finding *f)
{
	f->memcg = c->memcg;	/* a finding shows at the event being read */
	c->count[f->kind]++;
	if (c->report)
		c->report(c->ctx, f);
}

static void task_drop(struct check *c, uint32_t tid, uint64_t mm)
{
	struct check_task *t = task(c, tid);

	for (unsigned i = 0; t && i < t->n; i++)
		if (t->mm[i] == mm) {
			memmove(&t->mm[i], &t->mm[i + 1], (t->n - i - 1) * sizeof(t->mm[0]));
			t->n--;
			return;
		}
}

static void end_hold(struct check *c, struct check_state *s, uint64_t ts, uint32_t stack)
{
	if (c->max_hold_ns && ts > s->hold_ts && ts - s->hold_ts > c->max_hold_ns) {
		struct check_finding f = { .kind = CK_LONG_HOLD, .tid = s->tid, .mm = s->mm,
					   .ts = ts, .ts2 = s->hold_ts, .write = s->hold_write,
					   .len = ts - s->hold_ts, .stack = stack,
					   .stack2 = s->hold_stack };
		found(c, &f);
	}
	s->held = 0;
	task_drop(c, s->tid, s->mm);
}

/*
 * mm is a new address space (fork): the orders seen with an older mm at the
 * same address no longer apply. Rare (one scan of the edges per fork).
 */
static int edge_has(const struct check_edge *e, void *mm)
{
	return e->a == *(uint64_t *)mm || e->b == *(uint64_t *)mm;
}

static void reborn(struct check *c, uint64_t mm)
{
	edges_del_if(&c->edges, edge_has, &mm);
}

/* tid took mm at ts: check the order against the mms it already holds. 0 or -1 (memory). */
static int order(struct check *c, uint32_t tid, uint64_t mm, uint64_t ts, int write,
		 uint32_t stack)
{
	struct check_task *t = task(c, tid);

	if (!t)
		return -1;
	/*
	 * fork's dup_mmap() write-locks the new mm inside the parent's write
	 * hold (the kernel annotates it SINGLE_DEPTH_NESTING): the new mm may
	 * sit at the address of a freed one, so its old orders are forgotten.
	 * Kernel traces only: a libmmaplock program has no dup_mmap(), and
	 * reading its nested write locks that way hides its real inversions.
	 */
	if (write && t->n && !c->library) {
		for (unsigned i = 0; i < t->n; i++) {
			struct check_state *h = state(c, tid, t->mm[i]);
			if (h && h->held && h->hold_write && !h->downgraded) {
				reborn(c, mm);
				break;
			}
		}
	}
	for (unsigned i = 0; i < t->n; i++) {
		struct check_edge *e, *r;
		if (t->mm[i] == mm)
			return 0;	/* nested: a self-deadlock finding already, or a trylock */
		if (!(e = edge(c, t->mm[i], mm, 1)))
			return -1;
		if (!e->tid && !e->ts) {
			e->tid = tid;
			e->ts = ts;
			e->stack = stack;
		}
		r = edge(c, mm, t->mm[i], 0);
		if (r && !r->reported && !e->reported) {
			struct check_finding f = { .kind = CK_ORDER_INVERSION, .tid = tid,
						   .mm = t->mm[i], .mm2 = mm, .ts = ts,
						   .write = (uint8_t)write,
						   .tid2 = r->tid, .ts2 = r->ts, .stack = stack,
						   .stack2 = r->stack };
			e->reported = r->reported = 1;
			found(c, &f);
		}
	}
	if (t->n < TASK_HELD)
		t->mm[t->n++] = mm;
	return 0;
}

/* The oldest read hold on mm by a task other than tid. */
static struct check_state *oldest_reader(struct check *c, uint32_t tid, uint64_t mm)
{
	struct check_state *best = NULL;

	for (struct check_state *s = states_next(&c->t, NULL); s; s = states_next(&c->t, s)) {
		if (s->held && s->mm == mm && s->tid != tid &&
		    (!s->hold_write || s->downgraded) && (!best || s->hold_ts < best->hold_ts))
			best = s;
	}
	return best;
}

static void irq(struct check *c, const struct mml_event *e, uint32_t stack)
{
	uint8_t x = e->flags & (MML_F_HARDIRQ | MML_F_SOFTIRQ | MML_F_NMI);

	if (x) {
		struct check_finding f = { .kind = CK_IRQ_CONTEXT, .tid = e->tid, .mm = e->mm,
					   .ts = e->ts, .write = (e->flags & MML_F_WRITE) != 0,
					   .ctx = x, .stack = stack };
		found(c, &f);
	}
}

/* The stack of lock event e: its task's pending stack event, if on e's mm (as pair.c). */
static inline uint32_t take_stack(struct check *c, const struct mml_event *e)
{
	return tidmap_stack_take(&c->tids, e->tid, e->mm);
}

int check_feed(struct check *c, const struct mml_event *ev, size_t n)
{
	c->events += n;
	for (size_t k = 0; k < n; k++) {
		const struct mml_event *e = &ev[k];
		int w = (e->flags & MML_F_WRITE) != 0;
		struct check_state *s, *o;
		struct check_finding f = { .tid = e->tid, .mm = e->mm, .ts = e->ts, .write = (uint8_t)w };
		uint32_t st;

		if (e->type == MML_EV_STACK) {
			c->events--;
			if (tidmap_stack_set(&c->tids, e->tid, e->mm, (uint32_t)e->memcg, NULL, NULL))
				return -1;
			continue;
		}
		if (e->type < MML_EV_START_LOCKING || e->type > MML_EV_RELEASED)
			continue;	/* lock:contention_*: not about usage */
		c->memcg = e->memcg;
		if (!(s = state(c, e->tid, e->mm)))
			return -1;
		f.stack = st = take_stack(c, e);
		switch (e->type) {
		case MML_EV_START_LOCKING:
			irq(c, e, st);
			if (s->held) {
				f.kind = w && (!s->hold_write || s->downgraded) ?
					 CK_WRITE_AFTER_READ : CK_SELF_DEADLOCK;
				f.ts2 = s->hold_ts;
				f.stack2 = s->hold_stack;
				found(c, &f);
			}
			s->waiting = 1;
			s->wait_ts = e->ts;
			break;
		case MML_EV_ACQUIRE_RETURNED:
			if (!(e->flags & MML_F_SUCCESS)) {
				s->waiting = 0;
				break;
			}
			if (!s->waiting && s->held && s->hold_write && !s->downgraded && !w) {
				s->downgraded = 1;	/* mmap_write_downgrade() */
				break;
			}
			if (!s->waiting)
				irq(c, e, st);	/* a trylock: no start_locking was checked */
			s->waiting = 0;
			if (!s->held && order(c, e->tid, e->mm, e->ts, w, st))
				return -1;
			s->held = 1;
			s->hold_ts = e->ts;
			s->hold_stack = st;
			s->hold_write = (uint8_t)w;
			s->downgraded = 0;
			s->released_last = 0;
			break;
		case MML_EV_RELEASED:
			if (s->held) {
				end_hold(c, s, e->ts, st);
			} else if (!w && (o = oldest_reader(c, e->tid, e->mm))) {
				end_hold(c, o, e->ts, st);	/* mmap_read_unlock_non_owner() */
			} else if (s->released_last) {
				f.kind = CK_DOUBLE_RELEASE;
				f.ts2 = s->hold_ts;
				f.stack2 = s->hold_stack;
				found(c, &f);
			} else if (s->seen) {
				f.kind = CK_RELEASE_WITHOUT_ACQUIRE;
				found(c, &f);
			}
			s->released_last = 1;
			s->hold_ts = e->ts;	/* for a double release: the first one */
			s->hold_stack = st;
			break;
		}
		s->seen = 1;
	}
	return 0;
}

void check_finish(struct check *c)
{
}
