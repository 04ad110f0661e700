/* SPDX-License-Identifier: MIT */
/*
 * pair.h: the pairing state machine. Events in time order go in; waits
 * (start_locking -> acquire_returned) and holds (acquire_returned(success)
 * -> released) come out into an struct agg. State lives per (task, mm) in
 * an open-addressing table and is removed when it closes, so memory is
 * bounded by what is open at one moment. docs/REPORT.md tells how each
 * broken sequence is handled; each has a counter here.
 */
#ifndef MML_PAIR_H
#define MML_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "agg.h"

struct pair_unmatched {
	uint64_t release_without_acquire;	/* released, nobody holding it known */
	uint64_t open_at_end;			/* waits + holds still open at the end */
	uint64_t open_waits_at_end;
	uint64_t open_holds_at_end;
	uint64_t restart;		/* start_locking while already waiting: old wait dropped */
	uint64_t nested;		/* acquired while already holding the same mm: old hold dropped */
	uint64_t non_owner_releases;	/* released by another task: oldest read hold closed */
	uint64_t negative;		/* time went backwards inside a pair: dropped */
	uint64_t contention_unmatched;	/* contention_begin/end outside a wait */
};

struct pair_state;

#define PAIR_LAST 256

struct pair {
	struct pair_state *t;		/* table */
	size_t cap, n;
	size_t last[PAIR_LAST];		/* last-hit slot per tid (low bits) */
	struct agg *agg;
	uint64_t events;
	uint64_t contention_events;	/* lock:contention_* seen: 'contended' uses them */
	struct pair_unmatched um;
	/* tid -> the slot of its current wait, for contention_begin (a lock address, not an mm) */
	uint32_t cw_tid[256];
	uint64_t cw_mm[256];
};

int pair_init(struct pair *p, struct agg *agg);
void pair_fini(struct pair *p);
/* Feed n events in time order. -1: out of memory. */
int pair_feed(struct pair *p, const struct mml_event *ev, size_t n);
/* The end of the input: count what is still open. */
void pair_finish(struct pair *p);

#endif
