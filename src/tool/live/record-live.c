/* SPDX-License-Identifier: MIT */
/*
 * record-live.c: live delivery, events or windows (record.c's top comment,
 * "Live mode"): merged events, the watermark, lost counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record-local.h"
#include "cgroupfs.h"
#include "decode.h"

uint64_t rec_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Merged events to the windows (live.c), or as they are to the sink. */
static int deliver(void *ctx, const struct mml_event *ev, size_t n)
{
	struct rec *r = ctx;

	if (r->is_windows) {
		/* both: the exporter's windows and its incidents (watch.h) */
		int rc = r->b->sink.events ? r->b->sink.events(r->b->sink.ctx, ev, n) : 0;
		return rc ? rc : live_events(&r->win, ev, n);
	}
	return r->b->sink.events(r->b->sink.ctx, ev, n);
}

void rec_tell_lost(struct rec *r, int cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts)
{
	if (!r->is_live || !r->b || !r->b->sink.lost || !count)
		return;
	r->cpu[cpu].lost_told += count;
	r->b->sink.lost(r->b->sink.ctx, (uint32_t)cpu, count, from_ts, to_ts);
}

/*
 * Loss the pages' marks did not tell (an unstored count, events dropped at
 * write time): what the statistics counted one reading ago and is still
 * untold now that the CPU has been read since. Its events came after the
 * newest record read two readings ago, and before the last reading.
 */
static void tell_stat_lost(struct rec *r, int cpu, uint64_t l, int final, uint64_t now)
{
	struct cpubuf *c = &r->cpu[cpu];
	uint64_t due = final ? l : c->stat_prev;

	if (due > c->lost_told)
		rec_tell_lost(r, cpu, due - c->lost_told, c->stat_from, final ? now : c->stat_prev_t);
	c->stat_from = c->stat_mid;
	c->stat_mid = c->last_ts;
	c->stat_prev = l;
	c->stat_prev_t = now;
}

/* Lost so far on all CPUs: the instance's stats, or the pages' own marks if more. */
static uint64_t read_lost(struct rec *r, int final)
{
	uint64_t lost = 0, now = rec_mono_ns();

	for (int cpu = 0; cpu < r->ncpu; cpu++) {
		if (!r->cpu[cpu].tcpu)
			continue;
		uint64_t l = rec_read_stat(r, cpu, "overrun:") + rec_read_stat(r, cpu, "dropped events:");
		if (l < r->cpu[cpu].missed)
			l = r->cpu[cpu].missed;
		tell_stat_lost(r, cpu, l, final, now);
		lost += l;
	}
	return lost;
}

/*
 * Live mode, after a drain that began at event-clock time wm: deliver what
 * is certainly complete, then close the windows it ends. A CPU whose reading was cut short
 * (MERGE_SOFT_MAX) holds the watermark at its newest event. Non-zero: stop.
 */
int rec_live_step(struct rec *r, uint64_t wm, int final)
{
	double now = rec_now();

	if (final) {
		wm = UINT64_MAX;
	} else {
		for (int cpu = 0; cpu < r->ncpu; cpu++)
			if (merge_pending(&r->live, cpu) >= MERGE_SOFT_MAX &&
			    merge_last_ts(&r->live, cpu) < wm)
				wm = merge_last_ts(&r->live, cpu);
	}
	if (merge_deliver(&r->live, wm, deliver, r))
		return 1;
	if (final || now - r->last_lost >= 0.25) {
		r->last_lost = now;
		r->lost = read_lost(r, final);
	}
	if (!final)
		rec_rewalk(r, now);
	if (!r->is_windows)
		return 0;
	return live_tick(&r->win, wm, r->lost, final);
}
