/* SPDX-License-Identifier: MIT */
/*
 * hashmap.h: the one hash map of the tool. Every table (groups, pairing
 * states, tasks, memcgs, stacks, export caches ...) is an instance of
 * HASHMAP_DEFINE: open addressing with linear probing over a power-of-two
 * array of entries kept at most half full, hashed by hash.h.
 *
 * The functions are static inline and the entry type is fixed per instance,
 * so that the pairing's per-event lookup (pair.c, 50 M events/s and more)
 * compiles to the same loop a hand-written table would: no callbacks, no
 * memcpy of runtime sizes.
 *
 *   HASHMAP_DEFINE(name, T, K, HASH, KEYOF, EQ, USED)
 *     T          the entry stored in the array (a zeroed T is an empty slot)
 *     K          the key type (a number, a small struct or a string)
 *     HASH(k)    uint64_t of a key
 *     KEYOF(e)   the key of entry e (const T *)
 *     EQ(a, b)   two keys are equal
 *     USED(e)    e holds an entry (must be false for a zeroed T)
 *
 * gives struct name { T *t; size_t cap, n; } (zeroed: an empty map) and
 *   name_find(m, k)        the entry of k, or NULL
 *   name_add(m, k, &isnew) the entry of k, or a zeroed slot for it (isnew
 *                          set; the caller fills it so that USED holds);
 *                          doubles at half full. NULL: out of memory
 *   name_pos(m, k)         the slot of k or the empty one where it goes
 *                          (cap > 0): for callers with their own growth
 *   name_claim(m, i)       count the empty slot i as taken (after name_pos)
 *   name_del(m, e)         remove e (backward shift: no tombstones; entries
 *                          after e in probe order may move)
 *   name_del_if(m, drop, ctx)  remove every entry drop accepts, without
 *                          allocating; returns how many. drop may be asked
 *                          twice about one entry (answer alike)
 *   name_rehash(m, cap, keep, ctx)   rebuild at cap slots with the entries
 *                          keep (NULL: all) accepts. -1: out of memory
 *   name_make_room(m, idle, keep, ctx)  see below
 *   name_next(m, e)        iteration: the first entry (e NULL) or the one
 *                          after e, NULL at the end. Nothing may be added or
 *                          deleted while iterating.
 *   name_fini(m)           free the array (not what entries point to)
 *
 * Keys: numbers (HASHMAP_NUM_EQ, hash64 or hash64_pair), strings
 * (HASHMAP_STR_EQ, hash_str), byte spans (struct hashmap_bytes below), or a
 * small struct with its own EQ and a HASH built from hash.h.
 *
 * HASHMAP_DEFINE_NAMED(sname, name, ...) is the same with struct sname, for
 * a map whose own API already uses the plain names (idmap). HASHMAP_STRUCT
 * and HASHMAP_FUNCS are its two halves, for a struct declared in a header
 * before its entry type is complete.
 */
#ifndef MML_HASHMAP_H
#define MML_HASHMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"

#define HASHMAP_MIN_CAP 16

/* An instance in a .c file uses only some of its functions: no warning for the rest. */
#define HASHMAP_FN static inline __attribute__((unused))

/* The struct alone: for a header where T is still incomplete (pair.h). */
#define HASHMAP_STRUCT(sname, T)                                                               \
	struct sname {                                                                         \
		T *t;                                                                          \
		size_t cap, n;                                                                 \
	}

