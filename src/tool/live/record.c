/* SPDX-License-Identifier: MIT */
/*
 * record.c: the recording engine behind `mmaplock record` and `stat`
 * (see record.h).
 *
 * Lifecycle. (1) Mount tracefs if needed, remove stale mmaplock-<pid>
 * instances. (2) Create ours and fork a watchdog: a child holding the read
 * end of a pipe whose write end only we hold (close-on-exec, so CMD does not
 * inherit it). When we die for whatever reason the pipe reads EOF and the
 * watchdog disables and removes the instance if it is still there; on a
 * normal end we remove it ourselves first. (3) Parse the mmap_lock and lock
 * event formats (tracefs_local_events_system), build the decoder, set the
 * clock to "mono", the buffer size, pid and memcg filters, and enable the
 * events in the instance only. (4) Start CMD, drain, stop, drain the rest.
 *
 * Draining. One thread, all CPUs: every 20 ms each CPU's trace_pipe_raw is
 * read (non-blocking) until empty, page by page; kbuffer walks the records
 * of a page and decode.c turns them into struct mml_event in a per-CPU
 * batch, written as EVENTS blocks (one stream per CPU) once it is large,
 * once a second (a recording killed with SIGKILL loses at most about a
 * second), and at the end. Names (memcg paths, tasks, stacks) are handed
 * to the writer as they are learnt and reach the file before the first
 * EVENTS block that uses them. The ring buffer hands out a CPU's events in time order; a
 * batch is still checked and sorted if it is not. At 2 M events/s a 20 ms
 * period means ~1 MB per CPU between reads, well inside the default 4 MB
 * per-CPU buffer.
 *
 * Filters. -p PID (and --only-cmd: CMD's pid, forked first and held before
 * exec until the events are on): the kernel's set_event_pid with the event-fork option,
 * written with every thread of each PID (/proc/PID/task); new threads and
 * children are then followed by the kernel itself, which a common_pid
 * filter could not do. -G CGROUP: a memcg_id filter on the mmap_lock events
 * where the kernel has the field, and a user-space filter on the interned
 * path otherwise. lock:contention_begin is filtered in the kernel to rwsem
 * waits (flags exactly READ or WRITE); contention_end has no flags and is kept.
 *
 * Metadata. memcg ids -> paths from a walk of the memory hierarchy at the
 * start and at the end, and again (at most once a second) while an event
 * carries an id the map does not know: memcgs appear during a recording.
 * Every tid is looked up in /proc when first seen (comm, tgid, memcg);
 * a tid gone by then gets its comm from its sched_process_exit event
 * (enabled in the instance for this) or the kernel's saved_cmdlines, as
 * soon as one has it (record-names.c). Lost events: each CPU's "overrun" + "dropped events" from the
 * instance's per_cpu/cpuN/stats at the end (or the sum of kbuffer's
 * missed-events marks on that CPU's pages, if larger), written as LOST
 * blocks.
 *
 * Live mode (o->sink: top, exporter). Decoded events go to per-CPU queues
 * (merge.c) instead of the file (none when o->output is NULL). After each
 * drain, whatever is older than the drain's start minus LIVE_SLACK_NS
 * (the trace clock is CLOCK_MONOTONIC) is merged across CPUs and handed to
 * the sink in time order: an event stamped that long before we read its
 * CPU is in the buffer (a writer commits within microseconds; the slack
 * covers a vCPU descheduled between stamp and commit). A CPU whose reading
 * was cut short holds the watermark at its newest event. Lost counts are
 * re-read every 250 ms, and memcg ids still without a path trigger a walk
 * once a second. The task cache is dropped after RECORD_LIVE_TIDS tasks.
 *
 * Races: tracefs files of the instance are only touched by this thread and,
 * after we are gone, by the watchdog. /proc and the cgroup tree change under
 * us; every reader of them tolerates an entry vanishing mid-read (the task
 * or memcg is then recorded without a name).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <tracefs/tracefs.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include "record-local.h"
#include "instance.h"
#include "decode.h"
#include "cgroupfs.h"
#include "signals.h"
#include "merge.h"
#include "meta.h"
#include "mml_writer.h"

#define PREFIX		"mmaplock-"

/* Time order; at equal times a stack event before the event it belongs to. */
static int cmp_ts(const void *a, const void *b)
{
	const struct mml_event *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (y->type == MML_EV_STACK) - (x->type == MML_EV_STACK);
}

