// SPDX-License-Identifier: MIT
/*
 * test-killable.c: killable waits (mmaplock/rwsem.h, "Killable waits").
 *
 * - a kill pending: a killable call that must wait returns -EINTR at once,
 *   one that gets the lock without waiting succeeds; clear works;
 * - a kill posted by another thread, or by a signal handler in the waiter,
 *   interrupts a killable wait; a non-killable wait ignores it;
 * - an abandoned waiter passes the lock on: a killed writer at the head
 *   lets the readers queued behind it into a read-held lock;
 * - under contention, with kills raining from a killer thread and from
 *   signal handlers, the invariants hold, and afterwards nobody hangs
 *   (watchdog) and the lock ends free with an empty queue.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "test-util.h"
#include "test-rwsem-peek.h"

struct waiter {
	struct mml_rwsem *sem;
	bool write, killable;
	struct mml_task *task;
	int ready;
	int result;		/* 1 until done, then the return value (0 or -EINTR) */
	int release;
	pthread_t th;
};

static void *waiter_fn(void *arg)
{
	struct waiter *w = arg;
	int ret;

	w->task = mml_self();
	__atomic_store_n(&w->ready, 1, __ATOMIC_RELEASE);
	if (w->killable)
		ret = w->write ? mml_down_write_killable(w->sem) : mml_down_read_killable(w->sem);
	else if (w->write)
		mml_down_write(w->sem), ret = 0;
	else
		mml_down_read(w->sem), ret = 0;
	__atomic_store_n(&w->result, ret, __ATOMIC_RELEASE);
	if (ret == 0) {
		wait_flag(&w->release, 1);
		if (w->write)
			mml_up_write(w->sem);
		else
			mml_up_read(w->sem);
	}
	mml_kill_clear();
	return NULL;
}

static void start(struct waiter *w, struct mml_rwsem *sem, bool write, bool killable)
{
	memset(w, 0, sizeof(*w));
	w->sem = sem;
	w->write = write;
	w->killable = killable;
	w->result = 1;
	CHECK(pthread_create(&w->th, NULL, waiter_fn, w) == 0);
	wait_flag(&w->ready, 1);
}

static int result(struct waiter *w)
{
	return __atomic_load_n(&w->result, __ATOMIC_ACQUIRE);
}

static void finish(struct waiter *w)
{
	__atomic_store_n(&w->release, 1, __ATOMIC_RELEASE);
	pthread_join(w->th, NULL);
}

static void test_pending_kill(void)
{
	struct mml_rwsem sem;

	mml_rwsem_init(&sem);
	CHECK(!mml_killed());
	CHECK_EQ(mml_kill(NULL), -EINVAL);
	CHECK_EQ(mml_kill(mml_self()), 0);
	CHECK(mml_killed());

	/* no wait needed: the kill does not matter (the kernel's fast path) */
	CHECK_EQ(mml_down_read_killable(&sem), 0);
	/* read-held: another reader needs no wait either */
	CHECK_EQ(mml_down_read_killable(&sem), 0);
	mml_up_read(&sem);
	/* a writer would have to wait: -EINTR at once, nothing queued */
	CHECK_EQ(mml_down_write_killable(&sem), -EINTR);
	CHECK(!mml_rwsem_is_contended(&sem));
	mml_up_read(&sem);

	CHECK_EQ(mml_down_write_killable(&sem), 0);
	CHECK_EQ(mml_down_read_killable(&sem), -EINTR);
	CHECK_EQ(mml_down_write_killable(&sem), -EINTR);
	CHECK(mml_killed());		/* still pending: it is sticky */
	mml_up_write(&sem);

	mml_kill_clear();
	CHECK(!mml_killed());
	CHECK_EQ(sem.count, 0);
}

static void test_kill_from_thread(void)
{
	struct mml_rwsem sem;
	struct waiter w;

	mml_rwsem_init(&sem);
	mml_down_write(&sem);
	start(&w, &sem, false, true);
	wait_queue(&sem, "r");
	CHECK_EQ(mml_kill(w.task), 0);
	wait_flag(&w.result, -EINTR);
	wait_queue(&sem, "");
	CHECK(!mml_rwsem_is_contended(&sem));
	CHECK(mml_rwsem_is_locked(&sem));	/* we still hold it */
	finish(&w);
	CHECK(!mml_killed());			/* the kill was the other thread's */
	mml_up_write(&sem);
	CHECK_EQ(sem.count, 0);
}

static void on_usr1(int sig)
{
	(void)sig;
	mml_kill(mml_self());	/* async-signal-safe */
}

static void test_kill_from_signal_handler(void)
{
	struct mml_rwsem sem;
	struct waiter w;

	mml_rwsem_init(&sem);
	mml_down_read(&sem);
	start(&w, &sem, true, true);
	wait_queue(&sem, "w");
	CHECK(pthread_kill(w.th, SIGUSR1) == 0);
	wait_flag(&w.result, -EINTR);
	wait_queue(&sem, "");
	finish(&w);
	/* the lock works: a writer gets in once we leave */
	mml_up_read(&sem);
	CHECK(mml_down_write_trylock(&sem));
	mml_up_write(&sem);
}

static void test_non_killable_ignores_kill(void)
{
	struct mml_rwsem sem;
	struct waiter w;

	mml_rwsem_init(&sem);
	mml_down_write(&sem);
	start(&w, &sem, false, false);
	wait_queue(&sem, "r");
	mml_kill(w.task);
	CHECK(pthread_kill(w.th, SIGUSR1) == 0);
	usleep(20000);
	wait_queue(&sem, "r");		/* still queued */
	CHECK_EQ(result(&w), 1);
	mml_up_write(&sem);
	wait_flag(&w.result, 0);
	finish(&w);
	CHECK_EQ(sem.count, 0);
}

