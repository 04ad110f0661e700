/* SPDX-License-Identifier: MIT */
/*
 * backend-tracefs.c: the tracefs recorder (record.c's top comment tells how
 * it works) behind backend_tracefs_ops (backend.h).
 *
 *   open   tracefs is there and writable, the output file (if any) can be
 *          made; nothing is created in tracefs yet.
 *   start  stale instances removed, ours created (with its watchdog), the
 *          event formats read, clock, buffers and filters set, the events
 *          enabled; CMD started when the options give one.
 *   poll   one drain period: wait, read every CPU, deliver (file, events,
 *          or windows through live.c), name what was learnt; 1 when CMD
 *          ended or the sink asked to stop.
 *   stop   tracing off (and a stop signal passed on to CMD), the rest
 *          drained and delivered; the file's metadata and commit.
 *   close  everything freed, the instance removed, CMD stopped if still
 *          running, record_result filled.
 *
 * impl_opts is a struct record_opts (record.h); NULL: the whole system,
 * default buffers, no file (top, exporter).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <tracefs/tracefs.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include "record-local.h"
#include "instance.h"
#include "watchdog.h"
#include "decode.h"
#include "cgroupfs.h"
#include "signals.h"
#include "merge.h"
#include "mml_writer.h"

#define PREFIX		"mmaplock-"

static int tf_open(struct backend *b, const struct backend_opts *bo)
{
	struct rec *r = calloc(1, sizeof(*r));
	const char *tdir;

	if (!r) {
		snprintf(b->err, sizeof(b->err), "out of memory");
		return -1;
	}
	b->priv = r;
	if (bo->impl_opts)
		r->opts = *(const struct record_opts *)bo->impl_opts;
	else
		r->opts = (struct record_opts){ .quiet = 1, .buffer_kb = RECORD_DEFAULT_KB };
	if (!r->opts.prog)
		r->opts.prog = bo->prog ? bo->prog : "mmaplock";
	r->o = &r->opts;
	r->b = b;
	r->res = r->opts.res ? r->opts.res : &r->own_res;
	memset(r->res, 0, sizeof(*r->res));
	r->res->cmd_status = -1;
	r->out_fd = r->out_lock = r->gofd = r->wd_fd = -1;
	r->child = r->wd = -1;
	r->exit_id = r->rename_id = -1;
	/* finds tracefs, mounting it if needed (tracefs_tracing_dir_is_mounted leaks) */
	tdir = tracefs_tracing_dir();
	if (!tdir || access(tdir, F_OK)) {
		rec_perm_msg(b->err, sizeof(b->err), "mount tracefs");
		return -1;
	}
	if (access(tdir, W_OK) != 0) {
		rec_perm_msg(b->err, sizeof(b->err), "create tracefs instance");
		return -1;
	}
	names_init(&r->names, tdir);
	if ((bo->need & BACKEND_CAP_WINDOWS) && b->sink.window) {
		if (live_init(&r->win, bo->by, bo->win_ns, b->meta, &b->sink)) {
			snprintf(b->err, sizeof(b->err), "out of memory");
			return -1;
		}
		r->is_windows = 1;
	}
	if (r->opts.output && rec_file_open(r))	/* before any tracing: a refused FILE costs none */
		return -1;
	return 0;
}

/* Our instance, its watchdog, the event formats, the decoder. 0, or -1 after one line. */
static int start_instance(struct rec *r)
{
	const struct record_opts *o = r->o;
	char name[64];

	instance_cleanup_stale(PREFIX, o->prog);
	snprintf(name, sizeof(name), PREFIX "%d", (int)getpid());
	errno = 0;
	r->ti = tracefs_instance_create(name);
	if (!r->ti || !tracefs_instance_exists(name)) {
		rec_perm_error(o, "create tracefs instance");
		tracefs_instance_free(r->ti);
		r->ti = NULL;
		return -1;
	}
	r->wd = instance_watchdog(name, &r->wd_fd);

	const char *systems[] = { "mmap_lock", "lock", "sched", "task", (o->stack && !r->is_live) || o->watch_stacks ? "ftrace" : NULL, NULL };
	r->tep = tracefs_local_events_system(NULL, systems);
	if (!r->tep) {
		rec_perm_error(o, "read the event formats");
		return -1;
	}
	r->dec = decoder_new(r->tep, rec_on_path, r);
	if (!r->dec) {
		fprintf(stderr, "%s: this kernel has no mmap_lock tracepoints (CONFIG_TRACING, 5.10+)\n", o->prog);
		return -1;
	}
	r->kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4, KBUFFER_ENDIAN_LITTLE);
	if (!r->kbuf)
		return -1;
	if (tep_is_old_format(r->tep))
		kbuffer_set_old_format(r->kbuf);
	return 0;
}