/*
 * Write CPU cpu's batch. keep: hold its last event back for the next batch
 * (with --stack, its stack record may still be on its way).
 */
static void flush_cpu(struct rec *r, int cpu, int keep)
{
	struct cpubuf *c = &r->cpu[cpu];

	if (c->n <= (uint32_t)keep)
		return;
	for (uint32_t i = 1; i < c->n; i++)
		if (cmp_ts(&c->ev[i], &c->ev[i - 1]) < 0) {
			qsort(c->ev, c->n, sizeof(*c->ev), cmp_ts);
			break;
		}
	if (mml_writer_events(r->w, (uint32_t)cpu, c->ev, c->n - keep) && !r->werr)
		r->werr = errno;
	if (keep)
		c->ev[0] = c->ev[c->n - 1];
	else if (r->stk)
		rec_stack_seen(r, cpu, 0);
	c->n = keep;
}

static void take_page(struct rec *r, int cpu, void *page)
{
	struct cpubuf *c = &r->cpu[cpu];
	unsigned long long ts;
	void *data;

	if (kbuffer_load_subbuffer(r->kbuf, page) < 0)
		return;
	if (kbuffer_missed_events(r->kbuf) > 0)
		c->missed += (uint64_t)kbuffer_missed_events(r->kbuf);
	for (data = kbuffer_read_event(r->kbuf, &ts); data; data = kbuffer_next_event(r->kbuf, &ts)) {
		struct mml_event *e = r->is_live ? merge_slot(&r->live, cpu) : &c->ev[c->n];
		int sz = kbuffer_event_size(r->kbuf);

		if (!e) {
			r->werr = ENOMEM;
			return;
		}

		if (decode_record(r->dec, data, sz, ts, cpu, e) != 1) {
			if (rec_take_exit(r, data, sz))
				continue;
			if (r->stk && !rec_stack_take(r, cpu, data, sz))
				rec_stack_seen(r, cpu, 0);
			if (r->stk && c->n == BATCH)
				flush_cpu(r, cpu, 0);
			continue;
		}
		if (r->allow.n && e->type <= MML_EV_RELEASED && idmap_find(&r->allow, e->memcg) < 0) {
			r->filtered++;
			if (r->stk)
				rec_stack_seen(r, cpu, 0);
			continue;
		}
		rec_see_tid(r, e->tid);
		if (e->type <= MML_EV_RELEASED)
			rec_see_memcg(r, e->memcg);
		r->events++;
		if (r->is_live) {
			merge_commit(&r->live, cpu);
			continue;
		}
		if (r->stk)
			rec_stack_seen(r, cpu, e->type == MML_EV_START_LOCKING ||
					       e->type == MML_EV_ACQUIRE_RETURNED);
		if (++c->n == BATCH)
			flush_cpu(r, cpu, r->stk != NULL);
	}
}

