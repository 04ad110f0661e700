/* SPDX-License-Identifier: MIT */
/*
 * mmaplock/rwsem.h: the reader-writer semaphore under mmap_lock, with the
 * meaning of the kernel's rwsem (kernel/locking/rwsem.c), in user space.
 *
 * Many readers or one writer. Waiters queue in FIFO order and are handed the
 * lock by whoever releases it: a writer at the head of the queue gets it
 * alone, a run of readers at the head gets it together. Once anyone waits,
 * new arrivals queue behind them (the reader fast path fails while the
 * WAITERS bit is set), so a waiting writer stops new readers and is never
 * starved. Before queueing a thread spins a short, bounded while, and only
 * while the queue is empty; then it sleeps on a futex word of its own.
 *
 * The lock word (struct mml_rwsem.count):
 *
 *	bit 0		MML_RWSEM_WRITER	a writer holds the lock
 *	bit 1		MML_RWSEM_WAITERS	the wait queue is not empty
 *	bits 8..63	readers			number of read holds (x MML_RWSEM_READER)
 *
 * Uncontended fast paths are inline and cost one atomic RMW each:
 * down_read/down_read_trylock = one compare-and-swap adding a reader while
 * neither WRITER nor WAITERS is set; up_read = one fetch_sub; down_write =
 * one compare-and-swap 0 -> WRITER; up_write = one fetch_sub. Anything else
 * goes out of line to src/lib/rwsem.c. Acquires use acquire ordering and
 * releases release ordering on the lock word (or on the waiter's own word
 * when the lock is handed over), so the critical sections are ordered and
 * ThreadSanitizer sees the happens-before edges.
 *
 * Killable waits: user space has no fatal signals, so mmaplock defines a
 * per-thread "kill". Every thread has a struct mml_task (mml_self());
 * mml_kill(task) posts a kill to it, from any thread or from a signal
 * handler (it is async-signal-safe). While a kill is pending, every killable
 * lock call of that thread that would have to queue (sleep) returns -EINTR,
 * and a killable wait in progress is interrupted and leaves the queue (if it
 * had just been handed the lock it keeps it and returns 0, as the kernel
 * does). A killable call that gets the lock without queueing (at once, or
 * within its short spin) succeeds even with a kill pending, like the
 * kernel's fast path and optimistic spin. The kill stays pending
 * until the thread calls mml_kill_clear(). Non-killable waits ignore kills.
 *
 * Misuse: in debug builds (MMAPLOCK_DEBUG defined, the Debug/sanitizer
 * trees) unlocking an unheld lock, read-unlocking a write hold,
 * write-unlocking a read hold or another thread's write hold, and failed
 * assertions abort with "mmaplock: <call>: <what>" on stderr, like lockdep.
 * The write owner (thread id) is tracked for that. In release builds there
 * are no checks: the assert functions do nothing and misuse is undefined
 * (the lock word is corrupted). Debug and release builds share one layout.
 */
#ifndef MMAPLOCK_RWSEM_H
#define MMAPLOCK_RWSEM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MMAPLOCK_BUILDING_LIB)
#define MML_RWSEM_API __attribute__((visibility("default")))
#else
#define MML_RWSEM_API
#endif

#define MML_RWSEM_WRITER	1UL
#define MML_RWSEM_WAITERS	2UL
#define MML_RWSEM_READER	256UL	/* one read hold */
#define MML_RWSEM_READ_MASK	(~255UL)

struct mml_waiter;

/* The reader-writer semaphore. Initialise with mml_rwsem_init(). */
struct mml_rwsem {
	unsigned long count;		/* lock word, see above */
	uint32_t wait_lock;		/* futex mutex guarding the queue: 0 free, 1 held, 2 contended */
	int32_t owner;			/* debug builds: tid of the write holder, 0 if none */
	struct mml_waiter *head;	/* oldest waiter (guarded by wait_lock) */
	struct mml_waiter *tail;	/* newest waiter (guarded by wait_lock) */
};

/* A thread, as a target for mml_kill(). Opaque. */
struct mml_task;

/* Initialise (or reset) an unlocked semaphore with no waiters. */
MML_RWSEM_API void mml_rwsem_init(struct mml_rwsem *sem);

/* Out-of-line halves (src/lib/rwsem.c); call the inline functions below. */
MML_RWSEM_API int __mml_down_read_slow(struct mml_rwsem *sem, bool killable);
MML_RWSEM_API int __mml_down_write_slow(struct mml_rwsem *sem, bool killable);
MML_RWSEM_API void __mml_rwsem_wake(struct mml_rwsem *sem);
MML_RWSEM_API void __mml_downgrade_wake(struct mml_rwsem *sem);
MML_RWSEM_API void __mml_rwsem_misuse(const struct mml_rwsem *sem, const char *who,
				      const char *what);
