/* SPDX-License-Identifier: MIT */
/*
 * test-trace-reg.c: registration rules and the listener refcount.
 *
 * - return values: 0, -EEXIST for a duplicate probe+data, -ENOENT for an
 *   unknown one, -EINVAL for NULL, -EDEADLK from inside a probe;
 * - __mmap_lock_tp_enabled[ev] counts the probes of ev; reg_refcount
 *   (mmap_lock_reg_refcount()) counts the events that have any;
 * - probes run in registration order, each with its own data;
 * - the memcg path is never looked up while nobody listens
 *   (mmap_lock_memcg_lookups() does not move), and is looked up while
 *   somebody does (unless built with MMAPLOCK_MEMCG=0: never).
 * Without tracing: everything returns -ENOSYS and the counters stay 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>

#include "test-util.h"

static char order[64];
static int norder;
static int nested_ret[2];

/* Appends its data (a character) to order[]. */
static void p_mark(void *data, struct mm_struct *mm, const char *path, bool write)
{
	if (norder < 63)
		order[norder++] = *(const char *)data;
}

static void p_nop(void *data, struct mm_struct *mm, const char *path, bool write, bool success)
{
}

/* Tries to (un)register from inside a probe: must be refused. */
static void p_nested(void *data, struct mm_struct *mm, const char *path, bool write)
{
	nested_ret[0] = register_trace_mmap_lock_start_locking(p_mark, "n");
	nested_ret[1] = unregister_trace_mmap_lock_released(p_nested, data);
}

static void lock_many(struct mm_struct *mm, int n)
{
	for (int i = 0; i < n; i++) {
		mmap_read_lock(mm);
		mmap_read_unlock(mm);
		mmap_write_lock(mm);
		mmap_write_unlock(mm);
	}
}

int main(void)
{
	struct mm_struct mm;
	static const char a = 'a', b = 'b', c = 'c';

	mmap_init_lock(&mm);
#if MMAPLOCK_TRACING
	unsigned long before;

	CHECK_SOFT(mmap_lock_reg_refcount() == 0, "refcount %d at start", mmap_lock_reg_refcount());
	for (int ev = 0; ev < MMAP_LOCK_NR_EVENTS; ev++)
		CHECK_SOFT(__mmap_lock_tp_enabled[ev] == 0, "enabled[%d] at start", ev);

	/* Nobody listens: no lookup at all. */
	before = mmap_lock_memcg_lookups();
	lock_many(&mm, 1000);
	CHECK_SOFT(mmap_lock_memcg_lookups() == before, "looked up %lu times with no listener",
	      mmap_lock_memcg_lookups() - before);

	CHECK_SOFT(register_trace_mmap_lock_start_locking(NULL, NULL) == -EINVAL, "NULL probe");
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_mark, (void *)&a) == 0, "register a");
	CHECK_SOFT(mmap_lock_reg_refcount() == 1, "refcount %d", mmap_lock_reg_refcount());
	CHECK_SOFT(__mmap_lock_tp_enabled[MMAP_LOCK_START_LOCKING] == 1, "enabled");
	CHECK_SOFT(__mmap_lock_tp_enabled[MMAP_LOCK_RELEASED] == 0, "enabled");
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_mark, (void *)&a) == -EEXIST, "duplicate");
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_mark, (void *)&b) == 0, "register b");
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_mark, (void *)&c) == 0, "register c");
	CHECK_SOFT(mmap_lock_reg_refcount() == 1, "same event: refcount %d", mmap_lock_reg_refcount());
	CHECK_SOFT(__mmap_lock_tp_enabled[MMAP_LOCK_START_LOCKING] == 3, "enabled %d",
	      __mmap_lock_tp_enabled[MMAP_LOCK_START_LOCKING]);

	before = mmap_lock_memcg_lookups();
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	order[norder] = '\0';
	CHECK_SOFT(!strcmp(order, "abc"), "order '%s', want 'abc'", order);
#if MMAPLOCK_MEMCG
	CHECK_SOFT(mmap_lock_memcg_lookups() == before + 1, "lookups %lu, want 1 (one event listened)",
	      mmap_lock_memcg_lookups() - before);
