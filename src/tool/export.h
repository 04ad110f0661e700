/* SPDX-License-Identifier: MIT */
/*
 * export.h: `mmaplock export`: the pairing machine's intervals (pair.h)
 * written in formats other tools read. One sink per format, each a pair
 * hook plus a finish call (export-*.c):
 *  - chrome: Chrome trace-event JSON (Perfetto UI, chrome://tracing): one
 *    track per task, "X" slices for waits and holds, "C" counters of the
 *    waiters per mm;
 *  - folded: Brendan Gregg's folded stacks, `comm;memcg;mode;wait N` lines
 *    weighted by ns (flamegraph.pl, speedscope);
 *  - csv: one row per interval.
 */
#ifndef MML_EXPORT_H
#define MML_EXPORT_H

#include <stdio.h>
#include "pair.h"
#include "meta.h"

struct export {
	FILE *out;
	const struct mml_meta *meta;
	uint64_t intervals;		/* written (chrome, csv) or summed (folded) */
	int oom;			/* an allocation failed */
	int weight;			/* folded: EXPORT_W_* */
	void *priv;			/* the format's state */
};

#define EXPORT_W_WAIT	1
#define EXPORT_W_HOLD	2

/* A format: begin (header), the hook, end (footer, what was buffered). */
struct export_ops {
	const char *name;
	int (*begin)(struct export *x);
	void (*hook)(void *ctx, const struct pair_interval *iv);
	int (*end)(struct export *x);	/* -1: out of memory */
};

extern const struct export_ops export_chrome_ops, export_folded_ops, export_csv_ops;

/* "comm" of tid from meta, or "?". */
const char *export_comm(const struct export *x, uint32_t tid);
/* The name of a memcg id: its path, "memcg_id:N" or "(no memcg)". */
const char *export_memcg(const struct export *x, uint64_t id, char *buf, size_t len);

/* A small u64 -> u64 map (open addressing) for the sinks' per-mm and per-task state. */
struct u64map {
	uint64_t *k, *v;
	uint8_t *used;
	size_t cap, n;
};

/* The value slot of key, created (0) if create. NULL: absent, or out of memory. */
uint64_t *u64map_get(struct u64map *m, uint64_t key, int create);
void u64map_free(struct u64map *m);

#endif
