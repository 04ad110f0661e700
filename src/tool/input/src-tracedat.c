/* SPDX-License-Identifier: MIT */
/*
 * src-tracedat.c: trace-cmd's trace.dat as a source (source.h), decoded by
 * decode.c, the live recorder's decoder.
 *
 * Two ways to the records, one merge. Page-wise (source_tracedat_ops):
 * tdat-file.c hands out each CPU's ring-buffer pages (v7's zstd chunks
 * decompressed by other threads), tdat-page.c walks a page into its
 * records in one loop, and decode.c reads the fields in place: no
 * allocation per event, memory flat in the file's size. A v7 chunk's
 * pages are walked, and their events decoded, by the thread that
 * decompressed it (prewalk()); the reading thread merges and pairs. Record-wise
 * (source_tracedat_records_ops, and the fallback for what tdat-file.c does
 * not know): tdat-records.c, libtracecmd's one tep_record per event. The
 * two must give the same events: tests/tool/test-tracedat-pages.c reads
 * every trace.dat of the tests both ways and compares them.
 *
 * Records come per CPU in time order; a small binary heap keyed by (ts,
 * buffer, CPU) merges every (buffer, CPU) stream: the top buffer and any
 * instance buffers the file holds (`trace-cmd extract -B NAME` stores the
 * events under NAME). The key makes equal timestamps come out in the same
 * order both ways. Only one record (or page) per stream is held.
 *
 * Kernel stacks: ftrace:kernel_stack records (the stacktrace trigger, or
 * trace-cmd record -T) hold return addresses, as many as the record's
 * "size" field says within the record's length (decode_stack). They are
 * symbolized with the file's own kallsyms through the tep handle
 * (tep_find_function_info: "func+0x1a/0x80", as the kernel's %pS prints
 * it; "0xffff..." when no symbol covers the address) and attached by
 * stackq.h to the event they follow in their (buffer, CPU) stream.
 * Page-wise, kallsyms is parsed when the first stack record comes, and
 * only the events a stack record may still follow go through the queue
 * (classify()): a trace without stacks passes through it at page ends
 * only, and the order is the record-wise reading's either way.
 *
 * Metadata: comm from the file's saved cmdlines (tep_data_comm_from_pid),
 * the first time a tid is met; lost events from the pages' missed-events
 * marks; path-era memcg paths as the decoder interns them.
 *
 * Damaged files. Page-wise, every size and offset is checked (tdat-file.c,
 * tdat-page.c): a file cut short reads up to where it ends
 * (s->truncated), damaged data is a one-line error. Record-wise:
 * tdat-records.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include "tdat-source.h"

static void on_path(uint64_t id, const char *path, void *arg)
{
	struct tdat *t = arg;

	meta_set_memcg(t->meta, id, path);
}

static int probe(const unsigned char *head, size_t len)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

	return len >= sizeof(magic) && !memcmp(head, magic, sizeof(magic));
}

static int less(const struct stream *a, const struct stream *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->key < b->key);
}

static void sift_down(struct tdat *t, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->nst && less(t->hp[l], t->hp[m]))
			m = l;
		if (r < t->nst && less(t->hp[r], t->hp[m]))
			m = r;
		if (m == i)
			return;
		struct stream *x = t->hp[i];
		t->hp[i] = t->hp[m];
		t->hp[m] = x;
		i = m;
	}
}

static int page_bad(struct tdat *t, const struct stream *st, const char *what)
{
	if (!t->bad)
		snprintf(t->bad_err, sizeof(t->bad_err), "%.150s: damaged trace data: %s (CPU %d)",
			 t->path, what, st->cpu);
	t->bad = 1;
	return 0;
}

/*
 * A page's records as the merge takes them (struct tdat_rec made ready):
 * each one's kind, and for events the decoding done ahead when it has no
 * side effect (decode_check_ahead(): every event but those of the
 * memcg_path era, whose paths are interned in the merged order).
 */
enum { REC_OTHER, REC_STACK, REC_DONE, REC_EVENT };	/* REC_EVENT + decode_check()'s - 1 */

