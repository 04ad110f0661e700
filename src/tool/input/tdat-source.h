/* SPDX-License-Identifier: MIT */
/*
 * tdat-source.h: what src-tracedat.c (the trace.dat source, page-wise, and
 * the merge) and tdat-records.c (libtracecmd's record-wise reading) share.
 * Private to the two.
 */
#ifndef MML_TDAT_SOURCE_H
#define MML_TDAT_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "source.h"
#include "decode.h"
#include "stackq.h"
#include "stacks.h"
#include "tdat-file.h"
#include "tdat-page.h"
#include "hashmap.h"

#define TIDSET_KEY(e) (*(e))
#define TIDSET_USED(e) (*(e) != 0)
HASHMAP_DEFINE(tidset, uint32_t, uint32_t, hash64, TIDSET_KEY, HASHMAP_NUM_EQ, TIDSET_USED)

struct tracecmd_input;
struct tep_record;
struct prec;

#define SYMLEN	160			/* one symbolized frame */
#define SYMCACHE 4096			/* symbolized addresses remembered (stacks repeat) */

struct symc {
	uint64_t addr;
	char sym[SYMLEN];
};
_Static_assert(SYMCACHE == 1 << 12, "on_stack() hashes an address to 12 bits");

/* One CPU of one buffer, at its next record. */
struct stream {
	uint64_t ts;			/* of the record, ns */
	uint64_t key;			/* buffer << 32 | cpu: the order of equal timestamps */
	const unsigned char *data;	/* the record (ftrace event header on) */
	int size;
	int missed;			/* records lost right before this one (> 0: a count) */
	int cpu;
	uint32_t id;			/* stable number (stackq's stream) */
	/* page-wise */
	int idx;			/* tdat-file.c's stream */
	struct prec *recs;		/* the records of its current page (own, or prewalk()'s) */
	struct prec *own;		/* a page the reader walks itself: its records */
	struct tdat_rec *raw;		/* and the walk's */
	int nrec, irec;			/* how many; the one at ts/data */
	uint32_t psize;
	/* record-wise */
	struct tracecmd_input *h;
	struct tep_record *rec;
};

struct tdat {
	struct tdat_file *f;		/* page-wise, else: */
	struct tdat_walker *walker;
	struct tdat_walker *wwalker;	/* the decompression thread's (prewalk()) */
	struct tracecmd_input *top;
	struct tracecmd_input **subs;
	int nsubs;
	struct tep_handle *tep;
	struct decoder *dec;
	struct stream *all;		/* every stream */
	int nall;
	struct stream **hp;		/* heap of the streams with a record */
	int nst;
	uint64_t ts_offset;		/* page-wise: added to every timestamp */
	int cut, bad;			/* page-wise: a stream ended short, or on damage */
	char bad_err[256];
	char path[200];
	struct tidset tids;		/* tids seen (+1) */
	struct mml_meta *meta;
	struct stackq *q;		/* events held until their stack is known */
	int direct;			/* no kernel_stack format: events go straight out */
	int queued;			/* page-wise: q holds events (new ones queue behind them) */
	uint32_t last_tid;		/* see_tid() skips a run of one task's events */
	unsigned since_pop;		/* records handed to the queue since it was last emptied */
	uint64_t addr[STACK_MAX_FRAMES + 32];
	char sym[STACK_MAX_FRAMES + 32][SYMLEN];
	struct symc *symc;		/* SYMCACHE entries, by address hash; NULL until needed */
};

/* src-tracedat.c */
#define TDAT_NOMEM	(-2)		/* tdat_open_end()'s rc */
int tdat_setup(struct source *s, struct tdat *t, const char *path);
int tdat_open_end(struct source *s, const char *path, int rc);
void tdat_close(struct source *s);
void tdat_see_tid(struct tdat *t, uint32_t tid);
void tdat_take_stack(struct tdat *t, struct stream *top, int k, uint32_t pid);
void tdat_next_record(struct tdat *t, struct stream *top);
long tdat_batch_done(struct source *s, struct tdat *t, const struct mml_event *ev, size_t n);

/* tdat-records.c */
int tdat_rec_advance(struct stream *st);
int tdat_records_open(struct source *s, const char *path);
long tdat_records_next(struct source *s, struct mml_event *ev, size_t max);

#endif
