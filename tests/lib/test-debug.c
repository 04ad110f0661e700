// SPDX-License-Identifier: MIT
/*
 * test-debug.c: misuse of the lock. Debug builds (MMAPLOCK_DEBUG: the
 * Debug/sanitizer trees) must abort with "mmaplock: <call>: <what>", like
 * lockdep; each case runs in a forked child and the test checks that the
 * child died of SIGABRT with that message. Release builds document that
 * the assert functions do nothing: the test checks they return.
 * __mml_bad_mm() aborts in every build.
 */
#include <pthread.h>
#include <string.h>

#include <mmaplock/mmap_lock.h>
#include "test-util.h"

static struct mm_struct mm;

static void bad_mm_null(void *arg)
{
	__mml_bad_mm(NULL, "mmap_read_lock");
}

static void bad_mm_uninit(void *arg)
{
	struct mm_struct junk;

	memset(&junk, 0, sizeof(junk));
	__mml_bad_mm(&junk, "mmap_write_lock");
}

static void assert_positive(void)
{
	mmap_init_lock(&mm);
	mmap_read_lock(&mm);
	mmap_assert_locked(&mm);
	mmap_read_unlock(&mm);
	mmap_write_lock(&mm);
	mmap_assert_locked(&mm);
	mmap_assert_write_locked(&mm);
	mmap_write_downgrade(&mm);
	mmap_assert_locked(&mm);
	mmap_read_unlock(&mm);
	CHECK(!mml_rwsem_is_locked(&mm.mmap_lock));
}

#ifdef MMAPLOCK_DEBUG
static void read_unlock_unheld(void *arg)
{
	mmap_read_unlock(&mm);
}

static void read_unlock_write_hold(void *arg)
{
	mmap_write_lock(&mm);
	mmap_read_unlock(&mm);
}

static void write_unlock_read_hold(void *arg)
{
	mmap_read_lock(&mm);
	mmap_write_unlock(&mm);
}

static void write_unlock_unheld(void *arg)
{
	mmap_write_unlock(&mm);
}

static void downgrade_read_hold(void *arg)
{
	mmap_read_lock(&mm);
	mmap_write_downgrade(&mm);
}

static void *unlock_other(void *arg)
{
	mmap_write_unlock(&mm);
	return NULL;
}

static void write_unlock_other_thread(void *arg)
{
	pthread_t th;

	mmap_write_lock(&mm);
	pthread_create(&th, NULL, unlock_other, NULL);
	pthread_join(th, NULL);
}

static void assert_locked_unlocked(void *arg)
{
	mmap_assert_locked(&mm);
}

static void assert_write_locked_read(void *arg)
{
	mmap_read_lock(&mm);
	mmap_assert_write_locked(&mm);
}

static void *assert_other(void *arg)
{
	mmap_assert_write_locked(&mm);
	return NULL;
}

static void assert_write_locked_other_thread(void *arg)
{
	pthread_t th;

	mmap_write_lock(&mm);
	pthread_create(&th, NULL, assert_other, NULL);
	pthread_join(th, NULL);
}

static void null_mm(void *arg)
{
	mmap_read_lock((struct mm_struct *)arg);
}

static void uninit_mm(void *arg)
{
	struct mm_struct junk;

	memset(&junk, 0, sizeof(junk));
	mmap_write_trylock(&junk);
}

static void rwsem_direct(void *arg)
{
	struct mml_rwsem sem;

	mml_rwsem_init(&sem);
	mml_up_read(&sem);
}

static void check_debug(void)
{
	CHECK(expect_death(read_unlock_unheld, NULL,
			   "mmaplock: mmap_read_unlock: unlock of an unheld lock"));
	CHECK(expect_death(read_unlock_write_hold, NULL,
			   "mmaplock: mmap_read_unlock: read-unlock of a write hold"));
	CHECK(expect_death(write_unlock_read_hold, NULL,
			   "mmaplock: mmap_write_unlock: write-unlock of a read hold"));
	CHECK(expect_death(write_unlock_unheld, NULL,
			   "mmaplock: mmap_write_unlock: unlock of an unheld lock"));
	CHECK(expect_death(downgrade_read_hold, NULL,
			   "mmaplock: mmap_write_downgrade: write-unlock of a read hold"));
	CHECK(expect_death(write_unlock_other_thread, NULL,
			   "mmaplock: mmap_write_unlock: write-unlock by a thread that does not hold it"));
	CHECK(expect_death(assert_locked_unlocked, NULL,
			   "mmaplock: mmap_assert_locked: assertion failed: lock not held"));
	CHECK(expect_death(assert_write_locked_read, NULL,
			   "mmaplock: mmap_assert_write_locked: assertion failed: lock not write-held"));
	CHECK(expect_death(assert_write_locked_other_thread, NULL,
			   "mmaplock: mmap_assert_write_locked: assertion failed: write-held by another thread"));
	CHECK(expect_death(null_mm, NULL, "mmaplock: mmap_read_lock: NULL mm"));
	CHECK(expect_death(uninit_mm, NULL, "mmaplock: mmap_write_trylock: uninitialised mm"));
	CHECK(expect_death(rwsem_direct, NULL, "mmaplock: rwsem_direct: unlock of an unheld lock"));
	/* the children's misuse left the parent's lock alone */
	CHECK(!mml_rwsem_is_locked(&mm.mmap_lock));
	printf("debug build: 12 misuse cases abort with the call named\n");
}
#else
static void check_release(void)
{
	/* documented: the asserts are no-ops in release builds */
	mmap_assert_locked(&mm);
	mmap_assert_write_locked(&mm);
	mmap_read_lock(&mm);
	mmap_assert_write_locked(&mm);
	mmap_read_unlock(&mm);
	CHECK(!mml_rwsem_is_locked(&mm.mmap_lock));
	printf("release build: the assert functions return\n");
}
#endif

int main(void)
{
	watchdog(60);
	assert_positive();
	CHECK(expect_death(bad_mm_null, NULL, "mmaplock: mmap_read_lock: NULL mm"));
	CHECK(expect_death(bad_mm_uninit, NULL, "mmaplock: mmap_write_lock: uninitialised mm"));
#ifdef MMAPLOCK_DEBUG
	check_debug();
#else
	check_release();
#endif
	printf("test-debug: ok\n");
	return 0;
}
