/* SPDX-License-Identifier: MIT */
/*
 * test-check: the rules of check.c on hand-built event sequences where
 * the reading of the trace matters:
 *  - stack events of many tasks pending at once (tids t and t + 256, more
 *    tasks than any 256-entry cache holds): every finding carries its own
 *    task's stack;
 *  - a write lock taken inside another write hold, then the other order in
 *    another task: in a kernel trace that is fork's dup_mmap() (orders
 *    with the new mm forgotten, no finding); in a libmmaplock recording
 *    (check.library) it is the program's own nesting: one order_inversion,
 *    mm the one held, mm2 the one taken.
 * tests/sh/check.sh runs the command on one fixture per finding;
 * test-check-lib.c on a real libmmaplock program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "test-util.h"

#define S MML_EV_START_LOCKING
#define A MML_EV_ACQUIRE_RETURNED
#define R MML_EV_RELEASED
#define W MML_F_WRITE
#define OK MML_F_SUCCESS
#define EV(ts_, tid_, mm_, type_, fl_) \
	{ .ts = ts_, .mm = mm_, .memcg = 7, .tid = tid_, .type = type_, .flags = fl_ }
#define ST(ts_, tid_, mm_, id_) \
	{ .ts = ts_, .mm = mm_, .memcg = id_, .tid = tid_, .type = MML_EV_STACK }

#define MAXF 1024
static struct check_finding fnd[MAXF];
static int nfnd;

static void keep(void *ctx, const struct check_finding *f)
{
	if (nfnd < MAXF)
		fnd[nfnd++] = *f;
}

#define NCOLL 300
static uint32_t coll_tid(unsigned i)
{
	return 1000 + i / 2 + (i & 1) * 256;
}

/* NCOLL tasks: each a stack (id = its tid), then each a start_locking in hardirq context. */
static void test_stacks_collide(void)
{
	struct mml_event ev[2 * NCOLL + 6];
	struct check c;
	size_t n = 0;
	int ok = 0;

	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)ST(100, coll_tid(i), 0xa, coll_tid(i));
	for (unsigned i = 0; i < NCOLL; i++)
		ev[n++] = (struct mml_event)EV(200 + i, coll_tid(i), 0xa, S, MML_F_HARDIRQ);
	/* two tasks only: 5 and 238 shared an entry of the old 256-entry cache */
	struct mml_event two[] = {
		ST(300, 5, 0xb, 55), ST(301, 238, 0xb, 66),
		EV(302, 5, 0xb, S, MML_F_HARDIRQ), EV(303, 238, 0xb, S, MML_F_HARDIRQ),
	};
	memcpy(ev + n, two, sizeof(two));
	n += sizeof(two) / sizeof(two[0]);
	nfnd = 0;
	CHECK(check_init(&c, 0, keep, NULL) == 0);
	CHECK(check_feed(&c, ev, n) == 0);
	check_finish(&c);
	CHECK_EQ(nfnd, NCOLL + 2);
	for (int i = 0; i < NCOLL; i++)
		ok += fnd[i].kind == CK_IRQ_CONTEXT && fnd[i].stack == fnd[i].tid;
	CHECK_EQ(ok, NCOLL);
	CHECK(fnd[NCOLL].tid == 5 && fnd[NCOLL].stack == 55);
	CHECK(fnd[NCOLL + 1].tid == 238 && fnd[NCOLL + 1].stack == 66);
	check_fini(&c);
}

/* Task 1 write-locks A then B, task 2 B then A (inner mode: write). */
static int abba(int library, int inner_write)
{
	const uint64_t MA = 0xa000, MB = 0xb000;
	const uint8_t iw = inner_write ? W : 0;
	struct mml_event ev[] = {
		EV(100, 1, MA, S, W), EV(110, 1, MA, A, W | OK),
		EV(120, 1, MB, S, iw), EV(130, 1, MB, A, iw | OK),
		EV(140, 1, MB, R, iw), EV(150, 1, MA, R, W),
		EV(200, 2, MB, S, W), EV(210, 2, MB, A, W | OK),
		EV(220, 2, MA, S, iw), EV(230, 2, MA, A, iw | OK),
		EV(240, 2, MA, R, iw), EV(250, 2, MB, R, W),
	};
	struct check c;

	nfnd = 0;
	CHECK(check_init(&c, 0, keep, NULL) == 0);
	c.library = (uint8_t)library;
	CHECK(check_feed(&c, ev, sizeof(ev) / sizeof(ev[0])) == 0);
	check_finish(&c);
	check_fini(&c);
	if (nfnd) {
		const struct check_finding *f = &fnd[0];
		CHECK(nfnd == 1 && f->kind == CK_ORDER_INVERSION);
		/* task 2 holds B (mm) and takes A (mm2); task 1 took B holding A */
		CHECK(f->tid == 2 && f->mm == MB && f->mm2 == MA && f->ts == 230);
		CHECK(f->tid2 == 1 && f->ts2 == 130 && f->write == !!inner_write);
	}
	return nfnd;
}

static void test_library_nesting(void)
{
	CHECK_EQ(abba(1, 1), 1);	/* library: write inside write is the program's */
	CHECK_EQ(abba(1, 0), 1);
	CHECK_EQ(abba(0, 0), 1);	/* kernel: read inside write is an order too */
	CHECK_EQ(abba(0, 1), 0);	/* kernel: write inside write is fork's dup_mmap */
}

int main(void)
{
	test_stacks_collide();
	test_library_nesting();
	printf("test-check: ok\n");
	return 0;
}