MML_RWSEM_API int32_t __mml_gettid(void);

/*
 * Debug-build checks and owner tracking. `who` is the caller's name (the
 * mml_* macros below pass __func__, so a failure inside mmap_read_unlock()
 * says "mmap_read_unlock").
 */
#ifdef MMAPLOCK_DEBUG
static inline void __mml_set_owner(struct mml_rwsem *sem)
{
	__atomic_store_n(&sem->owner, __mml_gettid(), __ATOMIC_RELAXED);
}

static inline void __mml_clear_owner(struct mml_rwsem *sem)
{
	__atomic_store_n(&sem->owner, 0, __ATOMIC_RELAXED);
}

static inline void __mml_check_up_read(struct mml_rwsem *sem, const char *who)
{
	unsigned long c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);

	if (c & MML_RWSEM_WRITER)
		__mml_rwsem_misuse(sem, who, "read-unlock of a write hold");
	if (!(c & MML_RWSEM_READ_MASK))
		__mml_rwsem_misuse(sem, who, "unlock of an unheld lock");
}

static inline void __mml_check_up_write(struct mml_rwsem *sem, const char *who)
{
	unsigned long c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);

	if (!(c & MML_RWSEM_WRITER))
		__mml_rwsem_misuse(sem, who, (c & MML_RWSEM_READ_MASK) ?
				   "write-unlock of a read hold" : "unlock of an unheld lock");
	if (__atomic_load_n(&sem->owner, __ATOMIC_RELAXED) != __mml_gettid())
		__mml_rwsem_misuse(sem, who, "write-unlock by a thread that does not hold it");
}
#else
static inline void __mml_set_owner(struct mml_rwsem *sem) { (void)sem; }
static inline void __mml_clear_owner(struct mml_rwsem *sem) { (void)sem; }
static inline void __mml_check_up_read(struct mml_rwsem *sem, const char *who)
{
	(void)sem;
	(void)who;
}
static inline void __mml_check_up_write(struct mml_rwsem *sem, const char *who)
{
	(void)sem;
	(void)who;
}
#endif

