/* SPDX-License-Identifier: MIT */
/*
 * stackq.h: kernel stacks that come AFTER their event, attached to it.
 *
 * Other tools write a call stack after the event it belongs to: the
 * kernel's stacktrace trigger and stacktrace option put an
 * ftrace:kernel_stack record ("<stack trace>" in text) right after the
 * event, on the same CPU, with the same pid; `perf script` prints the
 * callchain under the event line. mmaplock's model wants the stack (an
 * MML_EV_STACK event, mml_format.h) right BEFORE its event. The sources
 * that read such input (src-text.c, src-tracedat.c) hand every record, in
 * input order, to a queue:
 *
 *   stackq_event()  one of our events: held back until its stream (a CPU
 *                   of one ring buffer) has its stack or its next event;
 *   stackq_stack()  a stack record: attached to its stream's held event
 *                   when the pid is the same and the tracing frames at its
 *                   leaf (dropped, stack_is_trace_frame) can be that
 *                   event's (__traceiter_mmap_lock_released names one
 *                   event, trace_event_raw_event_sched_switch none of
 *                   ours); otherwise counted as unattached, and the held
 *                   event still waits for its own;
 *   stackq_other()  another record of the stream (or records lost there):
 *                   an interrupt may have come between the event and its
 *                   stack, so the event stays held, but only a stack whose
 *                   tracing frames name it attaches from then on.
 *
 * stackq_pop() hands events out in the order they came, each stack event
 * right before its event (same tid, ts, cpu, mm; memcg = the id from
 * meta_stacks(); a batch may end between the two). Memory is bounded:
 * past STACKQ_HOLD queued events the oldest held event leaves without a
 * stack.
 */
#ifndef MML_STACKQ_H
#define MML_STACKQ_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "meta.h"

#define STACKQ_HOLD	65536	/* events queued before the oldest is let go */

struct stackq;

/* A queue interning into meta_stacks(meta). NULL when out of memory. */
struct stackq *stackq_new(struct mml_meta *meta);
void stackq_free(struct stackq *q);	/* NULL is fine */

/* An event of ours (types 1-5) read from stream. 0, or -1 when out of memory. */
int stackq_event(struct stackq *q, uint32_t stream, const struct mml_event *ev);
/*
 * The same, but when held is 0 the caller knows that no stack record
 * comes for ev before the stream's next event: it waits for nobody (it is
 * still queued behind the events that do), and a stack record seen before
 * the stream's next event finds no event.
 */
int stackq_event_held(struct stackq *q, uint32_t stream, const struct mml_event *ev, int held);
/* 1 when nothing is queued: an event may bypass the queue without changing the order. */
int stackq_empty(const struct stackq *q);
/* Another record of stream (not ours, not a stack), or records lost there: see above. */
void stackq_other(struct stackq *q, uint32_t stream);
/*
 * A stack record of stream for pid: n frames, leaf first; addr may be NULL
 * (text without addresses). Returns 1 when attached, 0 when not.
 */
int stackq_stack(struct stackq *q, uint32_t stream, uint32_t pid, const uint64_t *addr,
		 const char *const *sym, unsigned n);
/*
 * Move up to max events that are ready into ev, in order; at_end: the
 * input is over, every held event is ready. Returns the count.
 */
size_t stackq_pop(struct stackq *q, struct mml_event *ev, size_t max, int at_end);

/* Stacks attached, and stack records that found no event (their event lost, another pid ...). */
uint64_t stackq_attached(const struct stackq *q);
uint64_t stackq_unattached(const struct stackq *q);

#endif
