// SPDX-License-Identifier: MIT
/*
 * mm.c: the address space object of mmaplock/mmap_lock.h: its initialiser
 * and the debug-build report for a NULL or uninitialised mm.
 *
 * struct mm_struct carries a magic word so that debug builds can tell an
 * initialised mm from stack garbage or zeroed memory before touching its
 * lock (release builds do not check: using such an mm is undefined, as in
 * the kernel).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <mmaplock/mmap_lock.h>

/*
 * mmap_init_lock(): initialise the lock of a new address space, owned by the
 * calling process. The mm must not be in use by other threads yet; publish it
 * to them afterwards (any release/acquire hand-over, e.g. pthread_create()).
 */
void mmap_init_lock(struct mm_struct *mm)
{
	mml_rwsem_init(&mm->mmap_lock);
	mm->owner_pid = (int32_t)getpid();
	mm->mml_magic = MML_MM_MAGIC;
}

/*
 * __mml_bad_mm(): called by the inline lock functions of debug builds when
 * mm is NULL or was never initialised. Prints "mmaplock: <func>: NULL mm" or
 * "mmaplock: <func>: uninitialised mm" to stderr and aborts.
 */
void __mml_bad_mm(const struct mm_struct *mm, const char *func)
{
	if (!mm)
		fprintf(stderr, "mmaplock: %s: NULL mm\n", func);
	else
		fprintf(stderr, "mmaplock: %s: uninitialised mm (%p)\n", func, (const void *)mm);
	abort();
}
