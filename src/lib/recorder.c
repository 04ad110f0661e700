/* SPDX-License-Identifier: MIT */
/*
 * recorder.c: MMAPLOCK_TRACE=FILE records every event of the process to FILE
 * in the mmaplock trace format (src/common/mml_format.h, docs/FILE-FORMAT.md)
 * with source = MML_SOURCE_LIB.
 *
 * A constructor reads the environment, opens the file and registers the
 * recorder's probes on the three events: from then on the recorder is a
 * listener like any other (reg_refcount counts it, memcg paths are looked
 * up). "%p" in FILE is replaced by the pid, so that children that exec and
 * inherit the variable write files of their own. MMAPLOCK_TRACE_BUF=N sets
 * the events per buffer (default 4096, at least 16), MMAPLOCK_TRACE_BUFS=M
 * the most buffers in existence (default: 64 MiB worth, at least 2).
 *
 * Buffers: each thread fills one fixed buffer of N events (32 bytes each)
 * without any lock (only its thread touches it). A full buffer is queued
 * for the writer thread, which writes it as one EVENTS block (stream = tid)
 * and puts it back in a shared pool; the thread takes its next buffer from
 * the pool (allocating one while fewer than MMAPLOCK_TRACE_BUFS exist,
 * default 64 MiB worth). So memory is bounded, and events are dropped only
 * when every buffer is waiting for the disk: then the thread counts what it
 * drops (LOST blocks per tid, END totals) and takes a buffer again as soon
 * as one is free. Nothing blocks a locking thread on I/O. The writer keeps
 * REC_SPARE buffers allocated and paged in, so that a locking thread does not
 * take the page faults of a fresh buffer.
 *
 * Exit: a destructor (it runs on exit() from any thread, and on return from
 * main) unregisters the probes first. Unregistration waits for the grace
 * period (tracepoint.c), so when it returns no thread is inside a recorder
 * probe and none will enter one: every buffer is quiescent. Then the writer
 * thread is stopped and everything still buffered is written: queued
 * buffers first, then each thread's current buffer, then TASK, LOST, MEMCG
 * and END. Events fired by other threads after that moment (the process is
 * exiting) are not recorded. Threads that exit earlier queue their partial
 * buffer from their thread-exit hook. After fork() the child records
 * nothing (its parent owns the file).
 *
 * Timestamps are CLOCK_MONOTONIC ns. Reading that clock costs about 30 ns
 * (vDSO) on the machines we measured, as much as all the rest of an event,
 * so where the kernel itself keeps CLOCK_MONOTONIC on the TSC (x86-64,
 * current clocksource "tsc": invariant and synchronised across CPUs) the
 * probe stores the raw TSC (about 10 ns) and the writer converts it when it
 * writes the block: ns = ns0 + (tsc - tsc0) * rate, with (tsc0, ns0) taken
 * at start and rate measured between start and the moment of writing (two
 * paired readings of both clocks). The conversion error is bounded by the
 * pairing jitter of the readings (tens of ns), and each thread's times are
 * kept nondecreasing across blocks. Elsewhere the probe calls
 * clock_gettime(CLOCK_MONOTONIC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif
#include "trace-internal.h"
#include "mml_writer.h"

#if MMAPLOCK_TRACING

#define REC_BUF_DEFAULT 4096
#define REC_BUF_MIN 16
#define REC_MEM_DEFAULT (64u << 20)	/* bytes of buffers at most, by default */
#define REC_SPARE 4			/* buffers the writer keeps ready in the pool */

struct rec_thread;

struct rec_buf {
	uint32_t n;			/* events in ev[] */
	struct rec_thread *owner;	/* the thread that filled it */
	struct rec_buf *next;		/* writer queue or free pool, under rec.mutex */
	struct mml_event ev[];
};

