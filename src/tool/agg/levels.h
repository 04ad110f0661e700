/* SPDX-License-Identifier: MIT */
/*
 * levels.h: the HTML page's group levels. The page's heatmap and time
 * series can show one group at a level of the user's choice: memcg,
 * container/pod (when the recording's memcg paths name containers), process,
 * and the report's own --by when it is another. The groups of each level are
 * agg's (agg.h; container/pod folded by agg_regroup, agg-ident.h), never a
 * grouper of their own. A level keeps the LEVEL_KEEP groups with the most
 * wait time; the rest are summed as one "other" group, so the page's size is
 * bounded by (LEVEL_KEEP + 1) grids per level whatever the recording holds.
 *
 * After the first pass, levels_add() ranks a level's groups and builds the
 * map from an interval's key (agg_key at that level; the memcg id for the
 * identity levels) to its index (LEVEL_KEEP .. : other). The second pass
 * (cmd/report-html.c) hands each interval to levels_add_interval(), which
 * fills one time grid (timeagg.h) per kept group and one for the rest.
 */
#ifndef MML_LEVELS_H
#define MML_LEVELS_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "hashmap.h"
#include "timeagg.h"

#define LEVEL_KEEP	20	/* groups per level with their own time grid: the most wait */
#define LEVEL_MAX	4	/* memcg, container/pod, process, the report's own */

struct level_ix {
	uint64_t key;
	uint32_t idx;
	uint8_t used;
};

#define LEVEL_IX_KEY(e) ((e)->key)
#define LEVEL_IX_USED(e) ((e)->used)
HASHMAP_STRUCT(level_map, struct level_ix);

struct ctr_pods;

struct level {
	const char *name;		/* "memcg", "container", "process", ... (agg_by_name) */
	const struct agg *agg;		/* its groups */
	struct agg keyer;		/* by and meta only: agg_key() of an interval */
	int by_memcg;			/* an interval's key is its memcg (identity levels) */
	struct agg_group **kept;	/* the groups by total wait, the first nkept kept */
	size_t nkept, ngroups;
	struct agg_group other;		/* the others folded into one (agg_group_fold) */
	struct level_map map;		/* interval key -> index; not found: other (nkept) */
	struct timeagg grid;		/* nkept + 1 grids (the last: other), second pass */
	int gridded;			/* grid filled (the input was read twice) */
};

struct levels {
	struct level l[LEVEL_MAX];
	size_t n;
	size_t report;			/* the level of the report's own groups (--by) */
	/* second pass: the indexes of the last interval's (tid, mm, memcg) */
	uint32_t tid;
	uint64_t mm, memcg;
	size_t idx[LEVEL_MAX];
	int cached;
};

/*
 * Add the level of a's groups (folded from memcg groups by agg_regroup
 * when a->by is an identity grouping: then src is the memcg agg it was
 * folded from and pods names it). 0, or -1 out of memory.
 */
int levels_add(struct levels *ls, const struct agg *a, const struct agg *src, struct ctr_pods *pods);

/* The index of an interval's group at level l: < nkept, or nkept (other). */
size_t level_index(const struct level *l, uint32_t tid, uint64_t mm, uint64_t memcg);

/* Give every level nkept + 1 grids on t0 and width (the first pass's). -1: out of memory. */
int levels_grids(struct levels *ls, uint64_t t0, uint64_t width);
/* Second pass: one interval into the grid of its group at every level; meta: that pass's. */
void levels_add_interval(struct levels *ls, const struct pair_interval *iv);
/* Set the meta agg_key() reads (the second pass has its own). */
void levels_meta(struct levels *ls, const struct mml_meta *meta);

void levels_fini(struct levels *ls);

#endif
