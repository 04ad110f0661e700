// SPDX-License-Identifier: MIT
/*
 * bench-lock.c: what the lock and its trace hooks cost.
 *
 *   bench-lock uncontended [--pthread | --probe] [--iters N]
 *	ns per read lock+unlock and per write lock+unlock on one thread,
 *	through the mmap_lock API (mmap_read_lock/unlock, mmap_write_lock/unlock),
 *	or through glibc's pthread_rwlock (--pthread). --probe registers a
 *	counting probe on the three events first (tracing builds only). Run
 *	with MMAPLOCK_TRACE=FILE in the environment, it measures the recorder.
 *   bench-lock contended --reads PCT [--pthread] [--threads T] [--ms MS]
 *	T threads (default 2, each pinned to its own CPU) hammer one lock for MS
 *	milliseconds, each op a read with probability PCT %, else a write;
 *	prints total ops per second.
 *
 * Output: "key value" lines (rd_ns, wr_ns, events; or ops_per_s and min_max,
 * the slowest thread's ops over the fastest one's); bench/run.sh
 * runs this binary from the tracing and the non-tracing build, takes medians
 * and prints the table and the JSON line. No timing is asserted anywhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmaplock/mmap_lock.h>
#if MMAPLOCK_TRACING
#include <mmaplock/trace.h>
#endif

static struct mm_struct mm __attribute__((aligned(64)));	/* own cache line */
static pthread_rwlock_t prw __attribute__((aligned(64))) = PTHREAD_RWLOCK_INITIALIZER;
static unsigned long probe_hits __attribute__((aligned(64)));

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#if MMAPLOCK_TRACING
static void count_start(void *data, struct mm_struct *m, const char *memcg_path, bool write)
{
	__atomic_fetch_add(&probe_hits, 1, __ATOMIC_RELAXED);
}

static void count_acquire(void *data, struct mm_struct *m, const char *memcg_path, bool write,
			  bool success)
{
	__atomic_fetch_add(&probe_hits, 1, __ATOMIC_RELAXED);
}

static void count_released(void *data, struct mm_struct *m, const char *memcg_path, bool write)
{
	__atomic_fetch_add(&probe_hits, 1, __ATOMIC_RELAXED);
}

static int probes(bool on)
{
	if (on)
		return register_trace_mmap_lock_start_locking(count_start, NULL) ||
		       register_trace_mmap_lock_acquire_returned(count_acquire, NULL) ||
		       register_trace_mmap_lock_released(count_released, NULL);
	return unregister_trace_mmap_lock_start_locking(count_start, NULL) ||
	       unregister_trace_mmap_lock_acquire_returned(count_acquire, NULL) ||
	       unregister_trace_mmap_lock_released(count_released, NULL);
}
#else
static int probes(bool on)
{
	fprintf(stderr, "bench-lock: --probe: this build has no tracing (MMAPLOCK_TRACING=OFF)\n");
	return -1;
}
#endif

/* ---------------------------------------------------------------- uncontended */

static void __attribute__((noinline)) loop_mml_rd(long n)
{
	for (long i = 0; i < n; i++) {
		mmap_read_lock(&mm);
		mmap_read_unlock(&mm);
	}
}

static void __attribute__((noinline)) loop_mml_wr(long n)
{
	for (long i = 0; i < n; i++) {
		mmap_write_lock(&mm);
		mmap_write_unlock(&mm);
	}
}

static void __attribute__((noinline)) loop_pt_rd(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_rwlock_rdlock(&prw);
		pthread_rwlock_unlock(&prw);
	}
}

static void __attribute__((noinline)) loop_pt_wr(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_rwlock_wrlock(&prw);
		pthread_rwlock_unlock(&prw);
	}
}

/*
 * ns per iteration: the best of 3 timed slices of n/3 iterations each, so
 * that a slice hit by another process on this shared machine (noise only
 * ever adds time) does not count; bench/run.sh takes the median of these
 * over several processes.
 */
static double timed(void (*fn)(long), long n)
{
	double t0, t, best = 0;
	int k;

	fn(n / 10);		/* warm up */
	n = n / 3 > 0 ? n / 3 : 1;
	for (k = 0; k < 3; k++) {
		t0 = now_ns();
		fn(n);
		t = (now_ns() - t0) / n;
		if (k == 0 || t < best)
			best = t;
	}
	return best;
}

static int uncontended(bool pt, bool probe, long iters)
{
	double rd, wr;

	if (probe && probes(true))
		return 1;
	rd = timed(pt ? loop_pt_rd : loop_mml_rd, iters);
	wr = timed(pt ? loop_pt_wr : loop_mml_wr, iters);
	if (probe && probes(false))
		return 1;
	printf("rd_ns %.2f\nwr_ns %.2f\n", rd, wr);
	if (probe)
		printf("events %lu\n", probe_hits);
	return 0;
}

