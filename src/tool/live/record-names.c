/* SPDX-License-Identifier: MIT */
/*
 * record-names.c: what the recorder learns besides events, and the kernel
 * filters it sets (see record.c's top comment, "Metadata" and "Filters").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/utsname.h>
#include <tracefs/tracefs.h>
#include <traceevent/event-parse.h>
#include "record-local.h"
#include "cgroupfs.h"
#include "decode.h"
#include "meta.h"
#include "mml_writer.h"

/*
 * Name memcg id in the file now if events already use it (id era): the
 * writer puts the entry before the next EVENTS block, so a file cut short
 * still names its memcgs. memcg_seen's value marks an id as named.
 */
static void name_memcg(struct rec *r, uint64_t id, const char *path)
{
	long f = idmap_find(&r->memcg_seen, id);

	if (!r->w || f < 0 || r->memcg_seen.t[f].val || !id)
		return;
	if (mml_writer_memcg(r->w, id, path))
		r->werr = errno;
	r->memcg_seen.t[f].val = strdup("");
}

void rec_on_walk(uint64_t id, const char *path, void *arg)
{
	struct rec *r = arg;

	if (r->b && r->b->meta)
		meta_set_memcg(r->b->meta, id, path);
	if (decoder_has_memcg_id(r->dec))
		name_memcg(r, id, path);
}

void rec_on_path(uint64_t id, const char *path, void *arg)
{
	struct rec *r = arg;

	if (r->b && r->b->meta)
		meta_set_memcg(r->b->meta, id, path);
	if (!r->w && !r->o->output)
		return;			/* live only: no file */
	if (!r->w) {
		idmap_put(&r->early, id, strdup(path));
		return;
	}
	if (mml_writer_memcg(r->w, id, path))
		r->werr = errno;
}

/*
 * The comm the kernel saved for a task that is gone from /proc, or NULL.
 * Looked up when the task is first seen, so that the name is in the file
 * before its events even if the recorder is killed later. The file is
 * re-read at most once per drain period (a copy older than that could name
 * an earlier owner of a reused tid): a burst of short-lived tasks costs one
 * read, and a miss is tried again (rec_retry_names, and rec_late_comms at
 * the end).
 */
static const char *saved_comm(struct rec *r, uint32_t tid)
{
	return names_saved_comm(&r->names, tid, RECORD_PERIOD_MS / 1000.0);
}

/* A task gone from /proc, named from saved_cmdlines: comm only. */
/*
 * ti into the file and the live metadata. update: a later name of a task
 * already named (meta_update_task: what ti leaves unknown stays as it was).
 */
static void name_task(struct rec *r, const struct mml_task_info *ti, int update)
{
	if (r->w && mml_writer_task(r->w, ti->tid, ti->tgid, ti->comm, ti->cgroup_id, ti->cgroup))
		r->werr = errno;
	if (r->b && r->b->meta)
		(update ? meta_update_task : meta_set_task)(r->b->meta, ti);
}

static void name_gone(struct rec *r, uint32_t tid, const char *comm)
{
	struct mml_task_info ti = { .tid = tid };

	snprintf(ti.comm, sizeof(ti.comm), "%s", comm);
	name_task(r, &ti, 0);
}

/* The task at r->tids slot f was waiting for a name (its val): it has one now. */
static void named_late(struct rec *r, long f)
{
	free(r->tids.t[f].val);
	r->tids.t[f].val = NULL;
	r->late_names = 1;
}

void rec_retry_names(struct rec *r)
{
	double now = rec_now();
	int k = 0;

	if (!r->npend || names_clock() - r->names.comms_at < RECORD_PERIOD_MS / 1000.0)
		return;
	names_load_comms(&r->names);
	for (int i = 0; i < r->npend; i++) {
		struct rec_pending p = r->pend[i];
		long t = idmap_find(&r->tids, p.tid);
		const char *comm = names_saved_comm(&r->names, p.tid, NAMES_ANY_AGE);

		if (t < 0 || !r->tids.t[t].val)
			continue;	/* forgotten (live) or named meanwhile */
		if (comm) {
			name_gone(r, p.tid, comm);
			named_late(r, t);
			continue;
		}
		if (now - p.since < 1.0)
			r->pend[k++] = p;	/* else left to rec_late_comms */
	}
	r->npend = k;
}

