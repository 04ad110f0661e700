/* SPDX-License-Identifier: MIT */
/*
 * watch-line.c: the one line of an incident (analysis/watch.h), text or
 * JSON, as `mmaplock watch` prints it on standard output and the exporter
 * (--incidents) logs it on standard error. docs/WATCH.md, "The line".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "watch-line.h"
#include "ob.h"
#include "stacks.h"

/* Frames that are the lock itself, not the path that took it. */
static int lock_frame(const char *fn)
{
	static const char *const pre[] = { "down_", "__down_", "rwsem_", "mmap_read_lock", "mmap_write_lock",
					   "__mmap_lock", "mmap_read_trylock", "lock_acquire", NULL };

	for (int i = 0; pre[i]; i++)
		if (!strncmp(fn, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

/* The top frames (function names, lock frames skipped) of stack id. Count. */
static int top_frames(const struct mml_meta *m, uint32_t id, char out[][128], int max)
{
	const struct mml_stack *s = id ? meta_stack(m, id) : NULL;
	int n = 0;

	for (int i = 0; s && i < s->n && n < max; i++) {
		stack_func(s->sym[i], out[n], sizeof(out[n]));
		if (!lock_frame(out[n]))
			n++;
	}
	return n;
}

static const char *memcg_of(const struct mml_meta *m, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(m, id, buf, len);
}

static void text_party(FILE *f, const struct watch_incident *inc, const struct watch_party *p)
{
	char b[64];

	fprintf(f, "%s[%u] (%s) %s", p->comm, p->tid, memcg_of(inc->meta, p->memcg, b, sizeof(b)),
	       p->write ? "write" : "read");
}

static void text_stack(FILE *f, const struct watch_incident *inc, const char *who, uint32_t id)
{
	char fr[3][128];
	int n = top_frames(inc->meta, id, fr, 3);

	fprintf(f, " | %s:", who);
	if (!n)
		fprintf(f, " (no stack)");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " < " : " ", fr[i]);
}

static void json_party(FILE *f, const struct watch_incident *inc, const struct watch_party *p, int holder)
{
	char b[64], fr[WATCH_FRAMES][128];
	int n = top_frames(inc->meta, p->stack, fr, WATCH_FRAMES);

	fprintf(f, "{\"tid\":%u,\"pid\":%u,\"comm\":", p->tid, p->tgid);
	ob_json_file(f, p->comm);
	fprintf(f, ",\"memcg\":");
	ob_json_file(f, memcg_of(inc->meta, p->memcg, b, sizeof(b)));
	fprintf(f, ",\"mode\":\"%s\",\"%s\":%.3f", p->write ? "write" : "read", holder ? "hold_ms" : "wait_ms",
	       p->ns / 1e6);
	if (holder)
		fprintf(f, ",\"blamed_ms\":%.3f,\"stack_proc\":%s", p->blamed_ns / 1e6,
			p->stack_proc ? "true" : "false");
	fprintf(f, ",\"stack\":[");
	for (int i = 0; i < n; i++) {
		fprintf(f, "%s", i ? "," : "");
		ob_json_file(f, fr[i]);
	}
	fprintf(f, "]}");
}

void watch_line(FILE *f, const struct watch_incident *inc, int json)
{
	time_t sec = (time_t)(inc->realtime_ns / 1000000000ull);
	unsigned ms = (unsigned)(inc->realtime_ns / 1000000ull % 1000);
	struct tm tm;
	char when[64];
	int has_waiter = !inc->is_hold || inc->waiter.tid;

	if (json) {
		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(f, "{\"time\":\"%s.%03uZ\",\"kind\":\"%s\",\"ms\":%.3f,\"waiter\":", when, ms,
		       inc->is_hold ? "hold" : "wait",
		       (inc->is_hold ? inc->holders[0].ns : inc->waiter.ns) / 1e6);
		if (has_waiter)
			json_party(f, inc, &inc->waiter, 0);
		else
			fprintf(f, "null");
		fprintf(f, ",\"holders\":[");
		for (int i = 0; i < inc->nholders; i++) {
			fprintf(f, "%s", i ? "," : "");
			json_party(f, inc, &inc->holders[i], 1);
		}
		fprintf(f, "],\"crossings\":%u,\"suspect\":%s,\"lost\":%llu,\"events\":%llu,\"file\":",
		       inc->crossings, inc->suspect ? "true" : "false", (unsigned long long)inc->lost,
		       (unsigned long long)inc->events);
		ob_json_file(f, inc->file);
		fprintf(f, ",\"backend\":\"%s\"}\n", inc->backend ? inc->backend : "tracefs");
	} else {
		localtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		fprintf(f, "%s.%03u %s%s %.1f ms: ", when, ms, inc->suspect ? "SUSPECT " : "",
		       inc->is_hold ? "hold" : "wait",
		       (inc->is_hold ? inc->holders[0].ns : inc->waiter.ns) / 1e6);
		if (has_waiter)
			text_party(f, inc, &inc->waiter);
		else
			fprintf(f, "no waiter");
		for (int i = 0; i < inc->nholders; i++) {
			fputs(i ? ", " : " <- ", f);
			text_party(f, inc, &inc->holders[i]);
			fprintf(f, " hold %.1f ms", inc->holders[i].ns / 1e6);
		}
		if (!inc->nholders)
			fprintf(f, " <- no holder recorded");
		if (has_waiter)
			text_stack(f, inc, "waiter", inc->waiter.stack);
		if (inc->nholders)
			text_stack(f, inc, inc->holders[0].stack_proc ? "holder (/proc)" : "holder",
				   inc->holders[0].stack);
		if (inc->lost)
			fprintf(f, " | %llu events lost%s", (unsigned long long)inc->lost,
			       inc->suspect ? " where they could make this crossing" : " in the window");
		fprintf(f, " | %s\n", inc->file);
	}
	fflush(f);
}

