/* SPDX-License-Identifier: MIT */
/*
 * worst.h: the N longest waits of a recording and, around each, a window
 * of what happened on its mm (the HTML page's "worst waits").
 *
 * First pass (worst_hook, a pairing subscriber): a min-heap of the N
 * longest waits seen so far (N <= WORST_MAX): memory N entries. Ties go to
 * the earlier wait, then the lower tid, so the choice does not depend on
 * the order of equal waits.
 *
 * Second pass over the same input (worst_window_hook): the waits and holds
 * on a chosen wait's mm that overlap its window (the wait, widened by half
 * its length on each side, at least WORST_PAD_NS) are kept, within bounds
 * that favour what is nearest the wait: the wait itself always; the last
 * WORST_BEFORE that ended before it began (a ring); the first WORST_DURING
 * that overlap it, plus up to WORST_HOLDERS holds of other tasks that
 * overlap it (so the holder to blame is never cut); the first WORST_AFTER
 * that began after it ended. The rest are counted (dropped). worst_blame()
 * then names the holder: the hold of another task with the largest overlap
 * with the wait (blame.h's measure).
 */
#ifndef MML_WORST_H
#define MML_WORST_H

#include <stddef.h>
#include <stdint.h>
#include "pair.h"

#define WORST_MAX	100		/* waits kept, at most (--html-worst) */
#define WORST_BEFORE	300		/* window intervals kept before the wait */
#define WORST_DURING	500		/* overlapping it */
#define WORST_HOLDERS	256		/* and holds of others overlapping it */
#define WORST_AFTER	300		/* after it */
#define WORST_WINDOW	(WORST_BEFORE + WORST_DURING + WORST_AFTER)
#define WORST_PAD_NS	20000ull	/* a window reaches this far at least (ns) */

struct worst_wait {
	struct pair_interval iv;	/* the wait (PAIR_WAIT or PAIR_FAILED); slot NULL */
	uint64_t w0, w1;		/* its window (ns) */
	struct pair_interval *before;	/* second pass: a ring of WORST_BEFORE, oldest at
					   before[nbefore % WORST_BEFORE] once full */
	size_t nbefore;			/* intervals that went into the ring */
	struct pair_interval *win;	/* the others (the wait, during, after), as they closed */
	size_t nwin, capwin;
	size_t nheld, nduring, nafter;	/* of them: holds of others overlapping the wait, the
					   other intervals overlapping it, those after it */
	uint64_t dropped;		/* intervals of the window not kept */
	long holder;			/* index in win of the blamed hold; -1: none */
	uint64_t holder_ns;		/* its overlap with the wait */
};

struct worst {
	struct worst_wait *w;		/* a heap while streaming; longest first after worst_sort */
	size_t n, max;
	int windows;			/* the second pass ran */
	int oom;
};

/* Keep the max longest waits (1..WORST_MAX). -1: out of memory. */
int worst_init(struct worst *w, size_t max);
void worst_fini(struct worst *w);
/* First pass: PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) (failed trylocks ignored). */
int worst_hook(void *ctx, const struct pair_interval *iv);
#define WORST_KINDS	(PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED))
/* After the first pass: longest first, windows set. */
void worst_sort(struct worst *w);
/* Second pass: waits and holds (WORST_WINDOW_KINDS). -1: out of memory. */
int worst_window_hook(void *ctx, const struct pair_interval *iv);
#define WORST_WINDOW_KINDS (WORST_KINDS | PAIR_KIND(PAIR_HOLD))
/* After the second pass: each wait's holder. */
void worst_blame(struct worst *w);

#endif
