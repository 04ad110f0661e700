/* SPDX-License-Identifier: MIT */
/*
 * export-chrome.c: Chrome trace-event JSON (the "JSON Object Format" that
 * Perfetto UI and chrome://tracing load). Each task is a track (pid = its
 * tgid when known, tid = its tid) of complete ("X") slices named
 * "wait write 0x<mm>", "hold read 0x<mm>", "failed write 0x<mm>"; the
 * process with pid 0 carries one counter ("C") per mm, "waiters 0x<mm>",
 * updated at every wait's start and end. Times in us with ns decimals.
 * Slices are written as they close (streaming); the track names ("M"
 * metadata) at the end, when every task is known.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"

/*
 * Speed: a large trace gives about 1.3 records per event, 150 bytes each.
 * Every part that repeats is kept ready-made and copied as a fixed-size
 * block (an inline copy of 16, 32 or 64 bytes; ob_reserve() left the room;
 * only the part's own length counts): the per-mm hex, the per-task
 * "pid/tid" run, the memcg's JSON name, and the literal runs per slice
 * kind. Only times, durations and counts are formatted per record. Each
 * interval looks its mm up once (struct mms: its waiters and its hex).
 */
#define MEMCG_JSON 320		/* longer memcg names: written each time */

/* An mm: its open waits and its hex digits (len 0: a free slot). */
struct mmrec {
	uint64_t mm, waiters;
	uint32_t len;
	char hex[16];
};

/* Every mm seen (a trace has a few hundred at most). */
#define MMREC_KEY(e) ((e)->mm)
#define MMREC_USED(e) ((e)->len != 0)
HASHMAP_DEFINE(mms, struct mmrec, uint64_t, hash64, MMREC_KEY, HASHMAP_NUM_EQ, MMREC_USED)

struct chrome {
	struct mms mms;
	struct u64map tids;		/* tasks seen */
	int first;
	/* direct-mapped caches, each entry checked against its key */
	struct { uint64_t id; size_t len; char s[MEMCG_JSON]; } memcg[32];
	/* tid -> ,"pid":P,"tid":T,"args":{"mm":"0x */
	struct { uint32_t tid, len; char s[64]; } task[256];
};

static void sep(struct export *x)
{
	struct chrome *c = x->priv;

	if (c->first)
		ob_mem(&x->ob, "\n", 1);
	else
		ob_mem(&x->ob, ",\n", 2);
	c->first = 0;
}

static uint32_t pid_of(const struct export *x, uint32_t tid)
{
	const struct mml_task_info *t = x->meta ? meta_task(x->meta, tid) : NULL;

	return t && t->tgid ? t->tgid : tid;
}

/* Literal runs, each padded to its field's size, and their lengths. */
#define RUN(lit) { lit, sizeof(lit) - 1 }
static const struct { char s[32]; unsigned n; } name_pre[6] = {	/* [what * 2 + write] */
	RUN(",\n{\"name\":\"wait read 0x"), RUN(",\n{\"name\":\"wait write 0x"),
	RUN(",\n{\"name\":\"hold read 0x"), RUN(",\n{\"name\":\"hold write 0x"),
	RUN(",\n{\"name\":\"failed read 0x"), RUN(",\n{\"name\":\"failed write 0x"),
};
static const struct { char s[48]; unsigned n; } cat_ts[3] = {	/* [what] */
	RUN("\",\"cat\":\"wait\",\"ph\":\"X\",\"ts\":"), RUN("\",\"cat\":\"hold\",\"ph\":\"X\",\"ts\":"),
	RUN("\",\"cat\":\"failed\",\"ph\":\"X\",\"ts\":"),
}, tail[7] = {	/* wait: [contended]; hold: [2 + 2 * trylock + downgraded]; failed: [6] */
	RUN(",\"contended\":false}}"), RUN(",\"contended\":true}}"),
	RUN(",\"trylock\":false,\"downgraded\":false}}"), RUN(",\"trylock\":false,\"downgraded\":true}}"),
	RUN(",\"trylock\":true,\"downgraded\":false}}"), RUN(",\"trylock\":true,\"downgraded\":true}}"),
	RUN("}}"),
};
enum { W_WAIT, W_HOLD, W_FAILED };

