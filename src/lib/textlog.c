/* SPDX-License-Identifier: MIT */
/*
 * textlog.c: the text listener. Prints every event as the kernel's ftrace
 * "trace" file would show it, so that people (and `mmaplock report`, which
 * reads ftrace text) can read it:
 *
 *   <comm>-<tid> [<cpu>] ..... <sec>.<usec>: mmap_lock_start_locking: mm=<hex> memcg_path=<path> write=true
 *   <comm>-<tid> [<cpu>] ..... <sec>.<usec>: mmap_lock_acquire_returned: mm=<hex> memcg_path=<path> write=true success=false
 *   <comm>-<tid> [<cpu>] ..... <sec>.<usec>: mmap_lock_released: mm=<hex> memcg_path=<path> write=false
 *
 * comm is right-aligned in 16 columns and tid left-aligned in 7, cpu has
 * three digits, the five dots stand for ftrace's irq/preempt flags (always
 * clear in user space), the time is CLOCK_MONOTONIC in seconds with
 * microseconds, and mm is printed as 16 hex digits without "0x", as the
 * kernel prints a %p. Each line is formatted on the stack and written with
 * one fwrite(), which locks the stream: lines of different threads never mix.
 *
 * mmap_lock_text_listener_start(f) / _stop() attach and detach it;
 * MMAPLOCK_TRACE_TEXT=FILE (or "stderr", "stdout") starts it at load time
 * and the library closes FILE at exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include "trace-internal.h"

#if MMAPLOCK_TRACING

static pthread_mutex_t text_mutex = PTHREAD_MUTEX_INITIALIZER;	/* start/stop */
static FILE *text_file;		/* the stream of the running listener (under text_mutex) */
static FILE *text_env_file;	/* opened for MMAPLOCK_TRACE_TEXT; closed at exit */

static void text_line(FILE *f, const char *event, struct mm_struct *mm, const char *memcg_path,
		      const char *fields)
{
	char line[640], comm[17] = { 0 };
	struct mml_thread *t = mml_thread_self();
	struct timespec ts;
	int cpu = sched_getcpu(), n;

	prctl(PR_GET_NAME, comm, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line),
		     "%16s-%-7u [%03d] ..... %5llu.%06llu: %s: mm=%016" PRIxPTR
		     " memcg_path=%s %s\n",
		     comm, t ? t->tid : 0, cpu < 0 ? 0 : cpu, (unsigned long long)ts.tv_sec,
		     (unsigned long long)(ts.tv_nsec / 1000), event, (uintptr_t)mm, memcg_path,
		     fields);
	if (n > 0)
		fwrite(line, 1, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, f);
}

static void text_start_locking(void *data, struct mm_struct *mm, const char *memcg_path,
			       bool write)
{
	text_line(data, "mmap_lock_start_locking", mm, memcg_path,
		  write ? "write=true" : "write=false");
}

static void text_acquire_returned(void *data, struct mm_struct *mm, const char *memcg_path,
				  bool write, bool success)
{
	static const char *const f[2][2] = {
		{ "write=false success=false", "write=false success=true" },
		{ "write=true success=false", "write=true success=true" },
	};

	text_line(data, "mmap_lock_acquire_returned", mm, memcg_path, f[write][success]);
}

static void text_released(void *data, struct mm_struct *mm, const char *memcg_path, bool write)
{
	text_line(data, "mmap_lock_released", mm, memcg_path,
		  write ? "write=true" : "write=false");
}

MMAPLOCK_API int mmap_lock_text_listener_start(FILE *f)
{
	int ret;

	if (!f)
		return -EINVAL;
	pthread_mutex_lock(&text_mutex);
	if (text_file) {
		pthread_mutex_unlock(&text_mutex);
		return -EBUSY;
	}
	ret = register_trace_mmap_lock_start_locking(text_start_locking, f);
	if (!ret) {
		ret = register_trace_mmap_lock_acquire_returned(text_acquire_returned, f);
		if (ret)
			unregister_trace_mmap_lock_start_locking(text_start_locking, f);
	}
	if (!ret) {
		ret = register_trace_mmap_lock_released(text_released, f);
		if (ret) {
			unregister_trace_mmap_lock_start_locking(text_start_locking, f);
			unregister_trace_mmap_lock_acquire_returned(text_acquire_returned, f);
		}
	}
	if (!ret)
		text_file = f;
	pthread_mutex_unlock(&text_mutex);
	return ret;
}

MMAPLOCK_API void mmap_lock_text_listener_stop(void)
{
	FILE *f;

	pthread_mutex_lock(&text_mutex);
	f = text_file;
	if (f) {
		/* Each returns after the last line being printed with it is done. */
		unregister_trace_mmap_lock_start_locking(text_start_locking, f);
		unregister_trace_mmap_lock_acquire_returned(text_acquire_returned, f);
		unregister_trace_mmap_lock_released(text_released, f);
		text_file = NULL;
		fflush(f);
	}
	pthread_mutex_unlock(&text_mutex);
}

__attribute__((constructor)) static void textlog_init(void)
{
	const char *env = getenv("MMAPLOCK_TRACE_TEXT");
	FILE *f;

	if (!env || !*env)
		return;
	if (!strcmp(env, "stderr")) {
		f = stderr;
	} else if (!strcmp(env, "stdout")) {
		f = stdout;
	} else {
		f = fopen(env, "we");
		if (!f) {
			fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE_TEXT=%s: %s; not tracing\n", env,
				strerror(errno));
			return;
		}
		setvbuf(f, NULL, _IOFBF, 1 << 16);
		text_env_file = f;
	}
	if (mmap_lock_text_listener_start(f) < 0) {
		fprintf(stderr, "libmmaplock: MMAPLOCK_TRACE_TEXT=%s: cannot register; not tracing\n",
			env);
		if (text_env_file)
			fclose(text_env_file);
		text_env_file = NULL;
	}
}

__attribute__((destructor)) static void textlog_fini(void)
{
	if (!text_env_file)
		return;
	mmap_lock_text_listener_stop();
	fclose(text_env_file);
	text_env_file = NULL;
}

#else /* !MMAPLOCK_TRACING */

MMAPLOCK_API int mmap_lock_text_listener_start(FILE *f)
{
	return -ENOSYS;
}

MMAPLOCK_API void mmap_lock_text_listener_stop(void)
{
}

#endif /* MMAPLOCK_TRACING */
