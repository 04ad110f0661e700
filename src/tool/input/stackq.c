/* SPDX-License-Identifier: MIT */
/*
 * stackq.c: the queue of stackq.h. Every event enters with a slot in front
 * of it: a placeholder (type 0) that is "held" while the event waits for
 * its stack. A stack that arrives turns the placeholder into the stack
 * event; anything else on the stream, the end of the input or the queue's
 * bound turns it into nothing (stackq_pop skips it). So an attached stack
 * never moves other events, and the order of the input is kept.
 *
 * Slots are addressed by an absolute number (base + index), so a stream's
 * held placeholder stays findable while the array is compacted.
 */
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "stackq.h"
#include "stacks.h"

#define HELD		1		/* placeholder flag: its event may still get a stack */
#define INTERRUPTED	2		/* ... though another record of its stream came first */
#define MAX_STREAMS	(1u << 20)	/* streams above this share slots (a bad input's cpu) */

struct stackq {
	struct mml_meta *meta;
	struct mml_event *s;		/* slots; [head, tail) are queued */
	size_t head, tail, cap;
	uint64_t base;			/* absolute number of s[0] */
	uint64_t *pend;			/* per stream: absolute number of the held placeholder + 1 */
	size_t npend;
	uint64_t attached, unattached;
};

struct stackq *stackq_new(struct mml_meta *meta)
{
	struct stackq *q = calloc(1, sizeof(*q));

	if (q)
		q->meta = meta;
	return q;
}

void stackq_free(struct stackq *q)
{
	if (!q)
		return;
	free(q->s);
	free(q->pend);
	free(q);
}

/* The stream's slot in pend (grown on demand); NULL when out of memory. */
static uint64_t *pend_of(struct stackq *q, uint32_t stream)
{
	stream %= MAX_STREAMS;
	if (stream >= q->npend) {
		size_t n = q->npend ? q->npend : 64;
		while (n <= stream)
			n *= 2;
		uint64_t *p = realloc(q->pend, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + q->npend, 0, (n - q->npend) * sizeof(*p));
		q->pend = p;
		q->npend = n;
	}
	return &q->pend[stream];
}

/* The placeholder numbered abs, if it is still queued. */
static struct mml_event *slot(struct stackq *q, uint64_t abs)
{
	if (abs < q->base + q->head || abs >= q->base + q->tail)
		return NULL;
	return &q->s[abs - q->base];
}

static void let_go(struct stackq *q, uint64_t *pend)
{
	struct mml_event *ph = *pend ? slot(q, *pend - 1) : NULL;

	if (ph && ph->type == 0)
		ph->flags = 0;
	*pend = 0;
}

int stackq_event_held(struct stackq *q, uint32_t stream, const struct mml_event *ev, int held)
{
	uint64_t *pend = pend_of(q, stream);

	if (!pend)
		return -1;
	let_go(q, pend);
	if (q->tail + 2 > q->cap) {
		if (q->head) {
			memmove(q->s, q->s + q->head, (q->tail - q->head) * sizeof(*q->s));
			q->base += q->head;
			q->tail -= q->head;
			q->head = 0;
		}
		if (ARRAY_RESERVE(q->s, q->cap, q->tail + 2, 1024) < 0)
			return -1;
	}
	if (!held) {			/* no stack can come: no placeholder */
		q->s[q->tail++] = *ev;
		return 0;
	}
	q->s[q->tail] = (struct mml_event){ .type = 0, .flags = HELD };
	q->s[q->tail + 1] = *ev;
	*pend = q->base + q->tail + 1;
	q->tail += 2;
	return 0;
}

int stackq_event(struct stackq *q, uint32_t stream, const struct mml_event *ev)
{
	return stackq_event_held(q, stream, ev, 1);
}

int stackq_empty(const struct stackq *q)
{
	return q->head == q->tail;
}

void stackq_other(struct stackq *q, uint32_t stream)
{
	uint64_t *pend = pend_of(q, stream);
	struct mml_event *ph = pend && *pend ? slot(q, *pend - 1) : NULL;

	if (ph && ph->type == 0)
		ph->flags |= INTERRUPTED;
}

