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
#include "pair.h"
#include "meta.h"
#include "u64map.h"

#define EXPORT_BUF 65536

struct export {
	FILE *out;
	size_t bn;			/* bytes in buf, written to out by ob_flush() */
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

/*
 * The output buffer: the sinks write hundreds of MB for a large trace, so
 * they format numbers themselves instead of going through fprintf (ten
 * times the speed). Everything written through ob_* lands in out in order.
 */
static inline void ob_flush(struct export *x)
{
	if (x->bn)
		fwrite(x->buf, 1, x->bn, x->out);
	x->bn = 0;
}

/*
 * For a sink that writes only through ob_*, called before its first byte:
 * out unbuffered, so that each ob_flush() is one write(2) of the whole
 * buffer (through stdio's own 4 KiB buffer it was two calls and a copy:
 * 32 k write calls for 1 GB of Chrome JSON).
 */
static inline void ob_unbuffered(struct export *x)
{
	setvbuf(x->out, NULL, _IONBF, 0);
}

static inline void ob_mem(struct export *x, const char *s, size_t n)
{
	if (x->bn + n > EXPORT_BUF) {
		ob_flush(x);
		if (n > EXPORT_BUF) {
			fwrite(s, 1, n, x->out);
			return;
		}
	}
	memcpy(x->buf + x->bn, s, n);
	x->bn += n;
}

static inline void ob_str(struct export *x, const char *s)
{
	ob_mem(x, s, strlen(s));
}

/* A string literal: its length known at compile time. */
#define OBL(x, lit) ob_mem((x), "" lit, sizeof(lit) - 1)

#define P_LIT(p, lit) (memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static inline char *p_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/*
 * The number writers: they count the digits first, then write them in
 * place, 8 digits per 8-byte store (no scratch buffer copied afterwards:
 * that copy read back bytes just stored one by one and stalled on it).
 * They may write up to P_SLACK bytes past the end they return (bytes the
 * next write covers): a buffer written by p_* needs that much spare room.
 */
#define P_SLACK 8

static const char p_d2[200] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* The number of decimal digits of v (1 for 0). */
static inline unsigned p_digits(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull,
		10000000000000ull, 100000000000000ull, 1000000000000000ull, 10000000000000000ull,
		100000000000000000ull, 1000000000000000000ull, 10000000000000000000ull,
	};
	uint64_t w = v | 1;	/* as many digits as v, and 0 has one */
	unsigned t = ((64 - (unsigned)__builtin_clzll(w)) * 1233) >> 12;

