/* SPDX-License-Identifier: MIT */
/*
 * text-stack.h: the frame lines of a kernel stack in a text trace, for
 * src-text.c. A stack is read line by line into a struct text_stack:
 *
 *   ftrace  " => vm_mmap_pgoff" (tracefs), " => vm_mmap_pgoff+0x19e/0x210
 *           <ffffffff815d188e>" (the sym-offset and sym-addr options),
 *           "=> vm_mmap_pgoff (ffffffff815d188e)" or "=> ffffffffc0a1b2c3"
 *           (trace-cmd report), after a "<stack trace>" / "kernel_stack:"
 *           record line;
 *   perf    "\tffffffff815d188e vm_mmap_pgoff+0x19e ([kernel.kallsyms])"
 *           (perf script's callchain) under the event line; user-space
 *           frames (addresses in the lower half) are left out, a module's
 *           frame gets " [module]", "[unknown]" becomes the address.
 *
 * Symbols are kept as printed; an address alone becomes "0x...". Frames
 * past TEXT_STACK_FRAMES, or past the text buffer, are dropped (the
 * innermost ones come first and are kept).
 */
#ifndef MML_TEXT_STACK_H
#define MML_TEXT_STACK_H

#include <stddef.h>
#include <stdint.h>
#include "stacks.h"

#define TEXT_STACK_FRAMES	(STACK_MAX_FRAMES + 32)	/* tracing frames included */

enum text_stack_kind {
	TEXT_STACK_NONE,
	TEXT_STACK_FTRACE,	/* after a stack record line: "=> sym" lines */
	TEXT_STACK_PERF,	/* after one of our events: perf script's callchain lines */
};

struct text_stack {
	enum text_stack_kind kind;
	uint32_t stream, pid;		/* ring buffer (src-text.c) and task of the stack or its event */
	unsigned n;			/* frames read */
	size_t used;			/* bytes of text used */
	uint64_t addr[TEXT_STACK_FRAMES];	/* 0: the text has none */
	const char *sym[TEXT_STACK_FRAMES];	/* into text */
	char text[16384];
};

/*
 * Is [p, e) an ftrace (text_ftrace_frame) or perf (text_perf_frame) frame
 * line? 1 when it is: its frame, if it has one worth keeping, is added to
 * b. 0 when it is not (b unchanged).
 */
/* Hex digits in [p, e) (an optional 0x first) up to the first other character. */
uint64_t text_parse_hex(const char *p, const char *e);
int text_ftrace_frame(struct text_stack *b, const char *p, const char *e);
int text_perf_frame(struct text_stack *b, const char *p, const char *e);

#endif
