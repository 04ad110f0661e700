/* SPDX-License-Identifier: MIT */
/*
 * agg-ident.c: folding memcg groups into container, pod and unit groups
 * (agg-ident.h). The table maps a level key ("c:<container id>",
 * "p:<pod uid>", "u:<unit>", or "m:<memcg name>" for a memcg of none) to
 * an index, which is the folded group's agg key; per index the identity
 * and the display name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agg-ident.h"
#include "array.h"
#include "hashmap.h"

struct ident {
	char *key;			/* owned; NULL: empty slot (in the map) */
	uint64_t idx;
};

#define IDENT_KEY(e) ((const char *)(e)->key)
#define IDENT_USED(e) ((e)->key != NULL)
HASHMAP_DEFINE(identmap, struct ident, const char *, hash_str, IDENT_KEY, HASHMAP_STR_EQ, IDENT_USED)

struct ident_ent {
	struct ctr_id id;		/* kind CTR_UNKNOWN for a memcg of none */
	char *name;			/* display name (owned) */
};

struct agg_idents {
	struct identmap map;
	struct ident_ent *e;
	size_t n, cap;
};

int agg_by_identity(enum agg_by by)
{
	return by == AGG_BY_CONTAINER || by == AGG_BY_POD || by == AGG_BY_UNIT;
}

void agg_idents_free(struct agg *a)
{
	struct agg_idents *t = a->idents;

	if (!t)
		return;
	for (struct ident *e = NULL; (e = identmap_next(&t->map, e));)
		free(e->key);
	identmap_fini(&t->map);
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t);
	a->idents = NULL;
}

/*
 * The level key of id at grouping by into key; id is cut to that level (a
 * pod's group has no container id). 0 when id is none at this level: the
 * memcg stays a group of its own.
 */
static int level_key(enum agg_by by, struct ctr_id *id, char *key, size_t len)
{
	switch (id->kind) {
	case CTR_K8S_CONTAINER:
	case CTR_K8S_POD:
		if (by == AGG_BY_POD || (by == AGG_BY_CONTAINER && id->kind == CTR_K8S_POD)) {
			id->kind = CTR_K8S_POD;
			id->container_id[0] = '\0';
			snprintf(key, len, "p:%s", id->pod_uid);
			return 1;
		}
		if (by == AGG_BY_CONTAINER) {
			snprintf(key, len, "c:%s", id->container_id);
			return 1;
		}
		return 0;
	case CTR_DOCKER:
	case CTR_PODMAN:
		if (by != AGG_BY_CONTAINER)
			return 0;
		snprintf(key, len, "c:%s", id->container_id);
		return 1;
	case CTR_SYSTEMD_UNIT:
	case CTR_SYSTEMD_USER:
	case CTR_SYSTEMD_SESSION:
		if (by != AGG_BY_UNIT)
			return 0;
		snprintf(key, len, "u:%s", id->unit);
		return 1;
	default:
		return 0;
	}
}

/* The index of key, made with id and name when new; -1 out of memory. */
static long intern(struct agg_idents *t, const char *key, const struct ctr_id *id, const char *name)
{
	struct ident *e;
	int isnew;
	char *k = strdup(key), *nm = strdup(name);

	if (!k || !nm)
		goto oom;
	if (ARRAY_RESERVE(t->e, t->cap, t->n + 1, 16) < 0)
		goto oom;
	e = identmap_add(&t->map, k, &isnew);
	if (!e)
		goto oom;
	if (!isnew) {
		free(k);
		free(nm);
		return (long)e->idx;
	}
	e->key = k;
	e->idx = t->n;
	t->e[t->n].id = *id;
	t->e[t->n].name = nm;
	return (long)t->n++;
oom:
	free(k);
	free(nm);
	return -1;
}

/* The level key and display name of src's memcg group g at dst's level. */
static void memcg_level(const struct agg *dst, const struct agg *src, const struct agg_group *g,
			struct ctr_pods *pods, struct ctr_id *id, char *key, char *name, size_t len)
{
	char buf[512];
	const char *path = g->key ? meta_memcg(src->meta, g->key) : NULL;
	const char *mname = meta_memcg_name(src->meta, g->key, buf, sizeof(buf));

	ctr_identify(pods, path, id);
	if (level_key(dst->by, id, key, len))
		ctr_display(id, mname, name, len);
	else {
		snprintf(key, len, "m:%s", mname);
		snprintf(name, len, "%s", mname);
	}
}

int agg_regroup(struct agg *dst, const struct agg *src, struct ctr_pods *pods)
{
	char key[512], name[512];

	if (!dst->idents && !(dst->idents = calloc(1, sizeof(*dst->idents))))
		return -1;
	for (struct agg_group **e = agg_tab_next(&src->tab, NULL); e;
	     e = agg_tab_next(&src->tab, e)) {
		const struct agg_group *g = *e;
		struct ctr_id id;
		struct agg_group *d;
		long idx;

		memcg_level(dst, src, g, pods, &id, key, name, sizeof(key));
		idx = intern(dst->idents, key, &id, name);
		if (idx < 0 || !(d = agg_group_key(dst, (uint64_t)idx, g->tid)) || agg_group_fold(d, g))
			return -1;
	}
	return 0;
}

long agg_regroup_key(const struct agg *dst, const struct agg *src, const struct agg_group *g,
		     struct ctr_pods *pods)
{
	char key[512], name[512];
	const struct ident *e;
	struct ctr_id id;

	if (!dst->idents)
		return -1;
	memcg_level(dst, src, g, pods, &id, key, name, sizeof(key));
	e = identmap_find(&dst->idents->map, key);
	return e ? (long)e->idx : -1;
}

int agg_group_ident(const struct agg *a, const struct agg_group *g, struct ctr_pods *pods,
		    struct ctr_id *id)
{
	if (agg_by_identity(a->by) && a->idents && g->key < a->idents->n)
		*id = a->idents->e[g->key].id;
	else if (a->by == AGG_BY_MEMCG)
		ctr_identify(pods, g->key ? meta_memcg(a->meta, g->key) : NULL, id);
	else
		return 0;
	return id->kind != CTR_UNKNOWN;
}

const char *agg_ident_name(const struct agg *a, const struct agg_group *g)
{
	if (!a->idents || g->key >= a->idents->n)
		return "?";
	return a->idents->e[g->key].name;
}
