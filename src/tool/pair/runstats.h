/* SPDX-License-Identifier: MIT */
/*
 * runstats.h: what a run has seen, for the outputs and the live windows:
 * event counts, lost events, the broken sequences of the pairing, and how
 * "contended" is decided. Outputs read these, never the pairing object;
 * a back-end that aggregates by itself (no pairing here) fills the first
 * four and leaves the pairing detail zero.
 */
#ifndef MML_RUNSTATS_H
#define MML_RUNSTATS_H

#include <stdint.h>

/* The pairing's counters of broken sequences (docs/REPORT.md, "unmatched"). */
struct pair_unmatched {
	uint64_t release_without_acquire;	/* released, nobody holding it known */
	uint64_t open_at_end;			/* waits + holds still open at the end */
	uint64_t open_waits_at_end;
	uint64_t open_holds_at_end;
	uint64_t restart;		/* start_locking while already waiting: old wait dropped */
	uint64_t nested;		/* acquired while already holding the same mm: old hold dropped */
	uint64_t non_owner_releases;	/* released by another task: oldest read hold closed */
	uint64_t negative;		/* time went backwards inside a pair: dropped */
	uint64_t contention_unmatched;	/* the same count as contention_other, kept for
					   its JSON key: not an anomaly (other locks) */
};

struct run_stats {
	uint64_t events;		/* lock events seen (aggregating back-ends: counted in the kernel) */
	uint64_t lost;			/* lost events (ring buffer) / missed state (BPF: map full) */
	uint64_t unmatched;		/* broken sequences: the pairing's release_without_acquire,
					   open_at_end, restart, nested and negative, or BPF missed pairs */
	uint64_t non_owner;		/* releases by another task (live windows; BPF: and the
					   holds they may have ended): no hold time (in unmatched too) */
	int contention_marked;		/* 1: "contended" from lock:contention_begin; 0: waits over
					   AGG_CONTENDED_NS */
	/* the pairing's detail (pair_stats()) */
	uint64_t stack_events;		/* MML_EV_STACK events seen */
	uint64_t contention_events;	/* lock:contention_* events seen */
	uint64_t contention_other;	/* of them outside an mmap_lock wait (other locks) */
	struct pair_unmatched um;
};

/* Releases by another task (mmap_read_unlock_non_owner): a live window's count, else the pairing's. */
static inline uint64_t run_non_owner(const struct run_stats *s)
{
	return s->non_owner ? s->non_owner : s->um.non_owner_releases;
}

#endif
