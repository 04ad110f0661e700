/* SPDX-License-Identifier: MIT */
/*
 * test-hist: the latency histogram (src/common/mml_hist.h, src/tool/agg/hist.c).
 *   - the BPF-safe log2 ladder equals the bit scan at every power of two
 *     and beside it;
 *   - the bucket function is monotonic, tiles the range, and a bucket is at
 *     most 1/64 of its value wide from 64 ns to 100 s (1 ns buckets below);
 *     the edges of the log2-us view (1000 * 2^k ns) are bucket edges;
 *   - the quantiles equal, value for value, those of the histogram the tool
 *     had before (1,408 dense buckets of 1/32: kept here as the reference),
 *     and are within 1/64 of the exact order statistic;
 *   - the log2-us view equals the one the old code counted value by value;
 *   - merge equals adding both sets, whichever storage each side is in;
 *   - hist_add_bucket (histograms that arrive as bucket counts, the BPF
 *     back-end) gives the histogram that adding the values one by one gives;
 *   - memory: a histogram with one bucket allocates nothing, a group that
 *     saw one wait and one hold (or two near ones of each) costs <= 1 KB.
 * The BPF compile of mml_hist.h is tests/sh/hist-bpf.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg.h"
#include "test-util.h"

/* ---- the reference: the tool's histogram before the sparse one ---- */
#define OLD_SUB_BITS	5
#define OLD_SUB		(1u << OLD_SUB_BITS)
#define OLD_MAX_EXP	47
#define OLD_BUCKETS	(OLD_SUB + (OLD_MAX_EXP - OLD_SUB_BITS + 1) * OLD_SUB)

struct old_hist {
	uint64_t count, max;
	uint64_t b[OLD_BUCKETS];
	uint64_t log2_us[HIST_LOG2_US];
};

