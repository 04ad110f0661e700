/* SPDX-License-Identifier: MIT */
/*
 * idmap.h: a small open-addressing hash map from u64 ids to owned strings
 * (or a plain set, with NULL values), for the recorder's memcg ids, tids
 * and filters. Not thread-safe. The table only grows; a zeroed struct is
 * an empty map.
 */
#ifndef MML_IDMAP_H
#define MML_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {			/* u64 -> char * (or just a set: val NULL) */
	uint64_t *key;
	char **val;
	unsigned char *used;
	size_t n, cap;
};

/* Slot of k in m->key/val, or -1. */
long idmap_find(const struct idmap *m, uint64_t k);
/* Insert k; val (malloc'ed or NULL) is taken over, replacing an old one. 1: new, 0: was there, -1: no memory. */
int idmap_put(struct idmap *m, uint64_t k, char *val);
/* Free the values and the table; m is empty afterwards. */
void idmap_free(struct idmap *m);

#endif
