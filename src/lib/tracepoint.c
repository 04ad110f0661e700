/* SPDX-License-Identifier: MIT */
/*
 * tracepoint.c: probe lists and their registration, safe against threads that
 * are locking and unlocking at the same time.
 *
 * Each event has one pointer to an immutable array of probes. Registration
 * (serialised by tp_mutex) builds a new array, publishes it with one atomic
 * store, waits for a grace period, then frees the old array. Event firing
 * loads the pointer and walks the array it got; it never sees a half-built
 * list, because arrays are never changed once published.
 *
 * The grace period is a small epoch scheme (user-space RCU in spirit): every
 * thread that fires events owns a struct mml_thread whose ->seq is odd while
 * the thread is inside a read-side section (firing probes). A reader makes
 * ->seq odd with a sequentially consistent read-modify-write and only then
 * loads the probe pointer (seq_cst); the updater stores the new pointer
 * (seq_cst) and only then reads every ->seq (seq_cst). In the single total
 * order of seq_cst operations either the reader's increment comes first, and
 * the updater sees ->seq odd and waits until it changes (the reader left,
 * release store; the updater's acquire load then orders the reader's use of
 * the old array before the free), or the reader's load comes after the
 * store and it can only have seen the new array. So when
 * synchronize_readers() returns, no thread is using, or can start using, an
 * array older than the current one: the old array may be freed and the
 * removed probe is never called again. That is the guarantee
 * unregister_trace_mmap_lock_*() gives.
 *
 * Cheaper readers with membarrier(2): where the kernel offers
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED (registered on the first registration),
 * the reader's increment is a plain store followed by a compiler barrier,
 * and the updater, after storing the new pointer, calls membarrier(), which
 * runs a full memory barrier on every CPU that runs one of our threads. That
 * barrier plays the part of the reader's seq_cst operation (the scheme of
 * liburcu's "memb" flavour): a reader's odd ->seq is visible to the updater
 * after membarrier() returns, or the reader's later load of the pointer sees
 * the new array. It saves a locked instruction per event; readers test the
 * flag and fall back to the RMW while it is not set.
 *
 * A probe that registers or unregisters would wait for itself: refused with
 * -EDEADLK. Records of exited threads are marked free and reused, never
 * freed, so the updater walks the list without a lock.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>
#include "trace-internal.h"

#if MMAPLOCK_TRACING

static pthread_mutex_t tp_mutex = PTHREAD_MUTEX_INITIALIZER;	/* serialises updaters */
struct mml_tp_probes *mml_tp_list[MMAP_LOCK_NR_EVENTS];	/* atomic pointers */
static struct mml_thread *thread_list;				/* atomic head, push only */
__thread struct mml_thread *mml_thread_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
int mml_pid_cache;			/* atomic; 0: unknown */
int mml_tp_membarrier;		/* atomic: updaters call membarrier(), readers store */
static int membarrier_done;	/* membarrier_init() ran (under tp_mutex) */

/* Thread exit: give the record back (its sections are all closed by now). */
static void thread_release(void *arg)
{
	struct mml_thread *t = arg;

	if (t->rec)
		mml_recorder_thread_exit(t);
	mml_thread_tls = NULL;
	t->rec = NULL;
	__atomic_store_n(&t->in_use, 0, __ATOMIC_RELEASE);
}

/* After fork only the calling thread exists: free every other record. */
static void atfork_prepare(void)
{
	pthread_mutex_lock(&tp_mutex);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&tp_mutex);
}

