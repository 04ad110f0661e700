/* SPDX-License-Identifier: MIT */
/*
 * stress.h: the built-in mmap_lock workload behind `mmaplock stress`.
 *
 * Threads of three kinds share one address space: writers (mmap, mprotect,
 * munmap of a small anonymous mapping: each takes mmap_lock for write),
 * mincore readers (mincore over a resident region: mmap_lock for read on
 * 6.x, which has no per-VMA path for it) and smaps readers (read
 * /proc/self/smaps: the read lock held for a whole VMA walk). Thread i gets
 * kind i % 3 in the order writer, mincore, smaps, so -t 2 is one writer and
 * one mincore thread: the pair that contends hardest. With --stall the order
 * starts at mincore (-t 1: one reader, and the stall thread).
 */
#ifndef MML_STRESS_H
#define MML_STRESS_H

#include <stdint.h>

enum stress_kind { STRESS_WRITE, STRESS_MINCORE, STRESS_SMAPS, STRESS_NKINDS };

/*
 * --stall MS: one more thread, named "stress-stall", that holds the lock for
 * write about MS ms every STALL_PAUSE_MS (stress-stall.c). 0: none.
 */
extern unsigned stress_stall_ms;

struct stress_result {
	uint64_t ops[STRESS_NKINDS];	/* system calls (write: mmap+mprotect+munmap each count 1) */
	int threads[STRESS_NKINDS];
	double seconds;			/* measured wall time */
	uint64_t stalls;		/* --stall: write holds made */
};

extern const char *const stress_kind_name[STRESS_NKINDS];

/*
 * Run nthreads threads for seconds (stops early when *stop becomes
 * non-zero; stop may be NULL). tick, if set, is called about twice a
 * second from the calling thread with the ops so far.
 * Returns 0, or -1 with errno set (thread creation failed).
 */
int stress_run(int nthreads, double seconds, volatile int *stop,
	       void (*tick)(uint64_t ops, double elapsed), struct stress_result *res);

#include <stdatomic.h>
/* The stall thread's loop, until *stop. 0, or -1 (errno) when it cannot set up. */
int stress_stall_loop(unsigned ms, atomic_int *stop, atomic_uint_fast64_t *stalls);

#endif
