/* SPDX-License-Identifier: MIT */
/*
 * task.h (private): the per-thread record behind struct mml_task, shared by
 * the rwsem slow paths (rwsem.c) and the kill API (task.c).
 *
 * Each thread owns one struct mml_task in thread-local storage. It holds the
 * thread's queue node (a thread waits for at most one lock at a time) and
 * one 32-bit futex word that carries both "you have been handed the lock"
 * (MML_TASK_GRANTED, set by the waker) and "a kill is pending"
 * (MML_TASK_KILLED, set by mml_kill()). Because both live in the word the
 * waiter sleeps on, a grant or a kill posted between the waiter's last look
 * and its futex_wait() changes the word and makes futex_wait() return at
 * once: neither can be lost.
 */
#ifndef MML_TASK_H
#define MML_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <mmaplock/rwsem.h>

#define MML_TASK_GRANTED 1u	/* the waker handed this waiter the lock */
#define MML_TASK_KILLED  2u	/* a kill is pending (mml_kill()) */

/* A queue node; fields guarded by the rwsem's wait_lock while queued. */
struct mml_waiter {
	struct mml_waiter *next, *prev;
	struct mml_task *task;
	bool write;			/* waiting for the write hold */
};

struct mml_task {
	uint32_t word;			/* futex word: MML_TASK_GRANTED | MML_TASK_KILLED */
	int32_t tid;			/* kernel thread id */
	struct mml_waiter waiter;	/* this thread's queue node */
};

/* futex(2) wrappers: private futexes, errors ignored (callers loop). */
void mml_futex_wait(uint32_t *uaddr, uint32_t val);
void mml_futex_wake(uint32_t *uaddr, int nr);

#endif /* MML_TASK_H */