/* Read everything available now on every CPU. Returns pages read. */
static long drain(struct rec *r, int final)
{
	long pages = 0;
	double now = rec_now();
	int due = now - r->last_flush >= 1.0;	/* a second's events reach the file even at low rates */

	if (due)
		r->last_flush = now;
	rec_retry_names(r);

	for (int cpu = 0; cpu < r->ncpu; cpu++) {
		struct cpubuf *c = &r->cpu[cpu];
		int n;

		if (!c->tcpu)
			continue;
		while ((n = tracefs_cpu_read(c->tcpu, r->page, true)) > 0) {
			take_page(r, cpu, r->page);
			pages++;
			if (r->is_live && !final && merge_pending(&r->live, cpu) >= MERGE_SOFT_MAX)
				break;	/* the rest next period; the watermark waits for it */
		}
		if (final)
			while ((n = tracefs_cpu_flush(c->tcpu, r->page)) > 0) {
				take_page(r, cpu, r->page);
				pages++;
			}
		if (!r->is_live && (final || due || c->n >= BATCH / 2))
			flush_cpu(r, cpu, r->stk && !final);
	}
	if (r->late_names && r->w) {	/* names of tasks whose events may be in the file already */
		if (mml_writer_flush(r->w) && !r->werr)
			r->werr = errno;
		r->late_names = 0;
	}
	return pages;
}

uint64_t rec_read_stat(struct rec *r, int cpu, const char *key)
{
	char file[64];
	char *s, *p;
	uint64_t v = 0;

	snprintf(file, sizeof(file), "per_cpu/cpu%d/stats", cpu);
	s = tracefs_instance_file_read(r->ti, file, NULL);
	if (!s)
		return 0;
	p = strstr(s, key);
	if (p)
		v = strtoull(p + strlen(key), NULL, 10);
	free(s);
	return v;
}

/* comm of tids that were gone before /proc could be read: saved_cmdlines. */
double rec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Fork CMD, held before exec until *gofd is written. CMD dies with us: it
 * gets SIGKILL when the recorder dies (PR_SET_PDEATHSIG), since a recorder
 * killed by SIGKILL cannot pass a signal on, and a CMD left running would
 * go on unrecorded. The getppid() check closes the race of a recorder that
 * died between fork() and prctl(). (The kernel clears the setting when CMD
 * execs a set-user-ID or file-capability program.)
 */
static pid_t start_cmd(const struct record_opts *o, int *gofd)
{
	pid_t parent = getpid();
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		close(p[1]);
		sig_default();
		/* wait until the events are enabled, so CMD's start is recorded */
		if (read(p[0], &c, 1) != 1)
			_exit(127);
		execvp(o->cmd[0], o->cmd);
		fprintf(stderr, "%s: cannot run %s: %s\n", o->prog, o->cmd[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*gofd = p[1];
	return pid;
}

int record_cmd_exit(const struct record_opts *o, const struct record_result *res)
{
	int st = res->cmd_status;

	if (!o->cmd || st < 0 || res->cmd_stopped)
		return 0;
	if (WIFEXITED(st) && WEXITSTATUS(st)) {
		fprintf(stderr, "%s: %s exited with status %d\n", o->prog, o->cmd[0], WEXITSTATUS(st));
		return WEXITSTATUS(st);
	}
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "%s: %s killed by signal %d (%s)\n", o->prog, o->cmd[0], WTERMSIG(st),
			strsignal(WTERMSIG(st)));
		return 128 + WTERMSIG(st);
	}
	return 0;
}

static void perm_error(const struct record_opts *o, const char *what)
{
	int e = errno;

	if (e == EACCES || e == EPERM)
		fprintf(stderr, "%s: cannot %s: %s (run as root, or grant CAP_SYS_ADMIN and access to tracefs)\n",
			o->prog, what, strerror(e));
	else
		fprintf(stderr, "%s: cannot %s: %s\n", o->prog, what, strerror(e ? e : EINVAL));
}

