/* SPDX-License-Identifier: MIT */
/*
 * stacks.h: kernel call stacks, interned into small ids.
 *
 * A stack is a list of frames, leaf (innermost) first, each an address and a
 * symbol. Events refer to a stack by id (an MML_EV_STACK event, mml_format.h;
 * pair_interval.stack). A table is filled either with the ids a file gives
 * (stacktab_set: STACK blocks) or by interning (stacktab_intern: the
 * recorder, text and trace.dat sources): the same frames give the same id.
 * Memory grows with the number of distinct stacks, never with events.
 */
#ifndef MML_STACKS_H
#define MML_STACKS_H

#include <stddef.h>
#include <stdint.h>

#define STACK_MAX_FRAMES	128

struct mml_stack {
	uint32_t id;			/* >= 1 */
	uint16_t n;			/* frames */
	const uint64_t *addr;		/* n addresses; 0 when the source had none (text) */
	const char *const *sym;		/* n symbols: "func+0x1a/0x80", "func+0x1a/0x80 [module]",
					   "func" (text without offsets), "0xffff..." */
};

struct stacktab;

struct stacktab *stacktab_new(void);
void stacktab_free(struct stacktab *t);		/* NULL is fine */

/*
 * The id of these frames, made on first sight (ids 1, 2, ... above the
 * largest id seen so far). addr may be NULL (all unknown). *is_new (if not
 * NULL) tells whether the stack was new. Returns 0 when out of memory.
 * More than STACK_MAX_FRAMES frames are cut to the innermost ones.
 */
uint32_t stacktab_intern(struct stacktab *t, const uint64_t *addr, const char *const *sym,
			 unsigned n, int *is_new);
/* Define id as these frames (a file's STACK entry); a later definition wins. */
int stacktab_set(struct stacktab *t, uint32_t id, const uint64_t *addr,
		 const char *const *sym, unsigned n);
/* The stack of id, NULL if unknown. The pointer stays valid until stacktab_free(). */
const struct mml_stack *stacktab_get(const struct stacktab *t, uint32_t id);
size_t stacktab_count(const struct stacktab *t);

/*
 * Is this frame part of the tracing machinery rather than the lock taker
 * (trace_event_raw_event_*, __mmap_lock_do_trace_*, __traceiter_*, ...)?
 * Sources drop such leaf frames, so a stack starts at the code that took
 * the lock.
 */
int stack_is_trace_frame(const char *sym);

/* The function name of a symbol, without "+0x.." and " [module]": into buf. */
const char *stack_func(const char *sym, char *buf, size_t len);

#endif
