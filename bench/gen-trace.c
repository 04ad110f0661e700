/* SPDX-License-Identifier: MIT */
/*
 * gen-trace: write a synthetic mmaplock trace of N events (default 5 M) for
 * measuring `mmaplock report`'s speed and memory without a kernel:
 *
 *   build/bench/gen-trace FILE [EVENTS] [STREAMS]
 *
 * STREAMS CPUs (default 2), each running 64 tasks in turn over 16 mms in 8
 * memcgs: start_locking, acquire_returned (1 in 50 failed, then retried),
 * released; waits 0.2-60 us, holds 1-200 us. The streams' blocks are written
 * interleaved and overlapping in time, as a live recorder writes them, so
 * the reader's merge does real work. Deterministic (fixed seed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mml_writer.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .clock = MML_CLOCK_MONOTONIC };
	uint64_t total = argc > 2 ? strtoull(argv[2], NULL, 10) : 5000000;
	uint32_t streams = argc > 3 ? (uint32_t)atoi(argv[3]) : 2, blk = MML_EVENTS_PER_BLOCK;
	struct mml_event *ev;
	uint64_t *now, written = 0;
	struct mml_writer *w;
	char name[64];

	if (argc < 2 || !streams || streams > 256) {
		fprintf(stderr, "usage: gen-trace FILE [EVENTS] [STREAMS]\n");
		return 2;
	}
	h.ncpus = streams;
	w = mml_writer_open(argv[1], &h);
	ev = malloc(blk * sizeof(*ev));
	now = calloc(streams, sizeof(*now));
	if (!w || !ev || !now) {
		perror(argv[1]);
		return 1;
	}
	for (uint64_t m = 1; m <= 8; m++) {
		snprintf(name, sizeof(name), "/sys/fs/cgroup/memory/job%llu", (unsigned long long)m);
		mml_writer_memcg(w, 1000 + m, name);
	}
	for (uint32_t t = 0; t < 64 * streams; t++) {
		snprintf(name, sizeof(name), "worker%u", t % 64);
		mml_writer_task(w, 5000 + t, 5000 + (t & ~7u), name, 0, NULL);
	}
	mml_writer_info(w, "generator", "bench/gen-trace");
	while (written < total) {
		for (uint32_t s = 0; s < streams && written < total; s++) {
			uint32_t n = 0;
			while (n + 5 <= blk) {
				uint64_t r = next();
				uint32_t tid = 5000 + s * 64 + (uint32_t)(r % 64);
				uint64_t mm = 0xffff888800000000ull + ((r >> 8) % 16) * 0x1000;
				uint64_t memcg = 1000 + 1 + ((r >> 8) % 16) / 2;
				uint8_t wr = (r >> 20) % 4 == 0 ? MML_F_WRITE : 0;
				uint64_t t = now[s];
				struct mml_event e = { .mm = mm, .memcg = memcg, .tid = tid,
						       .cpu = (uint16_t)s, .flags = wr };
				e.ts = t; e.type = MML_EV_START_LOCKING; ev[n++] = e;
				t += 200 + (r >> 24) % 60000;
				if ((r >> 40) % 50 == 0) {
					e.ts = t; e.type = MML_EV_ACQUIRE_RETURNED; ev[n++] = e;
					t += 100;
					e.ts = t; e.type = MML_EV_START_LOCKING; ev[n++] = e;
					t += 500;
				}
				e.ts = t; e.type = MML_EV_ACQUIRE_RETURNED; e.flags = wr | MML_F_SUCCESS;
				ev[n++] = e;
				t += 1000 + (r >> 30) % 200000;
				e.ts = t; e.type = MML_EV_RELEASED; e.flags = wr; ev[n++] = e;
				now[s] = t + 50;
			}
			if (mml_writer_events(w, s, ev, n)) {
				perror(argv[1]);
				return 1;
			}
			written += n;
		}
	}
	if (mml_writer_close(w, written, 0)) {
		perror(argv[1]);
		return 1;
	}
	printf("gen-trace: %s: %llu events, %u streams\n", argv[1], (unsigned long long)written, streams);
	free(ev);
	free(now);
	return 0;
}