/* ---------------------------------------------------------------- contended */

struct worker {
	pthread_t th;
	bool pt;
	unsigned int reads;	/* percent */
	unsigned int seed;
	int id;
	unsigned long ops;
};

static int stop __attribute__((aligned(64)));	/* read-mostly, own line */
static volatile unsigned long shared[8] __attribute__((aligned(64)));	/* touched under the lock */

/*
 * Pin worker i to the i-th CPU we may run on: two threads time-sharing one
 * core do not contend at all (each runs alone for a time slice), which on a
 * busy machine made "contended" figures ten times too good.
 */
static void pin(int i)
{
	cpu_set_t allowed, one;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		if (n++ == i % CPU_COUNT(&allowed)) {
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
			return;
		}
	}
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned long ops = 0, x = w->seed | 1;

	pin(w->id);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		bool rd;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift */
		rd = x % 100 < w->reads;
		if (w->pt) {
			if (rd) {
				pthread_rwlock_rdlock(&prw);
				(void)shared[0], (void)shared[1];
			} else {
				pthread_rwlock_wrlock(&prw);
				shared[0]++, shared[1]++;
			}
			pthread_rwlock_unlock(&prw);
		} else if (rd) {
			mmap_read_lock(&mm);
			(void)shared[0], (void)shared[1];
			mmap_read_unlock(&mm);
		} else {
			mmap_write_lock(&mm);
			shared[0]++, shared[1]++;
			mmap_write_unlock(&mm);
		}
		ops++;
	}
	w->ops = ops;
	return NULL;
}

static int contended(bool pt, unsigned int reads, int nthreads, long ms)
{
	struct worker w[64];
	struct timespec d = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	unsigned long total = 0, lo = ~0UL, hi = 0;
	double t0, t1;
	int i;

	for (i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ .pt = pt, .reads = reads, .seed = 0x9e3779b9u * (i + 1),
				  .id = i };
		if (pthread_create(&w[i].th, NULL, worker_fn, &w[i])) {
			fprintf(stderr, "bench-lock: pthread_create failed\n");
			return 1;
		}
	}
	t0 = now_ns();
	nanosleep(&d, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].th, NULL);
		total += w[i].ops;
		lo = w[i].ops < lo ? w[i].ops : lo;
		hi = w[i].ops > hi ? w[i].ops : hi;
	}
	t1 = now_ns();
	printf("ops_per_s %.0f\n", total / ((t1 - t0) / 1e9));
	/* fairness: the slowest thread's share of the fastest one's ops */
	printf("min_max %.3f\n", hi ? (double)lo / hi : 0.0);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: bench-lock uncontended [--pthread|--probe] [--iters N]\n"
			"       bench-lock contended --reads PCT [--pthread] [--threads T] [--ms MS]\n");
}

int main(int argc, char **argv)
{
	bool pt = false, probe = false;
	long iters = 10000000, ms = 500, v;
	int reads = -1, nthreads = 2, i;
	char *end;

	if (argc < 2) {
		usage();
		return 2;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--pthread")) {
			pt = true;
		} else if (!strcmp(a, "--probe")) {
			probe = true;
		} else if (i + 1 < argc && (!strcmp(a, "--iters") || !strcmp(a, "--reads") ||
					    !strcmp(a, "--threads") || !strcmp(a, "--ms"))) {
			errno = 0;
			v = strtol(argv[++i], &end, 10);
			if (errno || *end || v < 0) {
				fprintf(stderr, "bench-lock: %s: not a number: %s\n", a, argv[i]);
				return 2;
			}
			if (!strcmp(a, "--iters"))
				iters = v;
			else if (!strcmp(a, "--reads"))
				reads = (int)v;
			else if (!strcmp(a, "--threads"))
				nthreads = (int)v;
			else
				ms = v;
		} else {
			fprintf(stderr, "bench-lock: unknown option: %s\n", a);
			usage();
			return 2;
		}
	}
	if (iters < 10 || nthreads < 1 || nthreads > 64 || reads > 100) {
		fprintf(stderr, "bench-lock: --iters >= 10, --threads 1..64, --reads 0..100\n");
		return 2;
	}
	mmap_init_lock(&mm);
	if (!strcmp(argv[1], "uncontended"))
		return uncontended(pt, probe, iters);
	if (!strcmp(argv[1], "contended")) {
		if (reads < 0) {
			fprintf(stderr, "bench-lock: contended needs --reads PCT\n");
			return 2;
		}
		return contended(pt, (unsigned int)reads, nthreads, ms);
	}
	fprintf(stderr, "bench-lock: unknown mode: %s\n", argv[1]);
	usage();
	return 2;
}
