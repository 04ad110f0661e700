/* SPDX-License-Identifier: MIT */
/*
 * decode.h: one raw ftrace record (the bytes of an event as the ring buffer,
 * trace_pipe_raw or a trace.dat file holds them) -> struct mml_event.
 *
 * The layout comes from the kernel's own format files, parsed by
 * libtraceevent into a struct tep_handle: field offsets are looked up once,
 * when the decoder is made, and decode_record() is then a type compare and a
 * few loads. Both kernel eras are understood: memcg_id (u64, 6.14 and
 * later) and memcg_path (a __data_loc string, 5.11 to 6.13). Paths are
 * interned into small ids (1, 2, ...) and announced through a callback so
 * that the caller can store them (a MEMCG block, or the report's meta).
 *
 * lock:contention_begin is kept only for rwsem waits (LCB_F_READ or
 * LCB_F_WRITE set: the mmap_lock is an rwsem); contention_end carries no
 * flags, so every one is kept and the report pairs it by task and address.
 *
 * A decoder is not thread-safe: one per thread.
 */
#ifndef MML_DECODE_H
#define MML_DECODE_H

#include <stdint.h>
#include "mml_format.h"

struct tep_handle;
struct decoder;

/* Called once per new memcg path (path-era kernels): id is what events carry. */
typedef void (*decode_memcg_fn)(uint64_t id, const char *path, void *arg);

/*
 * Make a decoder for the events known to tep. Returns NULL with errno set
 * (ENOENT: tep holds no mmap_lock event).
 */
struct decoder *decoder_new(struct tep_handle *tep, decode_memcg_fn fn, void *arg);
void decoder_free(struct decoder *d);		/* NULL is fine */

/* 1: the kernel prints memcg_id (the event carries the cgroup id); 0: memcg_path. */
int decoder_has_memcg_id(const struct decoder *d);
/* 1 when tep knows lock:contention_begin/end. */
int decoder_has_contention(const struct decoder *d);

/*
 * Decode one record: data/size as stored, ts in ns, cpu. Returns 1 when ev
 * was filled, 0 when the record is not one of ours (or filtered out), -1
 * when it is ours but malformed (too short, a string out of bounds).
 */
int decode_record(struct decoder *d, const void *data, int size, uint64_t ts, int cpu,
		  struct mml_event *ev);

/*
 * What decode_record() would answer for the record, without decoding it
 * (no memcg path is interned, so it may be asked ahead): 0 or -1 as
 * decode_record(), or, for a record it keeps, a kind > 0 that
 * decode_checked() takes instead of checking the record again.
 */
int decode_check(const struct decoder *d, const void *data, int size);
/*
 * decode_check(), and for a record kept whose decoding changes nothing in
 * the decoder (every event but those whose memcg path is interned) the
 * event decoded into ev as decode_checked() would (*done 1): so it may be
 * decoded before its turn, on another thread than the one that decodes
 * the rest. Reads d only.
 */
int decode_check_ahead(const struct decoder *d, const void *data, int size, uint64_t ts,
		       int cpu, struct mml_event *ev, int *done);
void decode_checked(struct decoder *d, int kind, const void *data, uint64_t ts, int cpu,
		    struct mml_event *ev);

/* 1 when tep knows ftrace:kernel_stack (the stacktrace trigger's record). */
int decoder_has_stacks(const struct decoder *d);
/*
 * A kernel_stack record: its pid into *pid and up to max return addresses,
 * innermost first, into addr. Returns the count, or -1 when the record is
 * not a kernel_stack. The entry count is the record's own "size" field,
 * bounded by the record's length (the format file shows a fixed caller[8]
 * but the kernel writes as many entries as it walked).
 */
int decode_stack(struct decoder *d, const void *data, int size, uint32_t *pid,
		 uint64_t *addr, int max);
/* 1 when decode_stack() would read the record (a whole enough kernel_stack), else 0. */
int decode_is_stack(const struct decoder *d, const void *data, int size);

/* Intern a memcg path as a path-era kernel would print it; returns its id (0 for ""). */
uint64_t decoder_intern_path(struct decoder *d, const char *path, int len);

#endif
