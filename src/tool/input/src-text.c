/* SPDX-License-Identifier: MIT */
/*
 * src-text.c: one parser for the text shapes the kernel's events are found
 * in: the tracefs trace / trace_pipe files, `trace-cmd report` (with or
 * without -t), and `perf script`. Fields are found by shape and name, not by
 * column position:
 *
 *   TASK [CPU] FLAGS TS: EVENT: FIELDS
 *
 * TS is the first "digits.digits:" token; TASK is what precedes "[CPU]"
 * ("comm-tid", optionally followed by a "(tgid)" column, or perf's "comm tid"
 * and "comm pid/tid"); FLAGS is the optional irqs-off/need-resched/
 * hardirq-softirq/preempt column. EVENT may carry a "mmap_lock:" or "lock:"
 * system prefix (perf). FIELDS are taken by name: mm=, memcg_id= (6.14+) or
 * memcg_path= (older kernels: everything up to the last " write=", since
 * the kernel prints the path raw), write=, success=; lock:contention_begin
 * and _end print "ADDR (flags=...)" and "ADDR (ret=N)".
 *
 * Kernel stacks (the stacktrace trigger or option, perf record -g): a
 * "<stack trace>" record (tracefs) or a "kernel_stack:" record (trace-cmd
 * report) followed by "=> sym" frame lines, or perf script's callchain
 * lines under the event line (text-stack.h reads the frames). Each becomes
 * an MML_EV_STACK event before the event it belongs to; stackq.h decides
 * which (the held event of that CPU, same pid), so every record line,
 * ours or not, is told to it. Addresses are kept when the text has them,
 * else 0. A stack whose event is not in the text counts as a skipped line.
 *
 * Timestamps are converted digit by digit (seconds * 1e9 + fraction padded
 * to nine digits) so no floating point rounding enters. Lines that are not
 * these events are counted in s->skipped; a file without a single event is
 * an error. The text is read in chunks and parsed in place: memory does not
 * depend on the file's length.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "source.h"
#include "stackq.h"
#include "stacks.h"
#include "text-stack.h"

#define CHUNK	(1 << 20)
#define MAXLINE	(64 << 10)	/* longer lines are skipped */
struct text_src {
	int fd;
	const char *path;
	char *buf;
	size_t len, pos;		/* bytes in buf, parse position */
	int eof;
	int probed;			/* the first bytes were checked for a binary trace */
	uint64_t found;			/* events recognised */
	uint32_t last_tid;		/* the task last announced to meta */
	char last_comm[16];
	uint32_t last_tgid;
	char last_path[256];		/* memcg_path interning cache */
	uint64_t last_path_id;
	struct stackq *q;		/* events held until their stack is known */
	int done;			/* input over, block finished */
	int nomem;			/* the queue could not grow */
	struct text_stack blk;
};

static int probe(const unsigned char *head, size_t len)
{
	return 1;	/* the catch-all: decides at the end */
}

