/* SPDX-License-Identifier: MIT */
/*
 * report-html.c: the two passes of `report --html` (report-html.h). The
 * second reading pairs the input again with a fresh meta and hands each
 * closed interval to the grid of its group (when it is one of the first
 * HTML_GROUPS of the report's order) and to the windows of the longest
 * waits. Group keys come from agg_key() with the second meta: ids are
 * given by the file or interned in the same order, so they match.
 */
#include <stdlib.h>
#include <string.h>
#include "report-html.h"
#include "source.h"

#define BATCH 4096

int report_html_subscribe(struct report_html *h, struct pair *p, long worst)
{
	memset(h, 0, sizeof(*h));
	h->on = 1;
	if (timeagg_init(&h->ta, 1) || worst_init(&h->worst, worst > 0 ? (size_t)worst : 10))
		return -1;
	if (pair_subscribe(p, timeagg_hook, &h->ta, TIMEAGG_KINDS) ||
	    pair_subscribe(p, worst_hook, &h->worst, WORST_KINDS))
		return -1;
	return 0;
}

void report_html_free(struct report_html *h)
{
	if (!h->on)
		return;
	timeagg_fini(&h->ta);
	timeagg_fini(&h->gta);
	worst_fini(&h->worst);
}

struct pass2 {
	struct report_html *h;
	struct agg key;			/* by and meta only: agg_key() */
	const struct report *r;
	uint64_t last_key;
	long last;			/* group index of last_key; -1: not shown */
};

static int pass2_hook(void *ctx, const struct pair_interval *iv)
{
	struct pass2 *x = ctx;
	uint64_t k = agg_key(&x->key, iv->tid, iv->mm, iv->memcg);

	if (k != x->last_key || x->last == -2) {
		x->last_key = k;
		x->last = -1;
		for (size_t i = 0; i < x->h->gta.ngrid; i++)
			if (x->r->groups[i]->key == k)
				x->last = (long)i;
	}
	if (x->last >= 0)
		timeagg_add(&x->h->gta, (size_t)x->last, iv);
	if (iv->kind == PAIR_HOLD_BEGIN)
		return 0;
	return worst_window_hook(&x->h->worst, iv);
}

/* Read path again. 0, or -1 after a message. */
static int reread(struct report_html *h, const struct report *r, const char *path)
{
	struct mml_meta *meta = meta_new();
	struct mml_event *ev = malloc(BATCH * sizeof(*ev));
	struct pass2 x = { .h = h, .r = r, .last = -2 };
	struct pair pair = { 0 };
	struct source *s = NULL;
	char err[300];
	long n;
	int rc = -1;

	x.key.by = r->agg->by;
	x.key.meta = meta;
	if (!meta || !ev || pair_init(&pair) ||
	    pair_subscribe(&pair, pass2_hook, &x, PAIR_KIND(PAIR_HOLD_BEGIN) | WORST_WINDOW_KINDS)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	if (!(s = source_open(path, meta, err, sizeof(err)))) {
		fprintf(stderr, "mmaplock report: %s\n", err);
		goto out;
	}
	while ((n = source_next(s, ev, BATCH)) > 0)
		if (pair_feed(&pair, ev, (size_t)n)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			goto out;
		}
	if (n < 0) {
		fprintf(stderr, "mmaplock report: %s\n", source_error(s));
		goto out;
	}
	rc = 0;
out:
	source_close(s);
	pair_fini(&pair);
	meta_free(meta);
	free(ev);
	return rc;
}

int report_html_pass2(struct report_html *h, struct report *r, const char *path)
{
	size_t ng = r->ngroups < HTML_GROUPS ? r->ngroups : HTML_GROUPS;

	worst_sort(&h->worst);
	r->ta = &h->ta;
	r->worst = &h->worst;
	if (!strcmp(path, "-"))
		return 0;
	if (timeagg_init(&h->gta, ng)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		return -1;
	}
	timeagg_fixed(&h->gta, h->ta.t0, h->ta.width);
	if (reread(h, r, path))
		return -1;
	h->gta.ncols = h->ta.ncols;
	h->worst.windows = 1;
	worst_blame(&h->worst);
	r->gta = &h->gta;
	return 0;
}