#else
	CHECK_SOFT(mmap_lock_memcg_lookups() == 0, "MEMCG off: looked up");
#endif

	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_mark, (void *)&b) == 0, "unregister b");
	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_mark, (void *)&b) == -ENOENT, "again");
	CHECK_SOFT(unregister_trace_mmap_lock_released(p_mark, (void *)&b) == -ENOENT, "never there");
	norder = 0;
	mmap_write_lock(&mm);
	mmap_write_unlock(&mm);
	order[norder] = '\0';
	CHECK_SOFT(!strcmp(order, "ac"), "order '%s', want 'ac'", order);

	CHECK_SOFT(register_trace_mmap_lock_acquire_returned(p_nop, NULL) == 0, "register acq");
	CHECK_SOFT(register_trace_mmap_lock_released(p_mark, (void *)&c) == 0, "register rel");
	CHECK_SOFT(mmap_lock_reg_refcount() == 3, "refcount %d, want 3", mmap_lock_reg_refcount());
	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_mark, (void *)&a) == 0, "unreg a");
	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_mark, (void *)&c) == 0, "unreg c");
	CHECK_SOFT(mmap_lock_reg_refcount() == 2, "refcount %d, want 2", mmap_lock_reg_refcount());
	CHECK_SOFT(__mmap_lock_tp_enabled[MMAP_LOCK_START_LOCKING] == 0, "enabled");

	/* From inside a probe: refused, not deadlocked. */
	CHECK_SOFT(register_trace_mmap_lock_released(p_nested, NULL) == 0, "register nested");
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	CHECK_SOFT(nested_ret[0] == -EDEADLK, "register inside a probe: %d", nested_ret[0]);
	CHECK_SOFT(nested_ret[1] == -EDEADLK, "unregister inside a probe: %d", nested_ret[1]);
	CHECK_SOFT(unregister_trace_mmap_lock_released(p_nested, NULL) == 0, "unregister nested");

	CHECK_SOFT(unregister_trace_mmap_lock_released(p_mark, (void *)&c) == 0, "unreg rel");
	CHECK_SOFT(unregister_trace_mmap_lock_acquire_returned(p_nop, NULL) == 0, "unreg acq");
	CHECK_SOFT(mmap_lock_reg_refcount() == 0, "refcount %d, want 0", mmap_lock_reg_refcount());
	for (int ev = 0; ev < MMAP_LOCK_NR_EVENTS; ev++)
		CHECK_SOFT(__mmap_lock_tp_enabled[ev] == 0, "enabled[%d] at end", ev);

	/* Nobody listens again: no lookup. */
	before = mmap_lock_memcg_lookups();
	norder = 0;
	lock_many(&mm, 1000);
	CHECK_SOFT(mmap_lock_memcg_lookups() == before, "looked up %lu times after unregister",
	      mmap_lock_memcg_lookups() - before);
	CHECK_SOFT(norder == 0, "a probe ran after unregister");
#else
	CHECK_SOFT(register_trace_mmap_lock_start_locking(p_mark, (void *)&a) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(unregister_trace_mmap_lock_start_locking(p_mark, (void *)&a) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(register_trace_mmap_lock_acquire_returned(p_nop, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(unregister_trace_mmap_lock_acquire_returned(p_nop, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(register_trace_mmap_lock_released(p_nested, NULL) == -ENOSYS, "ENOSYS");
	CHECK_SOFT(unregister_trace_mmap_lock_released(p_nested, NULL) == -ENOSYS, "ENOSYS");
	lock_many(&mm, 100);
	CHECK_SOFT(norder == 0, "a probe ran without tracing");
	CHECK_SOFT(mmap_lock_reg_refcount() == 0, "refcount");
	CHECK_SOFT(mmap_lock_memcg_lookups() == 0, "lookups");
	CHECK_SOFT(mmap_lock_text_listener_start(stderr) == -ENOSYS, "text listener");
	(void)b;
	(void)c;
#endif
	if (test_failures) {
		fprintf(stderr, "test-trace-reg: %d failures\n", test_failures);
		return 1;
	}
	printf("test-trace-reg: ok\n");
	return 0;
}
