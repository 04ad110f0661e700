/* SPDX-License-Identifier: MIT */
/*
 * stacks.c: the stack table of stacks.h. Two hashmap.h indexes over one
 * array of entries: by id, and by the frames (for interning).
 * An entry owns one allocation: the addresses, the symbol pointers and the
 * symbol bytes together. Entries never move once made, so a pointer from
 * stacktab_get() stays valid until the table is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "hashmap.h"
#include "stacks.h"

struct ent {
	struct mml_stack s;		/* s.addr / s.sym point into mem */
	uint64_t hash;
	void *mem;
};

/* The frames of a stack as a key: addr NULL reads as zeros, a NULL sym as "". */
struct frames {
	uint64_t hash;			/* frames_hash() */
	const uint64_t *addr;
	const char *const *sym;
	unsigned n;
};

static uint64_t frames_hash(const uint64_t *addr, const char *const *sym, unsigned n)
{
	uint64_t h = hash64(n);

	for (unsigned i = 0; i < n; i++)
		h = hash64_pair(h ^ hash_str(sym[i] ? sym[i] : ""), addr ? addr[i] : 0);
	return h;
}

static int frames_eq(struct frames a, struct frames b)
{
	if (a.hash != b.hash || a.n != b.n)
		return 0;
	for (unsigned i = 0; i < a.n; i++) {
		if ((a.addr ? a.addr[i] : 0) != (b.addr ? b.addr[i] : 0))
			return 0;
		if (strcmp(a.sym[i] ? a.sym[i] : "", b.sym[i] ? b.sym[i] : ""))
			return 0;
	}
	return 1;
}

typedef struct ent *ent_p;
#define ID_KEY(e) ((*(e))->s.id)
#define FRAMES_KEY(e) ((struct frames){ (*(e))->hash, (*(e))->s.addr, (*(e))->s.sym, (*(e))->s.n })
#define FRAMES_HASH(k) ((k).hash)
#define ENT_USED(e) (*(e) != NULL)
HASHMAP_DEFINE(byid, ent_p, uint32_t, hash64, ID_KEY, HASHMAP_NUM_EQ, ENT_USED)
HASHMAP_DEFINE(byframes, ent_p, struct frames, FRAMES_HASH, FRAMES_KEY, frames_eq, ENT_USED)

struct stacktab {
	struct ent **e;			/* entries, in order of definition */
	size_t n, cap;
	struct byid byid;
	struct byframes byframes;
	uint32_t max_id;
};

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
	byid_fini(&t->byid);
	byframes_fini(&t->byframes);
	free(t);
}

/* Index x: a redefined id finds the later entry, a repeated stack the first. */
static int index_ent(struct stacktab *t, struct ent *x)
{
	int fnew, inew;
	struct ent **f = byframes_add(&t->byframes, FRAMES_KEY(&x), &fnew);
	struct ent **i;

	if (!f)
		return -1;
	if (fnew)
		*f = x;
	i = byid_add(&t->byid, x->s.id, &inew);
	if (!i) {
		if (fnew)
			byframes_del(&t->byframes, f);
		return -1;
	}
	*i = x;
	return 0;
}

/* Append an entry for id; returns its index or -1. */
static long add(struct stacktab *t, uint32_t id, uint64_t h, const uint64_t *addr,
		const char *const *sym, unsigned n)
{
	size_t bytes = 0;

	if (ARRAY_RESERVE(t->e, t->cap, t->n + 1, 64) < 0)
		return -1;
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
	x->s.id = id;
	x->s.n = (uint16_t)n;
	x->s.addr = a;
	x->s.sym = (const char *const *)s;
	x->hash = h;
	x->mem = mem;
	if (index_ent(t, x)) {
		free(x);
		free(mem);
		errno = ENOMEM;
		return -1;
	}
	t->e[t->n] = x;
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
	struct ent **f = byframes_find(&t->byframes, (struct frames){ h, addr, sym, n });
	if (f)
		return (*f)->s.id;
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
	struct ent **x = t && id ? byid_find(&t->byid, id) : NULL;

	return x ? &(*x)->s : NULL;
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
