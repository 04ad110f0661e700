/* SPDX-License-Identifier: MIT */
/*
 * tdat-file.c: trace.dat headers and ring-buffer pages, read without
 * libtracecmd (tdat-file.h): opening a file, its formats, cmdlines and
 * kallsyms, and its streams. The other parts of the reader are listed in
 * tdat-local.h.
 *
 * Why not libtracecmd: it hands out one malloc'd tep_record per event, and
 * version 1.3 (Debian 12) keeps every decompressed chunk of a v7 file until
 * the handle is closed (its free_zpage() looks the chunk up at the wrong
 * offset, fixed in 1.5), so reading a 10 MB trace.dat took 160 MB. Opening
 * through it also parses every event format of the kernel (2 MB of text)
 * and all of kallsyms, and crashes on some damaged files. Here a stream
 * (one CPU of one buffer) holds at most AHEAD decompressed chunks (a
 * thread decompresses them ahead of the reader), or 256 KiB of pages read
 * ahead; only the formats decode.c reads are parsed;
 * kallsyms waits until a stack needs a symbol.
 *
 * Layout (trace-cmd.dat.v6(5) and .v7(5)). Both start with the magic,
 * the version as a string, endianness, long size and page size. v6 then
 * runs sequentially: header page and event, ftrace formats, event formats
 * by system, kallsyms, printk formats, saved cmdlines, the CPU count,
 * options, then "flyrecord" and an (offset, size) pair per CPU; an
 * instance's BUFFER option points at its own "flyrecord" and pairs. v7
 * names the compression, points at the first options section, and every
 * part is a section (16-byte header, content zstd-compressed when flagged)
 * found through options; a BUFFER option lists the instance's CPUs with
 * the offset and size of each one's data, which in a compressed file is a
 * chunk count and chunks (compressed size, uncompressed size, zstd frame).
 *
 * Every size and offset read from the file is checked against the file
 * before use: a damaged file is an error, a short one reads up to where it
 * ends. Numbers are read as little-endian: a big-endian file (or host) is
 * left to libtracecmd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <traceevent/event-parse.h>
#include "tdat-local.h"

static void parse_header_page(struct tdat_file *f, struct cur *c)
{
	char tag[13];
	uint64_t n;

	if (cur_get(c, tag, 12) || memcmp(tag, "header_page", 12)) {
		c->bad = 1;
		return;
	}
	n = cur_u(c, 8);
	free(f->hpage);
	f->hpage = cur_blob(c, n);
	if (f->hpage)
		tep_parse_header_page(f->tep, f->hpage, n, f->long_size);
	if (cur_get(c, tag, 13) || memcmp(tag, "header_event", 13)) {
		c->bad = 1;
		return;
	}
	free(f->hevent);
	f->hevent = cur_blob(c, cur_u(c, 8));	/* the page walker reads both (tdat-page.c) */
}

/* The ftrace formats: kernel_stack only (decode_stack). */
static void parse_ftrace(struct tdat_file *f, struct cur *c)
{
	static const char want[] = "name: kernel_stack\n";
	uint32_t n = (uint32_t)cur_u(c, 4);

	for (uint32_t i = 0; i < n && !c->bad; i++) {
		uint64_t len = cur_u(c, 8);
		char head[sizeof(want)];
		uint64_t at = c->off;
		if (len < sizeof(want) - 1 || cur_get(c, head, sizeof(want) - 1) ||
		    memcmp(head, want, sizeof(want) - 1)) {
			c->off = at;
			cur_skip(c, len);
			continue;
		}
		c->off = at;
		char *fmt = cur_blob(c, len);
		if (fmt)
			tep_parse_event(f->tep, fmt, len, "ftrace");
		free(fmt);
	}
}

/* The event formats: the mmap_lock and lock systems only. */
static void parse_events(struct tdat_file *f, struct cur *c)
{
	uint32_t nsys = (uint32_t)cur_u(c, 4);

	for (uint32_t s = 0; s < nsys && !c->bad; s++) {
		char sys[256];
		if (cur_str(c, sys, sizeof(sys)))
			return;
		int ours = !strcmp(sys, "mmap_lock") || !strcmp(sys, "lock");
		uint32_t n = (uint32_t)cur_u(c, 4);
		for (uint32_t i = 0; i < n && !c->bad; i++) {
			uint64_t len = cur_u(c, 8);
			if (!ours) {
				cur_skip(c, len);
				continue;
			}
			char *fmt = cur_blob(c, len);
			if (fmt)
				tep_parse_event(f->tep, fmt, len, sys);
			free(fmt);
		}
	}
}

