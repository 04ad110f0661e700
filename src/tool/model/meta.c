/* SPDX-License-Identifier: MIT */
/*
 * meta.c: the id -> words tables of meta.h. Three hashmap.h tables (memcg
 * id -> path, path -> id for interning, tid -> task), a list
 * of info pairs and a per-CPU lost array. Sizes grow with the number of
 * distinct memcgs and tasks, never with the number of events. Not
 * thread-safe: one meta belongs to one reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"
#include "meta.h"
#include "stacks.h"

struct memcg_slot {
	uint64_t id;
	char *path;			/* NULL: empty slot */
	int now;			/* named from the running system, not the input */
};

struct task_slot {
	int used;
	struct mml_task_info t;		/* t.cgroup owned */
};

#define MC_KEY(e) ((e)->id)
#define BYP_KEY(e) ((const char *)(e)->path)
#define MC_USED(e) ((e)->path != NULL)
#define TK_KEY(e) ((e)->t.tid)
#define TK_USED(e) ((e)->used)
HASHMAP_DEFINE(mctab, struct memcg_slot, uint64_t, hash64, MC_KEY, HASHMAP_NUM_EQ, MC_USED)
HASHMAP_DEFINE(byptab, struct memcg_slot, const char *, hash_str, BYP_KEY, HASHMAP_STR_EQ, MC_USED)
HASHMAP_DEFINE(tktab, struct task_slot, uint32_t, hash64, TK_KEY, HASHMAP_NUM_EQ, TK_USED)

struct info {
	char *key, *value;
	struct info *next;
};

struct mml_meta {
	struct mctab mc;		/* by id */
	struct byptab byp;		/* by path (intern) */
	uint64_t next_intern;
	struct tktab tk;
	struct info *info;
	uint64_t *lost;
	size_t lost_n;
	struct stacktab *stacks;
};

/* Intern ids live at the top of the id space, far from kernel cgroup ids. */
#define INTERN_BASE (1ull << 62)

struct mml_meta *meta_new(void)
{
	struct mml_meta *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->next_intern = INTERN_BASE + 1;
	m->stacks = stacktab_new();
	if (!m->stacks) {
		free(m);
		return NULL;
	}
	return m;
}

void meta_free(struct mml_meta *m)
{
	if (!m)
		return;
	for (struct memcg_slot *s = mctab_next(&m->mc, NULL); s; s = mctab_next(&m->mc, s))
		free(s->path);
	for (struct memcg_slot *s = byptab_next(&m->byp, NULL); s; s = byptab_next(&m->byp, s))
		free(s->path);
	meta_forget_tasks(m);
	while (m->info) {
		struct info *n = m->info->next;
		free(m->info->key);
		free(m->info->value);
		free(m->info);
		m->info = n;
	}
	mctab_fini(&m->mc);
	byptab_fini(&m->byp);
	free(m->lost);
	stacktab_free(m->stacks);
	free(m);
}

struct stacktab *meta_stacks(struct mml_meta *m)
{
	return m->stacks;
}

const struct mml_stack *meta_stack(const struct mml_meta *m, uint32_t id)
{
	return stacktab_get(m->stacks, id);
}

/* Remember path -> id for interning (first id wins). */
static int byp_add(struct mml_meta *m, const char *path, uint64_t id)
{
	int isnew;
	struct memcg_slot *s = byptab_add(&m->byp, path, &isnew);

	if (!s)
		return -1;
	if (!isnew)
		return 0;
	s->path = strdup(path);
	if (!s->path) {
		byptab_del(&m->byp, s);
		return -1;
	}
	s->id = id;
	return 0;
}

int meta_set_memcg(struct mml_meta *m, uint64_t id, const char *path)
{
	struct memcg_slot *s;
	char *p = strdup(path ? path : "");
	int isnew;

	if (!p)
		return -1;
	s = mctab_add(&m->mc, id, &isnew);
	if (!s) {
		free(p);
		return -1;
	}
	free(s->path);
	s->id = id;
	s->path = p;
	s->now = 0;
	return byp_add(m, p, id);
}

int meta_set_memcg_now(struct mml_meta *m, uint64_t id, const char *path)
{
	if (meta_set_memcg(m, id, path))
		return -1;
	mctab_find(&m->mc, id)->now = 1;
	return 0;
}

static const struct memcg_slot *mc_get(const struct mml_meta *m, uint64_t id)
{
	return m ? mctab_find(&m->mc, id) : NULL;
}

