// SPDX-License-Identifier: MIT
/*
 * rwsem.c: the slow paths of the reader-writer semaphore (mmaplock/rwsem.h
 * holds the lock word layout and the inline fast paths).
 *
 * A thread that misses the fast path first spins a bounded number of times,
 * retrying the fast path, but only while nobody is queued (so spinning never
 * overtakes a waiter). Then it takes wait_lock (a small futex mutex that
 * guards the queue), appends its node, sets WAITERS, tries to hand the lock
 * to the head of the queue (itself, if the lock went free meanwhile), drops
 * wait_lock and sleeps on its own futex word until it is handed the lock.
 *
 * Hand-off: whoever changes the lock so that the head of the queue could
 * run (the last reader out, a writer out, a downgrade, a waiter that leaves)
 * calls grant_locked() under wait_lock. It takes the lock ON BEHALF of the
 * head: WRITER for a writer, one reader bias per reader for the run of
 * readers at the head, then sets MML_TASK_GRANTED in their words and wakes
 * them. A woken waiter already owns the lock; nobody can slip in between,
 * which gives the FIFO order and writer fairness.
 *
 * Why no wake-up is lost. WAITERS is set (fetch_or) and cleared only under
 * wait_lock, and is set exactly while the queue is non-empty. While it is
 * set the fast paths cannot acquire (both require it clear), so only
 * grant_locked() adds holders. The releasing RMW on the lock word and the
 * enqueuer's fetch_or(WAITERS) are totally ordered: if the release comes
 * first, the enqueuer's grant_locked() (run right after, under wait_lock)
 * sees the free lock and grants the head; if the fetch_or comes first, the
 * release sees WAITERS and calls __mml_rwsem_wake(), which takes wait_lock
 * after the enqueuer dropped it and grants. The waiter's futex word changes
 * before its futex wake, and futex_wait() compares the word, so a grant made
 * between the waiter's check and its sleep makes the sleep return at once.
 *
 * Memory ordering: the releaser's RMW on the lock word is a release; the
 * granter's RMW that takes the lock for the waiter is an acquire (it reads
 * from that release); the granter's fetch_or(GRANTED) is a release and the
 * waiter reads its word with acquire. So each critical section
 * happens-before the next one, through the granter, and ThreadSanitizer
 * sees every edge (it does not understand futexes, only the atomics).
 *
 * Node lifetime: a node lives in its thread's TLS (task.h). The waker reads
 * a node only under wait_lock, and the waiter changes its node only under
 * wait_lock, so once the waker has set GRANTED it does not touch the node
 * again except for futex_wake() on the word's address. If the waiter has
 * already woken, returned, and even started a new wait, that wake is
 * spurious and every wait loops on the word; if the thread has exited, the
 * futex call fails with EFAULT or wakes nobody.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmaplock/rwsem.h>
#include "task.h"

/* Bounded spin before queueing: iterations of one pause each. */
#define MML_SPIN_LOOPS		200
/* Bounded spin on wait_lock before sleeping on it. */
#define MML_WAIT_LOCK_SPIN	100
/* Wakes collected under wait_lock and issued after dropping it. */
#define MML_WAKE_BATCH		16

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ---------------------------------------------------------------- wait_lock */

/*
 * wait_lock: 0 free, 1 held, 2 held and someone may sleep on it (the
 * classic three-state futex mutex). Held only for queue surgery.
 */
