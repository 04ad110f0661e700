/* SPDX-License-Identifier: MIT */
/*
 * pair.h: the pairing state machine. Events in time order go in; waits
 * (start_locking -> acquire_returned) and holds (acquire_returned(success)
 * -> released) come out as intervals, handed to a list of subscribers
 * (aggregation, blame, check, the HTML page's grids, export, stacks: the
 * pairing knows none of them). State lives per (task, mm) in a hash table
 * (hashmap.h) and is removed when it closes, so memory is
 * bounded by what is open at one moment. docs/REPORT.md tells how each
 * broken sequence is handled; each has a counter (runstats.h).
 */
#ifndef MML_PAIR_H
#define MML_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "runstats.h"
#include "tidmap.h"
#include "hashmap.h"

struct pair_state;
HASHMAP_STRUCT(pairtab, struct pair_state);

/*
 * What the pairing machine found, as it finds it, for its subscribers. The
 * *_BEGIN kinds report an interval that opens (end_ts = 0); the others
 * report one that closed. Calls come in the events' time order (a closing
 * interval is reported at its end). A *_BEGIN for a (tid, mm) that already
 * has that kind open replaces it (an event went missing: pair.c counts
 * `restart` or `nested`).
 */
enum pair_kind {
	PAIR_WAIT_BEGIN = 1,	/* start_locking: a wait opens */
	PAIR_HOLD_BEGIN,	/* acquire_returned(success): a hold opens */
	PAIR_WAIT,		/* a wait answered with success: [start, end] */
	PAIR_FAILED,		/* a wait answered with failure: [start, end] */
	PAIR_HOLD,		/* released: [acquired, released] */
	PAIR_WAIT_DROPPED,	/* the open wait of (tid, mm) ended before it began: gone */
	PAIR_HOLD_DROPPED,	/* the open hold of (tid, mm) ended before it began: gone */
	PAIR_DOWNGRADE,		/* the open write hold of (tid, mm) goes on as read: start_ts =
				   end_ts = the event (not an acquisition) */
	PAIR_NKINDS
};

#define PAIR_KIND(k)	(1u << (k))
/* The kinds of intervals proper (no PAIR_DOWNGRADE): what most subscribers take. */
#define PAIR_INTERVALS	(PAIR_KIND(PAIR_WAIT_BEGIN) | PAIR_KIND(PAIR_HOLD_BEGIN) | \
			 PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) | PAIR_KIND(PAIR_HOLD) | \
			 PAIR_KIND(PAIR_WAIT_DROPPED) | PAIR_KIND(PAIR_HOLD_DROPPED))

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
	uint8_t failed;			/* PAIR_WAIT_DROPPED: answered with failure */
	uint32_t stack;			/* kernel call stack (meta_stack), 0: none recorded.
					   Waits: start_locking's (else acquire_returned's);
					   holds: acquire_returned's */
	/*
	 * The first subscriber's slot in the state of (tid, mm): a pointer it
	 * may cache there (the aggregation keeps its group), NULL again when
	 * the state's memcg changes or the state is dropped. NULL for the
	 * other subscribers.
	 */
	void **slot;
};

/* A subscriber's callback. Non-zero stops the pairing: pair_feed() returns it. */
typedef int (*pair_fn)(void *ctx, const struct pair_interval *iv);

/*
 * Callbacks are kept per kind (a call site of the pairing emits one kind,
 * so each indirect call has one target: no mispredicted dispatch on the
 * kind in the subscriber, which cost the aggregation a third of its speed).
 */
struct pair_call {
	pair_fn fn;
	void *ctx;
	int first;			/* the first subscriber: it gets the slot */
};

#define PAIR_MAX_SUBS 8

#define PAIR_LAST 256

struct pair {
	struct pairtab tab;		/* the states (hashmap.h) */
	size_t last[PAIR_LAST];		/* last-hit slot per tid (low bits) */
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
	struct pair_call call[PAIR_NKINDS][PAIR_MAX_SUBS];	/* in subscription order */
	unsigned ncall[PAIR_NKINDS];
	unsigned nsub;
};

int pair_init(struct pair *p);
void pair_fini(struct pair *p);
/*
 * Add a subscriber taking the kinds of intervals in kinds (PAIR_KIND bits,
 * e.g. PAIR_INTERVALS). -1: PAIR_MAX_SUBS reached.
 */
int pair_subscribe(struct pair *p, pair_fn fn, void *ctx, unsigned kinds);
/* The same with a function per kind (on[k] NULL: kind k not taken). */
int pair_subscribe_each(struct pair *p, const pair_fn on[PAIR_NKINDS], void *ctx);
/*
 * Feed n events in time order. 0; -1: out of memory; else the non-zero
 * that a subscriber returned (the events after it are not fed).
 */
int pair_feed(struct pair *p, const struct mml_event *ev, size_t n);
/* The end of the input: count what is still open. */
void pair_finish(struct pair *p);
/* The run statistics of the pairing so far (runstats.h); lost left 0. */
void pair_stats(const struct pair *p, struct run_stats *st);

#endif
