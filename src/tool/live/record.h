/* SPDX-License-Identifier: MIT */
/*
 * record.h: the tracefs recorder: its options (they are the tracefs
 * back-end's impl_opts, backend.h), and `mmaplock record` as a call: a thin
 * loop over that back-end.
 *
 * A recording owns a private tracefs instance named mmaplock-<pid>, with
 * mmap_lock:* (and rwsem lock:contention_begin/end, and sched_process_exit
 * for the names of tasks gone before /proc is read) enabled in it alone,
 * the "mono" clock, and per-CPU raw buffers drained continuously into an
 * mmaplock trace file (mml_format.h). The instance is removed on every exit
 * path: normal end, error, SIGINT/SIGTERM/SIGHUP, and - through a forked
 * watchdog that outlives us on a pipe - SIGKILL or a crash of mmaplock
 * (instance.c);
 * an instance left by a run that died anyway is removed at the next start
 * (one line on stderr says so).
 */
#ifndef MML_RECORD_H
#define MML_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define RECORD_MAX_PIDS		64
#define RECORD_MAX_CGROUPS	64
#define RECORD_DEFAULT_KB	4096	/* per-CPU buffer */
#define RECORD_LIVE_TIDS	16384	/* live mode: tids remembered before the names are dropped */

struct mml_event;

struct record_opts {
	const char *output;		/* default mmaplock.data */
	int force;			/* -f: replace an existing output file (record-file.c) */
	double duration;		/* seconds; 0: until CMD exits or a signal */
	pid_t pids[RECORD_MAX_PIDS];
	int npids;
	const char *cgroups[RECORD_MAX_CGROUPS];
	int ncgroups;
	unsigned buffer_kb;
	char **cmd;			/* NULL: none */
	const char *prog;		/* "mmaplock record" or "mmaplock stat": error prefix */
	int quiet;			/* no summary line */
	int only_cmd;			/* --only-cmd: CMD and its descendants, not the whole system */
	int stack;			/* --stack: kernel call stacks of the lock takers (file only) */
	int watch_stacks;		/* watch: stacks of write acquisitions and of contended waits
					   only, delivered live (into the back-end's meta) */
	struct record_result *res;	/* filled as the recording ends (by backend_close), or NULL */
};

struct record_result {
	uint64_t events, lost;
	int cmd_status;			/* wait status of CMD, -1 if none */
	int cmd_stopped;		/* the recording ended first (-d) and stopped CMD */
	int stop_signal;		/* the signal that ended the recording, 0 if none */
};

/* Record through the tracefs back-end into o->output. Returns 0, or 1 after a one-line error on stderr. */
int record_run(const struct record_opts *o, struct record_result *res);
/*
 * The exit status CMD asks for, after a successful recording: 0 when there
 * is no CMD, when it succeeded, or when the recording's end (-d) stopped it;
 * its exit status; 128 + the signal that killed it. When not 0, one line
 * on stderr says how CMD ended.
 */
/* The same status, without the line (stat: the report is JSON on stderr). */
int record_cmd_code(const struct record_opts *o, const struct record_result *res);
int record_cmd_exit(const struct record_opts *o, const struct record_result *res);

#endif
