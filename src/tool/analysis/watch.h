/* SPDX-License-Identifier: MIT */
/*
 * watch.h: the engine of `mmaplock watch`: catch the rare long wait or
 * hold, keep the seconds around it, and say who blocked whom.
 *
 * Fed the live event stream in time order (a back-end's sink.events), it
 *  - keeps the last `before` seconds of events in a ring (user space; it
 *    grows with the observed rate up to max_events, then drops the oldest,
 *    counted);
 *  - pairs them (pair.c) as they come: a wait longer than wait_over_ns or a
 *    hold longer than hold_over_ns is a crossing;
 *  - on a crossing opens an incident [crossing start - before, crossing end
 *    + after]; a crossing while one is open extends it (merged: one file);
 *  - once the event clock has passed its end (watch_tick, or the stream),
 *    writes it as an mmaplock file (mml_writer: events, memcg paths, tasks,
 *    the kernel stacks the events refer to) into dir, named by its time,
 *    and hands a summary to the callback: the worst crossing, its waiter,
 *    and the holders that held the lock on the same mm during that wait.
 *
 * Bounded: max_incidents (then watch_events returns 1: the run is over),
 * rate_limit_s between incidents (crossings in between are counted, not
 * written), max_bytes of files written, max_events in the ring.
 *
 * Lost events (watch_lost: per CPU, with the span of time they lay in):
 * a crossing whose interval overlaps a span of loss on any CPU (a task
 * migrates: its missing event may be on any of them) may be the product
 * of a broken sequence - a lost acquire_returned or released pairs a wait
 * or hold with a later event. Such a crossing is *suspect*; so is a wait
 * with no holder recorded when events were lost from `horizon` before it to
 * its end (the holder's acquisition may be what was lost). An incident is
 * named by its longest crossing that is not suspect; when all are, it is
 * written marked suspect, counted apart (suspects), and not counted against
 * max_incidents. Each file carries the loss of its window per CPU (LOST
 * blocks: spans that overlap it).
 *
 * Read holders' stacks: the kernel takes stacks only on write acquisitions
 * and contended waits, so a task holding the lock for read has none. At
 * each watch_tick, a wait still open past wait_over_ns has the holders of
 * its mm read from /proc/TID/stack (root only; said once if unreadable),
 * once per hold. A hold that has no kernel stack gets that one in the
 * incident file (a stack event before its acquisition, INFO
 * stacks_from_proc: how many), so the analysis and every reader of the
 * file find it where the kernel's would be.
 *
 * Stacks: events of type MML_EV_STACK are kept with the others. A stack
 * taken on lock:contention_begin (the back-end's watch_stacks mode) carries
 * the lock's address as mm; it is given the mm of its task's open wait here,
 * so that the pairing gives it to that wait (pair.h: a stack belongs to the
 * next event of its task on the same mm) - in the incident file too.
 */
#ifndef MML_WATCH_H
#define MML_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "meta.h"
#include "pair.h"
#include "u64map.h"

#define WATCH_HOLDERS	3	/* holders named per incident */
#define WATCH_FRAMES	8	/* top frames per stack in a summary */

struct watch_opts {
	uint64_t wait_over_ns, hold_over_ns;	/* 0: that kind is not watched */
	uint64_t before_ns, after_ns;
	const char *dir;			/* where incident files go */
	unsigned max_incidents;			/* 0: no limit */
	double rate_limit_s;			/* at least this long between two incidents */
	uint64_t max_bytes;			/* disk cap for the files of this run, 0: none */
	size_t max_events;			/* ring cap */
	const char *prog;			/* error prefix */
	const char *backend;			/* for the file's info: NULL "tracefs" */
	const char *stacks;			/* which stacks were taken (info), NULL: tracefs's */
	int external;				/* crossings come from watch_crossing() (the
						   back-end saw them), not from pairing the events */
};

/* One side of an incident: the waiter or a holder. */
struct watch_party {
	uint32_t tid, tgid;
	char comm[16];
	uint64_t memcg;				/* the interval's memcg id (the mm's) */
	int write;				/* mode asked (waiter) or held (holder) */
	uint64_t ns;				/* wait ns (waiter), longest overlapping hold ns (holder) */
	uint64_t blamed_ns;			/* holder: overlap of its holds with the wait */
	uint32_t stack;				/* meta stack id, 0: none */
	int stack_proc;				/* holder: read from /proc/TID/stack while it held */
};