/* mm's record, created (0 waiters) on first sight; NULL: out of memory. */
static struct mmrec *mm_get(struct mms *m, uint64_t mm)
{
	int isnew;
	struct mmrec *r = mms_add(m, mm, &isnew);

	if (r && isnew) {
		r->mm = mm;
		r->len = (uint32_t)(p_hex(r->hex, mm) - r->hex);
	}
	return r;
}

static void counter(struct export *x, const struct mmrec *r, uint64_t ts)
{
	char *p = ob_reserve(&x->ob, 160);

	p = P_LIT(p, ",\n{\"name\":\"waiters 0x");
	p = P_FIX(p, r->hex, r->len, 16);
	p = P_LIT(p, "\",\"ph\":\"C\",\"ts\":");
	p = p_us(p, ts);
	p = P_LIT(p, ",\"pid\":0,\"args\":{\"waiters\":");
	if (r->waiters < 10)		/* nearly always: skip the call */
		*p++ = (char)('0' + r->waiters);
	else
		p = p_u64(p, r->waiters);
	p = P_LIT(p, "}}");
	ob_commit(&x->ob, p);
}

/* The memcg's name as a JSON string, cached (a trace has few memcgs). */
static void memcg_json(struct export *x, struct chrome *c, uint64_t memcg)
{
	__typeof__(&c->memcg[0]) m = &c->memcg[hash_bits(memcg, 5)];
	char buf[48];
	const char *name;
	struct ob t;

	if (memcg == m->id && m->len) {
		ob_mem(&x->ob, m->s, m->len);
		return;
	}
	/* render it once into the cache (names of MEMCG_JSON bytes or more: each time) */
	name = export_memcg(x, memcg, buf, sizeof(buf));
	ob_init_fixed(&t, m->s, sizeof(m->s) - 1);
	ob_json_str(&t, name);
	m->len = t.err ? 0 : t.n;
	m->id = memcg;
	if (m->len)
		ob_mem(&x->ob, m->s, m->len);
	else
		ob_json_str(&x->ob, name);
}

/* The task's ,"pid":P,"tid":T,"args":{"mm":"0x run; records new tasks. */
static const char *task_run(struct export *x, struct chrome *c, uint32_t tid, uint32_t *len)
{
	__typeof__(&c->task[0]) e = &c->task[hash_bits(tid, 8)];

	if (e->tid != tid || !e->len) {		/* a task new to this cache slot */
		char *p = e->s;
		uint32_t pid = pid_of(x, tid);
		e->tid = tid;
		p = P_LIT(p, ",\"pid\":");
		p = p_u64(p, pid);
		p = P_LIT(p, ",\"tid\":");
		p = p_u64(p, tid);
		p = P_LIT(p, ",\"args\":{\"mm\":\"0x");
		*len = (uint32_t)(p - e->s);	/* at most 51 */
		e->len = pid ? *len : 0;	/* pid 0 (tid 0): looked up each time */
		if (!u64map_get(&c->tids, tid, 1))
			x->oom = 1;
		return e->s;
	}
	*len = e->len;
	return e->s;
}

