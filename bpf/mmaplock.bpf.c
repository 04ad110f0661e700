// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mmaplock.bpf.c: the BPF back-end's kernel side. Programs on the raw
 * mmap_lock tracepoints pair each task's events into waits and holds as
 * src/tool/pair/pair.c does, and add them to per-(memcg, mode) aggregates
 * and histograms (mmaplock.h). Nothing is sent to user space per event.
 *
 * Tracepoints, two kernel forms (common.bpf.h's MM_LOCK_PROGS; chosen at
 * load from BTF by user space, which turns off the autoload of the other
 * form's programs). tp_btf only: these tracepoints appeared in 5.11,
 * tp_btf in 5.5, and without BTF there is no CO-RE, so a raw_tp variant
 * would never be the one that loads.
 *
 * Every program and map name begins with mml_ (what the tests look for
 * in `bpftool prog` and `bpftool map`).
 *
 * State lives in task storage (freed by the kernel when the task exits):
 * the task's open wait (a task waits for one lock at a time) and its open
 * holds, per mm, in MMLB_HOLDS slots. The memcg id of an mm is the kernel's
 * cgroup_id_from_mm() (common.bpf.h), cached per task for its last mm and
 * per mm in an LRU map, checked against the owner's css_set per acquisition.
 *
 * Releases by another task (mmap_read_unlock_non_owner() from irq_work) pair
 * with no hold of the releasing task: counted (RELEASE_ORPHAN), and they
 * bump the generation of the mm's slot in gens[]. A hold remembers the
 * generation it began in; if it changed by its release, a foreign release
 * may have ended that very hold (or this release is one), so the hold is
 * counted (NON_OWNER) and dropped instead of giving a wrong hold time.
 *
 * by_process (set before load): aggregates keyed by the process too; the
 * entry records the leader's comm when made, so that short-lived processes
 * keep a name. User space takes the entries of dead processes and memcgs
 * out of the maps with their last figures (lookup-and-delete, backend-bpf.c)
 * in the window they die in, so the maps stay bounded under churn.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "mmaplock.h"
#include "mml_hist.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define CONTENDED_NS	10000ull	/* AGG_CONTENDED_NS of the tool */

/* Set by user space before load. */
const volatile __u64 root_memcg_id = 1;	/* mm without owner: root_mem_cgroup */
const volatile __u32 by_process = 0;	/* aggregates per process too */

/* foreign releases per mm hash slot (only ever incremented) */
__u32 gens[MMLB_GENS];

struct hold {
	__u64 mm, ts, memcg;
	__u32 tgid, gen;	/* the acquirer's process (by_process); gens[] then */
	__u8 used, write, read_now, pad[5];
};

struct task_state {
	__u64 wait_mm, wait_ts;
	__u8 waiting, wait_write, contended, pad[5];
	struct mm_memcg_last memcg;		/* the last mm's memcg (memcg_of) */
	struct hold hold[MMLB_HOLDS];
};

MML_TASK_STORAGE(mml_tasks, struct task_state);
/* memcg_of()'s per-mm cache; the sizes of aggs and hists user space may change before load */
MML_MAP(mml_memcgs, BPF_MAP_TYPE_LRU_HASH, __u64, struct mm_memcg_cache, 4096);
MML_MAP(mml_aggs, BPF_MAP_TYPE_PERCPU_HASH, struct mmlb_key, struct mmlb_agg, 1024);
MML_MAP(mml_hists, BPF_MAP_TYPE_PERCPU_HASH, struct mmlb_hkey, struct mmlb_hval, 65536);
MML_MAP(mml_counters, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64, MMLB_C_NR);

static __always_inline void count(__u32 c)
{
	count_in(&mml_counters, c);
}

/* k: the mm's address as a scalar (read from a map value: the verifier
 * refuses arithmetic on the trusted pointer itself) */
static __always_inline __u32 *gen_of(__u64 k)
{
	return &gens[(k >> 8 ^ k >> 18) & (MMLB_GENS - 1)];
}

/* cgroup_id_from_mm(): the task's last answer, the per-mm cache, the walk */
static __always_inline __u64 memcg_of(struct task_state *t, struct mm_struct *mm)
{
	return mm_memcg(&t->memcg, mm, root_memcg_id, &mml_memcgs);
}

/* Out of line: rare (a new group), and it keeps the hot path short. */
static __noinline int agg_new(struct mmlb_key *k)
{
	struct mmlb_agg n = {};

	if (by_process) {
		struct task_struct *t = bpf_get_current_task_btf();

		bpf_probe_read_kernel_str(n.comm, sizeof(n.comm), t->group_leader->comm);
	}
	return bpf_map_update_elem(&mml_aggs, k, &n, BPF_NOEXIST);
}

/* The group's aggregate, made if new; NULL: the map is full (not counted) */
static __always_inline struct mmlb_agg *agg_get(__u64 memcg, __u32 tgid, int write)
{
	struct mmlb_key k = { .memcg = memcg, .tgid = tgid, .write = write };
	struct mmlb_agg *a = bpf_map_lookup_elem(&mml_aggs, &k);

	if (a)
		return a;
	agg_new(&k);
	return bpf_map_lookup_elem(&mml_aggs, &k);
}

/* ... counted when the map is full */
static __always_inline struct mmlb_agg *agg_of(__u64 memcg, __u32 tgid, int write)
{
	struct mmlb_agg *a = agg_get(memcg, tgid, write);

	if (!a)
		count(MMLB_C_AGG_FULL);
	return a;
}

static __always_inline void set_max(__u64 *max, __u64 v)
{
	if (v > *max)
		*max = v;
}

/*
 * Out of line: a bucket seen for the first time. Makes the group's
 * aggregate, then the bucket (zero): every bucket has an aggregate, which
 * user space reaps it with, and the groups stay within the aggregates'
 * map. NULL: no aggregate (the caller's agg_of() counts it) or the
 * buckets' map is full (counted).
 */
static __noinline struct mmlb_hval *bucket_new(struct mmlb_hkey *k)
{
	struct mmlb_hval zero = {};
	struct mmlb_hval *n;

	if (!agg_get(k->memcg, k->tgid, k->write))
		return 0;
	bpf_map_update_elem(&mml_hists, k, &zero, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&mml_hists, k);	/* ours, or another CPU's */
	if (!n)
		count(MMLB_C_HIST_FULL);
	return n;
}

/*
 * A wait (contended: its marks) or hold of v ns into its bucket: the one
 * map lookup of the event. -1: no bucket (map full), the caller adds it to
 * the aggregate instead.
 */
static __always_inline int hist_add(__u64 memcg, __u32 tgid, int write, int kind, __u64 v,
				    int contended)
{
	struct mmlb_hkey k = {
		.memcg = memcg, .tgid = tgid, .bucket = mml_hist_bucket(v), .write = write,
		.kind = kind,
	};
	struct mmlb_hval *n = bpf_map_lookup_elem(&mml_hists, &k);

	if (!n && !(n = bucket_new(&k)))
		return -1;
	n->count += 1;
	n->sum += v;
	set_max(&n->max, v);
	if (kind == MMLB_WAIT) {
		n->contended += contended;
		n->contended_long += v > CONTENDED_NS;
	}
	return 0;
}

static __always_inline struct task_state *state(int create)
{
	return task_state(&mml_tasks, create);
}

static __always_inline int on_start(struct mm_struct *mm, int write)
{
	/* the clock first, as in on_acquire(): the task storage lookup (slow
	 * when it creates the state, or cache-cold) must not shorten the wait */
	__u64 now = bpf_ktime_get_ns();
	struct task_state *s = state(1);

	count(MMLB_C_EVENTS);
	if (!s) {
		count(MMLB_C_STATE_FULL);
		return 0;
	}
	if (s->waiting && s->wait_mm == (__u64)mm)
		count(MMLB_C_RESTART);
	s->waiting = 1;
	s->wait_mm = (__u64)mm;
	s->wait_ts = now;
	s->wait_write = write;
	s->contended = 0;
	return 0;
}

static __always_inline int on_acquire(void *ctx, struct mm_struct *mm, int write, int success)
{
	__u64 now = bpf_ktime_get_ns(), memcg;
	struct task_state *s = state(1);
	struct hold *h = 0, *fr = 0;
	struct mmlb_agg *a;
	int waiting;
	__u32 tgid;

	count(MMLB_C_EVENTS);
	if (!s) {
		count(MMLB_C_STATE_FULL);
		return 0;
	}
	for (int i = 0; i < MMLB_HOLDS; i++) {
		if (s->hold[i].used && s->hold[i].mm == (__u64)mm)
			h = &s->hold[i];
		else if (!s->hold[i].used && !fr)
			fr = &s->hold[i];
	}
	waiting = s->waiting && s->wait_mm == (__u64)mm;
	if (!waiting && h && h->write && !write && success && !h->read_now) {
		/* downgrade: the hold goes on, now shared */
		a = agg_of(h->memcg, h->tgid, 1);
		if (a)
			a->downgrades += 1;
		h->read_now = 1;
		return 0;
	}
	memcg = memcg_of(s, mm);
	tgid = by_process ? (__u32)(bpf_get_current_pid_tgid() >> 32) : 0;
	if (!success) {
		a = agg_of(memcg, tgid, write);
		if (a)
			a->failed += 1;
		if (waiting)
			s->waiting = 0;
		return 0;
	}
	/* the usual case, a wait that ends here: its bucket only */
	if (!waiting || now < s->wait_ts ||
	    hist_add(memcg, tgid, write, MMLB_WAIT, now - s->wait_ts, s->contended)) {
		a = agg_of(memcg, tgid, write);
		if (!waiting) {
			if (a)
				a->trylocks += 1;
		} else if (now < s->wait_ts) {
			count(MMLB_C_NEGATIVE);
		} else if (a) {
			__u64 d = now - s->wait_ts;	/* no bucket: in the aggregate */

			a->wait_count += 1;
			a->wait_sum += d;
			set_max(&a->wait_max, d);
			if (s->contended)
				a->contended += 1;
			if (d > CONTENDED_NS)
				a->contended_long += 1;
		}
		if (a)
			a->acquired += 1;
	}
	if (waiting)
		s->waiting = 0;
	if (h) {
		count(MMLB_C_NESTED);
	} else if (fr) {
		h = fr;
	} else {
		count(MMLB_C_STATE_FULL);
		return 0;
	}
	h->used = 1;
	h->mm = (__u64)mm;
	h->ts = now;
	h->memcg = memcg;
	h->tgid = tgid;
	h->gen = *gen_of(*(volatile __u64 *)&h->mm);
	h->write = write;
	h->read_now = !write;
	return 0;
}

static __always_inline int on_release(__u64 *ctx, struct mm_struct *mm, int write)
{
	__u64 k;

	__u64 now = bpf_ktime_get_ns();
	struct task_state *s = state(0);
	struct mmlb_agg *a;
	struct hold *h = 0;

	count(MMLB_C_EVENTS);
	if (s)
		for (int i = 0; i < MMLB_HOLDS; i++)
			if (s->hold[i].used && s->hold[i].mm == (__u64)mm)
				h = &s->hold[i];
	if (!h) {
		/* mmap_read_unlock_non_owner(), or the hold began before we attached */
		count(MMLB_C_RELEASE_ORPHAN);
		if (!bpf_probe_read_kernel(&k, sizeof(k), ctx))	/* ctx[0]: mm */
			__sync_fetch_and_add(gen_of(k), 1);
		return 0;
	}
	h->used = 0;
	if (h->gen != *gen_of(*(volatile __u64 *)&h->mm)) {
		count(MMLB_C_NON_OWNER);
		return 0;
	}
	if (now < h->ts) {
		count(MMLB_C_NEGATIVE);
		return 0;
	}
	if (!hist_add(h->memcg, h->tgid, h->write, MMLB_HOLD, now - h->ts, 0))
		return 0;
	a = agg_of(h->memcg, h->tgid, h->write);	/* no bucket: in the aggregate */
	if (!a)
		return 0;
	a->hold_count += 1;
	a->hold_sum += now - h->ts;
	set_max(&a->hold_max, now - h->ts);
	return 0;
}

MM_LOCK_PROGS(mml, on_start, on_acquire, on_release)

/* lock:contention_begin (5.19+) inside a task's open wait marks it contended. */
SEC("tp_btf/contention_begin")
int BPF_PROG(mml_contention, void *lock, unsigned int flags)
{
	struct task_state *s;

	/* rwsem waits only, as the tracefs back-end's filter: READ (2) or WRITE (4)
	 * alone; spinning rwlocks add SPIN, percpu-rwsems PERCPU, mutexes neither */
	if (flags != 2 && flags != 4)
		return 0;
	s = state(0);
	count(MMLB_C_CONTENTION);
	if (s && s->waiting)
		s->contended = 1;
	else
		count(MMLB_C_CONTENTION_OTHER);
	return 0;
}
