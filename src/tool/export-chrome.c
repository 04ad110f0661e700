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

struct chrome {
	struct u64map waiters;		/* mm -> open waits */
	struct u64map tids;		/* tasks seen */
	int first;
	/* direct-mapped caches: memcg -> its name as JSON, tid -> pid */
	struct { uint64_t id; size_t len; char s[320]; } memcg[32];
	struct { uint32_t tid, pid; } pid[256];
};

static void sep(struct export *x)
{
	struct chrome *c = x->priv;

	if (c->first)
		ob_mem(x, "\n", 1);
	else
		ob_mem(x, ",\n", 2);
	c->first = 0;
}

static uint32_t pid_of(const struct export *x, uint32_t tid)
{
	const struct mml_task_info *t = x->meta ? meta_task(x->meta, tid) : NULL;

	return t && t->tgid ? t->tgid : tid;
}

static void counter(struct export *x, uint64_t mm, uint64_t ts, uint64_t n)
{
	char *p;

	sep(x);
	p = ob_reserve(x, 160);
	p = P_LIT(p, "{\"name\":\"waiters 0x");
	p = p_hex(p, mm);
	p = P_LIT(p, "\",\"ph\":\"C\",\"ts\":");
	p = p_us(p, ts);
	p = P_LIT(p, ",\"pid\":0,\"args\":{\"waiters\":");
	p = p_u64(p, n);
	p = P_LIT(p, "}}");
	ob_commit(x, p);
}

/* The memcg's name as a JSON string, cached (a trace has few memcgs). */
static void memcg_json(struct export *x, struct chrome *c, uint64_t memcg)
{
	__typeof__(&c->memcg[0]) m = &c->memcg[memcg * 0x9e3779b97f4a7c15ull >> 59];
	char buf[48];
	size_t at;

	if (memcg == m->id && m->len) {
		ob_mem(x, m->s, m->len);
		return;
	}
	/* render it once, through the emptied buffer, then keep a copy */
	ob_flush(x);
	ob_jstr(x, export_memcg(x, memcg, buf, sizeof(buf)));
	at = x->bn < sizeof(m->s) ? x->bn : 0;
	memcpy(m->s, x->buf, at);
	m->len = at;
	m->id = memcg;
}

static void slice(struct export *x, const char *what, const struct pair_interval *iv)
{
	struct chrome *c = x->priv;
	size_t wl = strlen(what);
	char *p;

	__typeof__(&c->pid[0]) pc = &c->pid[(iv->tid * 2654435761u) >> 24];

	if (iv->tid != pc->tid || !pc->pid) {	/* a task new to this cache slot */
		pc->tid = iv->tid;
		pc->pid = pid_of(x, iv->tid);
		if (!u64map_get(&c->tids, iv->tid, 1))
			x->oom = 1;
	}
	sep(x);
	p = ob_reserve(x, 256);
	p = P_LIT(p, "{\"name\":\"");
	p = p_mem(p, what, wl);
	if (iv->write)
		p = P_LIT(p, " write 0x");
	else
		p = P_LIT(p, " read 0x");
	p = p_hex(p, iv->mm);
	p = P_LIT(p, "\",\"cat\":\"");
	p = p_mem(p, what, wl);
	p = P_LIT(p, "\",\"ph\":\"X\",\"ts\":");
	p = p_us(p, iv->start_ts);
	p = P_LIT(p, ",\"dur\":");
	p = p_us(p, iv->end_ts - iv->start_ts);
	p = P_LIT(p, ",\"pid\":");
	p = p_u64(p, pc->pid);
	p = P_LIT(p, ",\"tid\":");
	p = p_u64(p, iv->tid);
	p = P_LIT(p, ",\"args\":{\"mm\":\"0x");
	p = p_hex(p, iv->mm);
	p = P_LIT(p, "\",\"memcg\":");
	ob_commit(x, p);
	memcg_json(x, c, iv->memcg);
	p = ob_reserve(x, 64);
	if (iv->kind == PAIR_WAIT) {
		if (iv->contended)
			p = P_LIT(p, ",\"contended\":true");
		else
			p = P_LIT(p, ",\"contended\":false");
	}
	if (iv->kind == PAIR_HOLD) {
		if (iv->trylock)
			p = P_LIT(p, ",\"trylock\":true");
		else
			p = P_LIT(p, ",\"trylock\":false");
		if (iv->downgraded)
			p = P_LIT(p, ",\"downgraded\":true");
		else
			p = P_LIT(p, ",\"downgraded\":false");
	}
	p = P_LIT(p, "}}");
	ob_commit(x, p);
	x->intervals++;
}

static int begin(struct export *x)
{
	struct chrome *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->first = 1;
	x->priv = c;
	OBL(x, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
	sep(x);
	ob_str(x, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"args\":{\"name\":"
	       "\"mmap_lock waiters per mm\"}}");
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	struct chrome *c = x->priv;
	uint64_t *w;

	if (iv->kind == PAIR_HOLD_BEGIN || iv->kind == PAIR_HOLD_DROPPED)
		return;
	if (iv->kind == PAIR_HOLD || (iv->kind == PAIR_FAILED && iv->trylock)) {
		slice(x, iv->kind == PAIR_HOLD ? "hold" : "failed", iv);	/* no wait */
		return;
	}
	if (!(w = u64map_get(&c->waiters, iv->mm, 1))) {
		x->oom = 1;
		return;
	}
	if (iv->kind == PAIR_WAIT_BEGIN) {
		if (!iv->replaced)
			++*w;
		counter(x, iv->mm, iv->start_ts, *w);
		return;
	}
	/* PAIR_WAIT, PAIR_FAILED, PAIR_WAIT_DROPPED: a wait ends */
	if (*w)
		--*w;
	counter(x, iv->mm, iv->end_ts > iv->start_ts ? iv->end_ts : iv->start_ts, *w);
	if (iv->kind != PAIR_WAIT_DROPPED)
		slice(x, iv->kind == PAIR_WAIT ? "wait" : "failed", iv);
}

static int end(struct export *x)
{
	struct chrome *c = x->priv;

	for (size_t i = 0; i < c->tids.cap; i++) {
		uint32_t tid = (uint32_t)c->tids.k[i];
		char name[64];
		if (!c->tids.used[i])
			continue;
		snprintf(name, sizeof(name), "%s[%u]", export_comm(x, tid), tid);
		sep(x);
		OBL(x, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":");
		ob_u64(x, pid_of(x, tid));
		OBL(x, ",\"tid\":");
		ob_u64(x, tid);
		OBL(x, ",\"args\":{\"name\":");
		ob_jstr(x, name);
		OBL(x, "}}");
	}
	OBL(x, "\n]}\n");
	ob_flush(x);
	u64map_free(&c->waiters);
	u64map_free(&c->tids);
	free(c);
	x->priv = NULL;
	return 0;
}

const struct export_ops export_chrome_ops = { "chrome", begin, hook, end };
