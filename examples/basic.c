/* SPDX-License-Identifier: MIT */
/*
 * basic.c: libmmaplock in one page. An address space lock, a few lock
 * operations from two threads, and the three tracepoints shown two ways:
 * the library's text listener, which prints the kernel's trace lines, and a
 * probe of our own that counts events.
 *
 *   build/examples/example-basic                      # lines on stdout
 *   MMAPLOCK_TRACE=basic.mml build/examples/example-basic
 *                                                     # also record them to a file
 *   bpftrace -e 'usdt:build/libmmaplock.so:mmaplock:* { @[probe] = count(); }' \
 *            -c build/examples/example-basic          # or watch them from outside
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>

static struct mm_struct mm;

/* Our own probe: count acquisitions that failed (trylock, killed waits). */
static void count_failed(void *data, struct mm_struct *m, const char *memcg_path, bool write,
			 bool success)
{
	if (!success)
		__atomic_fetch_add((int *)data, 1, __ATOMIC_RELAXED);
}

/* A second thread: a reader that holds the lock a little while. */
static void *reader(void *arg)
{
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	return NULL;
}

int main(void)
{
	pthread_t th;
	int failed = 0, ret;

	mmap_init_lock(&mm);

	ret = mmap_lock_text_listener_start(stdout);
	if (ret == -ENOSYS)
		printf("libmmaplock was built without tracing: no events to show\n");
	register_trace_mmap_lock_acquire_returned(count_failed, &failed);

	/* Write lock, then a trylock that must fail while we hold it. */
	mmap_write_lock(&mm);
	if (!mmap_read_trylock(&mm))
		printf("# read trylock failed while write-locked, as it should\n");
	/* Let readers in without letting a writer between: downgrade. */
	mmap_write_downgrade(&mm);
	pthread_create(&th, NULL, reader, NULL);
	pthread_join(th, NULL);
	mmap_read_unlock(&mm);

	/* Killable variants return 0 or -EINTR. */
	if (mmap_write_lock_killable(&mm) == 0)
		mmap_write_unlock(&mm);

	mmap_lock_text_listener_stop();
	unregister_trace_mmap_lock_acquire_returned(count_failed, &failed);
	printf("# %d failed acquisition(s) seen by our own probe\n", failed);
	return 0;
}
