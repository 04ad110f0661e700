/* SPDX-License-Identifier: MIT */
/*
 * mml_pack.c: pack and unpack the events of a PACKED block (mml_pack.h has
 * the layout, docs/FILE-FORMAT.md the whole format).
 *
 * Packing looks each tid, cpu, mm and memcg up in a small open-addressing
 * hash set per table, sized by the values seen (blocks mostly have a few
 * dozen, and a set that fits the L1 cache is what keeps packing cheap);
 * consecutive events mostly share their values, so the previous event's
 * entry is tried first. Unpacking
 * checks every varint against the end of the buffer and every index against
 * its table, and wants the buffer used exactly: a block whose hash is right
 * but whose contents are not (a writer's bug, a crafted file) is refused as
 * a whole, never half-read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mml_pack.h"

enum { T_TID, T_CPU, T_MM, T_MEMCG, T_NR };

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static int packer_reserve(struct mml_packer *pk, uint32_t n)
{
	if (n <= pk->cap)
		return 0;
	free(pk->idx);
	pk->idx = malloc((size_t)T_NR * n * sizeof(*pk->idx));
	pk->cap = 0;
	for (int t = 0; t < T_NR && pk->idx; t++) {
		uint64_t *v = realloc(pk->t[t].val, (size_t)n * sizeof(*v));

		if (!v)
			break;
		pk->t[t].val = v;
		if (t == T_NR - 1)
			pk->cap = n;
	}
	if (!pk->cap) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static inline uint32_t hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	v ^= v >> 29;
	return (uint32_t)v;
}

/* Empty table tb, its hash set at least 64 slots (small: blocks mostly have few values). */
static int table_reset(struct mml_pack_table *tb)
{
	if (!tb->slot) {
		tb->slot = malloc(64 * sizeof(*tb->slot));
		if (!tb->slot)
			return -1;
		tb->hcap = 64;
	}
	memset(tb->slot, 0, tb->hcap * sizeof(*tb->slot));
	tb->n = 0;
	return 0;
}

/* Double tb's hash set and put its values back in. */
static int table_grow(struct mml_pack_table *tb)
{
	uint32_t hcap = tb->hcap * 2, mask = hcap - 1;
	uint32_t *slot = calloc(hcap, sizeof(*slot));

	if (!slot)
		return -1;
	for (uint32_t k = 0; k < tb->n; k++) {
		uint32_t h = hash64(tb->val[k]) & mask;

		while (slot[h])
			h = (h + 1) & mask;
		slot[h] = k + 1;
	}
	free(tb->slot);
	tb->slot = slot;
	tb->hcap = hcap;
	return 0;
}

/* tb's entry for value v, added if new; -1 when out of memory. */
static inline long lookup(struct mml_pack_table *tb, uint64_t v)
{
	uint32_t mask = tb->hcap - 1, h = hash64(v) & mask;

	for (;; h = (h + 1) & mask) {
		uint32_t s = tb->slot[h];

		if (!s)
			break;
		if (tb->val[s - 1] == v)
			return s - 1;
	}
	tb->val[tb->n] = v;
	tb->slot[h] = ++tb->n;
	if (2 * tb->n > tb->hcap && table_grow(tb) < 0)
		return -1;
	return tb->n - 1;
}

/*
 * One index column: the entry of each event's FIELD in table ti; the
 * previous event's value is tried first (consecutive events mostly share it).
 */
#define INDEX_COLUMN(ti, FIELD)							\
	do {									\
		struct mml_pack_table *tb = &pk->t[ti];				\
		uint32_t *idx = pk->idx + (size_t)(ti) * pk->cap;		\
		uint64_t last = 0;						\
		long k = -1;							\
		for (uint32_t i = 0; i < n; i++) {				\
			if (k < 0 || (uint64_t)ev[i].FIELD != last) {		\
				last = ev[i].FIELD;				\
				if ((k = lookup(tb, last)) < 0)			\
					goto nomem;				\
			}							\
			idx[i] = (uint32_t)k;					\
		}								\
	} while (0)

