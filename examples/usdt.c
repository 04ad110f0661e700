/* SPDX-License-Identifier: MIT */
/*
 * usdt.c: watch libmmaplock from outside with perf or bpftrace. The library
 * has USDT probes (provider "mmaplock": start_locking, acquire_returned,
 * released) whose semaphores make an attached tool a listener like any
 * registered probe. This program waits until a tool is attached to all three
 * (at most WAIT seconds), then takes and releases its lock N times in a
 * known pattern and prints how many events of each kind it fired.
 *
 *   build/examples/example-usdt 1000 &
 *   bpftrace -p $! -e 'usdt:build/libmmaplock.so:mmaplock:* { @[probe] = count(); }'
 *
 * Usage: example-usdt [N [WAIT]]   (defaults 1000 and 30)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>

/* Called once the workload is over: a tool may put a uprobe here to stop. */
static __attribute__((noinline, used)) void example_usdt_done(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, wait_s = argc > 2 ? atol(argv[2]) : 30;
	unsigned int all = (1u << MMAP_LOCK_NR_EVENTS) - 1;
	struct mm_struct mm;
	long failed = 0;

	if (n <= 0 || wait_s < 0) {
		fprintf(stderr, "usage: example-usdt [N [WAIT]]\n");
		return 2;
	}
	mmap_init_lock(&mm);
	printf("pid %d: waiting for a USDT probe on mmaplock:* (at most %ld s)\n", (int)getpid(),
	       wait_s);
	fflush(stdout);
	for (long i = 0; i < wait_s * 100 && mmap_lock_usdt_attached() != all; i++)
		usleep(10000);
	if (mmap_lock_usdt_attached() != all) {
		printf("no tool attached (mask %#x); running anyway\n", mmap_lock_usdt_attached());
	} else {
		/* A tool may attach its probes one by one: give the last one a moment. */
		usleep(200000);
	}

	for (long i = 0; i < n; i++) {
		mmap_write_lock(&mm);			/* start(w), acquire(w, ok) */
		if (!mmap_read_trylock(&mm))		/* start(r), acquire(r, failed) */
			failed++;
		mmap_write_unlock(&mm);			/* released(w) */
		mmap_read_lock(&mm);			/* start(r), acquire(r, ok) */
		mmap_read_unlock(&mm);			/* released(r) */
	}
	example_usdt_done();
	printf("fired: start_locking %ld acquire_returned %ld (failed %ld) released %ld\n", 3 * n,
	       3 * n, failed, 2 * n);
	return 0;
}