struct prec {
	struct mml_event ev;		/* REC_DONE: the event; ev.ts always the record's (+ offset) */
	const unsigned char *data;	/* the record */
	uint32_t size;
	uint8_t kind;
	uint8_t may_stack;		/* events: a kernel_stack record may still follow */
};

/*
 * What each record of a page is, and for each of our events whether a
 * stack record may still come for it (stackq.h): one does when a
 * kernel_stack record follows it before the stream's next event of ours,
 * and may when the page ends first (the next page is not read yet). Only
 * those events need the stack queue; a trace without stacks passes
 * through it at page ends only. decode_check() interns nothing, so memcg
 * ids keep the order of the merged reading.
 */
static void classify(const struct tdat *t, int cpu, const struct tdat_rec *in, int n,
		     struct prec *out)
{
	const struct decoder *dec = t->dec;
	int later = 1;

	for (int i = n - 1; i >= 0; i--) {
		const struct tdat_rec *r = &in[i];
		struct prec *o = &out[i];
		uint64_t ts = r->ts + t->ts_offset;
		int done, k = decode_check_ahead(dec, r->data, (int)r->size, ts, cpu, &o->ev, &done);
		o->ev.ts = ts;
		o->data = r->data;
		o->size = r->size;
		o->may_stack = 0;
		if (k > 0) {
			o->kind = (uint8_t)(done ? REC_DONE : REC_EVENT + k - 1);
			o->may_stack = (uint8_t)later;
			later = 0;
		} else if (decode_is_stack(dec, r->data, (int)r->size)) {
			o->kind = REC_STACK;
			later = 1;
		} else {
			o->kind = REC_OTHER;
		}
	}
}

/*
 * A v7 chunk's pages walked, classified and decoded by a decompression
 * thread as soon as it has decompressed them (tdat_file_set_chunk_fn), so
 * that the reading thread only merges and pairs: on two cores that work
 * overlaps the rest. It reads only what never changes once the file is
 * open (the walker's layout, the decoder's event descriptions, the
 * streams' CPUs). A page it could not do (out of memory) is left to the
 * reader: npg stops before it.
 */
struct pw_page {
	uint32_t first;			/* its first record in recs */
	int n;				/* records, -1: damaged (what) */
	long long missed;
	const char *what;
};

struct prewalk {
	struct prec *recs;
	size_t cap;
	struct pw_page *pg;
	size_t pgcap, npg;
	struct tdat_rec *raw;		/* one page walked */
};

