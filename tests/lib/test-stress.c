// SPDX-License-Identifier: MIT
/*
 * test-stress.c: struct mml_rwsem under contention, with the invariants
 * checked inside every critical section.
 *
 * - mixed: threads take every kind of hold (read, write, nested, killable,
 *   trylock, write then downgrade) at random; counters of the readers and
 *   writers inside say "never a writer together with anyone else"; a plain
 *   counter bumped only under the write hold must end equal to the number
 *   of write holds (a broken exclusion loses increments, and TSan reports
 *   the race); a downgraded writer checks that the value it wrote is still
 *   there while it reads (no writer slipped in during the downgrade).
 * - no lost wake-up: rounds in which every worker blocks behind the main
 *   thread's write hold and must all get through once it is released; a
 *   lost wake-up hangs a round and the watchdog turns that into a failure.
 * - writer progress: readers that overlap continuously (each leaves only
 *   once the other has come in again) would starve a writer forever on a
 *   reader-preferring lock; here, once the writer is queued, at most one
 *   acquisition per reader thread (those already under way) may happen
 *   before it gets in. Counted in acquisitions, not time.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "test-util.h"
#include "test-rwsem-peek.h"

static struct mml_rwsem sem;
static int readers_in, writers_in;
static long value;			/* plain: only written under the write hold */
static long write_holds;		/* atomic: counts write holds */
static int stop;

static void reader_section(void)
{
	__atomic_fetch_add(&readers_in, 1, __ATOMIC_RELAXED);
	CHECK_EQ(__atomic_load_n(&writers_in, __ATOMIC_RELAXED), 0);
	(void)*(volatile long *)&value;
	__atomic_fetch_sub(&readers_in, 1, __ATOMIC_RELAXED);
}