static void parse_cmdlines(struct tdat_file *f, struct cur *c)
{
	char *s = cur_blob(c, cur_u(c, 8));

	if (s)
		tep_parse_saved_cmdlines(f->tep, s);
	free(s);
}

/* A v7 part found through its option: the header page, formats, cmdlines. */
static int part7(struct tdat_file *f, unsigned id, void (*parse)(struct tdat_file *, struct cur *))
{
	struct cur c;
	unsigned char *mem;

	if (!f->sec[id])
		return 0;
	if (tdat_section(f, f->sec[id], id, &c, &mem))
		return -1;
	parse(f, &c);
	free(mem);
	return c.bad ? -1 : 0;
}

static int open7(struct tdat_file *f, struct cur *c)
{
	char name[64], ver[64];

	if (cur_str(c, name, sizeof(name)) || cur_str(c, ver, sizeof(ver)))
		return -1;
	if (!strcmp(name, "zstd"))
		f->zstd = 1;
	else if (strcmp(name, "none"))
		f->unsupported = 1;		/* zlib: libtracecmd's */
	uint64_t opts = cur_u(c, 8);
	if (c->bad || f->unsupported)
		return c->bad ? -1 : 0;
	if (tdat_options7(f, opts))
		return -1;
	if (f->unsupported)
		return 0;
	if (part7(f, OPT_HEADER_INFO, parse_header_page) || part7(f, OPT_FTRACE_EVENTS, parse_ftrace) ||
	    part7(f, OPT_EVENT_FORMATS, parse_events) || part7(f, OPT_CMDLINES, parse_cmdlines))
		return -1;
	/* an instance's data is compressed when its flyrecord section says so */
	for (int i = 0; i < f->nbufs; i++) {
		struct cur h;
		if (!f->bufs[i].ncpu)
			continue;
		cur_file(&h, f->fd, f->bufs[i].sec, f->fsize);
		unsigned id = (unsigned)cur_u(&h, 2), flags = (unsigned)cur_u(&h, 2);
		if (h.bad || id != OPT_BUFFER)
			return -1;
		if ((flags & SEC_COMPRESSED) && !f->zstd)
			return -1;
		f->bufs[i].zip = flags & SEC_COMPRESSED;
	}
	return 0;
}

static int open6(struct tdat_file *f, struct cur *c)
{
	uint64_t v6bufs[64];
	int nv6 = 0;

	parse_header_page(f, c);
	parse_ftrace(f, c);
	parse_events(f, c);
	f->ksyms_len = cur_u(c, 4);
	f->ksyms_off = c->off;
	cur_skip(c, f->ksyms_len);
	cur_skip(c, cur_u(c, 4));		/* printk formats */
	parse_cmdlines(f, c);
	f->cpucount = (int)cur_u(c, 4);
	if (c->bad || f->cpucount < 0 || f->cpucount > 65536)
		return -1;
	tep_set_cpus(f->tep, f->cpucount);
	struct buffer *top = &f->bufs[0];
	if (tdat_flyrecord6(f, c, top, 1, v6bufs, &nv6))
		return -1;
	for (int i = 0; i < nv6 && !f->unsupported; i++) {
		struct cur o;
		char name[256];
		cur_file(&o, f->fd, v6bufs[i], f->fsize);
		uint64_t at = cur_u(&o, 8);
		if (cur_str(&o, name, sizeof(name)))
			return -1;
		struct buffer *b = tdat_add_buffer(f, name);
		cur_file(&o, f->fd, at, f->fsize);
		if (!b || tdat_flyrecord6(f, &o, b, 0, NULL, NULL))
			return -1;
	}
	return 0;
}

static int make_streams(struct tdat_file *f)
{
	for (int i = 0; i < f->nbufs; i++) {
		struct buffer *b = &f->bufs[i];
		for (uint32_t k = 0; k < b->ncpu; k++) {
			if (!b->size[k])
				continue;
			struct stream *n = realloc(f->st, sizeof(*n) * (size_t)(f->nst + 1));
			if (!n)
				return -1;
			f->st = n;
			n = &f->st[f->nst++];
			memset(n, 0, sizeof(*n));
			n->info.buffer = i;
			n->info.cpu = b->cpu[k];
			n->psize = b->psize ? b->psize : f->psize;
			n->zip = b->zip;
			n->chunks = -1;
			n->off = b->off[k];
			n->end = b->off[k] + b->size[k];
			if (n->zip) {
				/* chunks say their own sizes (the stated size runs a few bytes short) */
				n->end = f->fsize;
			} else if (n->end < n->off || n->end > f->fsize) {
				n->end = f->fsize;
				n->cut = 1;
			}
			if (n->off > f->fsize)		/* cut before this CPU's data */
				n->off = n->end = f->fsize;
			if (n->psize < 64 || n->psize > (1u << 24))
				return -1;
		}
	}
	return 0;
}

