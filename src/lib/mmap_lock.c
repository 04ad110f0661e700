/* SPDX-License-Identifier: MIT */
/*
 * mmap_lock.c: the out-of-line half of the mmap_lock tracepoints, the user
 * space twin of the kernel's mm/mmap_lock.c.
 *
 * The inline lock functions (mmaplock/mmap_lock.h) test one "enabled" word
 * per event and, when it is set, call __mmap_lock_do_trace_*() here. Those
 * enter a read-side section (tracepoint.c), look up the memcg path only if
 * somebody listens (reg_refcount, or an attached USDT probe), call every
 * registered probe and fire the USDT probe. All of that is the job of one
 * macro, TRACE_MMAP_LOCK_EVENT(), as in the kernel.
 *
 * reg_refcount counts the events that have at least one registered probe:
 * trace_mmap_lock_reg() / trace_mmap_lock_unreg() run when an event gets its
 * first probe / loses its last one, like the reg/unreg callbacks that the
 * kernel's TRACE_EVENT_FN() hands to the tracepoint core.
 *
 * USDT (sys/sdt.h, with semaphores): provider "mmaplock", probes
 * start_locking(mm, memcg_path, write), acquire_returned(mm, memcg_path,
 * write, success), released(mm, memcg_path, write). perf or bpftrace raise
 * the semaphore while attached; the inline test reads it too, so an attached
 * USDT probe is a listener like any other.
 */
#include <errno.h>
#include <string.h>
#include "trace-internal.h"

#if MMAPLOCK_TRACING
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

MMAPLOCK_API int __mmap_lock_tp_enabled[MMAP_LOCK_NR_EVENTS];

/*
 * The USDT semaphores. The section ".probes" is where sys/sdt.h users put
 * them; tools find them through the probes' ELF notes and add 1 while
 * attached (the kernel's uprobe reference counter, or a write to the
 * process's memory).
 */
#define MML_SEMAPHORE(name)                                                                        \
	__extension__ unsigned short mmaplock_##name##_semaphore                                   \
		__attribute__((section(".probes"), used))
MML_SEMAPHORE(start_locking);
MML_SEMAPHORE(acquire_returned);
MML_SEMAPHORE(released);

/* The inline test reaches the semaphores through this table (see mmap_lock.h). */
MMAPLOCK_API unsigned short *const __mmap_lock_usdt_sema[MMAP_LOCK_NR_EVENTS] = {
	[MMAP_LOCK_START_LOCKING] = &mmaplock_start_locking_semaphore,
	[MMAP_LOCK_ACQUIRE_RETURNED] = &mmaplock_acquire_returned_semaphore,
	[MMAP_LOCK_RELEASED] = &mmaplock_released_semaphore,
};

static int reg_refcount;	/* atomic: events with at least one registered probe */

int trace_mmap_lock_reg(void)
{
	__atomic_fetch_add(&reg_refcount, 1, __ATOMIC_SEQ_CST);
	/* A new listener sees the path of now, not of the last time someone listened. */
	mml_memcg_invalidate();
	return 0;
}

void trace_mmap_lock_unreg(void)
{
	__atomic_fetch_sub(&reg_refcount, 1, __ATOMIC_SEQ_CST);
}

MMAPLOCK_API int mmap_lock_reg_refcount(void)
{
	return __atomic_load_n(&reg_refcount, __ATOMIC_RELAXED);
}

/*
 * get_mm_memcg_path(): the seed's helper. The kernel copies cgroup_path()
 * into an on-stack buffer per event; here the path is interned once
 * (memcg.c), so the event carries a pointer to an immutable string of at most
 * MEMCG_PATH_BUF_SIZE - 1 bytes and nothing is copied.
 */
static const char *get_mm_memcg_path(struct mm_struct *mm, struct mml_thread *t)
{
#if MMAPLOCK_MEMCG
	return mml_memcg_lookup(mm, t)->path;
#else
	return mml_memcg_none.path;
#endif
}

#define usdt_attached(name) __atomic_load_n(&mmaplock_##name##_semaphore, __ATOMIC_RELAXED)

/*
 * TRACE_MMAP_LOCK_EVENT(name, EV, mm, args...): fire one event. The path is
 * looked up only while reg_refcount is non-zero or a USDT probe is attached;
 * otherwise events carry "" (the kernel does the same). Probes run inside a
 * read-side section, so an unregister that returned has no probe left
 * running.
 */
