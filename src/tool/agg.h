/* SPDX-License-Identifier: MIT */
/*
 * agg.h: aggregation of paired intervals into groups (memcg, process, task
 * or mm). Per group: counters and two log-linear latency histograms (wait,
 * hold) from which p50/p99 are read; totals and maxima are exact. Memory
 * grows with the number of groups, never with the number of events.
 */
#ifndef MML_AGG_H
#define MML_AGG_H

#include <stdint.h>
#include "meta.h"

enum agg_by { AGG_BY_MEMCG, AGG_BY_PROCESS, AGG_BY_TASK, AGG_BY_MM };

/*
 * Log-linear histogram: values below 32 ns have a bucket each; above, each
 * power of two is split into 32 equal sub-buckets, so a bucket is at most
 * 1/32 (3.1%) of its lower bound wide. A percentile is reported as the
 * middle of its bucket, clamped to the exact max: relative error <= 1.6%.
 * Values from 2^47 ns (39 h) up share the last bucket.
 */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_MAX_EXP	47
#define HIST_BUCKETS	(HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_LOG2_US	40		/* log2 buckets of microseconds, for --hist */

struct hist {
	uint64_t count, total, max;	/* ns, exact */
	uint64_t b[HIST_BUCKETS];
	uint64_t log2_us[HIST_LOG2_US];	/* bucket k: [2^k, 2^(k+1)) us; 0 holds 0..1 us */
};

struct agg_group {
	uint64_t key;			/* memcg id, tgid/tid, tid or mm */
	uint64_t acq_read, acq_write;	/* attempts answered with success (trylocks included) */
	uint64_t failed;		/* attempts answered with success=false */
	uint64_t contended_marked;	/* waits with a lock:contention_begin inside */
	uint64_t contended_long;	/* waits longer than AGG_CONTENDED_NS */
	uint64_t downgrades;		/* write -> read while held: not acquisitions */
	uint64_t trylocks;		/* acquisitions without start_locking (trylock) */
	uint32_t tid;			/* a task seen in the group (naming process/task groups) */
	struct hist wait, hold;
};

/* Without lock:contention events, a wait longer than this counts as contended. */
#define AGG_CONTENDED_NS	10000ull

struct agg {
	enum agg_by by;
	struct agg_group **g;		/* open-addressing table of groups */
	size_t cap, n;
	struct agg_group *last;		/* last-hit cache */
	const struct mml_meta *meta;
};

int agg_init(struct agg *a, enum agg_by by, const struct mml_meta *meta);
void agg_fini(struct agg *a);

/* The group for an interval of task tid on mm in memcg. NULL: out of memory. */
struct agg_group *agg_group(struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg);

/* Add one value (ns) to a histogram. */
static inline void hist_add(struct hist *h, uint64_t v)
{
	unsigned idx, k;

	h->count++;
	h->total += v;
	if (v > h->max)
		h->max = v;
	if (v < HIST_SUB) {
		idx = (unsigned)v;
	} else {
		unsigned e = 63u - (unsigned)__builtin_clzll(v);
		if (e > HIST_MAX_EXP)
			idx = HIST_BUCKETS - 1;
		else
			idx = HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
			      (unsigned)((v >> (e - HIST_SUB_BITS)) - HIST_SUB);
	}
	h->b[idx]++;
	v /= 1000;
	k = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
	if (k >= HIST_LOG2_US)
		k = HIST_LOG2_US - 1;
	h->log2_us[k]++;
}

/* The q-quantile (0 < q <= 1) of h in ns; 0 when h is empty. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Lower bound and width of bucket idx (for tests and docs). */
void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *width);

/* Group display name into buf: cgroup path, comm[tgid], comm[tid], 0xmm. */
const char *agg_group_name(const struct agg *a, const struct agg_group *g, char *buf, size_t len);

#endif
