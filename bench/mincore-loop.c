/* SPDX-License-Identifier: MIT */
/*
 * mincore-loop.c: an uncontended read-lock loop for per-event costs
 * (bench/bpf-bench.sh). N mincore() calls on one page from one thread:
 * each takes and releases this process's mmap_lock for read, three
 * mmap_lock events (start_locking, acquire_returned, released) when they
 * are on. Prints the ns per call.
 *
 * usage: mincore-loop [N]   (default 1000000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char vec;
	struct timespec a, b;
	void *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || n <= 0)
		return 1;
	*(volatile char *)p = 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		if (mincore(p, (size_t)page, &vec))
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
