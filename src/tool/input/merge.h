/* SPDX-License-Identifier: MIT */
/*
 * merge.h: the live recorder's time merge. Each CPU's ring buffer hands out
 * its own events in time order, but pairing needs one stream in time order
 * across CPUs (a task migrates, a lock is taken on one CPU and released on
 * another). Decoded events wait here in one queue per CPU until a watermark
 * says that no CPU can still produce an earlier one; merge_deliver() then
 * hands everything below it, merged, to a callback, in chunks.
 *
 * Memory: a queue holds what one drain period read from its CPU (the
 * recorder stops reading a CPU whose queue is past MERGE_SOFT_MAX and bounds
 * the watermark by that CPU's last event instead), so it is bounded by the
 * event rate times the period, never by the length of the recording.
 * Not thread-safe: one recorder thread owns it.
 */
#ifndef MML_MERGE_H
#define MML_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"

#define MERGE_SOFT_MAX	(256u * 1024)	/* events per queue before its reader pauses */
#define MERGE_CHUNK	4096		/* events per callback */

struct merge_q {
	struct mml_event *ev;
	size_t n, cap;
	int unsorted;			/* an event went in earlier than its predecessor */
};

struct merge {
	struct merge_q *q;
	int nq;
	struct mml_event *out;		/* MERGE_CHUNK events */
	uint64_t delivered;		/* events handed to callbacks so far */
};

typedef int (*merge_cb)(void *ctx, const struct mml_event *ev, size_t n);

/* nq queues (one per CPU). 0, or -1 (out of memory). */
int merge_init(struct merge *m, int nq);
/* Free everything; m may be zeroed or half-initialised. */
void merge_fini(struct merge *m);
/* The next free slot of queue q, to decode into; NULL: out of memory. */
struct mml_event *merge_slot(struct merge *m, int q);
/* Keep the event just written into merge_slot(m, q). */
void merge_commit(struct merge *m, int q);
/* Events waiting in queue q. */
static inline size_t merge_pending(const struct merge *m, int q)
{
	return m->q[q].n;
}
/* Timestamp of the newest event waiting in queue q (0 if none). */
uint64_t merge_last_ts(const struct merge *m, int q);
/*
 * Hand every waiting event with ts < upto to cb, in time order across all
 * queues (ties: lower queue first), in chunks of at most MERGE_CHUNK. The
 * rest stays queued. Returns 0, or the first non-zero value cb returned
 * (delivery stops there; the events of that chunk count as delivered).
 */
int merge_deliver(struct merge *m, uint64_t upto, merge_cb cb, void *ctx);

#endif
