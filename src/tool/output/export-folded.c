/* SPDX-License-Identifier: MIT */
/*
 * export-folded.c: Brendan Gregg's folded stack format, one line per stack,
 * frames joined by ';', a space and the weight:
 *
 *     comm;memcg;mode;wait 123456
 *     comm;memcg;mode;wait;entry_SYSCALL_64;...;lock_mm_and_find_vma 4000
 *
 * weighted by ns: the frames are the task's comm, the memcg of the mm, the
 * mode (read or write) and "wait" (successful and failed waits) or "hold",
 * then, when the interval has a kernel stack (record --stack; pair.h), its
 * frames root first (the reverse of the recorded leaf-first order), each the
 * function name alone (stack_func: no "+0x1a/0x80", no module), so call
 * sites of one function merge in a flame graph. --weight picks wait, hold or
 * both (default). Sums are kept per (tid, memcg, mode, kind, stack) while
 * streaming and merged by line at the end, lines sorted, so the output is
 * stable. ';' in names becomes ':' and line breaks spaces (they would split
 * frames or lines).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "export.h"
#include "stacks.h"

struct fent {
	uint64_t memcg, ns;
	uint32_t tid, stack;
	uint8_t write, hold, used;
};

/* tws: tid << 2 | write << 1 | hold */
struct fkey {
	uint64_t memcg, tws;
	uint32_t stack;
};
#define FKEY(e) ((struct fkey){ (e)->memcg, (uint64_t)(e)->tid << 2 | (e)->write << 1 | (e)->hold, \
				(e)->stack })
#define FKEY_HASH(k) hash64_pair((k).memcg ^ (uint64_t)(k).stack << 20, (k).tws)
#define FKEY_EQ(a, b) ((a).memcg == (b).memcg && (a).tws == (b).tws && (a).stack == (b).stack)
#define FENT_USED(e) ((e)->used)
HASHMAP_DEFINE(folded, struct fent, struct fkey, FKEY_HASH, FKEY, FKEY_EQ, FENT_USED)

static int begin(struct export *x)
{
	struct folded *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	x->priv = f;
	return 0;
}

static void hook(void *ctx, const struct pair_interval *iv)
{
	struct export *x = ctx;
	struct folded *f = x->priv;
	struct fent *e;
	int h, isnew;

	if (iv->kind == PAIR_HOLD && (x->weight & EXPORT_W_HOLD))
		h = 1;
	else if ((iv->kind == PAIR_WAIT || (iv->kind == PAIR_FAILED && !iv->trylock)) &&
		 (x->weight & EXPORT_W_WAIT))
		h = 0;
	else
		return;
	e = folded_add(f, (struct fkey){ iv->memcg, (uint64_t)iv->tid << 2 | iv->write << 1 | h,
					 iv->stack }, &isnew);
	if (!e) {
		x->oom = 1;
		return;
	}
	if (isnew)
		*e = (struct fent){ .memcg = iv->memcg, .tid = iv->tid, .write = iv->write,
				    .hold = (uint8_t)h, .used = 1, .stack = iv->stack };
	e->ns += iv->end_ts - iv->start_ts;
	x->intervals++;
}

struct line {
	char *s;
	uint64_t ns;
};

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->s, ((const struct line *)b)->s);
}

/* Copy s into d, ';' -> ':', line breaks -> ' '. */
static void frame(char *d, size_t len, const char *s)
{
	size_t k = 0;

	for (; *s && k + 1 < len; s++)
		d[k++] = *s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s;
	d[k] = 0;
}

static int end(struct export *x)
{
	struct folded *f = x->priv;
	struct line *l = calloc(f->n ? f->n : 1, sizeof(*l));
	size_t n = 0;
	int rc = 0;

	if (!l)
		rc = -1;
	for (struct fent *e = l ? folded_next(f, NULL) : NULL; e; e = folded_next(f, e)) {
		char c[64], m[300], buf[48];
		size_t len;
		const struct mml_stack *st = e->stack ? meta_stack(x->meta, e->stack) : NULL;
		frame(c, sizeof(c), export_comm(x, e->tid));
		frame(m, sizeof(m), export_memcg(x, e->memcg, buf, sizeof(buf)));
		len = strlen(c) + strlen(m) + 16;
		for (unsigned k = 0; st && k < st->n; k++)
			len += strlen(st->sym[k]) + 2;	/* ";" and the name, or ";?" */
		if (!(l[n].s = malloc(len))) {
			rc = -1;
			break;
		}
		int at = snprintf(l[n].s, len, "%s;%s;%s;%s", c, m, e->write ? "write" : "read",
				  e->hold ? "hold" : "wait");
		for (unsigned k = st ? st->n : 0; k-- > 0;) {	/* root first */
			char fn[256], fr[256];
			frame(fr, sizeof(fr), stack_func(st->sym[k], fn, sizeof(fn)));
			at += snprintf(l[n].s + at, len - (size_t)at, ";%s", fr[0] ? fr : "?");
		}
		l[n++].ns = e->ns;
	}
	if (!rc) {
		qsort(l, n, sizeof(*l), cmp_line);
		for (size_t i = 0; i < n; i++) {
			uint64_t ns = l[i].ns;
			while (i + 1 < n && !strcmp(l[i].s, l[i + 1].s))
				ns += l[++i].ns;	/* tasks of one comm merge */
			if (ns) {
				ob_str(&x->ob, l[i].s);
				OBL(&x->ob, " ");
				ob_u64(&x->ob, ns);
				OBL(&x->ob, "\n");
			}
		}
		ob_flush(&x->ob);
	}
	for (size_t i = 0; l && i < n; i++)
		free(l[i].s);
	free(l);
	folded_fini(f);
	free(f);
	x->priv = NULL;
	return rc;
}

const struct export_ops export_folded_ops = { "folded", begin, hook, end };
