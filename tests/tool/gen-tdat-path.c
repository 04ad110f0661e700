/* SPDX-License-Identifier: MIT */
/*
 * gen-tdat-path: writes a trace.dat (file version 6, uncompressed) of the
 * mmap_lock events as kernels 5.11 to 6.13 print them (a __data_loc
 * memcg_path string, no memcg_id), and the figures `mmaplock report
 * --json` must give on it. A test helper (test-tracedat-path.c): every
 * trace.dat captured on the test machines has the 6.14+ memcg_id form.
 *
 *   gen-tdat-path FIXTURES OUT.dat EXPECT [OPS]
 *
 * FIXTURES: tests/fixtures, whose format-path-* and format-id-contention_*
 * files are the event formats the file carries. EXPECT: lines "events N"
 * and "lost N" (a page's missed-events mark), then per memcg path "group
 * READ WRITE FAILED CONTENDED WAITS WAIT_TOTAL WAIT_MAX HOLDS HOLD_TOTAL
 * HOLD_MAX PATH" (the path last: it may hold spaces or be empty), then per
 * CPU "cpu N OFFSET PAGES" and the number of events in each of its pages
 * (what a copy cut at any length must read). OPS: lock operations
 * (default 1200). The output is the same on every run:
 * tests/fixtures/tracedat-path.dat is `trace-cmd convert --file-version 7
 * --compression zstd` of it.
 *
 * Rewriting the fixture (then GOLDEN_UPDATE=1 sh tests/sh/golden.sh):
 *   build/tests/gen-tdat-path tests/fixtures /tmp/p.dat /tmp/expect &&
 *   trace-cmd convert -i /tmp/p.dat --file-version 7 --compression zstd \
 *	-o tests/fixtures/tracedat-path.dat
 *
 * The file is written from trace-cmd.dat.v6(5), not through libtracecmd
 * (its output functions are not in its public header): magic, version,
 * endianness, long and page size; header_page and header_event (the texts
 * of tracefs' events/header_page and header_event, describing exactly the
 * pages written here); no ftrace formats; the event formats of systems
 * mmap_lock and lock; no kallsyms, no printk formats; saved cmdlines; the
 * CPU count; an empty options list; "flyrecord" and each CPU's (offset,
 * size), its pages starting page-aligned.
 *
 * Pages are the kernel ring buffer's: u64 time stamp, u64 commit (the
 * bytes of events in the page), then events, each a u32 header (type_len
 * in the low 5 bits: data length in 4-byte words, or 0 when a u32 length
 * that counts itself follows; time_delta, in ns since the previous event,
 * above) and the event's data. A delta of 2^27 ns or more goes first into
 * a time-extend record (type_len 30, the delta's high bits in a second
 * u32); some events get an absolute time stamp instead (type_len 31, the
 * time's bits the same way), some follow the padding (type_len 29, a
 * length from its second word) an event discarded after it was written
 * leaves, with that event's delta. An event that does not fit ends the
 * page.
 *
 * The events: tasks (comms in saved cmdlines; one without) on CPUs 0 and
 * 1 (CPU 2 holds nothing), one of them moving between CPUs, take read and
 * write locks on their mm in one of five memcgs ("" for none, "/", a path
 * with a space, a 200-byte one), some contended (lock:contention_begin /
 * contention_end between start_locking and acquire_returned), some failing
 * (success=false, no release); gaps of up to 2 s between operations make
 * time-extend records, and the events span many pages, one of them marked
 * as following lost events.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tdat-headers.h"

#define PAGE		4096u
#define PAGE_HDR	16u
#define NCPU		3
#define DELTA_BITS	27
#define TYPE_PADDING	29
#define TYPE_EXTEND	30
#define TYPE_STAMP	31
#define DELTA_MASK	((1u << DELTA_BITS) - 1)
#define EXTRA		40	/* room for a padding and a time record before an event */
#define TYPE_MAXDATA	28
#define MISSED_EVENTS	(1ull << 31)	/* commit's flags: events lost before this page */
#define MISSED_STORED	(1ull << 30)	/* ... and their count follows the data */
#define LOST		7

