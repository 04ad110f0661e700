/* SPDX-License-Identifier: MIT */
/*
 * test-text: the text parser (src-text.c) field by field on single lines of
 * each shape: exact nanosecond timestamps (no float rounding), the tgid
 * column (also "(-------)"), context flags, perf's "comm tid" and
 * "comm pid/tid", a memcg_path holding spaces and " write=", rwsem-only
 * contention_begin, lost-events lines, and lines that are not events.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "source.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static struct mml_meta *meta;
static uint64_t skipped;

/* Parse text; returns the number of events (max 8) in ev, -1 on error. */
static long parse(const char *text, struct mml_event *ev)
{
	int fd = memfd_create("test-text", 0);
	char path[64];
	struct source s = { .ops = &source_text_ops };
	long n = -1;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		exit(1);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	meta_free(meta);
	meta = meta_new();
	s.meta = meta;
	if (source_text_ops.open(&s, path) == 0)
		n = source_text_ops.next(&s, ev, 8);
	skipped = s.skipped;
	source_text_ops.close(&s);
	close(fd);
	return n;
}

int main(void)
{
	struct mml_event ev[8];
	const struct mml_task_info *t;

	/* ftrace with tgid and a hardirq flag; 6-digit time */
	CHECK(parse("  <idle>-0 [000] d.h1. 1.0: sched_switch: x\n"
		    "     my comm-4242    (   4240) [003] dNh2. 12345.678901: mmap_lock_start_locking: "
		    "mm=00000000deadbeef memcg_id=42 write=true\n", ev) == 1);
	CHECK(ev[0].ts == 12345678901000ull && ev[0].tid == 4242 && ev[0].cpu == 3);
	CHECK(ev[0].mm == 0xdeadbeef && ev[0].memcg == 42 && ev[0].type == MML_EV_START_LOCKING);
	CHECK(ev[0].flags == (MML_F_WRITE | MML_F_HARDIRQ));
	CHECK(skipped == 1);
	t = meta_task(meta, 4242);
	CHECK(t && t->tgid == 4240 && !strcmp(t->comm, "my comm"));

	/* unknown tgid, softirq, trace-cmd -t nanoseconds (exact: 0.1 + 0.2 style trouble) */
	CHECK(parse("  kworker/0:1-77 (-------) [001] ..s1. 0.300000007: mmap_lock_acquire_returned: "
		    "mm=0x10 memcg_id=0 write=false success=false\n", ev) == 1);
	CHECK(ev[0].ts == 300000007ull && ev[0].tid == 77 && ev[0].memcg == 0);
	CHECK(ev[0].flags == MML_F_SOFTIRQ && ev[0].type == MML_EV_ACQUIRE_RETURNED);
	t = meta_task(meta, 77);
	CHECK(t && t->tgid == 0 && !strcmp(t->comm, "kworker/0:1"));

	/* memcg_path with spaces and " write=" in it: up to the last " write=" */
	CHECK(parse("a-1 [000] 5.000001: mmap_lock_released: mm=ff memcg_path=/x y write=z write=true\n",
		    ev) == 1);
	CHECK(ev[0].flags == MML_F_WRITE && ev[0].type == MML_EV_RELEASED);
	CHECK(meta_memcg(meta, ev[0].memcg) && !strcmp(meta_memcg(meta, ev[0].memcg), "/x y write=z"));
	/* empty path: no memcg */
	CHECK(parse("a-1 [000] 5.000001: mmap_lock_released: mm=ff memcg_path= write=false\n", ev) == 1);
	CHECK(ev[0].memcg == 0 && ev[0].flags == 0);

	/* perf script: "comm tid" and "comm pid/tid", system prefix */
	CHECK(parse("  stress  901 [001]  77.123456:  mmap_lock:mmap_lock_released: mm=0x1 memcg_id=5 write=false\n"
		    "  stress  900/902 [000] 77.123457: mmap_lock:mmap_lock_start_locking: mm=0x1 memcg_id=5 write=true\n",
		    ev) == 2);
	CHECK(ev[0].tid == 901 && ev[0].cpu == 1 && ev[0].ts == 77123456000ull);
	CHECK(ev[1].tid == 902 && ev[1].ts == 77123457000ull && (ev[1].flags & MML_F_WRITE));
	t = meta_task(meta, 902);
	CHECK(t && t->tgid == 900 && !strcmp(t->comm, "stress"));

	/* contention: rwsem waits kept (READ/WRITE), spinlock-only dropped; ret parsed */
	CHECK(parse("a-1 [000] 1.000001: contention_begin: 0xffff88 (flags=SPIN)\n"
		    "a-1 [000] 1.000002: contention_begin: 0xffff88 (flags=SPIN|WRITE)\n"
		    "a-1 [000] 1.000003: lock:contention_end: 0xffff88 (ret=-4)\n", ev) == 2);
	CHECK(ev[0].type == MML_EV_CONTENTION_BEGIN && ev[0].mm == 0xffff88 && ev[0].memcg == 5 &&
	      (ev[0].flags & MML_F_WRITE));
	CHECK(ev[1].type == MML_EV_CONTENTION_END && (int64_t)ev[1].memcg == -4);
	CHECK(skipped == 1);

	/* a last line without '\n' still counts; headers are skipped */
	CHECK(parse("version = 6\nCPU 0 is empty\ncpus=2\n"
		    "x-2 [001] 9.5: mmap_lock_acquire_returned: mm=1 memcg_id=1 write=true success=true", ev) == 1);
	CHECK(ev[0].ts == 9500000000ull && ev[0].flags == (MML_F_WRITE | MML_F_SUCCESS) && skipped == 3);

	/* lost-events lines with a count (trace-cmd report, trace_pipe) are lost events;
	 * the `trace` file's count-less "[LOST EVENTS]" is its header's business */
	CHECK(parse("x-2 [001] 9.5: mmap_lock_released: mm=1 memcg_id=1 write=true\n"
		    "CPU:1 [7 EVENTS DROPPED]\n"
		    "CPU:0 [LOST 12 EVENTS]\n"
		    "CPU:2 [LOST EVENTS]\n"
		    "x-2 [001] 9.6: mmap_lock_released: mm=1 memcg_id=1 write=true\n", ev) == 2);
	CHECK(meta_lost_total(meta) == 19);

	/* nothing of ours: an error naming the problem */
	CHECK(parse("hello\nworld: 1.5: x\n", ev) == -1);
	CHECK(parse("", ev) == -1);
	meta_free(meta);
	if (fails) {
		fprintf(stderr, "test-text: %d checks failed\n", fails);
		return 1;
	}
	printf("test-text: ok\n");
	return 0;
}
