/* SPDX-License-Identifier: MIT */
/*
 * source.h: every input the tool reads, behind one interface. A source turns
 * a file (mmaplock's own format, trace-cmd's trace.dat, ftrace / trace-cmd
 * report / perf script text) into struct mml_event (mml_format.h) batches in
 * global time order, and fills a struct mml_meta with what it learns.
 * Nobody else parses input.
 */
#ifndef MML_SOURCE_H
#define MML_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "mml_format.h"
#include "meta.h"

enum source_kind {
	SOURCE_MML = 1,		/* mmaplock trace file (record, or libmmaplock's recorder) */
	SOURCE_TRACEDAT,	/* trace-cmd trace.dat (its ring-buffer pages) */
	SOURCE_TEXT,		/* text: tracefs trace/trace_pipe, trace-cmd report, perf script */
};

struct source;

/* One source kind's implementation (src-*.c). */
struct source_ops {
	const char *name;
	/* Does this look like ours? head: the first bytes of the file (len may be short). */
	int (*probe)(const unsigned char *head, size_t len);
	int (*open)(struct source *s, const char *path);
	/* Fill up to max events in time order; 0 at the end, -1 on error (source_error()). */
	long (*next)(struct source *s, struct mml_event *ev, size_t max);
	void (*close)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	struct mml_meta *meta;		/* filled as the source reads */
	void *priv;			/* the implementation's state */
	char err[256];			/* one-line error, when a call returned -1 */
	uint64_t start_ts, end_ts;	/* ns, first and last event seen (0 if none) */
	int truncated;			/* mmaplock file: no END block (its writer did not close it) */
	uint64_t skipped;		/* text: lines that were not mmap_lock/lock events */
	uint32_t origin;		/* who fired the events (enum mml_source): the mml
					   header's `source`; MML_SOURCE_KERNEL for every
					   other input (text from libmmaplock's listener
					   cannot be told apart) */
	/* mmaplock file: damaged blocks skipped (each with any garbage after it), their bytes */
	uint64_t damaged_blocks, damaged_bytes;
};

/*
 * The exit status of a command whose input was damaged or truncated: its
 * output covers what could be read (docs/FILE-FORMAT.md). It wins over
 * check's 1 (findings).
 */
#define EXIT_DAMAGED 3

/*
 * Open path ("-" = stdin for text), auto-detecting its kind. Returns NULL and
 * writes a one-line reason into err on failure.
 */
struct source *source_open(const char *path, struct mml_meta *meta, char *err, size_t errlen);
long source_next(struct source *s, struct mml_event *ev, size_t max);
const char *source_error(const struct source *s);
void source_close(struct source *s);	/* NULL is fine */

/*
 * After reading s to its end: 1 when it was damaged or truncated, after one
 * line on stderr, "PROG: PATH: N damaged blocks (B bytes) skipped; the
 * output covers the rest"; 0 (nothing printed) when it was whole.
 */
int source_damage_note(const struct source *s, const char *prog, const char *path);

/*
 * Does path name an existing file that holds a trace (an mmaplock file or a
 * trace.dat)? A command never writes its output over one (outfile.h).
 */
int source_is_trace(const char *path);

extern const struct source_ops source_mml_ops, source_tracedat_ops, source_text_ops;
/* trace.dat through libtracecmd, one record at a time (tests compare it with the pages). */
extern const struct source_ops source_tracedat_records_ops;

#endif