/* A killed writer at the head hands the read-held lock to the readers behind it. */
static void test_abandon_passes_on(void)
{
	struct mml_rwsem sem;
	struct waiter w, r1, r2, w2;

	mml_rwsem_init(&sem);
	mml_down_read(&sem);
	start(&w, &sem, true, true);
	wait_queue(&sem, "w");
	start(&r1, &sem, false, false);
	wait_queue(&sem, "wr");
	start(&r2, &sem, false, true);
	wait_queue(&sem, "wrr");
	start(&w2, &sem, true, false);
	wait_queue(&sem, "wrrw");
	mml_kill(w.task);
	wait_flag(&w.result, -EINTR);
	wait_flag(&r1.result, 0);	/* both readers in, while we still read */
	wait_flag(&r2.result, 0);
	wait_queue(&sem, "w");
	CHECK_EQ(result(&w2), 1);
	finish(&w);
	finish(&r1);
	finish(&r2);
	mml_up_read(&sem);
	wait_flag(&w2.result, 0);
	finish(&w2);
	CHECK_EQ(sem.count, 0);

	/* a killed reader between two writers: the writer behind it gets in */
	mml_down_write(&sem);
	start(&r1, &sem, false, true);
	wait_queue(&sem, "r");
	start(&w2, &sem, true, false);
	wait_queue(&sem, "rw");
	mml_kill(r1.task);
	wait_flag(&r1.result, -EINTR);
	wait_queue(&sem, "w");
	mml_up_write(&sem);
	wait_flag(&w2.result, 0);
	finish(&r1);
	finish(&w2);
	CHECK_EQ(sem.count, 0);
}

/* ---------------------------------------------------------------- under contention */

#define NWORKERS 4

static struct mml_rwsem big;
static int stop, killers_done;
static int readers_in, writers_in;
static long shared_value;		/* written only under the write hold */
static struct mml_task *tasks[NWORKERS];
static pthread_t worker_th[NWORKERS];
static long interrupted[NWORKERS], acquired_n[NWORKERS];

static void enter_read(void)
{
	__atomic_fetch_add(&readers_in, 1, __ATOMIC_RELAXED);
	CHECK_EQ(__atomic_load_n(&writers_in, __ATOMIC_RELAXED), 0);
	(void)*(volatile long *)&shared_value;
	__atomic_fetch_sub(&readers_in, 1, __ATOMIC_RELAXED);
}

static void enter_write(void)
{
	CHECK_EQ(__atomic_fetch_add(&writers_in, 1, __ATOMIC_RELAXED), 0);
	CHECK_EQ(__atomic_load_n(&readers_in, __ATOMIC_RELAXED), 0);
	shared_value++;
	__atomic_fetch_sub(&writers_in, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	long id = (long)arg;
	unsigned int seed = (unsigned int)id * 7919u + 1;
	long i = 0;

	__atomic_store_n(&tasks[id], mml_self(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) || i < 200) {
		bool write = rand_r(&seed) % 3 == 0;
		int ret;

		i++;
		/* once the killers are gone, plain waits: nobody may hang */
		if (__atomic_load_n(&killers_done, __ATOMIC_ACQUIRE))
			mml_kill_clear();
		ret = write ? mml_down_write_killable(&big) : mml_down_read_killable(&big);
		if (ret) {
			CHECK_EQ(ret, -EINTR);
			interrupted[id]++;
			mml_kill_clear();
			continue;
		}
		acquired_n[id]++;
		if (write) {
			enter_write();
			mml_up_write(&big);
		} else {
			enter_read();
			mml_up_read(&big);
		}
	}
	return NULL;
}

static void test_abandon_under_contention(void)
{
	long total_int = 0, total_acq = 0, i, rounds = 20000 / MML_TEST_SCALE;
	unsigned int seed = 42;

	mml_rwsem_init(&big);
	for (i = 0; i < NWORKERS; i++)
		CHECK(pthread_create(&worker_th[i], NULL, worker, (void *)i) == 0);
	for (i = 0; i < NWORKERS; i++)
		while (!__atomic_load_n(&tasks[i], __ATOMIC_ACQUIRE))
			sched_yield();
	for (i = 0; i < rounds; i++) {
		int t = rand_r(&seed) % NWORKERS;

		if (i & 1)
			mml_kill(tasks[t]);
		else
			pthread_kill(worker_th[t], SIGUSR1);
		if (i % 64 == 0)
			usleep(100);
	}
	__atomic_store_n(&killers_done, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(worker_th[i], NULL);
		total_int += interrupted[i];
		total_acq += acquired_n[i];
	}
	printf("contention: %ld acquisitions, %ld interrupted waits\n", total_acq, total_int);
	CHECK(!mml_rwsem_is_locked(&big));
	CHECK(!mml_rwsem_is_contended(&big));
	CHECK_EQ(big.count, 0);
	CHECK(total_acq > 0);
	/* the lock still works, uncontended and contended */
	mml_down_write(&big);
	mml_up_write(&big);
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	watchdog(90);

	test_pending_kill();
	test_kill_from_thread();
	test_kill_from_signal_handler();
	test_non_killable_ignores_kill();
	test_abandon_passes_on();
	test_abandon_under_contention();
	printf("test-killable: ok\n");
	return 0;
}
