/* SPDX-License-Identifier: MIT */
/*
 * record-stack.c: `record --stack`, the kernel call stacks of the lock
 * takers.
 *
 * The kernel side is ftrace's stacktrace trigger on mmap_lock_start_locking
 * and mmap_lock_acquire_returned, in our instance only (with the -G filter
 * as the trigger's condition, so that it fires exactly for the events that
 * are recorded). The trigger is a post-trigger: its ftrace:kernel_stack
 * record is written right after the event's, on the same CPU, from the same
 * task. So a kernel_stack record belongs to the record just before it on
 * its CPU, if that was one of our kept events of the same pid; anything
 * else in between (an event filtered out in user space, another stack)
 * leaves the stack unattached, and it is counted, not guessed.
 *
 * In the file a stack is an MML_EV_STACK event put right before the event
 * it belongs to, with that event's ts (mml_format.h), and a STACK block
 * entry for each distinct stack, written before the first EVENTS block
 * that uses it. record.c keeps the last event of a CPU out of a flush until
 * the next drain (its stack may still be on its way).
 *
 * watch (record_opts.watch_stacks, live mode): stacks only where a stall
 * can show up, not on every event: the holders' side on write
 * acquisitions (acquire_returned if write == 1: mmap, munmap, mprotect ...
 * - a long wait is behind a writer, or a writer is behind readers) and
 * the waiters' side on lock:contention_begin of rwsems (fires only when a
 * task really has to sleep for the lock). The stack goes into the live
 * merge queue of its CPU right before its event, and its frames into the
 * back-end's meta (meta_stacks), where the watcher finds them.
 *
 * Cost: only new stacks are symbolized. A raw stack (its addresses) is
 * looked up in a small hash table first; the kallsyms lookup, the dropping
 * of the tracing machinery's leaf frames and the interning run once per
 * distinct raw stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tracefs/tracefs.h>
#include "record-local.h"
#include "decode.h"
#include "hashmap.h"
#include "ksym.h"
#include "mml_writer.h"
#include "stacks.h"

struct rawent {
	struct hashmap_bytes k;		/* the raw addresses (owned) */
	uint32_t id;			/* 0: empty slot */
};
#define RAW_KEY(e) ((e)->k)
#define RAW_USED(e) ((e)->id != 0)
HASHMAP_DEFINE(rawtab, struct rawent, struct hashmap_bytes, HASHMAP_BYTES_HASH, RAW_KEY,
	       HASHMAP_BYTES_EQ, RAW_USED)

struct rec_stacks {
	struct ksyms *ks;		/* NULL: addresses only */
	struct stacktab *tab;		/* the distinct stacks, as written */
	struct rawtab raw;		/* raw addresses -> id */
	unsigned char *last;		/* per CPU: the last record was a kept event that may take a stack */
	uint64_t taken, unattached;
	int ncpu;
	int borrowed;			/* tab is the back-end meta's: not ours to free */
};

struct trig {
	const char *file;		/* the event's trigger file in the instance */
	const char *cond;		/* the trigger's own condition, or NULL */
	int memcg_filter;		/* the -G filter applies (an mmap_lock event) */
};

static const struct trig record_trigs[] = {
	{ "events/mmap_lock/mmap_lock_start_locking/trigger", NULL, 1 },
	{ "events/mmap_lock/mmap_lock_acquire_returned/trigger", NULL, 1 },
	{ NULL, NULL, 0 },
};

static const struct trig watch_trigs[] = {
	{ "events/mmap_lock/mmap_lock_acquire_returned/trigger", "write == 1", 1 },
	{ "events/lock/contention_begin/trigger", "flags == 2 || flags == 4", 0 },
	{ NULL, NULL, 0 },
};

/* "stacktrace", with " if COND" for the trigger's condition and the -G filter. */
static void trig_text(char *buf, size_t len, const struct trig *t, const char *filter)
{
	int f = t->memcg_filter && filter && *filter;

	if (t->cond && f)
		snprintf(buf, len, "stacktrace if (%s) && (%s)", t->cond, filter);
	else if (t->cond || f)
		snprintf(buf, len, "stacktrace if %s", t->cond ? t->cond : filter);
	else
		snprintf(buf, len, "stacktrace");
}

