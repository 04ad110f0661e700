/* SPDX-License-Identifier: MIT */
/*
 * live.h: what `top` and `exporter` share on top of the recorder's live
 * sink (record.h): the pairing state that lives as long as the recording,
 * one aggregation that is read and zeroed at the end of each window, and
 * the names (memcg paths, tasks) the recorder passes on.
 *
 * Windows. A window is a span of the event clock. Intervals are
 * attributed to the window in which they end: events are fed to the
 * pairing in time order and a window closes (live_close callback) as soon
 * as an event at or past its end arrives, or the recorder's watermark
 * passes it (nothing earlier can come any more), so a hold that spans a
 * window boundary pairs normally and counts in the later window.
 *
 * Memory. The pairing keeps what is open (pair.c); the aggregation keeps a
 * group per key seen, zeroed (not freed) at each window so that the
 * pairing's cached group pointers stay valid. When more than
 * LIVE_MAX_GROUPS groups exist at a window's end, pairing and aggregation
 * start afresh (open intervals are dropped and counted in resets). Names
 * are bounded by the recorder (RECORD_LIVE_TIDS).
 */
#ifndef MML_LIVE_H
#define MML_LIVE_H

#include <stdint.h>
#include "agg.h"
#include "pair.h"
#include "meta.h"
#include "record.h"

#define LIVE_MAX_GROUPS	1024

struct live;

/*
 * Called at the end of each window with the aggregation of that window
 * (groups with nothing in it are there too, all zero), the window's length
 * (ns), the events and lost events in it. The callback reads the groups;
 * live zeroes them afterwards. Non-zero: stop the recording.
 */
typedef int (*live_close_fn)(struct live *l, uint64_t win_ns, uint64_t events, uint64_t lost);

struct live {
	struct mml_meta *meta;
	struct agg agg;
	struct pair pair;
	enum agg_by by;
	uint64_t win_ns, win_end;	/* ns, event clock; win_end 0: not started */
	uint64_t last_ts;		/* newest event fed */
	uint64_t events, events_win;	/* all, in this window */
	uint64_t lost_total, lost_win_start;
	uint64_t resets;		/* fresh starts (LIVE_MAX_GROUPS) */
	uint64_t windows;		/* closed so far */
	int (*key)(struct live *l, struct mml_event *e);	/* rewrite e before pairing, or NULL */
	live_close_fn close;
	void *ctx;			/* the command's own state */
	int err;			/* out of memory */
	struct record_sink sink;	/* to put into record_opts.sink */
};

/* Set up: windows of win_ns, groups by by. 0 or -1 (out of memory). */
int live_init(struct live *l, enum agg_by by, uint64_t win_ns, live_close_fn close, void *ctx);
/* Free the pairing, the aggregation and the names; l may be half-initialised. */
void live_fini(struct live *l);

#endif
