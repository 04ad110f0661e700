/* SPDX-License-Identifier: MIT */
/*
 * export.c: what the export sinks share (export.h): names from meta and a
 * small u64 -> u64 map.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"

const char *export_comm(const struct export *x, uint32_t tid)
{
	const struct mml_task_info *t = x->meta ? meta_task(x->meta, tid) : NULL;

	return t && t->comm[0] ? t->comm : "?";
}

const char *export_memcg(const struct export *x, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(x->meta, id, buf, len);
}

void ob_jstr(struct export *x, const char *s)
{
	ob_mem(x, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char t[8];
		if (c == '"' || c == '\\') {
			t[0] = '\\', t[1] = (char)c;
			ob_mem(x, t, 2);
		} else if (c < 0x20) {
			snprintf(t, sizeof(t), "\\u%04x", c);
			ob_mem(x, t, 6);
		} else {
			ob_mem(x, (const char *)&c, 1);
		}
	}
	ob_mem(x, "\"", 1);
}

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
