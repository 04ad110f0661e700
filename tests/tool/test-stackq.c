/* SPDX-License-Identifier: MIT */
/*
 * test-stackq: the queue that attaches post-event stacks (stackq.c) on
 * hand-made record sequences: order kept while an event is held, a stack
 * of the same frames interned once, the leaf tracing frames dropped, the
 * bound (STACKQ_HOLD) letting the oldest held event go, and stacks that
 * must not attach (no event, another pid, another event named by the
 * tracing frames, only tracing frames, after another record of the CPU a
 * stack that does not name the event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test-util.h"
#include "stackq.h"
#include "stacks.h"

static struct mml_event E(uint64_t ts, uint32_t tid, uint16_t cpu, uint8_t type)
{
	return (struct mml_event){ .ts = ts, .mm = 0x1000 + tid, .memcg = 7, .tid = tid, .cpu = cpu,
				   .type = type };
}

int main(void)
{
	struct mml_meta *meta = meta_new();
	struct stackq *q = stackq_new(meta);
	static struct mml_event out[4 * STACKQ_HOLD];
	const char *const f1[] = { "trace_event_raw_event_mmap_lock", "__traceiter_mmap_lock_released",
				   "vm_mmap_pgoff", "do_syscall_64" };
	const uint64_t a1[] = { 1, 2, 3, 4 };
	struct mml_event e;
	size_t n;

	CHECK(meta && q);
	/* CPU 0 holds an event; CPU 1's events queue behind it */
	e = E(10, 100, 0, MML_EV_RELEASED);
	CHECK(stackq_event(q, 0, &e) == 0);
	e = E(11, 200, 1, MML_EV_START_LOCKING);
	CHECK(stackq_event(q, 1, &e) == 0);
	CHECK_EQ(stackq_pop(q, out, 16, 0), 0);
	/* another record on CPU 1: its event still waits (for a stack that names it) */
	stackq_other(q, 1);
	CHECK_EQ(stackq_pop(q, out, 16, 0), 0);
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 4), 1);
	n = stackq_pop(q, out, 16, 0);
	CHECK_EQ(n, 2);
	CHECK(out[0].type == MML_EV_STACK && out[0].ts == 10 && out[0].tid == 100 && out[0].mm == 0x1064);
	CHECK(out[1].type == MML_EV_RELEASED);
	CHECK_EQ(stackq_stack(q, 1, 200, a1 + 2, f1 + 2, 2), 0);	/* names nothing */
	CHECK_EQ(stackq_pop(q, out + 2, 16, 1), 1);
	CHECK(out[2].type == MML_EV_START_LOCKING && out[2].ts == 11);
	const struct mml_stack *st = meta_stack(meta, (uint32_t)out[0].memcg);
	CHECK(st && st->n == 2 && st->addr[0] == 3 && !strcmp(st->sym[0], "vm_mmap_pgoff"));
	/* the same frames again: the same id */
	e = E(20, 100, 0, MML_EV_RELEASED);
	stackq_event(q, 0, &e);
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 4), 1);
	n = stackq_pop(q, out + 3, 16, 0);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[3].memcg, out[0].memcg);
	CHECK_EQ(stacktab_count(meta_stacks(meta)), 1);

	/* stacks that do not attach */
	e = E(30, 100, 0, MML_EV_START_LOCKING);
	stackq_event(q, 0, &e);
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 4), 0);	/* names released: not this event */
	e = E(31, 100, 0, MML_EV_RELEASED);
	stackq_event(q, 0, &e);
	CHECK_EQ(stackq_stack(q, 0, 101, a1, f1, 4), 0);	/* another pid: the event stays held */
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 4), 1);	/* ... for its own */
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 4), 0);	/* a second stack: none held */
	e = E(32, 100, 0, MML_EV_RELEASED);
	stackq_event(q, 0, &e);
	CHECK_EQ(stackq_stack(q, 0, 100, a1, f1, 2), 0);	/* only tracing frames: no stack */
	CHECK_EQ(stackq_stack(q, 5, 100, a1, f1, 4), 0);	/* a stream that never had an event */
	CHECK_EQ(stackq_stack(q, 70000, 100, NULL, f1, 4), 0);
	/* another record in between: only a stack that names the event attaches */
	const char *const other[] = { "trace_event_raw_event_sched_switch", "schedule" };
	const char *const start[] = { "trace_event_raw_event_mmap_lock",
				      "__traceiter_mmap_lock_start_locking", "lock_mm_and_find_vma" };
	e = E(33, 100, 0, MML_EV_START_LOCKING);
	stackq_event(q, 0, &e);
	CHECK_EQ(stackq_stack(q, 0, 100, NULL, other, 2), 0);	/* another event's */
	stackq_other(q, 0);
	CHECK_EQ(stackq_stack(q, 0, 100, NULL, f1 + 2, 2), 0);	/* names nothing */
	CHECK_EQ(stackq_stack(q, 0, 100, NULL, f1, 4), 0);	/* names released */
	CHECK_EQ(stackq_stack(q, 0, 100, NULL, start, 3), 1);
	n = stackq_pop(q, out, 16, 1);
	CHECK_EQ(n, 6);
	CHECK(out[0].ts == 30 && out[0].type == MML_EV_START_LOCKING);
	CHECK(out[1].ts == 31 && out[1].type == MML_EV_STACK);
	st = meta_stack(meta, (uint32_t)out[1].memcg);
	CHECK(st && st->n == 2 && !strcmp(st->sym[0], "vm_mmap_pgoff"));
	CHECK(out[2].ts == 31 && out[3].ts == 32 && out[3].type == MML_EV_RELEASED);
	CHECK(out[4].ts == 33 && out[4].type == MML_EV_STACK && out[5].ts == 33);
	st = meta_stack(meta, (uint32_t)out[4].memcg);
	CHECK(st && st->n == 1 && !strcmp(st->sym[0], "lock_mm_and_find_vma") && st->addr[0] == 0);
	CHECK_EQ(stackq_attached(q), 4);
	CHECK_EQ(stackq_unattached(q), 9);

	/* the bound: CPU 1 holds one event while CPU 0 floods */
	e = E(100, 300, 1, MML_EV_START_LOCKING);
	stackq_event(q, 1, &e);
	size_t got = 0;
	for (uint64_t i = 0; i < 2 * STACKQ_HOLD; i++) {
		e = E(101 + i, 400, 0, MML_EV_START_LOCKING);
		CHECK(stackq_event(q, 0, &e) == 0);
		got += stackq_pop(q, out + got, 4 * STACKQ_HOLD - got, 0);
	}
	/* CPU 1's event left without a stack once the queue was full; order kept */
	CHECK(got >= STACKQ_HOLD);
	CHECK(out[0].ts == 100 && out[0].type == MML_EV_START_LOCKING);
	CHECK_EQ(stackq_stack(q, 1, 300, a1 + 2, f1 + 2, 2), 0);
	got += stackq_pop(q, out + got, 4 * STACKQ_HOLD - got, 1);
	CHECK_EQ(got, 2 * STACKQ_HOLD + 1);
	for (size_t i = 1; i < got; i++)
		CHECK(out[i].ts == out[i - 1].ts + 1 && out[i].type == MML_EV_START_LOCKING);

	stackq_free(q);
	stackq_free(NULL);
	meta_free(meta);
	printf("test-stackq: ok\n");
	return 0;
}
