/* SPDX-License-Identifier: MIT */
/*
 * report-html.c: the two passes of `report --html` (report-html.h). The
 * first adds the groups by memcg and by process to the report's own
 * (plain agg subscribers: the pairing's slot is the report's). Between the
 * passes the group levels are ranked (levels.h). The second reading pairs
 * the input again with a fresh meta and hands each closed interval to the
 * grid of its group at every level and to the windows of the longest
 * waits. Group keys come from agg_key() with the second meta: ids are given
 * by the file or interned in the same order, so they match.
 */
#include <stdlib.h>
#include <string.h>
#include "agg-ident.h"
#include "report-html.h"
#include "source.h"

#define BATCH 4096

int report_html_subscribe(struct report_html *h, struct pair *p, const struct agg *a1, long worst)
{
	memset(h, 0, sizeof(*h));
	h->on = 1;
	h->a1 = a1;
	if (timeagg_init(&h->ta, 1) || worst_init(&h->worst, worst > 0 ? (size_t)worst : 10))
		return -1;
	if (pair_subscribe(p, timeagg_hook, &h->ta, TIMEAGG_KINDS) ||
	    pair_subscribe(p, worst_hook, &h->worst, WORST_KINDS))
		return -1;
	if (a1->by != AGG_BY_MEMCG && agg_attach(&h->mem, p, AGG_BY_MEMCG, a1->meta))
		return -1;
	if (a1->by != AGG_BY_PROCESS && agg_attach(&h->proc, p, AGG_BY_PROCESS, a1->meta))
		return -1;
	return 0;
}

void report_html_free(struct report_html *h)
{
	if (!h->on)
		return;
	timeagg_fini(&h->ta);
	levels_fini(&h->levels);
	worst_fini(&h->worst);
	if (h->mem.tab.t)
		agg_fini(&h->mem);
	if (h->proc.tab.t)
		agg_fini(&h->proc);
	if (h->ctr.tab.t)
		agg_fini(&h->ctr);
}

/* A group of a containers' level that is a container or a pod (not a path). */
static int any_container(const struct agg *a, struct ctr_pods *pods)
{
	for (struct agg_group **g = agg_tab_next(&a->tab, NULL); g; g = agg_tab_next(&a->tab, g)) {
		struct ctr_id id;
		if (agg_group_ident(a, *g, pods, &id) &&
		    (id.kind == CTR_K8S_POD || id.kind == CTR_K8S_CONTAINER || id.kind == CTR_DOCKER ||
		     id.kind == CTR_PODMAN))
			return 1;
	}
	return 0;
}

/*
 * The levels: memcg, container/pod (when some memcg is one), process, then
 * the report's own grouping when it is none of these; ls->report says
 * which is the report's. -1: out of memory.
 */
static int levels(struct report_html *h, const struct report *r)
{
	const struct agg *mem = h->a1->by == AGG_BY_MEMCG ? h->a1 : &h->mem;
	const struct agg *proc = h->a1->by == AGG_BY_PROCESS ? h->a1 : &h->proc;
	struct levels *ls = &h->levels;
	enum agg_by by = r->agg->by;

	ls->report = by == AGG_BY_MEMCG ? 0 : LEVEL_MAX;
	if (levels_add(ls, mem, NULL, r->pods))
		return -1;
	if (by == AGG_BY_CONTAINER) {
		ls->report = ls->n;
		if (levels_add(ls, r->agg, mem, r->pods))
			return -1;
	} else {
		if (agg_init(&h->ctr, AGG_BY_CONTAINER, mem->meta) || agg_regroup(&h->ctr, mem, r->pods))
			return -1;
		if (any_container(&h->ctr, r->pods) && levels_add(ls, &h->ctr, mem, r->pods))
			return -1;
	}
	if (by == AGG_BY_PROCESS)
		ls->report = ls->n;
	if (levels_add(ls, proc, NULL, r->pods))
		return -1;
	if (ls->report == LEVEL_MAX) {
		ls->report = ls->n;
		if (levels_add(ls, r->agg, mem, r->pods))
			return -1;
	}
	return 0;
}

struct pass2 {
	struct report_html *h;
};

static int pass2_hook(void *ctx, const struct pair_interval *iv)
{
	struct pass2 *x = ctx;

	levels_add_interval(&x->h->levels, iv);
	if (iv->kind == PAIR_HOLD_BEGIN)
		return 0;
	return worst_window_hook(&x->h->worst, iv);
}

/* Read path again. 0, or -1 after a message. */
static int reread(struct report_html *h, const struct report *r, const char *path)
{
	struct mml_meta *meta = meta_new();
	struct mml_event *ev = malloc(BATCH * sizeof(*ev));
	struct pass2 x = { .h = h };
	struct pair pair = { 0 };
	struct source *s = NULL;
	char err[300];
	long n;
	int rc = -1;

	levels_meta(&h->levels, meta);
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
	levels_meta(&h->levels, r->meta);
	meta_free(meta);
	free(ev);
	return rc;
}

int report_html_pass2(struct report_html *h, struct report *r, const char *path)
{
	worst_sort(&h->worst);
	r->ta = &h->ta;
	r->worst = &h->worst;
	if (levels(h, r)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		return -1;
	}
	r->levels = &h->levels;
	if (!strcmp(path, "-"))
		return 0;
	if (levels_grids(&h->levels, h->ta.t0, h->ta.width)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		return -1;
	}
	if (reread(h, r, path))
		return -1;
	for (size_t i = 0; i < h->levels.n; i++)
		h->levels.l[i].grid.ncols = h->ta.ncols;
	h->worst.windows = 1;
	worst_blame(&h->worst);
	return 0;
}