static int pw_grow(void **p, size_t *cap, size_t need, size_t each)
{
	if (need <= *cap)
		return 0;
	size_t n = need < *cap + *cap / 2 ? *cap + *cap / 2 : need;
	void *q = realloc(*p, n * each);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static void prewalk_free(void *p)
{
	struct prewalk *pw = p;

	if (!pw)
		return;
	free(pw->recs);
	free(pw->pg);
	free(pw->raw);
	free(pw);
}

static void prewalk(void *arg, int i, const unsigned char *pages, size_t len, uint32_t psize,
		    void **user)
{
	const struct tdat *t = arg;
	struct prewalk *pw = *user;
	size_t np = len / psize, max = tdat_page_max_recs(psize), used = 0;

	if (!pw && !(pw = *user = calloc(1, sizeof(*pw))))
		return;
	pw->npg = 0;
	if (!pw->raw && !(pw->raw = malloc(max * sizeof(*pw->raw))))
		return;
	if (pw_grow((void **)&pw->pg, &pw->pgcap, np, sizeof(*pw->pg)))
		return;
	for (size_t k = 0; k < np; k++) {
		struct pw_page *pp = &pw->pg[k];
		pp->first = (uint32_t)used;
		pp->n = tdat_walk_page(t->wwalker, pages + k * psize, psize, pw->raw, &pp->missed,
				       &pp->what);
		if (pp->n > 0 && pw_grow((void **)&pw->recs, &pw->cap, used + (size_t)pp->n,
					 sizeof(*pw->recs)))
			return;
		pw->npg = k + 1;
		if (pp->n < 0)
			return;
		if (pp->n > 0)		/* none yet: recs may still be NULL */
			classify(t, (int)tdat_file_stream(t->f, i)->cpu, pw->raw, pp->n, pw->recs + used);
		used += (size_t)pp->n;
	}
}

/* The stream's next page into its records. 1, or 0 at its end (t->cut, t->bad). */
static __attribute__((noinline)) int load_page(struct tdat *t, struct stream *st)
{
	int status, n;
	long long missed;
	const char *what;
	size_t pg;
	const unsigned char *page = tdat_file_page(t->f, st->idx, &status, t->bad_err,
						   sizeof(t->bad_err));

	st->nrec = 0;
	st->irec = -1;
	if (!page) {
		if (status == TDAT_CUT)
			t->cut = 1;
		else if (status == TDAT_BAD)
			t->bad = 1;
		return 0;
	}
	const struct prewalk *pw = tdat_file_page_user(t->f, st->idx, &pg);
	if (pw && pg < pw->npg) {
		const struct pw_page *pp = &pw->pg[pg];
		n = pp->n;
		missed = pp->missed;
		what = pp->what;
		st->recs = n > 0 ? pw->recs + pp->first : st->own;	/* recs NULL until a page has some */
	} else {
		n = tdat_walk_page(t->walker, page, st->psize, st->raw, &missed, &what);
		st->recs = st->own;
		if (n > 0)
			classify(t, st->cpu, st->raw, n, st->own);
	}
	if (n < 0)
		return page_bad(t, st, what);
	st->nrec = n;
	st->missed = (int)missed;
	return 1;
}

/*
 * Page-wise: the stream's next record, from its page or the pages after
 * it. 1, or 0 at its end (the end of its data, the file's end: t->cut, or
 * damage: t->bad). Records lost before a page are told with its first
 * record (with none when the page holds none, as libtracecmd does).
 */
static inline int page_advance(struct tdat *t, struct stream *st)
{
	st->missed = 0;
	if (__builtin_expect(++st->irec >= st->nrec, 0))
		do {
			if (!load_page(t, st))
				return 0;
		} while (++st->irec >= st->nrec);
	const struct prec *r = &st->recs[st->irec];
	st->ts = r->ev.ts;
	st->data = r->data;
	st->size = (int)r->size;
	return 1;
}

static int advance(struct tdat *t, struct stream *st)
{
	return t->f ? page_advance(t, st) : tdat_rec_advance(st);
}

/* Room for n streams in t->all and t->hp. */
static int reserve(struct tdat *t, int n)
{
	struct stream *a = calloc((size_t)n, sizeof(*a));
	struct stream **h = calloc((size_t)n, sizeof(*h));

	if (!a || !h) {
		free(a);
		free(h);
		return -1;
	}
	t->all = a;
	t->hp = h;
	return 0;
}

/* Number the streams, read each one's first record, make the heap. */
static void tdat_start_streams(struct tdat *t)
{
	for (int i = 0; i < t->nall; i++) {
		struct stream *st = &t->all[i];
		if (!advance(t, st))
			continue;
		st->id = (uint32_t)i;
		t->hp[t->nst++] = st;
	}
	for (int i = t->nst / 2 - 1; i >= 0; i--)
		sift_down(t, i);
}

void tdat_close(struct source *s)
{
	struct tdat *t = s->priv;

	if (!t)
		return;
	tdat_file_close(t->f);		/* first: its thread uses the walker and decoder */
	for (int i = 0; i < t->nall; i++) {
		tracecmd_free_record(t->all[i].rec);
		free(t->all[i].own);
		free(t->all[i].raw);
	}
	tdat_walker_free(t->walker);
	tdat_walker_free(t->wwalker);
	free(t->all);
	free(t->hp);
	free(t->symc);
	stackq_free(t->q);
	decoder_free(t->dec);
	for (int i = 0; i < t->nsubs; i++)
		if (t->subs[i])
			tracecmd_close(t->subs[i]);
	free(t->subs);
	if (t->top)
		tracecmd_close(t->top);
	tidset_fini(&t->tids);
	free(t);
	s->priv = NULL;
}

/*
 * How both ways' opens end: the streams started (rc 0), or t closed with
 * s->err saying why (rc -1: already said; TDAT_NOMEM: out of memory).
 */
int tdat_open_end(struct source *s, const char *path, int rc)
{
	if (!rc) {
		tdat_start_streams(s->priv);
		return 0;
	}
	if (rc == TDAT_NOMEM)
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
	tdat_close(s);
	return -1;
}

/* What both ways need once t->tep is there: the decoder, the stack queue. */
int tdat_setup(struct source *s, struct tdat *t, const char *path)
{
	t->dec = decoder_new(t->tep, on_path, t);
	if (!t->dec) {
		snprintf(s->err, sizeof(s->err), "%s: trace.dat holds no mmap_lock events", path);
		return -1;
	}
	t->direct = !decoder_has_stacks(t->dec);
	t->last_tid = UINT32_MAX;
	t->q = stackq_new(t->meta);
	if (!t->q) {
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	return 0;
}

/* Page-wise, or record-wise for what tdat-file.c leaves to libtracecmd. */
static int pages_open(struct source *s, const char *path)
{
	struct tdat *t = calloc(1, sizeof(*t));
	int rc;

	if (!t) {
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	s->priv = t;
	t->meta = s->meta;
	snprintf(t->path, sizeof(t->path), "%s", path);
	rc = tdat_file_open(path, &t->f, s->err, sizeof(s->err));
	if (rc == TDAT_UNSUPPORTED) {
		free(t);
		s->priv = NULL;
		return tdat_records_open(s, path);
	}
	if (rc)
		goto fail;
	t->tep = tdat_file_tep(t->f);
	t->ts_offset = (uint64_t)tdat_file_ts_offset(t->f);
	if (tdat_setup(s, t, path))
		goto fail;
	t->walker = tdat_walker_new(tdat_file_header_page(t->f), tdat_file_header_event(t->f), t->tep,
				    tdat_file_long_size(t->f));
	if (!t->walker)
		goto nomem;
	t->nall = tdat_file_nstreams(t->f);
	if (reserve(t, t->nall + 1))
		goto nomem;
	for (int i = 0; i < t->nall; i++) {
		struct stream *st = &t->all[i];
		const struct tdat_stream_info *in = tdat_file_stream(t->f, i);
		st->idx = i;
		st->cpu = (int)in->cpu;
		st->key = (uint64_t)in->buffer << 32 | in->cpu;
		st->psize = tdat_file_page_size(t->f, i);
		st->own = malloc(tdat_page_max_recs(st->psize) * sizeof(*st->own));
		st->raw = malloc(tdat_page_max_recs(st->psize) * sizeof(*st->raw));
		if (!st->own || !st->raw)
			goto nomem;
	}
	if (tdat_walker_native(t->walker)) {	/* kbuffer's walker is not shared */
		t->wwalker = tdat_walker_new(tdat_file_header_page(t->f),
					     tdat_file_header_event(t->f), t->tep,
					     tdat_file_long_size(t->f));
		if (!t->wwalker)
			goto nomem;
		tdat_file_set_chunk_fn(t->f, prewalk, prewalk_free, t);
	}
	return tdat_open_end(s, path, 0);
nomem:
	return tdat_open_end(s, path, TDAT_NOMEM);
fail:
	return tdat_open_end(s, path, -1);
}

void tdat_see_tid(struct tdat *t, uint32_t tid)
{
	int isnew;
	uint32_t *e = tidset_add(&t->tids, tid + 1, &isnew);

	if (!e || !isnew)
		return;
	*e = tid + 1;
	const char *comm = tep_data_comm_from_pid(t->tep, (int)tid);
	if (comm && strcmp(comm, "<...>") && !meta_task(t->meta, tid)) {
		struct mml_task_info ti = { .tid = tid };
		snprintf(ti.comm, sizeof(ti.comm), "%.15s", comm);
		meta_set_task(t->meta, &ti);
	}
}

/*
 * A kernel_stack record: its return addresses, symbolized with the file's
 * own kallsyms (as the kernel's %pS prints them: "func+0x1a/0x80"), to the
 * queue.
 */
static void on_stack(struct tdat *t, const struct stream *st, int n, uint32_t pid)
{
	const char *sym[STACK_MAX_FRAMES + 32];

	if (!t->symc)
		t->symc = calloc(SYMCACHE, sizeof(*t->symc));
	for (int i = 0; i < n; i++) {
		uint64_t a = t->addr[i];
		struct symc *c = t->symc ? &t->symc[hash_bits(a, 12)] : NULL;
		if (c && c->addr == a && c->sym[0]) {
			memcpy(t->sym[i], c->sym, strlen(c->sym) + 1);
		} else {
			const char *name = NULL;
			unsigned long long start = 0;
			unsigned long size = 0;
			if (tep_find_function_info(t->tep, a, &name, &start, &size) && name)
				snprintf(t->sym[i], SYMLEN, "%s+0x%llx/0x%lx", name, a - start, size);
			else
				snprintf(t->sym[i], SYMLEN, "0x%llx", (unsigned long long)a);
			if (c) {
				c->addr = a;
				memcpy(c->sym, t->sym[i], SYMLEN);
			}
		}
		sym[i] = t->sym[i];
	}
	stackq_stack(t->q, st->id, pid, t->addr, sym, (unsigned)n);
}

/* A kernel_stack record at the top stream: symbolized, to the queue. */
void tdat_take_stack(struct tdat *t, struct stream *top, int k, uint32_t pid)
{
	if (t->f && k > 0)
		tdat_file_load_kallsyms(t->f);	/* once; without it, addresses */
	on_stack(t, top, k, pid);
}

/* The top stream's next record into the heap's order; the stream leaves it at its end. */
void tdat_next_record(struct tdat *t, struct stream *top)
{
	if (!advance(t, top))
		t->hp[0] = t->hp[--t->nst];
	if (t->nst > 0)
		sift_down(t, 0);
}

/* The batch's span, the end's reason. */
long tdat_batch_done(struct source *s, struct tdat *t, const struct mml_event *ev, size_t n)
{
	if (n) {
		if (!s->start_ts)
			s->start_ts = ev[0].ts;
		s->end_ts = ev[n - 1].ts;
	} else if (t->bad) {
		snprintf(s->err, sizeof(s->err), "%s", t->bad_err);
		return -1;
	}
	if (t->cut)
		s->truncated = 1;
	return (long)n;
}

/*
 * One record of the top stream, page-wise, when the file knows stacks:
 * classify() said what it is. An event that no stack can follow goes
 * straight to ev while nothing is queued; the rest goes through the queue
 * exactly as tdat_records_next() sends it. 1: an event in ev, 0: none, -1: out
 * of memory.
 */
static int page_record(struct tdat *t, struct stream *top, struct mml_event *out)
{
	const struct prec *r = &top->recs[top->irec];
	struct mml_event e;
	uint32_t pid;

	if (r->kind >= REC_DONE) {
		int direct = t->direct || (!t->queued && !r->may_stack);
		struct mml_event *to = direct ? out : &e;
		if (r->kind == REC_DONE)
			*to = r->ev;
		else
			decode_checked(t->dec, r->kind - REC_EVENT + 1, r->data, r->ev.ts, top->cpu, to);
		if (to->tid != t->last_tid)
			tdat_see_tid(t, to->tid);
		t->last_tid = to->tid;
		if (direct)
			return 1;
		if (stackq_event_held(t->q, top->id, to, r->may_stack))
			return -1;
		t->queued = 1;
	} else if (r->kind == REC_STACK) {
		int k = decode_stack(t->dec, r->data, (int)r->size, &pid, t->addr,
				     STACK_MAX_FRAMES + 32);
		tdat_take_stack(t, top, k, pid);
	} else if (t->queued) {
		stackq_other(t->q, top->id);
	}
	return 0;
}

/* tdat_next_record() page-wise, the heap left alone while the top stream stays first. */
static inline void page_next_record(struct tdat *t, struct stream *top)
{
	if (!page_advance(t, top)) {
		t->hp[0] = t->hp[--t->nst];
		if (t->nst > 0)
			sift_down(t, 0);
	} else if (t->nst > 1 && (less(t->hp[1], top) || (t->nst > 2 && less(t->hp[2], top)))) {
		sift_down(t, 0);
	}
}

/*
 * The top stream's records while it stays first, in one loop: events
 * decoded ahead that no stack can follow copied out to ev[*n...max),
 * other records skipped, the heap looked at once for the run rather than
 * once a record. Only while nothing is queued, and within the page (its
 * last record, and any other kind, are pages_next()'s). 1 when it moved
 * top on (events counted in *n), 0 when top is as it was.
 */
static int run(struct tdat *t, struct stream *top, struct mml_event *ev, size_t max, size_t *n)
{
	const struct prec *r = &top->recs[top->irec], *last = &top->recs[top->nrec - 1];
	const struct prec *from = r;
	const struct stream *nx = NULL;
	size_t k = *n;

	if (t->nst > 1)
		nx = t->nst > 2 && less(t->hp[2], t->hp[1]) ? t->hp[2] : t->hp[1];
	uint64_t bound = nx ? nx->ts : UINT64_MAX;
	int tie = !nx || top->key < nx->key;	/* first at an equal timestamp */

	while (r < last && k < max) {
		if (r->kind == REC_DONE && (t->direct || !r->may_stack)) {
			ev[k] = r->ev;
			if (ev[k].tid != t->last_tid)
				tdat_see_tid(t, ev[k].tid);
			t->last_tid = ev[k].tid;
			k++;
		} else if (r->kind != REC_OTHER) {
			break;
		}
		r++;
		if (r->ev.ts > bound || (r->ev.ts == bound && !tie))
			break;
	}
	if (r == from)
		return 0;
	*n = k;
	top->missed = 0;		/* pages_next() told it before the run */
	top->irec = (int)(r - top->recs);
	top->ts = r->ev.ts;
	top->data = r->data;
	top->size = (int)r->size;
	if (nx && less(nx, top))
		sift_down(t, 0);
	return 1;
}

/*
 * Page-wise: the stack queue only for events a stack may follow
 * (classify()), and none when the file cannot hold stacks (t->direct).
 */
static long pages_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct tdat *t = s->priv;
	size_t n = 0;

	while (n < max) {
		if (t->queued) {
			n += stackq_pop(t->q, ev + n, max - n, t->nst == 0);
			t->queued = !stackq_empty(t->q);
			if (n == max)
				break;
		}
		if (t->nst == 0)
			break;
		struct stream *top = t->hp[0];
		if (top->missed > 0) {
			meta_add_lost(t->meta, (uint32_t)top->cpu, (uint64_t)top->missed);
			if (t->queued)
				stackq_other(t->q, top->id);
		}
		if (!t->queued && run(t, top, ev, max, &n))
			continue;
		int rc = page_record(t, top, &ev[n]);
		if (rc < 0) {
			snprintf(s->err, sizeof(s->err), "out of memory");
			return -1;
		}
		n += (size_t)rc;
		page_next_record(t, top);
	}
	return tdat_batch_done(s, t, ev, n);
}

static long tdat_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct tdat *t = s->priv;

	return t->f ? pages_next(s, ev, max) : tdat_records_next(s, ev, max);
}

/* Page-wise, falling back to record-wise (see the top of the file). */
const struct source_ops source_tracedat_ops = {
	.name = "trace.dat",
	.probe = probe,
	.open = pages_open,
	.next = tdat_next,
	.close = tdat_close,
};

/* Record-wise always: the reference the page-wise reading is tested against. */
const struct source_ops source_tracedat_records_ops = {
	.name = "trace.dat",
	.probe = probe,
	.open = tdat_records_open,
	.next = tdat_next,
	.close = tdat_close,
};
