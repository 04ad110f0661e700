/* SPDX-License-Identifier: MIT */
/*
 * pair.h: the pairing state machine. Events in time order go in; waits
 * (start_locking -> acquire_returned) and holds (acquire_returned(success)
 * -> released) come out into an struct agg. State lives per (task, mm) in
 * a hash table (hashmap.h) and is removed when it closes, so memory is
 * bounded by what is open at one moment. docs/REPORT.md tells how each
 * broken sequence is handled; each has a counter here.
 */
#ifndef MML_PAIR_H
#define MML_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "agg.h"
#include "tidmap.h"
#include "hashmap.h"

struct pair_unmatched {
	uint64_t release_without_acquire;	/* released, nobody holding it known */
	uint64_t open_at_end;			/* waits + holds still open at the end */
	uint64_t open_waits_at_end;
	uint64_t open_holds_at_end;
	uint64_t restart;		/* start_locking while already waiting: old wait dropped */
	uint64_t nested;		/* acquired while already holding the same mm: old hold dropped */
	uint64_t non_owner_releases;	/* released by another task: oldest read hold closed */
	uint64_t negative;		/* time went backwards inside a pair: dropped */
	uint64_t contention_unmatched;	/* the same count as pair.contention_other, kept for
					   its JSON key: not an anomaly (other locks) */
};

struct pair_state;
HASHMAP_STRUCT(pairtab, struct pair_state);

/*
 * The optional interval hook: what the pairing machine found, as it finds
 * it, for consumers that need the intervals themselves rather than the
 * histograms (blame, export). The *_BEGIN kinds report an interval that
 * opens (end_ts = 0); the others report one that closed. Calls come in the
 * events' time order (a closing interval is reported at its end). A
 * *_BEGIN for a (tid, mm) that already has that kind open replaces it (an
 * event went missing: pair.c counts `restart` or `nested`).
 */
enum pair_kind {
	PAIR_WAIT_BEGIN = 1,	/* start_locking: a wait opens */
	PAIR_HOLD_BEGIN,	/* acquire_returned(success): a hold opens */
	PAIR_WAIT,		/* a wait answered with success: [start, end] */
	PAIR_FAILED,		/* a wait answered with failure: [start, end] */
	PAIR_HOLD,		/* released: [acquired, released] */
	PAIR_WAIT_DROPPED,	/* the open wait of (tid, mm) ended before it began: gone */
	PAIR_HOLD_DROPPED,	/* the open hold of (tid, mm) ended before it began: gone */
};

struct pair_interval {
	enum pair_kind kind;
	uint32_t tid;			/* the waiter / holder */
	uint64_t mm, memcg;		/* memcg: of the events (the mm's memcg) */
	uint64_t start_ts, end_ts;	/* ns; end_ts 0 for *_BEGIN */
	uint8_t write;			/* mode asked for (wait) or taken (hold) */
	uint8_t contended;		/* PAIR_WAIT: a lock:contention_begin inside */
	uint8_t downgraded;		/* PAIR_HOLD: taken for write, downgraded to read */
	uint8_t trylock;		/* PAIR_HOLD(_BEGIN): acquired without a wait;
					   PAIR_FAILED: a failed trylock (no wait was open) */
	uint8_t non_owner;		/* PAIR_HOLD: released by another task */
	uint8_t replaced;		/* *_BEGIN: an open one of (tid, mm) is replaced */
	uint32_t stack;			/* kernel call stack (meta_stack), 0: none recorded.
					   Waits: start_locking's (else acquire_returned's);
					   holds: acquire_returned's */
};

typedef void (*pair_hook)(void *ctx, const struct pair_interval *iv);

#define PAIR_LAST 256

struct pair {
	struct pairtab tab;		/* the states (hashmap.h) */
	size_t last[PAIR_LAST];		/* last-hit slot per tid (low bits) */
	struct agg *agg;
	uint64_t events;		/* lock events (stack events not counted) */
	uint64_t stack_events;		/* MML_EV_STACK events seen */
	uint64_t contention_events;	/* lock:contention_* seen: 'contended' uses them */
	/*
	 * lock:contention_begin/end not inside an mmap_lock wait of their task:
	 * other rwsems (contention_end carries no flags, so every rwsem's is
	 * recorded) or a wait whose start_locking was not recorded. Neutral.
	 */
	uint64_t contention_other;
	struct pair_unmatched um;
	/*
	 * Per task (tidmap.h): the mm of its latest start_locking, for its
	 * lock:contention_* events (a lock address, not an mm), and the stack
	 * event waiting for its next start_locking, acquire_returned or released
	 * (taken when its mm matches, dropped otherwise).
	 */
	struct tidmap tids;
	/* The interval hook (NULL: none, the default). Set after pair_init(). */
	pair_hook on_interval;
	void *hook_ctx;
};

int pair_init(struct pair *p, struct agg *agg);
void pair_fini(struct pair *p);
/* Feed n events in time order. -1: out of memory. */
int pair_feed(struct pair *p, const struct mml_event *ev, size_t n);
/* The end of the input: count what is still open. */
void pair_finish(struct pair *p);

#endif
