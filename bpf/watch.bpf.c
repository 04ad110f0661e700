// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * watch.bpf.c: the kernel side of `mmaplock watch --backend bpf`. Every
 * mmap_lock event goes into a per-CPU overwrite ring (mmlwatch.h) that user
 * space reads only when something happened; nothing crosses to user space
 * per event. The programs pair each task's own events just enough to see
 * a crossing: a wait longer than wait_over_ns (at acquire_returned) or a
 * hold longer than hold_over_ns (at released) sends a small notice through
 * a BPF ring buffer, on which user space sleeps.
 *
 * Stacks are taken in the kernel only where they matter: the waiter's at
 * the acquire_returned that ends a wait over stack_over_ns, and the
 * holder's at the release of a hold over stack_over_ns (the smaller
 * threshold: a hold that long may be what a slow waiter waited for). A
 * stack record carries the stack map's id; the waiter's comes right before
 * its acquire_returned record (same ts), the holder's carries the ts of
 * the hold's acquire_returned so that user space puts it before that
 * event: in the incident file a stack belongs to the next event of its
 * task on the same mm (pair.h), for a hold its acquire_returned.
 *
 * Kernel forms and the memcg id of an mm as the BPF back-end
 * (common.bpf.h): both forms' programs, user space turns off the
 * autoload of the other; the id cached per task for its last mm only.
 *
 * Every program and map name begins with mml_w (what the tests look for
 * in `bpftool prog`); nothing is pinned.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "mmlwatch.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* mml_format.h's event types and flags (not includable here) */
#define EV_START	1
#define EV_ACQUIRE	2
#define EV_RELEASE	3
#define EV_STACK	6
#define F_WRITE		0x01
#define F_SUCCESS	0x02

/* Set by user space before load. */
const volatile __u64 root_memcg_id = 1;
const volatile __u64 wait_over_ns = 0;		/* 0: waits not watched */
const volatile __u64 hold_over_ns = 0;		/* 0: holds not watched */
const volatile __u64 stack_over_ns = ~0ull;	/* stacks of intervals longer than this */
const volatile __u32 slots_shift = 16;		/* records per CPU: 1 << slots_shift */

struct hold {
	__u64 mm, ts;
	__u8 used, write, pad[6];
};

struct task_state {
	__u64 wait_mm, wait_ts;
	__u8 waiting, pad[7];
	struct mm_memcg_last memcg;
	struct hold hold[MMLW_HOLDS];
};

MML_TASK_STORAGE(mml_w_tasks, struct task_state);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);			/* ncpu << slots_shift, set by user space */
	__type(key, __u32);
	__type(value, struct mmlw_rec);
} mml_w_ring SEC(".maps");

/* per CPU: records ever claimed (mmlw.h); user space reads them through the skeleton's mmap */
__u64 heads[MMLW_MAX_CPUS * MMLW_HEAD_WORDS];

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} mml_w_notices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MMLW_STACK_DEPTH * sizeof(__u64));
} mml_w_stacks SEC(".maps");

MML_MAP(mml_w_comms, BPF_MAP_TYPE_LRU_HASH, __u32, struct mmlw_task, 4096);
MML_MAP(mml_w_counters, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64, MMLW_C_NR);

static __always_inline void count(__u32 c)
{
	count_in(&mml_w_counters, c);
}

static __always_inline __u64 memcg_of(struct task_state *t, struct mm_struct *mm)
{
	return mm_memcg(&t->memcg, mm, root_memcg_id, 0);
}

/* One record into this CPU's stretch of the ring. */
static __always_inline void put(__u64 ts, __u64 mm, __u64 memcg, __u32 tid, int type, int flags)
{
	__u32 cpu = bpf_get_smp_processor_id(), idx;
	volatile struct mmlw_rec *r;
	__u64 n;

	if (cpu >= MMLW_MAX_CPUS)
		return;
	/* atomic: a preempted program on this CPU may be claiming a slot too */
	n = __sync_fetch_and_add(&heads[cpu * MMLW_HEAD_WORDS], 1);
	idx = (cpu << slots_shift) | (__u32)(n & ((1ull << slots_shift) - 1));
	r = bpf_map_lookup_elem(&mml_w_ring, &idx);
	if (!r)
		return;
	r->lap = 0;
	r->ts = ts;
	r->mm = mm;
	r->memcg = memcg;
	r->tid = tid;
	r->type = type;
	r->flags = flags;
	r->lap = (__u16)((n >> slots_shift) + 1);
}

