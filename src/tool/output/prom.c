/* SPDX-License-Identifier: MIT */
/*
 * prom.c: the exporter's series table, histogram folding and the text
 * exposition (prom.h). The series table is an array (stable order: the
 * exposition lists series in the order they appeared) plus a hashmap.h
 * index on (label, mode).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom.h"

struct prom_key {
	const char *memcg;
	int write;
};
#define IDX_KEY(e) ((struct prom_key){ (e)->memcg, (e)->write })
#define IDX_HASH(k) hash64_pair(hash_str((k).memcg), (uint64_t)(k).write)
#define IDX_EQ(a, b) ((a).write == (b).write && !strcmp((a).memcg, (b).memcg))
#define IDX_USED(e) ((e)->memcg != NULL)
HASHMAP_FUNCS(prom_idxtab, idxtab, struct prom_idx, struct prom_key, IDX_HASH, IDX_KEY, IDX_EQ,
	      IDX_USED)

int prom_set_init(struct prom_set *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->cap = 16;
	p->s = calloc(p->cap, sizeof(*p->s));
	if (!p->s) {
		prom_set_fini(p);
		return -1;
	}
	for (int w = 0; w < 2; w++) {
		p->s[w].memcg = strdup("other");
		p->s[w].write = w;
		if (!p->s[w].memcg) {
			prom_set_fini(p);
			return -1;
		}
	}
	p->n = 2;
	return 0;
}

void prom_set_fini(struct prom_set *p)
{
	if (p->s)
		for (size_t i = 0; i < p->n; i++) {
			free(p->s[i].memcg);
			free(p->s[i].ident);
		}
	free(p->s);
	idxtab_fini(&p->idx);
	memset(p, 0, sizeof(*p));
}

struct prom_series *prom_series(struct prom_set *p, const char *memcg, int write)
{
	struct prom_idx *x;
	struct prom_series *s;
	int isnew;

	write = !!write;
	if (!strcmp(memcg, "other"))
		return &p->s[write];
	x = idxtab_find(&p->idx, (struct prom_key){ memcg, write });
	if (x)
		return &p->s[x->i];
	if (p->n - 2 >= p->max)
		return &p->s[write];		/* cardinality bound */
	if (p->n == p->cap) {
		struct prom_series *n = realloc(p->s, 2 * p->cap * sizeof(*n));
		if (!n)
			return NULL;
		p->s = n;
		p->cap *= 2;
	}
	s = &p->s[p->n];
	memset(s, 0, sizeof(*s));
	s->memcg = strdup(memcg);
	if (!s->memcg)
		return NULL;
	s->write = write;
	x = idxtab_add(&p->idx, (struct prom_key){ memcg, write }, &isnew);
	if (!x) {
		free(s->memcg);
		return NULL;
	}
	*x = (struct prom_idx){ s->memcg, write, p->n++ };
	return s;
}

static int idx_dropped(const struct prom_idx *e, void *ctx)
{
	const struct prom_set *p = ctx;

	return p->s[e->i].drop;
}

size_t prom_drop(struct prom_set *p, uint64_t before,
		 int (*gone)(const struct prom_series *s, void *ctx), void *ctx)
{
	size_t n = 2, dropped = 0;

	for (size_t i = 2; i < p->n; i++) {
		struct prom_series *s = &p->s[i];
		s->drop = !s->keep && s->seen < before && gone(s, ctx);
		dropped += (size_t)s->drop;
	}
	if (!dropped)
		return 0;
	/* the index first: its keys are the dropped series' own strings */
	idxtab_del_if(&p->idx, idx_dropped, p);
	for (size_t i = 2; i < p->n; i++) {
		struct prom_series *s = &p->s[i];
		if (s->drop) {
			free(s->memcg);
			free(s->ident);
			continue;
		}
		if (n != i) {
			p->s[n] = *s;
			/* the key string moved with its series: only the position changes */
			idxtab_find(&p->idx, (struct prom_key){ s->memcg, s->write })->i = n;
		}
		n++;
	}
	p->n = n;
	p->dropped += dropped;
	if (p->cap > 64 && p->n < p->cap / 4) {	/* give memory back after a wave of churn */
		struct prom_series *s = realloc(p->s, p->cap / 2 * sizeof(*s));
		if (s) {
			p->s = s;
			p->cap /= 2;
		}
	}
	return dropped;
}

