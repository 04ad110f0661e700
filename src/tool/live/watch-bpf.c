/* SPDX-License-Identifier: MIT */
/*
 * watch-bpf.c: `mmaplock watch --backend bpf` (watch-bpf.h): the user side
 * of bpf/watch.bpf.c.
 *
 * Idle of incidents, nothing crosses: the kernel writes every event into
 * its per-CPU overwrite ring, and this side sleeps on the notice ring
 * buffer (the run loop's period wakes it to tick, reading nothing). A
 * notice makes the window active until `after` (plus a margin) past it;
 * while active, every poll copies the records written since the last copy
 * (the first one from `before` and a second ahead of the crossing's start)
 * and stamped before now minus COPY_SLACK_NS (a program that took its
 * time stamp before then has written its record), so the events reach the
 * watch engine in time order and the engine's window is complete: the
 * before part from the ring's past (as far back as the ring reaches), the
 * after part as it happens.
 *
 * Reading a record races with the kernel writing the next lap into its
 * slot: mmlwatch.h's lap field says whether the copy is whole. The first copy
 * of an active spell starts at the ring's oldest record, where the writer
 * is overwriting: torn and overwritten slots there are outside the window
 * as far as anyone can tell (the ring's reach is the window's limit) and
 * only counted; while active, a record overwritten before it was copied is
 * lost inside the window (watch_gap with a count: the incident file's END
 * block says so). Either way the pairing starts afresh (watch_gap).
 *
 * Crossings: the kernel's notices, handed over (watch_bpf_opts.crossing)
 * among the events at their end time: the engine takes them as they are
 * (watch_opts.external) instead of pairing every event again, so an
 * incident is written even when the ring no longer reaches back to the
 * slow wait's start.
 *
 * Stacks: the kernel's stack map id becomes an id of the back-end meta's
 * stack table, symbolized once per kernel id (ids of a STACK_TRACE map
 * without BPF_F_REUSE_STACKID are stable). Names: tasks from /proc, else
 * from the names the kernel kept with the stacks it took; memcg paths from
 * the memory hierarchy (names.h).
 *
 * Safety: links and maps are file descriptors of this process; nothing is
 * pinned, so any exit (SIGKILL included) frees everything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "watch-bpf.h"
#include "bpf-load.h"

#ifndef MMAPLOCK_HAVE_BPF

struct backend *watch_bpf_open(const struct watch_bpf_opts *o, const struct backend_sink *sink,
			       struct mml_meta *meta, char *err, size_t errlen)
{
	(void)o, (void)sink, (void)meta;
	snprintf(err, errlen, "%s", BPFL_NOT_BUILT);
	return NULL;
}

uint64_t watch_bpf_delivered(const struct backend *b)
{
	(void)b;
	return 0;
}

void watch_bpf_stats(const struct backend *b, struct watch_bpf_stats *st)
{
	(void)b;
	memset(st, 0, sizeof(*st));
}

#else

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "cgroupfs.h"
#include "ksym.h"
#include "meta.h"
#include "names.h"
#include "stacks.h"
#include "mmlwatch.h"
#include "watch.skel.h"

#define COPY_SLACK_NS	2000000ull	/* records stamped before now - this are written */
#define ACTIVE_MARGIN_NS 300000000ull	/* copying goes on this long past `after` */
#define MIN_SHIFT	12
#define MAX_SHIFT	22		/* 4 M records (128 MB) per CPU at most */
#define KSTACKS		4096		/* the stack map's size (watch.bpf.c) */
#define PEND_MAX	256		/* crossings waiting for their events */

