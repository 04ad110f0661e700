/* SPDX-License-Identifier: MIT */
/*
 * export-csv.c: one row per interval, in the order they close: waits
 * (answered with success), failed attempts and holds, times in ns. Strings
 * quoted per RFC 4180 when they hold a comma, a quote or a line break.
 */
#include <string.h>
#include "export.h"

static void cstr(struct export *x, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		ob_str(x, s);
		return;
	}
	ob_mem(x, "\"", 1);
	for (; *s; s++) {
		if (*s == '"')
			ob_mem(x, "\"", 1);
		ob_mem(x, s, 1);
	}
	ob_mem(x, "\"", 1);
}

static int begin(struct export *x)
{
	ob_str(x, "kind,tid,comm,mm,memcg,mode,start_ns,end_ns,dur_ns,contended,trylock,downgraded,"
	       "non_owner\n");
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	const char *k;
	char buf[48], fl[8];

	switch (iv->kind) {
	case PAIR_WAIT: k = "wait,"; break;
	case PAIR_FAILED: k = "failed,"; break;
	case PAIR_HOLD: k = "hold,"; break;
	default: return;
	}
	ob_str(x, k);
	ob_u64(x, iv->tid);
	ob_mem(x, ",", 1);
	cstr(x, export_comm(x, iv->tid));
	OBL(x, ",0x");
	ob_hex(x, iv->mm);
	ob_mem(x, ",", 1);
	cstr(x, export_memcg(x, iv->memcg, buf, sizeof(buf)));
	ob_str(x, iv->write ? ",write," : ",read,");
	ob_u64(x, iv->start_ts);
	ob_mem(x, ",", 1);
	ob_u64(x, iv->end_ts);
	ob_mem(x, ",", 1);
	ob_u64(x, iv->end_ts - iv->start_ts);
	fl[0] = ',', fl[1] = (char)('0' + (iv->contended && iv->kind == PAIR_WAIT));
	fl[2] = ',', fl[3] = (char)('0' + iv->trylock);
	fl[4] = ',', fl[5] = (char)('0' + iv->downgraded);
	fl[6] = ',', fl[7] = (char)('0' + iv->non_owner);
	ob_mem(x, fl, 8);
	ob_mem(x, "\n", 1);
	x->intervals++;
}

static int end(struct export *x)
{
	ob_flush(x);
	return 0;
}

const struct export_ops export_csv_ops = { "csv", begin, hook, end };