/* The Prometheus bucket of log-linear bucket idx: the first bound above its start. */
static unsigned pbucket(unsigned idx)
{
	uint64_t lo, w;
	unsigned k;

	hist_bucket_range(idx, &lo, &w);
	for (k = 0; k < PROM_NBUCKETS; k++)
		if (lo < prom_bound_ns(k))	/* bounds are bucket edges: lo + w <= bound too */
			break;
	return k;
}

void prom_hist_fold(struct prom_hist *ph, const struct hist *h)
{
	static unsigned char map[HIST_BUCKETS];
	static int mapped;
	uint64_t n;

	if (!h->count)
		return;
	if (!mapped) {		/* one thread (the recorder's) folds */
		for (unsigned i = 0; i < HIST_BUCKETS; i++)
			map[i] = (unsigned char)pbucket(i);
		mapped = 1;
	}
	for (unsigned i = hist_next(h, 0, &n); i < HIST_BUCKETS; i = hist_next(h, i + 1, &n))
		ph->b[map[i]] += n;
	ph->count += h->count;
	ph->sum_ns += h->total;
}

static void labels(struct ob *b, const struct prom_series *s)
{
	ob_printf(b, "memcg=\"");
	ob_prom_label(b, s->memcg);
	ob_printf(b, "\",mode=\"%s\"", s->write ? "write" : "read");
	if (s->ident)
		ob_str(b, s->ident);
}

char *prom_ident_labels(const struct ctr_id *id)
{
	const char *v[] = { id->namespace, id->pod, id->pod_uid, id->container_id, id->qos, id->unit };
	static const char *const name[] = { "namespace", "pod", "pod_uid", "container_id", "qos", "unit" };
	struct ob b;

	ob_init_mem(&b);
	for (int i = 0; i < 6; i++) {
		if (!*v[i])
			continue;
		ob_printf(&b, ",%s=\"", name[i]);
		ob_prom_label(&b, v[i]);
		ob_ch(&b, '"');
	}
	ob_ch(&b, 0);
	if (b.err || b.n == 1) {	/* no label known: none at all */
		ob_free(&b);
		return NULL;
	}
	return b.buf;		/* the caller frees it */
}

/* "other" only when something went there */
static int shown(const struct prom_set *p, size_t i)
{
	const struct prom_series *s = &p->s[i];

	return i >= 2 || s->acq || s->failed || s->wait.count || s->hold.count ||
	       s->incidents[0] || s->incidents[1];
}

static void hist(struct ob *b, const struct prom_set *p, const char *name, const char *help, int hold)
{
	ob_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < p->n; i++) {
		const struct prom_series *s = &p->s[i];
		const struct prom_hist *h = hold ? &s->hold : &s->wait;
		uint64_t cum = 0;
		if (!shown(p, i))
			continue;
		for (unsigned k = 0; k <= PROM_NBUCKETS; k++) {
			cum += h->b[k];
			ob_printf(b, "%s_bucket{", name);
			labels(b, s);
			if (k < PROM_NBUCKETS)
				ob_printf(b, ",le=\"%.12g\"} %llu\n", prom_bound_ns(k) / 1e9,
					    (unsigned long long)cum);
			else
				ob_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		ob_printf(b, "%s_sum{", name);
		labels(b, s);
		ob_printf(b, "} %llu.%09llu\n", (unsigned long long)(h->sum_ns / 1000000000u),
			    (unsigned long long)(h->sum_ns % 1000000000u));
		ob_printf(b, "%s_count{", name);
		labels(b, s);
		ob_printf(b, "} %llu\n", (unsigned long long)h->count);
	}
}