/* Clock, buffer size, CMD held for --only-cmd, pid, memcg and contention filters. */
static int start_settings(struct rec *r)
{
	const struct record_opts *o = r->o;

	r->clock = "mono";
	if (tracefs_instance_file_write(r->ti, "trace_clock", "mono") < 0)
		r->clock = "local";
	r->mono = !strcmp(r->clock, "mono");
	if (tracefs_instance_set_buffer_size(r->ti, o->buffer_kb, -1) < 0) {
		rec_perm_error(o, "set the buffer size");
		return -1;
	}
	if (o->cmd && o->only_cmd) {
		/* CMD first, held at its start until the events are on, so that its pid can be filtered */
		r->child = rec_start_cmd(o, &r->gofd);
		if (r->child < 0) {
			fprintf(stderr, "%s: cannot start %s: %s\n", o->prog, o->cmd[0], strerror(errno));
			return -1;
		}
	}
	if ((o->npids || r->child > 0) && rec_set_pids(r, r->child))
		return -1;
	if (o->ncgroups && rec_set_cgroups(r, r->filter, sizeof(r->filter)))
		return -1;
	if (decoder_has_contention(r->dec)) {
		/* rwsem waits only: READ (2) or WRITE (4) alone; rwlock spins add SPIN, percpu-rwsems PERCPU */
		tracefs_instance_file_write(r->ti, "events/lock/contention_begin/filter",
					    "flags == 2 || flags == 4");
	}
	return 0;
}

/* The per-CPU readers, the page, the live merge. */
static int start_cpus(struct rec *r)
{
	r->ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	r->cpu = calloc((size_t)r->ncpu, sizeof(*r->cpu));
	if (!r->cpu)
		return -1;
	r->pagesize = 0;
	for (int cpu = 0; cpu < r->ncpu; cpu++) {
		r->cpu[cpu].tcpu = tracefs_cpu_open(r->ti, cpu, true);
		if (!r->cpu[cpu].tcpu)
			continue;		/* offline CPU */
		r->cpu[cpu].ev = malloc(sizeof(struct mml_event) * BATCH);
		if (!r->cpu[cpu].ev)
			return -1;
		int sz = tracefs_cpu_read_size(r->cpu[cpu].tcpu);
		if (sz > r->pagesize)
			r->pagesize = sz;
	}
	if (!r->pagesize) {
		rec_perm_error(r->o, "open the per-CPU buffers");
		return -1;
	}
	instance_cloexec_fds();
	r->page = malloc((size_t)r->pagesize);
	if (!r->page)
		return -1;
	if (r->is_live && merge_init(&r->live, r->ncpu))
		return -1;
	return 0;
}

/* The file's header and the names known before the start. */
static int start_file(struct rec *r)
{
	struct mml_file_header h = { 0 };
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	h.source = MML_SOURCE_KERNEL;
	h.ncpus = (uint32_t)r->ncpu;
	h.start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	h.start_ts_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	h.clock = r->mono ? MML_CLOCK_MONOTONIC : MML_CLOCK_LOCAL;
	r->w = mml_writer_fdopen(r->out_fd, &h);
	r->out_fd = -1;		/* the writer's now, closed even on error */
	if (!r->w) {
		fprintf(stderr, "%s: cannot write %s: %s\n", r->o->prog, r->o->output, strerror(errno));
		return -1;
	}
	r->out_written = 1;
	rec_write_info(r, r->clock);
	for (size_t i = 0; i < r->early.cap; i++)
		if (r->early.t[i].used && r->early.t[i].val)
			mml_writer_memcg(r->w, r->early.t[i].key, r->early.t[i].val);
	return 0;
}