long mml_pack(struct mml_packer *pk, const struct mml_event *ev, uint32_t n, uint64_t base_ts,
	      unsigned char *out)
{
	unsigned char *p = out;
	uint64_t prev;

	if (!n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (ev[i].type > 7 || ev[i].flags > 0x1f)
			return 0;
	if (packer_reserve(pk, n) < 0)
		return -1;
	for (int t = 0; t < T_NR; t++)
		if (table_reset(&pk->t[t]) < 0)
			goto nomem;
	INDEX_COLUMN(T_TID, tid);
	INDEX_COLUMN(T_CPU, cpu);
	INDEX_COLUMN(T_MM, mm);
	INDEX_COLUMN(T_MEMCG, memcg);
	for (int t = 0; t < T_NR; t++) {
		p = put_varint(p, pk->t[t].n);
		for (uint32_t k = 0; k < pk->t[t].n; k++)
			p = put_varint(p, pk->t[t].val[k]);
	}
	for (uint32_t i = 0; i < n; i++)
		*p++ = (unsigned char)(ev[i].type | ev[i].flags << 3);
	prev = base_ts;
	for (uint32_t i = 0; i < n; i++) {
		p = put_varint(p, ev[i].ts - prev);
		prev = ev[i].ts;
	}
	for (int t = 0; t < T_NR; t++) {
		const uint32_t *idx = pk->idx + (size_t)t * pk->cap;

		if (pk->t[t].n < 2)
			continue;
		for (uint32_t i = 0; i < n; i++)
			p = put_varint(p, idx[i]);
	}
	return (long)(p - out);
nomem:
	errno = ENOMEM;
	return -1;
}

void mml_packer_fini(struct mml_packer *pk)
{
	for (int t = 0; t < T_NR; t++) {
		free(pk->t[t].val);
		free(pk->t[t].slot);
	}
	free(pk->idx);
	memset(pk, 0, sizeof(*pk));
}

/* One varint at *pp, below e. 0, or -1 when it runs past e or past 10 bytes. */
static inline int get_varint(const unsigned char **pp, const unsigned char *e, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t x = 0;

	if (p < e && *p < 0x80) {	/* most are one byte */
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	for (unsigned s = 0; p < e && s < 64; s += 7) {
		unsigned char b = *p++;

		x |= (uint64_t)(b & 0x7f) << s;
		if (!(b & 0x80)) {
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* Store table t's value v (checked against the field's width already) into e. */
static inline void set_field(struct mml_event *e, int t, uint64_t v)
{
	switch (t) {
	case T_TID:
		e->tid = (uint32_t)v;
		break;
	case T_CPU:
		e->cpu = (uint16_t)v;
		break;
	case T_MM:
		e->mm = v;
		break;
	default:
		e->memcg = v;
	}
}

int mml_unpack(struct mml_unpacker *u, const unsigned char *p, size_t len, uint32_t n,
	       uint64_t base_ts, struct mml_event *ev)
{
	const unsigned char *e = p + len;
	uint64_t ntab[T_NR], *tab[T_NR], ts = base_ts, v;
	size_t off[T_NR], used = 0;

	if (!n)
		return len ? -1 : 0;
	/* the tables: counts and values, into u->tab */
	for (int t = 0; t < T_NR; t++) {
		if (get_varint(&p, e, &ntab[t]) || !ntab[t] || ntab[t] > n)
			return -1;
		off[t] = used;
		if (used + ntab[t] > u->cap) {
			size_t ncap = u->cap ? u->cap : 256;
			uint64_t *nt;

			while (ncap < used + ntab[t])
				ncap *= 2;
			nt = realloc(u->tab, ncap * sizeof(*nt));
			if (!nt)
				return -2;
			u->tab = nt;
			u->cap = ncap;
		}
		for (uint64_t k = 0; k < ntab[t]; k++) {
			if (get_varint(&p, e, &u->tab[used + k]))
				return -1;
			if ((t == T_TID && u->tab[used + k] > UINT32_MAX) ||
			    (t == T_CPU && u->tab[used + k] > UINT16_MAX))
				return -1;
		}
		used += ntab[t];
	}
	for (int t = 0; t < T_NR; t++)
		tab[t] = u->tab + off[t];	/* now that u->tab moves no more */
	/* ops */
	if ((size_t)(e - p) < n)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		ev[i].type = p[i] & 7;
		ev[i].flags = p[i] >> 3;
	}
	p += n;
	/* times */
	for (uint32_t i = 0; i < n; i++) {
		if (get_varint(&p, e, &v))
			return -1;
		ts += v;
		ev[i].ts = ts;
	}
	/* the four fields: one value for all, or an index each */
	for (int t = 0; t < T_NR; t++) {
		if (ntab[t] == 1) {
			for (uint32_t i = 0; i < n; i++)
				set_field(&ev[i], t, tab[t][0]);
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (get_varint(&p, e, &v) || v >= ntab[t])
				return -1;
			set_field(&ev[i], t, tab[t][v]);
		}
	}
	return p == e ? 0 : -1;
}

void mml_unpacker_fini(struct mml_unpacker *u)
{
	free(u->tab);
	u->tab = NULL;
	u->cap = 0;
}