static void atfork_child(void)
{
	struct mml_thread *t;

	for (t = mml_thread_list(); t; t = t->next) {
		unsigned long s = __atomic_load_n(&t->seq, __ATOMIC_RELAXED);

		if (t == mml_thread_tls)
			continue;
		/* A thread that was mid-section at fork() is gone: close it. */
		if (s & 1)
			__atomic_store_n(&t->seq, s + 1, __ATOMIC_RELAXED);
		t->depth = 0;
		__atomic_store_n(&t->in_use, 0, __ATOMIC_RELAXED);
	}
	if (mml_thread_tls)
		mml_thread_tls->tid = (uint32_t)syscall(SYS_gettid);
	__atomic_store_n(&mml_pid_cache, 0, __ATOMIC_RELAXED);
	/*
	 * Whether the child inherits the membarrier registration is the
	 * kernel's business: go back to seq_cst readers (we are the only
	 * thread) and register again at the next registration.
	 */
	__atomic_store_n(&mml_tp_membarrier, 0, __ATOMIC_RELAXED);
	membarrier_done = 0;
	mml_memcg_invalidate();
	pthread_mutex_unlock(&tp_mutex);
}

static void thread_init_once(void)
{
	pthread_key_create(&thread_key, thread_release);
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int mml_self_pid_slow(void)
{
	int pid = getpid();

	__atomic_store_n(&mml_pid_cache, pid, __ATOMIC_RELAXED);
	return pid;
}

struct mml_thread *mml_thread_list(void)
{
	return __atomic_load_n(&thread_list, __ATOMIC_ACQUIRE);
}

/* Slow path of mml_thread_self(): claim a free record or push a new one. */
struct mml_thread *mml_thread_attach(void)
{
	struct mml_thread *t;

	pthread_once(&thread_once, thread_init_once);
	for (t = mml_thread_list(); t; t = t->next) {
		int zero = 0;

		if (__atomic_load_n(&t->in_use, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&t->in_use, &zero, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		t->in_use = 1;
		t->next = __atomic_load_n(&thread_list, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&thread_list, &t->next, t, true,
						    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			;
	}
	t->depth = 0;
	t->rec = NULL;
	t->memcg_tick = 0;
	t->tid = (uint32_t)syscall(SYS_gettid);
	mml_thread_tls = t;
	pthread_setspecific(thread_key, t);
	return t;
}




int mml_tp_in_probe(void)
{
	return mml_thread_tls && mml_thread_tls->depth > 0;
}

/*
 * Wait until every thread that was inside a read-side section when the new
 * array was published has left it (see the top of the file for why that is
 * enough). Sections are short (a few probe calls): yield while waiting.
 */
static void synchronize_readers(void)
{
	struct mml_thread *t;

	if (__atomic_load_n(&mml_tp_membarrier, __ATOMIC_RELAXED))
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);

	for (t = mml_thread_list(); t; t = t->next) {
		unsigned long s = __atomic_load_n(&t->seq, __ATOMIC_SEQ_CST);

		if (!(s & 1))
			continue;
		while (__atomic_load_n(&t->seq, __ATOMIC_ACQUIRE) == s)
			sched_yield();
	}
}

/*
 * Once, under tp_mutex: use membarrier() if the kernel has the private
 * expedited command (MMAPLOCK_NO_MEMBARRIER=1 in the environment keeps the
 * seq_cst readers, for comparison). ThreadSanitizer does not know what
 * membarrier() does, so sanitized builds keep the seq_cst readers too.
 */
static void membarrier_init(void)
{
	const char *env = getenv("MMAPLOCK_NO_MEMBARRIER");
	long cmds;

	if (membarrier_done)
		return;
	membarrier_done = 1;
#if defined(__SANITIZE_THREAD__)
	return;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return;
#endif
#endif
	if (env && *env == '1')
		return;
	cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		return;
	__atomic_store_n(&mml_tp_membarrier, 1, __ATOMIC_SEQ_CST);
}

static int find(const struct mml_tp_probes *p, void (*fn)(void), void *data)
{
	for (unsigned int i = 0; p && i < p->n; i++)
		if (p->p[i].fn == fn && p->p[i].data == data)
			return (int)i;
	return -1;
}

int mml_tp_register(enum mmap_lock_event ev, void (*fn)(void), void *data)
{
	struct mml_tp_probes *old, *new;
	unsigned int n;

	if (!fn || (unsigned int)ev >= MMAP_LOCK_NR_EVENTS)
		return -EINVAL;
	if (mml_tp_in_probe())
		return -EDEADLK;
	pthread_mutex_lock(&tp_mutex);
	membarrier_init();
	old = mml_tp_list[ev];
	if (find(old, fn, data) >= 0) {
		pthread_mutex_unlock(&tp_mutex);
		return -EEXIST;
	}
	n = old ? old->n : 0;
	new = malloc(sizeof(*new) + (n + 1) * sizeof(new->p[0]));
	if (!new) {
		pthread_mutex_unlock(&tp_mutex);
		return -ENOMEM;
	}
	if (n)
		memcpy(new->p, old->p, n * sizeof(new->p[0]));
	new->p[n].fn = fn;
	new->p[n].data = data;
	new->n = n + 1;
	/* First listener of this event: the path must be ready before it is called. */
	if (!n)
		trace_mmap_lock_reg();
	__atomic_store_n(&mml_tp_list[ev], new, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&__mmap_lock_tp_enabled[ev], 1, __ATOMIC_RELEASE);
	if (old) {
		synchronize_readers();
		free(old);
	}
	pthread_mutex_unlock(&tp_mutex);
	return 0;
}

int mml_tp_unregister(enum mmap_lock_event ev, void (*fn)(void), void *data)
{
	struct mml_tp_probes *old, *new = NULL;
	int i;

	if (!fn || (unsigned int)ev >= MMAP_LOCK_NR_EVENTS)
		return -EINVAL;
	if (mml_tp_in_probe())
		return -EDEADLK;
	pthread_mutex_lock(&tp_mutex);
	old = mml_tp_list[ev];
	i = find(old, fn, data);
	if (i < 0) {
		pthread_mutex_unlock(&tp_mutex);
		return -ENOENT;
	}
	if (old->n > 1) {
		new = malloc(sizeof(*new) + (old->n - 1) * sizeof(new->p[0]));
		if (!new) {
			pthread_mutex_unlock(&tp_mutex);
			return -ENOMEM;
		}
		memcpy(new->p, old->p, (size_t)i * sizeof(new->p[0]));
		memcpy(new->p + i, old->p + i + 1, (old->n - (unsigned int)i - 1) * sizeof(new->p[0]));
		new->n = old->n - 1;
	}
	__atomic_fetch_sub(&__mmap_lock_tp_enabled[ev], 1, __ATOMIC_RELEASE);
	__atomic_store_n(&mml_tp_list[ev], new, __ATOMIC_SEQ_CST);
	synchronize_readers();
	free(old);
	if (!new)
		trace_mmap_lock_unreg();
	pthread_mutex_unlock(&tp_mutex);
	return 0;
}

#define TP_REG_FUNCS(name, ev)                                                                 \
	MMAPLOCK_API int register_trace_mmap_lock_##name(mmap_lock_##name##_probe_t probe,     \
							 void *data)                           \
	{                                                                                      \
		return mml_tp_register(ev, (void (*)(void))probe, data);                       \
	}                                                                                      \
	MMAPLOCK_API int unregister_trace_mmap_lock_##name(mmap_lock_##name##_probe_t probe,   \
							   void *data)                         \
	{                                                                                      \
		return mml_tp_unregister(ev, (void (*)(void))probe, data);                     \
	}

#else /* !MMAPLOCK_TRACING: registration exists, refuses, and never calls anything */

#define TP_REG_FUNCS(name, ev)                                                                 \
	MMAPLOCK_API int register_trace_mmap_lock_##name(mmap_lock_##name##_probe_t probe,     \
							 void *data)                           \
	{                                                                                      \
		return -ENOSYS;                                                                \
	}                                                                                      \
	MMAPLOCK_API int unregister_trace_mmap_lock_##name(mmap_lock_##name##_probe_t probe,   \
							   void *data)                         \
	{                                                                                      \
		return -ENOSYS;                                                                \
	}

#endif /* MMAPLOCK_TRACING */

TP_REG_FUNCS(start_locking, MMAP_LOCK_START_LOCKING)
TP_REG_FUNCS(acquire_returned, MMAP_LOCK_ACQUIRE_RETURNED)
TP_REG_FUNCS(released, MMAP_LOCK_RELEASED)
