/* SPDX-License-Identifier: MIT */
/*
 * hist.h: the latency histogram of every group (agg.h): exact count, total
 * and max, and counts per bucket of mml_hist.h (log-linear, 2,752 buckets
 * of at most 1/64 of their value) kept sparse, so that a group costs what
 * it saw: while all values fall in one bucket, that bucket's number is all
 * there is (the struct, 128 bytes); then the buckets live in chunks of 32,
 * a chunk allocated when a value first falls in it (256 bytes; a busy
 * histogram over ten octaves holds about twenty, in one array that grows
 * by doubling). The log2-microsecond
 * view of `report --hist` is derived from the buckets (hist_log2_us),
 * exactly.
 *
 * An all-zero struct hist is an empty histogram; hist_fini frees it.
 */
#ifndef MML_TOOL_HIST_H
#define MML_TOOL_HIST_H

#include <stddef.h>
#include <stdint.h>
#include "mml_hist.h"

#define HIST_BUCKETS	MML_HIST_BUCKETS
#define HIST_CHUNK	32				/* buckets per allocation */
#define HIST_NCHUNK	(HIST_BUCKETS / HIST_CHUNK)	/* 86 */
#define HIST_LOG2_US	40	/* rows of the log2 view: [2^k, 2^(k+1)) us; row 0: 0..2 us */

struct hist {
	uint64_t count, total, max;	/* ns, exact */
	uint64_t (*chunk)[HIST_CHUNK];	/* the allocated chunks, in order of first use */
	uint8_t nchunk, capchunk;
	uint16_t solo;			/* no chunk yet: the one bucket all count values are in */
	uint8_t slot[HIST_NCHUNK];	/* chunk number -> 1 + its index in chunk[]; 0: none yet */
};

/* Make room for chunk c of h; the slot number (>= 1), 0 when out of memory. */
unsigned hist_chunk_new(struct hist *h, unsigned c);

/* Add n values that fall in bucket idx to the chunks. */
static inline int hist_bucket_add(struct hist *h, unsigned idx, uint64_t n)
{
	unsigned s = h->slot[idx / HIST_CHUNK];

	if (!s && !(s = hist_chunk_new(h, idx / HIST_CHUNK)))
		return -1;
	h->chunk[s - 1][idx % HIST_CHUNK] += n;
	return 0;
}

/* A second bucket for a histogram that had one (h->solo): into chunks. */
int hist_spill(struct hist *h, unsigned idx);

/*
 * Add one value (ns). -1 when out of memory: then h is unchanged. Until
 * its values fall in two buckets, a histogram allocates nothing: most
 * groups of short-lived tasks see one wait and one hold.
 */
static inline int hist_add(struct hist *h, uint64_t v)
{
	unsigned idx = mml_hist_bucket(v);

	if (h->nchunk) {
		if (hist_bucket_add(h, idx, 1))
			return -1;
	} else if (h->count && h->solo != idx) {
		if (hist_spill(h, idx))
			return -1;
	} else {
		h->solo = (uint16_t)idx;
	}
	h->count++;
	h->total += v;
	if (v > h->max)
		h->max = v;
	return 0;
}

/*
 * Add n values that fell in bucket idx, for histograms that arrive as
 * bucket counts (the BPF back-end): count grows by n; total and max are the
 * caller's to set. -1 when out of memory or idx is out of range (h unchanged).
 */
int hist_add_bucket(struct hist *h, unsigned idx, uint64_t n);

/* Free what h holds; h is an empty histogram again. */
void hist_fini(struct hist *h);

/* Add src's values to dst. -1 when out of memory (dst then holds part of them). */
int hist_merge(struct hist *dst, const struct hist *src);

/* The q-quantile (0 < q <= 1) of h in ns; 0 when h is empty. */
uint64_t hist_quantile(const struct hist *h, double q);

/* The log2-microsecond view: out[k] = values in [2^k, 2^(k+1)) us (k = 0: 0..2 us). */
void hist_log2_us(const struct hist *h, uint64_t out[HIST_LOG2_US]);
/* The same, for drawing it: the last row that is not empty (-1: none), *max the largest row. */
int hist_log2_us_rows(const struct hist *h, uint64_t out[HIST_LOG2_US], uint64_t *max);

/* The first non-empty bucket from idx on, its count in *n; HIST_BUCKETS: none. */
unsigned hist_next(const struct hist *h, unsigned idx, uint64_t *n);

/* Lower bound and width of bucket idx (ns). */
void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *width);

/* Bytes h holds: the struct and its chunks (malloc's own overhead not counted). */
size_t hist_bytes(const struct hist *h);

#endif
