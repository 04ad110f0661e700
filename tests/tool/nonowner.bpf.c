// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nonowner.bpf.c: makes the kernel release an mmap_lock from another task
 * (mmap_read_unlock_non_owner), for tests/sh/bpf-nonowner.sh. When the
 * target process (target[0], a tgid) is switched out, bpf_find_vma() on it
 * takes its mmap_lock for read with a trylock; interrupts are off in the
 * scheduler, so the kernel (kernel/bpf/mmap_unlock_work.h) defers the
 * unlock to an irq_work, which runs once they are on again: after the
 * switch, in the next task, through mmap_read_unlock_non_owner(). Both
 * ends fire the mmap_lock tracepoints: acquire_returned by the target's
 * thread, released by another task. calls[0]: the trylocks that succeeded.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define EBUSY	16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

static long found(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(nonowner_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 k = 0;
	__u64 *t = bpf_map_lookup_elem(&target, &k), *n;
	long rc;

	if (!t || !*t || prev->tgid != *t || !prev->mm)
		return 0;
	rc = bpf_find_vma(prev, prev->mm->start_stack, found, NULL, 0);
	n = bpf_map_lookup_elem(&calls, &k);
	if (n && rc != -EBUSY)
		__sync_fetch_and_add(n, 1);
	return 0;
}
