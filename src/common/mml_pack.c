/* SPDX-License-Identifier: MIT */
/*
 * mml_pack.c: pack and unpack the events of a PACKED block (mml_pack.h has
 * the layout, docs/FILE-FORMAT.md the whole format).
 *
 * Packing looks each tid, cpu, mm and memcg up in a small open-addressing
 * hash set per table (cleared by bumping a generation, not by memset, since
 * the recorder packs many small blocks); consecutive events mostly share
 * their values, so the previous event's entry is tried first. Unpacking
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

static inline uint64_t field(const struct mml_event *e, int t)
{
	switch (t) {
	case T_TID:
		return e->tid;
	case T_CPU:
		return e->cpu;
	case T_MM:
		return e->mm;
	default:
		return e->memcg;
	}
}

static int packer_reserve(struct mml_packer *pk, uint32_t n)
{
	uint32_t hcap = 64;

	if (n <= pk->cap)
		return 0;
	while (hcap < 2 * n)
		hcap *= 2;
	free(pk->val);
	free(pk->idx);
	free(pk->slot);
	free(pk->gen);
	pk->val = malloc((size_t)T_NR * n * sizeof(*pk->val));
	pk->idx = malloc((size_t)T_NR * n * sizeof(*pk->idx));
	pk->slot = malloc((size_t)T_NR * hcap * sizeof(*pk->slot));
	pk->gen = calloc((size_t)T_NR * hcap, sizeof(*pk->gen));
	pk->cap = pk->val && pk->idx && pk->slot && pk->gen ? n : 0;
	pk->hcap = hcap;
	pk->cur = 0;
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

/* Table t: its entry for value v, added if new. */
static inline uint32_t lookup(struct mml_packer *pk, int t, uint64_t v, uint32_t *nent)
{
	uint32_t mask = pk->hcap - 1, h = hash64(v) & mask;
	uint32_t *slot = pk->slot + (size_t)t * pk->hcap, *gen = pk->gen + (size_t)t * pk->hcap;
	uint64_t *val = pk->val + (size_t)t * pk->cap;

	for (;; h = (h + 1) & mask) {
		if (gen[h] != pk->cur) {
			gen[h] = pk->cur;
			slot[h] = nent[t];
			val[nent[t]] = v;
			return nent[t]++;
		}
		if (val[slot[h]] == v)
			return slot[h];
	}
}

long mml_pack(struct mml_packer *pk, const struct mml_event *ev, uint32_t n, uint64_t base_ts,
	      unsigned char *out)
{
	uint32_t nent[T_NR] = { 0 };
	unsigned char *p = out;
	uint64_t prev;

	if (!n || packer_reserve(pk, n) < 0)
		return n ? -1 : 0;
	if (++pk->cur == 0) {		/* generations wrapped: clear once in 2^32 blocks */
		memset(pk->gen, 0, (size_t)T_NR * pk->hcap * sizeof(*pk->gen));
		pk->cur = 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (ev[i].type > 7 || ev[i].flags > 0x1f)
			return 0;
		for (int t = 0; t < T_NR; t++) {
			uint32_t *idx = pk->idx + (size_t)t * pk->cap;
			uint64_t v = field(&ev[i], t);

			if (i && field(&ev[i - 1], t) == v)
				idx[i] = idx[i - 1];
			else
				idx[i] = lookup(pk, t, v, nent);
		}
	}
	for (int t = 0; t < T_NR; t++) {
		const uint64_t *val = pk->val + (size_t)t * pk->cap;

		p = put_varint(p, nent[t]);
		for (uint32_t k = 0; k < nent[t]; k++)
			p = put_varint(p, val[k]);
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

		if (nent[t] < 2)
			continue;
		for (uint32_t i = 0; i < n; i++)
			p = put_varint(p, idx[i]);
	}
	return (long)(p - out);
}

void mml_packer_fini(struct mml_packer *pk)
{
	free(pk->val);
	free(pk->idx);
	free(pk->slot);
	free(pk->gen);
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
