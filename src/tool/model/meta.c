/* SPDX-License-Identifier: MIT */
/*
 * meta.c: the id -> words tables of meta.h. Three small open-addressing hash
 * tables (memcg id -> path, path -> id for interning, tid -> task), a list
 * of info pairs and a per-CPU lost array. Sizes grow with the number of
 * distinct memcgs and tasks, never with the number of events. Not
 * thread-safe: one meta belongs to one reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct info {
	char *key, *value;
	struct info *next;
};

struct mml_meta {
	struct memcg_slot *mc;		/* by id */
	size_t mc_cap, mc_n;
	struct memcg_slot *byp;		/* by path (intern) */
	size_t byp_cap, byp_n;
	uint64_t next_intern;
	struct task_slot *tk;
	size_t tk_cap, tk_n;
	struct info *info;
	uint64_t *lost;
	size_t lost_n;
	struct stacktab *stacks;
};

/* Intern ids live at the top of the id space, far from kernel cgroup ids. */
#define INTERN_BASE (1ull << 62)

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return mix(h);
}

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
	for (size_t i = 0; i < m->mc_cap; i++)
		free(m->mc[i].path);
	for (size_t i = 0; i < m->byp_cap; i++)
		free(m->byp[i].path);
	for (size_t i = 0; i < m->tk_cap; i++)
		if (m->tk[i].used)
			free((char *)m->tk[i].t.cgroup);
	while (m->info) {
		struct info *n = m->info->next;
		free(m->info->key);
		free(m->info->value);
		free(m->info);
		m->info = n;
	}
	free(m->mc);
	free(m->byp);
	free(m->tk);
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

/* Slot for id in a table keyed by id (mc) or by path hash (byp). */
static struct memcg_slot *mc_find(struct memcg_slot *t, size_t cap, uint64_t id)
{
	size_t i = mix(id) & (cap - 1);

	while (t[i].path && t[i].id != id)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static struct memcg_slot *byp_find(struct memcg_slot *t, size_t cap, const char *path)
{
	size_t i = strhash(path) & (cap - 1);

	while (t[i].path && strcmp(t[i].path, path))
		i = (i + 1) & (cap - 1);
	return &t[i];
}

static int mc_grow(struct memcg_slot **tp, size_t *capp, int bypath)
{
	size_t cap = *capp ? *capp * 2 : 64;
	struct memcg_slot *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	for (size_t i = 0; i < *capp; i++) {
		struct memcg_slot *o = &(*tp)[i];
		if (!o->path)
			continue;
		*(bypath ? byp_find(t, cap, o->path) : mc_find(t, cap, o->id)) = *o;
	}
	free(*tp);
	*tp = t;
	*capp = cap;
	return 0;
}

/* Remember path -> id for interning (first id wins). */
static int byp_add(struct mml_meta *m, const char *path, uint64_t id)
{
	struct memcg_slot *s;

	if ((m->byp_n + 1) * 2 > m->byp_cap && mc_grow(&m->byp, &m->byp_cap, 1))
		return -1;
	s = byp_find(m->byp, m->byp_cap, path);
	if (s->path)
		return 0;
	s->path = strdup(path);
	if (!s->path)
		return -1;
	s->id = id;
	m->byp_n++;
	return 0;
}

int meta_set_memcg(struct mml_meta *m, uint64_t id, const char *path)
{
	struct memcg_slot *s;
	char *p;

	if ((m->mc_n + 1) * 2 > m->mc_cap && mc_grow(&m->mc, &m->mc_cap, 0))
		return -1;
	p = strdup(path ? path : "");
	if (!p)
		return -1;
	s = mc_find(m->mc, m->mc_cap, id);
	if (s->path)
		free(s->path);
	else
		m->mc_n++;
	s->id = id;
	s->path = p;
	s->now = 0;
	return byp_add(m, p, id);
}

int meta_set_memcg_now(struct mml_meta *m, uint64_t id, const char *path)
{
	if (meta_set_memcg(m, id, path))
		return -1;
	mc_find(m->mc, m->mc_cap, id)->now = 1;
	return 0;
}

static const struct memcg_slot *mc_get(const struct mml_meta *m, uint64_t id)
{
	const struct memcg_slot *s;

	if (!m || !m->mc_cap)
		return NULL;
	s = mc_find(m->mc, m->mc_cap, id);
	return s->path ? s : NULL;
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
	uint64_t id;

	if (m->byp_cap) {
		struct memcg_slot *s = byp_find(m->byp, m->byp_cap, path);
		if (s->path)
			return s->id;
	}
	id = m->next_intern++;
	if (meta_set_memcg(m, id, path))
		return 0;
	return id;
}

static struct task_slot *tk_find(struct task_slot *t, size_t cap, uint32_t tid)
{
	size_t i = mix(tid) & (cap - 1);

	while (t[i].used && t[i].t.tid != tid)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

int meta_set_task(struct mml_meta *m, const struct mml_task_info *t)
{
	struct task_slot *s;
	char *cg = NULL;

	if ((m->tk_n + 1) * 2 > m->tk_cap) {
		size_t cap = m->tk_cap ? m->tk_cap * 2 : 64;
		struct task_slot *n = calloc(cap, sizeof(*n));
		if (!n)
			return -1;
		for (size_t i = 0; i < m->tk_cap; i++)
			if (m->tk[i].used)
				*tk_find(n, cap, m->tk[i].t.tid) = m->tk[i];
		free(m->tk);
		m->tk = n;
		m->tk_cap = cap;
	}
	if (t->cgroup && !(cg = strdup(t->cgroup)))
		return -1;
	s = tk_find(m->tk, m->tk_cap, t->tid);
	if (s->used)
		free((char *)s->t.cgroup);
	else
		m->tk_n++;
	s->used = 1;
	s->t = *t;
	s->t.comm[sizeof(s->t.comm) - 1] = 0;
	s->t.cgroup = cg;
	return 0;
}

void meta_forget_tasks(struct mml_meta *m)
{
	for (size_t i = 0; i < m->tk_cap; i++)
		if (m->tk[i].used)
			free((char *)m->tk[i].t.cgroup);
	free(m->tk);
	m->tk = NULL;
	m->tk_cap = m->tk_n = 0;
}

const struct mml_task_info *meta_task(const struct mml_meta *m, uint32_t tid)
{
	struct task_slot *s;

	if (!m->tk_cap)
		return NULL;
	s = tk_find(m->tk, m->tk_cap, tid);
	return s->used ? &s->t : NULL;
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