struct rec_thread {
	uint32_t tid;
	char comm[16];
	struct rec_buf *cur;		/* owner only; NULL: none free, dropping */
	uint64_t lost;			/* dropped events (atomic), read at close */
	int task_written;		/* writer side: TASK entry emitted */
	uint64_t last_ts;		/* writer side: last time written, ns */
	struct rec_thread *next;	/* all threads, under rec.mutex */
};

static struct {
	pthread_mutex_t mutex;		/* queue, pool, thread list, lifecycle */
	pthread_cond_t cond;		/* writer thread wake-up */
	struct mml_writer *w;		/* used by one thread at a time (io_mutex) */
	pthread_mutex_t io_mutex;
	struct rec_buf *qhead, *qtail;	/* full buffers, oldest first */
	struct rec_buf *pool;		/* free buffers */
	int npool;			/* atomic: buffers in the pool */
	uint32_t nbufs, maxbufs;	/* buffers allocated, and the cap */
	struct rec_thread *threads;
	pthread_t writer;
	int writer_started, stop, closed;
	int active;			/* atomic: probes may record */
	int pid;			/* the process that owns the file */
	uint32_t bufsz;			/* events per buffer */
	uint64_t written;		/* events written (writer side) */
	uint64_t lost_nomem;		/* atomic: events of threads without state */
	uint64_t memcg_written;		/* highest memcg id written */
	int use_tsc;			/* events carry raw TSC until written */
	uint64_t tsc0, ns0;		/* the clocks at start */
} rec = {
	.mutex = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.io_mutex = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t now_ns(int clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- event clock */

#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t read_tsc(void)
{
	return __rdtsc();
}
#else
static inline uint64_t read_tsc(void)
{
	return 0;
}
#endif

/* One (tsc, ns) pair read as close together as we can: best of three. */
static void clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t a = read_tsc(), n = now_ns(CLOCK_MONOTONIC), b = read_tsc();

		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = n;
		}
	}
}

/* Does the kernel keep CLOCK_MONOTONIC on the TSC? Then so can we. */
static int tsc_usable(void)
{
#if defined(__x86_64__)
	char cs[32] = "";
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");

	if (!f)
		return 0;
	if (!fgets(cs, sizeof(cs), f))
		cs[0] = '\0';
	fclose(f);
	return !strcmp(cs, "tsc\n");
#else
	return 0;
#endif
}

static inline uint64_t event_clock(void)
{
	return rec.use_tsc ? read_tsc() : now_ns(CLOCK_MONOTONIC);
}

/*
 * Writer side (io_mutex held): turn the raw TSC values of one buffer into
 * CLOCK_MONOTONIC ns, keeping the thread's times nondecreasing.
 */
static void convert_times(struct rec_buf *b)
{
	struct rec_thread *r = b->owner;
	uint64_t tsc1, ns1;
	double rate;

	if (!rec.use_tsc || !b->n)
		return;
	clock_pair(&tsc1, &ns1);
	rate = tsc1 > rec.tsc0 ? (double)(ns1 - rec.ns0) / (double)(tsc1 - rec.tsc0) : 0;
	for (uint32_t i = 0; i < b->n; i++) {
		int64_t d = (int64_t)(b->ev[i].ts - tsc1);	/* <= 0: before now */
		uint64_t ns = ns1 + (uint64_t)(int64_t)((double)d * rate);

		if (ns < r->last_ts)
			ns = r->last_ts;
		b->ev[i].ts = r->last_ts = ns;
	}
}

/*
 * The CPU we run on: glibc (2.35+) registers rseq, whose area the kernel
 * keeps up to date with the CPU number; reading it is one load, where
 * sched_getcpu() is a call and a check. Without rseq, sched_getcpu().
 */
static inline uint16_t current_cpu(void)
{
#if defined(RSEQ_SIG) && defined(__x86_64__)
	if (__builtin_expect(__rseq_size != 0, 1)) {
		const struct rseq *rs = (const struct rseq *)((char *)__builtin_thread_pointer() +
							     __rseq_offset);

		return (uint16_t)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
	}
#endif
	return (uint16_t)sched_getcpu();
}