static __always_inline struct task_state *state(int create)
{
	return task_state(&mml_w_tasks, create);
}

static __always_inline void notice(__u64 s, __u64 e, __u64 mm, __u32 tid, int is_hold)
{
	struct mmlw_notice n = { .start_ts = s, .end_ts = e, .mm = mm, .tid = tid, .is_hold = is_hold };

	count(MMLW_C_NOTICES);
	if (bpf_ringbuf_output(&mml_w_notices, &n, sizeof(n), 0))
		count(MMLW_C_NOTICE_LOST);
}

/* The current task's kernel stack as a STACK record stamped ts, and its name. */
static __noinline int take_stack(void *ctx, __u64 ts, __u64 mm, __u32 tid)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct mmlw_task k = {};
	long id = bpf_get_stackid(ctx, &mml_w_stacks, 0);

	if (id < 0) {
		count(MMLW_C_STACK_FAIL);
		return 0;
	}
	count(MMLW_C_STACKS);
	k.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	bpf_probe_read_kernel_str(k.comm, sizeof(k.comm), t->comm);
	bpf_map_update_elem(&mml_w_comms, &tid, &k, BPF_ANY);
	put(ts, mm, (__u64)id, tid, EV_STACK, 0);
	return 0;
}

static __always_inline int on_start(struct mm_struct *mm, int write)
{
	__u64 now = bpf_ktime_get_ns();
	struct task_state *s = state(1);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (s) {
		s->waiting = 1;
		s->wait_mm = (__u64)mm;
		s->wait_ts = now;
	} else {
		count(MMLW_C_STATE_FULL);
	}
	put(now, (__u64)mm, s ? memcg_of(s, mm) : 0, tid, EV_START, write ? F_WRITE : 0);
	return 0;
}

static __always_inline int on_acquire(void *ctx, struct mm_struct *mm, int write, int success)
{
	__u64 now = bpf_ktime_get_ns(), memcg = 0, wait = 0;
	struct task_state *s = state(1);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct hold *fr = 0;
	int waited = 0;

	if (!s) {
		count(MMLW_C_STATE_FULL);
	} else {
		memcg = memcg_of(s, mm);
		if (s->waiting && s->wait_mm == (__u64)mm) {
			s->waiting = 0;
			waited = 1;
			wait = now > s->wait_ts ? now - s->wait_ts : 0;
		}
		if (success) {
			for (int i = 0; i < MMLW_HOLDS; i++) {
				if (s->hold[i].used && s->hold[i].mm == (__u64)mm) {
					/* a downgrade (write -> read) goes on: the hold keeps its start */
					if (!waited && s->hold[i].write && !write)
						goto held;
					fr = &s->hold[i];
					break;
				}
				if (!s->hold[i].used && !fr)
					fr = &s->hold[i];
			}
			if (fr) {
				fr->used = 1;
				fr->mm = (__u64)mm;
				fr->ts = now;
				fr->write = write;
			} else {
				count(MMLW_C_STATE_FULL);
			}
		}
	}
held:
	if (waited && wait > stack_over_ns)
		take_stack(ctx, now, (__u64)mm, tid);
	put(now, (__u64)mm, memcg, tid, EV_ACQUIRE, (write ? F_WRITE : 0) | (success ? F_SUCCESS : 0));
	if (waited && wait_over_ns && wait > wait_over_ns)
		notice(now - wait, now, (__u64)mm, tid, 0);
	return 0;
}

static __always_inline int on_release(void *ctx, struct mm_struct *mm, int write)
{
	__u64 now = bpf_ktime_get_ns(), start = 0, memcg = 0;
	struct task_state *s = state(0);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (s) {
		memcg = memcg_of(s, mm);
		for (int i = 0; i < MMLW_HOLDS; i++)
			if (s->hold[i].used && s->hold[i].mm == (__u64)mm) {
				s->hold[i].used = 0;
				start = s->hold[i].ts;
				break;
			}
	}
	if (start && now > start && now - start > stack_over_ns)
		take_stack(ctx, start, (__u64)mm, tid);
	put(now, (__u64)mm, memcg, tid, EV_RELEASE, write ? F_WRITE : 0);
	if (start && hold_over_ns && now > start && now - start > hold_over_ns)
		notice(start, now, (__u64)mm, tid, 1);
	return 0;
}

MM_LOCK_PROGS(mml_w, on_start, on_acquire, on_release)