/* One CAS adding a reader, only while no writer holds and nobody waits. */
static inline bool __mml_read_trylock(struct mml_rwsem *sem)
{
	unsigned long c = __atomic_load_n(&sem->count, __ATOMIC_RELAXED);

	while (!(c & (MML_RWSEM_WRITER | MML_RWSEM_WAITERS))) {
		if (__atomic_compare_exchange_n(&sem->count, &c, c + MML_RWSEM_READER, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/* One CAS 0 -> WRITER: free, and nobody waiting (waiters go first). */
static inline bool __mml_write_trylock(struct mml_rwsem *sem)
{
	unsigned long c = 0;

	if (__atomic_compare_exchange_n(&sem->count, &c, MML_RWSEM_WRITER, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		__mml_set_owner(sem);
		return true;
	}
	return false;
}

/* Take a read hold, sleeping as long as needed. */
static inline void mml_down_read(struct mml_rwsem *sem)
{
	if (__builtin_expect(!__mml_read_trylock(sem), 0))
		__mml_down_read_slow(sem, false);
}

/*
 * Take a read hold; returns 0, or -EINTR (4) when the calling thread has a
 * kill pending (mml_kill()) and the lock could not be taken without queueing,
 * or a kill arrived during the wait.
 */
static inline int mml_down_read_killable(struct mml_rwsem *sem)
{
	if (__builtin_expect(__mml_read_trylock(sem), 1))
		return 0;
	return __mml_down_read_slow(sem, true);
}

/*
 * Take a read hold if that needs no wait: fails when a writer holds the lock
 * or anyone is queued (as the kernel's down_read_trylock()).
 */
static inline bool mml_down_read_trylock(struct mml_rwsem *sem)
{
	return __mml_read_trylock(sem);
}

/* Release a read hold; the last reader out hands the lock to the waiters. */
static inline void __mml_up_read(struct mml_rwsem *sem, const char *who)
{
	unsigned long c;

	__mml_check_up_read(sem, who);
	c = __atomic_sub_fetch(&sem->count, MML_RWSEM_READER, __ATOMIC_RELEASE);
	if (__builtin_expect((c & (MML_RWSEM_READ_MASK | MML_RWSEM_WAITERS)) ==
			     MML_RWSEM_WAITERS, 0))
		__mml_rwsem_wake(sem);
}
#define mml_up_read(sem) __mml_up_read((sem), __func__)

/* Release a read hold taken by another thread (same as mml_up_read()). */
#define mml_up_read_non_owner(sem) __mml_up_read((sem), __func__)

/* Take the write hold, sleeping as long as needed. */
static inline void mml_down_write(struct mml_rwsem *sem)
{
	if (__builtin_expect(!__mml_write_trylock(sem), 0))
		__mml_down_write_slow(sem, false);
}

/* As mml_down_write(); subclass is lockdep's nesting annotation, unused here. */
static inline void mml_down_write_nested(struct mml_rwsem *sem, int subclass)
{
	(void)subclass;
	mml_down_write(sem);
}

/* Take the write hold; returns 0 or -EINTR, as mml_down_read_killable(). */
static inline int mml_down_write_killable(struct mml_rwsem *sem)
{
	if (__builtin_expect(__mml_write_trylock(sem), 1))
		return 0;
	return __mml_down_write_slow(sem, true);
}

/* Take the write hold if the lock is free and nobody waits. */
static inline bool mml_down_write_trylock(struct mml_rwsem *sem)
{
	return __mml_write_trylock(sem);
}

/* Release the write hold; hands the lock to the head of the queue, if any. */
static inline void __mml_up_write(struct mml_rwsem *sem, const char *who)
{
	unsigned long c;

	__mml_check_up_write(sem, who);
	__mml_clear_owner(sem);
	c = __atomic_fetch_sub(&sem->count, MML_RWSEM_WRITER, __ATOMIC_RELEASE);
	if (__builtin_expect(c & MML_RWSEM_WAITERS, 0))
		__mml_rwsem_wake(sem);
}
#define mml_up_write(sem) __mml_up_write((sem), __func__)

/*
 * Turn the caller's write hold into a read hold, atomically: no writer can
 * get in between. Readers queued at the head get in at once; a writer at the
 * head keeps waiting (and still blocks the readers behind it).
 */
static inline void __mml_downgrade_write(struct mml_rwsem *sem, const char *who)
{
	unsigned long c;

	__mml_check_up_write(sem, who);
	__mml_clear_owner(sem);
	/* WRITER (1) -> one reader (256) in a single RMW; release: the write
	 * section happens-before anything the readers let in below do. */
	c = __atomic_fetch_add(&sem->count, MML_RWSEM_READER - MML_RWSEM_WRITER,
			       __ATOMIC_ACQ_REL);
	if (__builtin_expect(c & MML_RWSEM_WAITERS, 0))
		__mml_downgrade_wake(sem);
}
#define mml_downgrade_write(sem) __mml_downgrade_write((sem), __func__)

/* True when someone is queued for the lock (a snapshot). */
static inline bool mml_rwsem_is_contended(struct mml_rwsem *sem)
{
	return __atomic_load_n(&sem->count, __ATOMIC_RELAXED) & MML_RWSEM_WAITERS;
}

/* True when the lock is held, for read or write (a snapshot). */
static inline bool mml_rwsem_is_locked(struct mml_rwsem *sem)
{
	return __atomic_load_n(&sem->count, __ATOMIC_RELAXED) &
	       (MML_RWSEM_WRITER | MML_RWSEM_READ_MASK);
}

/*
 * Debug builds: abort with "mmaplock: <func>: lock not held" unless the lock
 * is held (read or write; read holds are not tracked per thread, so any
 * reader satisfies it). Release builds: no-op.
 */
MML_RWSEM_API void mml_rwsem_assert_held(const struct mml_rwsem *sem, const char *func);

/*
 * Debug builds: abort unless the calling thread holds the write lock.
 * Release builds: no-op.
 */
MML_RWSEM_API void mml_rwsem_assert_write_held(const struct mml_rwsem *sem, const char *func);

/* ---------------------------------------------------------------- kills */

/* The calling thread's handle; valid until the thread exits. Never NULL. */
MML_RWSEM_API struct mml_task *mml_self(void);

/*
 * Post a kill to task t: its current killable wait, if any, and every later
 * killable wait returns -EINTR until t calls mml_kill_clear(). Safe from any
 * thread and from signal handlers (one atomic OR and one futex wake). t must
 * not have exited. Returns 0, or -EINVAL (22) when t is NULL.
 */
MML_RWSEM_API int mml_kill(struct mml_task *t);

/* True when the calling thread has a kill pending. */
MML_RWSEM_API bool mml_killed(void);

/* Drop the calling thread's pending kill, if any. */
MML_RWSEM_API void mml_kill_clear(void);

#ifdef __cplusplus
}
#endif
#endif /* MMAPLOCK_RWSEM_H */
