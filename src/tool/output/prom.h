/* SPDX-License-Identifier: MIT */
/*
 * prom.h: the exporter's cumulative metrics and their Prometheus text
 * exposition (format 0.0.4).
 *
 * A series is one (memcg label, mode) pair with two counters (acquisitions,
 * failed) and two histograms (wait, hold). Series are created as groups with
 * activity are folded in, at most max of them; after that, new label values
 * go to the memcg="other" series of their mode (cardinality bound). A
 * series' counters only grow, as Prometheus expects; the series itself
 * ends when the caller drops it (prom_drop: its memcg is gone and it has
 * been idle long enough), and Prometheus sees the series end, as it does
 * for a container that cAdvisor stops reporting.
 *
 * Buckets: le = 2^(10+2k) ns for k = 0..12, i.e. 1.024 us to 17.18 s in x4
 * steps, then +Inf. Powers of two are bucket edges of the aggregation's
 * log-linear histograms (agg.h), so folding is exact, with one nuance: a
 * bucket counts the values below its bound (a value of exactly 2^n ns
 * counts in the next one; a 1 ns difference). Sums are exact.
 */
#ifndef MML_PROM_H
#define MML_PROM_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "ob.h"
#include "hashmap.h"
#include "container.h"

#define PROM_NBUCKETS	13		/* finite bounds; +Inf is one more */
#define PROM_DEFAULT_MAX 1000		/* series, i.e. (memcg, mode) pairs */

struct prom_hist {
	uint64_t b[PROM_NBUCKETS + 1];	/* per bucket, not cumulative; last: above all bounds */
	uint64_t count, sum_ns;
};

struct prom_series {
	char *memcg;			/* label value (owned) */
	int write;			/* mode: 0 read, 1 write */
	char *ident;			/* ",pod=\"..\",..." (owned, prom_ident_labels) or NULL */
	int ident_done;			/* ident made (or none to make) */
	int ident_retry;		/* a pod UID without its name yet: look again */
	uint64_t acq, failed;
	struct prom_hist wait, hold;
	uint64_t incidents[2];		/* exporter --incidents: kind wait, hold (not suspect) */
	uint64_t seen;			/* the caller's clock at its last activity (prom_drop) */
	int keep;			/* never dropped (made-up series) */
	int drop;			/* prom_drop's mark, only during the call */
};

/* The index of a series in prom_set.s by (memcg, write); memcg is the series' own copy. */
struct prom_idx {
	const char *memcg;		/* NULL: empty slot */
	int write;
	size_t i;			/* into s */
};
HASHMAP_STRUCT(prom_idxtab, struct prom_idx);

struct prom_set {
	struct prom_series *s;		/* s[0], s[1]: memcg="other" read/write */
	size_t n, cap, max;		/* max: series besides "other" */
	struct prom_idxtab idx;		/* hashmap.h */
	uint64_t lost, events;		/* totals for the plain counters */
	uint64_t non_owner;		/* releases by another task (run_non_owner()) */
	const char *backend;		/* the live back-end ("tracefs"), or NULL: no info metric */
	int incidents_on;		/* --incidents: mmaplock_incidents_total and _suspect_total */
	uint64_t incidents_suspect;
	uint64_t dropped;		/* series prom_drop removed, since start */
};

/* The upper bound of bucket k (0 <= k < PROM_NBUCKETS), in ns. */
static inline uint64_t prom_bound_ns(unsigned k)
{
	return 1ull << (10 + 2 * k);
}

/* An empty set of at most max series (plus the two "other" ones). 0 or -1 (no memory). */
int prom_set_init(struct prom_set *p, size_t max);
/* Free the series and their labels; p is zeroed. */
void prom_set_fini(struct prom_set *p);
/* The series for (memcg, write): found, created, or "other" when max is reached. NULL: no memory. */
struct prom_series *prom_series(struct prom_set *p, const char *memcg, int write);
/*
 * Drop the series (not "other", not kept) last seen before `before` whose
 * owner gone(s, ctx) says is gone; their labels are freed and the others
 * keep their order (pointers from prom_series() are stale afterwards).
 * Counts them in p->dropped and returns how many. Allocates nothing.
 */
size_t prom_drop(struct prom_set *p, uint64_t before,
		 int (*gone)(const struct prom_series *s, void *ctx), void *ctx);
/*
 * The identity labels of id (container.h) that are known, each as
 * ",name=\"value\"" in the order namespace, pod, pod_uid, container_id,
 * qos, unit: the series' labels after memcg and mode. Malloc'ed; NULL when
 * none is known or out of memory. The memcg label stays: it is what makes a
 * series one memcg (cardinality is that of memcgs, bounded by max).
 */
char *prom_ident_labels(const struct ctr_id *id);
/* Add an aggregation histogram (agg.h) into a Prometheus one. */
void prom_hist_fold(struct prom_hist *ph, const struct hist *h);

/* The whole exposition of p into b (appended; a memory ob, ob.h). 0, or -1 when out of memory. */
int prom_render(const struct prom_set *p, struct ob *b);

#endif