static unsigned old_bucket(uint64_t v)
{
	unsigned e;

	if (v < OLD_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	if (e > OLD_MAX_EXP)
		return OLD_BUCKETS - 1;
	return OLD_SUB + (e - OLD_SUB_BITS) * OLD_SUB + (unsigned)((v >> (e - OLD_SUB_BITS)) - OLD_SUB);
}

static void old_add(struct old_hist *h, uint64_t v)
{
	unsigned k;

	h->count++;
	if (v > h->max)
		h->max = v;
	h->b[old_bucket(v)]++;
	v /= 1000;
	k = v ? 63u - (unsigned)__builtin_clzll(v) : 0;
	h->log2_us[k < HIST_LOG2_US ? k : HIST_LOG2_US - 1]++;
}

static uint64_t old_quantile(const struct old_hist *h, double q)
{
	uint64_t rank, cum = 0, lo, w, v;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < OLD_BUCKETS; i++) {
		cum += h->b[i];
		if (cum < rank)
			continue;
		if (i < OLD_SUB) {
			lo = i;
			w = 1;
		} else {
			unsigned e = (i - OLD_SUB) / OLD_SUB + OLD_SUB_BITS;
			w = 1ull << (e - OLD_SUB_BITS);
			lo = (1ull << e) + ((i - OLD_SUB) % OLD_SUB) * w;
		}
		v = lo + w / 2;
		return v > h->max ? h->max : v;
	}
	return h->max;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* a value of one of several shapes: tiny, us-scale, ms-scale, log-uniform,
 * the last split octave (below 2^48 ns: from there on, one bucket) */
static uint64_t value(unsigned shape)
{
	uint64_t r = next();

	switch (shape % 5) {
	case 0:
		return r % 200;
	case 1:
		return 1000 * (1 + r % 300);		/* whole us, as text traces give */
	case 2:
		return 100000 + r % 50000000;
	case 3:
		return (r >> 16) >> (r % 48);
	default:
		return (1ull << 47) + (r >> 17);
	}
}

static void test_log2(void)
{
	CHECK(mml_hist_log2_shifts(1) == 0 && mml_hist_log2(1) == 0);
	for (unsigned k = 0; k < 64; k++) {
		uint64_t p = 1ull << k;
		uint64_t vs[] = { p, p - 1, p + 1, p | (p >> 1) };
		for (unsigned i = 0; i < 4; i++) {
			if (!vs[i])
				continue;
			unsigned want = 63u - (unsigned)__builtin_clzll(vs[i]);
			CHECK_EQ(mml_hist_log2_shifts(vs[i]), want);
			CHECK_EQ(mml_hist_log2(vs[i]), want);
		}
	}
	for (int i = 0; i < 1000000; i++) {
		uint64_t v = next() >> (next() % 64);
		if (v)
			CHECK_EQ(mml_hist_log2_shifts(v), 63u - (unsigned)__builtin_clzll(v));
	}
}

static void test_buckets(void)
{
	uint64_t lo, w, prev_end = 0, prev_idx = 0;

	for (unsigned i = 0; i < HIST_BUCKETS; i++) {	/* tiling, edges map back */
		hist_bucket_range(i, &lo, &w);
		CHECK_EQ(lo, prev_end);
		CHECK_EQ(mml_hist_bucket(lo), i);
		CHECK_EQ(mml_hist_bucket(lo + w - 1), i);
		if (lo >= MML_HIST_SUB)
			CHECK(w * 64 <= lo);	/* at most 1/64 of its value */
		else
			CHECK(w == 1);
		prev_end = lo + w;
	}
	CHECK(prev_end == 1ull << 48);
	CHECK_EQ(mml_hist_bucket(1ull << 48), HIST_BUCKETS - 1);
	CHECK_EQ(mml_hist_bucket(~0ull), HIST_BUCKETS - 1);
	/* 1 ns to 100 s: monotonic, each value inside its bucket, the old bucket its pair */
	for (uint64_t v = 1; v <= 100000000000ull; v += 1 + v / 1500) {
		unsigned i = mml_hist_bucket(v);
		CHECK(i >= prev_idx);
		prev_idx = i;
		hist_bucket_range(i, &lo, &w);
		CHECK(lo <= v && v - lo < w);
		CHECK_EQ(old_bucket(v), i < MML_HIST_SUB ? i : MML_HIST_SUB + ((i - MML_HIST_SUB) >> 1));
	}
	for (unsigned k = 1; k < 39; k++) {		/* the log2-us edges */
		hist_bucket_range(mml_hist_bucket(1000ull << k), &lo, &w);
		CHECK_EQ(lo, 1000ull << k);
	}
}

/* h and the reference o agree on every reading */
static void same(const struct hist *h, const struct old_hist *o)
{
	static const double qs[] = { 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1 };
	uint64_t l[HIST_LOG2_US];

	CHECK_EQ(h->count, o->count);
	CHECK_EQ(h->max, o->max);
	for (unsigned i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		CHECK_EQ(hist_quantile(h, qs[i]), old_quantile(o, qs[i]));
	hist_log2_us(h, l);
	for (unsigned k = 0; k < HIST_LOG2_US; k++)
		CHECK_EQ(l[k], o->log2_us[k]);
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_quantiles(void)
{
	struct old_hist *o = calloc(1, sizeof(*o));
	struct hist h = { 0 };
	uint64_t *v = malloc(20000 * sizeof(*v));

	for (unsigned round = 0; round < 400; round++) {
		unsigned n = round < 100 ? round + 1 : 1 + (unsigned)(next() % 20000);
		memset(o, 0, sizeof(*o));
		hist_fini(&h);
		for (unsigned i = 0; i < n; i++) {
			/* mostly one shape, some of the others */
			v[i] = value(next() % 8 ? round : (unsigned)next());
			old_add(o, v[i]);
			CHECK(hist_add(&h, v[i]) == 0);
		}
		same(&h, o);
		if (round < 100)
			continue;
		/* within 1/64 of the exact order statistic */
		qsort(v, n, sizeof(*v), cmp);
		uint64_t rank = (uint64_t)(0.5 * n + 0.999999), q = hist_quantile(&h, 0.5);
		uint64_t exact = v[(rank ? rank : 1) - 1];
		CHECK(exact < 64 ? q == exact : (q > exact ? q - exact : exact - q) * 64 <= exact);
	}
	/* from 2^48 ns (78 h) on one bucket: the same quantiles (clamped alike) */
	memset(o, 0, sizeof(*o));
	hist_fini(&h);
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t x = i % 2 ? (1ull << 48) + next() % (1ull << 60) : value(i);
		old_add(o, x);
		hist_add(&h, x);
	}
	for (double q = 0.05; q <= 1; q += 0.05)
		CHECK_EQ(hist_quantile(&h, q), old_quantile(o, q));
	hist_fini(&h);
	free(v);
	free(o);
}

/* merge of two sets, for one pair of sizes (0, 1 bucket, many) */
static void merge_case(unsigned na, unsigned nb, int one_bucket_a, int one_bucket_b)
{
	struct hist a = { 0 }, b = { 0 }, both = { 0 };
	uint64_t n1, n2;

	for (unsigned i = 0; i < na; i++) {
		uint64_t v = one_bucket_a ? 5000 : value(i);
		hist_add(&a, v);
		hist_add(&both, v);
	}
	for (unsigned i = 0; i < nb; i++) {
		uint64_t v = one_bucket_b ? 7000 : value(i + 3);
		hist_add(&b, v);
		hist_add(&both, v);
	}
	CHECK(hist_merge(&a, &b) == 0);
	CHECK_EQ(a.count, both.count);
	CHECK_EQ(a.total, both.total);
	CHECK_EQ(a.max, both.max);
	unsigned i = hist_next(&a, 0, &n1), j = hist_next(&both, 0, &n2);
	while (i < HIST_BUCKETS || j < HIST_BUCKETS) {
		CHECK_EQ(i, j);
		CHECK_EQ(n1, n2);
		i = hist_next(&a, i + 1, &n1);
		j = hist_next(&both, j + 1, &n2);
	}
	CHECK_EQ(hist_quantile(&a, 0.5), hist_quantile(&both, 0.5));
	CHECK_EQ(hist_quantile(&a, 0.99), hist_quantile(&both, 0.99));
	hist_fini(&a);
	hist_fini(&b);
	hist_fini(&both);
}

static void test_merge(void)
{
	unsigned sizes[] = { 0, 1, 3, 500 };

	for (unsigned x = 0; x < 4; x++)
		for (unsigned y = 0; y < 4; y++)
			for (int oa = 0; oa < 2; oa++)
				for (int ob = 0; ob < 2; ob++)
					merge_case(sizes[x], sizes[y], oa, ob);
}

static void test_memory(void)
{
	struct agg a;
	struct agg_group *g;
	struct hist h = { 0 };

	CHECK(sizeof(struct hist) <= 128);
	hist_add(&h, 12345);
	hist_add(&h, 12346);			/* the same bucket */
	CHECK_EQ(hist_bytes(&h), sizeof(h));	/* nothing allocated */
	CHECK(h.chunk == NULL);
	CHECK_EQ(hist_quantile(&h, 0.5), 12346);	/* the pair's middle, 12416, clamped to the max */
	hist_add(&h, 99999999);
	CHECK(h.nchunk == 2 && hist_bytes(&h) > sizeof(h));
	hist_fini(&h);
	CHECK(h.count == 0 && h.chunk == NULL && hist_bytes(&h) == sizeof(h));

	CHECK(agg_init(&a, AGG_BY_TASK, NULL) == 0);
	g = agg_group(&a, 4242, 0x1000, 7);
	CHECK(g != NULL);
	hist_add(&g->wait, 31000);
	hist_add(&g->hold, 120000);
	printf("test-hist: a group that saw one wait and one hold: %zu bytes\n", agg_group_bytes(g));
	CHECK(agg_group_bytes(g) <= 1024);
	hist_add(&g->wait, 32000);		/* another bucket, the same chunk of 32 */
	hist_add(&g->hold, 125000);
	printf("test-hist: two waits and two holds, near: %zu bytes\n", agg_group_bytes(g));
	CHECK(agg_group_bytes(g) <= 1024);
	hist_add(&g->wait, 2000000);		/* each a chunk (256 bytes) more */
	hist_add(&g->hold, 9);
	CHECK_EQ(agg_group_bytes(g), sizeof(*g) + 4 * HIST_CHUNK * sizeof(uint64_t));
	agg_group_reset(g);
	CHECK(g->key == 4242 && g->wait.count == 0 && g->wait.chunk == NULL);
	CHECK(agg_group_bytes(g) <= 512);
	agg_fini(&a);
}

/* Bucket counts added whole equal the same values added one by one. */
static void test_add_bucket(void)
{
	static const uint64_t v[] = { 5, 5, 700, 700, 700, 123456, 5, 99999999 };
	struct hist a = { 0 }, b = { 0 };
	uint64_t n;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		CHECK(hist_add(&a, v[i]) == 0);
	for (unsigned i = hist_next(&a, 0, &n); i < HIST_BUCKETS; i = hist_next(&a, i + 1, &n))
		CHECK(hist_add_bucket(&b, i, n) == 0);
	CHECK(hist_add_bucket(&b, 0, 0) == 0);
	CHECK(hist_add_bucket(&b, HIST_BUCKETS, 1) == -1);
	CHECK(a.count == b.count);
	b.total = a.total;	/* the caller's, as the back-end's exact sums */
	b.max = a.max;
	for (double q = 0.01; q <= 1.0; q += 0.01)
		CHECK(hist_quantile(&a, q) == hist_quantile(&b, q));
	hist_fini(&b);
	CHECK(hist_add_bucket(&b, 7, 3) == 0 && b.count == 3 && !b.nchunk);	/* one bucket: no chunk */
	CHECK(hist_add_bucket(&b, 70, 2) == 0 && b.count == 5 && b.nchunk);
	b.max = 70;
	CHECK(hist_quantile(&b, 0.5) == 7);
	hist_fini(&a);
	hist_fini(&b);
}

int main(void)
{
	test_log2();
	test_buckets();
	test_quantiles();
	test_merge();
	test_memory();
	test_add_bucket();
	printf("test-hist: ok\n");
	return 0;
}