/*
 * The event named system:name, with an int pid field and a char array comm
 * field, enabled in our instance: its type, or -1 (the kernel lacks it, or
 * its fields are not what we read).
 */
static int comm_event_start(struct rec *r, const char *system, const char *name,
			    const char *comm_field, const struct tep_format_field **pid,
			    const struct tep_format_field **comm)
{
	struct tep_event *e = tep_find_event_by_name(r->tep, system, name);

	if (!e)
		return -1;
	*pid = tep_find_field(e, "pid");
	*comm = tep_find_field(e, comm_field);
	if (!*pid || (*pid)->size != 4 || !*comm || (*comm)->size < 2)
		return -1;
	return tracefs_event_enable(r->ti, system, name) == 0 ? e->id : -1;
}

/*
 * A record of the event type id, with its pid and comm fields: 0 when it is
 * not one, 1 when it is but holds no usable name, 2 with tid and comm set.
 */
static int take_comm(struct rec *r, const void *data, int size, int id,
		     const struct tep_format_field *pidf, const struct tep_format_field *commf,
		     uint32_t *tid, char comm[16])
{
	struct tep_record rec = { .data = (void *)data, .size = size };
	const unsigned char *p = data;
	size_t n;

	if (id < 0 || tep_data_type(r->tep, &rec) != id)
		return 0;
	if (pidf->offset + 4 > size || commf->offset + commf->size > size)
		return 1;
	memcpy(tid, p + pidf->offset, 4);
	n = (size_t)commf->size < 16 ? (size_t)commf->size : 16;
	memcpy(comm, p + commf->offset, n);
	comm[n - 1] = '\0';
	return *tid && comm[0] ? 2 : 1;
}

void rec_exit_start(struct rec *r)
{
	r->exit_id = comm_event_start(r, "sched", "sched_process_exit", "comm", &r->exit_pid,
				      &r->exit_comm);
}

int rec_take_exit(struct rec *r, const void *data, int size)
{
	char comm[16];
	uint32_t tid;
	int k = take_comm(r, data, size, r->exit_id, r->exit_pid, r->exit_comm, &tid, comm);

	if (k < 2)
		return k;
	long f = idmap_find(&r->tids, tid);
	if (f >= 0) {
		if (r->tids.t[f].val) {		/* seen gone, not named yet */
			name_gone(r, tid, comm);
			named_late(r, f);
		}
		return 1;
	}
	if (r->exited.n >= RECORD_LIVE_TIDS)	/* bounded: most exiting tasks take no mmap_lock */
		idmap_free(&r->exited);
	idmap_put(&r->exited, tid, strdup(comm));
	return 1;
}

void rec_rename_start(struct rec *r)
{
	r->rename_id = comm_event_start(r, "task", "task_rename", "newcomm", &r->rename_pid,
					&r->rename_comm);
}

int rec_take_rename(struct rec *r, const void *data, int size, uint64_t ts)
{
	struct mml_task_info ti = { 0 };
	struct cg_task t;
	uint64_t *last;
	char comm[16];
	uint32_t tid;
	int k = take_comm(r, data, size, r->rename_id, r->rename_pid, r->rename_comm, &tid, comm);

	if (k < 2)
		return k;
	long f = idmap_find(&r->tids, tid);
	/*
	 * Not seen yet: its first event names it from /proc, or from its exit,
	 * both newer than this. The CPUs are drained one after the other, so an
	 * older rename on one can come after a newer one on another: the newest
	 * by time wins.
	 */
	if (f < 0 || !(last = u64map_get(&r->renamed, tid, 1)) || (*last && *last > ts))
		return 1;
	*last = ts ? ts : 1;
	ti.tid = tid;
	snprintf(ti.comm, sizeof(ti.comm), "%s", comm);
	if (!names_task(tid, &t)) {
		ti.tgid = t.tgid;
		ti.cgroup_id = t.cgroup_id;
		ti.cgroup = t.cgroup[0] ? t.cgroup : NULL;
	}
	/* gone: tgid 0 and no cgroup, which readers take as "as before" (meta_update_task) */
	name_task(r, &ti, 1);
	named_late(r, f);	/* whether it was still unnamed or not: a new name to write */
	return 1;
}