struct wb {
	struct watch_bpf_opts o;
	struct watch_bpf *skel;
	struct ring_buffer *rb;
	struct mmlw_rec *ring;		/* mmapped */
	size_t ring_len;
	int ncpu;
	unsigned shift;
	uint64_t *last;			/* per CPU: the next record number to copy */
	struct mml_event *ev;
	size_t ev_cap;
	struct mml_event *out, *stk;	/* the merge's output; the stack records of a copy */
	size_t out_cap, stk_cap, nstk;
	size_t *seg;			/* per CPU + 1: where its records start in ev */
	uint64_t active_until;		/* event clock; 0: idle */
	uint64_t spell_from;		/* the spell's first copy starts here (event clock) */
	struct watch_bpf_crossing pend[PEND_MAX];	/* noticed, not yet delivered, by end_ts */
	int npend;
	int spell;			/* copies made in this active spell */
	uint64_t delivered;		/* every event up to this was delivered */
	uint32_t kstack[KSTACKS];	/* kernel stack id -> meta stack id (0: not yet) */
	struct ksyms *ks;
	struct names names;
	struct watch_bpf_stats st;
	int started;
};

/* Records per CPU: the memory given, a power of two, within bounds. */
static unsigned ring_shift(double ring_mb, int ncpu)
{
	double per = ring_mb * 1048576.0 / ncpu / sizeof(struct mmlw_rec);
	unsigned s = MIN_SHIFT;

	while (s < MAX_SHIFT && (double)(1u << (s + 1)) <= per)
		s++;
	return s;
}

static void wb_close(struct backend *b)
{
	struct wb *p = b->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	if (p->ring)
		munmap(p->ring, p->ring_len);
	watch_bpf__destroy(p->skel);
	ksyms_free(p->ks);
	names_fini(&p->names);
	free(p->last);
	free(p->ev);
	free(p->out);
	free(p->stk);
	free(p->seg);
	free(p);
	b->priv = NULL;
}

static int on_notice(void *ctx, void *data, size_t len)
{
	struct wb *p = ctx;
	const struct mmlw_notice *n = data;
	uint64_t until, from;

	if (len < sizeof(*n))
		return 0;
	until = bpfl_now_ns() + p->o.after_ns + ACTIVE_MARGIN_NS;
	/* the engine's window starts `before` ahead; a second more of context for the pairing */
	from = n->start_ts > p->o.before_ns + 1000000000ull ? n->start_ts - p->o.before_ns - 1000000000ull : 0;
	if (!p->active_until || from < p->spell_from)
		p->spell_from = from;
	if (until > p->active_until)
		p->active_until = until;
	if (p->npend == PEND_MAX)	/* a storm: the oldest goes (a merged incident anyway) */
		memmove(p->pend, p->pend + 1, sizeof(p->pend[0]) * --p->npend);
	int i = p->npend++;
	for (; i > 0 && p->pend[i - 1].end_ts > n->end_ts; i--)
		p->pend[i] = p->pend[i - 1];
	p->pend[i] = (struct watch_bpf_crossing){ .tid = n->tid, .is_hold = (int)n->is_hold, .mm = n->mm,
						  .start_ts = n->start_ts, .end_ts = n->end_ts };
	return 0;
}

static int wb_start(struct backend *b)
{
	struct wb *p = b->priv;
	int err;

	if ((err = watch_bpf__attach(p->skel))) {
		snprintf(b->err, sizeof(b->err), "bpf: cannot attach to the tracepoints: %s", strerror(-err));
		return -1;
	}
	p->ring = mmap(NULL, p->ring_len, PROT_READ, MAP_SHARED, bpf_map__fd(p->skel->maps.mml_w_ring), 0);
	if (p->ring == MAP_FAILED) {
		p->ring = NULL;
		snprintf(b->err, sizeof(b->err), "bpf: cannot map the ring: %s", strerror(errno));
		return -1;
	}
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.mml_w_notices), on_notice, p, NULL);
	if (!p->rb) {
		snprintf(b->err, sizeof(b->err), "bpf: cannot open the notice ring: %s", strerror(errno));
		return -1;
	}
	p->started = 1;
	p->delivered = bpfl_now_ns();
	return 0;
}

