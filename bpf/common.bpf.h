/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * common.bpf.h: what the two BPF objects (mmaplock.bpf.c, watch.bpf.c)
 * share on the kernel side: map definitions, the per-task state and the
 * per-CPU counters, the memcg id of an mm (the kernel's cgroup_id_from_mm(),
 * the memory cgroup of mm->owner) and the tracepoint programs of the two
 * kernel forms. Included by one .bpf.c each (after vmlinux.h and libbpf's
 * headers); cmake/bpf.cmake rebuilds both objects when it changes.
 *
 * The memcg id is cached per task for its last mm and, where the caller
 * gives one, per mm in an LRU map; every cached answer is checked against
 * the owner's current css_set (two direct loads: mm is a trusted
 * tracepoint argument), so a process moved to another cgroup is seen at
 * once.
 */
#ifndef MML_MM_MEMCG_BPF_H
#define MML_MM_MEMCG_BPF_H

/* A BTF-defined map NAME: TYPE, KEY -> VALUE, MAX entries (libbpf reads it from BTF). */
#define MML_MAP(name, map_type, key_type, value_type, max)	\
struct {							\
	__uint(type, map_type);					\
	__uint(max_entries, max);				\
	__type(key, key_type);					\
	__type(value, value_type);				\
} name SEC(".maps")

/* A task storage map NAME of VALUE_TYPE: the kernel frees an entry when its task exits. */
#define MML_TASK_STORAGE(name, value_type)			\
struct {							\
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);		\
	__uint(map_flags, BPF_F_NO_PREALLOC);			\
	__type(key, int);					\
	__type(value, value_type);				\
} name SEC(".maps")

/* The current task's entry of a task storage map; NULL: none (or, creating, no memory). */
static __always_inline void *task_state(void *map, int create)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return bpf_task_storage_get(map, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* One more of counter c in a BPF_MAP_TYPE_PERCPU_ARRAY of __u64 (per CPU: no atomic needed). */
static __always_inline void count_in(void *map, __u32 c)
{
	__u64 *v = bpf_map_lookup_elem(map, &c);

	if (v)
		*v += 1;
}

/* Flavours for kernels built without CONFIG_MEMCG: checked with CO-RE. */
struct mm_struct___memcg {
	struct task_struct *owner;
} __attribute__((preserve_access_index));

enum cgroup_subsys_id___memcg {
	memory_cgrp_id___memcg = 0,
};

/* A task's last answer (in its task storage). */
struct mm_memcg_last {
	__u64 mm, cset, id;
};

/* An LRU map's value: the answer for an mm, and the css_set it came from. */
struct mm_memcg_cache {
	__u64 cset;
	__u64 id;
};

/*
 * cgroup_id_from_mm(): 0 without memcg, root_id when the mm has no owner
 * (or its css_set no memory css). last: the task's cache; cache: NULL or
 * an LRU hash map __u64 mm -> struct mm_memcg_cache, looked up between
 * the task's answer and the walk (always inline: a NULL cache is no code).
 */
static __always_inline __u64 mm_memcg(struct mm_memcg_last *last, struct mm_struct *mm,
				      __u64 root_id, void *cache)
{
	struct mm_struct___memcg *m = (void *)mm;
	struct task_struct *owner;
	struct mm_memcg_cache *c, n;
	struct css_set *cs;
	struct cgroup_subsys_state *css;
	__u64 key = (__u64)mm;
	int id;

	if (!bpf_core_field_exists(((struct mm_struct___memcg *)0)->owner) ||
	    !bpf_core_enum_value_exists(enum cgroup_subsys_id___memcg, memory_cgrp_id___memcg))
		return 0;
	owner = m->owner;
	if (!owner)
		return root_id;
	n.cset = (__u64)owner->cgroups;
	if (last->mm == key && last->cset == n.cset)
		return last->id;
	c = cache ? bpf_map_lookup_elem(cache, &key) : 0;
	if (c && c->cset == n.cset) {
		n.id = c->id;
	} else {
		id = bpf_core_enum_value(enum cgroup_subsys_id___memcg, memory_cgrp_id___memcg);
		if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
			return 0;
		cs = (struct css_set *)n.cset;
		css = BPF_CORE_READ(cs, subsys[id]);
		/* the memcg's css is its first member: css->cgroup is the memcg's cgroup */
		n.id = css ? BPF_CORE_READ(css, cgroup, kn, id) : root_id;
		if (cache)
			bpf_map_update_elem(cache, &key, &n, BPF_ANY);
	}
	last->mm = key;
	last->cset = n.cset;
	last->id = n.id;
	return n.id;
}

/*
 * The programs of both kernel forms on the three mmap_lock tracepoints,
 * named PREFIX_start, _acquire, _release and the same with _path (the
 * names user space picks the form by, bpf-load.c), calling
 * START(mm, write), ACQUIRE(ctx, mm, write, success) and
 * RELEASE(ctx, mm, write):
 *   6.14+      start_locking(mm, write), acquire_returned(mm, write, success),
 *              released(mm, write)
 *   5.11-6.13  the same with a memcg_path string after mm (ignored: the
 *              memcg id is computed here the same way on both)
 */
#define MM_LOCK_PROGS(prefix, START, ACQUIRE, RELEASE)						\
SEC("tp_btf/mmap_lock_start_locking")								\
int BPF_PROG(prefix##_start, struct mm_struct *mm, bool write)					\
{ return START(mm, write); }									\
SEC("tp_btf/mmap_lock_acquire_returned")							\
int BPF_PROG(prefix##_acquire, struct mm_struct *mm, bool write, bool success)			\
{ return ACQUIRE(ctx, mm, write, success); }							\
SEC("tp_btf/mmap_lock_released")								\
int BPF_PROG(prefix##_release, struct mm_struct *mm, bool write)				\
{ return RELEASE(ctx, mm, write); }								\
SEC("tp_btf/mmap_lock_start_locking")								\
int BPF_PROG(prefix##_start_path, struct mm_struct *mm, const char *path, bool write)		\
{ return START(mm, write); }									\
SEC("tp_btf/mmap_lock_acquire_returned")							\
int BPF_PROG(prefix##_acquire_path, struct mm_struct *mm, const char *path, bool write,	\
	     bool success)										\
{ return ACQUIRE(ctx, mm, write, success); }							\
SEC("tp_btf/mmap_lock_released")								\
int BPF_PROG(prefix##_release_path, struct mm_struct *mm, const char *path, bool write)	\
{ return RELEASE(ctx, mm, write); }

#endif