void rec_see_tid(struct rec *r, uint32_t tid)
{
	struct cg_task t;

	if (idmap_find(&r->tids, tid) >= 0)
		return;
	if (r->is_live && r->tids.n >= RECORD_LIVE_TIDS) {
		/* a long live run: memory bounded, tasks looked up again */
		idmap_free(&r->tids);
		u64map_free(&r->renamed);
		if (r->b->meta)
			meta_forget_tasks(r->b->meta);
	}
	if (tid == 0) {
		/* the idle task: not in the file (mml_writer_task), readers name it */
		idmap_put(&r->tids, 0, NULL);
		if (r->b && r->b->meta) {
			struct mml_task_info ti = { .tid = 0, .tgid = 0, .comm = "swapper" };
			meta_set_task(r->b->meta, &ti);
		}
		return;
	}
	if (names_task(tid, &t)) {
		/* gone already: its exit event's comm, the kernel's saved one, or later */
		long x = idmap_find(&r->exited, tid);
		const char *comm = x >= 0 && r->exited.t[x].val ? r->exited.t[x].val : saved_comm(r, tid);

		if (!comm) {
			idmap_put(&r->tids, tid, strdup("?"));
			if (r->npend < RECORD_PENDING)
				r->pend[r->npend++] = (struct rec_pending){ tid, rec_now() };
			return;
		}
		idmap_put(&r->tids, tid, NULL);
		name_gone(r, tid, comm);
		return;
	}
	idmap_put(&r->tids, tid, NULL);
	struct mml_task_info ti = { .tid = tid, .tgid = t.tgid, .cgroup_id = t.cgroup_id,
				    .cgroup = t.cgroup[0] ? t.cgroup : NULL };
	snprintf(ti.comm, sizeof(ti.comm), "%s", t.comm);
	name_task(r, &ti, 0);
}

void rec_see_memcg(struct rec *r, uint64_t id)
{
	if (idmap_put(&r->memcg_seen, id, NULL) != 1)
		return;
	if (!id || !decoder_has_memcg_id(r->dec))
		return;		/* 0: no memcg, nothing to name; path era: rec_on_path names */
	/* a new memcg: walked again (rec_on_walk names it), at most once a second */
	const char *path = names_memcg(&r->names, id, rec_on_walk, r);
	if (path)
		name_memcg(r, id, path);
}

void rec_rewalk(struct rec *r, double now)
{
	if (now - r->last_rewalk < 1.0 || !decoder_has_memcg_id(r->dec))
		return;
	r->last_rewalk = now;
	for (size_t i = 0; i < r->memcg_seen.cap; i++)
		if (r->memcg_seen.t[i].used && r->memcg_seen.t[i].key &&
		    !names_memcg_cached(&r->names, r->memcg_seen.t[i].key)) {
			names_walk(&r->names, rec_on_walk, r);
			return;
		}
}

void rec_late_comms(struct rec *r)
{
	names_load_comms(&r->names);
	for (size_t i = 0; i < r->tids.cap; i++) {
		if (!r->tids.t[i].used || !r->tids.t[i].val)
			continue;
		const char *comm = names_saved_comm(&r->names, (uint32_t)r->tids.t[i].key,
						    NAMES_ANY_AGE);
		if (!comm)
			continue;
		mml_writer_task(r->w, (uint32_t)r->tids.t[i].key, 0, comm, 0, NULL);
		free(r->tids.t[i].val);
		r->tids.t[i].val = NULL;
	}
	idmap_free(&r->names.comms);
}