static void wait_lock_acquire(struct mml_rwsem *sem)
{
	uint32_t c = 0;
	int i;

	for (i = 0; i < MML_WAIT_LOCK_SPIN; i++) {
		/* test before test-and-set: spin on a shared line, not on RMWs */
		c = __atomic_load_n(&sem->wait_lock, __ATOMIC_RELAXED);
		if (c == 0 && __atomic_compare_exchange_n(&sem->wait_lock, &c, 1, false,
							  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		cpu_relax();
	}
	/* Mark contended; whoever sees 2 on unlock wakes one sleeper. */
	while (__atomic_exchange_n(&sem->wait_lock, 2, __ATOMIC_ACQUIRE) != 0)
		mml_futex_wait(&sem->wait_lock, 2);
}

static void wait_lock_release(struct mml_rwsem *sem)
{
	if (__atomic_exchange_n(&sem->wait_lock, 0, __ATOMIC_RELEASE) == 2)
		mml_futex_wake(&sem->wait_lock, 1);
}

/* ---------------------------------------------------------------- wake queue */

struct wake_q {
	uint32_t *words[MML_WAKE_BATCH];
	int n;
};

static void wake_q_flush(struct wake_q *wq)
{
	int i;

	for (i = 0; i < wq->n; i++)
		mml_futex_wake(wq->words[i], 1);
	wq->n = 0;
}

/*
 * Hand the lock to w (the lock word is already changed for it): dequeued by
 * the caller, so after the fetch_or below the node belongs to its owner.
 */
static void grant(struct wake_q *wq, struct mml_waiter *w)
{
	uint32_t *word = &w->task->word;

	__atomic_fetch_or(word, MML_TASK_GRANTED, __ATOMIC_RELEASE);
	if (wq->n == MML_WAKE_BATCH)
		wake_q_flush(wq);
	wq->words[wq->n++] = word;
}

/* ---------------------------------------------------------------- queue */

static void enqueue(struct mml_rwsem *sem, struct mml_waiter *w)
{
	w->next = NULL;
	w->prev = sem->tail;
	if (sem->tail)
		sem->tail->next = w;
	else
		sem->head = w;
	sem->tail = w;
}

static void dequeue(struct mml_rwsem *sem, struct mml_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		sem->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		sem->tail = w->prev;
	w->next = w->prev = NULL;
}

/*
 * grant_locked(): with wait_lock held, hand the lock to as many waiters at
 * the head as it now allows: one writer if the lock is free, or every
 * reader up to the first writer if no writer holds it. Clears WAITERS in the
 * same RMW when that empties the queue.
 *
 * Races: nobody else can ADD holders meanwhile (WAITERS is set, we hold
 * wait_lock), but holders may leave at any time (fast-path unlocks), so the
 * writer case uses a CAS loop; a reader leaving cannot invalidate the
 * readers' case (it only needs WRITER clear, and WRITER cannot be set by
 * anyone but us while WAITERS is set).
 */
static void grant_locked(struct mml_rwsem *sem, struct wake_q *wq)
{
	struct mml_waiter *w = sem->head, *next;
	unsigned long c, add;

	if (!w)
		return;
	c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);
	if (w->write) {
		do {
			if (c & (MML_RWSEM_WRITER | MML_RWSEM_READ_MASK))
				return;
			add = MML_RWSEM_WRITER;
			if (!w->next)
				add -= MML_RWSEM_WAITERS;	/* last waiter: clear WAITERS */
		} while (!__atomic_compare_exchange_n(&sem->count, &c, c + add, true,
						      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
#ifdef MMAPLOCK_DEBUG
		__atomic_store_n(&sem->owner, w->task->tid, __ATOMIC_RELAXED);
#endif
		dequeue(sem, w);
		grant(wq, w);
		return;
	}

	if (c & MML_RWSEM_WRITER)
		return;
	add = 0;
	for (; w && !w->write; w = w->next)
		add += MML_RWSEM_READER;
	if (!w)
		add -= MML_RWSEM_WAITERS;		/* all readers: the queue empties */
	__atomic_fetch_add(&sem->count, add, __ATOMIC_ACQ_REL);
	for (w = sem->head; w && !w->write; w = next) {
		next = w->next;
		dequeue(sem, w);
		grant(wq, w);
	}
}

/* ---------------------------------------------------------------- slow paths */

/*
 * spin_try(): spin a bounded while, retrying the fast path, as long as nobody
 * queues. Returns true with the lock taken. A reader needs WRITER clear and
 * adds one read hold; a writer needs the word to be 0 and sets WRITER.
 * Always inlined with a constant @write, so each caller keeps a loop of its
 * own with the other side's test folded away.
 */
static inline __attribute__((always_inline)) bool spin_try(struct mml_rwsem *sem, bool write)
{
	unsigned long c;
	int i;

	for (i = 0; i < MML_SPIN_LOOPS; i++) {
		c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);
		if (c & MML_RWSEM_WAITERS)
			return false;
		if (write ? c == 0 : !(c & MML_RWSEM_WRITER)) {
			if (__atomic_compare_exchange_n(&sem->count, &c,
							write ? MML_RWSEM_WRITER : c + MML_RWSEM_READER,
							false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return true;
			continue;
		}
		cpu_relax();
	}
	return false;
}

/*
 * A killed waiter leaves: unless it was granted just before (then it keeps
 * the lock and returns 0), unlink it and let grant_locked() hand the lock to
 * whoever is now at the head: a writer that leaves may unblock the readers
 * behind it, a reader that leaves may unblock a writer.
 */
static int abandon(struct mml_rwsem *sem, struct mml_task *t)
{
	struct wake_q wq = { .n = 0 };
	int ret = -EINTR;

	wait_lock_acquire(sem);
	if (__atomic_load_n(&t->word, __ATOMIC_ACQUIRE) & MML_TASK_GRANTED) {
		ret = 0;
	} else {
		dequeue(sem, &t->waiter);
		if (!sem->head)
			__atomic_fetch_and(&sem->count, ~MML_RWSEM_WAITERS, __ATOMIC_RELAXED);
		else
			grant_locked(sem, &wq);
	}
	wait_lock_release(sem);
	wake_q_flush(&wq);
	return ret;
}

/* Queue the caller and sleep until it is handed the lock (or killed). */
static int queue_and_wait(struct mml_rwsem *sem, bool write, bool killable)
{
	struct mml_task *t = mml_self();
	struct wake_q wq = { .n = 0 };
	uint32_t w;
	int i;

	if (killable && (__atomic_load_n(&t->word, __ATOMIC_ACQUIRE) & MML_TASK_KILLED))
		return -EINTR;

	wait_lock_acquire(sem);
	/* Node and GRANTED only change under wait_lock (see top of file). */
	__atomic_fetch_and(&t->word, ~MML_TASK_GRANTED, __ATOMIC_RELAXED);
	t->waiter.write = write;
	enqueue(sem, &t->waiter);
	__atomic_fetch_or(&sem->count, MML_RWSEM_WAITERS, __ATOMIC_ACQ_REL);
	grant_locked(sem, &wq);		/* the lock may have gone free meanwhile */
	wait_lock_release(sem);
	wake_q_flush(&wq);

	for (i = 0;; i++) {
		w = __atomic_load_n(&t->word, __ATOMIC_ACQUIRE);
		if (w & MML_TASK_GRANTED)
			return 0;
		if (killable && (w & MML_TASK_KILLED))
			return abandon(sem, t);
		if (i < MML_SPIN_LOOPS) {
			cpu_relax();	/* a short look before sleeping: hand-offs are quick */
			continue;
		}
		mml_futex_wait(&t->word, w);
	}
}

/*
 * __mml_down_read_slow(): the read fast path failed (a writer holds the lock,
 * or someone waits). Returns 0 with a read hold, or -EINTR (killable only).
 */
int __mml_down_read_slow(struct mml_rwsem *sem, bool killable)
{
	if (spin_try(sem, false))
		return 0;
	return queue_and_wait(sem, false, killable);
}

/*
 * __mml_down_write_slow(): the write fast path failed. Returns 0 with the
 * write hold, or -EINTR (killable only).
 */
int __mml_down_write_slow(struct mml_rwsem *sem, bool killable)
{
	int ret;

	if (spin_try(sem, true)) {
		__mml_set_owner(sem);
		return 0;
	}
	ret = queue_and_wait(sem, true, killable);
	/* On a grant, grant_locked() recorded the owner (debug builds). */
	return ret;
}

/*
 * __mml_rwsem_wake(): an unlock left the lock free (or read-held only) with
 * WAITERS set: hand it on. Spurious calls are harmless (grant_locked() checks).
 */
void __mml_rwsem_wake(struct mml_rwsem *sem)
{
	struct wake_q wq = { .n = 0 };

	wait_lock_acquire(sem);
	grant_locked(sem, &wq);
	wait_lock_release(sem);
	wake_q_flush(&wq);
}

/* __mml_downgrade_wake(): after a downgrade, let the readers at the head in. */
void __mml_downgrade_wake(struct mml_rwsem *sem)
{
	__mml_rwsem_wake(sem);
}

/* mml_rwsem_init(): an unlocked semaphore with an empty queue. */
void mml_rwsem_init(struct mml_rwsem *sem)
{
	sem->count = 0;
	sem->wait_lock = 0;
	sem->owner = 0;
	sem->head = sem->tail = NULL;
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------- debug */

/*
 * __mml_rwsem_misuse(): the lockdep-like report. Debug builds only call it;
 * it prints "mmaplock: <who>: <what> (lock <addr>)" and aborts.
 */
void __mml_rwsem_misuse(const struct mml_rwsem *sem, const char *who, const char *what)
{
	fprintf(stderr, "mmaplock: %s: %s (lock %p)\n", who, what, (const void *)sem);
	abort();
}

/*
 * mml_rwsem_assert_held(): debug builds abort unless the lock is held (any
 * read hold counts: read holds are not tracked per thread); release builds
 * do nothing. func names the caller in the message.
 */
void mml_rwsem_assert_held(const struct mml_rwsem *sem, const char *func)
{
#ifdef MMAPLOCK_DEBUG
	unsigned long c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);

	if (!(c & (MML_RWSEM_WRITER | MML_RWSEM_READ_MASK)))
		__mml_rwsem_misuse(sem, func, "assertion failed: lock not held");
#else
	(void)sem;
	(void)func;
#endif
}

/*
 * mml_rwsem_assert_write_held(): debug builds abort unless the calling
 * thread holds the write lock; release builds do nothing.
 */
void mml_rwsem_assert_write_held(const struct mml_rwsem *sem, const char *func)
{
#ifdef MMAPLOCK_DEBUG
	unsigned long c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);

	if (!(c & MML_RWSEM_WRITER))
		__mml_rwsem_misuse(sem, func, "assertion failed: lock not write-held");
	if (__atomic_load_n(&sem->owner, __ATOMIC_RELAXED) != __mml_gettid())
		__mml_rwsem_misuse(sem, func,
				   "assertion failed: write-held by another thread");
#else
	(void)sem;
	(void)func;
#endif
}
