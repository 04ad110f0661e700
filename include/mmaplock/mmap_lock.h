/* SPDX-License-Identifier: MIT */
/*
 * mmaplock/mmap_lock.h: the address-space lock API of the Linux kernel
 * (include/linux/mmap_lock.h), in user space.
 *
 * Every function here is inline and does two things: take or release the
 * reader-writer semaphore (mmaplock/rwsem.h) and, around it, fire the three
 * mmap_lock tracepoints exactly where the kernel fires them. The inline part
 * only tests one "enabled" word per event (a relaxed load, predicted not
 * taken); the work of tracing lives out of line in __mmap_lock_do_trace_*()
 * (src/lib/mmap_lock.c), so this header never includes the tracing machinery.
 * That is the decoupling of the kernel's mm/mmap_lock.c.
 *
 * Built with MMAPLOCK_TRACING=0 (cmake -DMMAPLOCK_TRACING=OFF), every hook is
 * an empty inline function and costs nothing.
 */
#ifndef MMAPLOCK_MMAP_LOCK_H
#define MMAPLOCK_MMAP_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <mmaplock/config.h>
#include <mmaplock/rwsem.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MMAPLOCK_BUILDING_LIB)
#define MMAPLOCK_API __attribute__((visibility("default")))
#else
#define MMAPLOCK_API
#endif

/*
 * struct mm_struct: one address space. It holds the lock and what the events
 * need; user code embeds or allocates it and calls mmap_init_lock() first.
 */
struct mm_struct {
	struct mml_rwsem mmap_lock;	/* the lock itself */
	uint32_t mml_magic;		/* MML_MM_MAGIC once initialised */
	int32_t owner_pid;		/* process that owns the address space */
};

#define MML_MM_MAGIC 0x6d6d6c6bu	/* "mmlk" */

/* Tracepoint ids, in the order of the kernel's events. */
enum mmap_lock_event {
	MMAP_LOCK_START_LOCKING = 0,
	MMAP_LOCK_ACQUIRE_RETURNED = 1,
	MMAP_LOCK_RELEASED = 2,
	MMAP_LOCK_NR_EVENTS = 3,
};

#if MMAPLOCK_TRACING
/*
 * __mmap_lock_tp_enabled[ev]: the number of probes registered on event ev
 * (the recorder and the text listener are probes too). Written only by
 * registration (mmaplock/trace.h).
 *
 * __mmap_lock_usdt_sema[ev]: the address of event ev's USDT semaphore
 * (sys/sdt.h), which perf or bpftrace raise while attached to its USDT probe.
 * It is reached through this table, not by name, because an executable that
 * named it would get a copy relocation: a private copy that the tools, which
 * write the library's own word, never touch.
 *
 * An event is "enabled" when either is non-zero: relaxed loads of words that
 * only change when a listener comes or goes, predicted not taken.
 */
extern MMAPLOCK_API int __mmap_lock_tp_enabled[MMAP_LOCK_NR_EVENTS];
extern MMAPLOCK_API unsigned short *const __mmap_lock_usdt_sema[MMAP_LOCK_NR_EVENTS];

/* The out-of-line hooks (src/lib/mmap_lock.c). */
MMAPLOCK_API void __mmap_lock_do_trace_start_locking(struct mm_struct *mm, bool write);
MMAPLOCK_API void __mmap_lock_do_trace_acquire_returned(struct mm_struct *mm, bool write,
							bool success);
MMAPLOCK_API void __mmap_lock_do_trace_released(struct mm_struct *mm, bool write);

#define __mml_tp_on(ev)                                                                   \
	__builtin_expect((__atomic_load_n(&__mmap_lock_tp_enabled[ev], __ATOMIC_RELAXED) |     \
			  __atomic_load_n(__mmap_lock_usdt_sema[ev], __ATOMIC_RELAXED)) != 0, 0)

static inline void __mmap_lock_trace_start_locking(struct mm_struct *mm, bool write)
{
	if (__mml_tp_on(MMAP_LOCK_START_LOCKING))
		__mmap_lock_do_trace_start_locking(mm, write);
}

static inline void __mmap_lock_trace_acquire_returned(struct mm_struct *mm, bool write,
						      bool success)
{
	if (__mml_tp_on(MMAP_LOCK_ACQUIRE_RETURNED))
		__mmap_lock_do_trace_acquire_returned(mm, write, success);
}