int tdat_file_open(const char *path, struct tdat_file **out, char *err, size_t errlen)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	struct tdat_file *f = calloc(1, sizeof(*f));
	unsigned char head[10];
	char ver[16];
	struct stat sb;
	struct cur c;
	int rc = -1;

	*out = NULL;
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &sb)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	f->fsize = (uint64_t)sb.st_size;
	f->tep = tep_alloc();
	if (!f->tep)
		goto nomem;
	cur_file(&c, f->fd, 0, f->fsize);
	if (cur_get(&c, head, 10) || memcmp(head, magic, 10) || cur_str(&c, ver, sizeof(ver)))
		goto bad;
	f->version = atoi(ver);
	int big = (int)cur_u(&c, 1);
	f->long_size = (int)cur_u(&c, 1);
	f->psize = (uint32_t)cur_u(&c, 4);
	if (c.bad || (f->version != 6 && f->version != 7))
		goto bad;
	if (big || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) {
		rc = TDAT_UNSUPPORTED;
		goto out;
	}
	tep_set_file_bigendian(f->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(f->tep, TEP_LITTLE_ENDIAN);
	tep_set_long_size(f->tep, f->long_size);
	tep_set_page_size(f->tep, (int)f->psize);
	if (!tdat_add_buffer(f, ""))		/* [0], whatever the order of the options */
		goto nomem;
	if (f->version == 6 ? open6(f, &c) : open7(f, &c))
		goto bad;
	if (f->unsupported) {
		rc = TDAT_UNSUPPORTED;
		goto out;
	}
	if (!f->nbufs || make_streams(f))
		goto bad;
	*out = f;
	return 0;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	goto out;
bad:
	snprintf(err, errlen, "%s: not a readable trace.dat file", path);
out:
	tdat_file_close(f);
	return rc;
}

void tdat_file_close(struct tdat_file *f)
{
	if (!f)
		return;
	tdat_stop_worker(f);
	for (int i = 0; i < f->nst; i++) {
		if (!f->st[i].zip)
			free(f->st[i].buf);
		free(f->st[i].zra);
		for (int k = 0; k < AHEAD; k++) {
			free(f->st[i].q[k].buf);
			if (f->chunk_free)
				f->chunk_free(f->st[i].q[k].user);
		}
	}
	free(f->st);
	for (int i = 0; i < f->nbufs; i++) {
		free(f->bufs[i].name);
		free(f->bufs[i].cpu);
		free(f->bufs[i].off);
		free(f->bufs[i].size);
	}
	free(f->bufs);
	free(f->hpage);
	free(f->hevent);
	if (f->tep)
		tep_free(f->tep);
	ZSTD_freeDCtx(f->dctx);
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

struct tep_handle *tdat_file_tep(struct tdat_file *f)
{
	return f->tep;
}

const char *tdat_file_header_page(const struct tdat_file *f)
{
	return f->hpage;
}

const char *tdat_file_header_event(const struct tdat_file *f)
{
	return f->hevent;
}

int tdat_file_long_size(const struct tdat_file *f)
{
	return f->long_size;
}

uint32_t tdat_file_page_size(const struct tdat_file *f, int i)
{
	return f->st[i].psize;
}

int64_t tdat_file_ts_offset(const struct tdat_file *f)
{
	return f->ts_offset;
}

int tdat_file_nstreams(const struct tdat_file *f)
{
	return f->nst;
}

const struct tdat_stream_info *tdat_file_stream(const struct tdat_file *f, int i)
{
	return &f->st[i].info;
}

int tdat_file_load_kallsyms(struct tdat_file *f)
{
	struct cur c;
	unsigned char *mem = NULL;
	char *text = NULL;

	if (f->ksyms_done)
		return f->ksyms_done > 0 ? 0 : -1;
	f->ksyms_done = -1;
	if (f->version >= 7) {
		if (!f->sec[OPT_KALLSYMS] || tdat_section(f, f->sec[OPT_KALLSYMS], OPT_KALLSYMS, &c, &mem))
			return -1;
		text = cur_blob(&c, cur_u(&c, 4));
	} else if (f->ksyms_len) {
		cur_file(&c, f->fd, f->ksyms_off, f->fsize);
		text = cur_blob(&c, f->ksyms_len);
	}
	free(mem);
	if (!text)
		return -1;
	tep_parse_kallsyms(f->tep, text);
	free(text);
	f->ksyms_done = 1;
	return 0;
}