/* exporter --incidents (docs/WATCH.md): a series only once it has one; suspect ones apart. */
static void incidents(struct ob *b, const struct prom_set *p)
{
	ob_printf(b, "# HELP mmaplock_incidents_total Waits or holds over their threshold written as "
		       "incident files, by the memory cgroup and mode of the waiter (wait) or holder "
		       "(hold); suspect ones (events lost) not counted.\n"
		       "# TYPE mmaplock_incidents_total counter\n");
	for (size_t i = 0; i < p->n; i++)
		for (int k = 0; k < 2; k++)
			if (p->s[i].incidents[k]) {
				ob_printf(b, "mmaplock_incidents_total{");
				labels(b, &p->s[i]);
				ob_printf(b, ",kind=\"%s\"} %llu\n", k ? "hold" : "wait",
					  (unsigned long long)p->s[i].incidents[k]);
			}
	ob_printf(b, "# HELP mmaplock_incidents_suspect_total Incidents written marked suspect: "
		       "events were lost where they could have made the crossing.\n"
		       "# TYPE mmaplock_incidents_suspect_total counter\n"
		       "mmaplock_incidents_suspect_total %llu\n", (unsigned long long)p->incidents_suspect);
}

int prom_render(const struct prom_set *p, struct ob *b)
{
	ob_printf(b, "# HELP mmaplock_acquisitions_total mmap_lock attempts answered with success, "
		       "by the memory cgroup of the address space and the lock mode.\n"
		       "# TYPE mmaplock_acquisitions_total counter\n");
	for (size_t i = 0; i < p->n; i++)
		if (shown(p, i)) {
			ob_printf(b, "mmaplock_acquisitions_total{");
			labels(b, &p->s[i]);
			ob_printf(b, "} %llu\n", (unsigned long long)p->s[i].acq);
		}
	ob_printf(b, "# HELP mmaplock_failed_total mmap_lock attempts answered with failure "
		       "(trylock, killable), by memory cgroup and mode.\n"
		       "# TYPE mmaplock_failed_total counter\n");
	for (size_t i = 0; i < p->n; i++)
		if (shown(p, i)) {
			ob_printf(b, "mmaplock_failed_total{");
			labels(b, &p->s[i]);
			ob_printf(b, "} %llu\n", (unsigned long long)p->s[i].failed);
		}
	hist(b, p, "mmaplock_wait_seconds",
	     "Time from start_locking to a successful acquire_returned, by memory cgroup and mode.", 0);
	hist(b, p, "mmaplock_hold_seconds",
	     "Time from a successful acquire_returned to released, by memory cgroup and mode.", 1);
	if (p->incidents_on)
		incidents(b, p);
	ob_printf(b, "# HELP mmaplock_lost_events_total Trace events lost by the kernel's ring buffers "
		       "(figures above undercount by about this many events).\n"
		       "# TYPE mmaplock_lost_events_total counter\n"
		       "mmaplock_lost_events_total %llu\n", (unsigned long long)p->lost);
	ob_printf(b, "# HELP mmaplock_non_owner_releases_total Releases by a task other than the "
		       "holder (mmap_read_unlock_non_owner), or of a hold taken before tracing began: "
		       "no hold time for them.\n"
		       "# TYPE mmaplock_non_owner_releases_total counter\n"
		       "mmaplock_non_owner_releases_total %llu\n", (unsigned long long)p->non_owner);
	ob_printf(b, "# HELP mmaplock_events_total Trace events received from the kernel.\n"
		       "# TYPE mmaplock_events_total counter\n"
		       "mmaplock_events_total %llu\n", (unsigned long long)p->events);
	ob_printf(b, "# HELP mmaplock_series Series of (memory cgroup, mode) now exported, "
		       "\"other\" not counted.\n"
		       "# TYPE mmaplock_series gauge\n"
		       "mmaplock_series %zu\n"
		       "# HELP mmaplock_series_dropped_total Series dropped because their memory cgroup "
		       "was gone and they had been idle for the series TTL.\n"
		       "# TYPE mmaplock_series_dropped_total counter\n"
		       "mmaplock_series_dropped_total %llu\n", p->n - 2, (unsigned long long)p->dropped);
	if (p->backend)		/* names come from the code, never from the system: no escaping */
		ob_printf(b, "# HELP mmaplock_backend_info The live back-end the figures come from.\n"
			       "# TYPE mmaplock_backend_info gauge\n"
			       "mmaplock_backend_info{backend=\"%s\"} 1\n", p->backend);
	return b->err ? -1 : 0;
}
