/* SPDX-License-Identifier: MIT */
/*
 * agg.h: aggregation of paired intervals into groups (memcg, process, task
 * or mm). Per group: counters and two latency histograms (wait, hold; hist.h)
 * from which p50/p99 are read; totals and maxima are exact. Memory grows
 * with the number of groups and the buckets they used, never with the
 * number of events. The aggregation is one subscriber of the pairing
 * (agg_interval); it caches each (tid, mm, memcg)'s group in the pairing
 * state's slot, so it goes first in the list of subscribers.
 */
#ifndef MML_AGG_H
#define MML_AGG_H

#include <stdint.h>
#include "hashmap.h"
#include "hist.h"
#include "meta.h"
#include "pair.h"

/*
 * AGG_BY_MEMCG_MODE: groups of (memcg, mode), for top's and the exporter's
 * windows; the key is agg_key_memcg_mode(), read back with agg_key_memcg()
 * and agg_key_write(). An aggregating back-end (BPF) makes such groups with
 * agg_group_key(); for events, live.c puts the mode into the key before
 * pairing (the pairing hands agg_group() the memcg only).
 */
/*
 * AGG_BY_CONTAINER, _POD, _UNIT: memcg groups folded by identity after the
 * run (agg-ident.h); never a key of the pairing.
 */
enum agg_by { AGG_BY_MEMCG, AGG_BY_PROCESS, AGG_BY_TASK, AGG_BY_MM, AGG_BY_MEMCG_MODE,
	      AGG_BY_CONTAINER, AGG_BY_POD, AGG_BY_UNIT };

static inline uint64_t agg_key_memcg_mode(uint64_t memcg, int write)
{
	return memcg << 1 | (write != 0);
}

static inline uint64_t agg_key_memcg(uint64_t key)
{
	return key >> 1;
}

static inline int agg_key_write(uint64_t key)
{
	return (int)(key & 1);
}

/* Orders of groups: total wait, total hold, acquisitions; largest first. */
enum agg_sort { AGG_SORT_WAIT, AGG_SORT_HOLD, AGG_SORT_COUNT };

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

struct agg_slab;
struct agg_idents;

#define AGG_TAB_KEY(e) ((*(e))->key)
#define AGG_TAB_USED(e) (*(e) != NULL)
typedef struct agg_group *agg_group_p;	/* hashmap.h writes const T *: a typedef keeps it right */
HASHMAP_STRUCT(agg_tab, agg_group_p);

struct agg {
	enum agg_by by;
	struct agg_tab tab;		/* the groups by key (hashmap.h): walk with agg_tab_next() */
	struct agg_slab *slab;		/* where the groups live, newest first */
	struct agg_group *last;		/* last-hit cache */
	const struct mml_meta *meta;
	struct agg_idents *idents;	/* identity groupings: key -> identity (agg-ident.h) */
};

HASHMAP_FUNCS(agg_tab, agg_tab, agg_group_p, uint64_t, hash64, AGG_TAB_KEY, HASHMAP_NUM_EQ,
	      AGG_TAB_USED)

int agg_init(struct agg *a, enum agg_by by, const struct mml_meta *meta);

void agg_fini(struct agg *a);

/* The key of the group of an interval of task tid on mm in memcg (only a->by and a->meta read). */
uint64_t agg_key(const struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg);
/* The group for an interval of task tid on mm in memcg. NULL: out of memory. */
struct agg_group *agg_group(struct agg *a, uint32_t tid, uint64_t mm, uint64_t memcg);

/*
 * Subscribe a to the pairing p: counts and histograms per group (its
 * callbacks fail only for want of memory). 0, or -1: too many subscribers.
 */
int agg_subscribe(struct agg *a, struct pair *p);
/* agg_init() and subscribing a to p in one call. 0 or -1 (out of memory). */
int agg_attach(struct agg *a, struct pair *p, enum agg_by by, const struct mml_meta *meta);

/*
 * a's groups in a new array (free() it), ordered by key, largest first
 * (ties: smaller group key first, for a stable output). NULL: out of memory.
 */
struct agg_group **agg_sorted(const struct agg *a, enum agg_sort key);

/* The group of key (as agg_group() computes it for a->by); tid names it. NULL: out of memory. */
struct agg_group *agg_group_key(struct agg *a, uint64_t key, uint32_t tid);

/* Add s's counters and histograms to d's (d's key and tid stay). -1: out of memory. */
int agg_group_fold(struct agg_group *d, const struct agg_group *s);

/* Empty g's counters and histograms (freeing their buckets); key and tid stay. */
void agg_group_reset(struct agg_group *g);

/* Bytes g holds: the group and its histograms' buckets (hist_bytes). */
size_t agg_group_bytes(const struct agg_group *g);

/* Group display name into buf: cgroup path, comm[tgid], comm[tid], 0xmm, identity. */
const char *agg_group_name(const struct agg *a, const struct agg_group *g, char *buf, size_t len);

/* "memcg", "process", "task", "mm", "memcg_mode", "container", "pod", "unit". */
const char *agg_by_name(enum agg_by by);

#endif
