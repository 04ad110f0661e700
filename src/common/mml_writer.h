/* SPDX-License-Identifier: MIT */
/*
 * mml_writer.h: write an mmaplock trace file (mml_format.h). Used by
 * libmmaplock's recorder and by `mmaplock record`; not thread-safe (callers
 * serialise). Functions return 0 or -1 with errno set, pointers NULL.
 * Every block reaches the file in one write(2), so a reader never sees half
 * a block unless the writer died in the middle of that call.
 */
#ifndef MML_WRITER_H
#define MML_WRITER_H

#include <stdint.h>
#include "mml_format.h"

struct mml_writer;

/*
 * Create (truncate) path and write hdr (magic, minor version and size filled
 * in for you). hdr->version_major: 0 writes the current version (2), 1 and
 * 2 that version (version 1: 32-byte events as they are, for tests and
 * older readers).
 */
struct mml_writer *mml_writer_open(const char *path, const struct mml_file_header *hdr);
/* Same on an open descriptor; the writer owns fd from now on. */
struct mml_writer *mml_writer_fdopen(int fd, const struct mml_file_header *hdr);

/* One block of any type; the payload is padded to 8 bytes and hashed. */
int mml_writer_block(struct mml_writer *w, uint16_t type, const void *payload, uint32_t len);
/*
 * EVENTS blocks for n events of one stream (CPU or thread), sorted by ts
 * (the caller sorts); split at MML_EVENTS_PER_BLOCK, min/max_ts filled in.
 * Version 2 packs and compresses them here (PACKED blocks): call it off
 * any hot path.
 */
int mml_writer_events(struct mml_writer *w, uint32_t stream, const struct mml_event *ev, uint32_t n);
/*
 * Metadata, gathered and written as one block per type at the next flush,
 * before the next EVENTS block, or at close.
 */
int mml_writer_memcg(struct mml_writer *w, uint64_t id, const char *path);
/*
 * tid 0 (the kernel's idle task, "swapper") is not written: older readers
 * took a tid of 0 for the end of the block. Readers name it themselves.
 */
int mml_writer_task(struct mml_writer *w, uint32_t tid, uint32_t tgid, const char *comm,
		    uint64_t cgroup_id, const char *cgroup_path);
/*
 * A kernel call stack (MML_BLK_STACK): id >= 1, n frames leaf first, each an
 * address (0: unknown) and a symbol ("func+0x1a", "func [module]", ...).
 */
int mml_writer_stack(struct mml_writer *w, uint32_t id, const uint64_t *addr,
		     const char *const *sym, unsigned n);
int mml_writer_lost(struct mml_writer *w, uint32_t who, uint64_t lost);
int mml_writer_info(struct mml_writer *w, const char *key, const char *value);
/* Write the pending metadata blocks now. */
int mml_writer_flush(struct mml_writer *w);
/* Flush, write the END block (totals), close; w is freed even on error. NULL is fine. */
int mml_writer_close(struct mml_writer *w, uint64_t events, uint64_t lost);

#endif /* MML_WRITER_H */
