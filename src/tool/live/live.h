/* SPDX-License-Identifier: MIT */
/*
 * live.h: windows (backend.h) out of a live event stream, for a streaming
 * back-end whose command wants windows (top, exporter): the pairing state
 * that lives as long as the run, one aggregation that is handed out and
 * zeroed at the end of each window. Nothing here knows where the events
 * come from: the tracefs back-end feeds it, and so can a test.
 *
 * Windows. A window is a span of the event clock. Intervals are
 * attributed to the window in which they end: events are fed to the
 * pairing in time order and a window closes (sink.window) as soon as an
 * event at or past its end arrives, or the back-end's watermark passes it
 * (nothing earlier can come any more), so a hold that spans a window
 * boundary pairs normally and counts in the later window.
 *
 * Groups by AGG_BY_MEMCG_MODE: each event's memcg becomes
 * agg_key_memcg_mode(memcg, write) before pairing, so that the pairing's
 * groups are (memcg, mode) ones.
 *
 * Memory. The pairing keeps what is open (pair.c); the aggregation keeps a
 * group per key seen, zeroed (not freed) at each window so that the
 * pairing's cached group pointers stay valid. When more than
 * LIVE_MAX_GROUPS groups exist at a window's end, pairing and aggregation
 * start afresh (open intervals are dropped and counted in resets). Names
 * live in the meta the back-end fills, bounded by it.
 */
#ifndef MML_LIVE_H
#define MML_LIVE_H

#include <stdint.h>
#include "agg.h"
#include "pair.h"
#include "meta.h"
#include "backend.h"

#define LIVE_MAX_GROUPS	1024

struct live {
	struct mml_meta *meta;		/* not owned */
	struct agg agg;
	struct pair pair;
	enum agg_by by;
	uint64_t win_ns, win_end;	/* ns, event clock; win_end 0: not started */
	uint64_t last_ts;		/* newest event fed */
	uint64_t events, events_win;	/* all, in this window */
	uint64_t lost_total, lost_win_start;
	uint64_t unmatched_win_start;
	uint64_t resets;		/* fresh starts (LIVE_MAX_GROUPS) */
	uint64_t unmatched_before;	/* broken sequences of pairings dropped by resets */
	uint64_t non_owner_before;	/* ... of them releases by another task */
	uint64_t windows;		/* closed so far */
	struct backend_sink out;	/* out.window gets each closed window */
	int err;			/* out of memory */
};

/* Set up: windows of win_ns, groups by by, names from meta. 0 or -1 (out of memory). */
int live_init(struct live *l, enum agg_by by, uint64_t win_ns, struct mml_meta *meta,
	      const struct backend_sink *out);
/* Free the pairing and the aggregation; l may be half-initialised. */
void live_fini(struct live *l);
/*
 * n events in time order, continuing the previous batch. 0 go on, non-zero:
 * the window callback's stop, or -1 out of memory (l->err).
 */
int live_events(struct live *l, const struct mml_event *ev, size_t n);
/*
 * Every event before watermark (ns, event clock; UINT64_MAX: no clock, the
 * stream's own time) was delivered, and lost events so far number lost:
 * close the windows that ended. final: the run ends (the window cut short
 * is not shown). 0 go on, non-zero stop.
 */
int live_tick(struct live *l, uint64_t watermark, uint64_t lost, int final);

#endif