int rec_stack_wants(const struct rec *r, const struct mml_event *e)
{
	(void)r;
	return (e->type == MML_EV_ACQUIRE_RETURNED && (e->flags & MML_F_WRITE)) ||
	       e->type == MML_EV_CONTENTION_BEGIN;
}

/* The stack id of these raw addresses: looked up, or symbolized and interned (0: no memory). */
static uint32_t stack_id(struct rec *r, const uint64_t *addr, int n)
{
	struct rec_stacks *s = r->stk;
	struct hashmap_bytes k = hashmap_bytes(addr, (size_t)n * 8);
	struct rawent *e = rawtab_find(&s->raw, k);

	if (e)
		return e->id;

	/* new: symbolize, drop the tracing machinery's leaf frames, intern */
	static char names[STACK_MAX_FRAMES][160];
	const char *sym[STACK_MAX_FRAMES];
	int skip = 0;
	for (int i = 0; i < n; i++) {
		ksyms_name(s->ks, addr[i], names[i], sizeof(names[i]));
		sym[i] = names[i];
	}
	while (skip < n - 1 && stack_is_trace_frame(sym[skip]))
		skip++;
	int is_new = 0;
	uint32_t id = stacktab_intern(s->tab, addr + skip, sym + skip, (unsigned)(n - skip), &is_new);
	if (!id)
		return 0;
	if (is_new && r->w && mml_writer_stack(r->w, id, addr + skip, sym + skip, (unsigned)(n - skip)))
		r->werr = errno;
	uint64_t *copy = malloc((size_t)n * 8 + 1);
	if (!copy)
		return id;
	memcpy(copy, addr, (size_t)n * 8);
	k.p = copy;
	e = rawtab_add(&s->raw, k, &is_new);
	if (!e) {
		free(copy);
		return id;
	}
	*e = (struct rawent){ k, id };
	return id;
}

void rec_stack_start(struct rec *r, const char *filter)
{
	const char *prog = r->o->prog;
	const struct trig *trigs = r->o->watch_stacks ? watch_trigs : record_trigs;
	const char *what = r->o->watch_stacks ? "watch" : "--stack";
	const char *doing = r->o->watch_stacks ? "watching" : "recording";
	char trig[4300];

	if (!decoder_has_stacks(r->dec)) {
		fprintf(stderr, "%s: %s: this kernel has no ftrace:kernel_stack event; %s without stacks\n",
			prog, what, doing);
		return;
	}
	struct rec_stacks *s = calloc(1, sizeof(*s));
	if (s && r->is_live && r->b && r->b->meta) {
		s->tab = meta_stacks(r->b->meta);
		s->borrowed = 1;
	} else if (s) {
		s->tab = stacktab_new();
	}
	if (!s || !s->tab || !(s->last = calloc((size_t)r->ncpu, 1))) {
		if (s && !s->borrowed)
			stacktab_free(s->tab);
		free(s);
		fprintf(stderr, "%s: %s: out of memory; %s without stacks\n", prog, what, doing);
		return;
	}
	s->ncpu = r->ncpu;
	for (int i = 0; trigs[i].file; i++) {
		trig_text(trig, sizeof(trig), &trigs[i], filter);
		if (tracefs_instance_file_write(r->ti, trigs[i].file, trig) < 0) {
			fprintf(stderr, "%s: %s: cannot set the stacktrace trigger in %s (%s); %s without stacks\n",
				prog, what, trigs[i].file, strerror(errno ? errno : EINVAL), doing);
			for (int j = 0; j < i; j++) {	/* undo the ones set */
				trig_text(trig + 1, sizeof(trig) - 1, &trigs[j], filter);
				trig[0] = '!';
				tracefs_instance_file_write(r->ti, trigs[j].file, trig);
			}
			if (!s->borrowed)
				stacktab_free(s->tab);
			free(s->last);
			free(s);
			return;
		}
	}
	s->ks = ksyms_load(NULL);
	if (!s->ks)
		fprintf(stderr, "%s: %s: no kernel symbols (%s); stacks are kept as addresses\n", prog, what,
			errno == ENODATA ? "/proc/kallsyms hides the addresses: kptr_restrict" : strerror(errno));
	r->stk = s;
	if (r->w) {
		mml_writer_info(r->w, "stacks", "start_locking,acquire_returned");
		mml_writer_info(r->w, "stack_symbols", s->ks ? "kallsyms" : "none");
	}
}

