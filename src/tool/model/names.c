/* SPDX-License-Identifier: MIT */
/*
 * names.c: the naming service of names.h. The memcg cache only grows
 * (a path replaced by a later walk's); a walk is the one way to learn a
 * memcg, so lookups of unknown ids are held to one walk a second.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meta.h"
#include "names.h"

void names_init(struct names *n, const char *tracing)
{
	memset(n, 0, sizeof(*n));
	if (tracing)
		snprintf(n->tracing, sizeof(n->tracing), "%s", tracing);
}

void names_fini(struct names *n)
{
	idmap_free(&n->memcg);
	idmap_free(&n->comms);
}

double names_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct walk {
	struct names *n;
	names_walk_fn fn;
	void *arg;
};

static void on_walk(uint64_t id, const char *path, void *arg)
{
	struct walk *w = arg;
	char *s = strdup(path);

	if (s)
		idmap_put(&w->n->memcg, id, s);
	if (w->fn)
		w->fn(id, path, w->arg);
}

long names_walk(struct names *n, names_walk_fn fn, void *arg)
{
	struct walk w = { n, fn, arg };

	n->walked = time(NULL);
	return cgroupfs_walk(on_walk, &w);
}

const char *names_memcg_cached(const struct names *n, uint64_t id)
{
	long f = idmap_find(&n->memcg, id);

	return f >= 0 ? n->memcg.t[f].val : NULL;
}

const char *names_memcg(struct names *n, uint64_t id, names_walk_fn fn, void *arg)
{
	const char *p = id ? names_memcg_cached(n, id) : NULL;

	if (p || !id || time(NULL) == n->walked)
		return p;
	names_walk(n, fn, arg);
	return names_memcg_cached(n, id);
}

long names_memcg_now(struct names *n, struct mml_meta *m, const struct idmap *ids)
{
	long named = 0;

	if (!ids->n || names_walk(n, NULL, NULL) < 0)
		return 0;
	for (struct idmap_ent *e = idmap_tab_next(ids, NULL); e; e = idmap_tab_next(ids, e)) {
		const char *p = names_memcg_cached(n, e->key);

		if (p && !meta_memcg(m, e->key) && !meta_set_memcg_now(m, e->key, p))
			named++;
	}
	return named;
}

int names_memcg_now_id(struct names *n, struct mml_meta *m, uint64_t id)
{
	const char *p;

	if (!id || meta_memcg(m, id))
		return 0;
	if (!n->walked)
		names_walk(n, NULL, NULL);
	p = names_memcg_cached(n, id);
	return p && !meta_set_memcg_now(m, id, p);
}

int names_task(uint32_t tid, struct cg_task *t)
{
	return cgroupfs_task((pid_t)tid, t);
}

/* saved_cmdlines: "tid comm" lines. */
void names_load_comms(struct names *n)
{
	char path[300], line[128];
	FILE *f;

	idmap_free(&n->comms);
	n->comms_at = names_clock();
	if (!n->tracing[0])
		return;
	snprintf(path, sizeof(path), "%s/saved_cmdlines", n->tracing);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char comm[64];
		unsigned long tid;

		if (sscanf(line, "%lu %63s", &tid, comm) != 2 || !tid || tid > UINT32_MAX)
			continue;
		comm[15] = '\0';
		idmap_put(&n->comms, tid, strdup(comm));
	}
	fclose(f);
}

const char *names_saved_comm(struct names *n, uint32_t tid, double max_age)
{
	long f;

	if (names_clock() - n->comms_at >= max_age)
		names_load_comms(n);
	f = idmap_find(&n->comms, tid);
	return f >= 0 ? n->comms.t[f].val : NULL;
}
