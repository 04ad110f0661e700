/* SPDX-License-Identifier: MIT */
/*
 * test-blame: who blocked whom (blame.c) on hand-built event sequences fed
 * through the pairing machine: exact blamed_ns per holder, per mode and per
 * holder cgroup -> victim memcg pair (the holders' cgroups from meta, as a
 * recording stores them), holds closed during a wait, a waiter never
 * blaming itself, and the bound on remembered holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blame.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define S MML_EV_START_LOCKING
#define A MML_EV_ACQUIRE_RETURNED
#define R MML_EV_RELEASED
#define W MML_F_WRITE
#define OK MML_F_SUCCESS
#define EV(ts_, tid_, mm_, mc_, type_, fl_) { .ts = ts_, .mm = mm_, .memcg = mc_, .tid = tid_, .type = type_, .flags = fl_ }

static void task(struct mml_meta *m, uint32_t tid, const char *comm, const char *cg)
{
	struct mml_task_info t = { .tid = tid, .tgid = tid, .cgroup_id = tid, .cgroup = cg };

	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	if (meta_set_task(m, &t))
		exit(1);
}

static void run(struct mml_meta *meta, struct blame *b, const struct mml_event *ev, size_t n)
{
	struct pair pair;

	/* blame alone: the pairing needs no aggregation */
	if (pair_init(&pair) || blame_init(b, meta) ||
	    pair_subscribe(&pair, blame_hook, b, PAIR_INTERVALS))
		exit(1);
	CHECK(pair_feed(&pair, ev, n) == 0);
	pair_finish(&pair);
	pair_fini(&pair);
}

static const struct blame_holder *holder(const struct blame_result *r, uint32_t tid)
{
	for (size_t i = 0; i < r->nholders; i++)
		if (r->holders[i].tid == tid)
			return &r->holders[i];
	return NULL;
}

static const struct blame_pair *bpair(const struct blame *b, const struct blame_result *r,
				      const char *hc, const char *vm)
{
	char buf[48];

	for (size_t i = 0; i < r->npairs; i++)
		if (!strcmp(r->pairs[i].holder_cgroup, hc) &&
		    !strcmp(blame_memcg_name(b, r->pairs[i].victim_memcg, buf, sizeof(buf)), vm))
			return &r->pairs[i];
	return NULL;
}

/*
 * mm 0xa belongs to memcg 1 (/db), mm 0xb to memcg 2 (/web).
 * backup[10] (cgroup /ops) reads /db's mm (like /proc/pid/smaps) [40, 600];
 * db[20] (/db) waits for write [200, 600]: 400 blamed on backup (read).
 * db[20] holds for write [600, 900]; db[21] waits for read [650, 1000]:
 * 250 on db[20] (write); db[22] (/db) also waits [700, 1000]: 200 on db[20].
 * web[30] (/web) holds 0xb for write [0, 500], web[31] waits [100, 500] and
 * ops' backup[10] waits for 0xb too [50, 500]: 400 + 450 on web[30].
 * A killed wait (failed) of db[23] [950, 980] overlaps db[21]'s and db[22]'s
 * holds? No: they start at 1000. It overlaps nothing: unblamed.
 */
