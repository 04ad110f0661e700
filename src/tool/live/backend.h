/* SPDX-License-Identifier: MIT */
/*
 * backend.h: live back-ends, where live mmap_lock data comes from.
 *
 * A back-end either streams every event (the tracefs recorder: record,
 * check, stacks, export need this) or delivers aggregated windows (the BPF
 * back-end aggregates in the kernel). Commands never call a back-end by
 * name: they say what they need (caps) and backend_open() picks one ("auto":
 * the first that loads and has the caps, in the order bpf, tracefs).
 *
 * top, exporter and stat consume windows whichever back-end made them: a
 * streaming back-end's events become windows through live.c (pairing and
 * aggregation in user space); an aggregating back-end fills them itself.
 *
 * Life cycle: backend_open (checks support, allocates: no tracing yet) ->
 * start (tracing on) -> poll, repeatedly (delivers to the sink) -> stop
 * (tracing off, last delivery) -> close (frees; also stops when needed).
 * Every exit path of the tool ends in close; a back-end also makes sure a
 * SIGKILLed tool leaves nothing on in the kernel (instance watchdog; BPF
 * links are file descriptors, nothing pinned).
 */
#ifndef MML_BACKEND_H
#define MML_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "agg.h"
#include "meta.h"
#include "mml_format.h"
#include "runstats.h"

enum backend_cap {
	BACKEND_CAP_EVENTS	= 1 << 0,	/* delivers every event (sink.events) */
	BACKEND_CAP_WINDOWS	= 1 << 1,	/* delivers windows (sink.window) */
	BACKEND_CAP_STACKS	= 1 << 2,	/* kernel stacks of lock takers */
	BACKEND_CAP_FILE	= 1 << 3,	/* can write an mmaplock recording */
};

/* What a run has seen so far, or in one window: struct run_stats (pair/runstats.h). */

/* One window: the groups whose intervals ended in [start_ns, start_ns + len_ns). */
struct window {
	uint64_t start_ns, len_ns;	/* event clock */
	const struct agg *agg;		/* groups of this window (all zero for idle ones) */
	const struct mml_meta *meta;	/* names: memcg paths, tasks */
	struct run_stats stats;		/* of this window */
	struct run_stats total;		/* since start */
};

struct backend_sink {
	/* BACKEND_CAP_EVENTS: batches in time order. 0 go on, non-zero stop (normal end). */
	int (*events)(void *ctx, const struct mml_event *ev, size_t n);
	/* BACKEND_CAP_WINDOWS: each closed window. 0 go on, non-zero stop. */
	int (*window)(void *ctx, const struct window *w);
	/*
	 * BACKEND_CAP_EVENTS, optional: count events of CPU cpu were lost, all
	 * stamped between from_ts and to_ts (event clock; the span may be wider
	 * than the loss, never narrower). Told before any event stamped after
	 * from_ts is delivered when the back-end can (tracefs: the pages'
	 * missed-events marks), later otherwise (its statistics).
	 */
	void (*lost)(void *ctx, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts);
	void *ctx;
};

struct backend_opts {
	unsigned need;			/* BACKEND_CAP_* the command needs */
	enum agg_by by;			/* windows: group key (memcg groups split by mode) */
	uint64_t win_ns;		/* windows: length */
	/* filters, buffer sizes etc. of the tracefs recorder go in its own opts */
	const void *impl_opts;
	const char *prog;		/* error prefix ("mmaplock top"); NULL: "mmaplock" */
};

struct backend;

struct backend_ops {
	const char *name;		/* "tracefs", "bpf" */
	unsigned caps;			/* BACKEND_CAP_* */
	/* Can this back-end run here? 0, or -1 with a one-line reason in b->err. */
	int (*open)(struct backend *b, const struct backend_opts *o);
	int (*start)(struct backend *b);
	/* Wait up to timeout_ms, deliver what is ready. 0 go on, 1 ended, -1 error. */
	int (*poll)(struct backend *b, int timeout_ms);
	int (*stop)(struct backend *b);
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	struct backend_sink sink;
	struct mml_meta *meta;		/* filled by the name service as the back-end learns ids */
	void *priv;
	char err[256];
};

/*
 * Open the back-end called name ("auto", "tracefs", "bpf") for a command that
 * needs o->need. NULL with a one-line reason in err when none fits; with
 * "auto", a back-end that was tried and refused is named in note (one line,
 * e.g. "bpf: no BTF at /sys/kernel/btf/vmlinux; using tracefs"); when tracefs
 * is refused too, note is empty and err alone says why (one line).
 */
struct backend *backend_open(const char *name, const struct backend_opts *o,
			     const struct backend_sink *sink, struct mml_meta *meta,
			     char *err, size_t errlen, char *note, size_t notelen);
void backend_close(struct backend *b);	/* NULL is fine */

/* "auto", "tracefs" or "bpf": 1; anything else 0 (a usage error for --backend). */
int backend_name_valid(const char *name);

/*
 * Run b to its end: start, then poll every period_ms until the back-end
 * ends, a stop signal comes (signals.h), duration seconds pass (0: no
 * limit) or each(ctx) returns non-zero; then stop. each runs once b has
 * started and after every poll (NULL: none); a window callback that returns
 * non-zero also ends the run (normally). Returns 0, or 1 on failure with a
 * one-line reason in b->err (empty when the back-end printed it itself).
 */
int backend_run(struct backend *b, double duration, int period_ms,
		int (*each)(void *ctx), void *ctx);

extern const struct backend_ops backend_tracefs_ops, backend_bpf_ops;

#endif
