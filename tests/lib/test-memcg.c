/* SPDX-License-Identifier: MIT */
/*
 * test-memcg.c: the memcg path that events carry.
 *
 * - with a listener, every event carries the path of /proc/self/cgroup (v1
 *   memory line if any, else the v2 "0::" line), the same string that
 *   mmap_lock_get_memcg_path() returns, at most 255 bytes;
 * - an address space owned by another process carries that process's path;
 * - built with MMAPLOCK_MEMCG=0: events carry "" and nothing is looked up.
 * (test-trace-reg.c checks that no listener means no lookup;
 * test-memcg-move.c moves the process between cgroups and checks the bound.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>
#include "memcg-util.h"

#include "test-util.h"

static char seen[MEMCG_PATH_BUF_SIZE + 16];
static int nseen;

static void p_start(void *data, struct mm_struct *mm, const char *path, bool write)
{
	snprintf(seen, sizeof(seen), "%s", path);
	nseen++;
}

int main(void)
{
	struct mm_struct mm;
	char want[8192], got[MEMCG_PATH_BUF_SIZE];
	int kind = test_memcg_path(want, sizeof(want));

	mmap_init_lock(&mm);
	want[MEMCG_PATH_BUF_SIZE - 1] = '\0';	/* the library's bound */
#if MMAPLOCK_TRACING
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_start, NULL) == 0, "register");
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	CHECK_SOFT(nseen == 1, "probe called %d times", nseen);
#if MMAPLOCK_MEMCG
	CHECK_SOFT(!strcmp(seen, want), "event path '%s', /proc/self/cgroup says '%s' (kind %d)", seen,
	      want, kind);
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, got, sizeof(got)) == (int)strlen(want), "length");
	CHECK_SOFT(!strcmp(got, want), "get_memcg_path '%s', want '%s'", got, want);
	/* A small buffer is cut, never overrun. */
	memset(got, 'x', sizeof(got));
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, got, 4) == (int)(strlen(want) < 3 ? strlen(want) : 3),
	      "short buffer");
	CHECK_SOFT(got[3] == '\0' || strlen(want) < 3, "short buffer not terminated");
	CHECK_SOFT(got[4] == 'x', "wrote past a 4-byte buffer");
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, NULL, 10) == -EINVAL, "NULL buffer");

	/* An mm owned by another process (our child) carries the child's path. */
	{
		struct mm_struct other;
		pid_t child = fork();

		if (child == 0) {
			pause();
			_exit(0);
		}
		mmap_init_lock(&other);
		other.owner_pid = child;
		nseen = 0;
		mmap_write_lock(&other);
		mmap_write_unlock(&other);
		CHECK_SOFT(nseen == 1 && !strcmp(seen, want), "child's mm: '%s', want '%s'", seen, want);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
#else
	CHECK_SOFT(!strcmp(seen, ""), "MEMCG off: event path '%s'", seen);
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, got, sizeof(got)) == -ENOSYS, "MEMCG off: get");
	CHECK_SOFT(got[0] == '\0', "MEMCG off: path '%s'", got);
	CHECK_SOFT(mmap_lock_memcg_lookups() == 0, "MEMCG off: %lu lookups", mmap_lock_memcg_lookups());
	(void)kind;
#endif
	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_start, NULL) == 0, "unregister");
#else
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, got, sizeof(got)) == -ENOSYS, "tracing off: get");
	CHECK_SOFT(got[0] == '\0', "tracing off: path '%s'", got);
	(void)kind;
	(void)p_start;
#endif
	if (test_failures) {
		fprintf(stderr, "test-memcg: %d failures\n", test_failures);
		return 1;
	}
	printf("test-memcg: ok (path '%s')\n", want);
	return 0;
}