static void test_pairs(void)
{
	struct mml_meta *m = meta_new();
	struct blame b;
	struct blame_result r;
	struct mml_event ev[] = {
		EV(0, 30, 0xb, 2, S, W), EV(0, 30, 0xb, 2, A, W | OK),
		EV(40, 10, 0xa, 1, A, OK),		/* trylock-like read of /db's mm */
		EV(50, 10, 0xb, 2, S, 0),		/* then it waits for /web's too */
		EV(100, 31, 0xb, 2, S, 0),
		EV(200, 20, 0xa, 1, S, W),
		EV(500, 30, 0xb, 2, R, W),
		EV(500, 31, 0xb, 2, A, OK), EV(500, 10, 0xb, 2, A, OK),
		EV(510, 31, 0xb, 2, R, 0), EV(520, 10, 0xb, 2, R, 0),
		EV(600, 10, 0xa, 1, R, 0),
		EV(600, 20, 0xa, 1, A, W | OK),
		EV(650, 21, 0xa, 1, S, 0),
		EV(700, 22, 0xa, 1, S, 0),
		EV(900, 20, 0xa, 1, R, W),
		EV(950, 23, 0xa, 1, S, W),
		EV(980, 23, 0xa, 1, A, W),		/* failed */
		EV(1000, 21, 0xa, 1, A, OK), EV(1000, 22, 0xa, 1, A, OK),
		EV(1100, 21, 0xa, 1, R, 0), EV(1100, 22, 0xa, 1, R, 0),
	};

	if (!m || meta_set_memcg(m, 1, "/db") || meta_set_memcg(m, 2, "/web"))
		exit(1);
	task(m, 10, "backup", "/ops");
	task(m, 20, "db", "/db");
	task(m, 21, "db", "/db");
	task(m, 22, "db", "/db");
	task(m, 23, "db", "/db");
	task(m, 30, "web", "/web");
	task(m, 31, "web", "/web");
	run(m, &b, ev, sizeof(ev) / sizeof(ev[0]));
	CHECK(!b.oom && b.dropped_holds == 0);
	/* waits: 30's (0), 10 on 0xb, 31, 20, 21, 22, 23 (failed) */
	CHECK(b.waits == 7);
	CHECK(b.wait_ns == 0 + 450 + 400 + 400 + 350 + 300 + 30);
	CHECK(b.unblamed == 2);			/* web[30]'s zero wait, db[23]'s failed one */
	CHECK(blame_result(&b, &r) == 0);
	const struct blame_holder *h;
	CHECK((h = holder(&r, 10)) && h->blamed_ns == 400 && h->read_ns == 400 && h->waits == 1);
	CHECK((h = holder(&r, 20)) && h->blamed_ns == 450 && h->write_ns == 450 && h->waits == 2);
	CHECK((h = holder(&r, 30)) && h->blamed_ns == 850 && h->write_ns == 850 && h->waits == 2);
	CHECK(holder(&r, 21) == NULL && holder(&r, 23) == NULL);
	CHECK(r.nholders == 3 && r.holders[0].tid == 30 && r.holders[2].tid == 10);
	const struct blame_pair *p;
	CHECK((p = bpair(&b, &r, "/ops", "/db")) && p->blamed_ns == 400 && p->waits == 1);
	CHECK((p = bpair(&b, &r, "/db", "/db")) && p->blamed_ns == 450 && p->waits == 2);
	CHECK((p = bpair(&b, &r, "/web", "/web")) && p->blamed_ns == 850 && p->waits == 2);
	CHECK(r.npairs == 3);
	blame_result_free(&r);
	blame_fini(&b);
	meta_free(m);
}

/* A wait that never closes: remembered holds stay bounded, the excess is counted. */
static void test_bound(void)
{
	size_t n = 3 * BLAME_KEEP * 3 + 1, k = 0;
	struct mml_event *ev = calloc(n, sizeof(*ev));
	struct blame b;

	ev[k++] = (struct mml_event)EV(1, 99, 0xa, 1, S, W);
	for (uint64_t t = 10; k + 3 <= n; t += 10) {
		ev[k++] = (struct mml_event)EV(t, 5, 0xa, 1, S, 0);
		ev[k++] = (struct mml_event)EV(t + 1, 5, 0xa, 1, A, OK);
		ev[k++] = (struct mml_event)EV(t + 2, 5, 0xa, 1, R, 0);
	}
	run(NULL, &b, ev, k);
	CHECK(b.dropped_holds > 0);
	CHECK(b.dropped_holds <= (uint64_t)3 * BLAME_KEEP);
	blame_fini(&b);
	free(ev);
}

/*
 * The same, but the waiter's answer is lost and it goes on with another mm
 * (a task blocked in a wait fires nothing): its wait is closed unblamed at
 * once, so the holds of 0xa are not kept for it.
 */
static void test_lost_wait(void)
{
	size_t n = 3 * BLAME_KEEP * 3 + 3, k = 0;
	struct mml_event *ev = calloc(n, sizeof(*ev));
	struct blame b;

	ev[k++] = (struct mml_event)EV(1, 99, 0xa, 1, S, W);
	ev[k++] = (struct mml_event)EV(2, 99, 0xc, 1, S, 0);
	ev[k++] = (struct mml_event)EV(3, 99, 0xc, 1, A, OK);
	for (uint64_t t = 10; k + 3 <= n; t += 10) {
		ev[k++] = (struct mml_event)EV(t, 5, 0xa, 1, S, 0);
		ev[k++] = (struct mml_event)EV(t + 1, 5, 0xa, 1, A, OK);
		ev[k++] = (struct mml_event)EV(t + 2, 5, 0xa, 1, R, 0);
	}
	run(NULL, &b, ev, k);
	CHECK(b.lost_waits == 1);
	CHECK(b.dropped_holds == 0);
	CHECK(b.waits == 1 + (k - 3) / 3);	/* 99's wait on 0xc and 5's */
	blame_fini(&b);
	free(ev);
}

int main(void)
{
	test_pairs();
	test_bound();
	test_lost_wait();
	if (fails) {
		fprintf(stderr, "test-blame: %d checks failed\n", fails);
		return 1;
	}
	printf("test-blame: ok\n");
	return 0;
}
