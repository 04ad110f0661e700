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
#include <inttypes.h>
#include <stdlib.h>
#include "export.h"
#include "report.h"

struct chrome {
	struct u64map waiters;		/* mm -> open waits */
	struct u64map tids;		/* tasks seen */
	int first;
};

static void sep(struct export *x)
{
	struct chrome *c = x->priv;

	fputs(c->first ? "\n" : ",\n", x->out);
	c->first = 0;
}

#define US(ns) (ns) / 1000, (ns) % 1000

static uint32_t pid_of(const struct export *x, uint32_t tid)
{
	const struct mml_task_info *t = x->meta ? meta_task(x->meta, tid) : NULL;

	return t && t->tgid ? t->tgid : tid;
}

static void counter(struct export *x, uint64_t mm, uint64_t ts, uint64_t n)
{
	sep(x);
	fprintf(x->out, "{\"name\":\"waiters 0x%" PRIx64 "\",\"ph\":\"C\",\"ts\":%" PRIu64 ".%03"
		PRIu64 ",\"pid\":0,\"args\":{\"waiters\":%" PRIu64 "}}", mm, US(ts), n);
}

static void slice(struct export *x, const char *what, const struct pair_interval *iv)
{
	char buf[48];

	sep(x);
	fprintf(x->out, "{\"name\":\"%s %s 0x%" PRIx64 "\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%"
		PRIu64 ".%03" PRIu64 ",\"dur\":%" PRIu64 ".%03" PRIu64 ",\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"mm\":\"0x%" PRIx64 "\",\"memcg\":", what, iv->write ? "write" : "read",
		iv->mm, what, US(iv->start_ts), US(iv->end_ts - iv->start_ts),
		pid_of(x, iv->tid), iv->tid, iv->mm);
	out_jstr(x->out, export_memcg(x, iv->memcg, buf, sizeof(buf)));
	if (iv->kind == PAIR_WAIT)
		fprintf(x->out, ",\"contended\":%s", iv->contended ? "true" : "false");
	if (iv->kind == PAIR_HOLD)
		fprintf(x->out, ",\"trylock\":%s,\"downgraded\":%s", iv->trylock ? "true" : "false",
			iv->downgraded ? "true" : "false");
	fputs("}}", x->out);
	x->intervals++;
}

static int begin(struct export *x)
{
	struct chrome *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->first = 1;
	x->priv = c;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", x->out);
	sep(x);
	fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"args\":{\"name\":"
	      "\"mmap_lock waiters per mm\"}}", x->out);
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
		fprintf(x->out, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
			"\"args\":{\"name\":", pid_of(x, tid), tid);
		out_jstr(x->out, name);
		fputs("}}", x->out);
	}
	fputs("\n]}\n", x->out);
	u64map_free(&c->waiters);
	u64map_free(&c->tids);
	free(c);
	x->priv = NULL;
	return 0;
}

const struct export_ops export_chrome_ops = { "chrome", begin, hook, end };
