/* SPDX-License-Identifier: MIT */
/*
 * blame.h: who blocked whom (`mmaplock report --by holder`). Fed by the
 * pairing machine's intervals (a subscriber, pair.h), it attributes every wait on an
 * mm to the tasks that held that mm's lock while the wait lasted: each
 * holder gets the overlap of its hold with the wait (blamed_ns), split by
 * the mode it held the lock in. Two readers holding during one wait are
 * both blamed for their full overlap, so blamed time may add up to more
 * than the wait time; a waiter is never blamed for itself.
 *
 * Streaming, memory bounded by what is open: per mm, the open holds, the
 * open waits, and the holds that closed while a still-open wait had
 * already started (they may overlap it). A closed hold is forgotten once
 * no open wait on its mm started before its end. A wait whose end was lost
 * is closed without blame as soon as its task shows up doing anything else
 * (a task blocked in a wait fires no event); if one still never closes, the
 * remembered holds are capped at BLAME_KEEP per mm, the oldest dropped and
 * counted (dropped_holds).
 */
#ifndef MML_BLAME_H
#define MML_BLAME_H

#include <stdint.h>
#include <stdio.h>
#include "hashmap.h"
#include "pair.h"
#include "meta.h"

#define BLAME_KEEP 4096		/* closed holds remembered per mm, at most */

/* One holder's blame for waits in one victim memcg. */
struct blame_rec {
	uint32_t tid;			/* the holder */
	uint64_t victim_memcg;		/* the memcg of the waits (their mm's) */
	uint64_t blamed_ns;		/* overlap of its holds with others' waits */
	uint64_t write_ns, read_ns;	/* the same, by the mode it held the lock in */
	uint64_t waits;			/* waits it overlapped */
	uint64_t last_wait;		/* serial of the last wait counted in waits */
	int used;
};

struct blame_mm;
typedef struct blame_mm *blame_mm_p;
HASHMAP_STRUCT(blame_mms, blame_mm_p);
HASHMAP_STRUCT(blame_recs, struct blame_rec);

struct blame {
	const struct mml_meta *meta;
	struct blame_mms mm;		/* by mm (hashmap.h) */
	struct blame_recs rec;		/* by (tid, victim memcg) */
	uint64_t waits, wait_ns;	/* waits closed (success or failure), their total */
	uint64_t unblamed;		/* waits that no recorded hold overlapped */
	uint64_t dropped_holds;		/* closed holds forgotten at the BLAME_KEEP cap */
	uint64_t lost_waits;		/* waits whose end never came (their task moved on) */
	void *tid_wait;			/* struct u64map: tid -> mm + 1 of its open wait */
	int oom;			/* an allocation failed: the figures are incomplete */
};

int blame_init(struct blame *b, const struct mml_meta *meta);
void blame_fini(struct blame *b);
/* The pairing subscriber: pair_subscribe(p, blame_hook, b, PAIR_INTERVALS). -1: out of memory. */
int blame_hook(void *ctx, const struct pair_interval *iv);

/* A holder with all its victims summed, for the sinks. */
struct blame_holder {
	uint32_t tid;
	uint64_t blamed_ns, write_ns, read_ns, waits;
	const struct blame_rec **victims;	/* its records, most blamed first */
	size_t nvictims;
};

/* Holder cgroup -> victim memcg. */
struct blame_pair {
	const char *holder_cgroup;	/* the holder's own cgroup path, or "?" */
	uint64_t victim_memcg;		/* the waits' memcg id (blame_memcg_name) */
	uint64_t blamed_ns, waits;
};

struct blame_result {
	struct blame_holder *holders;	/* most blamed first */
	size_t nholders;
	struct blame_pair *pairs;	/* most blamed first */
	size_t npairs;
	const struct blame_rec **recs;	/* storage for the victims arrays */
};

/* Roll the records up per holder and per pair. -1: out of memory. */
int blame_result(const struct blame *b, struct blame_result *r);
void blame_result_free(struct blame_result *r);

/* The holder's own cgroup path from meta, or "?". */
const char *blame_cgroup(const struct blame *b, uint32_t tid);
/* The name of a memcg id: its path, "memcg_id:N", or "(no memcg)". */
const char *blame_memcg_name(const struct blame *b, uint64_t id, char *buf, size_t len);

#endif
