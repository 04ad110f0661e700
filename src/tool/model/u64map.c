/* SPDX-License-Identifier: MIT */
/*
 * u64map.c: the u64 -> u64 instance of hashmap.h (u64map.h), out of line:
 * its users (export caches, blame's open waits, the HTML pass) are not on a
 * per-event path.
 */
#include "u64map.h"

uint64_t *u64map_get(struct u64map *m, uint64_t key, int create)
{
	struct u64map_ent *e;
	int isnew;

	if (!create) {
		e = u64map_tab_find(m, key);
		return e ? &e->val : NULL;
	}
	e = u64map_tab_add(m, key, &isnew);
	if (!e)
		return NULL;
	if (isnew) {
		e->key = key;
		e->used = 1;
	}
	return &e->val;
}

void u64map_del(struct u64map *m, uint64_t key)
{
	struct u64map_ent *e = u64map_tab_find(m, key);

	if (e)
		u64map_tab_del(m, e);
}

void u64map_free(struct u64map *m)
{
	u64map_tab_fini(m);
}
