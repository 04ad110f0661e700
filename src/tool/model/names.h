/* SPDX-License-Identifier: MIT */
/*
 * names.h: the one service that names ids from this machine, for every
 * back-end and every file source: memcg id -> path (walks of the memory
 * hierarchy, cgroupfs.h), tid -> comm, tgid and cgroup (/proc), and the
 * comms the kernel saved for tasks already gone (tracefs saved_cmdlines).
 * What it finds is cached here; putting names into a trace's metadata
 * (meta.h) or a file stays with the caller, except for the report-time
 * naming of a trace's ids (names_memcg_now), which marks them.
 *
 * A zeroed struct names is ready (no saved_cmdlines: names_init() gives
 * the tracing directory). Not thread-safe.
 */
#ifndef MML_NAMES_H
#define MML_NAMES_H

#include <stdint.h>
#include <time.h>
#include "cgroupfs.h"
#include "idmap.h"

struct mml_meta;

/* Called with each memcg a walk finds (id, hierarchy-relative path). */
typedef void (*names_walk_fn)(uint64_t id, const char *path, void *arg);

struct names {
	struct idmap memcg;		/* id -> path, from the walks so far */
	time_t walked;			/* time() of the last walk; 0: none yet */
	struct idmap comms;		/* saved_cmdlines: tid -> comm */
	double comms_at;		/* names_clock() when comms was read */
	char tracing[256];		/* tracefs directory, "": no saved_cmdlines */
};

/* Set up; tracing: the tracefs directory for saved_cmdlines (NULL: none). */
void names_init(struct names *n, const char *tracing);
void names_fini(struct names *n);
/* Seconds on CLOCK_MONOTONIC: the clock of comms_at. */
double names_clock(void);

/* Walk the memory hierarchy now: every memcg into the cache, and to fn (NULL: none). Count or -1. */
long names_walk(struct names *n, names_walk_fn fn, void *arg);
/*
 * The path of memcg id on this machine: the cache, else a new walk (fn
 * sees it, as names_walk) unless one was made this second already. NULL:
 * no such memcg (or not yet). id 0 (no memcg) is never looked up.
 */
const char *names_memcg(struct names *n, uint64_t id, names_walk_fn fn, void *arg);
/* The path cached for id (no walk), or NULL. */
const char *names_memcg_cached(const struct names *n, uint64_t id);

/*
 * Report-time naming of a trace's memcg ids: each id in ids (a set) that m
 * has no path for and that a memory cgroup has now gets that path through
 * meta_set_memcg_now() (marked '*': the id may have been reused since the
 * trace). One walk. Returns how many were named (0 when there is no
 * hierarchy).
 */
long names_memcg_now(struct names *n, struct mml_meta *m, const struct idmap *ids);
/*
 * The same for one id, for a reader that prints as it goes (export): the
 * walk is made at the first call. 1: named now, 0: not (m had a path, or
 * no memcg has the id).
 */
int names_memcg_now_id(struct names *n, struct mml_meta *m, uint64_t id);

/* tid's comm, tgid and memory cgroup from /proc. 0, or -1 when it is gone. */
int names_task(uint32_t tid, struct cg_task *t);
/* Read saved_cmdlines again into comms (what was there goes). */
void names_load_comms(struct names *n);
/*
 * The comm the kernel saved for tid, or NULL. The copy is read again when
 * older than max_age seconds: a tid reused since would be named after its
 * earlier owner. NAMES_ANY_AGE: the copy there is (names_load_comms just
 * made it).
 */
const char *names_saved_comm(struct names *n, uint32_t tid, double max_age);
#define NAMES_ANY_AGE 1e300

#endif
