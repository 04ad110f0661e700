/* SPDX-License-Identifier: MIT */
/*
 * test-rwsem-peek.h: white-box helpers for the rwsem tests: read the wait
 * queue of a struct mml_rwsem (src/lib/task.h) under its wait_lock, taken
 * the way src/lib/rwsem.c takes it (the same three-state futex mutex), so
 * the look is consistent and ThreadSanitizer sees no race.
 */
#ifndef MML_TEST_RWSEM_PEEK_H
#define MML_TEST_RWSEM_PEEK_H

#include <pthread.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mmaplock/rwsem.h>
#include "task.h"

/* Describe the queue as a string of 'r' and 'w', oldest first. */
static inline void __attribute__((unused))
peek_queue(struct mml_rwsem *sem, char *buf, size_t len)
{
	struct mml_waiter *w;
	uint32_t c;
	size_t i = 0;

	for (;;) {
		c = 0;
		if (__atomic_compare_exchange_n(&sem->wait_lock, &c, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		sched_yield();
	}
	for (w = sem->head; w && i + 1 < len; w = w->next)
		buf[i++] = w->write ? 'w' : 'r';
	buf[i] = '\0';
	if (__atomic_exchange_n(&sem->wait_lock, 0, __ATOMIC_RELEASE) == 2)
		syscall(SYS_futex, &sem->wait_lock, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Wait (yielding; the watchdog bounds it) until the queue reads `want`. */
static inline void __attribute__((unused))
wait_queue(struct mml_rwsem *sem, const char *want)
{
	char buf[64];

	for (;;) {
		peek_queue(sem, buf, sizeof(buf));
		if (!strcmp(buf, want))
			return;
		usleep(200);
	}
}

/* Wait until *flag (an int written atomically by another thread) == val. */
static inline void __attribute__((unused)) wait_flag(int *flag, int val)
{
	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) != val)
		usleep(100);
}

#endif /* MML_TEST_RWSEM_PEEK_H */