/* The meta stack id of kernel stack id k (0: none). */
static uint32_t stack_of(struct backend *b, uint32_t k)
{
	struct wb *p = b->priv;
	uint64_t addr[MMLW_STACK_DEPTH] = { 0 };
	static char names[MMLW_STACK_DEPTH][160];
	const char *sym[MMLW_STACK_DEPTH];
	int n = 0, skip = 0;

	if (k >= KSTACKS)
		return 0;
	if (p->kstack[k])
		return p->kstack[k];
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.mml_w_stacks), &k, addr))
		return 0;
	while (n < MMLW_STACK_DEPTH && addr[n])
		n++;
	for (int i = 0; i < n; i++) {
		ksyms_name(p->ks, addr[i], names[i], sizeof(names[i]));
		sym[i] = names[i];
	}
	/* the tracing machinery (and the BPF trampoline) is not the lock taker */
	while (skip < n - 1 && (stack_is_trace_frame(sym[skip]) || !strncmp(sym[skip], "bpf_", 4) ||
				!strncmp(sym[skip], "0x", 2)))
		skip++;
	if (!n)
		return 0;
	p->kstack[k] = stacktab_intern(meta_stacks(b->meta), addr + skip, sym + skip,
				       (unsigned)(n - skip), NULL);
	return p->kstack[k];
}

static void name_task(struct backend *b, uint32_t tid)
{
	struct wb *p = b->priv;
	struct mml_task_info ti = { .tid = tid };
	struct mmlw_task k;
	struct cg_task t;

	if (!tid || meta_task(b->meta, tid))
		return;
	if (!names_task(tid, &t)) {
		ti.tgid = t.tgid;
		memcpy(ti.comm, t.comm, sizeof(ti.comm));
		ti.cgroup_id = t.cgroup_id;
		ti.cgroup = t.cgroup[0] ? t.cgroup : NULL;
	} else if (!bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.mml_w_comms), &tid, &k)) {
		ti.tgid = k.tgid;
		memcpy(ti.comm, k.comm, sizeof(ti.comm));
	} else {
		return;
	}
	ti.comm[sizeof(ti.comm) - 1] = '\0';
	meta_set_task(b->meta, &ti);
}

static void name_memcg(struct backend *b, uint64_t id)
{
	struct wb *p = b->priv;
	const char *path;

	if (!id || meta_memcg(b->meta, id))
		return;
	if ((path = names_memcg(&p->names, id, NULL, NULL)))
		meta_set_memcg(b->meta, id, path);
}

static int cmp_ev(const void *x, const void *y)
{
	const struct mml_event *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	/* a stack before the event it belongs to */
	if ((a->type == MML_EV_STACK) != (b->type == MML_EV_STACK))
		return a->type == MML_EV_STACK ? -1 : 1;
	return a->cpu != b->cpu ? (a->cpu < b->cpu ? -1 : 1) : 0;
}

/* Room for n + 1 events in *v. */
static int room(struct mml_event **v, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 65536;
	while (c <= n)
		c *= 2;
	void *e = realloc(*v, c * sizeof(**v));
	if (!e)
		return -1;
	*v = e;
	*cap = c;
	return 0;
}

/*
 * The CPUs' runs of ev (each in time order but for a preempted program's
 * record: then sorted) and the stack records, merged into out by time
 * (a heap of run heads): O(n log CPUs), where one sort of everything cost
 * a third of a second per 3 M events.
 */
