/* SPDX-License-Identifier: MIT */
/*
 * idmap.c: see idmap.h; the table is hashmap.h's.
 */
#include <stdlib.h>
#include <string.h>
#include "idmap.h"

/* Slot of k, or -1. */
long idmap_find(const struct idmap *m, uint64_t k)
{
	const struct idmap_ent *e = idmap_tab_find(m, k);

	return e ? (long)(e - m->t) : -1;
}

/* Insert k (val is taken over, replacing an old one). 1: new, 0: was there, -1: no memory. */
int idmap_put(struct idmap *m, uint64_t k, char *val)
{
	int isnew;
	struct idmap_ent *e = idmap_tab_add(m, k, &isnew);

	if (!e) {
		free(val);
		return -1;
	}
	if (isnew) {
		e->key = k;
		e->used = 1;
	} else if (val) {
		free(e->val);
	} else {
		return 0;
	}
	e->val = val;
	return isnew;
}

void idmap_free(struct idmap *m)
{
	for (struct idmap_ent *e = NULL; (e = idmap_tab_next(m, e));)
		free(e->val);
	idmap_tab_fini(m);
}