/* The events on; CMD let go. */
static int start_tracing(struct rec *r)
{
	const struct record_opts *o = r->o;

	/* nothing is recorded until all is set (a trigger armed before its event is enabled would fire alone) */
	tracefs_instance_file_write(r->ti, "tracing_on", "0");
	if ((o->stack && !r->is_live) || o->watch_stacks)
		rec_stack_start(r, r->filter);
	if (tracefs_event_enable(r->ti, "mmap_lock", NULL) < 0) {
		rec_perm_error(o, "enable mmap_lock events");
		return -1;
	}
	if (decoder_has_contention(r->dec)) {
		tracefs_event_enable(r->ti, "lock", "contention_begin");
		tracefs_event_enable(r->ti, "lock", "contention_end");
	}
	rec_exit_start(r);
	rec_rename_start(r);
	tracefs_instance_file_write(r->ti, "tracing_on", "1");
	if (o->cmd) {
		if (r->child < 0)
			r->child = rec_start_cmd(o, &r->gofd);
		if (r->child < 0) {
			fprintf(stderr, "%s: cannot start %s: %s\n", o->prog, o->cmd[0], strerror(errno));
			return -1;
		}
		if (write(r->gofd, "g", 1) != 1)
			fprintf(stderr, "%s: cannot start %s\n", o->prog, o->cmd[0]);
		close(r->gofd);
		r->gofd = -1;
	}
	return 0;
}

static int tf_start(struct backend *b)
{
	struct rec *r = b->priv;

	r->is_live = r->is_windows || b->sink.events;
	if (start_instance(r) || start_settings(r) || start_cpus(r))
		return -1;
	if (r->o->output && start_file(r))
		return -1;
	names_walk(&r->names, rec_on_walk, r);
	if (start_tracing(r))
		return -1;
	r->t0 = r->last_progress = rec_now();
	r->started = 1;			/* from here on, stop drains and ends the file */
	return 0;
}

/*
 * A recording of -p PID... alone (no CMD, not live): have all its processes
 * exited? The kernel takes an exiting task out of set_event_pid (event-fork
 * keeps the children in), so it empties when nothing is left to record;
 * then the recording ends as -d would (perf record -p does the same).
 */
static int pids_gone(struct rec *r, double t)
{
	char *path, buf[64];
	ssize_t n = -1;
	int fd;

	if (r->is_live || !r->o->npids || r->o->cmd || t - r->last_pids < 0.5)
		return 0;
	r->last_pids = t;
	/* read here: tracefs_instance_file_read() gives NULL for an empty file and an error alike */
	path = tracefs_instance_get_file(r->ti, "set_event_pid");
	fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	tracefs_put_tracing_file(path);
	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	close(fd);
	return n == 0;
}

static int tf_poll(struct backend *b, int timeout_ms)
{
	struct rec *r = b->priv;
	uint64_t wm;
	int status;

	if (timeout_ms > 0)
		poll(NULL, 0, timeout_ms);
	wm = r->mono ? rec_mono_ns() - LIVE_SLACK_NS : UINT64_MAX;
	rec_drain(r, 0);
	if (r->werr)
		return 1;		/* stop says what */
	if (r->is_live && rec_live_step(r, wm, 0))
		return r->win.err ? -1 : 1;
	if (r->child > 0 && waitpid(r->child, &status, WNOHANG) == r->child) {
		r->child = -1;
		r->res->cmd_status = status;
		return 1;
	}
	double t = rec_now();
	if (pids_gone(r, t)) {
		progress_clear();
		fprintf(stderr, "%s: the processes of -p have exited\n", r->o->prog);
		return 1;
	}
	if (!r->is_live)
		rec_rewalk(r, t);	/* memcgs made during the run: named as they appear */
	if (!r->o->cmd && !r->is_live && t - r->last_progress >= 0.5) {	/* CMD owns the terminal */
		r->last_progress = t;
		progress("%s: %llu events, %.0f s", r->o->prog, (unsigned long long)r->events, t - r->t0);
	}
	return 0;
}

/* Lost events of every CPU, written as LOST blocks; the total. */
static uint64_t file_lost(struct rec *r)
{
	uint64_t lost = 0;

	for (int cpu = 0; cpu < r->ncpu; cpu++) {
		if (!r->cpu[cpu].tcpu)
			continue;
		uint64_t l = rec_read_stat(r, cpu, "overrun:") + rec_read_stat(r, cpu, "dropped events:");
		if (l < r->cpu[cpu].missed)	/* the pages' own marks, if the stats say less */
			l = r->cpu[cpu].missed;
		if (l) {
			mml_writer_lost(r->w, (uint32_t)cpu, l);
			lost += l;
		}
	}
	return lost;
}