int record_run(const struct record_opts *o, struct record_result *res)
{
	struct rec r = { .o = o };
	const char *tdir = NULL;
	char name[64];
	int wd_fd = -1, gofd = -1, rc = 1;
	pid_t wd = -1, child = -1;
	int status = -1;

	memset(res, 0, sizeof(*res));
	res->cmd_status = -1;
	r.out_fd = r.out_lock = -1;
	r.exit_id = -1;
	/* finds tracefs, mounting it if needed (tracefs_tracing_dir_is_mounted leaks) */
	tdir = tracefs_tracing_dir();
	if (!tdir || access(tdir, F_OK)) {
		perm_error(o, "mount tracefs");
		return 1;
	}
	if (access(tdir, W_OK) != 0) {
		perm_error(o, "create tracefs instance");
		return 1;
	}
	if (o->output && rec_file_open(&r)) {	/* before any tracing: a refused FILE costs none */
		rec_file_abort(&r);
		return 1;
	}
	instance_cleanup_stale(PREFIX, o->prog);
	snprintf(name, sizeof(name), PREFIX "%d", (int)getpid());
	errno = 0;
	r.ti = tracefs_instance_create(name);
	if (!r.ti || !tracefs_instance_exists(name)) {
		perm_error(o, "create tracefs instance");
		tracefs_instance_free(r.ti);
		rec_file_abort(&r);
		return 1;
	}
	wd = instance_watchdog(name, &wd_fd);

	const char *systems[] = { "mmap_lock", "lock", "sched", o->stack && !o->sink ? "ftrace" : NULL, NULL };
	r.tep = tracefs_local_events_system(NULL, systems);
	if (!r.tep) {
		perm_error(o, "read the event formats");
		goto out;
	}
	r.dec = decoder_new(r.tep, rec_on_path, &r);
	if (!r.dec) {
		fprintf(stderr, "%s: this kernel has no mmap_lock tracepoints (CONFIG_TRACING, 5.10+)\n", o->prog);
		goto out;
	}
	r.kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4, KBUFFER_ENDIAN_LITTLE);
	if (!r.kbuf)
		goto out;
	if (tep_is_old_format(r.tep))
		kbuffer_set_old_format(r.kbuf);

	/* the instance's settings */
	const char *clock = "mono";
	if (tracefs_instance_file_write(r.ti, "trace_clock", "mono") < 0) {
		clock = "local";
	}
	r.mono = !strcmp(clock, "mono");
	if (tracefs_instance_set_buffer_size(r.ti, o->buffer_kb, -1) < 0) {
		perm_error(o, "set the buffer size");
		goto out;
	}
	if (o->cmd && o->only_cmd) {
		/* CMD first, held at its start until the events are on, so that its pid can be filtered */
		child = start_cmd(o, &gofd);
		if (child < 0) {
			fprintf(stderr, "%s: cannot start %s: %s\n", o->prog, o->cmd[0], strerror(errno));
			goto out;
		}
	}
	if ((o->npids || child > 0) && rec_set_pids(&r, child))
		goto out;
	char filter[4096] = "";
	if (o->ncgroups && rec_set_cgroups(&r, filter, sizeof(filter)))
		goto out;
	if (decoder_has_contention(r.dec)) {
		/* rwsem waits only: READ (2) or WRITE (4) alone; rwlock spins add SPIN, percpu-rwsems PERCPU */
		tracefs_instance_file_write(r.ti, "events/lock/contention_begin/filter",
					    "flags == 2 || flags == 4");
	}

	r.ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	r.cpu = calloc((size_t)r.ncpu, sizeof(*r.cpu));
	if (!r.cpu)
		goto out;
	r.pagesize = 0;
	for (int cpu = 0; cpu < r.ncpu; cpu++) {
		r.cpu[cpu].tcpu = tracefs_cpu_open(r.ti, cpu, true);
		if (!r.cpu[cpu].tcpu)
			continue;		/* offline CPU */
		r.cpu[cpu].ev = malloc(sizeof(struct mml_event) * BATCH);
		if (!r.cpu[cpu].ev)
			goto out;
		int sz = tracefs_cpu_read_size(r.cpu[cpu].tcpu);
		if (sz > r.pagesize)
			r.pagesize = sz;
	}
	if (!r.pagesize) {
		perm_error(o, "open the per-CPU buffers");
		goto out;
	}
	instance_cloexec_fds();
	r.page = malloc((size_t)r.pagesize);
	if (!r.page)
		goto out;
	if (o->sink) {
		r.sink = o->sink;
		if (merge_init(&r.live, r.ncpu))
			goto out;
		r.is_live = 1;
	}

	/* the file */
	struct mml_file_header h = { 0 };
	struct timespec rt, mono;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	h.source = MML_SOURCE_KERNEL;
	h.ncpus = (uint32_t)r.ncpu;
	h.start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	h.start_ts_ns = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	h.clock = strcmp(clock, "mono") ? MML_CLOCK_LOCAL : MML_CLOCK_MONOTONIC;
	if (o->output) {		/* live mode without a file: none */
		r.w = mml_writer_fdopen(r.out_fd, &h);
		r.out_fd = -1;		/* the writer's now, closed even on error */
		if (!r.w) {
			fprintf(stderr, "%s: cannot write %s: %s\n", o->prog, o->output, strerror(errno));
			goto out;
		}
		r.out_written = 1;
		rec_write_info(&r, clock);
		for (size_t i = 0; i < r.early.cap; i++)
			if (r.early.t[i].used && r.early.t[i].val)
				mml_writer_memcg(r.w, r.early.t[i].key, r.early.t[i].val);
	}
	r.last_walk = time(NULL);
	cgroupfs_walk(rec_on_walk, &r);

	/* nothing is recorded until all is set (a trigger armed before its event is enabled would fire alone) */
	tracefs_instance_file_write(r.ti, "tracing_on", "0");
	if (o->stack && !o->sink)
		rec_stack_start(&r, filter);

	/* go */
	if (tracefs_event_enable(r.ti, "mmap_lock", NULL) < 0) {
		perm_error(o, "enable mmap_lock events");
		goto out;
	}
	if (decoder_has_contention(r.dec)) {
		tracefs_event_enable(r.ti, "lock", "contention_begin");
		tracefs_event_enable(r.ti, "lock", "contention_end");
	}
	rec_exit_start(&r);
	tracefs_instance_file_write(r.ti, "tracing_on", "1");
	if (o->cmd) {
		if (child < 0)
			child = start_cmd(o, &gofd);
		if (child < 0) {
			fprintf(stderr, "%s: cannot start %s: %s\n", o->prog, o->cmd[0], strerror(errno));
			goto out;
		}
		if (write(gofd, "g", 1) != 1)
			fprintf(stderr, "%s: cannot start %s\n", o->prog, o->cmd[0]);
		close(gofd);
		gofd = -1;
	}

	double t0 = rec_now(), last_progress = t0;
	for (;;) {
		uint64_t wm = r.mono ? rec_mono_ns() - LIVE_SLACK_NS : UINT64_MAX;
		drain(&r, 0);
		if (r.werr)
			break;
		if (r.is_live && rec_live_step(&r, wm, 0))
			break;
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			res->cmd_status = status;
			break;
		}
		if (sig_stop) {
			res->stop_signal = sig_stop;
			if (child > 0) {
				/* pass it on; record until CMD has gone */
				kill(child, sig_stop);
				while (waitpid(child, &status, 0) < 0 && errno == EINTR)
					;
				res->cmd_status = status;
				child = -1;
			}
			break;
		}
		double t = rec_now();
		if (!r.is_live)
			rec_rewalk(&r, t);	/* memcgs made during the run: named as they appear */
		if (o->duration > 0 && t - t0 >= o->duration)
			break;
		if (!o->cmd && !o->sink && t - last_progress >= 0.5) {	/* CMD owns the terminal */
			last_progress = t;
			progress("%s: %llu events, %.0f s", o->prog, (unsigned long long)r.events, t - t0);
		}
		poll(NULL, 0, RECORD_PERIOD_MS);
	}
	tracefs_instance_file_write(r.ti, "tracing_on", "0");
	drain(&r, 1);
	progress_clear();
	if (r.is_live) {
		rec_live_step(&r, UINT64_MAX, 1);
		if (!r.w) {		/* no file: done */
			res->events = r.events;
			res->lost = r.lost;
			if (r.werr) {
				fprintf(stderr, "%s: %s\n", o->prog, strerror(r.werr));
				goto out;
			}
			rc = 0;
			goto out;
		}
	}

	/* metadata at the end */
	cgroupfs_walk(rec_on_walk, &r);
	for (size_t i = 0; i < r.memcg_seen.cap; i++) {
		if (!r.memcg_seen.t[i].used || !decoder_has_memcg_id(r.dec))
			continue;
		long f = idmap_find(&r.memcg_path, r.memcg_seen.t[i].key);
		if (f >= 0 && !r.memcg_seen.t[i].val)	/* not named during the run */
			mml_writer_memcg(r.w, r.memcg_seen.t[i].key, r.memcg_path.t[f].val);
	}
	rec_late_comms(&r);
	uint64_t lost = 0;
	for (int cpu = 0; cpu < r.ncpu; cpu++) {
		if (!r.cpu[cpu].tcpu)
			continue;
		uint64_t l = rec_read_stat(&r, cpu, "overrun:") + rec_read_stat(&r, cpu, "dropped events:");
		if (l < r.cpu[cpu].missed)	/* the pages' own marks, if the stats say less */
			l = r.cpu[cpu].missed;
		if (l) {
			mml_writer_lost(r.w, (uint32_t)cpu, l);
			lost += l;
		}
	}
	rec_stack_info(&r);
	res->events = r.events;
	res->lost = lost;
	if (r.werr) {
		fprintf(stderr, "%s: writing %s: %s\n", o->prog, o->output, strerror(r.werr));
		mml_writer_close(r.w, r.events, lost);
		r.w = NULL;
		goto out;
	}
	if (mml_writer_close(r.w, r.events, lost)) {
		r.w = NULL;
		fprintf(stderr, "%s: writing %s: %s\n", o->prog, o->output, strerror(errno));
		goto out;
	}
	r.w = NULL;
	if (rec_file_commit(&r))
		goto out;
	if (!o->quiet)
		fprintf(stderr, "%s: %llu events, %llu lost, written to %s\n", o->prog,
			(unsigned long long)r.events, (unsigned long long)lost, o->output);
	rec_stack_end(&r, 1);
	rc = 0;
