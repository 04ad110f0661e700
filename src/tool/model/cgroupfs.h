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
#include "idmap.h"

/* Mount point of the memory hierarchy (v1 memory, else v2); NULL if none. */
const char *cgroupfs_memcg_root(void);
/* 1 when that hierarchy is cgroup v1. */
int cgroupfs_is_v1(void);

/* Call fn for every memcg directory (id, hierarchy-relative path). Returns the count or -1. */
long cgroupfs_walk(void (*fn)(uint64_t id, const char *path, void *arg), void *arg);

/*
 * Whether memcg ids are still in the memory hierarchy, asked many times in
 * one pass (a window, a scrape): each by its directory's file handle
 * (open_by_handle_at(): one system call; needs CAP_DAC_READ_SEARCH and a
 * kernel that opens kernfs by handle), else from one walk of the hierarchy
 * a pass. Zero-initialized, then cgroupfs_ids_init().
 */
struct cgroupfs_ids {
	int rootfd;		/* the hierarchy's root: -1 not opened yet, -2 none */
	int no_fh;		/* file handles refused here: walk */
	int walked;		/* this pass: 0 not yet, 1 walked, -1 the walk failed */
	struct idmap ids;	/* the walk's ids */
};
void cgroupfs_ids_init(struct cgroupfs_ids *c);
/* A new pass: memcgs come and go, so the next question that needs a walk walks again. */
void cgroupfs_ids_pass(struct cgroupfs_ids *c);
/* 1 when memcg id is no longer in the hierarchy; 0 when it is, or nothing can tell. */
int cgroupfs_id_gone(struct cgroupfs_ids *c, uint64_t id);
void cgroupfs_ids_fini(struct cgroupfs_ids *c);

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
