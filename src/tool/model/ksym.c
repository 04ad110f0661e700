/* SPDX-License-Identifier: MIT */
/*
 * ksym.c: /proc/kallsyms as a sorted array (see ksym.h). Only text symbols
 * (t, T, w, W) are kept: stacks hold return addresses, which are code. A
 * symbol's size is the distance to the next text symbol, as the kernel's
 * own %pS computes it from kallsyms; the last symbol of a module (or of the
 * kernel) gets no size and is matched only up to 1 MiB past its start.
 * All names live in one string pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "ksym.h"

struct ksym {
	uint64_t addr;
	uint32_t name, mod;		/* offsets into pool; mod 0: the kernel */
};

struct ksyms {
	struct ksym *s;
	size_t n, cap;
	char *pool;
	size_t plen, pcap;
};

#define LAST_SPAN (1u << 20)

static long pool_add(struct ksyms *k, const char *s, size_t len)
{
	if (ARRAY_RESERVE(k->pool, k->pcap, k->plen + len + 1, 1 << 20) < 0)
		return -1;
	memcpy(k->pool + k->plen, s, len);
	k->pool[k->plen + len] = '\0';
	k->plen += len + 1;
	return (long)(k->plen - len - 1);
}

static int cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;	/* aliases: the file's order */
}

struct ksyms *ksyms_load(const char *path)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r");
	struct ksyms *k;
	char line[512], lastmod[128] = "";
	long lastmod_off = 0;
	int e = 0;

	if (!f)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k || pool_add(k, "", 0) < 0) {	/* offset 0: "" */
		e = ENOMEM;
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		uint64_t a = strtoull(p, &end, 16);
		if (end == p || end[0] != ' ' || !a)
			continue;
		char t = end[1];
		if (t != 't' && t != 'T' && t != 'w' && t != 'W')
			continue;
		char *name = end + 3;
		size_t nl = strcspn(name, "\t\n");
		char *mod = name[nl] == '\t' ? name + nl + 1 : NULL;
		long mo = 0;
		if (mod && *mod == '[') {
			size_t ml = strcspn(mod + 1, "]");
			if (ml >= sizeof(lastmod))
				ml = sizeof(lastmod) - 1;
			if (strncmp(lastmod, mod + 1, ml) || lastmod[ml]) {
				memcpy(lastmod, mod + 1, ml);
				lastmod[ml] = '\0';
				lastmod_off = pool_add(k, lastmod, ml);
			}
			mo = lastmod_off;
		}
		long no = pool_add(k, name, nl);
		if (no < 0 || mo < 0) {
			e = ENOMEM;
			goto fail;
		}
		if (ARRAY_RESERVE(k->s, k->cap, k->n + 1, 65536) < 0) {
			e = ENOMEM;
			goto fail;
		}
		k->s[k->n++] = (struct ksym){ a, (uint32_t)no, (uint32_t)mo };
	}
	fclose(f);
	f = NULL;
	if (!k->n) {
		e = ENODATA;
		goto fail;
	}
	qsort(k->s, k->n, sizeof(*k->s), cmp);
	return k;
fail:
	if (f)
		fclose(f);
	ksyms_free(k);
	errno = e ? e : EIO;
	return NULL;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->s);
	free(k->pool);
	free(k);
}

size_t ksyms_count(const struct ksyms *k)
{
	return k ? k->n : 0;
}

const char *ksyms_name(const struct ksyms *k, uint64_t addr, char *buf, size_t len)
{
	size_t lo = 0, hi = k ? k->n : 0;

	while (lo < hi) {		/* the last symbol at or below addr */
		size_t mid = lo + (hi - lo) / 2;
		if (k->s[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo) {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return buf;
	}
	const struct ksym *s = &k->s[lo - 1];
	const struct ksym *nx = lo < k->n ? &k->s[lo] : NULL;
	uint64_t off = addr - s->addr;
	int same_mod = nx && nx->mod == s->mod;
	if (!same_mod && off >= LAST_SPAN) {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return buf;
	}
	const char *mod = s->mod ? k->pool + s->mod : NULL;
	if (same_mod)
		snprintf(buf, len, "%s+0x%llx/0x%llx%s%s%s", k->pool + s->name,
			 (unsigned long long)off, (unsigned long long)(nx->addr - s->addr),
			 mod ? " [" : "", mod ? mod : "", mod ? "]" : "");
	else
		snprintf(buf, len, "%s+0x%llx%s%s%s", k->pool + s->name, (unsigned long long)off,
			 mod ? " [" : "", mod ? mod : "", mod ? "]" : "");
	return buf;
}
