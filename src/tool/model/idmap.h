/* SPDX-License-Identifier: MIT */
/*
 * idmap.h: a hash map (hashmap.h) from u64 ids to owned strings (or a
 * plain set, with NULL values), for the recorder's memcg ids, tids and
 * filters. Not thread-safe. The table only grows; a zeroed struct is an
 * empty map. Slots: m->t[i] (key, val, used), i < m->cap.
 */
#ifndef MML_IDMAP_H
#define MML_IDMAP_H

#include <stddef.h>
#include <stdint.h>
#include "hashmap.h"

struct idmap_ent {		/* u64 -> char * (or just a set: val NULL) */
	uint64_t key;
	char *val;
	uint8_t used;
};

#define IDMAP_KEY(e) ((e)->key)
#define IDMAP_USED(e) ((e)->used)
HASHMAP_DEFINE_NAMED(idmap, idmap_tab, struct idmap_ent, uint64_t, hash64, IDMAP_KEY, HASHMAP_NUM_EQ, IDMAP_USED)

/* Slot of k in m->t, or -1. */
long idmap_find(const struct idmap *m, uint64_t k);
/* Insert k; val (malloc'ed or NULL) is taken over, replacing an old one. 1: new, 0: was there, -1: no memory. */
int idmap_put(struct idmap *m, uint64_t k, char *val);
/* Free the values and the table; m is empty afterwards. */
void idmap_free(struct idmap *m);

#endif
