/* SPDX-License-Identifier: MIT */
/*
 * trace-internal.h: what the tracing files of libmmaplock share and nobody
 * outside the library sees: the per-thread record and read-side sections of
 * tracepoint.c, the probe arrays, the memcg cache of memcg.c, and the
 * listener refcount of mmap_lock.c.
 */
#ifndef MML_TRACE_INTERNAL_H
#define MML_TRACE_INTERNAL_H

#include <stdint.h>
#include <mmaplock/config.h>
#include <mmaplock/trace.h>

/*
 * struct mml_thread: one per thread that ever fired a traced event, never
 * freed (reused by later threads), linked in one list. Only its owner writes
 * it, except ->in_use, which a new thread claims.
 */
struct mml_thread {
	unsigned long seq;		/* odd while inside a read-side section (atomic) */
	unsigned int depth;		/* nesting of read-side sections (owner only) */
	int in_use;			/* a live thread owns it (atomic) */
	uint32_t tid;			/* the owner's tid, cached */
	unsigned int memcg_tick;	/* lookups until the next clock check */
	unsigned long memcg_lookups;	/* lookups made by the owners (atomic) */
	void *rec;			/* the recorder's per-thread state */
	struct mml_thread *next;	/* immutable once published */
};

extern __thread struct mml_thread *mml_thread_tls __attribute__((tls_model("initial-exec")));
struct mml_thread *mml_thread_attach(void);

/* The calling thread's record (allocated on first use; NULL if out of memory). */
static inline struct mml_thread *mml_thread_self(void)
{
	struct mml_thread *t = mml_thread_tls;

	return __builtin_expect(t != NULL, 1) ? t : mml_thread_attach();
}
/* First record of the list, to walk with ->next (records are never freed). */
struct mml_thread *mml_thread_list(void);

/* One registered probe. */
struct mml_tp_probe {
	void (*fn)(void);		/* cast back to the event's probe type */
	void *data;
};

/* An immutable array of probes, replaced whole by (un)registration. */
struct mml_tp_probes {
	unsigned int n;
	struct mml_tp_probe p[];
};

/*
 * Read-side section: between mml_tp_read_lock() and mml_tp_read_unlock(),
 * a probe array loaded with mml_tp_probes() stays valid and its probes
 * callable. Sections nest. t is mml_thread_self() (may be NULL: then the
 * section is not entered and mml_tp_probes() must not be called).
 */
extern struct mml_tp_probes *mml_tp_list[MMAP_LOCK_NR_EVENTS];
extern int mml_tp_membarrier;

static inline void mml_tp_read_lock(struct mml_thread *t)
{
	if (!t || t->depth++)
		return;
	if (__builtin_expect(__atomic_load_n(&mml_tp_membarrier, __ATOMIC_RELAXED), 1)) {
		/* odd: inside; the updater's membarrier() orders it before our loads */
		__atomic_store_n(&t->seq, __atomic_load_n(&t->seq, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		__atomic_fetch_add(&t->seq, 1, __ATOMIC_SEQ_CST);	/* odd: inside */
	}
}

static inline void mml_tp_read_unlock(struct mml_thread *t)
{
	if (t && --t->depth == 0)
		__atomic_store_n(&t->seq, __atomic_load_n(&t->seq, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELEASE);				/* even: out */
}

static inline const struct mml_tp_probes *mml_tp_probes(enum mmap_lock_event ev)
{
	return __atomic_load_n(&mml_tp_list[ev], __ATOMIC_SEQ_CST);
}

/* True while the calling thread is inside a read-side section. */
int mml_tp_in_probe(void);

/* Registration of one event's probe; errors as in mmaplock/trace.h. */
int mml_tp_register(enum mmap_lock_event ev, void (*fn)(void), void *data);
int mml_tp_unregister(enum mmap_lock_event ev, void (*fn)(void), void *data);

/* The kernel's TRACE_EVENT_FN reg/unreg hooks (src/lib/mmap_lock.c). */
int trace_mmap_lock_reg(void);
void trace_mmap_lock_unreg(void);

/*
 * The memcg cache (memcg.c). Every path is interned once in a struct
 * mml_memcg that is never freed nor changed, so a path pointer handed to a
 * probe stays valid for the life of the process, and the entry (id) can be
 * found back from it with mml_memcg_of().
 */
struct mml_memcg {
	uint64_t id;			/* 1, 2, ... in order of first sight; 0: the empty path */
	struct mml_memcg *next;		/* interned list, newest first (immutable) */
	uint16_t len;			/* strlen(path) <= MEMCG_PATH_BUF_SIZE - 1 */
	char path[MEMCG_PATH_BUF_SIZE];
};

#define MML_MEMCG_MAX_PATHS 256		/* distinct paths a process interns at most */

extern const struct mml_memcg mml_memcg_none;	/* id 0, "" */
/* Force a re-read at the next lookup (on registration, after fork). */
void mml_memcg_invalidate(void);
/* Newest interned path (walk with ->next). */
const struct mml_memcg *mml_memcg_list(void);

static inline int mml_self_pid(void);

#if MMAPLOCK_TRACING && MMAPLOCK_MEMCG
extern const struct mml_memcg *mml_memcg_current;
extern int mml_memcg_stale;
enum { MML_MEMCG_OTHER, MML_MEMCG_REREAD, MML_MEMCG_TICK };
const struct mml_memcg *mml_memcg_lookup_slow(const struct mm_struct *mm, struct mml_thread *t,
					      int why);

/*
 * The path of mm's owner (cached, see memcg.c for the bound); counts a
 * lookup. t is the calling thread's record (not NULL).
 */
static inline const struct mml_memcg *mml_memcg_lookup(const struct mm_struct *mm,
						       struct mml_thread *t)
{
	const struct mml_memcg *cur;
	int pid = mm ? mm->owner_pid : 0;

	__atomic_store_n(&t->memcg_lookups,
			 __atomic_load_n(&t->memcg_lookups, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	if (__builtin_expect(pid > 0 && pid != mml_self_pid(), 0))
		return mml_memcg_lookup_slow(mm, t, MML_MEMCG_OTHER);
	cur = __atomic_load_n(&mml_memcg_current, __ATOMIC_ACQUIRE);
	if (__builtin_expect(!cur || __atomic_load_n(&mml_memcg_stale, __ATOMIC_ACQUIRE), 0))
		return mml_memcg_lookup_slow(mm, t, MML_MEMCG_REREAD);
	if (__builtin_expect(++t->memcg_tick >= MMAP_LOCK_MEMCG_CHECK_EVERY, 0))
		return mml_memcg_lookup_slow(mm, t, MML_MEMCG_TICK);
	return cur;
}
#endif

static inline const struct mml_memcg *mml_memcg_of(const char *path)
{
	return (const struct mml_memcg *)(path - offsetof(struct mml_memcg, path));
}

/* Cached getpid(), reset after fork. */
extern int mml_pid_cache;
int mml_self_pid_slow(void);

static inline int mml_self_pid(void)
{
	int pid = __atomic_load_n(&mml_pid_cache, __ATOMIC_RELAXED);

	return __builtin_expect(pid != 0, 1) ? pid : mml_self_pid_slow();
}

/* The recorder (recorder.c): a thread with recorder state t->rec is exiting. */
void mml_recorder_thread_exit(struct mml_thread *t);

#endif /* MML_TRACE_INTERNAL_H */
