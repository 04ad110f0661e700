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
	int truncated;			/* input ended mid-block / mid-line: what came before was read */
	uint64_t skipped;		/* text: lines that were not mmap_lock/lock events */
	uint32_t origin;		/* who fired the events (enum mml_source): the mml
					   header's `source`; MML_SOURCE_KERNEL for every
					   other input (text from libmmaplock's listener
					   cannot be told apart) */
};

/*
 * Open path ("-" = stdin for text), auto-detecting its kind. Returns NULL and
 * writes a one-line reason into err on failure.
 */
struct source *source_open(const char *path, struct mml_meta *meta, char *err, size_t errlen);
long source_next(struct source *s, struct mml_event *ev, size_t max);
const char *source_error(const struct source *s);
void source_close(struct source *s);	/* NULL is fine */

extern const struct source_ops source_mml_ops, source_tracedat_ops, source_text_ops;
/* trace.dat through libtracecmd, one record at a time (tests compare it with the pages). */
extern const struct source_ops source_tracedat_records_ops;

#endif