/* event type ids: those of the format files */
enum { EV_START, EV_ACQ, EV_REL, EV_CBEGIN, EV_CEND, NEV };
static const char *const fmt_name[NEV] = {
	"format-path-mmap_lock_start_locking", "format-path-mmap_lock_acquire_returned",
	"format-path-mmap_lock_released", "format-id-contention_begin", "format-id-contention_end",
};
static int ev_id[NEV];
static char *ev_fmt[NEV];
static size_t ev_fmt_len[NEV];


#define LONG_PATH "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod5f0c9a4e_" \
	"1b2d_4c3e_9f80_a1b2c3d4e5f6.slice/cri-containerd-0123456789abcdef0123456789abcdef" \
	"0123456789abcdef0123456789abcdef.scope"
static const char *const paths[] = { "", "/", "/system.slice/db.service", "/b/c d", LONG_PATH };
#define NPATH (sizeof(paths) / sizeof(paths[0]))

struct task {
	int tid, cpu;		/* cpu -1: moves between 0 and 1 */
	const char *comm;	/* NULL: not in saved cmdlines */
	uint64_t mm;
	uint64_t t;		/* its clock: ns */
};
static struct task tasks[] = {
	{ 100, 0, "bash", 0xffff888100a1c000ull, 0 },
	{ 201, 1, "kworker/u4:2 x", 0xffff888100b2d000ull, 0 },
	{ 3003, 0, "postgres", 0xffff888100c3e000ull, 0 },
	{ 3004, 1, "postgres", 0xffff888100c3e000ull, 0 },	/* a thread of 3003: same mm */
	{ 4242, -1, "java-worker-1", 0xffff888100d4f000ull, 0 },
	{ 5000, 1, NULL, 0xffff888100e50000ull, 0 },
};
#define NTASK (sizeof(tasks) / sizeof(tasks[0]))

struct ev {
	uint64_t ts;
	uint32_t seq;		/* creation order: ties keep it */
	uint8_t type, cpu, write, success, flags, preempt;
	int tid;
	uint64_t mm;
	const char *path;
	int32_t ret;		/* contention_end */
};
static struct ev *evs;
static size_t nev, capev;

struct fig {
	uint64_t rd, wr, failed, contended, waits, wait_total, wait_max, holds, hold_total, hold_max;
};
static struct fig figs[NPATH];

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct ev *add(struct task *tk, int type, int cpu, const char *path, int write)
{
	if (nev == capev) {
		capev = capev ? capev * 2 : 4096;
		evs = realloc(evs, capev * sizeof(*evs));
		if (!evs)
			die("realloc");
	}
	struct ev *e = &evs[nev];
	memset(e, 0, sizeof(*e));
	e->ts = tk->t;
	e->seq = (uint32_t)nev++;
	e->type = (uint8_t)type;
	e->cpu = (uint8_t)cpu;
	e->tid = tk->tid;
	e->mm = tk->mm;
	e->path = path;
	e->write = (uint8_t)write;
	e->success = 1;
	e->preempt = (uint8_t)rnd(2);
	return e;
}

