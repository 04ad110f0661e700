/* SPDX-License-Identifier: MIT */
/*
 * export-csv.c: one row per interval, in the order they close: waits
 * (answered with success), failed attempts and holds, times in ns. Strings
 * quoted per RFC 4180 when they hold a comma, a quote or a line break.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"

/*
 * Speed: the parts that repeat are kept ready-made per task ("TID,COMM,0x"),
 * per mm (its hex) and per memcg (",NAME"), in direct-mapped caches (tasks
 * and memcgs interleave), and copied as fixed-size blocks (P_FIX); only the
 * three times are formatted per row.
 */
#define CSV_TASKS 256
#define CSV_MEMCGS 32
#define CSV_MEMCG 320		/* longer quoted memcg names: the slow path */
/*
 * The caches decide which comm a row shows when a task's comm changes
 * within a trace (the cached one, or the current one on the slow path):
 * their slots, hash and the lengths that fit are kept as they were, so
 * that the output stays the same byte for byte.
 */

struct csv {
	struct { uint32_t tid; uint32_t len; char s[64]; } task[CSV_TASKS];
	struct { uint64_t id; uint32_t len; char s[1 + CSV_MEMCG]; } memcg[CSV_MEMCGS];
	struct hexcache mm;
};

/* s as a CSV field into d (len bytes); its length, 0 when it does not fit. */
static size_t quoted(char *d, size_t len, const char *s)
{
	struct ob o;

	ob_init_fixed(&o, d, len - 2);	/* as before: names that just fit stay uncached */
	ob_csv_field(&o, s);
	return o.err ? 0 : o.n;
}

static int begin(struct export *x)
{
	if (!(x->priv = calloc(1, sizeof(struct csv))))
		return -1;
	ob_unbuffered(&x->ob);
	ob_str(&x->ob, "kind,tid,comm,mm,memcg,mode,start_ns,end_ns,dur_ns,contended,trylock,downgraded,"
	       "non_owner\n");
	return 0;
}

static const struct { char s[8]; unsigned n; } kinds[3] = {
	{ "wait,", 5 }, { "failed,", 7 }, { "hold,", 5 },
}, modes[2] = { { ",read,", 6 }, { ",write,", 7 } };

/* The task's "TID,COMM,0x", cached; NULL when too long (never: comm has 15 bytes). */
static const char *task_run(struct export *x, struct csv *c, uint32_t tid, uint32_t *len)
{
	__typeof__(&c->task[0]) e = &c->task[hash_bits(tid, 8)];

	if (e->tid != tid || !e->len) {
		char *p = p_u64(e->s, tid);	/* at most 10 */
		size_t n;
		*p++ = ',';
		n = quoted(p, 40, export_comm(x, tid));	/* 15 bytes quoted: 32 */
		e->tid = tid;
		e->len = 0;
		if (!n)
			return NULL;
		p = P_LIT(p + n, ",0x");
		e->len = (uint32_t)(p - e->s);
	}
	*len = e->len;
	return e->s;
}

/* The memcg's ",NAME", cached; NULL when too long for the cache. */
static const char *memcg_run(struct export *x, struct csv *c, uint64_t id, uint32_t *len)
{
	__typeof__(&c->memcg[0]) e = &c->memcg[hash_bits(id, 5)];

	if (e->id != id || !e->len) {
		char buf[48];
		size_t n = quoted(e->s + 1, sizeof(e->s) - 1, export_memcg(x, id, buf, sizeof(buf)));
		e->id = id;
		e->s[0] = ',';
		e->len = n ? (uint32_t)n + 1 : 0;
		if (!n)
			return NULL;
	}
	*len = e->len;
	return e->s;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	struct csv *c = x->priv;
	uint32_t tl = 0, ml = 0, hl;
	const char *t, *m, *h;
	int k;
	char buf[48], *p;

	if (iv->kind == PAIR_WAIT)
		k = 0;
	else if (iv->kind == PAIR_FAILED)
		k = 1;
	else if (iv->kind == PAIR_HOLD)
		k = 2;
	else
		return;
	t = task_run(x, c, iv->tid, &tl);
	m = memcg_run(x, c, iv->memcg, &ml);
	h = hex_cached(&c->mm, iv->mm, &hl);
	if (t && m) {
		p = ob_reserve(&x->ob, 256 + CSV_MEMCG);
		p = P_FIX(p, kinds[k].s, kinds[k].n, 8);
		p = P_FIX(p, t, tl, 64);
		p = P_FIX(p, h, hl, 16);
		if (ml <= 64)
			p = P_FIX(p, m, ml, 64);
		else
			p = p_mem(p, m, ml);
	} else {	/* names too long for the caches: the slow path */
		ob_mem(&x->ob, kinds[k].s, kinds[k].n);
		ob_u64(&x->ob, iv->tid);
		OBL(&x->ob, ",");
		ob_csv_field(&x->ob, export_comm(x, iv->tid));
		OBL(&x->ob, ",0x");
		ob_hex(&x->ob, iv->mm);
		OBL(&x->ob, ",");
		ob_csv_field(&x->ob, export_memcg(x, iv->memcg, buf, sizeof(buf)));
		p = ob_reserve(&x->ob, 128);
	}
	p = P_FIX(p, modes[!!iv->write].s, modes[!!iv->write].n, 8);
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
	ob_commit(&x->ob, p + 9);
	x->intervals++;
}

static int end(struct export *x)
{
	ob_flush(&x->ob);
	free(x->priv);
	x->priv = NULL;
	return 0;
}

const struct export_ops export_csv_ops = { "csv", begin, hook, end };
