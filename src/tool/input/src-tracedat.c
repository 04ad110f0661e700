/* SPDX-License-Identifier: MIT */
/*
 * src-tracedat.c: trace-cmd's trace.dat as a source (source.h), decoded by
 * decode.c, the live recorder's decoder.
 *
 * Two ways to the records, one merge. Page-wise (source_tracedat_ops):
 * tdat-file.c hands out each CPU's ring-buffer pages (v7's zstd chunks
 * decompressed one at a time), kbuffer walks a page as the live recorder
 * walks trace_pipe_raw, and decode.c reads the fields in place: no
 * allocation per event, memory flat in the file's size. Record-wise
 * (source_tracedat_records_ops, and the fallback for what tdat-file.c does
 * not know: big-endian files, zlib, TSC or host/guest time conversion,
 * latency traces): libtracecmd's tracecmd_read_data(), one tep_record per
 * event. The two must give the same events: tests/tool/test-tracedat-pages.c
 * reads every trace.dat of the tests both ways and compares them.
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
 * Page-wise, kallsyms is parsed when the first stack record comes.
 *
 * Metadata: comm from the file's saved cmdlines (tep_data_comm_from_pid),
 * the first time a tid is met; lost events from the pages' missed-events
 * marks; path-era memcg paths as the decoder interns them.
 *
 * Damaged files. Page-wise, every size and offset is checked (tdat-file.c,
 * and here each page's length and each record's against its page): a
 * file cut short reads up to where it ends (s->truncated), damaged data is
 * a one-line error. Record-wise: libtracecmd 1.3 (and libtraceevent 1.7
 * under it) crash on some damaged trace.dat files while opening them: a
 * NULL dereference in tracecmd_buffer_instance_handle()'s error path when
 * a compressed chunk does not decompress, format parsers walking off a
 * damaged event format. So that path first opens the file, buffers
 * included, in a forked child with its output sent to /dev/null; only when
 * that child exits normally does this process open it. A child killed by a
 * signal means a one-line "corrupt" error instead of a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include "source.h"
#include "decode.h"
#include "hashmap.h"
#include "stackq.h"
#include "stacks.h"
#include "tdat-file.h"

#define SYMLEN	160			/* one symbolized frame */
#define SYMCACHE 4096			/* symbolized addresses remembered (stacks repeat) */

#define TIDSET_KEY(e) (*(e))
#define TIDSET_USED(e) (*(e) != 0)
HASHMAP_DEFINE(tidset, uint32_t, uint32_t, hash64, TIDSET_KEY, HASHMAP_NUM_EQ, TIDSET_USED)

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
	struct kbuffer *kb;
	unsigned char *page;		/* the page being walked, NULL before the first */
	uint32_t psize;
	/* record-wise */
	struct tracecmd_input *h;
	struct tep_record *rec;
};

struct tdat {
	struct tdat_file *f;		/* page-wise, else: */
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
	uint32_t last_tid;		/* see_tid() skips a run of one task's events */
	unsigned since_pop;		/* records handed to the queue since it was last emptied */
	uint64_t addr[STACK_MAX_FRAMES + 32];
	char sym[STACK_MAX_FRAMES + 32][SYMLEN];
	struct symc *symc;		/* SYMCACHE entries, by address hash; NULL until needed */
};

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

/* Record-wise: the stream's next record. 1, or 0 at its end. */
static int rec_advance(struct stream *st)
{
	tracecmd_free_record(st->rec);
	st->rec = tracecmd_read_data(st->h, st->cpu);
	if (!st->rec)
		return 0;
	st->ts = st->rec->ts;
	st->data = st->rec->data;
	st->size = st->rec->size;
	st->missed = st->rec->missed_events;
	return 1;
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
 * Page-wise: the stream's next record, from its page or the pages after
 * it. 1, or 0 at its end (the end of its data, the file's end: t->cut, or
 * damage: t->bad).
 */
static int page_advance(struct tdat *t, struct stream *st)
{
	unsigned long long ts = 0;
	void *d = st->page ? kbuffer_next_event(st->kb, &ts) : NULL;

	st->missed = 0;
	while (!d) {
		int status;
		st->page = tdat_file_page(t->f, st->idx, &status, t->bad_err, sizeof(t->bad_err));
		if (!st->page) {
			if (status == TDAT_CUT)
				t->cut = 1;
			else if (status == TDAT_BAD)
				t->bad = 1;
			return 0;
		}
		/* a page's length must fit its page: kbuffer trusts it */
		if (kbuffer_load_subbuffer(st->kb, st->page) < 0 ||
		    (uint64_t)kbuffer_subbuffer_size(st->kb) + (uint64_t)kbuffer_start_of_data(st->kb) >
			    st->psize) {
			st->page = NULL;
			return page_bad(t, st, "a page longer than a page");
		}
		st->missed = kbuffer_missed_events(st->kb);
		d = kbuffer_read_event(st->kb, &ts);
	}
	int size = kbuffer_event_size(st->kb);
	if (size < 0 || (size_t)((unsigned char *)d - st->page) + (size_t)size > st->psize) {
		st->page = NULL;
		return page_bad(t, st, "a record past its page's end");
	}
	st->ts = ts + t->ts_offset;
	st->data = d;
	st->size = size;
	return 1;
}

static int advance(struct tdat *t, struct stream *st)
{
	return t->f ? page_advance(t, st) : rec_advance(st);
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
static void start_streams(struct tdat *t)
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

static void tdat_close(struct source *s)
{
	struct tdat *t = s->priv;

	if (!t)
		return;
	for (int i = 0; i < t->nall; i++) {
		tracecmd_free_record(t->all[i].rec);
		if (t->all[i].kb)
			kbuffer_free(t->all[i].kb);
	}
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
	tdat_file_close(t->f);
	tidset_fini(&t->tids);
	free(t);
	s->priv = NULL;
}

#define PROBE_OK	0	/* the child opened the file, or failed cleanly */

/*
 * Open PATH and all its buffers in a child process (see the top of the
 * file). Returns 1 when that went without a crash (or could not be tried:
 * no fork), 0 when the child died.
 */
static int open_survives(const char *path)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		tracecmd_set_loglevel(TEP_LOG_NONE);
		struct tracecmd_input *h = tracecmd_open(path, 0);
		if (h) {
			int n = tracecmd_buffer_instances(h);
			for (int i = 0; i < n; i++) {
				struct tracecmd_input *b = tracecmd_buffer_instance_handle(h, i);
				if (b)
					tracecmd_close(b);
			}
			tracecmd_close(h);
		}
		_exit(PROBE_OK);	/* _exit: no atexit handlers, no leak report */
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == PROBE_OK;
}

/* What both ways need once t->tep is there: the decoder, the stack queue. */
static int setup(struct source *s, struct tdat *t, const char *path)
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

static int add_rec_streams(struct tdat *t, struct tracecmd_input *h, int buffer)
{
	int ncpu = tep_get_cpus(tracecmd_get_tep(h));

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct stream *n = realloc(t->all, sizeof(*n) * (size_t)(t->nall + 1));
		if (!n)
			return -1;
		t->all = n;
		t->all[t->nall++] = (struct stream){ .h = h, .cpu = cpu,
			.key = (uint64_t)buffer << 32 | (uint32_t)cpu };
	}
	return 0;
}

