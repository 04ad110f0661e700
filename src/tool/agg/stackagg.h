/* SPDX-License-Identifier: MIT */
/*
 * stackagg.h: waits and holds summed per kernel call stack, for `report
 * --stacks` and the HTML page. A pairing subscriber (pair.h): each closed wait
 * (PAIR_WAIT) and hold (PAIR_HOLD) adds its duration to the entry of its
 * stack (pair_interval.stack), or to the "no stack" sums. Per stack: count,
 * total and max ns, and the takers (memcg + comm) that spent the most time
 * in it. Memory grows with the number of distinct stacks, never with
 * events: a stack keeps STACKAGG_TAKERS takers, exact while it has no
 * more, then counted the "space-saving" way (a new taker replaces the
 * smallest and inherits its time: an upper bound, flagged approx).
 */
#ifndef MML_STACKAGG_H
#define MML_STACKAGG_H

#include <stddef.h>
#include <stdint.h>
#include "meta.h"
#include "hashmap.h"
#include "pair.h"

#define STACKAGG_TAKERS 4

struct stackagg_taker {
	uint64_t memcg;			/* the interval's memcg id (0: none) */
	uint64_t ns;			/* time in this stack */
	char comm[16];			/* the task's comm, "?" when unknown */
};

struct stackagg_ent {
	uint32_t id;			/* stack id (meta_stack) */
	uint8_t used, ntk, approx;	/* approx: more takers than STACKAGG_TAKERS */
	uint64_t count, total, max;	/* intervals, ns, ns */
	struct stackagg_taker tk[STACKAGG_TAKERS];	/* largest ns first after stackagg_top() */
};

#define STACKAGG_KEY(e) ((e)->id)
#define STACKAGG_USED(e) ((e)->used)
HASHMAP_DEFINE(stackagg_tab, struct stackagg_ent, uint32_t, hash64, STACKAGG_KEY, HASHMAP_NUM_EQ,
	       STACKAGG_USED)

/* One kind of interval (waits or holds). */
struct stackagg_kind {
	struct stackagg_tab tab;	/* by stack id */
	uint64_t all_count, all_ns;	/* every interval of this kind, stack or not */
	uint64_t nostack_count, nostack_ns;
};

struct stackagg {
	struct stackagg_kind wait, hold;
	const struct mml_meta *meta;	/* for comms */
	int oom;			/* an allocation failed: figures incomplete */
};

/* Set up (meta may be NULL: comms "?"). -1: out of memory. */
int stackagg_init(struct stackagg *a, const struct mml_meta *meta);
void stackagg_fini(struct stackagg *a);

/*
 * The pairing subscriber (PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_HOLD)): ctx
 * is the struct stackagg. Other kinds are ignored. -1: out of memory.
 */
int stackagg_hook(void *ctx, const struct pair_interval *iv);
#define STACKAGG_KINDS	(PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_HOLD))

/*
 * The n largest stacks of k by total ns (ties: smaller id first), their
 * takers sorted largest first, into out[]. Returns how many (<= n).
 */
size_t stackagg_top(struct stackagg_kind *k, const struct stackagg_ent **out, size_t n);

#endif
