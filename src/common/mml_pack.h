/* SPDX-License-Identifier: MIT */
/*
 * mml_pack.h: the packed events of a version 2 PACKED block (mml_format.h,
 * docs/FILE-FORMAT.md "PACKED"), before compression. Pure functions on
 * memory: the writer (mml_writer.c) packs then compresses, the tool's
 * reader (src-mml.c) decompresses then unpacks.
 *
 * The layout, for n events of one stream sorted by time:
 *
 *   4 tables, in the order tid, cpu, mm, memcg: a varint count (1..n),
 *   then that many varint values, each value once, in order of first use
 *   op column:    n bytes, type (bits 0-2) | flags << 3 (bits 3-7)
 *   time column:  n varints, ts[0] - base_ts, then ts[i] - ts[i-1] (mod 2^64)
 *   index columns: for each table of 2 entries or more, in table order,
 *                 n varints: the event's entry in that table
 *
 * A varint is unsigned LEB128: 7 bits a byte, low bits first, the high bit
 * set on every byte but the last; at most 10 bytes. Columns compress far
 * better than rows (the op bytes repeat in a pattern, the indexes are
 * small), and zstd then takes a block from about 6 bytes an event to 1.5.
 */
#ifndef MML_PACK_H
#define MML_PACK_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"

/* The most events a PACKED block may hold: its events in 32 bytes each fit MML_BLOCK_MAX. */
#define MML_PACKED_MAX_EVENTS	(MML_BLOCK_MAX / sizeof(struct mml_event))

/* Bytes mml_pack() may need for n events, at most. */
static inline size_t mml_pack_bound(uint32_t n)
{
	/* tables: 4 counts + n values of 10 + 5 + 10 + 10; columns 1 + 10 + 4 * 3 */
	return 64 + (size_t)n * 58;
}

/* One table being built: its values and a hash set of them (entry + 1; 0 empty). */
struct mml_pack_table {
	uint64_t *val;
	uint32_t *slot;
	uint32_t n, hcap;		/* hcap: a power of 2, at least 2 n */
};

/* Scratch of the packer, reused from call to call. */
struct mml_packer {
	struct mml_pack_table t[4];	/* tid, cpu, mm, memcg */
	uint32_t *idx;			/* 4 index columns of cap entries */
	uint32_t cap;			/* events the scratch holds */
};

/*
 * Pack n events (n >= 1, sorted by ts) into out (mml_pack_bound(n) bytes);
 * ts are stored from base_ts (the block's min_ts). Returns the bytes
 * written, 0 when an event does not fit the packing (a type above 7 or a
 * flag above 0x10: the caller writes a version 1 EVENTS block), or -1 with
 * errno ENOMEM.
 */
long mml_pack(struct mml_packer *pk, const struct mml_event *ev, uint32_t n, uint64_t base_ts,
	      unsigned char *out);
/* Free the packer's scratch (the struct itself is the caller's). */
void mml_packer_fini(struct mml_packer *pk);

/* Scratch of the unpacker (the decoded tables), reused from call to call. */
struct mml_unpacker {
	uint64_t *tab;
	size_t cap;
};

/*
 * Unpack len bytes holding n events (from mml_pack(), base_ts as given to
 * it) into ev[n]. Returns 0, -1 when the bytes are not n packed events
 * (anything short, left over, or out of range), -2 when out of memory.
 * Never reads outside p[len] nor writes outside ev[n].
 */
int mml_unpack(struct mml_unpacker *u, const unsigned char *p, size_t len, uint32_t n,
	       uint64_t base_ts, struct mml_event *ev);
void mml_unpacker_fini(struct mml_unpacker *u);

#endif /* MML_PACK_H */
