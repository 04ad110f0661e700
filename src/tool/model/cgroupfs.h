/* SPDX-License-Identifier: MIT */
/*
 * cgroupfs.h: names for the kernel's memcg ids and tasks, from the cgroup
 * file system and /proc.
 *
 * A memcg id in the mmap_lock events is cgroup_id(): the kernfs node id,
 * which is the inode number of the cgroup's directory in the hierarchy the
 * memory controller is bound to (cgroup v1 `memory`, else the v2 unified
 * hierarchy). Paths are given relative to that hierarchy's root ("/",
 * "/system.slice/foo"), as the kernel's cgroup_path() prints them.
 */
#ifndef MML_CGROUPFS_H
#define MML_CGROUPFS_H

#include <stdint.h>
#include <sys/types.h>

/* Mount point of the memory hierarchy (v1 memory, else v2); NULL if none. */
const char *cgroupfs_memcg_root(void);
/* 1 when that hierarchy is cgroup v1. */
int cgroupfs_is_v1(void);

/* Call fn for every memcg directory (id, hierarchy-relative path). Returns the count or -1. */
long cgroupfs_walk(void (*fn)(uint64_t id, const char *path, void *arg), void *arg);

/*
 * A user's cgroup argument (an absolute file-system path under the root,
 * or a hierarchy-relative path like /a/b) -> id and relative path.
 * Returns 0, or -1 with errno set.
 */
int cgroupfs_resolve(const char *arg, uint64_t *id, char *rel, size_t rellen);

struct cg_task {
	uint32_t tgid;
	char comm[16];
	uint64_t cgroup_id;	/* its memcg (0: unknown) */
	char cgroup[512];	/* hierarchy-relative path, "" when unknown */
};

/* Read tid's comm, tgid and memory cgroup from /proc. Returns 0 or -1 (gone). */
int cgroupfs_task(pid_t tid, struct cg_task *t);

#endif