const char *meta_memcg(const struct mml_meta *m, uint64_t id)
{
	const struct memcg_slot *s = mc_get(m, id);

	return s ? s->path : NULL;
}

int meta_memcg_now(const struct mml_meta *m, uint64_t id)
{
	const struct memcg_slot *s = mc_get(m, id);

	return s && s->now;
}

const char *meta_memcg_name(const struct mml_meta *m, uint64_t id, char *buf, size_t len)
{
	const struct memcg_slot *s = id ? mc_get(m, id) : NULL;

	if (!id)
		return "(no memcg)";
	if (s && !s->now)
		return *s->path ? s->path : "/";
	if (s)
		snprintf(buf, len, "%s*", *s->path ? s->path : "/");
	else
		snprintf(buf, len, "memcg_id:%llu", (unsigned long long)id);
	return buf;
}

uint64_t meta_intern_memcg(struct mml_meta *m, const char *path)
{
	const struct memcg_slot *s = byptab_find(&m->byp, path);
	uint64_t id;

	if (s)
		return s->id;
	id = m->next_intern++;
	if (meta_set_memcg(m, id, path))
		return 0;
	return id;
}

int meta_set_task(struct mml_meta *m, const struct mml_task_info *t)
{
	struct task_slot *s;
	char *cg = NULL;
	int isnew;

	if (t->cgroup && !(cg = strdup(t->cgroup)))
		return -1;
	s = tktab_add(&m->tk, t->tid, &isnew);
	if (!s) {
		free(cg);
		return -1;
	}
	free((char *)s->t.cgroup);
	s->used = 1;
	s->t = *t;
	s->t.comm[sizeof(s->t.comm) - 1] = 0;
	s->t.cgroup = cg;
	return 0;
}

int meta_update_task(struct mml_meta *m, const struct mml_task_info *t)
{
	const struct mml_task_info *old = meta_task(m, t->tid);
	struct mml_task_info u = *t;

	if (old) {
		if (!u.tgid)
			u.tgid = old->tgid;
		if (!u.cgroup_id && !u.cgroup) {
			u.cgroup_id = old->cgroup_id;
			u.cgroup = old->cgroup;	/* meta_set_task copies it before freeing the old */
		}
		if (!u.comm[0])
			memcpy(u.comm, old->comm, sizeof(u.comm));
	}
	return meta_set_task(m, &u);
}

void meta_forget_tasks(struct mml_meta *m)
{
	for (struct task_slot *s = tktab_next(&m->tk, NULL); s; s = tktab_next(&m->tk, s))
		free((char *)s->t.cgroup);
	tktab_fini(&m->tk);
}

const struct mml_task_info *meta_task(const struct mml_meta *m, uint32_t tid)
{
	const struct task_slot *s = tktab_find(&m->tk, tid);

	return s ? &s->t : NULL;
}

int meta_set_info(struct mml_meta *m, const char *key, const char *value)
{
	struct info *i;
	char *v = strdup(value);

	if (!v)
		return -1;
	for (i = m->info; i; i = i->next)
		if (!strcmp(i->key, key)) {
			free(i->value);
			i->value = v;
			return 0;
		}
	i = calloc(1, sizeof(*i));
	if (!i || !(i->key = strdup(key))) {
		free(i);
		free(v);
		return -1;
	}
	i->value = v;
	i->next = m->info;
	m->info = i;
	return 0;
}

const char *meta_info(const struct mml_meta *m, const char *key)
{
	for (struct info *i = m->info; i; i = i->next)
		if (!strcmp(i->key, key))
			return i->value;
	return NULL;
}

void meta_add_lost(struct mml_meta *m, uint32_t cpu, uint64_t lost)
{
	if (cpu >= 65536)
		cpu = 65535;		/* library tids and odd CPUs share the last slot */
	if (cpu >= m->lost_n) {
		size_t n = cpu + 1;
		uint64_t *l = realloc(m->lost, n * sizeof(*l));
		if (!l)
			return;
		memset(l + m->lost_n, 0, (n - m->lost_n) * sizeof(*l));
		m->lost = l;
		m->lost_n = n;
	}
	m->lost[cpu] += lost;
}

uint64_t meta_lost_total(const struct mml_meta *m)
{
	uint64_t t = 0;

	for (size_t i = 0; i < m->lost_n; i++)
		t += m->lost[i];
	return t;
}