static int text_open(struct source *s, const char *path)
{
	struct text_src *t = calloc(1, sizeof(*t));

	if (!t || !(t->buf = malloc(CHUNK + MAXLINE + 1)) || !(t->q = stackq_new(s->meta))) {
		if (t)
			free(t->buf);
		free(t);
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	s->priv = t;
	t->path = path;
	t->last_tid = UINT32_MAX;
	t->last_path_id = UINT64_MAX;
	if (!strcmp(path, "-")) {
		t->fd = dup(0);
	} else {
		t->fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (t->fd < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* "123.456789:" at p? Returns the ns value and sets *end past the ':'. */
static int parse_ts(const char *p, const char *e, uint64_t *ts, const char **end)
{
	uint64_t sec = 0, frac = 0;
	int nd = 0, nf = 0;

	while (p < e && is_digit(*p) && nd < 12) {
		sec = sec * 10 + (uint64_t)(*p++ - '0');
		nd++;
	}
	if (!nd || p >= e || *p != '.')
		return 0;
	p++;
	while (p < e && is_digit(*p)) {
		if (nf < 9) {
			frac = frac * 10 + (uint64_t)(*p - '0');
			nf++;
		}
		p++;
	}
	if (!nf || p >= e || *p != ':')
		return 0;
	while (nf++ < 9)
		frac *= 10;
	*ts = sec * 1000000000ull + frac;
	*end = p + 1;
	return 1;
}

static uint64_t parse_dec(const char *p, const char *e, int *ok)
{
	uint64_t v = 0;
	int n = 0, neg = 0;

	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	for (; p < e && is_digit(*p); p++, n++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (ok)
		*ok = n > 0;
	return neg ? (uint64_t)-(int64_t)v : v;
}

/* The value after " name=" in [p, e), or NULL. */
static const char *field(const char *p, const char *e, const char *name)
{
	size_t nl = strlen(name);

	for (const char *q = p; q + nl <= e; q++) {
		q = memchr(q, name[0], (size_t)(e - q));
		if (!q || q + nl > e)
			return NULL;
		if (!memcmp(q, name, nl) && (q == p || q[-1] == ' '))
			return q + nl;
	}
	return NULL;
}

static int is_true(const char *v, const char *e)
{
	return v && v < e && (*v == 't' || *v == '1');
}

/* The task part [p, e): comm and tid (and tgid when shown). */
static int parse_task(const char *p, const char *e, char *comm, uint32_t *tid, uint32_t *tgid)
{
	const char *q, *c;
	int ok;

	while (p < e && *p == ' ')
		p++;
	while (e > p && e[-1] == ' ')
		e--;
	*tgid = 0;
	/* trace-cmd report prefixes events of an instance with "NAME:" */
	for (q = p; q < e && *q != ' '; q++)
		;
	if (q > p && q < e && q[-1] == ':') {
		while (q < e && *q == ' ')
			q++;
		p = q;
	}
	/* "(  1234)" or "(-------)" tgid column */
	if (e > p && e[-1] == ')') {
		q = e - 1;
		while (q > p && q[-1] != '(')
			q--;
		if (q > p) {
			const char *d = q;
			while (d < e && *d == ' ')
				d++;
			*tgid = (uint32_t)parse_dec(d, e - 1, &ok);
			if (!ok)
				*tgid = 0;
			e = q - 1;
			while (e > p && e[-1] == ' ')
				e--;
		}
	}
	/* trailing digits (perf: "pid/tid") */
	q = e;
	while (q > p && is_digit(q[-1]))
		q--;
	if (q == e)
		return 0;
	*tid = (uint32_t)parse_dec(q, e, &ok);
	c = q;
	if (c > p && c[-1] == '/') {		/* perf pid/tid */
		const char *r = c - 1;
		while (r > p && is_digit(r[-1]))
			r--;
		*tgid = (uint32_t)parse_dec(r, c - 1, &ok);
		c = r;
	}
	if (c > p && c[-1] == '-')		/* ftrace comm-tid */
		c--;
	else
		while (c > p && c[-1] == ' ')	/* perf "comm  tid" */
			c--;
	size_t n = (size_t)(c - p) < 15 ? (size_t)(c - p) : 15;
	memcpy(comm, p, n);
	comm[n] = 0;
	return 1;
}

enum line_kind {
	L_NONE,		/* not a record line */
	L_OURS,		/* one of our events: *ev filled */
	L_STACK,	/* a kernel stack header ("<stack trace>", kernel_stack:) */
	L_OTHER,	/* another record (another event, a filtered-out wait) */
};

/*
 * The ring buffer a record line comes from, for stackq.h: its CPU, and
 * for trace-cmd report's "NAME:" instance prefix a hash of NAME above bit
 * 16 (an instance's CPU 0 is not the top buffer's).
 */
static uint32_t stream_of(const char *p, const char *e, uint32_t cpu)
{
	uint32_t h = 0;
	const char *q;

	while (p < e && *p == ' ')
		p++;
	for (q = p; q < e && *q != ' '; q++)
		;
	if (q == p || q == e || q[-1] != ':')
		return cpu & 0xffff;
	for (; p < q - 1; p++)
		h = h * 31 + (unsigned char)*p;
	return (cpu & 0xffff) | (h % 15 + 1) << 16;
}

/* The first token "digits.digits:" preceded by a blank: its end (*ts set), or NULL. */
static const char *find_ts(const char *p, const char *e, uint64_t *ts)
{
	const char *ts_end = NULL;

	for (const char *q = p; q < e; q++) {
		if (!is_digit(*q) || (q > p && q[-1] != ' '))
			continue;
		if (parse_ts(q, e, ts, &ts_end))
			break;
	}
	return ts_end;
}

/* The context of a flags column "d..1." (position 2): MML_F_* bits. */
static uint8_t flags_ctx(const char *f, const char *end)
{
	const char *fe = f;

	while (fe < end && *fe != ' ')
		fe++;
	if (fe - f < 3)
		return 0;
	switch (f[2]) {
	case 'h': return MML_F_HARDIRQ;
	case 's': return MML_F_SOFTIRQ;
	case 'H': return MML_F_HARDIRQ | MML_F_SOFTIRQ;
	case 'z': case 'Z': return MML_F_NMI;
	}
	return 0;
}

/*
 * The head before the timestamp, TASK [CPU] FLAGS, in [p, task_end): the
 * CPU and the context of the flags column when there is a "[CPU]"; the
 * end of TASK.
 */
static const char *parse_cpu(const char *p, const char *task_end, uint32_t *cpu, uint8_t *ctx)
{
	const char *rb = NULL, *lb = NULL, *f;
	int ok;

	for (const char *q = task_end - 1; q > p; q--)
		if (*q == ']') {
			const char *d = q;
			while (d > p && is_digit(d[-1]))
				d--;
			if (d > p && d[-1] == '[' && d < q) {
				rb = q;
				lb = d - 1;
				break;
			}
		}
	if (!rb)
		return task_end;
	*cpu = (uint32_t)parse_dec(lb + 1, rb, &ok);
	f = rb + 1;
	while (f < task_end && *f == ' ')
		f++;
	if (f < task_end && !is_digit(*f))
		*ctx |= flags_ctx(f, task_end);
	return lb;
}

/*
 * The event name at name (after the timestamp): ev->type and *fields (what
 * follows "NAME:") for one of ours, else L_STACK or L_OTHER.
 */
static enum line_kind event_name(const char *name, const char *e, struct mml_event *ev,
				 const char **fields)
{
	const char *ne;

	while (name < e && *name == ' ')
		name++;
	if (e - name >= 13 && !memcmp(name, "<stack trace>", 13))
		return L_STACK;			/* tracefs trace / trace_pipe */
	ne = memchr(name, ':', (size_t)(e - name));
	if (!ne)
		return L_OTHER;
	if (ne - name == 12 && !memcmp(name, "kernel_stack", 12))
		return L_STACK;			/* trace-cmd report */
	if ((ne - name == 9 && !memcmp(name, "mmap_lock", 9)) ||
	    (ne - name == 4 && !memcmp(name, "lock", 4))) {
		name = ne + 1;
		ne = memchr(name, ':', (size_t)(e - name));
		if (!ne)
			return L_OTHER;
	}
#define IS(lit) ((size_t)(ne - name) == sizeof(lit) - 1 && !memcmp(name, lit, sizeof(lit) - 1))
	if (IS("mmap_lock_start_locking"))
		ev->type = MML_EV_START_LOCKING;
	else if (IS("mmap_lock_acquire_returned"))
		ev->type = MML_EV_ACQUIRE_RETURNED;
	else if (IS("mmap_lock_released"))
		ev->type = MML_EV_RELEASED;
	else if (IS("contention_begin"))
		ev->type = MML_EV_CONTENTION_BEGIN;
	else if (IS("contention_end"))
		ev->type = MML_EV_CONTENTION_END;
	else
		return L_OTHER;
#undef IS
	*fields = ne + 1;
	return L_OURS;
}

/* lock:contention_begin/end's fields [q, e) into ev. L_OURS, or L_OTHER (not an rwsem wait). */
static enum line_kind contention_fields(const char *q, const char *e, struct mml_event *ev)
{
	const char *v, *ve;
	uint64_t fl = 0;
	int ok;

	while (q < e && *q == ' ')
		q++;
	ev->mm = text_parse_hex(q, e);
	if (ev->type == MML_EV_CONTENTION_END) {
		v = field(q, e, "(ret=");
		ev->memcg = v ? parse_dec(v, e, &ok) : 0;
		return L_OURS;
	}
	v = field(q, e, "(flags=");
	if (!v)
		return L_OTHER;
	/* LCB_F_SPIN 1, READ 2, WRITE 4: the mmap_lock is an rwsem */
	ve = memchr(v, ')', (size_t)(e - v));
	if (!ve)
		ve = e;
	for (const char *w = v; w < ve; w++) {
		if (!strncmp(w, "SPIN", 4)) fl |= 1;
		if (!strncmp(w, "READ", 4)) fl |= 2;
		if (!strncmp(w, "WRITE", 5)) fl |= 4;
	}
	if (!(fl & 6))
		return L_OTHER;	/* not an rwsem wait: a spinlock, mutex ... */
	ev->memcg = fl;
	if (fl & 4)
		ev->flags |= MML_F_WRITE;
	return L_OURS;
}

/* The id of "memcg_path=" v (up to the last " write=" before e), interned; the last one cached. */
static uint64_t memcg_path_id(struct source *s, struct text_src *t, const char *v, const char *e)
{
	const char *pe = NULL;
	char tmp[4096];
	uint64_t id;
	size_t n;

	for (const char *w = v; (w = field(w, e, "write=")); )
		pe = w - 7;	/* the last " write=" ends the path */
	if (!pe || pe < v)
		pe = v;
	n = (size_t)(pe - v);
	if (!n)
		return 0;
	if (n < sizeof(t->last_path) && t->last_path_id != UINT64_MAX &&
	    !memcmp(t->last_path, v, n) && !t->last_path[n])
		return t->last_path_id;
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, v, n);
	tmp[n] = 0;
	id = meta_intern_memcg(s->meta, tmp);
	if (n < sizeof(t->last_path)) {
		memcpy(t->last_path, tmp, n + 1);
		t->last_path_id = id;
	}
	return id;
}

/* An mmap_lock event's fields [q, e) into ev. L_OURS, or L_OTHER when one is missing. */
static enum line_kind mmap_lock_fields(struct source *s, struct text_src *t, const char *q,
				       const char *e, struct mml_event *ev)
{
	const char *v = field(q, e, "mm=");
	int ok;

	if (!v)
		return L_OTHER;
	ev->mm = text_parse_hex(v, e);
	if ((v = field(q, e, "memcg_id=")))
		ev->memcg = parse_dec(v, e, &ok);
	else if ((v = field(q, e, "memcg_path=")))
		ev->memcg = memcg_path_id(s, t, v, e);
	v = NULL;
	for (const char *w = q; (w = field(w, e, "write=")); )
		v = w;			/* the last one: a raw path may hold "write=" */
	if (!v)
		return L_OTHER;
	if (is_true(v, e))
		ev->flags |= MML_F_WRITE;
	if (ev->type == MML_EV_ACQUIRE_RETURNED) {
		v = field(q, e, "success=");
		if (!v)
			return L_OTHER;
		if (is_true(v, e))
			ev->flags |= MML_F_SUCCESS;
	}
	return L_OURS;
}

/* Tell meta who the task is (once per change, not per line). */
static void note_task(struct source *s, struct text_src *t, uint32_t tid, uint32_t tgid,
		      const char *comm)
{
	const struct mml_task_info *old;

	if (!comm[0] || (tid == t->last_tid && tgid == t->last_tgid && !strcmp(comm, t->last_comm)) ||
	    !strcmp(comm, "<...>"))
		return;
	old = meta_task(s->meta, tid);
	if (!old || strcmp(old->comm, comm) || (tgid && old->tgid != tgid)) {
		struct mml_task_info ti = { .tid = tid, .tgid = tgid ? tgid : (old ? old->tgid : 0) };
		memcpy(ti.comm, comm, sizeof(ti.comm));
		meta_set_task(s->meta, &ti);
	}
	t->last_tid = tid;
	t->last_tgid = tgid;
	memcpy(t->last_comm, comm, sizeof(t->last_comm));
}

/*
 * One line [p, e): what it is. For L_OURS *ev is filled; for every record
 * *stream (stream_of) and *pid tell where it happened.
 */
static enum line_kind parse_line(struct source *s, struct text_src *t, const char *p,
				 const char *e, struct mml_event *ev, uint32_t *streamp,
				 uint32_t *pidp)
{
	const char *ts_end, *task_end, *fields = NULL;
	uint64_t ts = 0;
	uint32_t tid = 0, tgid = 0, cpu = 0;
	uint8_t ctx = 0;
	char comm[16] = "";
	enum line_kind k;

	memset(ev, 0, sizeof(*ev));
	if (!(ts_end = find_ts(p, e, &ts)))
		return L_NONE;
	task_end = ts_end;
	while (task_end > p && task_end[-1] != ' ')
		task_end--;			/* start of the ts token */
	task_end = parse_cpu(p, task_end, &cpu, &ctx);
	if (!parse_task(p, task_end, comm, &tid, &tgid))
		return L_NONE;
	*streamp = stream_of(p, task_end, cpu);
	*pidp = tid;
	if ((k = event_name(ts_end, e, ev, &fields)) != L_OURS)
		return k;
	ev->flags = ctx;
	ev->ts = ts;
	ev->tid = tid;
	ev->cpu = (uint16_t)cpu;
	if (ev->type == MML_EV_CONTENTION_BEGIN || ev->type == MML_EV_CONTENTION_END)
		k = contention_fields(fields, e, ev);
	else
		k = mmap_lock_fields(s, t, fields, e, ev);
	if (k != L_OURS)
		return k;
	note_task(s, t, tid, tgid, comm);
	return L_OURS;
}

/* Refill the buffer: keep the unparsed tail, read more. 0 at EOF with nothing left. */
static int refill(struct source *s, struct text_src *t)
{
	if (t->pos) {
		memmove(t->buf, t->buf + t->pos, t->len - t->pos);
		t->len -= t->pos;
		t->pos = 0;
	}
	while (!t->eof && t->len < CHUNK) {
		ssize_t r = read(t->fd, t->buf + t->len, CHUNK + MAXLINE - t->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(s->err, sizeof(s->err), "%s: %s", t->path, strerror(errno));
			return -1;
		}
		if (!r)
			t->eof = 1;
		t->len += (size_t)r;
		break;
	}
	/*
	 * Only stdin gets here with a binary trace (a FILE was probed by
	 * source_open): it cannot be read as a stream, and "no events found"
	 * would send the user looking for a broken recording.
	 */
	if (!t->probed && (t->len >= 16 || t->eof)) {
		t->probed = 1;
		if (source_mml_ops.probe((unsigned char *)t->buf, t->len) ||
		    source_tracedat_ops.probe((unsigned char *)t->buf, t->len)) {
			snprintf(s->err, sizeof(s->err), "%s: a binary trace (mmaplock file or trace.dat): give its path; stdin is read as text",
				 t->path);
			return -1;
		}
	}
	return 0;
}

/* The stack block is over: hand it to the queue. */
static void blk_end(struct source *s, struct text_src *t)
{
	struct text_stack *b = &t->blk;

	if (b->kind == TEXT_STACK_FTRACE ||
	    (b->kind == TEXT_STACK_PERF && b->n)) {
		if (!stackq_stack(t->q, b->stream, b->pid, b->addr, b->sym, b->n) &&
		    b->kind == TEXT_STACK_FTRACE)
			s->skipped++;		/* a stack not attached (its event is not here ...) */
	}
	b->kind = TEXT_STACK_NONE;
	b->n = 0;
	b->used = 0;
}

/*
 * "CPU:0 [LOST 12 EVENTS]" (trace_pipe), "CPU:0 [123 EVENTS DROPPED]"
 * (trace-cmd): the CPU, and in *lost the count (0 when the line has none:
 * the tracefs `trace` file's "[LOST EVENTS]", counted by its header).
 */
static int lost_line(const char *p, const char *e, uint32_t *cpu, uint64_t *lost)
{
	const char *c, *b;

	for (c = p; c + 4 < e && memcmp(c, "CPU:", 4); c++)
		;
	if (c + 4 >= e || !is_digit(c[4]) || !memchr(c, ']', (size_t)(e - c)))
		return 0;
	for (const char *w = c; w + 6 <= e; w++)
		if (!memcmp(w, "EVENTS", 6)) {
			*cpu = (uint32_t)parse_dec(c + 4, e, NULL);
			b = memchr(c, '[', (size_t)(e - c));
			while (b && b < w && !is_digit(*b))
				b++;
			*lost = b && b < w ? parse_dec(b, w, NULL) : 0;
			return 1;
		}
	return 0;
}

/* One line [p, e) of the input. */
static void text_line(struct source *s, struct text_src *t, const char *p, const char *e)
{
	struct mml_event ev;
	uint32_t stream = 0, pid = 0;

	if (t->blk.kind == TEXT_STACK_FTRACE && text_ftrace_frame(&t->blk, p, e))
		return;
	if (t->blk.kind == TEXT_STACK_PERF && text_perf_frame(&t->blk, p, e))
		return;
	if (t->blk.kind != TEXT_STACK_NONE)
		blk_end(s, t);
	switch (parse_line(s, t, p, e, &ev, &stream, &pid)) {
	case L_OURS:
		if (stackq_event(t->q, stream, &ev))
			t->nomem = 1;
		t->found++;
		t->blk.kind = TEXT_STACK_PERF;
		t->blk.stream = stream;
		t->blk.pid = ev.tid;
		break;
	case L_STACK:
		t->blk.kind = TEXT_STACK_FTRACE;
		t->blk.stream = stream;
		t->blk.pid = pid;
		break;
	case L_OTHER:
		stackq_other(t->q, stream);
		s->skipped++;
		break;
	case L_NONE: {
		uint64_t lost;
		if (lost_line(p, e, &stream, &lost)) {
			stackq_other(t->q, stream_of(p, e, stream));
			if (lost)
				meta_add_lost(s->meta, stream, lost);
		}
		if (e > p)
			s->skipped++;
		break;
	}
	}
}

static long text_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct text_src *t = s->priv;
	size_t n = 0;

	for (;;) {
		n += stackq_pop(t->q, ev + n, max - n, t->done);
		if (n == max || t->done)
			break;
		char *p = t->buf + t->pos, *nl;

		nl = memchr(p, '\n', t->len - t->pos);
		if (!nl) {
			if (t->len - t->pos >= MAXLINE) {	/* absurd line: drop it */
				s->skipped++;
				t->pos = t->len;
			}
			if (!t->eof) {
				if (refill(s, t))
					return -1;
				continue;
			}
			if (t->pos == t->len) {
				if (t->blk.kind != TEXT_STACK_NONE)
					blk_end(s, t);
				t->done = 1;
				continue;
			}
			nl = t->buf + t->len;		/* last line without '\n' */
		}
		if (*p == '#' && nl - p > 40 && !strncmp(p, "# entries-in-buffer/entries-written: ", 37)) {
			/* the trace file's header: what the ring buffer overwrote is lost */
			unsigned long long in, wr;
			char tmp[128];
			size_t l = (size_t)(nl - p) < sizeof(tmp) - 1 ? (size_t)(nl - p) : sizeof(tmp) - 1;
			memcpy(tmp, p, l);
			tmp[l] = 0;
			if (sscanf(tmp + 37, "%llu/%llu", &in, &wr) == 2 && wr > in)
				meta_add_lost(s->meta, 0, wr - in);
		}
		text_line(s, t, p, nl);
		t->pos = (size_t)(nl - t->buf) + (nl < t->buf + t->len);
		if (t->nomem) {
			snprintf(s->err, sizeof(s->err), "%s: out of memory", t->path);
			return -1;
		}
	}
	if (!n && !t->found) {
		snprintf(s->err, sizeof(s->err), "%s: no mmap_lock events found (not a trace?)", t->path);
		return -1;
	}
	if (n) {
		if (!s->start_ts)
			s->start_ts = ev[0].ts;
		s->end_ts = ev[n - 1].ts;
	}
	return (long)n;
}

static void text_close(struct source *s)
{
	struct text_src *t = s->priv;

	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	stackq_free(t->q);
	free(t->buf);
	free(t);
	s->priv = NULL;
}

const struct source_ops source_text_ops = {
	.name = "text",
	.probe = probe,
	.open = text_open,
	.next = text_next,
	.close = text_close,
};