static inline void __mmap_lock_trace_released(struct mm_struct *mm, bool write)
{
	if (__mml_tp_on(MMAP_LOCK_RELEASED))
		__mmap_lock_do_trace_released(mm, write);
}
#else /* !MMAPLOCK_TRACING */
static inline void __mmap_lock_trace_start_locking(struct mm_struct *mm, bool write) {}
static inline void __mmap_lock_trace_acquire_returned(struct mm_struct *mm, bool write,
						      bool success) {}
static inline void __mmap_lock_trace_released(struct mm_struct *mm, bool write) {}
#endif

/*
 * __mml_mm_check(): debug builds (MMAPLOCK_DEBUG) abort with a message naming
 * the call when mm is NULL or was never initialised; release builds do not
 * check (the behaviour is then undefined, as in the kernel).
 */
MMAPLOCK_API void __mml_bad_mm(const struct mm_struct *mm, const char *func);
#ifdef MMAPLOCK_DEBUG
#define __mml_mm_check(mm) \
	do { if (!(mm) || (mm)->mml_magic != MML_MM_MAGIC) __mml_bad_mm((mm), __func__); } while (0)
#else
#define __mml_mm_check(mm) do { } while (0)
#endif

/* Initialise the lock of a new address space (owned by the calling process). */
MMAPLOCK_API void mmap_init_lock(struct mm_struct *mm);

static inline void mmap_write_lock(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, true);
	mml_down_write(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, true, true);
}

static inline void mmap_write_lock_nested(struct mm_struct *mm, int subclass)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, true);
	mml_down_write_nested(&mm->mmap_lock, subclass);
	__mmap_lock_trace_acquire_returned(mm, true, true);
}

/* Returns 0, or -EINTR when the wait was killed (see mml_kill(3)). */
static inline int mmap_write_lock_killable(struct mm_struct *mm)
{
	int ret;

	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, true);
	ret = mml_down_write_killable(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, true, ret == 0);
	return ret;
}

static inline bool mmap_write_trylock(struct mm_struct *mm)
{
	bool ok;

	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, true);
	ok = mml_down_write_trylock(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, true, ok);
	return ok;
}

/* released fires before the unlock (kernel >= 5.15): never two writers in a trace. */
static inline void mmap_write_unlock(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_released(mm, true);
	mml_up_write(&mm->mmap_lock);
}

/* Downgrade fires only acquire_returned(write=false, success=true). */
static inline void mmap_write_downgrade(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_acquire_returned(mm, false, true);
	mml_downgrade_write(&mm->mmap_lock);
}

static inline void mmap_read_lock(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, false);
	mml_down_read(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, false, true);
}

/* Returns 0, or -EINTR when the wait was killed (see mml_kill(3)). */
static inline int mmap_read_lock_killable(struct mm_struct *mm)
{
	int ret;

	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, false);
	ret = mml_down_read_killable(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, false, ret == 0);
	return ret;
}

static inline bool mmap_read_trylock(struct mm_struct *mm)
{
	bool ok;

	__mml_mm_check(mm);
	__mmap_lock_trace_start_locking(mm, false);
	ok = mml_down_read_trylock(&mm->mmap_lock);
	__mmap_lock_trace_acquire_returned(mm, false, ok);
	return ok;
}

static inline void mmap_read_unlock(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_released(mm, false);
	mml_up_read(&mm->mmap_lock);
}

/* Release a read hold taken by another thread. */
static inline void mmap_read_unlock_non_owner(struct mm_struct *mm)
{
	__mml_mm_check(mm);
	__mmap_lock_trace_released(mm, false);
	mml_up_read_non_owner(&mm->mmap_lock);
}

/* Abort (debug builds) or no-op (release builds) unless the lock is held. */
static inline void mmap_assert_locked(const struct mm_struct *mm)
{
	mml_rwsem_assert_held(&mm->mmap_lock, __func__);
}

/* Abort (debug builds) or no-op (release builds) unless the lock is write-held. */
static inline void mmap_assert_write_locked(const struct mm_struct *mm)
{
	mml_rwsem_assert_write_held(&mm->mmap_lock, __func__);
}

/* True when someone is waiting for the lock (rwsem_is_contended()). */
static inline bool mmap_lock_is_contended(struct mm_struct *mm)
{
	return mml_rwsem_is_contended(&mm->mmap_lock);
}

#ifdef __cplusplus
}
#endif
#endif /* MMAPLOCK_MMAP_LOCK_H */
