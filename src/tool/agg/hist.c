/* SPDX-License-Identifier: MIT */
/*
 * hist.c: the sparse latency histogram of hist.h: chunk allocation, merge,
 * and the readings (quantiles, the log2-microsecond view, bucket walks).
 */
#include <stdlib.h>
#include <string.h>
#include "hist.h"

unsigned hist_chunk_new(struct hist *h, unsigned c)
{
	if (h->nchunk == h->capchunk) {
		unsigned cap = h->capchunk ? h->capchunk * 2u : 1u;
		void *n;

		if (cap > HIST_NCHUNK)
			cap = HIST_NCHUNK;
		n = realloc(h->chunk, cap * sizeof(*h->chunk));
		if (!n)
			return 0;
		h->chunk = n;
		h->capchunk = (uint8_t)cap;
	}
	memset(h->chunk[h->nchunk], 0, sizeof(*h->chunk));
	h->slot[c] = ++h->nchunk;
	return h->nchunk;
}

int hist_spill(struct hist *h, unsigned idx)
{
	if (hist_bucket_add(h, h->solo, h->count))
		return -1;
	return hist_bucket_add(h, idx, 1);	/* failed: the chunks hold count values, still right */
}

int hist_add_bucket(struct hist *h, unsigned idx, uint64_t n)
{
	if (idx >= HIST_BUCKETS)
		return -1;
	if (!n)
		return 0;
	if (h->nchunk) {
		if (hist_bucket_add(h, idx, n))
			return -1;
	} else if (h->count && h->solo != idx) {
		if (hist_bucket_add(h, h->solo, h->count))
			return -1;
		if (hist_bucket_add(h, idx, n))
			return -1;	/* the chunks hold count values: still right */
	} else {
		h->solo = (uint16_t)idx;
	}
	h->count += n;
	return 0;
}

void hist_fini(struct hist *h)
{
	free(h->chunk);
	memset(h, 0, sizeof(*h));
}

int hist_merge(struct hist *dst, const struct hist *src)
{
	uint64_t n;

	if (!src->count)
		return 0;
	if (!dst->count && !src->nchunk) {
		dst->solo = src->solo;		/* empty + one bucket: still one bucket */
	} else {
		if (!dst->nchunk && dst->count && hist_bucket_add(dst, dst->solo, dst->count))
			return -1;
		for (unsigned i = hist_next(src, 0, &n); i < HIST_BUCKETS; i = hist_next(src, i + 1, &n))
			if (hist_bucket_add(dst, i, n))
				return -1;
	}
	dst->count += src->count;
	dst->total += src->total;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

unsigned hist_next(const struct hist *h, unsigned idx, uint64_t *n)
{
	if (!h->nchunk) {
		if (!h->count || idx > h->solo)
			return HIST_BUCKETS;
		*n = h->count;
		return h->solo;
	}
	for (unsigned c = idx / HIST_CHUNK; c < HIST_NCHUNK; c++) {
		const uint64_t *b;

		if (!h->slot[c])
			continue;
		b = h->chunk[h->slot[c] - 1];
		for (unsigned j = c == idx / HIST_CHUNK ? idx % HIST_CHUNK : 0; j < HIST_CHUNK; j++)
			if (b[j]) {
				*n = b[j];
				return c * HIST_CHUNK + j;
			}
	}
	return HIST_BUCKETS;
}

void hist_bucket_range(unsigned idx, uint64_t *lo, uint64_t *width)
{
	*lo = mml_hist_bucket_lo(idx);
	*width = mml_hist_bucket_width(idx);
}

/* The bucket of h that holds the rank-th smallest value (1 <= rank <= count). */
static unsigned rank_bucket(const struct hist *h, uint64_t rank)
{
	uint64_t cum = 0;

	if (!h->nchunk)
		return h->solo;
	for (unsigned c = 0; c < HIST_NCHUNK; c++) {
		const uint64_t *b;

		if (!h->slot[c])
			continue;
		b = h->chunk[h->slot[c] - 1];
		for (unsigned j = 0; j < HIST_CHUNK; j++) {
			cum += b[j];
			if (cum >= rank)
				return c * HIST_CHUNK + j;
		}
	}
	return HIST_BUCKETS;
}

/*
 * A quantile is the middle of the bucket pair (1/32 of the octave) that
 * holds its rank, clamped to the exact max: relative error <= 1/64. The
 * pair, not the 1/64 bucket, because that is the resolution every figure
 * the tool has printed was read at (tests/golden pins them).
 */
uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, lo, w, v;
	unsigned i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	i = rank_bucket(h, rank);
	if (i >= HIST_BUCKETS)
		return h->max;
	if (i >= MML_HIST_SUB) {	/* below 64 ns: 1 ns buckets, no pairs */
		hist_bucket_range(i & ~1u, &lo, &w);
		w *= 2;
	} else {
		hist_bucket_range(i, &lo, &w);
	}
	v = lo + w / 2;
	return v > h->max ? h->max : v;
}

/* The log2-us row of a bucket: the same for all its values (mml_hist.h). */
static unsigned log2_us_row(unsigned idx)
{
	uint64_t us = mml_hist_bucket_lo(idx) / 1000;
	unsigned k = us ? mml_hist_log2(us) : 0;

	return k < HIST_LOG2_US ? k : HIST_LOG2_US - 1;
}

void hist_log2_us(const struct hist *h, uint64_t out[HIST_LOG2_US])
{
	uint64_t n;

	memset(out, 0, HIST_LOG2_US * sizeof(*out));
	for (unsigned i = hist_next(h, 0, &n); i < HIST_BUCKETS; i = hist_next(h, i + 1, &n))
		out[log2_us_row(i)] += n;
}

int hist_log2_us_rows(const struct hist *h, uint64_t out[HIST_LOG2_US], uint64_t *max)
{
	int last = -1;

	hist_log2_us(h, out);
	*max = 0;
	for (int k = 0; k < HIST_LOG2_US; k++)
		if (out[k]) {
			last = k;
			*max = out[k] > *max ? out[k] : *max;
		}
	return last;
}

size_t hist_bytes(const struct hist *h)
{
	return sizeof(*h) + (size_t)h->capchunk * sizeof(*h->chunk);
}
