/* SPDX-License-Identifier: MIT */
/*
 * tdat-same.h: one trace.dat read both ways, compared event by event: page
 * by page (source_tracedat_ops: tdat-file.c, kbuffer, decode.c) and one
 * libtracecmd record at a time (source_tracedat_records_ops). Every field
 * of every event (type, ts, cpu, tid, mm, memcg, flags: write, success,
 * context), every stack frame by frame (symbol and address), each task's
 * comm, the lost count and the file's time span must be the same. The two
 * are read in step, a batch at a time, so a file of any size can be
 * compared. Shared by test-tracedat-pages.c and test-tracedat.c.
 */
#ifndef MML_TDAT_SAME_H
#define MML_TDAT_SAME_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "source.h"
#include "meta.h"
#include "stacks.h"

#define TDAT_BATCH 997			/* odd: the two sides' batches end apart */

struct tdat_side {
	struct mml_meta *meta;
	struct source s;
	struct mml_event ev[TDAT_BATCH];
	long n, i, done;
};

static int tdat_fill(struct tdat_side *x)
{
	if (x->i < x->n || x->done)
		return 0;
	x->n = x->s.ops->next(&x->s, x->ev, TDAT_BATCH);
	x->i = 0;
	if (x->n < 0) {
		fprintf(stderr, "%s: %s\n", x->s.ops == &source_tracedat_ops ? "pages" : "records",
			x->s.err);
		return -1;
	}
	if (!x->n)
		x->done = 1;
	return 0;
}

static int tdat_same_stack(const struct tdat_side *a, const struct tdat_side *b,
			   const struct mml_event *ea, const struct mml_event *eb)
{
	const struct mml_stack *sa = meta_stack(a->meta, (uint32_t)ea->memcg);
	const struct mml_stack *sb = meta_stack(b->meta, (uint32_t)eb->memcg);

	if (!sa || !sb || sa->n != sb->n)
		return 0;
	for (unsigned k = 0; k < sa->n; k++)
		if (sa->addr[k] != sb->addr[k] || strcmp(sa->sym[k], sb->sym[k]))
			return 0;
	return 1;
}

static int tdat_same_event(const struct tdat_side *a, const struct tdat_side *b,
			   const struct mml_event *ea, const struct mml_event *eb)
{
	if (ea->ts != eb->ts || ea->type != eb->type || ea->cpu != eb->cpu || ea->tid != eb->tid ||
	    ea->mm != eb->mm || ea->flags != eb->flags)
		return 0;
	if (ea->type == MML_EV_STACK)
		return tdat_same_stack(a, b, ea, eb);
	if (ea->memcg != eb->memcg)
		return 0;
	const struct mml_task_info *ta = meta_task(a->meta, ea->tid), *tb = meta_task(b->meta, eb->tid);
	return !ta == !tb && (!ta || !strcmp(ta->comm, tb->comm));
}

/*
 * Read path both ways. Returns the number of events (stacks included), or
 * -1 when they differ, -2 when neither way opens the file (a damaged
 * file: the same answer both ways is all that is asked).
 */
static long tdat_same(const char *path)
{
	static struct tdat_side a, b;
	long count = 0;
	int ra, rb;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.meta = meta_new();
	b.meta = meta_new();
	a.s = (struct source){ .ops = &source_tracedat_ops, .meta = a.meta };
	b.s = (struct source){ .ops = &source_tracedat_records_ops, .meta = b.meta };
	ra = a.s.ops->open(&a.s, path);
	rb = b.s.ops->open(&b.s, path);
	if (ra || rb) {
		fprintf(stderr, "%s: pages: %s; records: %s\n", path, ra ? a.s.err : "opened",
			rb ? b.s.err : "opened");
		if (!ra)
			a.s.ops->close(&a.s);
		if (!rb)
			b.s.ops->close(&b.s);
		meta_free(a.meta);
		meta_free(b.meta);
		return ra && rb ? -2 : -1;
	}
	for (;;) {
		if (tdat_fill(&a) || tdat_fill(&b)) {
			count = -1;
			break;
		}
		if (a.done || b.done) {
			if (!a.done || !b.done) {
				fprintf(stderr, "%s: event %ld: the %s way ends first\n", path, count,
					a.done ? "page" : "record");
				count = -1;
			}
			break;
		}
		const struct mml_event *ea = &a.ev[a.i++], *eb = &b.ev[b.i++];
		if (!tdat_same_event(&a, &b, ea, eb)) {
			fprintf(stderr, "%s: event %ld differs:\n"
				"  pages:   type %u ts %" PRIu64 " cpu %u tid %u mm %" PRIx64 " memcg %" PRIu64
				" flags %#x\n  records: type %u ts %" PRIu64 " cpu %u tid %u mm %" PRIx64
				" memcg %" PRIu64 " flags %#x\n", path, count, ea->type, ea->ts, ea->cpu,
				ea->tid, ea->mm, ea->memcg, ea->flags, eb->type, eb->ts, eb->cpu, eb->tid,
				eb->mm, eb->memcg, eb->flags);
			count = -1;
			break;
		}
		count++;
	}
	if (count >= 0 && (meta_lost_total(a.meta) != meta_lost_total(b.meta) ||
			   a.s.start_ts != b.s.start_ts || a.s.end_ts != b.s.end_ts)) {
		fprintf(stderr, "%s: lost %" PRIu64 "/%" PRIu64 ", span %" PRIu64 "-%" PRIu64 " / %"
			PRIu64 "-%" PRIu64 "\n", path, meta_lost_total(a.meta), meta_lost_total(b.meta),
			a.s.start_ts, a.s.end_ts, b.s.start_ts, b.s.end_ts);
		count = -1;
	}
	a.s.ops->close(&a.s);
	b.s.ops->close(&b.s);
	meta_free(a.meta);
	meta_free(b.meta);
	return count;
}

#endif
