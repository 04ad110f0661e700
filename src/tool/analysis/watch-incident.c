/* SPDX-License-Identifier: MIT */
/*
 * watch-incident.c: an incident of `mmaplock watch` (watch.h): who blocked
 * whom on the window's own events (a fresh pairing: the holds on the
 * crossing wait's mm that overlap it, per holder task, summed as blame.c
 * counts them), then the incident file (format v2, written beside and
 * renamed, never replacing one) and its line's fields.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "watch.h"
#include "watch-local.h"
#include "mml_writer.h"
#include "stacks.h"


struct analysis {
	const struct watch_crossing *c;
	const struct watch *w;
	struct watch_party waiter;	/* the crossing wait, or the longest wait behind a crossing hold */
	int have_waiter;
	uint64_t ws, we;		/* the wait blamed */
	struct watch_party hold;	/* the crossing hold (is_hold) */
	struct watch_party h[64];	/* holders of the mm during the wait */
	int nh;
	struct {			/* closed holds of the mm, for a wait that ends later */
		uint32_t tid, stack;
		uint64_t s, e, memcg;
		int write;
		int proc;		/* stack: the one read from /proc (put in the events) */
	} *holds;
	size_t nholds, holds_cap;
};

static void party_from(struct watch_party *p, const struct pair_interval *iv)
{
	p->tid = iv->tid;
	p->memcg = iv->memcg;
	p->write = iv->write;
	p->ns = iv->end_ts - iv->start_ts;
	p->stack = iv->stack;
}

static int an_hook(void *ctx, const struct pair_interval *iv)
{
	struct analysis *a = ctx;
	const struct watch_crossing *c = a->c;

	if (iv->mm != c->mm)
		return 0;
	if (iv->kind == PAIR_HOLD) {
		if (c->is_hold && iv->tid == c->tid && iv->start_ts == c->start_ts)
			party_from(&a->hold, iv);
		if (a->nholds == a->holds_cap) {
			size_t n = a->holds_cap ? a->holds_cap * 2 : 256;
			void *p = realloc(a->holds, n * sizeof(*a->holds));
			if (!p)
				return -1;
			a->holds = p;
			a->holds_cap = n;
		}
		a->holds[a->nholds].tid = iv->tid;
		a->holds[a->nholds].stack = iv->stack;
		a->holds[a->nholds].s = iv->start_ts;
		a->holds[a->nholds].e = iv->end_ts;
		a->holds[a->nholds].memcg = iv->memcg;
		a->holds[a->nholds].write = iv->write;
		const struct watch_probe *pr = iv->stack ? watch_probe_find(a->w, iv->tid, iv->start_ts) : NULL;
		a->holds[a->nholds].proc = pr && pr->stack == iv->stack;
		a->nholds++;
	} else if (iv->kind == PAIR_WAIT || iv->kind == PAIR_FAILED) {
		if (!c->is_hold) {
			if (iv->tid == c->tid && iv->start_ts == c->start_ts) {
				party_from(&a->waiter, iv);
				a->ws = iv->start_ts;
				a->we = iv->end_ts;
				a->have_waiter = 1;
			}
		} else if (iv->tid != c->tid && iv->start_ts < c->end_ts && iv->end_ts > c->start_ts &&
			   (!a->have_waiter || iv->end_ts - iv->start_ts > a->waiter.ns)) {
			party_from(&a->waiter, iv);	/* the longest wait behind the crossing hold */
			a->ws = iv->start_ts;
			a->we = iv->end_ts;
			a->have_waiter = 1;
		}
	}
	return 0;
}

/* The holders of the blamed wait: holds on its mm that overlap it, by task. */
static void an_holders(struct analysis *a)
{
	for (size_t i = 0; i < a->nholds; i++) {
		uint64_t s = a->holds[i].s > a->ws ? a->holds[i].s : a->ws;
		uint64_t e = a->holds[i].e < a->we ? a->holds[i].e : a->we;
		int k;

		if (e <= s || a->holds[i].tid == a->waiter.tid)
			continue;
		for (k = 0; k < a->nh && a->h[k].tid != a->holds[i].tid; k++)
			;
		if (k == a->nh) {
			if (a->nh == (int)(sizeof(a->h) / sizeof(a->h[0])))
				continue;
			a->h[a->nh++] = (struct watch_party){ .tid = a->holds[i].tid };
		}
		struct watch_party *p = &a->h[k];
		uint64_t len = a->holds[i].e - a->holds[i].s;
		p->blamed_ns += e - s;
		p->write |= a->holds[i].write;
		if (len > p->ns) {
			p->ns = len;
			p->memcg = a->holds[i].memcg;
			if (a->holds[i].stack || !p->stack) {
				p->stack = a->holds[i].stack;
				p->stack_proc = a->holds[i].proc;
			}
		}
		if (!p->stack) {
			p->stack = a->holds[i].stack;
			p->stack_proc = a->holds[i].proc;
		}
		if (!p->stack) {	/* a read hold not in the window's events: the probe itself */
			const struct watch_probe *pr = watch_probe_find(a->w, a->holds[i].tid, a->holds[i].s);
			if (pr) {
				p->stack = pr->stack;
				p->stack_proc = 1;
			}
		}
	}
}

