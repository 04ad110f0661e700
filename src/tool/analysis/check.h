/* SPDX-License-Identifier: MIT */
/*
 * check.h: the lock-usage verifier behind `mmaplock check`. Events in time
 * order go in, findings come out: each names the task(s), the mm(s) and the
 * timestamps, and the kernel stacks of those events when the trace has them
 * (stack events, format 1.1). It keeps its own state per (task, mm) and per task (the mms
 * it holds, in order) rather than the report's pairing, because its rules
 * differ: a broken sequence is what it looks for, not what it recovers from.
 * docs/CHECK.md tells each rule and what is deliberately not a finding.
 */
#ifndef MML_CHECK_H
#define MML_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "hashmap.h"
#include "mml_format.h"
#include "tidmap.h"

enum check_kind {
	CK_RELEASE_WITHOUT_ACQUIRE,	/* released an mm it never acquired (after its first event on it) */
	CK_DOUBLE_RELEASE,		/* released twice after one acquisition */
	CK_SELF_DEADLOCK,		/* start_locking on an mm the task already holds */
	CK_WRITE_AFTER_READ,		/* start_locking(write) on an mm the task holds for read */
	CK_IRQ_CONTEXT,			/* acquisition from hardirq, softirq or NMI context */
	CK_LONG_HOLD,			/* a hold longer than max_hold_ns */
	CK_ORDER_INVERSION,		/* A then B held together in one task, B then A in another */
	CK_NKINDS
};

struct check_finding {
	enum check_kind kind;
	uint32_t tid, tid2;		/* tid2: the other task (inversion) */
	uint64_t mm, mm2;		/* mm2: the other mm (inversion) */
	uint64_t ts;			/* ns: the event that shows it */
	uint64_t memcg;			/* the memcg that event carries (the mm owner's; 0: none) */
	uint64_t ts2;			/* ns: the earlier event it relates to (0: none) */
	uint8_t write;			/* the mode of the event at ts */
	uint8_t ctx;			/* CK_IRQ_CONTEXT: MML_F_HARDIRQ/SOFTIRQ/NMI */
	uint64_t len;			/* CK_LONG_HOLD: the hold, ns */
	uint32_t stack;			/* kernel stack of the event at ts (0: none recorded) */
	uint32_t stack2;		/* of the event at ts2: the acquisition of the hold
					   (self_deadlock, write_after_read, long_hold), the
					   first release (double_release), tid2's acquisition
					   (order_inversion) */
};

typedef void (*check_report_fn)(void *ctx, const struct check_finding *f);

struct check_state;
struct check_task;
struct check_edge;
HASHMAP_STRUCT(check_states, struct check_state);
HASHMAP_STRUCT(check_tasks, struct check_task);
HASHMAP_STRUCT(check_edges, struct check_edge);

struct check {
	uint64_t max_hold_ns;		/* 0: holds are not checked */
	/*
	 * The events come from libmmaplock (source->origin MML_SOURCE_LIB), not
	 * the kernel: no fork, so a write lock inside a write hold is the
	 * program's own nesting, checked for order like any other. Set after
	 * check_init().
	 */
	uint8_t library;
	check_report_fn report;
	void *ctx;
	uint64_t events;		/* lock events (stack events not counted) */
	uint64_t count[CK_NKINDS];	/* findings per kind */
	/* internal */
	struct check_states t;		/* (tid, mm) states (hashmap.h) */
	struct check_tasks tasks;	/* tid -> held mms, in order */
	struct check_edges edges;	/* (mm a, mm b): b taken while holding a */
	struct tidmap tids;		/* tid -> the stack event waiting for its event */
	uint64_t memcg;			/* of the lock event being read: every finding's */
};

/* Set up; report is called once per finding. -1: out of memory. */
int check_init(struct check *c, uint64_t max_hold_ns, check_report_fn report, void *ctx);
void check_fini(struct check *c);
/* Feed n events in time order. -1: out of memory. */
int check_feed(struct check *c, const struct mml_event *ev, size_t n);
/* The end of the input (nothing to flush today; holds open at the end are not findings). */
void check_finish(struct check *c);

/* The name of a kind as printed and in JSON ("self_deadlock"). */
const char *check_kind_name(enum check_kind k);

#endif
