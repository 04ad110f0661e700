/* SPDX-License-Identifier: MIT */
/*
 * gen-tasks: write a tracefs text trace of many short-lived tasks, the load
 * of a build server or CI runner that forks all day, for measuring the
 * memory and time of `mmaplock report --by task|process` against
 * `--by memcg` on the same file:
 *
 *   build/bench/gen-tasks FILE [TASKS]
 *
 * TASKS (default 60,000) processes of one thread each, tids 1000 up, come
 * and go one after the other on 2 CPUs in 16 memcgs; each takes its own
 * mm once: start_locking, acquire_returned, released (3 events a task,
 * 180 k for the default). Waits 1-60 us, holds 1-200 us, timestamps in us
 * as the tracefs trace file prints them. Deterministic (fixed seed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* one event line as the tracefs trace file prints it (with the TGID column) */
static void line(FILE *f, uint32_t tid, unsigned cpu, uint64_t us, const char *ev,
		 uint64_t mm, unsigned memcg, int write, const char *tail)
{
	fprintf(f, "%16s-%-7u (%7u) [%03u] ..... %5llu.%06llu: mmap_lock_%s: mm=%016llx memcg_path=/ci/job%u write=%s%s\n",
		"cc1", tid, tid, cpu, (unsigned long long)(us / 1000000),
		(unsigned long long)(us % 1000000), ev, (unsigned long long)mm, memcg,
		write ? "true" : "false", tail);
}

int main(int argc, char **argv)
{
	uint64_t tasks = argc > 2 ? strtoull(argv[2], NULL, 10) : 60000;
	uint64_t now = 1000000;
	FILE *f;

	if (argc < 2 || !tasks || tasks > 4000000) {
		fprintf(stderr, "usage: gen-tasks FILE [TASKS]\n");
		return 2;
	}
	f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fprintf(f, "# tracer: nop\n#\n#           TASK-PID    TGID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
	for (uint64_t t = 0; t < tasks; t++) {
		uint64_t r = next();
		unsigned cpu = (unsigned)(t & 1);
		uint32_t tid = 1000 + (uint32_t)t;
		uint64_t mm = 0xffff888800000000ull + t * 0x1000;
		unsigned memcg = (unsigned)(r % 16);
		int write = (r >> 8) % 4 == 0;
		uint64_t us = now;

		line(f, tid, cpu, us, "start_locking", mm, memcg, write, "");
		us += 1 + (r >> 16) % 60;
		line(f, tid, cpu, us, "acquire_returned", mm, memcg, write, " success=true");
		us += 1 + (r >> 32) % 200;
		line(f, tid, cpu, us, "released", mm, memcg, write, "");
		now = us + 1;
	}
	if (fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	printf("gen-tasks: %s: %llu tasks, %llu events\n", argv[1], (unsigned long long)tasks,
	       (unsigned long long)(3 * tasks));
	return 0;
}