static int cmp_party(const void *x, const void *y)
{
	const struct watch_party *a = x, *b = y;

	if (a->blamed_ns != b->blamed_ns)
		return a->blamed_ns > b->blamed_ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static void name_party(const struct watch *w, struct watch_party *p)
{
	const struct mml_task_info *t = meta_task(w->meta, p->tid);

	snprintf(p->comm, sizeof(p->comm), "%s", t && t->comm[0] ? t->comm : "?");
	p->tgid = t ? t->tgid : 0;
}

/* Pair the window's events again: the waiter and its holders into inc. -1: out of memory. */
static int analyse(struct watch *w, const struct mml_event *ev, size_t n, struct watch_incident *inc)
{
	struct analysis a = { .c = &w->worst, .w = w };
	struct pair p;
	int rc = 0;

	if (pair_init(&p))
		return -1;
	if (pair_subscribe(&p, an_hook, &a, PAIR_KIND(PAIR_WAIT) | PAIR_KIND(PAIR_FAILED) |
						PAIR_KIND(PAIR_HOLD))) {
		pair_fini(&p);
		return -1;
	}
	if (pair_feed(&p, ev, n))
		rc = -1;
	pair_finish(&p);
	if (!w->worst.is_hold && !a.have_waiter) {	/* its start was dropped from the ring */
		a.waiter = (struct watch_party){ .tid = w->worst.tid,
						 .ns = w->worst.end_ts - w->worst.start_ts };
		a.ws = w->worst.start_ts;
		a.we = w->worst.end_ts;
		a.have_waiter = 1;
	}
	if (a.have_waiter)
		an_holders(&a);
	if (w->worst.is_hold) {
		int k;
		if (!a.hold.tid)
			a.hold = (struct watch_party){ .tid = w->worst.tid,
						       .ns = w->worst.end_ts - w->worst.start_ts };
		for (k = 0; k < a.nh && a.h[k].tid != a.hold.tid; k++)
			;
		if (k == a.nh) {	/* the crossing hold first, whatever the overlap */
			memmove(&a.h[1], &a.h[0], sizeof(a.h[0]) * (size_t)(a.nh < 63 ? a.nh : 63));
			a.h[0] = a.hold;
			a.nh = a.nh < 64 ? a.nh + 1 : 64;
		}
	}
	qsort(a.h + (w->worst.is_hold ? 1 : 0), (size_t)a.nh - (w->worst.is_hold && a.nh ? 1 : 0),
	      sizeof(a.h[0]), cmp_party);
	inc->is_hold = w->worst.is_hold;
	if (a.have_waiter) {
		inc->waiter = a.waiter;
		name_party(w, &inc->waiter);
	}
	inc->nholders = a.nh < WATCH_HOLDERS ? a.nh : WATCH_HOLDERS;
	for (int i = 0; i < inc->nholders; i++) {
		inc->holders[i] = a.h[i];
		name_party(w, &inc->holders[i]);
	}
	pair_fini(&p);
	free(a.holds);
	return rc;
}

/*
 * The crossing the incident is named by: its longest that no loss overlaps;
 * if every one is overlapped, the longest, and the incident is suspect.
 */
static int choose_crossing(struct watch *w)
{
	int best = -1;

	for (unsigned i = 0; i < w->ncross; i++) {
		const struct watch_crossing *c = &w->cross[i];
		if (watch_lost_in(w, c->start_ts, c->end_ts))
			continue;
		if (best < 0 || watch_cross_len(c) > watch_cross_len(&w->cross[best]))
			best = (int)i;
	}
	if (best >= 0) {
		w->worst = w->cross[best];
		return 0;
	}
	return 1;
}

/* ---------------------------------------------------------------- the file */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The distinct values of key(ev[i]), sorted, into *out. Count, or -1. */
static long distinct(const struct mml_event *ev, size_t n, int what, uint64_t **out)
{
	uint64_t *v = malloc((n + 1) * sizeof(*v));
	size_t m = 0, k = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (what == 0 && ev[i].type <= MML_EV_RELEASED)
			v[m++] = ev[i].memcg;
		else if (what == 1)
			v[m++] = ev[i].tid;
		else if (what == 2 && ev[i].type == MML_EV_STACK)
			v[m++] = ev[i].memcg;
	}
	qsort(v, m, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < m; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	*out = v;
	return (long)k;
}

static int write_meta(struct watch *w, struct mml_writer *mw, const struct mml_event *ev, size_t n)
{
	uint64_t *v;
	long k;

	if ((k = distinct(ev, n, 0, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const char *path = meta_memcg(w->meta, v[i]);
		if (path && v[i])
			mml_writer_memcg(mw, v[i], path);
	}
	free(v);
	if ((k = distinct(ev, n, 1, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const struct mml_task_info *t = meta_task(w->meta, (uint32_t)v[i]);
		if (t && v[i])
			mml_writer_task(mw, t->tid, t->tgid, t->comm, t->cgroup_id, t->cgroup);
	}
	free(v);
	if ((k = distinct(ev, n, 2, &v)) < 0)
		return -1;
	for (long i = 0; i < k; i++) {
		const struct mml_stack *st = meta_stack(w->meta, (uint32_t)v[i]);
		if (st)
			mml_writer_stack(mw, st->id, st->addr, st->sym, st->n);
	}
	free(v);
	return 0;
}

static void write_info(struct watch *w, struct mml_writer *mw, const struct watch_incident *inc,
		       unsigned long nproc)
{
	struct utsname u;
	char buf[256];

	if (!uname(&u)) {
		mml_writer_info(mw, "kernel", u.release);
		mml_writer_info(mw, "hostname", u.nodename);
		mml_writer_info(mw, "machine", u.machine);
	}
	mml_writer_info(mw, "clock", "mono");
	mml_writer_info(mw, "tool", "mmaplock watch");
	mml_writer_info(mw, "backend", w->o.backend ? w->o.backend : "tracefs");
	mml_writer_info(mw, "stacks", w->o.stacks ? w->o.stacks : "write acquisitions, contended waits");
	snprintf(buf, sizeof(buf), "%s %.3f ms, task %u", inc->is_hold ? "hold" : "wait",
		 (w->worst.end_ts - w->worst.start_ts) / 1e6, w->worst.tid);
	mml_writer_info(mw, "incident", buf);
	snprintf(buf, sizeof(buf), "%u", inc->crossings);
	mml_writer_info(mw, "incident_crossings", buf);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)w->ring_dropped);
	mml_writer_info(mw, "ring_dropped", buf);
	if (nproc) {		/* stack events whose stack was read from /proc/TID/stack */
		snprintf(buf, sizeof(buf), "%lu", nproc);
		mml_writer_info(mw, "stacks_from_proc", buf);
	}
	if (inc->suspect)
		mml_writer_info(mw, "incident_suspect", "events lost where they could make the crossing");
}

/* The loss of the window, one LOST entry per CPU (spans that overlap it). The total. */
static uint64_t window_lost(const struct watch *w, struct mml_writer *mw)
{
	uint64_t total = 0;
	uint32_t maxcpu = 0;

	for (size_t i = 0; i < w->nloss; i++)
		if (w->loss[i].cpu > maxcpu)
			maxcpu = w->loss[i].cpu;
	for (uint32_t cpu = 0; w->nloss && cpu <= maxcpu; cpu++) {
		uint64_t n = 0;
		for (size_t i = 0; i < w->nloss; i++)
			if (w->loss[i].cpu == cpu && w->loss[i].from_ts <= w->inc_end &&
			    w->loss[i].to_ts >= w->inc_start)
				n += w->loss[i].count;
		if (n && mw)
			mml_writer_lost(mw, cpu, n);
		total += n;
	}
	return total;
}

/* Events of the window, per CPU stream. */
static int write_events(struct mml_writer *mw, const struct mml_event *ev, size_t n)
{
	struct mml_event *buf = malloc((n + 1) * sizeof(*buf));
	uint32_t maxcpu = 0;

	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (ev[i].cpu > maxcpu)
			maxcpu = ev[i].cpu;
	for (uint32_t cpu = 0; cpu <= maxcpu; cpu++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (ev[i].cpu == cpu)
				buf[m++] = ev[i];
		if (m && mml_writer_events(mw, cpu, buf, (uint32_t)m)) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* DIR/incident-YYYYmmdd-HHMMSS.mmm[-N].mml, never over an existing file: link, then unlink tmp. */
static int commit_name(struct watch *w, const char *tmp, uint64_t rt_ns, char *out, size_t len)
{
	time_t sec = (time_t)(rt_ns / 1000000000ull);
	struct tm tm;
	char stamp[64];

	localtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int i = 1; i < 100; i++) {
		if (i == 1)
			snprintf(out, len, "%s/incident-%s.%03u.mml", w->o.dir, stamp,
				 (unsigned)(rt_ns / 1000000ull % 1000));
		else
			snprintf(out, len, "%s/incident-%s.%03u-%d.mml", w->o.dir, stamp,
				 (unsigned)(rt_ns / 1000000ull % 1000), i);
		if (!link(tmp, out)) {
			unlink(tmp);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

static uint64_t mono_to_real(uint64_t ts)
{
	struct timespec rt, mono;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	uint64_t r = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	uint64_t m = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
	return ts <= m ? r - (m - ts) : r;
}

/* Write the open incident, hand it to the callback. 0, or -1 out of memory. */
int watch_write_incident(struct watch *w)
{
	struct watch_ring *r = &w->ring;
	struct watch_incident inc = { .crossings = w->inc_crossings, .meta = w->meta };
	struct mml_event *ev;
	size_t n = 0;
	char tmp[PATH_MAX], path[PATH_MAX];
	int rc = 0;

	w->open = 0;
	w->last_end_ts = w->worst.end_ts;
	ev = malloc((r->n + 1) * sizeof(*ev));
	if (!ev)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct mml_event *e = watch_ring_at(r, i);
		if (e->ts >= w->inc_start && e->ts <= w->inc_end)
			ev[n++] = *e;
	}
	long nproc = watch_put_probe_stacks(w, &ev, &n);
	if (nproc < 0) {
		free(ev);
		return -1;
	}
	inc.suspect = choose_crossing(w);
	if (analyse(w, ev, n, &inc))
		rc = -1;
	/* no holder seen, and events lost since before the wait: the holder's may be those */
	if (!inc.suspect && !inc.is_hold && !inc.nholders &&
	    watch_lost_in(w, w->worst.start_ts > watch_horizon(w) ? w->worst.start_ts - watch_horizon(w) : 0, w->worst.end_ts))
		inc.suspect = 1;
	inc.lost = window_lost(w, NULL) + w->lost_pending;
	w->lost_pending = 0;
	inc.realtime_ns = mono_to_real(w->worst.end_ts);
	/* the END block's count, as every writer's: lock events, stack events not counted */
	inc.events = 0;
	for (size_t i = 0; i < n; i++)
		inc.events += ev[i].type != MML_EV_STACK;
	inc.backend = w->o.backend ? w->o.backend : "tracefs";

	struct mml_file_header h = { 0 };
	h.source = MML_SOURCE_KERNEL;
	h.ncpus = (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
	h.start_ts_ns = n ? ev[0].ts : w->inc_start;
	h.start_realtime_ns = mono_to_real(h.start_ts_ns);
	h.clock = MML_CLOCK_MONOTONIC;
	snprintf(tmp, sizeof(tmp), "%s/.incident-XXXXXX", w->o.dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd >= 0) {			/* mkstemp's 0600: the mode record gives its files instead */
		mode_t um = umask(0);
		umask(um);
		fchmod(fd, 0666 & ~um);
	}
	struct mml_writer *mw = fd >= 0 ? mml_writer_fdopen(fd, &h) : NULL;
	int werr = !mw;
	if (mw) {
		write_info(w, mw, &inc, (unsigned long)nproc);
		werr = write_meta(w, mw, ev, n) || write_events(mw, ev, n);
		window_lost(w, mw);	/* per CPU; the END block's total adds the back-end's gaps */
		werr |= mml_writer_close(mw, inc.events, inc.lost) != 0;
	}
	free(ev);
	struct stat st;
	if (!werr && !stat(tmp, &st) && w->o.max_bytes && w->bytes + (uint64_t)st.st_size > w->o.max_bytes) {
		fprintf(stderr, "%s: incident not written: the files of this run would pass the disk cap (%llu MB)\n",
			w->o.prog, (unsigned long long)(w->o.max_bytes >> 20));
		unlink(tmp);
		w->write_errors++;
		return rc;
	}
	if (werr || commit_name(w, tmp, inc.realtime_ns, path, sizeof(path))) {
		fprintf(stderr, "%s: %s: cannot write the incident: %s\n", w->o.prog, w->o.dir,
			strerror(errno ? errno : EIO));
		if (fd >= 0)
			unlink(tmp);
		w->write_errors++;
		return rc;
	}
	w->bytes += (uint64_t)st.st_size;
	if (inc.suspect)
		w->suspects++;
	else
		w->incidents++;
	inc.file = path;
	if (w->cb)
		w->cb(w->cb_ctx, &inc);
	return rc;
}
