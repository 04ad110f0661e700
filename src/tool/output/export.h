/* SPDX-License-Identifier: MIT */
/*
 * export.h: `mmaplock export`: the pairing machine's intervals (pair.h)
 * written in formats other tools read. One sink per format, each a pair
 * hook plus a finish call (export-*.c):
 *  - chrome: Chrome trace-event JSON (Perfetto UI, chrome://tracing): one
 *    track per task, "X" slices for waits and holds, "C" counters of the
 *    waiters per mm;
 *  - folded: Brendan Gregg's folded stacks, `comm;memcg;mode;wait N` lines
 *    weighted by ns (flamegraph.pl, speedscope), with the interval's kernel
 *    frames (root first, function names) after `wait`/`hold` when the
 *    trace has stacks (record --stack);
 *  - csv: one row per interval.
 */
#ifndef MML_EXPORT_H
#define MML_EXPORT_H

#include <stdio.h>
#include <string.h>
#include "ob.h"
#include "pair.h"
#include "meta.h"
#include "u64map.h"

#define EXPORT_BUF 65536

struct export {
	struct ob ob;			/* the output (ob.h), in buf */
	char buf[EXPORT_BUF];
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

/* Hex digits of recent values (mm addresses: a trace has few), direct-mapped. */
struct hexcache {
	struct { uint64_t v; uint32_t len; char s[16]; } e[64];
};

/* The hex of v (no 0x, *len digits, 16 bytes readable), formatted on a miss. */
static inline const char *hex_cached(struct hexcache *c, uint64_t v, uint32_t *len)
{
	__typeof__(&c->e[0]) e = &c->e[hash_bits(v, 6)];

	if (e->v != v || !e->len) {
		e->v = v;
		e->len = (uint32_t)(p_hex(e->s, v) - e->s);
	}
	*len = e->len;
	return e->s;
}

#endif
