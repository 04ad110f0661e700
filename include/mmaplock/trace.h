/* SPDX-License-Identifier: MIT */
/*
 * mmaplock/trace.h: listening to the three mmap_lock tracepoints.
 *
 * The kernel's tracepoint API, in user space: register_trace_mmap_lock_*()
 * attaches a probe (a function plus a data pointer) to one event, and
 * unregister_trace_mmap_lock_*() detaches it. Probes are called, in
 * registration order, on the thread that takes or releases the lock, with
 * the memory cgroup path of the address space's owner (see docs/LIBRARY.md
 * for the rule and the refresh bound).
 *
 * Guarantees (docs/LIBRARY.md, "Registration"):
 * - registering and unregistering are safe while other threads lock and
 *   unlock: probes are kept in immutable arrays, replaced whole;
 * - once unregister_*() has returned, the probe is not running and will not
 *   be called again, on any thread, so its data may be freed;
 * - a probe must not register or unregister a probe itself (it gets
 *   -EDEADLK), and must not block for long: unregister waits for it.
 *
 * Built with MMAPLOCK_TRACING=0, every function here exists, does nothing
 * and returns -ENOSYS (probes are never called); the counters return 0.
 */
#ifndef MMAPLOCK_TRACE_H
#define MMAPLOCK_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <mmaplock/mmap_lock.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel's MAX_FILTER_STR_VAL: a memcg path is at most 255 bytes + NUL. */
#define MEMCG_PATH_BUF_SIZE 256

/*
 * How stale a cached memcg path may get: the library re-reads the process's
 * cgroup at most every MMAP_LOCK_MEMCG_REFRESH_MS milliseconds, checking the
 * clock on one lookup in MMAP_LOCK_MEMCG_CHECK_EVERY per thread, and at once
 * whenever an event gets its first listener.
 */
#define MMAP_LOCK_MEMCG_REFRESH_MS	100
#define MMAP_LOCK_MEMCG_CHECK_EVERY	16

/* Probe types: data is the pointer given at registration. */
typedef void (*mmap_lock_start_locking_probe_t)(void *data, struct mm_struct *mm,
						const char *memcg_path, bool write);
typedef void (*mmap_lock_acquire_returned_probe_t)(void *data, struct mm_struct *mm,
						   const char *memcg_path, bool write,
						   bool success);
typedef void (*mmap_lock_released_probe_t)(void *data, struct mm_struct *mm,
					   const char *memcg_path, bool write);

/*
 * register_trace_mmap_lock_start_locking(): call probe(data, ...) at every
 * start_locking event from now on. Returns 0, -EINVAL (NULL probe), -EEXIST
 * (this probe with this data is already registered), -ENOMEM, -EDEADLK
 * (called from inside a probe) or -ENOSYS (library built without tracing).
 * The same rules hold for the acquire_returned and released variants.
 */
MMAPLOCK_API int register_trace_mmap_lock_start_locking(mmap_lock_start_locking_probe_t probe,
							void *data);
/*
 * unregister_trace_mmap_lock_start_locking(): detach a probe registered with
 * the same probe and data. When it returns 0, no thread is running the probe
 * and none will call it again. Returns 0, -ENOENT (not registered), -EDEADLK
 * (called from inside a probe) or -ENOSYS.
 */
MMAPLOCK_API int unregister_trace_mmap_lock_start_locking(mmap_lock_start_locking_probe_t probe,
							  void *data);

/* As register_trace_mmap_lock_start_locking(), for acquire_returned. */
MMAPLOCK_API int
register_trace_mmap_lock_acquire_returned(mmap_lock_acquire_returned_probe_t probe, void *data);
/* As unregister_trace_mmap_lock_start_locking(), for acquire_returned. */
MMAPLOCK_API int
unregister_trace_mmap_lock_acquire_returned(mmap_lock_acquire_returned_probe_t probe, void *data);

/* As register_trace_mmap_lock_start_locking(), for released. */
MMAPLOCK_API int register_trace_mmap_lock_released(mmap_lock_released_probe_t probe, void *data);
/* As unregister_trace_mmap_lock_start_locking(), for released. */
MMAPLOCK_API int unregister_trace_mmap_lock_released(mmap_lock_released_probe_t probe, void *data);

/*
 * mmap_lock_reg_refcount(): the kernel's reg_refcount: how many of the three
 * events currently have at least one registered probe (0 to 3). While it is
 * 0 (and no USDT probe is attached) no memcg path is looked up.
 */
MMAPLOCK_API int mmap_lock_reg_refcount(void);

/*
 * mmap_lock_memcg_lookups(): how many times an event looked up its memcg
 * path since the program started (cache hits included), summed over all
 * threads. Lets tests check that nobody pays for the path unless listened to.
 */
MMAPLOCK_API unsigned long mmap_lock_memcg_lookups(void);

/*
 * mmap_lock_get_memcg_path(): the memcg path events on mm carry right now,
 * copied into buf (at most buflen - 1 bytes and a NUL; with buflen ==
 * MEMCG_PATH_BUF_SIZE never truncated further than the events are). The
 * seed's get_mm_memcg_path(). Counts as a lookup. Returns the length copied,
 * or -EINVAL (bad buffer), -ENOSYS (built without MMAPLOCK_MEMCG or without
 * tracing: buf is then set to "").
 */
MMAPLOCK_API int mmap_lock_get_memcg_path(struct mm_struct *mm, char *buf, size_t buflen);

/*
 * mmap_lock_usdt_attached(): which events have a USDT probe attached right
 * now (perf, bpftrace: they raise the probe's semaphore), as a bit mask
 * (1 << enum mmap_lock_event). 0 when none, or without tracing.
 */
MMAPLOCK_API unsigned int mmap_lock_usdt_attached(void);

/*
 * mmap_lock_text_listener_start(): print every event to f, one line each in
 * the kernel's format with ftrace's task prefix:
 *   "<comm>-<tid> [<cpu>] ..... <sec>.<usec>: mmap_lock_start_locking: mm=%p memcg_path=%s write=%s"
 * (likewise acquire_returned with success=, and released). f is not closed.
 * Lines are written whole (one fwrite each). Returns 0, -EBUSY (already
 * started), -EINVAL (NULL f), or what registration returns. Also started at
 * load time by MMAPLOCK_TRACE_TEXT=FILE (or "stderr").
 */
MMAPLOCK_API int mmap_lock_text_listener_start(FILE *f);
/* Stop the text listener (waits for lines being printed) and flush its stream. */
MMAPLOCK_API void mmap_lock_text_listener_stop(void);

#ifdef __cplusplus
}
#endif
#endif /* MMAPLOCK_TRACE_H */
