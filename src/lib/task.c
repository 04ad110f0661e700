// SPDX-License-Identifier: MIT
/*
 * task.c: the calling thread's struct mml_task and the "kill" that makes
 * killable lock waits return -EINTR (mmaplock/rwsem.h explains the meaning).
 *
 * A kill is one bit in the target thread's futex word, set with an atomic OR
 * and followed by a futex wake of that word: both are async-signal-safe, so
 * mml_kill() may run in another thread or in a signal handler, even one that
 * interrupted the target itself. The target's killable wait loop sees the
 * bit after the wake (or before it sleeps: futex_wait compares the whole
 * word) and abandons the wait (rwsem.c). The bit stays until the target
 * clears it: like a pending fatal signal, it fails every later killable wait.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "task.h"

static __thread struct mml_task mml_current;

void mml_futex_wait(uint32_t *uaddr, uint32_t val)
{
	syscall(SYS_futex, uaddr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void mml_futex_wake(uint32_t *uaddr, int nr)
{
	syscall(SYS_futex, uaddr, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);
}

/*
 * The thread id is read from the kernel (not cached) so that it stays right
 * in a child after fork(); only the debug owner checks and the slow paths
 * call it.
 */
int32_t __mml_gettid(void)
{
	return (int32_t)syscall(SYS_gettid);
}

/*
 * mml_self(): the calling thread's handle, for mml_kill() from elsewhere.
 * Lives in thread-local storage: valid until the thread exits.
 */
struct mml_task *mml_self(void)
{
	struct mml_task *t = &mml_current;

	if (!t->waiter.task) {
		t->tid = __mml_gettid();
		t->waiter.task = t;
	}
	return t;
}

/*
 * mml_kill(): post a kill to t and wake it if it sleeps in a killable wait.
 * Async-signal-safe. A non-killable wait that is woken by it finds the word
 * still without MML_TASK_GRANTED and sleeps again. Returns 0 or -EINVAL.
 */
int mml_kill(struct mml_task *t)
{
	if (!t)
		return -EINVAL;
	__atomic_fetch_or(&t->word, MML_TASK_KILLED, __ATOMIC_RELEASE);
	mml_futex_wake(&t->word, 1);
	return 0;
}

/* mml_killed(): true when the calling thread has a kill pending. */
bool mml_killed(void)
{
	return __atomic_load_n(&mml_self()->word, __ATOMIC_ACQUIRE) & MML_TASK_KILLED;
}

/* mml_kill_clear(): forget the calling thread's pending kill. */
void mml_kill_clear(void)
{
	__atomic_fetch_and(&mml_self()->word, ~MML_TASK_KILLED, __ATOMIC_RELAXED);
}
