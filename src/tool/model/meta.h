/* SPDX-License-Identifier: MIT */
/*
 * meta.h: what turns ids into words. memcg id -> cgroup path, tid -> (tgid,
 * comm, own cgroup), free-form info (kernel release, clock ...), lost events
 * per CPU. Filled by every source (from MEMCG/TASK/INFO/LOST blocks, from
 * text lines, from the live system at record time) and read by every sink.
 */
#ifndef MML_META_H
#define MML_META_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

struct mml_meta;
struct stacktab;
struct mml_stack;

struct mml_task_info {
	uint32_t tid;
	uint32_t tgid;			/* 0 when unknown (text traces without tgid) */
	char comm[16];
	uint64_t cgroup_id;		/* the task's own cgroup (0: unknown) */
	const char *cgroup;		/* its path, or NULL */
};

struct mml_meta *meta_new(void);
void meta_free(struct mml_meta *m);	/* NULL is fine */

/* memcg id -> path. Adding an id twice keeps the newest path. */
int meta_set_memcg(struct mml_meta *m, uint64_t id, const char *path);
const char *meta_memcg(const struct mml_meta *m, uint64_t id);	/* NULL if unknown */
/*
 * A path the input did not carry, found for id on the running system at
 * report time (cgroupfs_name_now): marked, because the id may have been
 * reused since the trace was taken.
 */
int meta_set_memcg_now(struct mml_meta *m, uint64_t id, const char *path);
int meta_memcg_now(const struct mml_meta *m, uint64_t id);	/* 1: id's path is such a one */
/*
 * The name every sink prints for a memcg id: its path, "/" for the root,
 * "(no memcg)" for 0, or "memcg_id:N" (formatted into buf) when unknown;
 * a path named at report time ends with '*' (formatted into buf).
 * m may be NULL.
 */
const char *meta_memcg_name(const struct mml_meta *m, uint64_t id, char *buf, size_t len);
/* Intern a path (path-era kernels, text traces, the library): returns its id, stable per meta. */
uint64_t meta_intern_memcg(struct mml_meta *m, const char *path);

int meta_set_task(struct mml_meta *m, const struct mml_task_info *t);
/*
 * A later word on a task already known (a later TASK entry, a rename at
 * exec or prctl): its comm replaces the old one, while what it leaves
 * unknown (tgid 0, no cgroup, an empty comm) keeps the earlier value.
 */
int meta_update_task(struct mml_meta *m, const struct mml_task_info *t);
const struct mml_task_info *meta_task(const struct mml_meta *m, uint32_t tid);	/* NULL if unknown */
/* Drop every task (a live sink bounding its memory); tasks are added again as they reappear. */
void meta_forget_tasks(struct mml_meta *m);

int meta_set_info(struct mml_meta *m, const char *key, const char *value);
const char *meta_info(const struct mml_meta *m, const char *key);

/*
 * Kernel call stacks (stacks.h): the table every source fills (STACK
 * blocks, text "<stack trace>" lines, trace.dat kernel_stack events) and
 * every sink reads. Never NULL for a meta from meta_new().
 */
struct stacktab *meta_stacks(struct mml_meta *m);
const struct mml_stack *meta_stack(const struct mml_meta *m, uint32_t id);	/* NULL if unknown */

void meta_add_lost(struct mml_meta *m, uint32_t cpu, uint64_t lost);
uint64_t meta_lost_total(const struct mml_meta *m);

#endif
