/* SPDX-License-Identifier: MIT */
/*
 * hash.h: the one hash function of the tool's tables (hashmap.h). Keys are
 * mostly small consecutive numbers (tids, cgroup ids) or aligned addresses
 * (mm pointers), so every bit of the key must reach the low bits that pick a
 * slot: the high half is folded into the low one, one multiplication
 * spreads every bit upwards and a second fold brings them back down. One
 * multiplication, not splitmix64's two: the pairing and check look a
 * state up per event, and with linear probing at most half full the second
 * round bought no shorter probes on our keys, only instructions (report
 * -0.9%, check -3.9% measured with callgrind on a recording of stress).
 */
#ifndef MML_HASH_H
#define MML_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

/*
 * A slot of a direct-mapped cache of 2^bits entries (1..63): the top bits
 * of one multiplication by 2^64 / phi (Fibonacci hashing), which every bit
 * of x reaches. A cache's collision costs a recomputation, never a wrong
 * answer, so the export formats' per-interval caches take the cheapest.
 */
static inline size_t hash_bits(uint64_t x, unsigned bits)
{
	return (size_t)((x * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

/*
 * Two words, a wide one and a small one (mm and tid, tid and memcg): b is
 * turned to the high half, where a small number and an address or id
 * overlap least, so that a ^ b rarely cancels; no extra multiplication on
 * the pairing's per-event path.
 */
static inline uint64_t hash64_pair(uint64_t a, uint64_t b)
{
	return hash64(a ^ (b << 32 | b >> 32));
}

/*
 * n bytes: FNV-1a a word at a time (a kernel stack is tens of addresses),
 * the high bits folded down after each word, then the finaliser.
 */
static inline uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull ^ n, w;

	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 1099511628211ull;
		h ^= h >> 29;
	}
	while (n--)
		h = (h ^ *s++) * 1099511628211ull;
	return hash64(h);
}

/* A NUL-terminated string. */
static inline uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return hash64(h);
}

#endif