/* Record-wise: libtracecmd opens the file (after a child survived doing so). */
static int records_open(struct source *s, const char *path)
{
	struct tdat *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	s->priv = t;
	t->meta = s->meta;
	if (!open_survives(path)) {
		snprintf(s->err, sizeof(s->err),
			 "%s: corrupt trace.dat (libtracecmd crashes opening it)", path);
		goto fail;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	t->top = tracecmd_open(path, 0);
	if (!t->top) {
		snprintf(s->err, sizeof(s->err), "%s: not a readable trace.dat file", path);
		goto fail;
	}
	t->tep = tracecmd_get_tep(t->top);
	if (setup(s, t, path))
		goto fail;
	if (add_rec_streams(t, t->top, 0))
		goto nomem;
	t->nsubs = tracecmd_buffer_instances(t->top);
	if (t->nsubs > 0) {
		t->subs = calloc((size_t)t->nsubs, sizeof(*t->subs));
		if (!t->subs)
			goto nomem;
		for (int i = 0; i < t->nsubs; i++) {
			t->subs[i] = tracecmd_buffer_instance_handle(t->top, i);
			if (t->subs[i] && add_rec_streams(t, t->subs[i], i + 1))
				goto nomem;
		}
	}
	t->hp = calloc((size_t)t->nall + 1, sizeof(*t->hp));
	if (!t->hp)
		goto nomem;
	start_streams(t);
	return 0;
nomem:
	snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
fail:
	tdat_close(s);
	return -1;
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
		return records_open(s, path);
	}
	if (rc)
		goto fail;
	t->tep = tdat_file_tep(t->f);
	t->ts_offset = (uint64_t)tdat_file_ts_offset(t->f);
	if (setup(s, t, path))
		goto fail;
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
		st->kb = tdat_file_kbuffer(t->f);
		if (!st->kb)
			goto nomem;
	}
	start_streams(t);
	return 0;
nomem:
	snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
fail:
	tdat_close(s);
	return -1;
}

static void see_tid(struct tdat *t, uint32_t tid)
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

static long tdat_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct tdat *t = s->priv;
	size_t n = 0;
	struct mml_event e;

	for (;;) {
		/* records, not events, since the last pop: popping each time costs a call */
		if (!t->direct && (t->nst == 0 || ++t->since_pop >= 256)) {
			n += stackq_pop(t->q, ev + n, max - n, t->nst == 0);
			t->since_pop = 0;
		}
		if (n == max || t->nst == 0)
			break;
		struct stream *top = t->hp[0];
		struct mml_event *to = t->direct ? &ev[n] : &e;
		uint32_t pid;
		int k;

		if (top->missed > 0) {
			meta_add_lost(t->meta, (uint32_t)top->cpu, (uint64_t)top->missed);
			if (!t->direct)
				stackq_other(t->q, top->id);
		}
		int rc = decode_record(t->dec, top->data, top->size, top->ts, top->cpu, to);
		if (rc == 1) {
			if (to->tid != t->last_tid)
				see_tid(t, to->tid);
			t->last_tid = to->tid;
			if (t->direct)
				n++;
			else if (stackq_event(t->q, top->id, to)) {
				snprintf(s->err, sizeof(s->err), "out of memory");
				return -1;
			}
		} else if (t->direct) {
			;
		} else if (rc == 0 && (k = decode_stack(t->dec, top->data, top->size, &pid, t->addr,
						      STACK_MAX_FRAMES + 32)) >= 0) {
			if (t->f && k > 0)
				tdat_file_load_kallsyms(t->f);	/* once; without it, addresses */
			on_stack(t, top, k, pid);
		} else {
			stackq_other(t->q, top->id);
		}
		if (!advance(t, top))
			t->hp[0] = t->hp[--t->nst];
		if (t->nst > 0)
			sift_down(t, 0);
	}
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
	.open = records_open,
	.next = tdat_next,
	.close = tdat_close,
};