/* Writer side (io_mutex held): memcg paths interned since the last call. */
static void write_new_memcgs(void)
{
	uint64_t top = rec.memcg_written;

	for (const struct mml_memcg *m = mml_memcg_list(); m && m->id > rec.memcg_written;
	     m = m->next) {
		mml_writer_memcg(rec.w, m->id, m->path);
		if (m->id > top)
			top = m->id;
	}
	rec.memcg_written = top;
}

/* Writer side (io_mutex held): one buffer as an EVENTS block. */
static void write_buf(struct rec_buf *b)
{
	struct rec_thread *r = b->owner;

	write_new_memcgs();
	if (!r->task_written) {
		mml_writer_task(rec.w, r->tid, (uint32_t)rec.pid, r->comm, 0, NULL);
		r->task_written = 1;
	}
	mml_writer_flush(rec.w);
	convert_times(b);
	if (b->n && mml_writer_events(rec.w, r->tid, b->ev, b->n) == 0)
		rec.written += b->n;
	else if (b->n)
		__atomic_fetch_add(&r->lost, b->n, __ATOMIC_RELAXED);
	b->n = 0;
}

/* Pop the queue's head (rec.mutex held). */
static struct rec_buf *queue_pop(void)
{
	struct rec_buf *b = rec.qhead;

	if (b) {
		rec.qhead = b->next;
		if (!rec.qhead)
			rec.qtail = NULL;
	}
	return b;
}

/* Put a buffer back in the pool (rec.mutex held). */
static void pool_put(struct rec_buf *b)
{
	b->n = 0;
	b->owner = NULL;
	b->next = rec.pool;
	rec.pool = b;
	__atomic_store_n(&rec.npool, rec.npool + 1, __ATOMIC_RELAXED);
}

/* A buffer from the pool, or a new one under the cap; NULL if none (rec.mutex held). */
static struct rec_buf *pool_get(struct rec_thread *r)
{
	struct rec_buf *b = rec.pool;

	if (b) {
		rec.pool = b->next;
		__atomic_store_n(&rec.npool, rec.npool - 1, __ATOMIC_RELAXED);
	} else if (rec.nbufs < rec.maxbufs &&
		   (b = malloc(sizeof(*b) + rec.bufsz * sizeof(struct mml_event)))) {
		__atomic_store_n(&rec.nbufs, rec.nbufs + 1, __ATOMIC_RELAXED);
	}
	if (b) {
		b->n = 0;
		b->owner = r;
		b->next = NULL;
	}
	return b;
}

/* Write a popped buffer and put it back in the pool. */
static void retire_buf(struct rec_buf *b)
{
	pthread_mutex_lock(&rec.io_mutex);
	write_buf(b);
	pthread_mutex_unlock(&rec.io_mutex);
	pthread_mutex_lock(&rec.mutex);
	pool_put(b);
	pthread_mutex_unlock(&rec.mutex);
}

/*
 * Keep REC_SPARE buffers in the pool, allocated and touched, while under the
 * cap (rec.mutex held; dropped around the allocation). A fresh buffer costs
 * a page fault per 4 KiB the first time it is written: better here, on the
 * writer thread, than in a locking thread's probe.
 */
static void pool_top_up(void)
{
	while (rec.npool < REC_SPARE && rec.nbufs < rec.maxbufs && !rec.stop) {
		size_t bytes = sizeof(struct rec_buf) + rec.bufsz * sizeof(struct mml_event);
		struct rec_buf *b;

		__atomic_store_n(&rec.nbufs, rec.nbufs + 1, __ATOMIC_RELAXED);	/* reserve */
		pthread_mutex_unlock(&rec.mutex);
		b = malloc(bytes);
		for (size_t off = 0; b && off < bytes; off += 4096)
			((volatile char *)b)[off] = 0;	/* fault the pages in here */
		pthread_mutex_lock(&rec.mutex);
		if (!b) {
			__atomic_store_n(&rec.nbufs, rec.nbufs - 1, __ATOMIC_RELAXED);
			break;
		}
		pool_put(b);
	}
}

