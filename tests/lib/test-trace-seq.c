/* SPDX-License-Identifier: MIT */
/*
 * test-trace-seq.c: every lock function fires exactly the kernel's sequence
 * of mmap_lock events (include/linux/mmap_lock.h): which events, in which
 * order, with which write flag and success value, carrying the memcg path;
 * released fires while the lock is still held; downgrade fires only
 * acquire_returned(write=false, success=true); trylock failure and killable
 * abandon fire acquire_returned(success=false).
 *
 * Built without tracing (MMAPLOCK_TRACING=0) it checks the other half of the
 * contract: registration says -ENOSYS and no lock function calls anything.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>

#include "test-util.h"

/* One logged event: 'S' start_locking, 'A' acquire_returned, 'R' released. */
struct ev {
	char type;
	bool write, success;
	struct mm_struct *mm;
	char path[MEMCG_PATH_BUF_SIZE];
	bool held;		/* released only: lock still held when the probe ran */
};

static struct ev log_ev[64];
static int nlog;
static int stray;		/* events from threads other than the main one */
static pthread_t main_thread;
static __thread int is_waiter;	/* the waiter's events go to wlog instead */
static struct ev wlog[8];
static int nwlog;		/* atomic */

static struct ev *add(char type, struct mm_struct *mm, const char *path, bool write, bool success)
{
	struct ev *e;

