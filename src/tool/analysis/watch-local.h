/* SPDX-License-Identifier: MIT */
/*
 * watch-local.h: what the three files of watch's engine share among
 * themselves (watch.c: the ring, losses, crossings and the interface;
 * watch-incident.c: blame and the incident file; watch-probe.c: read
 * holders' stacks from /proc). Not for other files: they use watch.h.
 */
#ifndef MML_WATCH_LOCAL_H
#define MML_WATCH_LOCAL_H

#include "watch.h"

/* watch.c */
/* How far back the ring keeps events (before, plus as much again, at least 1 s). */
uint64_t watch_horizon(const struct watch *w);
/* The ring's i-th oldest event. */
struct mml_event *watch_ring_at(const struct watch_ring *r, size_t i);
/* Were events lost in [s, e] on any CPU? */
int watch_lost_in(const struct watch *w, uint64_t s, uint64_t e);
uint64_t watch_cross_len(const struct watch_crossing *c);

/* watch-incident.c: the open incident into its file, its line through the callback. 0, or -1. */
int watch_write_incident(struct watch *w);

/* watch-probe.c */
/* The /proc stack read for tid's hold that began at hold_ts, or NULL. */
const struct watch_probe *watch_probe_find(const struct watch *w, uint32_t tid, uint64_t hold_ts);
/* Open waits past --wait-over: their mm's current holders' stacks from /proc, once per hold. */
void watch_probe_holders(struct watch *w);
/* Those stacks into the window's events before the holds' acquisitions (*ev grows). Put, or -1. */
long watch_put_probe_stacks(const struct watch *w, struct mml_event **ev, size_t *n);

#endif
