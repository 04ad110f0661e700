/* SPDX-License-Identifier: MIT */
/*
 * stress.c: see stress.h. Each thread counts its operations in its own
 * cache line (no sharing on the hot path); the main thread sleeps, sums
 * the counters for the live line, and raises the stop flag when the time
 * is up. Counters are relaxed atomics: the sum is exact after the joins.
 *
 * Start and stop. Creating a thread maps its stack, which takes the
 * mmap_lock for write: once writers run, each pthread_create() queues
 * behind them (2 s for 256 threads were seen). So every thread waits for
 * the go flag, raised once all exist, and the clock starts then. Stop is
 * checked between system calls, never only between batches: one call can
 * wait for milliseconds behind many queued writers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "stress.h"

const char *const stress_kind_name[STRESS_NKINDS] = { "mmap/mprotect/munmap", "mincore", "smaps" };

#define REGION	(1u << 20)	/* mincore target */
#define MAPLEN	(64u << 10)	/* writers' mapping */

struct worker {
	_Alignas(64) atomic_uint_fast64_t ops;
	enum stress_kind kind;
	pthread_t th;
	char pad[64];
};

static atomic_int stop_all;
static atomic_int go;		/* all threads created: start */
static void *region;
static atomic_uint_fast64_t stalls;
unsigned stress_stall_ms;

static void *stall_thread(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&go, memory_order_acquire))
		poll(NULL, 0, 1);
	stress_stall_loop(stress_stall_ms, &stop_all, &stalls);
	return NULL;
}

static inline int stopping(void)
{
	return atomic_load_explicit(&stop_all, memory_order_relaxed);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char vec[REGION / 4096 + 1];
	char buf[16384];

	while (!atomic_load_explicit(&go, memory_order_acquire))
		poll(NULL, 0, 1);
	while (!stopping()) {
		switch (w->kind) {
		case STRESS_WRITE: {
			void *p = mmap(NULL, MAPLEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				break;
			mprotect(p, (size_t)pg, PROT_READ);
			munmap(p, MAPLEN);
			atomic_fetch_add_explicit(&w->ops, 3, memory_order_relaxed);
			break;
		}
		case STRESS_MINCORE: {
			int i;
			/* stop checked each call: behind many queued writers one
			 * call can wait for milliseconds */
			for (i = 0; i < 64 && !stopping(); i++)
				mincore(region, REGION, vec);
			atomic_fetch_add_explicit(&w->ops, (uint64_t)i, memory_order_relaxed);
			break;
		}
		case STRESS_SMAPS: {
			int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				break;
			/* one read() per chunk, each under the lock for read; with
			 * many writers the file is long and every chunk queues, so
			 * stop is checked between chunks (a cut read still counts) */
			while (!stopping() && read(fd, buf, sizeof(buf)) > 0)
				;
			close(fd);
			atomic_fetch_add_explicit(&w->ops, 1, memory_order_relaxed);
			break;
		}
		default:
			break;
		}
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int stress_run(int nthreads, double seconds, volatile int *stop,
	       void (*tick)(uint64_t ops, double elapsed), struct stress_result *res)
{
	struct worker *w;
	int started = 0, err = 0, stalling = 0;
	pthread_t stall_th;

	memset(res, 0, sizeof(*res));
	w = aligned_alloc(64, sizeof(*w) * (size_t)nthreads);
	if (!w)
		return -1;
	memset(w, 0, sizeof(*w) * (size_t)nthreads);
	region = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		free(w);
		return -1;
	}
	memset(region, 1, REGION);
	atomic_store(&stop_all, 0);
	atomic_store(&go, 0);
	for (int i = 0; i < nthreads; i++) {
		/* with a stall thread the readers come first: -t 1 is one reader behind it */
		w[i].kind = (enum stress_kind)((i + (stress_stall_ms ? 1 : 0)) % STRESS_NKINDS);
		if ((err = pthread_create(&w[i].th, NULL, work, &w[i])))
			break;
		started++;
	}
	atomic_store(&stalls, 0);
	if (!err && stress_stall_ms) {
		if ((err = pthread_create(&stall_th, NULL, stall_thread, NULL)) == 0)
			stalling = 1;
	}
	double t0 = now_s();
	atomic_store_explicit(&go, 1, memory_order_release);
	double t = t0, last = t0;
	while (!err && t - t0 < seconds && !(stop && *stop)) {
		poll(NULL, 0, 50);
		t = now_s();
		if (tick && t - last >= 0.5) {
			uint64_t sum = 0;
			for (int i = 0; i < started; i++)
				sum += atomic_load_explicit(&w[i].ops, memory_order_relaxed);
			tick(sum, t - t0);
			last = t;
		}
	}
	atomic_store(&stop_all, 1);
	for (int i = 0; i < started; i++)
		pthread_join(w[i].th, NULL);
	if (stalling)
		pthread_join(stall_th, NULL);
	res->stalls = atomic_load(&stalls);
	res->seconds = now_s() - t0;
	for (int i = 0; i < started; i++) {
		res->ops[w[i].kind] += atomic_load(&w[i].ops);
		res->threads[w[i].kind]++;
	}
	munmap(region, REGION);
	free(w);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