out:
	rec_stack_end(&r, 0);
	if (gofd >= 0)
		close(gofd);		/* CMD never got going: it reads EOF and exits */
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, &status, 0);
		res->cmd_status = status;
		res->cmd_stopped = 1;
	}
	if (r.w)
		mml_writer_close(r.w, r.events, 0);
	if (rc)
		rec_file_abort(&r);
	if (r.cpu)
		for (int cpu = 0; cpu < r.ncpu; cpu++) {
			if (r.cpu[cpu].tcpu)
				tracefs_cpu_close(r.cpu[cpu].tcpu);
			free(r.cpu[cpu].ev);
		}
	free(r.cpu);
	free(r.page);
	instance_destroy(r.ti);
	tracefs_instance_free(r.ti);
	if (wd_fd >= 0)
		close(wd_fd);
	if (wd > 0)
		while (waitpid(wd, NULL, 0) < 0 && errno == EINTR)
			;
	kbuffer_free(r.kbuf);
	decoder_free(r.dec);
	if (r.tep)
		tep_free(r.tep);
	idmap_free(&r.memcg_path);
	idmap_free(&r.memcg_seen);
	idmap_free(&r.tids);
	idmap_free(&r.comms);
	idmap_free(&r.exited);
	idmap_free(&r.allow);
	idmap_free(&r.early);
	merge_fini(&r.live);
	return rc;
}