#define TRACE_MMAP_LOCK_EVENT(name, EV, mm, ...)                                                   \
	do {                                                                                       \
		struct mml_thread *t = mml_thread_self();                                          \
		const struct mml_tp_probes *p = NULL;                                              \
		const char *memcg_path = mml_memcg_none.path;                                      \
		int usdt = usdt_attached(name);                                                    \
                                                                                                   \
		mml_tp_read_lock(t);                                                               \
		if (t)                                                                             \
			p = mml_tp_probes(EV);                                                     \
		if (p || usdt) {                                                                   \
			if (t && (__atomic_load_n(&reg_refcount, __ATOMIC_RELAXED) || usdt))       \
				memcg_path = get_mm_memcg_path(mm, t);                             \
			for (unsigned int i = 0; p && i < p->n; i++)                               \
				((mmap_lock_##name##_probe_t)p->p[i].fn)(p->p[i].data, mm,         \
									 memcg_path, __VA_ARGS__); \
			if (usdt)                                                                  \
				DTRACE_PROBE_##name(mm, memcg_path, __VA_ARGS__);                  \
		}                                                                                  \
		mml_tp_read_unlock(t);                                                             \
	} while (0)

#define DTRACE_PROBE_start_locking(mm, path, w) DTRACE_PROBE3(mmaplock, start_locking, mm, path, w)
#define DTRACE_PROBE_acquire_returned(mm, path, w, s)                                              \
	DTRACE_PROBE4(mmaplock, acquire_returned, mm, path, w, s)
#define DTRACE_PROBE_released(mm, path, w) DTRACE_PROBE3(mmaplock, released, mm, path, w)

/* Called by the inline lock functions before they try to take the lock. */
MMAPLOCK_API void __mmap_lock_do_trace_start_locking(struct mm_struct *mm, bool write)
{
	TRACE_MMAP_LOCK_EVENT(start_locking, MMAP_LOCK_START_LOCKING, mm, write);
}

/* Called when an attempt to take the lock returns, got it (success) or not. */
MMAPLOCK_API void __mmap_lock_do_trace_acquire_returned(struct mm_struct *mm, bool write,
							bool success)
{
	TRACE_MMAP_LOCK_EVENT(acquire_returned, MMAP_LOCK_ACQUIRE_RETURNED, mm, write, success);
}

/* Called just before the lock is released (the lock is still held). */
MMAPLOCK_API void __mmap_lock_do_trace_released(struct mm_struct *mm, bool write)
{
	TRACE_MMAP_LOCK_EVENT(released, MMAP_LOCK_RELEASED, mm, write);
}

/*
 * A program linked with the static libmmaplock.a gets only the objects it
 * references. Everything that fires events references this file, so this
 * file references the listeners that start themselves from the environment
 * (MMAPLOCK_TRACE, MMAPLOCK_TRACE_TEXT): their constructors come along.
 */
__attribute__((used)) static void *const mml_env_listeners[] = {
	(void *)mml_recorder_thread_exit,
	(void *)mmap_lock_text_listener_start,
};

MMAPLOCK_API int mmap_lock_get_memcg_path(struct mm_struct *mm, char *buf, size_t buflen)
{
	const char *path;
	size_t len;

	if (!buf || !buflen)
		return -EINVAL;
#if MMAPLOCK_MEMCG
	{
		struct mml_thread *t = mml_thread_self();

		path = t ? get_mm_memcg_path(mm, t) : mml_memcg_none.path;
	}
#else
	buf[0] = '\0';
	(void)path;
	(void)len;
	return -ENOSYS;
#endif
	len = strlen(path);
	if (len > buflen - 1)
		len = buflen - 1;
	memcpy(buf, path, len);
	buf[len] = '\0';
	return (int)len;
}

MMAPLOCK_API unsigned int mmap_lock_usdt_attached(void)
{
	return (usdt_attached(start_locking) ? 1u << MMAP_LOCK_START_LOCKING : 0) |
	       (usdt_attached(acquire_returned) ? 1u << MMAP_LOCK_ACQUIRE_RETURNED : 0) |
	       (usdt_attached(released) ? 1u << MMAP_LOCK_RELEASED : 0);
}

MMAPLOCK_API unsigned long mmap_lock_memcg_lookups(void)
{
	unsigned long n = 0;

	for (struct mml_thread *t = mml_thread_list(); t; t = t->next)
		n += __atomic_load_n(&t->memcg_lookups, __ATOMIC_RELAXED);
	return n;
}

#else /* !MMAPLOCK_TRACING: no hooks, no semaphores; the queries answer "nothing" */

MMAPLOCK_API int mmap_lock_reg_refcount(void)
{
	return 0;
}

MMAPLOCK_API unsigned long mmap_lock_memcg_lookups(void)
{
	return 0;
}

MMAPLOCK_API unsigned int mmap_lock_usdt_attached(void)
{
	return 0;
}

MMAPLOCK_API int mmap_lock_get_memcg_path(struct mm_struct *mm, char *buf, size_t buflen)
{
	if (!buf || !buflen)
		return -EINVAL;
	buf[0] = '\0';
	return -ENOSYS;
}

#endif /* MMAPLOCK_TRACING */
