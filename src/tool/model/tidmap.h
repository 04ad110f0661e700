/* SPDX-License-Identifier: MIT */
/*
 * tidmap.h: the per-task state of the event readers that pair events
 * (pair.c, check.c), keyed by the tid itself, so that no two tasks ever
 * share an entry:
 *  - the mm of the task's latest start_locking: a lock:contention_* event
 *    names a lock address, not an mm, and belongs to the wait its task has
 *    open (a task waits for one lock at a time);
 *  - the stack event (format 1.1) waiting for the task's next lock event.
 * A hashmap.h table. Entries are never deleted one by one (as in pair.c):
 * idle ones stay, up to a fixed allowance (tidmap.c), so a task's next
 * event finds its entry; past it, a full table is rebuilt with the entries
 * still in use (a stack pending, or a wait its owner says is open), so
 * memory is that allowance plus what is pending at one moment, never the
 * number of tasks ever seen. The lookups are inline: they sit on the
 * readers' per-event path.
 */
#ifndef MML_TIDMAP_H
#define MML_TIDMAP_H

#include <stddef.h>
#include <stdint.h>
#include "hashmap.h"

struct tid_state {
	uint32_t tid;
	uint32_t stack;			/* pending stack event's id (0: none) */
	uint64_t stack_mm;		/* the mm of that stack event */
	uint64_t wait_mm;		/* the mm of the latest start_locking (has_wait) */
	uint8_t used, has_wait;
};

/* At a rebuild: is the wait of t (has_wait set) still open? Its owner knows. */
typedef int (*tidmap_open_fn)(void *ctx, const struct tid_state *t);

#define TID_STATE_KEY(e) ((e)->tid)
#define TID_STATE_USED(e) ((e)->used)
HASHMAP_DEFINE(tidtab, struct tid_state, uint32_t, hash64, TID_STATE_KEY, HASHMAP_NUM_EQ,
	       TID_STATE_USED)

struct tidmap {
	struct tidtab m;
	size_t stacks;			/* entries with a stack pending (0: no lookup needed) */
};

/* An empty map. -1: out of memory. */
int tidmap_init(struct tidmap *m);
void tidmap_fini(struct tidmap *m);
/*
 * The entry of tid, created (zeroed but for tid) if missing. A rebuild keeps
 * entries with a stack pending, and those with has_wait for which open
 * (NULL: always) says yes. NULL: out of memory.
 */
static inline struct tid_state *tidmap_get(struct tidmap *m, uint32_t tid, tidmap_open_fn open,
					   void *ctx);
/* tidmap_get() for a tid that has no entry. */
struct tid_state *tidmap_insert(struct tidmap *m, uint32_t tid, tidmap_open_fn open, void *ctx);

/* The entry of tid, NULL if it has none. */
static inline struct tid_state *tidmap_find(const struct tidmap *m, uint32_t tid)
{
	return tidtab_find(&m->m, tid);
}

static inline struct tid_state *tidmap_get(struct tidmap *m, uint32_t tid, tidmap_open_fn open,
					   void *ctx)
{
	struct tid_state *t = tidmap_find(m, tid);

	return t ? t : tidmap_insert(m, tid, open, ctx);
}

/* A stack event of tid on mm: it waits for tid's next lock event. -1: out of memory. */
static inline int tidmap_stack_set(struct tidmap *m, uint32_t tid, uint64_t mm, uint32_t id,
				   tidmap_open_fn open, void *ctx)
{
	struct tid_state *t = tidmap_get(m, tid, open, ctx);

	if (!t)
		return -1;
	m->stacks += !t->stack && id;
	m->stacks -= t->stack && !id;
	t->stack = id;
	t->stack_mm = mm;
	return 0;
}

/*
 * The stack of a lock event of tid on mm: the pending stack event of tid
 * when it is on that mm. Either way the pending one is gone: a stack belongs
 * to the event right after it in its task's stream.
 */
static inline uint32_t tidmap_stack_take(struct tidmap *m, uint32_t tid, uint64_t mm)
{
	struct tid_state *t;
	uint32_t id;

	if (!m->stacks || !(t = tidmap_find(m, tid)) || !t->stack)
		return 0;
	id = t->stack_mm == mm ? t->stack : 0;
	t->stack = 0;
	m->stacks--;
	return id;
}

#endif
