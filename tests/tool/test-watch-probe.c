/* SPDX-License-Identifier: MIT */
/*
 * test-watch-probe: the watch engine (analysis/watch.h) reads the stack of
 * a task holding the lock for read from /proc/TID/stack while a wait behind
 * it is past the threshold (the kernel takes no stack on read acquisitions).
 * A real thread of this test, asleep, plays the read holder; a hand-made
 * stream opens its read hold and a write wait on the same mm, watch_tick()
 * runs once the wait is older than --wait-over, then the hold and the wait
 * end: the incident must name the sleeper as holder with a stack read from
 * /proc (stack_proc) that has frames. The incident file, read back through
 * the normal source and paired, must give the sleeper's read hold that
 * stack (a stack event before its acquisition, as the kernel's are), and
 * say so in INFO (stacks_from_proc). A lost-event span over the wait must
 * make the same incident suspect (a separate engine). Root only (77).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "watch.h"
#include "stacks.h"
#include "source.h"
#include "pair.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static volatile pid_t sleeper_tid;
static struct watch_incident got;
static struct watch_party got_holder;
static int ngot;
static char got_file[4096];

static void *sleeper(void *arg)
{
	(void)arg;
	sleeper_tid = (pid_t)syscall(SYS_gettid);
	sleep(30);
	return NULL;
}

static void on_incident(void *ctx, const struct watch_incident *inc)
{
	(void)ctx;
	got = *inc;
	if (inc->nholders)
		got_holder = inc->holders[0];
	snprintf(got_file, sizeof(got_file), "%s", inc->file ? inc->file : "");
	ngot++;
}

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct mml_event ev(uint8_t type, uint32_t tid, int write, int success, uint64_t ts)
{
	return (struct mml_event){ .ts = ts, .mm = 0x1000, .memcg = 0, .tid = tid, .type = type,
				   .flags = (uint8_t)((write ? MML_F_WRITE : 0) | (success ? MML_F_SUCCESS : 0)) };
}

struct file_hold {
	uint32_t tid, stack;
	int holds;
};

static int on_hold(void *ctx, const struct pair_interval *iv)
{
	struct file_hold *fh = ctx;

	if (iv->kind == PAIR_HOLD && iv->tid == fh->tid) {
		fh->holds++;
		fh->stack = iv->stack;
	}
	return 0;
}

/* The incident file through source_open and the pairing: tid's hold has the stack want. */
static void check_file(const char *path, uint32_t tid, const struct mml_stack *want)
{
	struct mml_meta *m = meta_new();
	char err[256] = "";
	struct source *src = m ? source_open(path, m, err, sizeof(err)) : NULL;
	struct file_hold fh = { .tid = tid };
	struct mml_event buf[256];
	struct pair p;
	long k;

	CHECK(src != NULL);
	if (!src) {
		fprintf(stderr, "%s: %s\n", path, err);
		meta_free(m);
		return;
	}
	CHECK(!pair_init(&p) && !pair_subscribe(&p, on_hold, &fh, PAIR_KIND(PAIR_HOLD)));
	while ((k = source_next(src, buf, 256)) > 0)
		CHECK(!pair_feed(&p, buf, (size_t)k));
	CHECK(k == 0);
	pair_finish(&p);
	CHECK(fh.holds == 1);
	const struct mml_stack *st = fh.stack ? meta_stack(m, fh.stack) : NULL;
	CHECK(st != NULL);		/* the /proc stack is in the file, on the read hold */
	if (st && want) {
		CHECK(st->n == want->n);
		for (unsigned i = 0; i < st->n && i < want->n; i++)
			CHECK(!strcmp(st->sym[i], want->sym[i]));
	}
	const char *info = meta_info(m, "stacks_from_proc");
	CHECK(info && !strcmp(info, "1"));
	pair_fini(&p);
	source_close(src);
	meta_free(m);
}

/* One run: a read hold of the sleeper, a write wait of tid 999999 behind it for ~60 ms. */
static void run(const char *dir, int lose)
{
	struct watch_opts o = { .wait_over_ns = 20000000ull, .before_ns = 100000000ull,
				.after_ns = 10000000ull, .dir = dir, .max_events = 65536, .prog = "test" };
	struct mml_meta *meta = meta_new();
	struct watch w;
	uint32_t H = (uint32_t)sleeper_tid, W = 999999;

	CHECK(meta && !watch_init(&w, &o, meta, on_incident, NULL));
	uint64_t t0 = mono();
	struct mml_event a[2] = { ev(MML_EV_ACQUIRE_RETURNED, H, 0, 1, t0),
				  ev(MML_EV_START_LOCKING, W, 1, 0, t0 + 1000) };
	CHECK(watch_events(&w, a, 2) == 0);
	if (lose)
		watch_lost(&w, 1, 42, t0 + 2000, t0 + 3000);
	usleep(60000);
	CHECK(watch_tick(&w, mono() - 100000000ull) == 0);	/* the wait is past 20 ms: holders read */
	uint64_t t1 = mono();
	struct mml_event b[3] = { ev(MML_EV_RELEASED, H, 0, 0, t1),
				  ev(MML_EV_ACQUIRE_RETURNED, W, 1, 1, t1 + 1000),
				  ev(MML_EV_RELEASED, W, 1, 0, t1 + 2000) };
	CHECK(watch_events(&w, b, 3) == 0);
	ngot = 0;
	memset(&got_holder, 0, sizeof(got_holder));
	watch_tick(&w, t1 + 1000000000ull);		/* past the window's end: written */
	CHECK(ngot == 1);
	CHECK(!got.is_hold && got.waiter.tid == W);
	CHECK(got.nholders == 1 && got_holder.tid == H && !got_holder.write);
	CHECK(got_holder.stack_proc == 1);
	const struct mml_stack *st = got_holder.stack ? meta_stack(meta, got_holder.stack) : NULL;
	CHECK(st && st->n > 0);
	if (st)
		printf("holder stack from /proc: %s ...\n", st->sym[0]);
	CHECK(got_file[0] != '\0');
	if (got_file[0])
		check_file(got_file, H, st);
	CHECK(got.suspect == lose);
	CHECK(got.lost == (lose ? 42u : 0u));
	watch_fini(&w);
	meta_free(meta);
}

int main(void)
{
	char dir[] = "/tmp/mml-watch-probe.XXXXXX";
	pthread_t th;
	FILE *f;

	if (geteuid() != 0 || !(f = fopen("/proc/self/stack", "re"))) {
		printf("test-watch-probe: skipped: /proc/TID/stack needs root\n");
		return 77;
	}
	fclose(f);
	if (!mkdtemp(dir) || pthread_create(&th, NULL, sleeper, NULL))
		return 1;
	while (!sleeper_tid)
		usleep(1000);
	usleep(20000);		/* asleep in the kernel by now */
	run(dir, 0);
	run(dir, 1);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fails++;
	if (fails)
		return 1;
	printf("test-watch-probe: ok\n");
	return 0;
}
