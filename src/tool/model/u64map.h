/* SPDX-License-Identifier: MIT */
/*
 * u64map.h: a small u64 -> u64 map for per-mm and per-task state (blame,
 * the export formats, the HTML pass).
 */
#ifndef MML_U64MAP_H
#define MML_U64MAP_H

#include <stddef.h>
#include <stdint.h>

/* The map; zeroed, it is empty. */
struct u64map {
	uint64_t *k, *v;
	uint8_t *used;
	size_t cap, n;
};

/* The value slot of key, created (0) if create. NULL: absent, or out of memory. */
uint64_t *u64map_get(struct u64map *m, uint64_t key, int create);
void u64map_free(struct u64map *m);

#endif