static void writer_section(void)
{
	CHECK_EQ(__atomic_fetch_add(&writers_in, 1, __ATOMIC_RELAXED), 0);
	CHECK_EQ(__atomic_load_n(&readers_in, __ATOMIC_RELAXED), 0);
	value++;
	__atomic_fetch_add(&write_holds, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&writers_in, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- mixed */

static void *mixed_worker(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg * 2654435761u + 1;
	long iters = 150000 / MML_TEST_SCALE, i;
	long mine;

	for (i = 0; i < iters; i++) {
		switch (rand_r(&seed) % 10) {
		case 0: case 1: case 2: case 3:
			mml_down_read(&sem);
			reader_section();
			mml_up_read(&sem);
			break;
		case 4:
			if (mml_down_read_trylock(&sem)) {
				reader_section();
				mml_up_read(&sem);
			}
			break;
		case 5:
			CHECK_EQ(mml_down_read_killable(&sem), 0);
			reader_section();
			mml_up_read(&sem);
			break;
		case 6:
			mml_down_write(&sem);
			writer_section();
			mml_up_write(&sem);
			break;
		case 7:
			if (rand_r(&seed) & 1)
				CHECK_EQ(mml_down_write_killable(&sem), 0);
			else if (!mml_down_write_trylock(&sem))
				break;
			writer_section();
			mml_up_write(&sem);
			break;
		case 8:
			mml_down_write_nested(&sem, 1);
			writer_section();
			mml_up_write(&sem);
			break;
		case 9:
			/* write, downgrade, and check nobody wrote while we read */
			mml_down_write(&sem);
			writer_section();
			mine = value;
			__atomic_fetch_add(&readers_in, 1, __ATOMIC_RELAXED);
			mml_downgrade_write(&sem);
			CHECK_EQ(__atomic_load_n(&writers_in, __ATOMIC_RELAXED), 0);
			sched_yield();
			CHECK_EQ(*(volatile long *)&value, mine);
			CHECK_EQ(__atomic_load_n(&writers_in, __ATOMIC_RELAXED), 0);
			__atomic_fetch_sub(&readers_in, 1, __ATOMIC_RELAXED);
			mml_up_read(&sem);
			break;
		}
	}
	return NULL;
}

static void test_mixed(void)
{
	pthread_t th[4];
	long i;

	mml_rwsem_init(&sem);
	value = 0;
	write_holds = 0;
	for (i = 0; i < 4; i++)
		CHECK(pthread_create(&th[i], NULL, mixed_worker, (void *)i) == 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(value, write_holds);
	CHECK(!mml_rwsem_is_locked(&sem));
	CHECK(!mml_rwsem_is_contended(&sem));
	CHECK_EQ(sem.count, 0);
	printf("mixed: %ld write holds\n", write_holds);
}

/* ---------------------------------------------------------------- no lost wake-up */

#define NWAKE 4
static int round_no, round_done;

static void *wake_worker(void *arg)
{
	long id = (long)arg;
	int r, seen = 0;

	for (;;) {
		while ((r = __atomic_load_n(&round_no, __ATOMIC_ACQUIRE)) == seen)
			sched_yield();
		if (r < 0)
			return NULL;
		seen = r;
		/* the main thread holds the write lock: this blocks (or spins) */
		if ((id + r) % 2) {
			mml_down_write(&sem);
			writer_section();
			mml_up_write(&sem);
		} else {
			mml_down_read(&sem);
			reader_section();
			mml_up_read(&sem);
		}
		__atomic_fetch_add(&round_done, 1, __ATOMIC_RELEASE);
	}
}

static void test_no_lost_wakeup(void)
{
	pthread_t th[NWAKE];
	int rounds = 2000 / MML_TEST_SCALE, r;
	long i;

	mml_rwsem_init(&sem);
	for (i = 0; i < NWAKE; i++)
		CHECK(pthread_create(&th[i], NULL, wake_worker, (void *)i) == 0);
	for (r = 1; r <= rounds; r++) {
		mml_down_write(&sem);
		__atomic_store_n(&round_done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&round_no, r, __ATOMIC_RELEASE);
		/* every other round, wait until some really sleep in the queue */
		if (r % 2)
			while (!mml_rwsem_is_contended(&sem))
				sched_yield();
		mml_up_write(&sem);
		while (__atomic_load_n(&round_done, __ATOMIC_ACQUIRE) != NWAKE)
			sched_yield();
	}
	__atomic_store_n(&round_no, -1, __ATOMIC_RELEASE);
	for (i = 0; i < NWAKE; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(sem.count, 0);
	printf("no lost wake-up: %d rounds of %d waiters\n", rounds, NWAKE);
}

/* ---------------------------------------------------------------- writer progress */

#define NREADERS 2
static long reader_acqs[NREADERS];
static int writer_done;

static long total_reader_acqs(void)
{
	long s = 0;
	int i;

	for (i = 0; i < NREADERS; i++)
		s += __atomic_load_n(&reader_acqs[i], __ATOMIC_ACQUIRE);
	return s;
}

/*
 * Each reader holds its read lock until the other reader has come in again
 * (bounded, so a queued writer does not deadlock us), so the readers always
 * overlap and the lock never goes free on its own.
 */
static void *overlapping_reader(void *arg)
{
	long id = (long)arg, other = 1 - id;
	long limit = 200000 / MML_TEST_SCALE;
	int tries;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE) && total_reader_acqs() < limit) {
		long seen;

		mml_down_read(&sem);
		__atomic_fetch_add(&reader_acqs[id], 1, __ATOMIC_RELEASE);
		reader_section();
		seen = __atomic_load_n(&reader_acqs[other], __ATOMIC_ACQUIRE);
		for (tries = 0; tries < 2000; tries++) {
			if (__atomic_load_n(&reader_acqs[other], __ATOMIC_ACQUIRE) != seen ||
			    __atomic_load_n(&stop, __ATOMIC_ACQUIRE))
				break;
			sched_yield();
		}
		mml_up_read(&sem);
	}
	return NULL;
}

/* The writer notes how many reader acquisitions happened before it got in. */
static void *progress_writer(void *arg)
{
	long *got = arg;

	mml_down_write(&sem);
	*got = total_reader_acqs();
	writer_section();
	mml_up_write(&sem);
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_writer_progress(void)
{
	pthread_t th[NREADERS], wth;
	long wgot = 0;
	int rounds = 20, r;
	long i, before, got, worst = 0;

	mml_rwsem_init(&sem);
	for (i = 0; i < NREADERS; i++)
		CHECK(pthread_create(&th[i], NULL, overlapping_reader, (void *)i) == 0);
	for (r = 0; r < rounds; r++) {
		long start = total_reader_acqs();

		while (total_reader_acqs() < start + 20)	/* the readers are going */
			sched_yield();
		/* queue a writer; count reader acquisitions from the moment it waits */
		__atomic_store_n(&writer_done, 0, __ATOMIC_RELEASE);
		CHECK(pthread_create(&wth, NULL, progress_writer, &wgot) == 0);
		/*
		 * A reader-preferring lock never lets it in while the readers
		 * overlap: they stop by themselves after `limit` acquisitions,
		 * so that shows up as a huge count, not as a hang.
		 */
		while (!mml_rwsem_is_contended(&sem) && !__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE))
			sched_yield();
		before = total_reader_acqs();
		pthread_join(wth, NULL);
		/* (had it got in without queueing, got <= 0: no claim made) */
		got = wgot - before;
		if (got > worst)
			worst = got;
		CHECK(got <= NREADERS);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&stop, 0, __ATOMIC_RELEASE);
	printf("writer progress: %d writers, at most %ld reader acquisitions after queueing\n",
	       rounds, worst);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog(120);
	test_mixed();
	test_no_lost_wakeup();
	test_writer_progress();
	printf("test-stress: ok\n");
	return 0;
}
