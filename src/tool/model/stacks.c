/* SPDX-License-Identifier: MIT */
/*
 * stacks.c: the stack table of stacks.h. Two open-addressing indexes over
 * one array of entries: by id, and by a hash of the frames (for interning).
 * An entry owns one allocation: the addresses, the symbol pointers and the
 * symbol bytes together. Entries never move once made, so a pointer from
 * stacktab_get() stays valid until the table is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "stacks.h"

struct ent {
	struct mml_stack s;		/* s.addr / s.sym point into mem */
	uint64_t hash;
	void *mem;
};

struct stacktab {
	struct ent **e;			/* entries, in order of definition */
	size_t n, cap;
	uint32_t *byid, *byhash;	/* index + 1 into e; 0 empty */
	size_t icap;			/* power of two, > 2 n */
	uint32_t max_id;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t frames_hash(const uint64_t *addr, const char *const *sym, unsigned n)
{
	uint64_t h = 1469598103934665603ull ^ n;

	for (unsigned i = 0; i < n; i++) {
		const char *p = sym[i] ? sym[i] : "";
		h = (h ^ (addr ? addr[i] : 0)) * 1099511628211ull;
		while (*p)
			h = (h ^ (unsigned char)*p++) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return mix(h);
}

static int same(const struct ent *x, const uint64_t *addr, const char *const *sym, unsigned n)
{
	if (x->s.n != n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (x->s.addr[i] != (addr ? addr[i] : 0))
			return 0;
		if (strcmp(x->s.sym[i], sym[i] ? sym[i] : ""))
			return 0;
	}
	return 1;
}

struct stacktab *stacktab_new(void)
{
	return calloc(1, sizeof(struct stacktab));
}

void stacktab_free(struct stacktab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i]->mem), free(t->e[i]);
	free(t->e);
	free(t->byid);
	free(t->byhash);
	free(t);
}

static size_t slot_id(const struct stacktab *t, uint32_t id)
{
	size_t m = t->icap - 1, i = mix(id) & m;

	while (t->byid[i] && t->e[t->byid[i] - 1]->s.id != id)
		i = (i + 1) & m;
	return i;
}

static size_t slot_hash(const struct stacktab *t, uint64_t h, const uint64_t *addr,
			const char *const *sym, unsigned n)
{
	size_t m = t->icap - 1, i = h & m;

	while (t->byhash[i]) {
		const struct ent *x = t->e[t->byhash[i] - 1];
		if (x->hash == h && same(x, addr, sym, n))
			break;
		i = (i + 1) & m;
	}
	return i;
}

static int reindex(struct stacktab *t, size_t icap)
{
	uint32_t *bi = calloc(icap, sizeof(*bi)), *bh = calloc(icap, sizeof(*bh));

	if (!bi || !bh) {
		free(bi);
		free(bh);
		errno = ENOMEM;
		return -1;
	}
	free(t->byid);
	free(t->byhash);
	t->byid = bi;
	t->byhash = bh;
	t->icap = icap;
	for (size_t k = 0; k < t->n; k++) {
		const struct ent *x = t->e[k];
		size_t i = slot_id(t, x->s.id);
		t->byid[i] = (uint32_t)k + 1;	/* a redefined id: the later entry wins */
		i = slot_hash(t, x->hash, x->s.addr, x->s.sym, x->s.n);
		if (!t->byhash[i])
			t->byhash[i] = (uint32_t)k + 1;
	}
	return 0;
}

