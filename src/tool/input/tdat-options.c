/* SPDX-License-Identifier: MIT */
/*
 * tdat-options.c: a trace.dat's options (tdat-local.h): where each buffer
 * (the top one and every instance) keeps each CPU's ring-buffer data, the
 * DATE and OFFSET time offsets, the v7 sections of the other parts, and
 * the options that make a file one for libtracecmd (time conversions,
 * text buffers: f->unsupported). v6 options sit before "flyrecord"; an
 * instance's BUFFER option points at its own "flyrecord". v7 options live
 * in a chain of option sections; a BUFFER option lists its CPUs' data.
 */
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "tdat-local.h"

struct buffer *tdat_add_buffer(struct tdat_file *f, const char *name)
{
	struct buffer *b;

	if (!*name && f->nbufs)
		return &f->bufs[0];		/* the top buffer: made first, in open() */
	b = realloc(f->bufs, sizeof(*b) * (size_t)(f->nbufs + 1));
	if (!b)
		return NULL;
	f->bufs = b;
	b = &f->bufs[f->nbufs++];
	memset(b, 0, sizeof(*b));
	b->name = strdup(name);
	return b->name ? b : NULL;
}

static int buffer_cpus(struct buffer *b, uint32_t n)
{
	if (n > 65536)
		return -1;
	b->ncpu = n;
	b->cpu = calloc(n ? n : 1, sizeof(*b->cpu));
	b->off = calloc(n ? n : 1, sizeof(*b->off));
	b->size = calloc(n ? n : 1, sizeof(*b->size));
	return b->cpu && b->off && b->size ? 0 : -1;
}

/* v7 BUFFER: section offset, name, clock, page size, CPUs (id, offset, size). */
static int opt_buffer7(struct tdat_file *f, struct cur *o)
{
	char name[256], clock[256];
	uint64_t sec = cur_u(o, 8);

	if (cur_str(o, name, sizeof(name)) || cur_str(o, clock, sizeof(clock)))
		return -1;
	struct buffer *b = tdat_add_buffer(f, name);
	if (!b)
		return -1;
	b->sec = sec;
	b->psize = (uint32_t)cur_u(o, 4);
	if (buffer_cpus(b, (uint32_t)cur_u(o, 4)))
		return -1;
	for (uint32_t i = 0; i < b->ncpu; i++) {
		b->cpu[i] = (uint32_t)cur_u(o, 4);
		b->off[i] = cur_u(o, 8);
		b->size[i] = cur_u(o, 8);
	}
	return o->bad ? -1 : 0;
}

/*
 * One option (id, its data in o). v6 instance options (top == 0) may not
 * move time. 0, or -1 (damaged).
 */
static int option(struct tdat_file *f, unsigned id, struct cur *o, int top, uint64_t *v6bufs,
		  int *nv6)
{
	char s[64];

	switch (id) {
	case OPT_DATE:
	case OPT_OFFSET: {
		size_t n = o->end - o->off < sizeof(s) - 1 ? (size_t)(o->end - o->off) : sizeof(s) - 1;
		if (cur_get(o, s, n))
			return -1;
		s[n] = '\0';
		long long v = strtoll(s, NULL, 0);
		if (!top)
			f->unsupported = 1;
		f->ts_offset += id == OPT_DATE ? v * 1000 : v;	/* DATE: us */
		return 0;
	}
	case OPT_BUFFER:
		if (f->version >= 7)
			return opt_buffer7(f, o);
		if (v6bufs && *nv6 < 64)
			v6bufs[(*nv6)++] = o->off;	/* offset, then its name */
		return 0;
	case OPT_CPUCOUNT:
		f->cpucount = (int)cur_u(o, 4);
		tep_set_cpus(f->tep, f->cpucount);
		return 0;
	case OPT_TIME_SHIFT:
	case OPT_TSC2NSEC:
		if (o->end - o->off >= 16)
			f->unsupported = 1;	/* time conversions libtracecmd does */
		return 0;
	case OPT_BUFFER_TEXT:
	case OPT_LAST_BOOT_INFO:
		f->unsupported = 1;
		return 0;
	default:
		if (id >= OPT_HEADER_INFO && id < 32 && o->end - o->off >= 8)
			f->sec[id] = cur_u(o, 8);
		return 0;
	}
}

/* v7: every options section, from the one the header points at. */
int tdat_options7(struct tdat_file *f, uint64_t off)
{
	for (int n = 0; off && n < MAX_OPTSECS; n++) {
		struct cur c;
		unsigned char *mem;
		if (tdat_section(f, off, OPT_DONE, &c, &mem))
			return -1;
		off = 0;
		for (;;) {
			unsigned id = (unsigned)cur_u(&c, 2);
			uint32_t size = (uint32_t)cur_u(&c, 4);
			if (c.bad || size > c.end - c.off)
				goto bad;
			struct cur o = c;
			o.end = c.off + size;
			if (id == OPT_DONE) {
				off = cur_u(&o, 8);
				break;
			}
			if (option(f, id, &o, 1, NULL, NULL))
				goto bad;
			c.off += size;
		}
		free(mem);
		continue;
bad:
		free(mem);
		return -1;
	}
	return 0;
}

/* v6: "flyrecord" (after options, if any) and n (offset, size) pairs, at c. */
int tdat_flyrecord6(struct tdat_file *f, struct cur *c, struct buffer *b, int top,
		      uint64_t *v6bufs, int *nv6)
{
	char tag[10];

	if (cur_get(c, tag, 10))
		return -1;
	if (!memcmp(tag, "options", 7)) {
		for (;;) {
			unsigned id = (unsigned)cur_u(c, 2);
			if (c->bad)
				return -1;
			if (id == OPT_DONE)
				break;
			uint32_t size = (uint32_t)cur_u(c, 4);
			if (c->bad || size > c->end - c->off)
				return -1;
			struct cur o;
			cur_file(&o, f->fd, c->off, c->off + size);
			if (option(f, id, &o, top, v6bufs, nv6))
				return -1;
			cur_skip(c, size);
		}
		if (cur_get(c, tag, 10))
			return -1;
	}
	if (!memcmp(tag, "latency", 7)) {
		f->unsupported = 1;
		return 0;
	}
	if (memcmp(tag, "flyrecord", 10))
		return -1;
	int n = f->cpucount;
	if (buffer_cpus(b, (uint32_t)n))
		return -1;
	for (int i = 0; i < n; i++) {
		b->cpu[i] = (uint32_t)i;
		b->off[i] = cur_u(c, 8);
		b->size[i] = cur_u(c, 8);
	}
	return c->bad ? -1 : 0;
}
