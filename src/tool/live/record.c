/* SPDX-License-Identifier: MIT */
/*
 * record.c: the recording engine behind the tracefs back-end (record.h,
 * backend.h; its life cycle is in backend-tracefs.c): draining, CMD, and
 * record_run(), `mmaplock record`'s loop over the back-end.
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
 * soon as one has it (record-names.c). A task renamed after that (exec,
 * prctl) is named again from its task:task_rename event, also enabled:
 * readers take a tid's newest TASK entry. Lost events: each CPU's "overrun" + "dropped events" from the
 * instance's per_cpu/cpuN/stats at the end (or the sum of kbuffer's
 * missed-events marks on that CPU's pages, if larger), written as LOST
 * blocks.
 *
 * Live mode (events or windows to the back-end's sink: top, exporter).
 * Decoded events go to per-CPU queues
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
	/* -1: events were lost before this page, how many is not stored */
	long long missed = kbuffer_missed_events(r->kbuf);
	if (missed > 0)
		c->missed += (uint64_t)missed;
	for (data = kbuffer_read_event(r->kbuf, &ts); data; data = kbuffer_next_event(r->kbuf, &ts)) {
		struct mml_event *e = r->is_live ? merge_slot(&r->live, cpu) : &c->ev[c->n];
		int sz = kbuffer_event_size(r->kbuf);

		if (missed) {	/* the loss lies between this CPU's last record and this one */
			rec_tell_lost(r, cpu, missed > 0 ? (uint64_t)missed : 1, c->last_ts, ts);
			missed = 0;
		}
		c->last_ts = ts;
		if (!e) {
			r->werr = ENOMEM;
			return;
		}

		if (decode_record(r->dec, data, sz, ts, cpu, e) != 1) {
			if (rec_take_exit(r, data, sz) || rec_take_rename(r, data, sz, ts))
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
			if (r->stk)
				rec_stack_seen(r, cpu, rec_stack_wants(r, e));
			continue;
		}
		if (r->stk)
			rec_stack_seen(r, cpu, e->type == MML_EV_START_LOCKING ||
					       e->type == MML_EV_ACQUIRE_RETURNED);
		if (++c->n == BATCH)
			flush_cpu(r, cpu, r->stk != NULL);
	}
	if (missed)
		rec_tell_lost(r, cpu, missed > 0 ? (uint64_t)missed : 1, c->last_ts, rec_mono_ns());
}

long rec_drain(struct rec *r, int final)
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
pid_t rec_start_cmd(const struct record_opts *o, int *gofd)
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

int record_cmd_code(const struct record_opts *o, const struct record_result *res)
{
	int st = res->cmd_status;

	if (!o->cmd || st < 0 || res->cmd_stopped)
		return 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 0;
}

int record_cmd_exit(const struct record_opts *o, const struct record_result *res)
{
	int code = record_cmd_code(o, res), st = res->cmd_status;

	if (code && WIFEXITED(st))
		fprintf(stderr, "%s: %s exited with status %d\n", o->prog, o->cmd[0], code);
	else if (code)
		fprintf(stderr, "%s: %s killed by signal %d (%s)\n", o->prog, o->cmd[0], WTERMSIG(st),
			strsignal(WTERMSIG(st)));
	return code;
}

void rec_perm_msg(char *buf, size_t len, const char *what)
{
	int e = errno;

	if (e == EACCES || e == EPERM)
		snprintf(buf, len, "cannot %s: %s (run as root, or grant CAP_SYS_ADMIN and access to tracefs)",
			 what, strerror(e));
	else
		snprintf(buf, len, "cannot %s: %s", what, strerror(e ? e : EINVAL));
}

void rec_perm_error(const struct record_opts *o, const char *what)
{
	char buf[256];

	rec_perm_msg(buf, sizeof(buf), what);
	fprintf(stderr, "%s: %s\n", o->prog, buf);
}

int record_run(const struct record_opts *o, struct record_result *res)
{
	struct record_opts ro = *o;
	struct backend_opts bo = { .need = BACKEND_CAP_EVENTS | BACKEND_CAP_FILE,
				   .impl_opts = &ro, .prog = o->prog };
	struct backend_sink sink = { 0 };
	struct backend *b;
	char err[256];
	int rc;

	ro.res = res;
	b = backend_open("tracefs", &bo, &sink, NULL, err, sizeof(err), NULL, 0);
	if (!b) {
		if (err[0])
			fprintf(stderr, "%s: %s\n", o->prog, err);
		return 1;
	}
	rc = backend_run(b, o->duration, RECORD_PERIOD_MS, NULL, NULL);
	if (rc && b->err[0])
		fprintf(stderr, "%s: %s\n", o->prog, b->err);
	backend_close(b);
	return rc;
}
