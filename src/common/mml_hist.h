/* SPDX-License-Identifier: MIT */
/*
 * mml_hist.h: the latency bucket function, shared by the tool and (later)
 * the BPF back-end, so that kernel and user space bucket a value the same
 * way and the tool can read a histogram either of them filled.
 *
 * Log-linear (HdrHistogram-style), in ns: values below 64 have a bucket
 * each; above, each power of two [2^e, 2^(e+1)) is split into 64 equal
 * sub-buckets of 2^(e-6) ns, so a bucket is at most 1/64 (1.6%) of its
 * lower bound wide. Values from 2^48 ns (78 h) up share the last bucket.
 * 64 sub-buckets rather than 32 so that the edges of the log2-microsecond
 * view (1000 * 2^k ns = 125 * 2^(k+3): sub-bucket 61 of octave k+9) are
 * bucket edges, and that view is derived exactly.
 *
 * BPF-safe on purpose: no #include, no libc, no division, and in a BPF
 * build no __builtin_clz: only shifts, compares and adds on unsigned long
 * long (tests/sh/hist-bpf.sh compiles it with clang -target bpf). The log2
 * there is bcc's bits.bpf.h ladder; user space uses the CPU's bit scan,
 * which gives the same answer.
 */
#ifndef MML_HIST_H
#define MML_HIST_H

#define MML_HIST_SUB_BITS	6
#define MML_HIST_SUB		(1u << MML_HIST_SUB_BITS)	/* sub-buckets per octave */
#define MML_HIST_MAX_EXP	47				/* last octave split */
#define MML_HIST_BUCKETS	(MML_HIST_SUB + (MML_HIST_MAX_EXP - MML_HIST_SUB_BITS + 1) * MML_HIST_SUB)

/* floor(log2(v)) for v > 0 (0 for 0): five compare-and-shift steps and one more. */
static inline unsigned int mml_hist_log2_shifts(unsigned long long v)
{
	unsigned int r = 0, s;

	s = (v > 0xffffffffull) << 5; v >>= s; r |= s;
	s = (v > 0xffffull) << 4; v >>= s; r |= s;
	s = (v > 0xffull) << 3; v >>= s; r |= s;
	s = (v > 0xfull) << 2; v >>= s; r |= s;
	s = (v > 0x3ull) << 1; v >>= s; r |= s;
	return r | (unsigned int)(v >> 1);
}

/*
 * The same, for v > 0. Outside BPF the CPU's bit scan: the ladder above is
 * a chain of some twenty dependent instructions, 3 ns on every value in
 * report's hot path, where one instruction gives the same answer
 * (tests/tool/test-hist.c checks both at every power of two and beside it).
 */
static inline unsigned int mml_hist_log2(unsigned long long v)
{
#if defined(__GNUC__) && !defined(__BPF__) && !defined(__bpf__)
	return 63u - (unsigned int)__builtin_clzll(v);
#else
	return mml_hist_log2_shifts(v);
#endif
}

/* The bucket of v ns: 0 .. MML_HIST_BUCKETS - 1. */
static inline unsigned int mml_hist_bucket(unsigned long long v)
{
	unsigned int e;

	if (v < MML_HIST_SUB)
		return (unsigned int)v;
	e = mml_hist_log2(v);
	if (e > MML_HIST_MAX_EXP)
		return MML_HIST_BUCKETS - 1;
	return MML_HIST_SUB + ((e - MML_HIST_SUB_BITS) << MML_HIST_SUB_BITS) +
	       (unsigned int)(v >> (e - MML_HIST_SUB_BITS)) - MML_HIST_SUB;
}

/* The first value (ns) of bucket idx and its width. */
static inline unsigned long long mml_hist_bucket_lo(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < MML_HIST_SUB)
		return idx;
	e = ((idx - MML_HIST_SUB) >> MML_HIST_SUB_BITS) + MML_HIST_SUB_BITS;
	sub = (idx - MML_HIST_SUB) & (MML_HIST_SUB - 1);
	return (1ull << e) + ((unsigned long long)sub << (e - MML_HIST_SUB_BITS));
}

static inline unsigned long long mml_hist_bucket_width(unsigned int idx)
{
	if (idx < MML_HIST_SUB)
		return 1;
	return 1ull << ((idx - MML_HIST_SUB) >> MML_HIST_SUB_BITS);
}

#endif