static uint64_t maxu(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* One lock operation of tk: start, maybe contention, acquire, maybe release. */
static void operation(struct task *tk)
{
	int cpu = tk->cpu >= 0 ? tk->cpu : (int)rnd(2);
	size_t pi = (size_t)rnd(NPATH);
	const char *path = paths[pi];
	struct fig *g = &figs[pi];
	int write = rnd(3) == 0, fail = rnd(12) == 0, cont = !fail && rnd(5) == 0;
	uint64_t start, acq, rel;

	/* gaps: mostly µs, some past 2^27 ns (a time-extend record) */
	uint64_t r = rnd(100);
	tk->t += r < 3 ? 200000000ull + rnd(1800000000ull) : r < 10 ? 1000000 + rnd(50000000) :
		 100 + rnd(20000);
	start = tk->t;
	add(tk, EV_START, cpu, path, write);
	if (cont) {
		tk->t += 50 + rnd(500);
		struct ev *e = add(tk, EV_CBEGIN, cpu, NULL, write);
		e->mm = tk->mm + 0x78;		/* &mm->mmap_lock */
		e->ret = write ? 4 : 2;		/* flags: WRITE or READ */
		tk->t += 1000 + rnd(rnd(4) ? 100000 : 300000000ull);
		e = add(tk, EV_CEND, cpu, NULL, write);
		e->mm = tk->mm + 0x78;
		e->ret = 0;
	}
	tk->t += 20 + rnd(2000);
	acq = tk->t;
	struct ev *a = add(tk, EV_ACQ, cpu, path, write);
	if (fail) {
		a->success = 0;
		g->failed++;
		return;
	}
	tk->t += 100 + rnd(rnd(10) ? 50000 : 400000000ull);
	rel = tk->t;
	add(tk, EV_REL, cpu, path, write);
	write ? g->wr++ : g->rd++;
	g->contended += (uint64_t)cont;
	g->waits++;
	g->wait_total += acq - start;
	g->wait_max = maxu(g->wait_max, acq - start);
	g->holds++;
	g->hold_total += rel - acq;
	g->hold_max = maxu(g->hold_max, rel - acq);
}

static int by_time(const void *pa, const void *pb)
{
	const struct ev *a = pa, *b = pb;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---------------------------------------------------------------- output */

static FILE *out;

static void put(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, out) != n)
		die("write");
}