static void slice(struct export *x, int what, const struct pair_interval *iv, const struct mmrec *r)
{
	struct chrome *c = x->priv;
	uint32_t tl;
	const char *t = task_run(x, c, iv->tid, &tl);
	__typeof__(&c->memcg[0]) m = &c->memcg[hash_bits(iv->memcg, 5)];
	int f = what == W_WAIT ? iv->contended != 0 :
		what == W_HOLD ? 2 + 2 * (iv->trylock != 0) + (iv->downgraded != 0) : 6;
	char *p = ob_reserve(&x->ob, 512);

	p = P_FIX(p, name_pre[what * 2 + !!iv->write].s, name_pre[what * 2 + !!iv->write].n, 32);
	p = P_FIX(p, r->hex, r->len, 16);
	p = P_FIX(p, cat_ts[what].s, cat_ts[what].n, 48);
	p = p_us(p, iv->start_ts);
	p = P_LIT(p, ",\"dur\":");
	p = p_us(p, iv->end_ts - iv->start_ts);
	p = P_FIX(p, t, tl, 64);
	p = P_FIX(p, r->hex, r->len, 16);
	p = P_LIT(p, "\",\"memcg\":");
	if (iv->memcg == m->id && m->len && m->len <= 64) {
		p = P_FIX(p, m->s, m->len, 64);
	} else {
		ob_commit(&x->ob, p);
		memcg_json(x, c, iv->memcg);
		p = ob_reserve(&x->ob, 64);
	}
	p = P_FIX(p, tail[f].s, tail[f].n, 48);
	ob_commit(&x->ob, p);
	x->intervals++;
}

static int begin(struct export *x)
{
	struct chrome *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->first = 1;
	x->priv = c;
	ob_unbuffered(&x->ob);
	OBL(&x->ob, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	sep(x);
	ob_str(&x->ob, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"args\":{\"name\":"
	       "\"mmap_lock waiters per mm\"}}");
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	struct chrome *c = x->priv;
	struct mmrec *r;

	if (iv->kind == PAIR_HOLD_BEGIN || iv->kind == PAIR_HOLD_DROPPED)
		return;
	if (!(r = mm_get(&c->mms, iv->mm))) {
		x->oom = 1;
		return;
	}
	if (iv->kind == PAIR_HOLD || (iv->kind == PAIR_FAILED && iv->trylock)) {
		slice(x, iv->kind == PAIR_HOLD ? W_HOLD : W_FAILED, iv, r);	/* no wait */
		return;
	}
	if (iv->kind == PAIR_WAIT_BEGIN) {
		if (!iv->replaced)
			r->waiters++;
		counter(x, r, iv->start_ts);
		return;
	}
	/* PAIR_WAIT, PAIR_FAILED, PAIR_WAIT_DROPPED: a wait ends */
	if (r->waiters)
		r->waiters--;
	counter(x, r, iv->end_ts > iv->start_ts ? iv->end_ts : iv->start_ts);
	if (iv->kind != PAIR_WAIT_DROPPED)
		slice(x, iv->kind == PAIR_WAIT ? W_WAIT : W_FAILED, iv, r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int end(struct export *x)
{
	struct chrome *c = x->priv;

	uint64_t *tids = calloc(c->tids.n + 1, sizeof(*tids));
	size_t n = 0;

	if (!tids)
		return -1;
	/* by tid: the order of a table would change with its hash */
	for (struct u64map_ent *e = NULL; (e = u64map_tab_next(&c->tids, e));)
		tids[n++] = e->key;
	qsort(tids, n, sizeof(*tids), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		uint32_t tid = (uint32_t)tids[i];
		char name[64];
		snprintf(name, sizeof(name), "%s[%u]", export_comm(x, tid), tid);
		sep(x);
		OBL(&x->ob, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":");
		ob_u64(&x->ob, pid_of(x, tid));
		OBL(&x->ob, ",\"tid\":");
		ob_u64(&x->ob, tid);
		OBL(&x->ob, ",\"args\":{\"name\":");
		ob_json_str(&x->ob, name);
		OBL(&x->ob, "}}");
	}
	free(tids);
	OBL(&x->ob, "\n]}\n");
	ob_flush(&x->ob);
	mms_fini(&c->mms);
	u64map_free(&c->tids);
	free(c);
	x->priv = NULL;
	return 0;
}

const struct export_ops export_chrome_ops = { "chrome", begin, hook, end };
