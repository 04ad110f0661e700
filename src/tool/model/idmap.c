/* SPDX-License-Identifier: MIT */
/*
 * idmap.c: see idmap.h. Linear probing over a power-of-two table kept at
 * most half full; keys are mixed (murmur3 finaliser) because cgroup ids and
 * tids are small consecutive numbers.
 */
#include <stdlib.h>
#include <string.h>
#include "idmap.h"


static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int idmap_grow(struct idmap *m)
{
	struct idmap n = { 0 };

	n.cap = m->cap ? m->cap * 2 : 256;
	n.key = calloc(n.cap, sizeof(*n.key));
	n.val = calloc(n.cap, sizeof(*n.val));
	n.used = calloc(n.cap, 1);
	if (!n.key || !n.val || !n.used) {
		free(n.key);
		free(n.val);
		free(n.used);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->used[i])
			continue;
		size_t j = mix(m->key[i]) & (n.cap - 1);
		while (n.used[j])
			j = (j + 1) & (n.cap - 1);
		n.used[j] = 1;
		n.key[j] = m->key[i];
		n.val[j] = m->val[i];
	}
	n.n = m->n;
	free(m->key);
	free(m->val);
	free(m->used);
	*m = n;
	return 0;
}

/* Slot of k, or -1. */
long idmap_find(const struct idmap *m, uint64_t k)
{
	if (!m->cap)
		return -1;
	for (size_t j = mix(k) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1))
		if (m->key[j] == k)
			return (long)j;
	return -1;
}

/* Insert k (val is taken over, replacing an old one). 1: new, 0: was there, -1: no memory. */
int idmap_put(struct idmap *m, uint64_t k, char *val)
{
	long f = idmap_find(m, k);

	if (f >= 0) {
		if (val) {
			free(m->val[f]);
			m->val[f] = val;
		}
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap && idmap_grow(m)) {
		free(val);
		return -1;
	}
	size_t j = mix(k) & (m->cap - 1);
	while (m->used[j])
		j = (j + 1) & (m->cap - 1);
	m->used[j] = 1;
	m->key[j] = k;
	m->val[j] = val;
	m->n++;
	return 1;
}

void idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->used[i])
			free(m->val[i]);
	free(m->key);
	free(m->val);
	free(m->used);
	memset(m, 0, sizeof(*m));
}