static void put_u(uint64_t v, int size)
{
	unsigned char b[8];

	for (int i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(b, (size_t)size);
}

static void put_str(const char *s)
{
	put(s, strlen(s) + 1);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n = 0;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die(path);
	b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
		die(path);
	b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

/* An event's data (after the ring-buffer header): the fields of its format. */
static size_t ev_data(const struct ev *e, unsigned char *d)
{
	size_t n = 0;

	memset(d, 0, 512);
	d[0] = (unsigned char)ev_id[e->type];
	d[1] = (unsigned char)(ev_id[e->type] >> 8);
	d[2] = e->flags;
	d[3] = e->preempt;
	memcpy(d + 4, &e->tid, 4);
	memcpy(d + 8, &e->mm, 8);
	switch (e->type) {
	case EV_CBEGIN:
	case EV_CEND:
		memcpy(d + 16, &e->ret, 4);
		return 20;
	case EV_ACQ:
		d[21] = e->success;
		n = 22;
		break;
	default:
		n = 21;
		break;
	}
	d[20] = e->write;
	/* __data_loc: offset in the low 16 bits, length (with its NUL) above */
	uint32_t len = (uint32_t)strlen(e->path) + 1, loc = (uint32_t)n | len << 16;
	memcpy(d + 16, &loc, 4);
	memcpy(d + n, e->path, len);
	return n + len;
}

struct cpubuf {
	unsigned char *pages;
	size_t npages;
	unsigned char *page;	/* the current one */
	uint32_t used;		/* bytes of events in it */
	uint64_t last;		/* time of its last event */
	uint32_t *nper;		/* events per page */
	uint64_t off;		/* file offset of its first page */
};
static struct cpubuf cpus[NCPU];

static void new_page(struct cpubuf *c, uint64_t ts)
{
	c->pages = realloc(c->pages, (c->npages + 1) * PAGE);
	if (!c->pages)
		die("realloc");
	c->nper = realloc(c->nper, (c->npages + 1) * sizeof(*c->nper));
	if (!c->nper)
		die("realloc");
	c->nper[c->npages] = 0;
	c->page = c->pages + c->npages++ * PAGE;
	memset(c->page, 0, PAGE);
	/* the page's stamp a little before its first event: a first delta not 0 */
	ts -= ts % 1000;
	memcpy(c->page, &ts, 8);
	c->used = 0;
	c->last = ts;
}

static void commit(struct cpubuf *c)
{
	uint64_t v = c->used;

	if (c->page)
		memcpy(c->page + 8, &v, 8);
}

/*
 * Mark a page of CPU 1 (the fourth with room for the count) as following
 * LOST overwritten events, as the kernel does after an overrun. None of
 * the events written is missing: the figures stay, lost_events is LOST.
 */
static void mark_missed(void)
{
	struct cpubuf *c = &cpus[1];

	for (size_t k = 3; k < c->npages; k++) {
		unsigned char *pg = c->pages + k * PAGE;
		uint64_t v, n = LOST;
		memcpy(&v, pg + 8, 8);
		if (PAGE_HDR + v + 8 > PAGE)
			continue;
		memcpy(pg + PAGE_HDR + v, &n, 8);
		v |= MISSED_EVENTS | MISSED_STORED;
		memcpy(pg + 8, &v, 8);
		return;
	}
}

static void put32(struct cpubuf *c, uint32_t v)
{
	memcpy(c->page + PAGE_HDR + c->used, &v, 4);
	c->used += 4;
}

static void append(const struct ev *e)
{
	struct cpubuf *c = &cpus[e->cpu];
	unsigned char d[512];
	size_t n = ev_data(e, d), words = (n + 3) / 4;
	uint32_t rec = (uint32_t)(words <= TYPE_MAXDATA ? 4 + 4 * words : 8 + 4 * words);

	if (!c->page || c->used + rec + EXTRA > PAGE - PAGE_HDR) {
		commit(c);
		new_page(c, e->ts);
	}
	uint64_t delta = e->ts - c->last;
	if (e->seq % 97 == 13 && delta >= 2) {
		/* an event discarded after it was written: padding, its delta kept */
		uint32_t dp = (uint32_t)(delta / 2);
		put32(c, TYPE_PADDING | dp << 5);
		put32(c, 24);			/* from here: 6 words were the event */
		memset(c->page + PAGE_HDR + c->used, 0xa5, 20);
		c->used += 20;
		delta -= dp;
	}
	if (e->seq % 89 == 7) {
		/* an absolute time stamp (59 bits), as a nested write forces */
		put32(c, TYPE_STAMP | (uint32_t)(e->ts & DELTA_MASK) << 5);
		put32(c, (uint32_t)(e->ts >> DELTA_BITS));
		delta = 0;
	} else if (delta >> DELTA_BITS) {
		put32(c, TYPE_EXTEND | (uint32_t)(delta & DELTA_MASK) << 5);
		put32(c, (uint32_t)(delta >> DELTA_BITS));
		delta = 0;
	}
	if (words <= TYPE_MAXDATA) {
		put32(c, (uint32_t)words | (uint32_t)delta << 5);
	} else {
		put32(c, (uint32_t)delta << 5);
		put32(c, (uint32_t)(4 * words + 4));
	}
	memcpy(c->page + PAGE_HDR + c->used, d, 4 * words);
	c->used += (uint32_t)(4 * words);
	c->last = e->ts;
	c->nper[c->npages - 1]++;
}

static void write_file(const char *path)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	char cmdlines[1024];
	size_t cl = 0;

	out = fopen(path, "wb");
	if (!out)
		die(path);
	put(magic, sizeof(magic));
	put_str("6");
	put_u(0, 1);			/* little-endian */
	put_u(8, 1);			/* long size */
	put_u(PAGE, 4);
	put("header_page", 12);
	put_u(sizeof(header_page) - 1, 8);
	put(header_page, sizeof(header_page) - 1);
	put("header_event", 13);
	put_u(sizeof(header_event) - 1, 8);
	put(header_event, sizeof(header_event) - 1);
	put_u(0, 4);			/* ftrace formats */
	put_u(2, 4);			/* systems */
	put_str("mmap_lock");
	put_u(3, 4);
	for (int i = EV_START; i <= EV_REL; i++) {
		put_u(ev_fmt_len[i], 8);
		put(ev_fmt[i], ev_fmt_len[i]);
	}
	put_str("lock");
	put_u(2, 4);
	for (int i = EV_CBEGIN; i <= EV_CEND; i++) {
		put_u(ev_fmt_len[i], 8);
		put(ev_fmt[i], ev_fmt_len[i]);
	}
	put_u(0, 4);			/* kallsyms */
	put_u(0, 4);			/* printk formats */
	for (size_t i = 0; i < NTASK; i++)
		if (tasks[i].comm && (i == 0 || tasks[i].tid != tasks[i - 1].tid))
			cl += (size_t)snprintf(cmdlines + cl, sizeof(cmdlines) - cl, "%d %s\n",
					       tasks[i].tid, tasks[i].comm);
	put_u(cl, 8);
	put(cmdlines, cl);
	put_u(NCPU, 4);
	put("options  ", 10);
	put_u(0, 2);			/* no option */
	put("flyrecord", 10);
	long at = ftell(out);
	uint64_t off = ((uint64_t)at + NCPU * 16 + PAGE - 1) / PAGE * PAGE;
	for (int i = 0; i < NCPU; i++) {
		cpus[i].off = cpus[i].npages ? off : 0;
		put_u(cpus[i].off, 8);
		put_u(cpus[i].npages * PAGE, 8);
		off += cpus[i].npages * PAGE;
	}
	at = ftell(out);
	for (; at % PAGE; at++)
		put_u(0, 1);
	for (int i = 0; i < NCPU; i++)
		put(cpus[i].pages, cpus[i].npages * PAGE);
	if (fclose(out))
		die(path);
}

static void write_expect(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die(path);
	fprintf(f, "events %zu\nlost %d\n", nev, LOST);
	for (size_t i = 0; i < NPATH; i++) {
		const struct fig *g = &figs[i];
		fprintf(f, "group %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", g->rd, g->wr, g->failed,
			g->contended, g->waits, g->wait_total, g->wait_max, g->holds, g->hold_total,
			g->hold_max, paths[i]);
	}
	for (int i = 0; i < NCPU; i++) {
		fprintf(f, "cpu %d %" PRIu64 " %zu", i, cpus[i].off, cpus[i].npages);
		for (size_t k = 0; k < cpus[i].npages; k++)
			fprintf(f, " %" PRIu32, cpus[i].nper[k]);
		fprintf(f, "\n");
	}
	if (fclose(f))
		die(path);
}

int main(int argc, char **argv)
{
	char p[4096];
	long ops = argc > 4 ? atol(argv[4]) : 1200;

	if (argc < 4 || ops <= 0) {
		fprintf(stderr, "usage: gen-tdat-path FIXTURES OUT.dat EXPECT [OPS]\n");
		return 2;
	}
	for (int i = 0; i < NEV; i++) {
		snprintf(p, sizeof(p), "%s/%s", argv[1], fmt_name[i]);
		ev_fmt[i] = slurp(p, &ev_fmt_len[i]);
		const char *id = strstr(ev_fmt[i], "\nID: ");
		if (!id || (ev_id[i] = atoi(id + 5)) <= 0) {
			fprintf(stderr, "%s: no ID\n", p);
			return 1;
		}
	}
	for (size_t i = 0; i < NTASK; i++)
		tasks[i].t = 5000000000ull + rnd(1000000);
	for (long i = 0; i < ops; i++)
		operation(&tasks[rnd(NTASK)]);
	qsort(evs, nev, sizeof(*evs), by_time);
	for (size_t i = 0; i < nev; i++)
		append(&evs[i]);
	for (int i = 0; i < NCPU; i++)
		commit(&cpus[i]);
	mark_missed();
	write_file(argv[2]);
	write_expect(argv[3]);
	return 0;
}
