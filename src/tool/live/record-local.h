/* SPDX-License-Identifier: MIT */
/*
 * record-local.h: the recording engine's private state, shared by its files:
 * record.c (lifecycle, draining), record-args.c (options), record-names.c
 * (memcg paths, tasks, filters, metadata), record-live.c (live delivery),
 * record-stack.c (kernel stacks), backend-tracefs.c (the life cycle behind
 * backend_tracefs_ops). See record.h and backend.h for the interfaces.
 */
#ifndef MML_RECORD_LOCAL_H
#define MML_RECORD_LOCAL_H

#include <stdint.h>
#include <time.h>
#include <sys/types.h>
#include "record.h"
#include "backend.h"
#include "live.h"
#include "idmap.h"
#include "u64map.h"
#include "merge.h"
#include "names.h"
#include "mml_format.h"

#define BATCH		MML_EVENTS_PER_BLOCK
#define RECORD_PERIOD_MS	20	/* drain period */
#define RECORD_PENDING		256	/* unnamed tids tried again while recording */

struct tracefs_instance;
struct tracefs_cpu;
struct tep_handle;
struct tep_format_field;
struct decoder;
struct kbuffer;
struct mml_writer;
struct rec_stacks;

struct cpubuf {
	struct tracefs_cpu *tcpu;
	struct mml_event *ev;
	uint32_t n;
	uint64_t missed;
	/* live loss spans (sink.lost): the newest record's ts, lost told so far, the statistics'
	   previous reading, and the newest ts as of the two readings before */
	uint64_t last_ts, lost_told, stat_prev, stat_from, stat_mid, stat_prev_t;
};

struct rec {
	const struct record_opts *o;	/* &opts */
	struct record_opts opts;	/* the back-end's copy */
	struct backend *b;		/* sink (events or windows) and meta (names), may be NULL */
	struct record_result *res;	/* opts.res, or own */
	struct record_result own_res;
	struct live win;		/* windows wanted (is_windows): events become windows here */
	int is_windows;
	pid_t child, wd;		/* CMD, the instance's watchdog; -1: none */
	int gofd, wd_fd;		/* CMD's go pipe, the watchdog's pipe; -1: none */
	const char *clock;		/* "mono" or "local" */
	char filter[4096];		/* -G filter, for the stack trigger */
	double t0, last_progress;
	double last_pids;		/* when set_event_pid was last looked at (-p) */
	int started, stopped, ok;	/* ok: the run ended well (file committed) */
	struct tracefs_instance *ti;
	struct tep_handle *tep;
	struct decoder *dec;
	struct kbuffer *kbuf;
	struct mml_writer *w;
	struct cpubuf *cpu;
	int ncpu;
	void *page;
	int pagesize;
	struct names names;		/* memcg paths from cgroupfs walks, saved_cmdlines */
	struct idmap memcg_seen;	/* ids seen in events */
	struct idmap tids;		/* tids seen; val: NULL, or "?" when still unnamed */
	struct rec_pending { uint32_t tid; double since; } pend[RECORD_PENDING];
	int npend;			/* tids still unnamed, tried again each period for 1 s */
	struct idmap exited;		/* tid -> comm from sched_process_exit, not yet seen in events */
	int exit_id;			/* sched_process_exit's type, -1: not recorded */
	const struct tep_format_field *exit_pid, *exit_comm;
	int rename_id;			/* task:task_rename's type, -1: not recorded */
	const struct tep_format_field *rename_pid, *rename_comm;
	struct u64map renamed;		/* tid -> ts of the newest rename taken (CPUs drain apart) */
	int late_names;			/* names written after their events: flush them now */
	struct idmap allow;		/* -G: memcg ids allowed (user-space filter), empty: all */
	struct idmap early;		/* path-era ids interned before the file was open */
	uint64_t events, filtered;
	int werr;
	/* live mode (events or windows to the back-end's sink): per-CPU queues merged in
	   time order, lost re-read */
	struct merge live;
	int is_live;
	int mono;			/* trace clock is CLOCK_MONOTONIC: a watermark from now */
	uint64_t lost;
	double last_lost, last_rewalk;
	/* the output file (record-file.c) */
	int out_fd;			/* until mml_writer_fdopen takes it; -1 */
	int out_lock;			/* -f: the old FILE, locked until it is replaced; -1 */
	char *out_tmp;			/* -f: the file beside FILE written instead, or NULL */
	int out_created;		/* FILE did not exist: we made it */
	int out_written;		/* the writer has it (its header is in) */
	struct rec_stacks *stk;		/* --stack: NULL when off */
	double last_flush;		/* rec_now() of the last time-driven flush */
};

