/* SPDX-License-Identifier: MIT */
/*
 * exporter-gc.h: the end of an exporter series (`mmaplock exporter
 * --series-ttl`). A series whose memcg is gone (its directory no longer in
 * the memory hierarchy; for an "id:N" series, the id no longer in it) and
 * that saw no activity for the TTL is dropped from the series set
 * (prom_drop, prom.h), so that pod churn does not grow the exposition and
 * the exporter's memory without bound. It works on the cumulative series,
 * after the back-end's windows are folded in, so it is the same for every
 * back-end: a back-end that keeps cumulative in-kernel figures delivers a
 * window's differences, and a gone memcg's differences are zero, which add
 * no series back.
 */
#ifndef MML_EXPORTER_GC_H
#define MML_EXPORTER_GC_H

#include <stddef.h>
#include <stdint.h>
#include "cgroupfs.h"
#include "prom.h"

#define XGC_DEFAULT_TTL_S	300	/* a few scrape intervals of any usual set-up */

struct xgc {
	uint64_t ttl_ns;		/* 0: series are kept forever */
	uint64_t every_ns;		/* between two passes */
	uint64_t next_ns;		/* the next pass (caller's monotonic clock) */
	const char *root;		/* the memory hierarchy; NULL: nothing is ever gone */
	struct cgroupfs_ids ids;	/* "id:N" series: is memcg N gone */
};

/* ttl_s seconds of idleness (0: never drop). */
void xgc_init(struct xgc *g, double ttl_s);
void xgc_fini(struct xgc *g);

/* A pass over set when one is due at now_ns (monotonic): the number of series dropped. */
size_t xgc_run(struct xgc *g, struct prom_set *set, uint64_t now_ns);

#endif