int rec_set_pids(struct rec *r, pid_t cmd)
{
	char buf[300];
	int first = 1;

	for (int i = 0; i < r->o->npids + (cmd > 0); i++) {
		pid_t pid = i < r->o->npids ? r->o->pids[i] : cmd;
		char dir[64];
		snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
		DIR *d = opendir(dir);
		if (!d) {
			fprintf(stderr, "%s: -p %d: no such process\n", r->o->prog, (int)pid);
			return -1;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(buf, sizeof(buf), "%s", e->d_name);
			int rc = first ? tracefs_instance_file_write(r->ti, "set_event_pid", buf)
				       : tracefs_instance_file_append(r->ti, "set_event_pid", buf);
			first = 0;
			if (rc < 0) {
				closedir(d);
				fprintf(stderr, "%s: cannot set set_event_pid: %s\n", r->o->prog, strerror(errno));
				return -1;
			}
		}
		closedir(d);
	}
	if (tracefs_option_enable(r->ti, TRACEFS_OPTION_EVENT_FORK)) {
		fprintf(stderr, "%s: cannot enable event-fork: %s\n", r->o->prog, strerror(errno));
		return -1;
	}
	return 0;
}

static const char *const mmap_events[] = {
	"mmap_lock_start_locking", "mmap_lock_acquire_returned", "mmap_lock_released",
};

/*
 * -G: the memcg filter on the mmap_lock events (id era), also returned in
 * filter[size] for the stack trigger; "" in the path era (user space).
 */
int rec_set_cgroups(struct rec *r, char *filter, size_t size)
{
	size_t len = 0;

	filter[0] = '\0';

	for (int i = 0; i < r->o->ncgroups; i++) {
		uint64_t id;
		char rel[1024];
		if (cgroupfs_resolve(r->o->cgroups[i], &id, rel, sizeof(rel))) {
			fprintf(stderr, "%s: -G %s: no such memory cgroup (%s)\n", r->o->prog,
				r->o->cgroups[i], strerror(errno));
			return -1;
		}
		if (!decoder_has_memcg_id(r->dec))
			id = decoder_intern_path(r->dec, rel, (int)strlen(rel));
		idmap_put(&r->allow, id, NULL);
		len += (size_t)snprintf(filter + len, size - len, "%smemcg_id == %llu",
					i ? " || " : "", (unsigned long long)id);
		if (len >= size) {
			fprintf(stderr, "%s: -G: too many cgroups for one filter\n", r->o->prog);
			return -1;
		}
	}
	if (!decoder_has_memcg_id(r->dec)) {
		filter[0] = '\0';
		return 0;		/* path era: filtered in user space */
	}
	for (size_t i = 0; i < 3; i++) {
		char file[128];
		snprintf(file, sizeof(file), "events/mmap_lock/%s/filter", mmap_events[i]);
		if (tracefs_instance_file_write(r->ti, file, filter) < 0) {
			fprintf(stderr, "%s: cannot set the memcg filter: %s\n", r->o->prog, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void rec_write_info(struct rec *r, const char *clock)
{
	struct utsname u;
	char buf[4096];
	size_t len = 0;

	if (!uname(&u)) {
		mml_writer_info(r->w, "kernel", u.release);
		mml_writer_info(r->w, "hostname", u.nodename);
		mml_writer_info(r->w, "machine", u.machine);
	}
	mml_writer_info(r->w, "clock", clock);
	snprintf(buf, sizeof(buf), "%d", r->ncpu);
	mml_writer_info(r->w, "ncpus", buf);
	mml_writer_info(r->w, "memcg", decoder_has_memcg_id(r->dec) ? "id" : "path");
	mml_writer_info(r->w, "contention", decoder_has_contention(r->dec) ? "yes" : "no");
	if (cgroupfs_memcg_root())
		mml_writer_info(r->w, "cgroup_root", cgroupfs_memcg_root());
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (f) {
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i + 1 < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		mml_writer_info(r->w, "cmdline", buf);
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	mml_writer_info(r->w, "start_time", buf);
	mml_writer_info(r->w, "tool", "mmaplock record");
	mml_writer_info(r->w, "backend", "tracefs");
}