	return t + (w >= pow10[t]);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * v < 10^8 as 8 ASCII digits, zero-padded, in one register (the first
 * digit in the lowest byte): the two 4-digit halves, then the 2-digit
 * quarters, then the digits, each split done on all lanes at once by one
 * multiply (Lemire's SWAR method). No loop, no branch.
 */
static inline uint64_t p_swar8(uint32_t v)
{
	uint64_t merged = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
	uint64_t top = ((merged * 10486) >> 20) & ((0x7Full << 32) | 0x7Full);	/* /100 */
	uint64_t hundreds = ((merged - 100 * top) << 16) + top;
	uint64_t tens = ((hundreds * 103) >> 10) & 0x000F000F000F000Full;	/* /10 */

	tens += (hundreds - 10 * tens) << 8;
	return tens + 0x3030303030303030ull;
}

/* The last n (1..8) of v's 8 digits at p; writes 8 bytes. */
static inline void p_tail8(char *p, uint32_t v, unsigned n)
{
	uint64_t x = p_swar8(v) >> (8 * (8 - n));

	memcpy(p, &x, 8);
}

/* v < 10^n, n in 1..8, as n digits at p: short ones from the pair table. */
static inline void p_head(char *p, uint32_t v, unsigned n)
{
	switch (n) {
	case 1:
		p[0] = (char)('0' + v);
		break;
	case 2:
		memcpy(p, p_d2 + 2 * v, 2);
		break;
	case 3:
		p[0] = (char)('0' + v / 100);
		memcpy(p + 1, p_d2 + 2 * (v % 100), 2);
		break;
	default:
		p_tail8(p, v, n);
	}
}

/*
 * v in decimal, exactly n digits (n = p_digits(v)), ending at p + n; the
 * 8 bytes from p and the 7 bytes past p + n may be scribbled on (see
 * P_SLACK).
 */
static inline char *p_udig(char *p, uint64_t v, unsigned n)
{
	if (n <= 8) {
		p_head(p, (uint32_t)v, n);
	} else if (n <= 16) {
		uint64_t q = v / 100000000;
		p_head(p, (uint32_t)q, n - 8);
		p_tail8(p + n - 8, (uint32_t)(v - q * 100000000), 8);
	} else {
		uint64_t q2 = v / 10000000000000000ull, r = v - q2 * 10000000000000000ull;
		uint64_t q = r / 100000000;
		p_head(p, (uint32_t)q2, n - 16);
		p_tail8(p + n - 16, (uint32_t)q, 8);
		p_tail8(p + n - 8, (uint32_t)(r - q * 100000000), 8);
	}
	return p + n;
}
#else
/* v in decimal, exactly n digits (n = p_digits(v)), ending at p + n. */
static inline char *p_udig(char *p, uint64_t v, unsigned n)
{
	unsigned k = n;

	while (k > 1) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		k -= 2;
		memcpy(p + k, p_d2 + 2 * r, 2);
	}
	if (k)
		p[0] = (char)('0' + v);
	return p + n;
}
#endif

/* v in decimal. */
static inline char *p_u64(char *p, uint64_t v)
{
	return p_udig(p, v, p_digits(v));
}

/* v in lower-case hex, without 0x. */
static inline char *p_hex(char *p, uint64_t v)
{
	unsigned n = (67 - (unsigned)__builtin_clzll(v | 1)) / 4;
	char *e = p + n;

	do
		*--e = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	return p + n;
}

/* ns as microseconds with three decimals: 1234567 -> 1234.567 */
static inline char *p_us(char *p, uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned r = (unsigned)(ns - us * 1000);

	p = p_u64(p, us);
	p[0] = '.';
	p[1] = (char)('0' + r / 100);
	memcpy(p + 2, p_d2 + 2 * (r % 100), 2);
	return p + 4;
}

static inline void ob_u64(struct export *x, uint64_t v)
{
	char t[20 + P_SLACK];

	ob_mem(x, t, (size_t)(p_u64(t, v) - t));
}

/* v in lower-case hex, without 0x */
static inline void ob_hex(struct export *x, uint64_t v)
{
	char t[16];

	ob_mem(x, t, (size_t)(p_hex(t, v) - t));
}

/* ns as microseconds with three decimals: 1234567 -> 1234.567 */
static inline void ob_us(struct export *x, uint64_t ns)
{
	char t[24 + P_SLACK];

	ob_mem(x, t, (size_t)(p_us(t, ns) - t));
}

/*
 * The fast path: reserve room for a whole record once, write it with the
 * p_* helpers (no bounds checks: the caller reserved enough, P_SLACK and
 * the P_FIX blocks' spare bytes included), then commit.
 */
static inline char *ob_reserve(struct export *x, size_t n)
{
	if (x->bn + n > EXPORT_BUF)
		ob_flush(x);
	return x->buf + x->bn;
}

static inline void ob_commit(struct export *x, char *p)
{
	x->bn = (size_t)(p - x->buf);
}

/*
 * n bytes of s (n <= N) as one copy of the constant size N, which compiles
 * to a few vector moves where a copy of variable size is a call; s holds N
 * readable bytes, the caller reserved N, the bytes past n are overwritten
 * by what comes next.
 */
#define P_FIX(p, s, n, N) (memcpy((p), (s), (N)), (p) + (n))

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

/* A JSON string, escaped per RFC 8259. */
void ob_jstr(struct export *x, const char *s);

#endif