void rec_stack_seen(struct rec *r, int cpu, int ours)
{
	r->stk->last[cpu] = (unsigned char)ours;
}

/* Live mode: the stack goes before the newest event of cpu's merge queue. 1: attached. */
static int take_live(struct rec *r, int cpu, uint32_t pid, uint32_t id)
{
	struct merge_q *q = &r->live.q[cpu];

	if (!q->n || q->ev[q->n - 1].tid != pid)
		return 0;
	struct mml_event *slot = merge_slot(&r->live, cpu);	/* may move q->ev */
	if (!slot)
		return 0;
	struct mml_event *owner = &q->ev[q->n - 1];
	*slot = *owner;
	*owner = (struct mml_event){
		.ts = slot->ts, .mm = slot->mm, .memcg = id, .tid = slot->tid,
		.cpu = slot->cpu, .type = MML_EV_STACK, .flags = 0,
	};
	merge_commit(&r->live, cpu);
	return 1;
}

int rec_stack_take(struct rec *r, int cpu, const void *data, int size)
{
	struct rec_stacks *s = r->stk;
	struct cpubuf *c = &r->cpu[cpu];
	uint64_t addr[STACK_MAX_FRAMES];
	uint32_t pid;
	int n = decode_stack(r->dec, data, size, &pid, addr, STACK_MAX_FRAMES);

	if (n < 0) {
		s->last[cpu] = 0;
		return 0;
	}
	if (r->is_live) {
		uint32_t id = s->last[cpu] && n ? stack_id(r, addr, n) : 0;
		s->last[cpu] = 0;
		if (id && take_live(r, cpu, pid, id))
			s->taken++;
		else
			s->unattached++;
		return 1;
	}
	if (!s->last[cpu] || !c->n || c->ev[c->n - 1].tid != pid || n == 0 || c->n >= BATCH) {
		s->last[cpu] = 0;
		s->unattached++;
		return 1;
	}
	s->last[cpu] = 0;
	uint32_t id = stack_id(r, addr, n);
	if (!id) {
		s->unattached++;
		return 1;
	}
	struct mml_event *owner = &c->ev[c->n - 1];
	c->ev[c->n] = *owner;
	*owner = (struct mml_event){
		.ts = owner->ts, .mm = owner->mm, .memcg = id, .tid = owner->tid,
		.cpu = owner->cpu, .type = MML_EV_STACK, .flags = 0,
	};
	c->n++;
	s->taken++;
	return 1;
}

void rec_stack_info(struct rec *r)
{
	char buf[32];

	if (!r->stk || !r->w)
		return;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->stk->unattached);
	mml_writer_info(r->w, "stacks_unattached", buf);
}

void rec_stack_end(struct rec *r, int print)
{
	struct rec_stacks *s = r->stk;

	if (!s)
		return;
	if (print && !r->o->quiet)
		fprintf(stderr, "%s: %llu stacks (%zu distinct), %llu not attached to an event\n",
			r->o->prog, (unsigned long long)s->taken, stacktab_count(s->tab),
			(unsigned long long)s->unattached);
	for (struct rawent *e = rawtab_next(&s->raw, NULL); e; e = rawtab_next(&s->raw, e))
		free((void *)e->k.p);
	rawtab_fini(&s->raw);
	if (!s->borrowed)
		stacktab_free(s->tab);
	ksyms_free(s->ks);
	free(s->last);
	free(s);
	r->stk = NULL;
}
