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
	uint64_t memcg;			/* the memcg of the last slice ... */
	char mname[320];		/* ... its name as JSON (a trace has few memcgs) */
	size_t mlen;
	uint32_t tid, pid;		/* the task of the last slice, its pid */
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
	sep(x);
	OBL(x, "{\"name\":\"waiters 0x");
	ob_hex(x, mm);
	OBL(x, "\",\"ph\":\"C\",\"ts\":");
	ob_us(x, ts);
	OBL(x, ",\"pid\":0,\"args\":{\"waiters\":");
	ob_u64(x, n);
	OBL(x, "}}");
}

static void slice(struct export *x, const char *what, const struct pair_interval *iv)
{
	struct chrome *c = x->priv;
	char buf[48];

	sep(x);
	OBL(x, "{\"name\":\"");
	ob_str(x, what);
	if (iv->write)
		OBL(x, " write 0x");
	else
		OBL(x, " read 0x");
	ob_hex(x, iv->mm);
	OBL(x, "\",\"cat\":\"");
	ob_str(x, what);
	OBL(x, "\",\"ph\":\"X\",\"ts\":");
	ob_us(x, iv->start_ts);
	OBL(x, ",\"dur\":");
	ob_us(x, iv->end_ts - iv->start_ts);
	if (iv->tid != c->tid || !c->pid) {
		c->tid = iv->tid;
		c->pid = pid_of(x, iv->tid);
	}
	OBL(x, ",\"pid\":");
	ob_u64(x, c->pid);
	OBL(x, ",\"tid\":");
	ob_u64(x, iv->tid);
	OBL(x, ",\"args\":{\"mm\":\"0x");
	ob_hex(x, iv->mm);
	OBL(x, "\",\"memcg\":");
	if (iv->memcg != c->memcg || !c->mlen) {
		/* render the name once, through the buffer, then keep a copy */
		size_t at;
		ob_flush(x);
		ob_jstr(x, export_memcg(x, iv->memcg, buf, sizeof(buf)));
		at = x->bn < sizeof(c->mname) ? x->bn : 0;
		memcpy(c->mname, x->buf, at);
		c->mlen = at;
		c->memcg = iv->memcg;
		if (!at)
			ob_flush(x);	/* too long to keep: written, not cached */
	} else {
		ob_mem(x, c->mname, c->mlen);
	}
	if (iv->kind == PAIR_WAIT)
		ob_str(x, iv->contended ? ",\"contended\":true" : ",\"contended\":false");
	if (iv->kind == PAIR_HOLD) {
		ob_str(x, iv->trylock ? ",\"trylock\":true" : ",\"trylock\":false");
		ob_str(x, iv->downgraded ? ",\"downgraded\":true" : ",\"downgraded\":false");
	}
	OBL(x, "}}");
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
	uint64_t *w = u64map_get(&c->waiters, iv->mm, 1);

	if (!w || !u64map_get(&c->tids, iv->tid, 1)) {
		x->oom = 1;
		return;
	}
	switch (iv->kind) {
	case PAIR_WAIT_BEGIN:
		if (!iv->replaced)
			++*w;
		counter(x, iv->mm, iv->start_ts, *w);
		break;
	case PAIR_WAIT:
	case PAIR_FAILED:
	case PAIR_WAIT_DROPPED:
		if (iv->kind == PAIR_FAILED && iv->trylock) {
			slice(x, "failed", iv);		/* a failed trylock: no wait */
			break;
		}
		if (*w)
			--*w;
		counter(x, iv->mm, iv->end_ts > iv->start_ts ? iv->end_ts : iv->start_ts, *w);
		if (iv->kind != PAIR_WAIT_DROPPED)
			slice(x, iv->kind == PAIR_WAIT ? "wait" : "failed", iv);
		break;
	case PAIR_HOLD:
		slice(x, "hold", iv);
		break;
	default:
		break;
	}
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
