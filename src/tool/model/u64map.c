/* SPDX-License-Identifier: MIT */
/*
 * u64map.c: the small u64 -> u64 map of u64map.h (open addressing,
 * linear probing, doubled at half full).
 */
#include <stdlib.h>
#include <string.h>
#include "u64map.h"

static size_t slot(const struct u64map *m, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h ^ (h >> 29)) & (m->cap - 1);

	while (m->used[i] && m->k[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int grow(struct u64map *m)
{
	struct u64map n = { .cap = m->cap ? m->cap * 2 : 64 };

	n.k = calloc(n.cap, sizeof(*n.k));
	n.v = calloc(n.cap, sizeof(*n.v));
	n.used = calloc(n.cap, 1);
	if (!n.k || !n.v || !n.used) {
		u64map_free(&n);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i]) {
			size_t j = slot(&n, m->k[i]);
			n.used[j] = 1;
			n.k[j] = m->k[i];
			n.v[j] = m->v[i];
		}
	n.n = m->n;
	u64map_free(m);
	*m = n;
	return 0;
}

uint64_t *u64map_get(struct u64map *m, uint64_t key, int create)
{
	size_t i;

	if (!m->cap) {
		if (!create || grow(m))
			return NULL;
	}
	i = slot(m, key);
	if (m->used[i])
		return &m->v[i];
	if (!create)
		return NULL;
	if ((m->n + 1) * 2 > m->cap) {
		if (grow(m))
			return NULL;
		i = slot(m, key);
	}
	m->used[i] = 1;
	m->k[i] = key;
	m->v[i] = 0;
	m->n++;
	return &m->v[i];
}

void u64map_free(struct u64map *m)
{
	free(m->k);
	free(m->v);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
