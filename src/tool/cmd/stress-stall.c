/* SPDX-License-Identifier: MIT */
/*
 * stress-stall.c: `mmaplock stress --stall MS`, a thread that holds this
 * process's mmap_lock for write about MS ms, again and again: a
 * deterministic stall for `mmaplock watch` demos and tests.
 *
 * How. munmap() is no use on 6.x kernels: it downgrades the lock to read
 * before it zaps the pages, so readers (mincore) do not wait behind it.
 * mmap(MAP_FIXED) over an existing mapping zaps the old page tables with
 * the lock still held for write. The cost of a zap is per page table
 * entry, so the entries are made cheap in memory: one 64 MB memfd is
 * mapped K times (MAP_SHARED, one VMA per copy) into a reserved range and
 * populated (MADV_POPULATE_READ: under the read lock, a writer-only
 * cost), then one mmap(MAP_FIXED, PROT_NONE) over the whole range throws
 * all K copies away under the write lock. Real memory: the 64 MB and the
 * page tables (2 MB per GB of copies). Each round measures its zap and
 * scales K so that the next one lasts about MS ms (the first round is a
 * guess), capped at STALL_MAX_COPIES. Rounds are STALL_PAUSE_MS apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "stress.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define STALL_COPY		(64ul << 20)	/* bytes of the memfd, mapped K times */
#define STALL_MAX_COPIES	512		/* 32 GB of address space, 64 MB of page tables */
#define STALL_PAUSE_MS		300

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Map and populate k copies of fd at base. 0, or -1 (errno). */
static int stall_fill(char *base, int fd, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		char *p = base + (size_t)i * STALL_COPY;
		if (mmap(p, STALL_COPY, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
			return -1;
		if (madvise(p, STALL_COPY, MADV_POPULATE_READ) && errno != EINVAL)
			return -1;
	}
	return 0;
}

/* The zap under the write lock: the whole range back to reserved address space. */
static int stall_zap(char *base)
{
	return mmap(base, (size_t)STALL_MAX_COPIES * STALL_COPY, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0;
}

int stress_stall_loop(unsigned ms, atomic_int *stop, atomic_uint_fast64_t *stalls)
{
	unsigned k = 16;
	int fd = memfd_create("mmaplock-stall", MFD_CLOEXEC);
	char *base;

	prctl(PR_SET_NAME, "stress-stall");
	if (fd < 0 || ftruncate(fd, (off_t)STALL_COPY))
		return -1;
	base = mmap(NULL, (size_t)STALL_MAX_COPIES * STALL_COPY, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		close(fd);
		return -1;
	}
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		if (stall_fill(base, fd, k))
			break;
		double t0 = mono_s();
		if (stall_zap(base))
			break;
		double took = (mono_s() - t0) * 1e3;
		atomic_fetch_add_explicit(stalls, 1, memory_order_relaxed);
		if (took > 0.1) {
			double nk = k * (ms / took);
			k = nk < 1 ? 1 : nk > STALL_MAX_COPIES ? STALL_MAX_COPIES : (unsigned)(nk + 0.5);
		}
		for (int i = 0; i < STALL_PAUSE_MS / 10 && !atomic_load_explicit(stop, memory_order_relaxed); i++)
			poll(NULL, 0, 10);
	}
	munmap(base, (size_t)STALL_MAX_COPIES * STALL_COPY);
	close(fd);
	return 0;
}