static int merge(struct wb *p, size_t n)
{
	int nr = p->ncpu + 1, h = 0;
	size_t pos[nr], end[nr];
	int heap[nr];
	const struct mml_event *run[nr];

	for (int c = 0; c < p->ncpu; c++) {
		size_t a = p->seg[c], z = p->seg[c + 1];
		for (size_t i = a + 1; i < z; i++)
			if (cmp_ev(&p->ev[i - 1], &p->ev[i]) > 0) {
				qsort(p->ev + a, z - a, sizeof(*p->ev), cmp_ev);
				break;
			}
		run[c] = p->ev;
		pos[c] = a;
		end[c] = z;
	}
	if (p->nstk)	/* stk is NULL until the first stack record */
		qsort(p->stk, p->nstk, sizeof(*p->stk), cmp_ev);
	run[p->ncpu] = p->stk;
	pos[p->ncpu] = 0;
	end[p->ncpu] = p->nstk;
	if (room(&p->out, &p->out_cap, n + p->nstk))
		return -1;
#define HEAD(r)	(&run[r][pos[r]])
#define LESS(x, y) (cmp_ev(HEAD(heap[x]), HEAD(heap[y])) < 0)
	for (int r = 0; r < nr; r++) {		/* sift up */
		if (pos[r] == end[r])
			continue;
		int i = h++;
		heap[i] = r;
		while (i && LESS(i, (i - 1) / 2)) {
			int t = heap[i]; heap[i] = heap[(i - 1) / 2]; heap[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	}
	for (size_t k = 0; h; k++) {
		int r = heap[0];
		p->out[k] = *HEAD(r);
		if (++pos[r] == end[r])
			heap[0] = heap[--h];
		for (int i = 0;;) {			/* sift down */
			int l = 2 * i + 1, m = i;
			if (l < h && LESS(l, m))
				m = l;
			if (l + 1 < h && LESS(l + 1, m))
				m = l + 1;
			if (m == i)
				break;
			int t = heap[i]; heap[i] = heap[m]; heap[m] = t;
			i = m;
		}
	}
#undef HEAD
#undef LESS
	return 0;
}

/* Records ever claimed on cpu's stretch (the .bss of the programs, mmapped). */
static uint64_t head_of(const struct wb *p, int cpu)
{
	return __atomic_load_n(&p->skel->bss->heads[cpu * MMLW_HEAD_WORDS], __ATOMIC_ACQUIRE);
}

/* ev[0..n) to the sink, the crossings that ended by upto in between. 0, or the sink's stop. */
static int deliver(struct backend *b, const struct mml_event *ev, size_t n, uint64_t upto)
{
	struct wb *p = b->priv;
	size_t i = 0;
	int k = 0, rc = 0;

	for (; !rc && k < p->npend && p->pend[k].end_ts <= upto; k++) {
		size_t j = i;
		while (j < n && ev[j].ts <= p->pend[k].end_ts)
			j++;
		if (j > i && b->sink.events)
			rc = b->sink.events(b->sink.ctx, ev + i, j - i);
		i = j;
		if (!rc && p->o.crossing)
			rc = p->o.crossing(p->o.gap_ctx, &p->pend[k]);
	}
	memmove(p->pend, p->pend + k, sizeof(p->pend[0]) * (size_t)(p->npend - k));
	p->npend -= k;
	if (!rc && n > i && b->sink.events)
		rc = b->sink.events(b->sink.ctx, ev + i, n - i);
	return rc;
}

/* Copy what was written since the last copy, up to upto (event clock); deliver. */
static int copy(struct backend *b, uint64_t upto)
{
	struct wb *p = b->priv;
	uint64_t slots = 1ull << p->shift, lost = 0, skipped = 0;
	size_t n = 0;
	int rc = 0;

	p->nstk = 0;
	for (int cpu = 0; cpu < p->ncpu; cpu++) {
		uint64_t head = head_of(p, cpu), i = p->last[cpu];

		p->seg[cpu] = n;
		const volatile struct mmlw_rec *base = p->ring + ((size_t)cpu << p->shift);

		if (head - i > slots) {
			skipped += head - slots - i;
			i = head - slots;
		}
		for (; i < head; i++) {
			const volatile struct mmlw_rec *r = &base[i & (slots - 1)];
			uint16_t lap = (uint16_t)((i >> p->shift) + 1);
			struct mmlw_rec c;

			if (r->lap != lap) {		/* overwritten (or being written) */
				if ((uint16_t)(r->lap - lap) < 0x8000 && r->lap)
					skipped++;
				else
					break;		/* not written yet: next copy */
				continue;
			}
			c.ts = r->ts;
			c.mm = r->mm;
			c.memcg = r->memcg;
			c.tid = r->tid;
			c.type = r->type;
			c.flags = r->flags;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (r->lap != lap) {
				skipped++;
				continue;
			}
			if (c.ts > upto)
				break;
			if (!p->spell && c.ts < p->spell_from)
				continue;	/* older than any window of this spell needs */
			if (c.type == MML_EV_STACK && p->spell && c.ts <= p->delivered) {
				/* a holder's stack for an acquisition delivered already */
				struct mml_event st = { .ts = c.ts, .mm = c.mm, .tid = c.tid,
							.cpu = (uint16_t)cpu, .type = MML_EV_STACK };
				name_task(b, c.tid);
				st.memcg = stack_of(b, (uint32_t)c.memcg);
				if (st.memcg && p->o.late_stack)
					p->o.late_stack(p->o.gap_ctx, &st);
				continue;
			}
			struct mml_event e = { .ts = c.ts, .mm = c.mm, .memcg = c.memcg, .tid = c.tid,
					       .cpu = (uint16_t)cpu, .type = c.type, .flags = c.flags };
			if (c.type == MML_EV_STACK) {	/* out of their CPU's order: a run of their own */
				if (room(&p->stk, &p->stk_cap, p->nstk))
					goto nomem;
				name_task(b, e.tid);
				e.memcg = stack_of(b, (uint32_t)e.memcg);
				p->stk[p->nstk++] = e;
				continue;
			}
			if (room(&p->ev, &p->ev_cap, n))
				goto nomem;
			p->ev[n++] = e;
		}
		p->last[cpu] = i;
	}
	p->seg[p->ncpu] = n;
	if (p->spell)
		lost = skipped;
	if (skipped || !p->spell) {
		p->st.lost += lost;
		if (p->o.gap)
			p->o.gap(p->o.gap_ctx, lost);
	}
	p->spell++;
	uint64_t tid = 0, memcg = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mml_event *e = &p->ev[i];

		if (e->tid != tid || !i)
			name_task(b, e->tid);
		if (e->memcg != memcg || !i)
			name_memcg(b, e->memcg);
		tid = e->tid;
		memcg = e->memcg;
	}
	if (merge(p, n))
		goto nomem;
	n += p->nstk;
	p->delivered = upto;
	p->st.copied += n;
	rc = deliver(b, p->out, n, upto);
	return rc ? 1 : 0;
nomem:
	snprintf(b->err, sizeof(b->err), "bpf: out of memory");
	return -1;
}

static int wb_poll(struct backend *b, int timeout_ms)
{
	struct wb *p = b->priv;
	uint64_t now;
	int rc;

	rc = ring_buffer__poll(p->rb, timeout_ms);
	if (rc < 0 && rc != -EINTR) {
		snprintf(b->err, sizeof(b->err), "bpf: notice ring: %s", strerror(-rc));
		return -1;
	}
	now = bpfl_now_ns();
	if (!p->active_until) {
		p->delivered = now - COPY_SLACK_NS;	/* nothing is open: the clock runs */
		return 0;
	}
	rc = copy(b, now - COPY_SLACK_NS);
	if (now > p->active_until) {	/* the spell is over */
		p->active_until = 0;
		p->spell = 0;
	}
	return rc;
}

static int wb_stop(struct backend *b)
{
	struct wb *p = b->priv;
	int rc = 0;

	if (!p->started)
		return 0;
	ring_buffer__consume(p->rb);
	if (p->active_until)
		rc = copy(b, bpfl_now_ns() - COPY_SLACK_NS) < 0 ? -1 : 0;
	if (!rc && p->npend)		/* crossings newer than the last copy: after it */
		deliver(b, NULL, 0, UINT64_MAX);
	watch_bpf__detach(p->skel);
	p->started = 0;
	return rc;
}

static const struct backend_ops watch_bpf_ops = {
	.name = "bpf",
	.caps = BACKEND_CAP_EVENTS | BACKEND_CAP_STACKS,
	.start = wb_start,
	.poll = wb_poll,
	.stop = wb_stop,
	.close = wb_close,
};

static int wb_load(struct backend *b, struct wb *p)
{
	const char *root;
	struct bpfl_form form;
	struct stat st;
	uint64_t stack_over;
	int err;

	if (bpfl_prepare(&form, b->err, sizeof(b->err)))
		return -1;
	p->ncpu = libbpf_num_possible_cpus();
	if (p->ncpu <= 0 || p->ncpu > MMLW_MAX_CPUS) {
		snprintf(b->err, sizeof(b->err), "bpf: %d CPUs: the BPF watch handles 1 to %d",
			 p->ncpu, MMLW_MAX_CPUS);
		return -1;
	}
	if (!(p->skel = watch_bpf__open())) {
		bpfl_open_error(b->err, sizeof(b->err));
		return -1;
	}
	bpfl_set_form(p->skel->obj, &form);
	if ((root = cgroupfs_memcg_root()) && !stat(root, &st))
		p->skel->rodata->root_memcg_id = st.st_ino;
	p->skel->rodata->wait_over_ns = p->o.wait_over_ns;
	p->skel->rodata->hold_over_ns = p->o.hold_over_ns;
	stack_over = p->o.wait_over_ns;
	if (p->o.hold_over_ns && (!stack_over || p->o.hold_over_ns < stack_over))
		stack_over = p->o.hold_over_ns;
	p->skel->rodata->stack_over_ns = stack_over;
	p->shift = ring_shift(p->o.ring_mb, p->ncpu);
	p->skel->rodata->slots_shift = p->shift;
	p->st.slots = 1u << p->shift;
	bpf_map__set_max_entries(p->skel->maps.mml_w_ring, (uint32_t)p->ncpu << p->shift);
	if ((err = watch_bpf__load(p->skel))) {
		bpfl_load_error(err, b->err, sizeof(b->err));
		return -1;
	}
	long pg = sysconf(_SC_PAGESIZE);
	p->ring_len = ((((size_t)p->ncpu << p->shift) * sizeof(struct mmlw_rec)) + (size_t)pg - 1) /
		      (size_t)pg * (size_t)pg;
	p->last = calloc((size_t)p->ncpu, sizeof(*p->last));
	p->seg = calloc((size_t)p->ncpu + 1, sizeof(*p->seg));
	if (!p->last || !p->seg) {
		snprintf(b->err, sizeof(b->err), "bpf: out of memory");
		return -1;
	}
	p->ks = ksyms_load(NULL);	/* NULL: stacks as addresses */
	names_init(&p->names, NULL);
	return 0;
}

struct backend *watch_bpf_open(const struct watch_bpf_opts *o, const struct backend_sink *sink,
			       struct mml_meta *meta, char *err, size_t errlen)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct wb *p = calloc(1, sizeof(*p));

	if (!b || !p) {
		free(b);
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->ops = &watch_bpf_ops;
	b->sink = *sink;
	b->meta = meta;
	b->priv = p;
	p->o = *o;
	if (wb_load(b, p)) {
		snprintf(err, errlen, "%s", b->err);
		wb_close(b);
		free(b);
		return NULL;
	}
	return b;
}

uint64_t watch_bpf_delivered(const struct backend *b)
{
	const struct wb *p = b->priv;

	return p ? p->delivered : 0;
}

void watch_bpf_stats(const struct backend *b, struct watch_bpf_stats *st)
{
	const struct wb *p = b->priv;
	uint64_t *v;

	memset(st, 0, sizeof(*st));
	if (!p)
		return;
	*st = p->st;
	v = calloc((size_t)p->ncpu, sizeof(*v));
	for (uint32_t c = 0; v && c < MMLW_C_NR; c++) {
		uint64_t sum = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.mml_w_counters), &c, v))
			continue;
		for (int i = 0; i < p->ncpu; i++)
			sum += v[i];
		switch (c) {
		case MMLW_C_NOTICES: st->notices = sum; break;
		case MMLW_C_STACKS: st->stacks = sum; break;
		case MMLW_C_STACK_FAIL: st->stack_fail = sum; break;
		case MMLW_C_STATE_FULL: st->state_full = sum; break;
		default: break;
		}
	}
	free(v);
	for (int i = 0; i < p->ncpu; i++)
		st->events += head_of(p, i);
}

#endif