struct watch_incident {
	uint64_t realtime_ns;			/* when the crossing ended (wall clock) */
	int is_hold;				/* the crossing was a hold (no waiter, holders[0]) */
	struct watch_party waiter;		/* the crossing wait (is_hold: unset) */
	struct watch_party holders[WATCH_HOLDERS];
	int nholders;
	unsigned crossings;			/* merged into this file */
	int suspect;				/* events lost where they could fake it (above) */
	uint64_t lost;				/* events lost in the window, all CPUs */
	uint64_t events;			/* in the file, stack events not counted (its END block) */
	const char *file;			/* its path */
	const char *backend;			/* that saw it: "tracefs", "bpf" */
	const struct mml_meta *meta;		/* for names and stacks */
};

typedef void (*watch_cb)(void *ctx, const struct watch_incident *inc);

struct watch_ring {
	struct mml_event *ev;
	size_t cap, head, n;			/* oldest at head */
};

struct watch_crossing {
	uint32_t tid;
	uint64_t mm, start_ts, end_ts;
	int is_hold;
};

struct watch_loss {
	uint32_t cpu;
	uint64_t count, from_ts, to_ts;
};

#define WATCH_CROSSINGS	256	/* crossings of one incident looked at (the longest kept) */
#define WATCH_PROBES	256	/* holder stacks read from /proc, the newest kept */

/* A holder's stack read from /proc/TID/stack while a wait behind it was over the threshold. */
struct watch_probe {
	uint32_t tid, stack;
	uint64_t hold_ts;		/* start of the hold it was read in */
};

struct watch {
	struct watch_opts o;
	struct mml_meta *meta;
	watch_cb cb;
	void *cb_ctx;
	struct watch_ring ring;
	struct pair pair;
	struct u64map wait_mm;		/* tid -> mm of its open wait */
	struct u64map wait_ts;		/* tid -> start of its open wait */
	struct u64map hold_mm, hold_ts;	/* tid -> mm, start of its open hold */
	struct u64map probed;		/* waiter tid -> start of the wait its holders were read for */
	struct watch_probe probe[WATCH_PROBES];
	unsigned nprobe;		/* probes made (probe[nprobe % WATCH_PROBES] next) */
	int probe_off;			/* /proc/TID/stack unreadable: said once, not tried again */
	int open;			/* an incident is collecting */
	uint64_t inc_start, inc_end;	/* its window (event clock) */
	struct watch_crossing worst;	/* the crossing it is named by */
	struct watch_crossing cross[WATCH_CROSSINGS];	/* its crossings */
	unsigned inc_crossings, ncross;
	struct watch_loss *loss;	/* spans of lost events, oldest first */
	size_t nloss, loss_cap;
	uint64_t last_end_ts;		/* end of the last incident written, 0: none */
	uint64_t newest_ts;		/* newest event seen */
	/* counters */
	unsigned incidents;		/* not suspect */
	unsigned suspects;		/* written marked suspect */
	uint64_t crossings, suppressed, ring_dropped, bytes, write_errors;
	uint64_t lost;			/* events the back-end lost (watch_lost, watch_gap) */
	uint64_t lost_pending;		/* of those, watch_gap's not yet in a file */
	int err;			/* out of memory */
};

int watch_init(struct watch *w, const struct watch_opts *o, struct mml_meta *meta,
	       watch_cb cb, void *cb_ctx);
void watch_fini(struct watch *w);
/* The sink: n events in time order. 0 go on, 1 max_incidents reached, -1 out of memory. */
int watch_events(struct watch *w, const struct mml_event *ev, size_t n);
/*
 * Every event up to now_ts (event clock) has been delivered: write an open
 * incident whose window ended. Same returns as watch_events.
 */
int watch_tick(struct watch *w, uint64_t now_ts);
/* count events of cpu were lost, stamped between from_ts and to_ts (backend_sink.lost). */
void watch_lost(struct watch *w, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts);
/*
 * The next events do not follow the last ones: what is open in the pairing
 * is forgotten (a back-end that delivers only around crossings, or lost
 * events). lost: how many events went missing inside what is watched; they
 * are counted in the next incident file (its END block) and in w->lost.
 */
void watch_gap(struct watch *w, uint64_t lost);
/*
 * external: a crossing the back-end saw (a wait of tid on mm, or its hold,
 * [start_ts, end_ts]), given in time order with the events (after those
 * stamped before end_ts). Same returns as watch_events.
 */
int watch_crossing(struct watch *w, uint32_t tid, uint64_t mm, uint64_t start_ts, uint64_t end_ts,
		   int is_hold);
/*
 * A stack event for an event delivered already (a back-end that learns a
 * hold's stack at its release): put into the ring right before the events
 * stamped at or after it, where the pairing of the incident finds it.
 * Dropped when older than the ring. 0, or -1 out of memory.
 */
int watch_late_stack(struct watch *w, const struct mml_event *st);
/* The end of the run: an open incident is written with what there is. */
void watch_finish(struct watch *w);

#endif