static void *writer_main(void *arg)
{
	pthread_mutex_lock(&rec.mutex);
	for (;;) {
		struct rec_buf *b = queue_pop();

		if (!b) {
			if (rec.stop)
				break;
			pool_top_up();
			if (rec.qhead)
				continue;
			pthread_cond_wait(&rec.cond, &rec.mutex);
			continue;
		}
		pthread_mutex_unlock(&rec.mutex);
		retire_buf(b);
		pthread_mutex_lock(&rec.mutex);
		pool_top_up();
	}
	pthread_mutex_unlock(&rec.mutex);
	return NULL;
}

/* Queue a full (or final) buffer for the writer thread (rec.mutex held). */
static void queue_locked(struct rec_buf *b)
{
	b->next = NULL;
	if (rec.qtail)
		rec.qtail->next = b;
	else
		rec.qhead = b;
	rec.qtail = b;
	if (!rec.writer_started && !rec.stop) {
		sigset_t all, old;

		/* The writer must not take the program's signals. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&rec.writer, NULL, writer_main, NULL) == 0)
			rec.writer_started = 1;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_cond_signal(&rec.cond);
}

static struct rec_thread *rec_thread_new(struct mml_thread *t)
{
	struct rec_thread *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->tid = t->tid;
	prctl(PR_GET_NAME, r->comm, 0, 0, 0);
	pthread_mutex_lock(&rec.mutex);
	r->cur = pool_get(r);
	r->next = rec.threads;
	rec.threads = r;
	pthread_mutex_unlock(&rec.mutex);
	t->rec = r;
	return r;
}

/* Append one event to the calling thread's buffer (inside a probe). */
static void rec_add(struct mm_struct *mm, const char *memcg_path, uint8_t type, uint8_t flags)
{
	struct mml_thread *t = mml_thread_self();
	struct rec_thread *r;
	struct rec_buf *b;
	struct mml_event *e;

	if (!__atomic_load_n(&rec.active, __ATOMIC_RELAXED) || !t)
		return;
	r = t->rec;
	if (__builtin_expect(!r, 0)) {
		r = rec_thread_new(t);
		if (!r) {
			__atomic_fetch_add(&rec.lost_nomem, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	b = r->cur;
	if (__builtin_expect(!b, 0)) {
		/* Dropping: every buffer was waiting for the disk. Is one free now? */
		if (__atomic_load_n(&rec.npool, __ATOMIC_RELAXED) ||
		    __atomic_load_n(&rec.nbufs, __ATOMIC_RELAXED) < rec.maxbufs) {
			pthread_mutex_lock(&rec.mutex);
			b = r->cur = pool_get(r);
			pthread_mutex_unlock(&rec.mutex);
		}
		if (!b) {
			__atomic_fetch_add(&r->lost, 1, __ATOMIC_RELAXED);
			return;
		}
	}
	e = &b->ev[b->n++];
	e->ts = event_clock();
	e->mm = (uint64_t)(uintptr_t)mm;
	e->memcg = mml_memcg_of(memcg_path)->id;
	e->tid = t->tid;
	e->cpu = current_cpu();
	e->type = type;
	e->flags = flags;
	if (__builtin_expect(b->n == rec.bufsz, 0)) {
		pthread_mutex_lock(&rec.mutex);
		queue_locked(b);
		r->cur = pool_get(r);
		pthread_mutex_unlock(&rec.mutex);
	}
}

static void rec_start_locking(void *data, struct mm_struct *mm, const char *memcg_path,
			      bool write)
{
	rec_add(mm, memcg_path, MML_EV_START_LOCKING, write ? MML_F_WRITE : 0);
}

static void rec_acquire_returned(void *data, struct mm_struct *mm, const char *memcg_path,
				 bool write, bool success)
{
	rec_add(mm, memcg_path, MML_EV_ACQUIRE_RETURNED,
		(write ? MML_F_WRITE : 0) | (success ? MML_F_SUCCESS : 0));
}

static void rec_released(void *data, struct mm_struct *mm, const char *memcg_path, bool write)
{
	rec_add(mm, memcg_path, MML_EV_RELEASED, write ? MML_F_WRITE : 0);
}

/* Thread exit (tracepoint.c's key destructor): hand over the partial buffer. */
void mml_recorder_thread_exit(struct mml_thread *t)
{
	struct rec_thread *r = t->rec;

	pthread_mutex_lock(&rec.mutex);
	if (!rec.closed && rec.pid == getpid()) {
		prctl(PR_GET_NAME, r->comm, 0, 0, 0);
		if (r->cur && r->cur->n)
			queue_locked(r->cur);
		else if (r->cur)
			pool_put(r->cur);
		r->cur = NULL;
	}
	pthread_mutex_unlock(&rec.mutex);
}

static void atfork_child(void)
{
	/* The parent owns the file and the writer thread; the child records nothing. */
	__atomic_store_n(&rec.active, 0, __ATOMIC_RELAXED);
}

/* Expand "%p" to the pid and "%%" to "%". */
static int expand_path(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (const char *s = in; *s; s++) {
		char tmp[24];
		const char *add = tmp;

		if (s[0] == '%' && s[1] == 'p') {
			snprintf(tmp, sizeof(tmp), "%d", (int)getpid());
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			strcpy(tmp, "%");
			s++;
		} else {
			tmp[0] = *s;
			tmp[1] = '\0';
		}
		if (o + strlen(add) >= outlen)
			return -1;
		strcpy(out + o, add);
		o += strlen(add);
	}
	out[o] = '\0';
	return 0;
}

static void write_info(void)
{
	char val[4096];
	ssize_t n = readlink("/proc/self/exe", val, sizeof(val) - 1);

	val[n > 0 ? n : 0] = '\0';
	mml_writer_info(rec.w, "program", n > 0 ? val : program_invocation_name);
	snprintf(val, sizeof(val), "%d", rec.pid);
	mml_writer_info(rec.w, "pid", val);
	mml_writer_info(rec.w, "clock", "CLOCK_MONOTONIC");
	mml_writer_info(rec.w, "writer", "libmmaplock recorder");
	mml_writer_info(rec.w, "memcg", MMAPLOCK_MEMCG ? "v1 memory line of /proc/self/cgroup, "
						    "else the v2 0:: line"
						  : "off (MMAPLOCK_MEMCG=0)");
	mml_writer_flush(rec.w);
}

__attribute__((constructor)) static void recorder_init(void)
{
	const char *env = getenv("MMAPLOCK_TRACE"), *bs = getenv("MMAPLOCK_TRACE_BUF");
	const char *nb = getenv("MMAPLOCK_TRACE_BUFS");
	struct mml_file_header h;
	char path[4096];
	long ncpu;

	if (!env || !*env)
		return;
	rec.bufsz = REC_BUF_DEFAULT;
	if (bs && *bs) {
		long v = strtol(bs, NULL, 10);

		rec.bufsz = v < REC_BUF_MIN ? REC_BUF_MIN : v > (1 << 20) ? (1 << 20) : (uint32_t)v;
	}
	rec.maxbufs = (uint32_t)(REC_MEM_DEFAULT / (rec.bufsz * sizeof(struct mml_event)));
	if (nb && *nb)
		rec.maxbufs = (uint32_t)strtoul(nb, NULL, 10);
	if (rec.maxbufs < 2)
		rec.maxbufs = 2;
	if (expand_path(env, path, sizeof(path)) < 0) {
		fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE=%s: name too long; not recording\n",
			env);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.source = MML_SOURCE_LIB;
	ncpu = sysconf(_SC_NPROCESSORS_CONF);
	h.ncpus = ncpu > 0 ? (uint32_t)ncpu : 1;
	h.start_realtime_ns = now_ns(CLOCK_REALTIME);
	rec.use_tsc = tsc_usable();
	if (rec.use_tsc)
		clock_pair(&rec.tsc0, &rec.ns0);
	else
		rec.ns0 = now_ns(CLOCK_MONOTONIC);
	h.start_ts_ns = rec.ns0;
	h.clock = MML_CLOCK_MONOTONIC;
	rec.w = mml_writer_open(path, &h);
	if (!rec.w) {
		fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE=%s: %s; not recording\n", path,
			strerror(errno));
		return;
	}
	rec.pid = getpid();
	write_info();
	pthread_mutex_lock(&rec.mutex);
	pool_top_up();
	pthread_mutex_unlock(&rec.mutex);
	pthread_atfork(NULL, NULL, atfork_child);
	__atomic_store_n(&rec.active, 1, __ATOMIC_RELAXED);
	if (register_trace_mmap_lock_start_locking(rec_start_locking, NULL) ||
	    register_trace_mmap_lock_acquire_returned(rec_acquire_returned, NULL) ||
	    register_trace_mmap_lock_released(rec_released, NULL))
		fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE=%s: cannot register; not recording\n",
			path);
}

__attribute__((destructor)) static void recorder_fini(void)
{
	struct rec_buf *b;
	uint64_t lost = 0;

	if (!rec.w || rec.pid != getpid())
		return;
	/* Grace period: when these return, no recorder probe runs anywhere. */
	unregister_trace_mmap_lock_start_locking(rec_start_locking, NULL);
	unregister_trace_mmap_lock_acquire_returned(rec_acquire_returned, NULL);
	unregister_trace_mmap_lock_released(rec_released, NULL);
	__atomic_store_n(&rec.active, 0, __ATOMIC_RELAXED);

	pthread_mutex_lock(&rec.mutex);
	rec.stop = 1;
	pthread_cond_signal(&rec.cond);
	pthread_mutex_unlock(&rec.mutex);
	if (rec.writer_started)
		pthread_join(rec.writer, NULL);

	pthread_mutex_lock(&rec.mutex);
	rec.closed = 1;
	while ((b = queue_pop())) {
		pthread_mutex_unlock(&rec.mutex);
		retire_buf(b);
		pthread_mutex_lock(&rec.mutex);
	}
	pthread_mutex_lock(&rec.io_mutex);
	for (struct rec_thread *r = rec.threads; r; r = r->next)
		if (r->cur && r->cur->n)
			write_buf(r->cur);
	for (struct rec_thread *r = rec.threads; r; r = r->next) {
		uint64_t l = __atomic_load_n(&r->lost, __ATOMIC_RELAXED);

		if (!r->task_written)
			mml_writer_task(rec.w, r->tid, (uint32_t)rec.pid, r->comm, 0, NULL);
		if (l)
			mml_writer_lost(rec.w, r->tid, l);
		lost += l;
		free(r->cur);
		r->cur = NULL;
	}
	while (rec.pool) {
		b = rec.pool;
		rec.pool = b->next;
		free(b);
	}
	lost += __atomic_load_n(&rec.lost_nomem, __ATOMIC_RELAXED);
	write_new_memcgs();
	mml_writer_close(rec.w, rec.written, lost);
	rec.w = NULL;
	pthread_mutex_unlock(&rec.io_mutex);
	pthread_mutex_unlock(&rec.mutex);
}

#else /* !MMAPLOCK_TRACING: there are no events to record */

void mml_recorder_thread_exit(struct mml_thread *t)
{
}

__attribute__((constructor)) static void recorder_init(void)
{
	const char *env = getenv("MMAPLOCK_TRACE");

	if (env && *env)
		fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE: built without tracing; not recording\n");
}

#endif /* MMAPLOCK_TRACING */
