/* SPDX-License-Identifier: MIT */
/*
 * watch-bpf.h: the BPF variant of `mmaplock watch`'s event source (the
 * programs: bpf/watch.bpf.c). A struct backend (backend.h) that streams
 * events only around crossings: the kernel keeps every event in a per-CPU
 * overwrite ring and says when a wait or hold crossed its threshold; then
 * this side copies the rings (from then until `after` past the last notice),
 * merges them by time and hands the events to the sink, stacks included
 * (MML_EV_STACK events whose frames are in the back-end's meta).
 */
#ifndef MML_WATCH_BPF_H
#define MML_WATCH_BPF_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"

/* A crossing the kernel saw. */
struct watch_bpf_crossing {
	uint32_t tid;
	int is_hold;
	uint64_t mm, start_ts, end_ts;
};

struct watch_bpf_opts {
	uint64_t wait_over_ns, hold_over_ns;	/* 0: not watched */
	uint64_t before_ns, after_ns;
	double ring_mb;				/* memory for the kernel's rings (all CPUs) */
	const char *prog;
	/* the next events do not follow the last ones; lost of them in a window */
	void (*gap)(void *ctx, uint64_t lost);
	/* each crossing, in time order with the events (after those stamped before
	   its end): 0 go on, non-zero stop, as the sink */
	int (*crossing)(void *ctx, const struct watch_bpf_crossing *c);
	/* a holder's stack (taken at its release) for an acquisition delivered already */
	void (*late_stack)(void *ctx, const struct mml_event *st);
	void *gap_ctx;			/* of the three */
};

struct watch_bpf_stats {
	uint64_t events;	/* written into the rings by the kernel */
	uint64_t copied;	/* delivered */
	uint64_t lost;		/* overwritten or torn while a window was being copied */
	uint64_t notices, stacks, stack_fail, state_full;
	unsigned slots;		/* records per CPU */
};

/* Load and check (no tracing yet). NULL with a one-line reason in err ("bpf: ..."). */
struct backend *watch_bpf_open(const struct watch_bpf_opts *o, const struct backend_sink *sink,
			       struct mml_meta *meta, char *err, size_t errlen);
/* Every event stamped up to this (event clock) has been delivered. */
uint64_t watch_bpf_delivered(const struct backend *b);
void watch_bpf_stats(const struct backend *b, struct watch_bpf_stats *st);

#endif
