/* SPDX-License-Identifier: MIT */
/*
 * prom.c: the exporter's series table, histogram folding and the text
 * exposition (prom.h). The series table is an array (stable order: the
 * exposition lists series in the order they appeared) plus an
 * open-addressing index on (label, mode).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom.h"

static uint64_t shash(const char *s, int write)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)write;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	h ^= h >> 33;
	return h;
}

int prom_set_init(struct prom_set *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->cap = 16;
	p->s = calloc(p->cap, sizeof(*p->s));
	p->idx_cap = 64;
	p->idx = calloc(p->idx_cap, sizeof(*p->idx));
	if (!p->s || !p->idx) {
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
	free(p->idx);
	memset(p, 0, sizeof(*p));
}

static size_t *slot(size_t *idx, size_t cap, const struct prom_series *s, const char *memcg, int write)
{
	size_t i = shash(memcg, write) & (cap - 1);

	while (idx[i] && (s[idx[i] - 1].write != write || strcmp(s[idx[i] - 1].memcg, memcg)))
		i = (i + 1) & (cap - 1);
	return &idx[i];
}

struct prom_series *prom_series(struct prom_set *p, const char *memcg, int write)
{
	size_t *x;

	write = !!write;
	if (!strcmp(memcg, "other"))
		return &p->s[write];
	x = slot(p->idx, p->idx_cap, p->s, memcg, write);
	if (*x)
		return &p->s[*x - 1];
	if (p->n - 2 >= p->max)
		return &p->s[write];		/* cardinality bound */
	if (p->n == p->cap) {
		struct prom_series *n = realloc(p->s, 2 * p->cap * sizeof(*n));
		if (!n)
			return NULL;
		p->s = n;
		p->cap *= 2;
	}
	if ((p->n + 1) * 2 > p->idx_cap) {
		size_t cap = p->idx_cap * 2;
		size_t *n = calloc(cap, sizeof(*n));
		if (!n)
			return NULL;
		for (size_t i = 2; i < p->n; i++)
			*slot(n, cap, p->s, p->s[i].memcg, p->s[i].write) = i + 1;
		free(p->idx);
		p->idx = n;
		p->idx_cap = cap;
		x = slot(p->idx, p->idx_cap, p->s, memcg, write);
	}
	struct prom_series *s = &p->s[p->n];
	memset(s, 0, sizeof(*s));
	s->memcg = strdup(memcg);
	if (!s->memcg)
		return NULL;
	s->write = write;
	*x = ++p->n;
	return s;
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

void prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = 1;
			return;
		}
		if (b->s && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->err = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

void prom_escape(struct prom_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			prom_printf(b, "\\\\");
		else if (*s == '"')
			prom_printf(b, "\\\"");
		else if (*s == '\n')
			prom_printf(b, "\\n");
		else
			prom_printf(b, "%c", *s);
	}
}

static void labels(struct prom_buf *b, const struct prom_series *s)
{
	prom_printf(b, "memcg=\"");
	prom_escape(b, s->memcg);
	prom_printf(b, "\",mode=\"%s\"", s->write ? "write" : "read");
	if (s->ident)
		prom_printf(b, "%s", s->ident);
}

char *prom_ident_labels(const struct ctr_id *id)
{
	const char *v[] = { id->namespace, id->pod, id->pod_uid, id->container_id, id->qos, id->unit };
	static const char *const name[] = { "namespace", "pod", "pod_uid", "container_id", "qos", "unit" };
	struct prom_buf b = { 0 };

	for (int i = 0; i < 6; i++) {
		if (!*v[i])
			continue;
		prom_printf(&b, ",%s=\"", name[i]);
		prom_escape(&b, v[i]);
		prom_printf(&b, "\"");
	}
	if (b.err) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* "other" only when something went there */
static int shown(const struct prom_set *p, size_t i)
{
	const struct prom_series *s = &p->s[i];

	return i >= 2 || s->acq || s->failed || s->wait.count || s->hold.count;
}

static void hist(struct prom_buf *b, const struct prom_set *p, const char *name, const char *help, int hold)
{
	prom_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < p->n; i++) {
		const struct prom_series *s = &p->s[i];
		const struct prom_hist *h = hold ? &s->hold : &s->wait;
		uint64_t cum = 0;
		if (!shown(p, i))
			continue;
		for (unsigned k = 0; k <= PROM_NBUCKETS; k++) {
			cum += h->b[k];
			prom_printf(b, "%s_bucket{", name);
			labels(b, s);
			if (k < PROM_NBUCKETS)
				prom_printf(b, ",le=\"%.12g\"} %llu\n", prom_bound_ns(k) / 1e9,
					    (unsigned long long)cum);
			else
				prom_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		}
		prom_printf(b, "%s_sum{", name);
		labels(b, s);
		prom_printf(b, "} %llu.%09llu\n", (unsigned long long)(h->sum_ns / 1000000000u),
			    (unsigned long long)(h->sum_ns % 1000000000u));
		prom_printf(b, "%s_count{", name);
		labels(b, s);
		prom_printf(b, "} %llu\n", (unsigned long long)h->count);
	}
}

int prom_render(const struct prom_set *p, struct prom_buf *b)
{
	prom_printf(b, "# HELP mmaplock_acquisitions_total mmap_lock attempts answered with success, "
		       "by the memory cgroup of the address space and the lock mode.\n"
		       "# TYPE mmaplock_acquisitions_total counter\n");
	for (size_t i = 0; i < p->n; i++)
		if (shown(p, i)) {
			prom_printf(b, "mmaplock_acquisitions_total{");
			labels(b, &p->s[i]);
			prom_printf(b, "} %llu\n", (unsigned long long)p->s[i].acq);
		}
	prom_printf(b, "# HELP mmaplock_failed_total mmap_lock attempts answered with failure "
		       "(trylock, killable), by memory cgroup and mode.\n"
		       "# TYPE mmaplock_failed_total counter\n");
	for (size_t i = 0; i < p->n; i++)
		if (shown(p, i)) {
			prom_printf(b, "mmaplock_failed_total{");
			labels(b, &p->s[i]);
			prom_printf(b, "} %llu\n", (unsigned long long)p->s[i].failed);
		}
	hist(b, p, "mmaplock_wait_seconds",
	     "Time from start_locking to a successful acquire_returned, by memory cgroup and mode.", 0);
	hist(b, p, "mmaplock_hold_seconds",
	     "Time from a successful acquire_returned to released, by memory cgroup and mode.", 1);
	prom_printf(b, "# HELP mmaplock_lost_events_total Trace events lost by the kernel's ring buffers "
		       "(figures above undercount by about this many events).\n"
		       "# TYPE mmaplock_lost_events_total counter\n"
		       "mmaplock_lost_events_total %llu\n", (unsigned long long)p->lost);
	prom_printf(b, "# HELP mmaplock_events_total Trace events received from the kernel.\n"
		       "# TYPE mmaplock_events_total counter\n"
		       "mmaplock_events_total %llu\n", (unsigned long long)p->events);
	if (p->backend)		/* names come from the code, never from the system: no escaping */
		prom_printf(b, "# HELP mmaplock_backend_info The live back-end the figures come from.\n"
			       "# TYPE mmaplock_backend_info gauge\n"
			       "mmaplock_backend_info{backend=\"%s\"} 1\n", p->backend);
	return b->err ? -1 : 0;
}
