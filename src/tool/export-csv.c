/* SPDX-License-Identifier: MIT */
/*
 * export-csv.c: one row per interval, in the order they close: waits
 * (answered with success), failed attempts and holds, times in ns. Strings
 * quoted per RFC 4180 when they hold a comma, a quote or a line break.
 */
#include <stdlib.h>
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

/* Direct-mapped caches of the quoted names: tasks and memcgs interleave. */
#define CSV_TASKS 256
#define CSV_MEMCGS 32

struct csv {
	struct { uint32_t tid; uint32_t len; char s[40]; } comm[CSV_TASKS];
	struct { uint64_t id; uint32_t len; char s[320]; } memcg[CSV_MEMCGS];
};

/* s CSV-quoted into d (len bytes); its length, 0 when it does not fit. */
static size_t quoted(char *d, size_t len, const char *s)
{
	size_t k = 0;
	int q = strpbrk(s, ",\"\r\n") != NULL;

	if (q)
		d[k++] = '"';
	for (; *s; s++) {
		if (k + 3 > len)
			return 0;
		if (q && *s == '"')
			d[k++] = '"';
		d[k++] = *s;
	}
	if (q)
		d[k++] = '"';
	return k;
}

static int begin(struct export *x)
{
	if (!(x->priv = calloc(1, sizeof(struct csv))))
		return -1;
	ob_str(x, "kind,tid,comm,mm,memcg,mode,start_ns,end_ns,dur_ns,contended,trylock,downgraded,"
	       "non_owner\n");
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	struct csv *c = x->priv;
	char buf[48], *p;
	unsigned ti = (iv->tid * 2654435761u) >> 24, mi = (unsigned)(iv->memcg * 0x9e3779b97f4a7c15ull >> 59);
	__typeof__(&c->comm[0]) cc = &c->comm[ti];
	__typeof__(&c->memcg[0]) mc = &c->memcg[mi];

	if (iv->kind != PAIR_WAIT && iv->kind != PAIR_FAILED && iv->kind != PAIR_HOLD)
		return;
	if (iv->tid != cc->tid || !cc->len) {
		cc->tid = iv->tid;
		cc->len = (uint32_t)quoted(cc->s, sizeof(cc->s), export_comm(x, iv->tid));
	}
	if (iv->memcg != mc->id || !mc->len) {
		mc->id = iv->memcg;
		mc->len = (uint32_t)quoted(mc->s, sizeof(mc->s),
					   export_memcg(x, iv->memcg, buf, sizeof(buf)));
	}
	if (!cc->len || !mc->len) {	/* too long for the cache: the slow path */
		ob_str(x, iv->kind == PAIR_WAIT ? "wait," : iv->kind == PAIR_FAILED ? "failed," : "hold,");
		ob_u64(x, iv->tid);
		OBL(x, ",");
		cstr(x, export_comm(x, iv->tid));
		OBL(x, ",0x");
		ob_hex(x, iv->mm);
		OBL(x, ",");
		cstr(x, export_memcg(x, iv->memcg, buf, sizeof(buf)));
		p = ob_reserve(x, 128);
	} else {
		p = ob_reserve(x, 512);
		if (iv->kind == PAIR_WAIT)
			p = P_LIT(p, "wait,");
		else if (iv->kind == PAIR_FAILED)
			p = P_LIT(p, "failed,");
		else
			p = P_LIT(p, "hold,");
		p = p_u64(p, iv->tid);
		*p++ = ',';
		p = p_mem(p, cc->s, cc->len);
		p = P_LIT(p, ",0x");
		p = p_hex(p, iv->mm);
		*p++ = ',';
		p = p_mem(p, mc->s, mc->len);
	}
	if (iv->write)
		p = P_LIT(p, ",write,");
	else
		p = P_LIT(p, ",read,");
	p = p_u64(p, iv->start_ts);
	*p++ = ',';
	p = p_u64(p, iv->end_ts);
	*p++ = ',';
	p = p_u64(p, iv->end_ts - iv->start_ts);
	p[0] = ',', p[1] = (char)('0' + (iv->contended && iv->kind == PAIR_WAIT));
	p[2] = ',', p[3] = (char)('0' + iv->trylock);
	p[4] = ',', p[5] = (char)('0' + iv->downgraded);
	p[6] = ',', p[7] = (char)('0' + iv->non_owner);
	p[8] = '\n';
	ob_commit(x, p + 9);
	x->intervals++;
}

static int end(struct export *x)
{
	ob_flush(x);
	free(x->priv);
	x->priv = NULL;
	return 0;
}

const struct export_ops export_csv_ops = { "csv", begin, hook, end };