#define BIT(type)	(1u << (type))
#define ALL		(BIT(MML_EV_START_LOCKING) | BIT(MML_EV_ACQUIRE_RETURNED) | \
			 BIT(MML_EV_RELEASED) | BIT(MML_EV_CONTENTION_BEGIN) | BIT(MML_EV_CONTENTION_END))

/*
 * The events a tracing frame can belong to: __traceiter_mmap_lock_released
 * names one, trace_event_raw_event_mmap_lock (the class of start_locking
 * and released) two, trace_event_raw_event_sched_switch none of ours (0);
 * ALL when the frame names no event (__ftrace_trace_stack ...).
 */
static unsigned frame_events(const char *sym)
{
	static const struct { const char *suffix; unsigned mask; } names[] = {
		{ "mmap_lock_start_locking", BIT(MML_EV_START_LOCKING) },
		{ "mmap_lock_acquire_returned", BIT(MML_EV_ACQUIRE_RETURNED) },
		{ "mmap_lock_released", BIT(MML_EV_RELEASED) },
		{ "contention_begin", BIT(MML_EV_CONTENTION_BEGIN) },
		{ "contention_end", BIT(MML_EV_CONTENTION_END) },
		{ "_event_mmap_lock", BIT(MML_EV_START_LOCKING) | BIT(MML_EV_RELEASED) },
		{ "perf_trace_mmap_lock", BIT(MML_EV_START_LOCKING) | BIT(MML_EV_RELEASED) },
	};
	char f[128];
	size_t n = strlen(stack_func(sym, f, sizeof(f)));

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t l = strlen(names[i].suffix);
		if (n >= l && !strcmp(f + n - l, names[i].suffix))
			return names[i].mask;
	}
	if (!strncmp(f, "trace_event_raw_event_", 22) || !strncmp(f, "perf_trace_", 11) ||
	    !strncmp(f, "__traceiter_", 12))
		return 0;			/* another event's */
	return ALL;
}

int stackq_stack(struct stackq *q, uint32_t stream, uint32_t pid, const uint64_t *addr,
		 const char *const *sym, unsigned n)
{
	uint64_t *pend = pend_of(q, stream);
	struct mml_event *ph = pend && *pend ? slot(q, *pend - 1) : NULL;
	unsigned k = 0, mask = ALL;

	while (k < n && stack_is_trace_frame(sym[k]))
		mask &= frame_events(sym[k++]);
	if (!ph || ph->type != 0) {
		q->unattached++;
		return 0;
	}
	const struct mml_event *e = ph + 1;
	/*
	 * Not this event's stack: another task's, another event's, or (after
	 * another record came in between, an interrupt's event say) one that
	 * does not name this event. The event stays held: its own may follow.
	 */
	if (e->tid != pid || !(mask & BIT(e->type)) ||
	    ((ph->flags & INTERRUPTED) && mask == ALL)) {
		q->unattached++;
		return 0;
	}
	ph->flags = 0;
	*pend = 0;
	if (k == n)
		return 0;			/* only the tracing machinery: no stack */
	uint32_t id = stacktab_intern(meta_stacks(q->meta), addr ? addr + k : NULL, sym + k, n - k,
				      NULL);
	if (!id)
		return 0;
	*ph = (struct mml_event){ .ts = e->ts, .mm = e->mm, .memcg = id, .tid = e->tid,
				  .cpu = e->cpu, .type = MML_EV_STACK };
	q->attached++;
	return 1;
}

size_t stackq_pop(struct stackq *q, struct mml_event *ev, size_t max, int at_end)
{
	size_t n = 0;

	while (n < max && q->head < q->tail) {
		struct mml_event *e = &q->s[q->head];
		if (e->type == 0) {
			if ((e->flags & HELD) && !at_end && q->tail - q->head <= 2 * (size_t)STACKQ_HOLD)
				break;
			q->head++;
			continue;
		}
		ev[n++] = *e;
		q->head++;
	}
	if (q->head == q->tail) {
		q->base += q->head;
		q->head = q->tail = 0;
	}
	return n;
}

uint64_t stackq_attached(const struct stackq *q)
{
	return q ? q->attached : 0;
}

uint64_t stackq_unattached(const struct stackq *q)
{
	return q ? q->unattached : 0;
}
