/* SPDX-License-Identifier: MIT */
/*
 * test-trace-race.c: registration racing with lockers.
 *
 * Locker threads take and release two locks in a loop while two registrar
 * threads register and unregister probes over and over. Each registration
 * has its own data block with a "dead" flag that the registrar sets as soon
 * as unregister returns; every probe call checks the flag first, so a probe
 * called after its unregister returned is caught (and under AddressSanitizer
 * half of the blocks are freed at once, so such a call is also a
 * use-after-free). Before unregistering, a registrar waits until its probe
 * has run at least once, so registration really overlaps with events.
 * Every probe also checks that the lock state matches the event (released
 * fires with the lock held), which a torn probe list or a stale array would
 * break in other ways.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif
#ifndef ASAN
#define ASAN 0
#endif

#define LOCKERS 2
#define ROUNDS 400		/* registrations per registrar */

struct reg {
	int dead;		/* atomic: set once unregister returned */
	int calls;		/* atomic */
	unsigned int magic;
};

#define REG_MAGIC 0x52454731u

static struct mm_struct mms[2];
static int stop;		/* atomic */
static int late_calls;		/* atomic: probe calls after unregister returned */
static int bad_state;		/* atomic */

static void account(struct reg *r)
{
	if (__atomic_load_n(&r->dead, __ATOMIC_ACQUIRE) || r->magic != REG_MAGIC)
		__atomic_fetch_add(&late_calls, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->calls, 1, __ATOMIC_RELAXED);
}

static void p_start(void *data, struct mm_struct *mm, const char *path, bool write)
{
	account(data);
}

static void p_acq(void *data, struct mm_struct *mm, const char *path, bool write, bool success)
{
	account(data);
}

static void p_rel(void *data, struct mm_struct *mm, const char *path, bool write)
{
	if (!(__atomic_load_n(&mm->mmap_lock.count, __ATOMIC_RELAXED) &
	      (MML_RWSEM_WRITER | MML_RWSEM_READ_MASK)))
		__atomic_fetch_add(&bad_state, 1, __ATOMIC_RELAXED);
	account(data);
}

static void *locker(void *arg)
{
	unsigned int i = 0;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct mm_struct *mm = &mms[i & 1];

		if (i % 4 == 0) {
			mmap_write_lock(mm);
			mmap_write_unlock(mm);
		} else {
			mmap_read_lock(mm);
			mmap_read_unlock(mm);
		}
		i++;
	}
	return NULL;
}

static int reg_one(int kind, struct reg *r)
{
	switch (kind) {
	case 0: return register_trace_mmap_lock_start_locking(p_start, r);
	case 1: return register_trace_mmap_lock_acquire_returned(p_acq, r);
	default: return register_trace_mmap_lock_released(p_rel, r);
	}
}

static int unreg_one(int kind, struct reg *r)
{
	switch (kind) {
	case 0: return unregister_trace_mmap_lock_start_locking(p_start, r);
	case 1: return unregister_trace_mmap_lock_acquire_returned(p_acq, r);
	default: return unregister_trace_mmap_lock_released(p_rel, r);
	}
}

static int reg_errors;	/* atomic */

static void *registrar(void *arg)
{
	int id = (int)(long)arg;
	struct reg **keep = calloc(ROUNDS, sizeof(*keep));

	for (int i = 0; i < ROUNDS; i++) {
		struct reg *r = calloc(1, sizeof(*r)), *extra = calloc(1, sizeof(*extra));
		int kind = (i + id) % 3;

		r->magic = extra->magic = REG_MAGIC;
		/* A second probe alive across the first's removal: arrays of 2 and 1. */
		if (reg_one(kind, r) || reg_one((kind + 1) % 3, extra))
			__atomic_fetch_add(&reg_errors, 1, __ATOMIC_RELAXED);
		for (long spin = 0; !__atomic_load_n(&r->calls, __ATOMIC_RELAXED) && spin < 100000000;
		     spin++)
			sched_yield();
		if (unreg_one(kind, r))
			__atomic_fetch_add(&reg_errors, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&r->dead, 1, __ATOMIC_RELEASE);
		if (unreg_one((kind + 1) % 3, extra))
			__atomic_fetch_add(&reg_errors, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&extra->dead, 1, __ATOMIC_RELEASE);
		if (ASAN && (i & 1)) {
			/* Poisoned now: a late call is a use-after-free report. */
			free(r);
			free(extra);
			keep[i] = NULL;
		} else {
			keep[i] = r;
			free(extra);
		}
	}
	/* Give late callers a chance to show up before the blocks go. */
	for (int k = 0; k < 1000; k++)
		sched_yield();
	for (int i = 0; i < ROUNDS; i++)
		free(keep[i]);
	free(keep);
	return NULL;
}

int main(void)
{
	pthread_t lk[LOCKERS], rg[2];

	mmap_init_lock(&mms[0]);
	mmap_init_lock(&mms[1]);
#if MMAPLOCK_TRACING
	for (int i = 0; i < LOCKERS; i++)
		pthread_create(&lk[i], NULL, locker, NULL);
	for (long i = 0; i < 2; i++)
		pthread_create(&rg[i], NULL, registrar, (void *)i);
	for (int i = 0; i < 2; i++)
		pthread_join(rg[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < LOCKERS; i++)
		pthread_join(lk[i], NULL);
	if (late_calls || bad_state || reg_errors || mmap_lock_reg_refcount()) {
		fprintf(stderr,
			"test-trace-race: %d probe calls after unregister, %d released without the "
			"lock held, %d registration errors, refcount %d at the end\n",
			late_calls, bad_state, reg_errors, mmap_lock_reg_refcount());
		return 1;
	}
	printf("test-trace-race: ok (%d registrations)\n", 2 * 2 * ROUNDS);
	return 0;
#else
	(void)lk;
	(void)rg;
	(void)locker;
	(void)registrar;
	printf("test-trace-race: tracing is compiled out, nothing can race\n");
	return 77;
#endif
}
