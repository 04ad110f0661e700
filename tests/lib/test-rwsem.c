// SPDX-License-Identifier: MIT
/*
 * test-rwsem.c: the semantics of struct mml_rwsem, one state at a time:
 * trylock outcomes in every state, a waiting writer stopping new readers,
 * FIFO hand-off with runs of readers woken together, downgrade letting the
 * readers at the head in while still blocking writers, is_locked and
 * is_contended. Waiters are real threads; the queue is read under the
 * lock's wait_lock (test-rwsem-peek.h), so nothing depends on timing.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "test-util.h"
#include "test-rwsem-peek.h"

enum { OP_READ, OP_WRITE, OP_READ_KILLABLE, OP_WRITE_KILLABLE };

struct locker {
	struct mml_rwsem *sem;
	int op;
	int acquired;		/* 0 waiting, 1 holds the lock, -1 failed */
	int release;		/* set by main: drop the lock */
	int done;
	pthread_t th;
};

static void *locker_fn(void *arg)
{
	struct locker *l = arg;
	int ret = 0;

	switch (l->op) {
	case OP_READ: mml_down_read(l->sem); break;
	case OP_WRITE: mml_down_write(l->sem); break;
	case OP_READ_KILLABLE: ret = mml_down_read_killable(l->sem); break;
	case OP_WRITE_KILLABLE: ret = mml_down_write_killable(l->sem); break;
	}
	__atomic_store_n(&l->acquired, ret ? -1 : 1, __ATOMIC_RELEASE);
	if (!ret) {
		wait_flag(&l->release, 1);
		if (l->op == OP_READ || l->op == OP_READ_KILLABLE)
			mml_up_read(l->sem);
		else
			mml_up_write(l->sem);
	}
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void start(struct locker *l, struct mml_rwsem *sem, int op)
{
	memset(l, 0, sizeof(*l));
	l->sem = sem;
	l->op = op;
	CHECK(pthread_create(&l->th, NULL, locker_fn, l) == 0);
}

static int acquired(struct locker *l)
{
	return __atomic_load_n(&l->acquired, __ATOMIC_ACQUIRE);
}

static void finish(struct locker *l)
{
	__atomic_store_n(&l->release, 1, __ATOMIC_RELEASE);
	pthread_join(l->th, NULL);
}

static void test_trylock_states(void)
{
	struct mml_rwsem sem;

	mml_rwsem_init(&sem);
	CHECK(!mml_rwsem_is_locked(&sem));
	CHECK(!mml_rwsem_is_contended(&sem));

	/* free: both trylocks succeed */
	CHECK(mml_down_read_trylock(&sem));
	CHECK(mml_rwsem_is_locked(&sem));
	/* read-held: more readers yes, a writer no */
	CHECK(mml_down_read_trylock(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	mml_up_read(&sem);
	CHECK(mml_rwsem_is_locked(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	mml_up_read(&sem);
	CHECK(!mml_rwsem_is_locked(&sem));

	CHECK(mml_down_write_trylock(&sem));
	CHECK(mml_rwsem_is_locked(&sem));
	/* write-held: nobody */
	CHECK(!mml_down_read_trylock(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	CHECK(!mml_rwsem_is_contended(&sem));
	mml_up_write(&sem);
	CHECK(!mml_rwsem_is_locked(&sem));

	/* blocking and killable calls on a free lock, with no kill pending */
	mml_down_read(&sem);
	CHECK_EQ(mml_down_read_killable(&sem), 0);
	mml_up_read(&sem);
	mml_up_read(&sem);
	mml_down_write(&sem);
	mml_up_write(&sem);
	mml_down_write_nested(&sem, 1);
	mml_up_write(&sem);
	CHECK_EQ(mml_down_write_killable(&sem), 0);
	mml_up_write(&sem);
	CHECK(!mml_rwsem_is_locked(&sem));
	CHECK_EQ(sem.count, 0);
}

/* A writer queued behind readers stops new readers, even though the lock is read-held. */
static void test_waiting_writer_blocks_readers(void)
{
	struct mml_rwsem sem;
	struct locker w, r;

	mml_rwsem_init(&sem);
	mml_down_read(&sem);
	start(&w, &sem, OP_WRITE);
	wait_queue(&sem, "w");
	CHECK(mml_rwsem_is_contended(&sem));
	CHECK(!mml_down_read_trylock(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	start(&r, &sem, OP_READ);
	wait_queue(&sem, "wr");
	CHECK_EQ(acquired(&r), 0);

	mml_up_read(&sem);
	wait_flag(&w.acquired, 1);
	CHECK_EQ(acquired(&r), 0);	/* the writer holds it: the reader cannot */
	wait_queue(&sem, "r");
	CHECK(mml_rwsem_is_contended(&sem));
	finish(&w);
	wait_flag(&r.acquired, 1);
	CHECK(!mml_rwsem_is_contended(&sem));
	CHECK(mml_down_read_trylock(&sem));	/* no waiters: readers share again */
	mml_up_read(&sem);
	finish(&r);
	CHECK_EQ(sem.count, 0);
}

/* FIFO hand-off: w1 | r2 r3 together | w4 | r5. */
static void test_fifo_handoff(void)
{
	struct mml_rwsem sem;
	struct locker l[5];
	static const int ops[5] = { OP_WRITE, OP_READ, OP_READ_KILLABLE, OP_WRITE_KILLABLE, OP_READ };
	static const char *const queues[5] = { "w", "wr", "wrr", "wrrw", "wrrwr" };
	int i;

	mml_rwsem_init(&sem);
	mml_down_write(&sem);
	for (i = 0; i < 5; i++) {
		start(&l[i], &sem, ops[i]);
		wait_queue(&sem, queues[i]);
	}
	mml_up_write(&sem);
	wait_flag(&l[0].acquired, 1);
	wait_queue(&sem, "rrwr");
	for (i = 1; i < 5; i++)
		CHECK_EQ(acquired(&l[i]), 0);

	finish(&l[0]);
	wait_flag(&l[1].acquired, 1);
	wait_flag(&l[2].acquired, 1);	/* both readers at the head, together */
	wait_queue(&sem, "wr");
	CHECK_EQ(acquired(&l[3]), 0);
	CHECK_EQ(acquired(&l[4]), 0);

	finish(&l[1]);
	wait_queue(&sem, "wr");		/* r3 still holds: w4 waits */
	CHECK_EQ(acquired(&l[3]), 0);
	finish(&l[2]);
	wait_flag(&l[3].acquired, 1);
	wait_queue(&sem, "r");
	CHECK_EQ(acquired(&l[4]), 0);
	finish(&l[3]);
	wait_flag(&l[4].acquired, 1);
	wait_queue(&sem, "");
	finish(&l[4]);
	CHECK(!mml_rwsem_is_locked(&sem));
	CHECK(!mml_rwsem_is_contended(&sem));
	CHECK_EQ(sem.count, 0);
}

/* Downgrade: the reader at the head gets in; the writer behind it, and the reader behind that, do not. */
static void test_downgrade(void)
{
	struct mml_rwsem sem;
	struct locker r1, w2, r3;

	mml_rwsem_init(&sem);
	mml_down_write(&sem);
	start(&r1, &sem, OP_READ);
	wait_queue(&sem, "r");
	start(&w2, &sem, OP_WRITE);
	wait_queue(&sem, "rw");
	start(&r3, &sem, OP_READ);
	wait_queue(&sem, "rwr");

	mml_downgrade_write(&sem);
	wait_flag(&r1.acquired, 1);
	wait_queue(&sem, "wr");
	CHECK_EQ(acquired(&w2), 0);
	CHECK_EQ(acquired(&r3), 0);
	CHECK(mml_rwsem_is_locked(&sem));
	CHECK(mml_rwsem_is_contended(&sem));
	CHECK(!mml_down_read_trylock(&sem));
	CHECK(!mml_down_write_trylock(&sem));

	mml_up_read(&sem);		/* our read hold from the downgrade */
	wait_queue(&sem, "wr");
	CHECK_EQ(acquired(&w2), 0);	/* r1 still reads */
	finish(&r1);
	wait_flag(&w2.acquired, 1);
	CHECK_EQ(acquired(&r3), 0);
	finish(&w2);
	wait_flag(&r3.acquired, 1);
	finish(&r3);
	CHECK_EQ(sem.count, 0);

	/* downgrade with nobody waiting: a plain read hold, shareable */
	mml_down_write(&sem);
	mml_downgrade_write(&sem);
	CHECK(mml_down_read_trylock(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	mml_up_read(&sem);
	mml_up_read(&sem);
	CHECK_EQ(sem.count, 0);
}

static void *take_read(void *arg)
{
	mml_down_read(arg);
	return NULL;
}

/* A read hold taken by one thread, released by another (also no abort in debug builds). */
static void test_up_read_non_owner(void)
{
	struct mml_rwsem sem;
	pthread_t th;

	mml_rwsem_init(&sem);
	CHECK(pthread_create(&th, NULL, take_read, &sem) == 0);
	pthread_join(th, NULL);
	CHECK(mml_rwsem_is_locked(&sem));
	CHECK(!mml_down_write_trylock(&sem));
	mml_up_read_non_owner(&sem);
	CHECK(!mml_rwsem_is_locked(&sem));
	CHECK(mml_down_write_trylock(&sem));
	mml_up_write(&sem);
	CHECK_EQ(sem.count, 0);
}

int main(void)
{
	watchdog(60);
	test_trylock_states();
	test_waiting_writer_blocks_readers();
	test_fifo_handoff();
	test_downgrade();
	test_up_read_non_owner();
	printf("test-rwsem: ok\n");
	return 0;
}