/* record-names.c */
void rec_on_walk(uint64_t id, const char *path, void *arg);	/* names_walk callback */
void rec_on_path(uint64_t id, const char *path, void *arg);	/* decoder's new path */
void rec_see_tid(struct rec *r, uint32_t tid);
void rec_see_memcg(struct rec *r, uint64_t id);
/* Once a second at most (now: rec_now()): walk the memcgs again if an id seen has no path. */
void rec_rewalk(struct rec *r, double now);
/*
 * Tasks gone from /proc when first seen and not yet in saved_cmdlines: try
 * them again (once per drain period, for a second), so that a recording
 * killed later still names them. The rest are tried at the end.
 */
void rec_retry_names(struct rec *r);
/*
 * sched:sched_process_exit, enabled in the instance, names every task that
 * exits during the recording: rec_take_exit() takes such a record (returns
 * 1) and names the task if it was seen without a name, or remembers the
 * name for events of it still to come from other CPUs.
 */
void rec_exit_start(struct rec *r);
int rec_take_exit(struct rec *r, const void *data, int size);
/*
 * task:task_rename (exec sets the new program's comm, prctl PR_SET_NAME a
 * thread's), enabled in the instance: a task seen under its old name gets
 * a new TASK entry, which replaces the old one for readers, so a recording
 * names a task after its last exec rather than the parent's comm it had
 * when first seen. rec_take_rename() takes such a record (ts: its time) and
 * returns 1.
 */
void rec_rename_start(struct rec *r);
int rec_take_rename(struct rec *r, const void *data, int size, uint64_t ts);
void rec_late_comms(struct rec *r);
/* -p PIDs (and cmd, when > 0: --only-cmd) into set_event_pid, with event-fork. */
int rec_set_pids(struct rec *r, pid_t cmd);
int rec_set_cgroups(struct rec *r, char *filter, size_t len);
void rec_write_info(struct rec *r, const char *clock);

/* record-file.c */
/*
 * Open o->output for writing (into r->out_fd): a new file, or with -f a
 * file beside an existing one, locked against a second recorder. Returns
 * 0, or -1 after a one-line error.
 */
int rec_file_open(struct rec *r);
/* The writer closed cleanly: with -f, the file beside replaces FILE. 0, or -1 after one line. */
int rec_file_commit(struct rec *r);
/* The recording failed: remove what would replace FILE, or FILE if we made it and wrote nothing. */
void rec_file_abort(struct rec *r);

/* record.c */
uint64_t rec_read_stat(struct rec *r, int cpu, const char *key);
double rec_now(void);
long rec_drain(struct rec *r, int final);	/* everything available now, every CPU: pages read */
/* Fork CMD, held before exec until *gofd is written. -1: errno. */
pid_t rec_start_cmd(const struct record_opts *o, int *gofd);
/* "cannot WHAT: reason" (with a hint for permissions) into buf. */
void rec_perm_msg(char *buf, size_t len, const char *what);
void rec_perm_error(const struct record_opts *o, const char *what);	/* the same, on stderr */

/* record-live.c */
#define LIVE_SLACK_NS	10000000ull	/* an event stamped this long ago is in its buffer */
uint64_t rec_mono_ns(void);
int rec_live_step(struct rec *r, uint64_t wm, int final);
/* count events of cpu lost between from_ts and to_ts: to the sink's lost, if it has one */
void rec_tell_lost(struct rec *r, int cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts);

/* record-stack.c */
/*
 * Turn on the stacktrace trigger of the lock takers' events (filter: the
 * -G filter, or "" for none). On failure (a kernel without stack traces,
 * a lockdown), one warning line and r->stk stays NULL: the recording goes
 * on without stacks.
 */
void rec_stack_start(struct rec *r, const char *filter);
/*
 * A record that is not one of our events: if it is a kernel_stack that
 * belongs to the last event kept on this CPU, intern it and put a stack
 * event before that event. Returns 1 when it was a stack record.
 */
int rec_stack_take(struct rec *r, int cpu, const void *data, int size);
void rec_stack_seen(struct rec *r, int cpu, int ours);	/* each record: was it a kept event? */
/* Live mode (watch_stacks): can this kept event have a stack record after it? */
int rec_stack_wants(const struct rec *r, const struct mml_event *e);
void rec_stack_info(struct rec *r);			/* INFO keys, before the file closes */
void rec_stack_end(struct rec *r, int print);		/* a summary line if print, free */

#endif
