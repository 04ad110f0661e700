/* SPDX-License-Identifier: MIT */
/*
 * ob.h: the one output buffer every output writes through (report's table,
 * JSON and CSV, the exports, the Prometheus exposition, check's output),
 * with the escapers of each format, so that a string is quoted the same way
 * wherever it lands:
 *  - ob_json_str: a JSON string, RFC 8259 (quote, backslash, controls as
 *    \u00XX; other bytes, UTF-8 included, as they are);
 *  - ob_csv_field: an RFC 4180 field, quoted (quotes doubled) only when it
 *    holds a comma, a quote or a line break;
 *  - ob_html: text in HTML: < > & " as entities;
 *  - ob_prom_label: a Prometheus label value: backslash, quote, newline.
 *
 * A buffer has one of three sinks: a FILE (a fixed buffer, written out when
 * full and by ob_flush), memory (grows; the text is o->buf, o->n bytes) or
 * nothing (a fixed buffer; what does not fit sets o->err). Errors (a short
 * write, no memory, no room) stick in o->err and later writes are dropped.
 *
 * The large outputs (export: hundreds of MB) format numbers themselves
 * instead of going through printf (ten times the speed): ob_u64, ob_hex,
 * ob_us, and the p_* writers for a record written in place between
 * ob_reserve and ob_commit. Prose lines go through ob_printf.
 */
#ifndef MML_OB_H
#define MML_OB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct ob {
	char *buf;
	size_t n, cap;			/* bytes in buf, its size */
	FILE *f;			/* the sink, or NULL (memory or fixed) */
	int grow;			/* memory: buf is malloc'ed and grows */
	int err;			/* a write failed, no memory or no room */
};

/* A fixed buffer (cap bytes at buf) written to f. */
void ob_init_file(struct ob *o, FILE *f, char *buf, size_t cap);
/* A growable buffer in memory (ob_free releases it). */
void ob_init_mem(struct ob *o);
/* A fixed buffer and no sink: text longer than cap sets o->err. */
void ob_init_fixed(struct ob *o, char *buf, size_t cap);
/* ob_init_mem's buffer, freed. */
void ob_free(struct ob *o);
/* What is buffered, written to the FILE sink. 0, or -1 when any write failed. */
int ob_flush(struct ob *o);
/*
 * Room for n more bytes: flushed (FILE), grown (memory). 0, or -1 when
 * there cannot be (a FILE sink's buffer smaller than n, no memory, a fixed
 * buffer full); only the memory and fixed sinks set o->err then.
 */
int ob_room(struct ob *o, size_t n);

/*
 * For a sink that writes only through its ob, called before its first
 * byte: f unbuffered, so that each flush is one write(2) of the whole
 * buffer (through stdio's own 4 KiB buffer it was two calls and a copy:
 * 32 k write calls for 1 GB of Chrome JSON).
 */
static inline void ob_unbuffered(struct ob *o)
{
	setvbuf(o->f, NULL, _IONBF, 0);
}

/* Out of line: s as large as the room left or larger. */
void ob_mem_slow(struct ob *o, const char *s, size_t n);

static inline void ob_mem(struct ob *o, const char *s, size_t n)
{
	if (o->n + n >= o->cap) {	/* >=: an empty memory sink (buf NULL) goes out of line */
		ob_mem_slow(o, s, n);
		return;
	}
	memcpy(o->buf + o->n, s, n);
	o->n += n;
}

static inline void ob_str(struct ob *o, const char *s)
{
	ob_mem(o, s, strlen(s));
}

static inline void ob_ch(struct ob *o, char c)
{
	ob_mem(o, &c, 1);
}

/* A string literal: its length known at compile time. */
#define OBL(o, lit) ob_mem((o), "" lit, sizeof(lit) - 1)

void ob_printf(struct ob *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The escapers (the top of this file says what each does). */
void ob_json_str(struct ob *o, const char *s);	/* with its quotes */
void ob_csv_field(struct ob *o, const char *s);
void ob_html(struct ob *o, const char *s);
void ob_prom_label(struct ob *o, const char *s);	/* without quotes */
/* ob_html straight to f (the HTML page writes to a FILE). */
void ob_html_file(FILE *f, const char *s);
/* ob_json_str straight to a FILE, for the few lines written with stdio (watch's lines). */
void ob_json_file(FILE *f, const char *s);

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

static inline void ob_u64(struct ob *o, uint64_t v)
{
	char t[20 + P_SLACK];

	ob_mem(o, t, (size_t)(p_u64(t, v) - t));
}

/* v in lower-case hex, without 0x */
static inline void ob_hex(struct ob *o, uint64_t v)
{
	char t[16];

	ob_mem(o, t, (size_t)(p_hex(t, v) - t));
}

/* ns as microseconds with three decimals: 1234567 -> 1234.567 */
static inline void ob_us(struct ob *o, uint64_t ns)
{
	char t[24 + P_SLACK];

	ob_mem(o, t, (size_t)(p_us(t, ns) - t));
}

/*
 * The fast path: reserve room for a whole record once, write it with the
 * p_* helpers (no bounds checks: the caller reserved enough, P_SLACK and
 * the P_FIX blocks' spare bytes included), then commit. n must fit in a
 * FILE sink's buffer; NULL only for a memory sink out of memory.
 */
static inline char *ob_reserve(struct ob *o, size_t n)
{
	if (o->n + n > o->cap && ob_room(o, n))
		return NULL;
	return o->buf + o->n;
}

static inline void ob_commit(struct ob *o, char *p)
{
	o->n = (size_t)(p - o->buf);
}

/*
 * n bytes of s (n <= N) as one copy of the constant size N, which compiles
 * to a few vector moves where a copy of variable size is a call; s holds N
 * readable bytes, the caller reserved N, the bytes past n are overwritten
 * by what comes next.
 */
#define P_FIX(p, s, n, N) (memcpy((p), (s), (N)), (p) + (n))

#endif