/* Append an entry for id; returns its index or -1. */
static long add(struct stacktab *t, uint32_t id, uint64_t h, const uint64_t *addr,
		const char *const *sym, unsigned n)
{
	size_t bytes = 0;

	if ((t->n + 1) * 2 > t->icap && reindex(t, t->icap ? t->icap * 2 : 64))
		return -1;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		struct ent **ne = realloc(t->e, nc * sizeof(*ne));
		if (!ne)
			return -1;
		t->e = ne;
		t->cap = nc;
	}
	for (unsigned i = 0; i < n; i++)
		bytes += strlen(sym[i] ? sym[i] : "") + 1;
	struct ent *x = malloc(sizeof(*x));
	unsigned char *mem = malloc(n * (sizeof(uint64_t) + sizeof(char *)) + bytes + 1);
	if (!x || !mem) {
		free(x);
		free(mem);
		return -1;
	}
	uint64_t *a = (uint64_t *)mem;
	char **s = (char **)(mem + n * sizeof(uint64_t));
	char *p = (char *)(mem + n * (sizeof(uint64_t) + sizeof(char *)));
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(sym[i] ? sym[i] : "");
		a[i] = addr ? addr[i] : 0;
		memcpy(p, sym[i] ? sym[i] : "", l + 1);
		s[i] = p;
		p += l + 1;
	}
	t->e[t->n] = x;
	x->s.id = id;
	x->s.n = (uint16_t)n;
	x->s.addr = a;
	x->s.sym = (const char *const *)s;
	x->hash = h;
	x->mem = mem;
	t->byid[slot_id(t, id)] = (uint32_t)t->n + 1;
	size_t hi = slot_hash(t, h, addr, sym, n);
	if (!t->byhash[hi])
		t->byhash[hi] = (uint32_t)t->n + 1;
	if (id > t->max_id)
		t->max_id = id;
	return (long)t->n++;
}

uint32_t stacktab_intern(struct stacktab *t, const uint64_t *addr, const char *const *sym,
			 unsigned n, int *is_new)
{
	if (is_new)
		*is_new = 0;
	if (n > STACK_MAX_FRAMES)
		n = STACK_MAX_FRAMES;
	uint64_t h = frames_hash(addr, sym, n);
	if (t->icap) {
		size_t i = slot_hash(t, h, addr, sym, n);
		if (t->byhash[i])
			return t->e[t->byhash[i] - 1]->s.id;
	}
	if (t->max_id == UINT32_MAX)
		return 0;
	long k = add(t, t->max_id + 1, h, addr, sym, n);
	if (k < 0)
		return 0;
	if (is_new)
		*is_new = 1;
	return t->e[k]->s.id;
}

int stacktab_set(struct stacktab *t, uint32_t id, const uint64_t *addr,
		 const char *const *sym, unsigned n)
{
	if (!id) {
		errno = EINVAL;
		return -1;
	}
	if (n > STACK_MAX_FRAMES)
		n = STACK_MAX_FRAMES;
	return add(t, id, frames_hash(addr, sym, n), addr, sym, n) < 0 ? -1 : 0;
}

const struct mml_stack *stacktab_get(const struct stacktab *t, uint32_t id)
{
	if (!t || !t->icap || !id)
		return NULL;
	size_t i = slot_id(t, id);
	return t->byid[i] ? &t->e[t->byid[i] - 1]->s : NULL;
}

size_t stacktab_count(const struct stacktab *t)
{
	return t ? t->n : 0;
}

int stack_is_trace_frame(const char *sym)
{
	static const char *const prefix[] = {
		"trace_event_raw_event_", "perf_trace_", "__traceiter_", "__probestub_",
		"__mmap_lock_do_trace_", "event_triggers_", "trace_event_buffer_",
		"__ftrace_trace_stack", "__trace_stack", "ftrace_", "stack_trace_",
		"arch_stack_walk", "__bpf_trace_", "bpf_trace_run",
	};

	if (!sym)
		return 0;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (!strncmp(sym, prefix[i], strlen(prefix[i])))
			return 1;
	return 0;
}

const char *stack_func(const char *sym, char *buf, size_t len)
{
	size_t n = strcspn(sym ? sym : "", "+ ");

	if (!len)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, sym ? sym : "", n);
	buf[n] = '\0';
	return buf;
}
