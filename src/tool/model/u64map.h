/* SPDX-License-Identifier: MIT */
/*
 * u64map.h: the ready-made instance of hashmap.h, u64 -> u64 (a number, an
 * index or a pointer cast to uintptr_t), for per-mm and per-task state that
 * needs nothing else (blame, the export formats, the HTML pass). Zeroed, a
 * struct u64map is empty; u64map_tab_next() iterates it.
 */
#ifndef MML_U64MAP_H
#define MML_U64MAP_H

#include <stdint.h>
#include "hashmap.h"

struct u64map_ent {
	uint64_t key, val;
	uint8_t used;
};
#define U64MAP_KEY(e) ((e)->key)
#define U64MAP_USED(e) ((e)->used)
HASHMAP_DEFINE_NAMED(u64map, u64map_tab, struct u64map_ent, uint64_t, hash64, U64MAP_KEY,
		     HASHMAP_NUM_EQ, U64MAP_USED)

/* The value of key (created as 0 if create). NULL: missing (or out of memory). */
uint64_t *u64map_get(struct u64map *m, uint64_t key, int create);
/* Remove key if present. */
void u64map_del(struct u64map *m, uint64_t key);
/* Empty the map; m stays usable. */
void u64map_free(struct u64map *m);

#endif