	if (is_waiter) {
		int i = __atomic_load_n(&nwlog, __ATOMIC_RELAXED);

		if (i >= 8)
			return NULL;
		e = &wlog[i];
		e->type = type;
		e->mm = mm;
		e->write = write;
		e->success = success;
		e->held = false;
		__atomic_store_n(&nwlog, i + 1, __ATOMIC_RELEASE);
		return NULL;
	}
	if (!pthread_equal(pthread_self(), main_thread)) {
		__atomic_fetch_add(&stray, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (nlog >= 64)
		return NULL;
	e = &log_ev[nlog++];
	e->type = type;
	e->mm = mm;
	e->write = write;
	e->success = success;
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->held = false;
	return e;
}

static void p_start(void *data, struct mm_struct *mm, const char *path, bool write)
{
	add('S', mm, path, write, false);
}

static void p_acquire(void *data, struct mm_struct *mm, const char *path, bool write, bool success)
{
	add('A', mm, path, write, success);
}

static void p_released(void *data, struct mm_struct *mm, const char *path, bool write)
{
	struct ev *e = add('R', mm, path, write, false);
	unsigned long c = __atomic_load_n(&mm->mmap_lock.count, __ATOMIC_RELAXED);

	/* Still held, and in the mode being released. */
	if (e)
		e->held = write ? (c & MML_RWSEM_WRITER) != 0 : (c & MML_RWSEM_READ_MASK) != 0;
}

/*
 * Compare the log with an expected sequence like "Sw Aw1 Rw": S/A/R, then w
 * or r, then for A the success digit.
 */
static void expect(const char *what, struct mm_struct *mm, const char *seq)
{
	char buf[256], *tok, *save;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", seq);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
		struct ev *e = &log_ev[i];
		bool w = tok[1] == 'w';

		if (i >= nlog) {
			CHECK_SOFT(0, "%s: event %d (%s) missing, got %d events", what, i, tok, nlog);
			break;
		}
		CHECK_SOFT(e->type == tok[0], "%s: event %d is %c, want %s", what, i, e->type, tok);
		CHECK_SOFT(e->write == w, "%s: event %d (%s) write=%d", what, i, tok, e->write);
		CHECK_SOFT(e->mm == mm, "%s: event %d (%s) mm %p, want %p", what, i, tok, (void *)e->mm,
		      (void *)mm);
		if (tok[0] == 'A')
			CHECK_SOFT(e->success == (tok[2] == '1'), "%s: event %d (%s) success=%d", what,
			      i, tok, e->success);
		if (tok[0] == 'R')
			CHECK_SOFT(e->held, "%s: released fired after the unlock", what);
	}
	CHECK_SOFT(nlog == i, "%s: %d events, want %d (%s)", what, nlog, i, seq);
	nlog = 0;
}

static struct mm_struct *other_mm;
#if MMAPLOCK_TRACING
static pthread_barrier_t bar;

/* Holds other_mm for write until the main thread is done with its killable attempts. */
static void *holder(void *arg)
{
	mmap_write_lock(other_mm);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	mmap_write_unlock(other_mm);
	return NULL;
}

/* Waits for other_mm (write-held by main) and is killed in the middle of the wait. */
static struct mml_task *waiter_task;
static int waiter_ret = 1;

static void *waiter(void *arg)
{
	is_waiter = 1;
	__atomic_store_n(&waiter_task, mml_self(), __ATOMIC_RELEASE);
	waiter_ret = mmap_write_lock_killable(other_mm);
	if (waiter_ret == 0)
		mmap_write_unlock(other_mm);
	return NULL;
}
#endif

int main(void)
{
	struct mm_struct mm, mm2;
	pthread_t th;

	main_thread = pthread_self();
	mmap_init_lock(&mm);
	mmap_init_lock(&mm2);
	other_mm = &mm2;

#if MMAPLOCK_TRACING
	char want_path[MEMCG_PATH_BUF_SIZE];

	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_start, NULL) == 0, "register");
	CHECK_SOFT(register_trace_mmap_lock_acquire_returned(p_acquire, NULL) == 0, "register");
	CHECK_SOFT(register_trace_mmap_lock_released(p_released, NULL) == 0, "register");

	mmap_write_lock(&mm);
	expect("mmap_write_lock", &mm, "Sw Aw1");
	mmap_write_unlock(&mm);
	expect("mmap_write_unlock", &mm, "Rw");

	mmap_write_lock_nested(&mm, 1);
	expect("mmap_write_lock_nested", &mm, "Sw Aw1");
	mmap_write_unlock(&mm);
	expect("mmap_write_unlock", &mm, "Rw");

	CHECK_SOFT(mmap_write_lock_killable(&mm) == 0, "killable");
	expect("mmap_write_lock_killable", &mm, "Sw Aw1");
	CHECK_SOFT(!mmap_write_trylock(&mm), "write trylock of a write-held lock");
	expect("mmap_write_trylock (held)", &mm, "Sw Aw0");
	CHECK_SOFT(!mmap_read_trylock(&mm), "read trylock of a write-held lock");
	expect("mmap_read_trylock (held)", &mm, "Sr Ar0");
	mmap_write_downgrade(&mm);
	expect("mmap_write_downgrade", &mm, "Ar1");
	CHECK_SOFT(!mmap_write_trylock(&mm), "write trylock of a read-held lock");
	expect("mmap_write_trylock (read-held)", &mm, "Sw Aw0");
	mmap_read_unlock(&mm);
	expect("mmap_read_unlock", &mm, "Rr");

	CHECK_SOFT(mmap_write_trylock(&mm), "write trylock of a free lock");
	expect("mmap_write_trylock", &mm, "Sw Aw1");
	mmap_write_unlock(&mm);
	expect("mmap_write_unlock", &mm, "Rw");

	mmap_read_lock(&mm);
	expect("mmap_read_lock", &mm, "Sr Ar1");
	CHECK_SOFT(mmap_read_lock_killable(&mm) == 0, "read killable");
	expect("mmap_read_lock_killable", &mm, "Sr Ar1");
	CHECK_SOFT(mmap_read_trylock(&mm), "read trylock of a read-held lock");
	expect("mmap_read_trylock", &mm, "Sr Ar1");
	mmap_read_unlock(&mm);
	expect("mmap_read_unlock", &mm, "Rr");
	mmap_read_unlock_non_owner(&mm);
	expect("mmap_read_unlock_non_owner", &mm, "Rr");
	mmap_assert_locked(&mm);
	CHECK_SOFT(!mmap_lock_is_contended(&mm), "contended");
	expect("mmap_assert_locked + mmap_lock_is_contended", &mm, "");
	mmap_read_unlock(&mm);
	expect("mmap_read_unlock", &mm, "Rr");

	mmap_write_lock(&mm);
	mmap_assert_write_locked(&mm);
	mmap_assert_locked(&mm);
	expect("mmap_write_lock + asserts", &mm, "Sw Aw1");
	mmap_write_unlock(&mm);
	expect("mmap_write_unlock", &mm, "Rw");

	/* Killable abandon: another thread holds mm2; with a kill pending we must give up. */
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&th, NULL, holder, NULL);
	pthread_barrier_wait(&bar);
	nlog = 0;
	mml_kill(mml_self());
	CHECK_SOFT(mmap_read_lock_killable(&mm2) == -EINTR, "killed read wait");
	expect("mmap_read_lock_killable (killed)", &mm2, "Sr Ar0");
	CHECK_SOFT(mmap_write_lock_killable(&mm2) == -EINTR, "killed write wait");
	expect("mmap_write_lock_killable (killed)", &mm2, "Sw Aw0");
	mml_kill_clear();
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&bar);
	CHECK_SOFT(stray == 3, "holder thread fired %d events, want 3", stray);

	/* Killable abandon under contention: the kill arrives while the waiter sleeps. */
	nlog = 0;
	mmap_write_lock(&mm2);
	pthread_create(&th, NULL, waiter, NULL);
	while (!mmap_lock_is_contended(&mm2) || !__atomic_load_n(&waiter_task, __ATOMIC_ACQUIRE))
		sched_yield();	/* it is queued: the kill interrupts a real wait */
	mml_kill(__atomic_load_n(&waiter_task, __ATOMIC_ACQUIRE));
	pthread_join(th, NULL);
	CHECK_SOFT(waiter_ret == -EINTR, "killed waiter got %d", waiter_ret);
	CHECK_SOFT(nwlog == 2 && wlog[0].type == 'S' && wlog[0].write && wlog[1].type == 'A' &&
	      wlog[1].write && !wlog[1].success && wlog[0].mm == &mm2 && wlog[1].mm == &mm2,
	      "killed waiter fired %d events: %c%d %c%d%d, want S(w) A(w,0)", nwlog,
	      nwlog > 0 ? wlog[0].type : '-', nwlog > 0 ? wlog[0].write : 0,
	      nwlog > 1 ? wlog[1].type : '-', nwlog > 1 ? wlog[1].write : 0,
	      nwlog > 1 ? wlog[1].success : 0);
	mmap_write_unlock(&mm2);
	expect("holding mm2 while the waiter is killed", &mm2, "Sw Aw1 Rw");

	/* Every event carries the path the library reports for mm. */
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	CHECK_SOFT(mmap_lock_get_memcg_path(&mm, want_path, sizeof(want_path)) >= 0 || !MMAPLOCK_MEMCG,
	      "get path");
	if (!MMAPLOCK_MEMCG)
		want_path[0] = '\0';
	for (int i = 0; i < nlog; i++)
		CHECK_SOFT(!strcmp(log_ev[i].path, want_path), "event %d path '%s', want '%s'", i,
		      log_ev[i].path, want_path);
	nlog = 0;

	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_start, NULL) == 0, "unregister");
	CHECK_SOFT(unregister_trace_mmap_lock_acquire_returned(p_acquire, NULL) == 0, "unregister");
	CHECK_SOFT(unregister_trace_mmap_lock_released(p_released, NULL) == 0, "unregister");
	mmap_write_lock(&mm);
	mmap_write_unlock(&mm);
	expect("after unregister", &mm, "");
#else
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_start, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(register_trace_mmap_lock_acquire_returned(p_acquire, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(register_trace_mmap_lock_released(p_released, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(unregister_trace_mmap_lock_released(p_released, NULL) == -ENOSYS, "ENOSYS");
	mmap_write_lock(&mm);
	mmap_write_downgrade(&mm);
	mmap_read_unlock(&mm);
	CHECK_SOFT(mmap_read_trylock(&mm), "trylock");
	mmap_read_unlock(&mm);
	CHECK_SOFT(mmap_write_lock_killable(&mm) == 0, "killable");
	mmap_write_unlock(&mm);
	(void)th;
	expect("tracing off", &mm, "");
#endif
	if (test_failures) {
		fprintf(stderr, "test-trace-seq: %d failures\n", test_failures);
		return 1;
	}
	printf("test-trace-seq: ok\n");
	return 0;
}
