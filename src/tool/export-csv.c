/* SPDX-License-Identifier: MIT */
/*
 * export-csv.c: one row per interval, in the order they close: waits
 * (answered with success), failed attempts and holds, times in ns. Strings
 * quoted per RFC 4180 when they hold a comma, a quote or a line break.
 */
#include <inttypes.h>
#include <string.h>
#include "export.h"

static void cstr(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int begin(struct export *x)
{
	fputs("kind,tid,comm,mm,memcg,mode,start_ns,end_ns,dur_ns,contended,trylock,downgraded,"
	      "non_owner\n", x->out);
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	const char *k;
	char buf[48];

	switch (iv->kind) {
	case PAIR_WAIT: k = "wait"; break;
	case PAIR_FAILED: k = "failed"; break;
	case PAIR_HOLD: k = "hold"; break;
	default: return;
	}
	fprintf(x->out, "%s,%u,", k, iv->tid);
	cstr(x->out, export_comm(x, iv->tid));
	fprintf(x->out, ",0x%" PRIx64 ",", iv->mm);
	cstr(x->out, export_memcg(x, iv->memcg, buf, sizeof(buf)));
	fprintf(x->out, ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,%d,%d,%d\n",
		iv->write ? "write" : "read", iv->start_ts, iv->end_ts, iv->end_ts - iv->start_ts,
		iv->contended && iv->kind == PAIR_WAIT, iv->trylock, iv->downgraded, iv->non_owner);
	x->intervals++;
}

static int end(struct export *x)
{
	return 0;
}

const struct export_ops export_csv_ops = { "csv", begin, hook, end };