/* The functions alone, for a struct declared by HASHMAP_STRUCT. */
#define HASHMAP_FUNCS(sname, name, T, K, HASH, KEYOF, EQ, USED)                                \
	HASHMAP_FN size_t name##_pos(const struct sname *m, K k)                             \
	{                                                                                      \
		size_t mask = m->cap - 1, i = (size_t)HASH(k) & mask;                          \
                                                                                               \
		while (USED(&m->t[i]) && !EQ(KEYOF(&m->t[i]), k))                              \
			i = (i + 1) & mask;                                                    \
		return i;                                                                      \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN T *name##_find(const struct sname *m, K k)                                \
	{                                                                                      \
		size_t i;                                                                      \
                                                                                               \
		if (!m->cap)                                                                   \
			return NULL;                                                           \
		i = name##_pos(m, k);                                                          \
		return USED(&m->t[i]) ? &m->t[i] : NULL;                                       \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN void name##_claim(struct sname *m, size_t i)                              \
	{                                                                                      \
		memset(&m->t[i], 0, sizeof(m->t[i]));                                          \
		m->n++;                                                                        \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN int name##_rehash(struct sname *m, size_t cap, int (*keep)(const T *, void *), \
					void *ctx)                                             \
	{                                                                                      \
		T *o = m->t;                                                                   \
		size_t ocap = m->cap;                                                          \
		T *t = calloc(cap, sizeof(*t));                                                \
                                                                                               \
		if (!t)                                                                        \
			return -1;                                                             \
		m->t = t;                                                                      \
		m->cap = cap;                                                                  \
		m->n = 0;                                                                      \
		for (size_t i = 0; i < ocap; i++)                                              \
			if (USED(&o[i]) && (!keep || keep(&o[i], ctx))) {                      \
				m->t[name##_pos(m, KEYOF(&o[i]))] = o[i];                      \
				m->n++;                                                        \
			}                                                                      \
		free(o);                                                                       \
		return 0;                                                                      \
	}                                                                                      \
                                                                                               \
	/*                                                                                     \
	 * For tables whose entries go idle instead of being deleted (pair.c,                  \
	 * tidmap.c): the table is half full. Below idle slots it doubles, every               \
	 * entry kept (the next event of a key finds its idle entry); from there               \
	 * on it is rebuilt with the entries keep accepts, at the same size unless             \
	 * those alone fill a quarter of it. A rebuild comes at most every cap / 4             \
	 * insertions, and memory is the idle allowance plus what is in use.                   \
	 */                                                                                    \
	HASHMAP_FN int name##_make_room(struct sname *m, size_t idle,                        \
					   int (*keep)(const T *, void *), void *ctx)          \
	{                                                                                      \
		size_t live = 0, cap = m->cap ? m->cap : HASHMAP_MIN_CAP / 2;                  \
		int keep_idle = cap < idle;                                                    \
                                                                                               \
		if (keep_idle)                                                                 \
			keep = NULL;                                                           \
		for (size_t i = 0; i < m->cap; i++)                                            \
			live += USED(&m->t[i]) && (!keep || keep(&m->t[i], ctx));             \
		if (keep_idle)                                                                 \
			cap *= 2;                                                              \
		while ((live + 1) * 4 > cap)                                                   \
			cap *= 2;                                                              \
		return name##_rehash(m, cap, keep, ctx);                                       \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN T *name##_add(struct sname *m, K k, int *isnew)                           \
	{                                                                                      \
		size_t i;                                                                      \
                                                                                               \
		if (m->cap) {                                                                  \
			i = name##_pos(m, k);                                                  \
			if (USED(&m->t[i])) {                                                  \
				*isnew = 0;                                                    \
				return &m->t[i];                                               \
			}                                                                      \
		}                                                                              \
		if ((m->n + 1) * 2 > m->cap &&                                                 \
		    name##_rehash(m, m->cap ? m->cap * 2 : HASHMAP_MIN_CAP, NULL, NULL))       \
			return NULL;                                                           \
		i = name##_pos(m, k);                                                          \
		name##_claim(m, i);                                                            \
		*isnew = 1;                                                                    \
		return &m->t[i];                                                               \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN void name##_del(struct sname *m, T *e)                                    \
	{                                                                                      \
		size_t mask = m->cap - 1, i = (size_t)(e - m->t), j = i;                       \
                                                                                               \
		for (;;) {                                                                     \
			size_t h;                                                              \
                                                                                               \
			j = (j + 1) & mask;                                                    \
			if (!USED(&m->t[j]))                                                   \
				break;                                                         \
			h = (size_t)HASH(KEYOF(&m->t[j])) & mask;                              \
			/* t[j] may fill the hole at i unless its home is in (i, j] */        \
			if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {                  \
				m->t[i] = m->t[j];                                             \
				i = j;                                                         \
			}                                                                      \
		}                                                                              \
		memset(&m->t[i], 0, sizeof(m->t[i]));                                          \
		m->n--;                                                                        \
	}                                                                                      \
                                                                                               \
	/*                                                                                     \
	 * A delete fills slot i from later in its probe chain, so i is looked at              \
	 * again; an entry moved there from the start of the array (the chain                 \
	 * wraps) is looked at twice, and none is moved behind i unseen.                       \
	 */                                                                                    \
	HASHMAP_FN size_t name##_del_if(struct sname *m, int (*drop)(const T *, void *),      \
					   void *ctx)                                          \
	{                                                                                      \
		size_t n = 0;                                                                  \
                                                                                               \
		for (size_t i = 0; i < m->cap; i++)                                            \
			while (USED(&m->t[i]) && drop(&m->t[i], ctx)) {                        \
				name##_del(m, &m->t[i]);                                       \
				n++;                                                           \
			}                                                                      \
		return n;                                                                      \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN T *name##_next(const struct sname *m, T *e)                               \
	{                                                                                      \
		for (e = e ? e + 1 : m->t; e && e < m->t + m->cap; e++)                        \
			if (USED(e))                                                           \
				return e;                                                      \
		return NULL;                                                                   \
	}                                                                                      \
                                                                                               \
	HASHMAP_FN void name##_fini(struct sname *m)                                         \
	{                                                                                      \
		free(m->t);                                                                    \
		m->t = NULL;                                                                   \
		m->cap = m->n = 0;                                                             \
	}

#define HASHMAP_DEFINE_NAMED(sname, name, T, K, HASH, KEYOF, EQ, USED)                        \
	HASHMAP_STRUCT(sname, T);                                                              \
	HASHMAP_FUNCS(sname, name, T, K, HASH, KEYOF, EQ, USED)

#define HASHMAP_DEFINE(name, T, K, HASH, KEYOF, EQ, USED) \
	HASHMAP_DEFINE_NAMED(name, name, T, K, HASH, KEYOF, EQ, USED)

/* Key helpers for the common cases. */
#define HASHMAP_NUM_EQ(a, b) ((a) == (b))
#define HASHMAP_STR_EQ(a, b) (strcmp((a), (b)) == 0)

/*
 * A key of len bytes at p (a path of known length, raw stack addresses),
 * its hash computed once: an entry keeps p, len and hash, so that growing
 * the table and a probe past another key compare hashes, not bytes.
 */
struct hashmap_bytes {
	const void *p;
	size_t len;
	uint64_t hash;
};

static inline struct hashmap_bytes hashmap_bytes(const void *p, size_t len)
{
	return (struct hashmap_bytes){ p, len, hash_bytes(p, len) };
}

#define HASHMAP_BYTES_HASH(k) ((k).hash)
#define HASHMAP_BYTES_EQ(a, b) \
	((a).hash == (b).hash && (a).len == (b).len && !memcmp((a).p, (b).p, (a).len))

#endif