/* The file's end: the names learnt late, lost counts, close, commit. 0, or -1 after one line. */
static int stop_file(struct rec *r)
{
	const struct record_opts *o = r->o;
	uint64_t lost;

	names_walk(&r->names, rec_on_walk, r);
	for (size_t i = 0; i < r->memcg_seen.cap; i++) {
		if (!r->memcg_seen.t[i].used || !decoder_has_memcg_id(r->dec))
			continue;
		const char *path = names_memcg_cached(&r->names, r->memcg_seen.t[i].key);
		if (path && !r->memcg_seen.t[i].val)	/* not named during the run */
			mml_writer_memcg(r->w, r->memcg_seen.t[i].key, path);
	}
	rec_late_comms(r);
	lost = file_lost(r);
	rec_stack_info(r);
	r->res->events = r->events;
	r->res->lost = lost;
	int werr = r->werr;
	int cerr = mml_writer_close(r->w, r->events, lost) ? errno : 0;
	r->w = NULL;
	if (werr || cerr) {
		fprintf(stderr, "%s: writing %s: %s\n", o->prog, o->output, strerror(werr ? werr : cerr));
		return -1;
	}
	if (rec_file_commit(r))
		return -1;
	if (!o->quiet)
		fprintf(stderr, "%s: %llu events, %llu lost, written to %s\n", o->prog,
			(unsigned long long)r->events, (unsigned long long)lost, o->output);
	rec_stack_end(r, 1);
	return 0;
}

static int tf_stop(struct backend *b)
{
	struct rec *r = b->priv;
	int status;

	if (r->stopped || !r->started)
		return 0;
	r->stopped = 1;
	if (sig_stop) {
		r->res->stop_signal = sig_stop;
		if (r->child > 0) {
			/* pass it on; record until CMD has gone */
			kill(r->child, sig_stop);
			while (waitpid(r->child, &status, 0) < 0 && errno == EINTR)
				;
			r->res->cmd_status = status;
			r->child = -1;
		}
	}
	tracefs_instance_file_write(r->ti, "tracing_on", "0");
	rec_drain(r, 1);
	progress_clear();
	if (r->is_live) {
		rec_live_step(r, UINT64_MAX, 1);
		if (!r->w) {		/* no file: done */
			r->res->events = r->events;
			r->res->lost = r->lost;
			if (r->werr || r->win.err) {
				snprintf(b->err, sizeof(b->err), "%s",
					 strerror(r->werr ? r->werr : ENOMEM));
				return -1;
			}
			r->ok = 1;
			return 0;
		}
	}
	if (stop_file(r))
		return -1;
	r->ok = 1;
	return 0;
}

/* The per-CPU readers: closed before the instance goes (their open files would keep it). */
static void close_cpus(struct rec *r)
{
	if (r->cpu)
		for (int cpu = 0; cpu < r->ncpu; cpu++) {
			if (r->cpu[cpu].tcpu)
				tracefs_cpu_close(r->cpu[cpu].tcpu);
			free(r->cpu[cpu].ev);
		}
	free(r->cpu);
	r->cpu = NULL;
	free(r->page);
	r->page = NULL;
}

static void free_rec(struct rec *r)
{
	kbuffer_free(r->kbuf);
	decoder_free(r->dec);
	if (r->tep)
		tep_free(r->tep);
	names_fini(&r->names);
	idmap_free(&r->memcg_seen);
	idmap_free(&r->tids);
	idmap_free(&r->exited);
	u64map_free(&r->renamed);
	idmap_free(&r->allow);
	idmap_free(&r->early);
	merge_fini(&r->live);
	live_fini(&r->win);
	free(r);
}

static void tf_close(struct backend *b)
{
	struct rec *r = b->priv;
	int status;

	if (!r)
		return;
	if (r->started && !r->stopped)
		tf_stop(b);
	rec_stack_end(r, 0);
	if (r->gofd >= 0)
		close(r->gofd);		/* CMD never got going: it reads EOF and exits */
	if (r->child > 0) {
		kill(r->child, SIGTERM);
		waitpid(r->child, &status, 0);
		r->res->cmd_status = status;
		r->res->cmd_stopped = 1;
	}
	if (r->w)
		mml_writer_close(r->w, r->events, 0);
	if (!r->ok)
		rec_file_abort(r);
	close_cpus(r);
	instance_destroy(r->ti);
	tracefs_instance_free(r->ti);
	watchdog_release(r->wd, r->wd_fd);
	free_rec(r);
	b->priv = NULL;
}

const struct backend_ops backend_tracefs_ops = {
	.name = "tracefs",
	.caps = BACKEND_CAP_EVENTS | BACKEND_CAP_WINDOWS | BACKEND_CAP_STACKS | BACKEND_CAP_FILE,
	.open = tf_open,
	.start = tf_start,
	.poll = tf_poll,
	.stop = tf_stop,
	.close = tf_close,
};
