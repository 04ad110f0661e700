/* SPDX-License-Identifier: MIT */
/*
 * tdat-file.c: trace.dat headers and ring-buffer pages, read without
 * libtracecmd (tdat-file.h).
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include "tdat-file.h"

#define SEC_COMPRESSED	1		/* v7 section flag */
#define PAD		64		/* zero bytes after the last page of a buffer */
#define READAHEAD	(256u * 1024)	/* uncompressed data read at once, per stream */
#define MAX_BLOB	(256u << 20)	/* a metadata part (kallsyms is ~6 MB) */
#define MAX_CHUNK	(64u << 20)	/* one decompressed chunk (trace-cmd writes ~40 KB) */
#define MAX_OPTSECS	256		/* v7 options sections followed */

enum {				/* v6 and v7 option ids */
	OPT_DONE = 0, OPT_DATE = 1, OPT_BUFFER = 3, OPT_OFFSET = 7, OPT_CPUCOUNT = 8,
	OPT_TIME_SHIFT = 12, OPT_TSC2NSEC = 14, OPT_HEADER_INFO = 16, OPT_FTRACE_EVENTS = 17,
	OPT_EVENT_FORMATS = 18, OPT_KALLSYMS = 19, OPT_CMDLINES = 21, OPT_BUFFER_TEXT = 22,
	OPT_LAST_BOOT_INFO = 24,
};

/* A read position in the file (fd >= 0) or in a decompressed section (mem). */
struct cur {
	int fd;
	const unsigned char *mem;
	uint64_t off, end;		/* next byte; first byte past the readable part */
	int bad;			/* a read went past end */
	unsigned char cache[4096];	/* small reads of the file */
	uint64_t cbase;
	size_t clen;
};

#define AHEAD		8		/* chunks decompressed ahead of the reader, per stream */

/* One decompressed chunk, or a stream's end (status). */
struct slot {
	unsigned char *buf;		/* pages + PAD */
	size_t cap, len;
	unsigned char *zbuf;		/* the compressed chunk */
	size_t zcap;
	int status;			/* when it is a stream's last slot: TDAT_END, _CUT, _BAD */
	uint64_t where;			/* the chunk's offset, for an error */
};

struct stream {
	struct tdat_stream_info info;
	uint64_t off, end;		/* data still to read; end: as the file allows */
	int cut;			/* the file ends before the data was meant to */
	int zip;			/* zstd chunks */
	int64_t chunks;			/* chunks left; -1: count not read yet */
	uint32_t psize;
	unsigned char *buf;		/* pages read ahead + PAD, or the current slot's */
	size_t cap, len, pos;
	uint64_t where;			/* of the data that ended the stream */
	struct slot q[AHEAD];		/* zip: a ring of decompressed chunks (q[0] unthreaded) */
	int qhead, qn;			/* under mu: first slot, slots filled */
	int wend;			/* the last slot holds the stream's end */
	int held;			/* the reader is on q[qhead] */
};

struct buffer {
	char *name;
	uint64_t sec;			/* v7: offset of its flyrecord section */
	int zip;			/* v7: its data is in zstd chunks */
	uint32_t psize, ncpu;
	uint32_t *cpu;
	uint64_t *off, *size;
};

struct tdat_file {
	char path[200];
	int fd;
	uint64_t fsize;
	int version, long_size;
	uint32_t psize;
	int zstd;			/* v7 with zstd compression */
	ZSTD_DCtx *dctx;		/* this thread's */
	struct tep_handle *tep;
	int64_t ts_offset;
	int unsupported;
	int cpucount;			/* the CPUCOUNT option, 0: none */
	uint64_t sec[32];		/* v7: section offsets by option id, 0: none */
	char *hpage, *hevent;		/* the header_page and header_event formats */
	uint64_t ksyms_off, ksyms_len;	/* v6: kallsyms text */
	int ksyms_done;
	struct buffer *bufs;		/* [0]: the top buffer */
	int nbufs;
	struct stream *st;
	int nst;
	int started, threaded, quit;	/* the decompression thread */
	int idle, waiting;		/* under mu: it waits for room, the reader for a chunk */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_ready;
};

/* ---------------------------------------------------------------- reading */

static size_t pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static void cur_file(struct cur *c, int fd, uint64_t off, uint64_t end)
{
	c->fd = fd;
	c->mem = NULL;
	c->off = off;
	c->end = end;
	c->bad = 0;
	c->clen = 0;
}

static void cur_mem(struct cur *c, const unsigned char *mem, size_t len)
{
	c->fd = -1;
	c->mem = mem;
	c->off = 0;
	c->end = len;
	c->bad = 0;
}

static int cur_get(struct cur *c, void *dst, uint64_t n)
{
	if (c->bad || n > c->end - c->off) {
		c->bad = 1;
		memset(dst, 0, n < 16 ? n : 16);
		return -1;
	}
	if (c->mem) {
		memcpy(dst, c->mem + c->off, n);
	} else if (n > sizeof(c->cache) / 2) {
		if (pread_full(c->fd, dst, n, c->off) != n) {
			c->bad = 1;
			return -1;
		}
	} else {
		if (c->off < c->cbase || c->off + n > c->cbase + c->clen) {
			c->cbase = c->off;
			c->clen = pread_full(c->fd, c->cache, sizeof(c->cache), c->off);
			if (c->clen < n) {
				c->bad = 1;
				return -1;
			}
		}
		memcpy(dst, c->cache + (c->off - c->cbase), n);
	}
	c->off += n;
	return 0;
}

static uint64_t cur_u(struct cur *c, int n)	/* a little-endian number of n bytes */
{
	unsigned char b[8];
	uint64_t v = 0;

	if (cur_get(c, b, (uint64_t)n))
		return 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void cur_skip(struct cur *c, uint64_t n)
{
	if (c->bad || n > c->end - c->off)
		c->bad = 1;
	else
		c->off += n;
}

/* A NUL-terminated string of at most max bytes, into dst. */
static int cur_str(struct cur *c, char *dst, size_t max)
{
	for (size_t i = 0; i < max; i++) {
		if (cur_get(c, &dst[i], 1))
			return -1;
		if (!dst[i])
			return 0;
	}
	c->bad = 1;
	return -1;
}

/* n bytes, NUL-terminated, malloc'd. */
static char *cur_blob(struct cur *c, uint64_t n)
{
	char *b;

	if (n > MAX_BLOB || n > c->end - c->off) {
		c->bad = 1;
		return NULL;
	}
	b = malloc(n + 1);
	if (!b)
		return NULL;
	if (cur_get(c, b, n)) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	return b;
}

/* ---------------------------------------------------------------- metadata */

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

/* One zstd frame of srclen bytes into dst (cap bytes). Returns its size, or -1. */
static long unzstd(ZSTD_DCtx **dctx, void *dst, size_t cap, const void *src, size_t srclen)
{
	size_t r;

	if (!*dctx && !(*dctx = ZSTD_createDCtx()))
		return -1;
	r = ZSTD_decompressDCtx(*dctx, dst, cap, src, srclen);
	return ZSTD_isError(r) ? -1 : (long)r;
}

/*
 * A v7 section of type id at off: c reads its content (decompressed into
 * *mem, to be freed, when the section is compressed). 0, or -1.
 */
static int section(struct tdat_file *f, uint64_t off, unsigned id, struct cur *c, unsigned char **mem)
{
	struct cur h;

	*mem = NULL;
	cur_file(&h, f->fd, off, f->fsize);
	unsigned sid = (unsigned)cur_u(&h, 2), flags = (unsigned)cur_u(&h, 2);
	cur_u(&h, 4);				/* its description's string id */
	uint64_t size = cur_u(&h, 8);
	if (h.bad || sid != id)
		return -1;
	if (!(flags & SEC_COMPRESSED)) {
		cur_file(c, f->fd, h.off, size > f->fsize - h.off ? f->fsize : h.off + size);
		return 0;
	}
	if (!f->zstd)
		return -1;
	uint32_t zlen = (uint32_t)cur_u(&h, 4), len = (uint32_t)cur_u(&h, 4);
	char *z = cur_blob(&h, zlen);
	if (!z || len > MAX_BLOB || !(*mem = malloc(len ? len : 1))) {
		free(z);
		return -1;
	}
	long got = unzstd(&f->dctx, *mem, len, z, zlen);
	free(z);
	if (got < 0) {
		free(*mem);
		*mem = NULL;
		return -1;
	}
	cur_mem(c, *mem, (size_t)got);
	return 0;
}

static struct buffer *add_buffer(struct tdat_file *f, const char *name)
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
	struct buffer *b = add_buffer(f, name);
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
static int options7(struct tdat_file *f, uint64_t off)
{
	for (int n = 0; off && n < MAX_OPTSECS; n++) {
		struct cur c;
		unsigned char *mem;
		if (section(f, off, OPT_DONE, &c, &mem))
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

/* A v7 part found through its option: the header page, formats, cmdlines. */
static int part7(struct tdat_file *f, unsigned id, void (*parse)(struct tdat_file *, struct cur *))
{
	struct cur c;
	unsigned char *mem;

	if (!f->sec[id])
		return 0;
	if (section(f, f->sec[id], id, &c, &mem))
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
	if (options7(f, opts))
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

/* v6: "flyrecord" (after options, if any) and n (offset, size) pairs, at c. */
static int flyrecord6(struct tdat_file *f, struct cur *c, struct buffer *b, int top,
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
	if (flyrecord6(f, c, top, 1, v6bufs, &nv6))
		return -1;
	for (int i = 0; i < nv6 && !f->unsupported; i++) {
		struct cur o;
		char name[256];
		cur_file(&o, f->fd, v6bufs[i], f->fsize);
		uint64_t at = cur_u(&o, 8);
		if (cur_str(&o, name, sizeof(name)))
			return -1;
		struct buffer *b = add_buffer(f, name);
		cur_file(&o, f->fd, at, f->fsize);
		if (!b || flyrecord6(f, &o, b, 0, NULL, NULL))
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

static void stop_worker(struct tdat_file *f);

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
	if (!add_buffer(f, ""))		/* [0], whatever the order of the options */
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
	stop_worker(f);
	for (int i = 0; i < f->nst; i++) {
		if (!f->st[i].zip)
			free(f->st[i].buf);
		for (int k = 0; k < AHEAD; k++) {
			free(f->st[i].q[k].buf);
			free(f->st[i].q[k].zbuf);
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

struct kbuffer *tdat_file_kbuffer(struct tdat_file *f)
{
	int ls = tep_get_header_page_size(f->tep);
	struct kbuffer *kb;

	if (ls != 4 && ls != 8)
		ls = f->long_size;
	kb = kbuffer_alloc(ls == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4, KBUFFER_ENDIAN_LITTLE);
	if (kb && tep_is_old_format(f->tep))
		kbuffer_set_old_format(kb);
	return kb;
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
		if (!f->sec[OPT_KALLSYMS] || section(f, f->sec[OPT_KALLSYMS], OPT_KALLSYMS, &c, &mem))
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

/* ---------------------------------------------------------------- pages */

static int grow(unsigned char **b, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	unsigned char *n = realloc(*b, need);
	if (!n)
		return -1;
	*b = n;
	*cap = need;
	return 0;
}

/* Refill s->buf with whole pages. 1: some, 0: none left (status set). */
static int refill_plain(struct tdat_file *f, struct stream *s, int *status)
{
	uint64_t left = s->end - s->off;
	size_t want = READAHEAD - READAHEAD % s->psize;

	if (want < s->psize)
		want = s->psize;
	if (left < want)
		want = (size_t)(left - left % s->psize);	/* a last partial page is not a page */
	if (!want) {
		*status = s->cut ? TDAT_CUT : TDAT_END;
		return 0;
	}
	if (grow(&s->buf, &s->cap, want + PAD)) {
		*status = TDAT_BAD;
		return 0;
	}
	size_t got = pread_full(f->fd, s->buf, want, s->off);
	got -= got % s->psize;
	if (!got) {
		*status = TDAT_CUT;
		return 0;
	}
	memset(s->buf + got, 0, PAD);
	s->off += got;
	s->len = got;
	s->pos = 0;
	return 1;
}

/*
 * The next chunk of stream s into sl (the worker's, or the reader's when
 * there is no worker). 1, or 0 with sl->status (and sl->where) set.
 */
static int chunk(struct tdat_file *f, ZSTD_DCtx **dctx, struct stream *s, struct slot *sl)
{
	struct cur c;

	cur_file(&c, f->fd, s->off, s->end);
	sl->where = s->off;
	if (s->chunks < 0)
		s->chunks = (int64_t)cur_u(&c, 4);
	if (!s->chunks) {
		sl->status = c.bad ? TDAT_CUT : TDAT_END;
		return 0;
	}
	uint32_t zlen = (uint32_t)cur_u(&c, 4), len = (uint32_t)cur_u(&c, 4);
	if (c.bad || zlen > s->end - c.off) {
		sl->status = TDAT_CUT;		/* the file ends inside the chunk */
		return 0;
	}
	sl->where = c.off - 8;
	sl->status = TDAT_BAD;
	if (!len || len > MAX_CHUNK || grow(&sl->zbuf, &sl->zcap, zlen ? zlen : 1) ||
	    grow(&sl->buf, &sl->cap, (size_t)len + s->psize + PAD) ||
	    pread_full(f->fd, sl->zbuf, zlen, c.off) != zlen)
		return 0;
	long got = unzstd(dctx, sl->buf, len, sl->zbuf, zlen);
	if (got <= 0)
		return 0;
	size_t whole = ((size_t)got + s->psize - 1) / s->psize * s->psize;
	memset(sl->buf + got, 0, whole - (size_t)got + PAD);
	s->off = c.off + zlen;
	s->chunks--;
	sl->len = whole;
	sl->status = TDAT_END;
	return 1;
}

/*
 * The decompression thread: keeps every compressed stream AHEAD chunks
 * ahead of the reader, round robin, and ends a stream's queue with a slot
 * that carries its final status. The reader only waits when a queue is
 * empty. Streams' off/chunks belong to this thread once it runs.
 */
static void *worker(void *arg)
{
	struct tdat_file *f = arg;
	ZSTD_DCtx *dctx = NULL;
	int next = 0;

	pthread_mutex_lock(&f->mu);
	while (!f->quit) {
		struct stream *s = NULL;
		for (int k = 0; k < f->nst && !s; k++) {
			struct stream *c = &f->st[(next + k) % f->nst];
			if (c->zip && !c->wend && c->qn < AHEAD) {
				s = c;
				next = (next + k + 1) % f->nst;
			}
		}
		if (!s) {
			f->idle = 1;
			pthread_cond_wait(&f->cv_work, &f->mu);
			f->idle = 0;
			continue;
		}
		struct slot *sl = &s->q[(s->qhead + s->qn) % AHEAD];
		pthread_mutex_unlock(&f->mu);
		int ok = chunk(f, &dctx, s, sl);
		pthread_mutex_lock(&f->mu);
		s->qn++;
		if (!ok)
			s->wend = 1;
		if (f->waiting)			/* wake-ups cost more than a chunk: only when needed */
			pthread_cond_signal(&f->cv_ready);
	}
	pthread_mutex_unlock(&f->mu);
	ZSTD_freeDCtx(dctx);
	return NULL;
}

static void start_worker(struct tdat_file *f)
{
	int zip = 0;

	f->started = 1;
	for (int i = 0; i < f->nst; i++)
		zip |= f->st[i].zip;
	if (!zip || pthread_mutex_init(&f->mu, NULL))
		return;
	if (pthread_cond_init(&f->cv_work, NULL) || pthread_cond_init(&f->cv_ready, NULL) ||
	    pthread_create(&f->th, NULL, worker, f)) {
		pthread_mutex_destroy(&f->mu);
		return;			/* the reader decompresses itself */
	}
	f->threaded = 1;
}

static void stop_worker(struct tdat_file *f)
{
	if (!f->threaded)
		return;
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_broadcast(&f->cv_work);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	pthread_cond_destroy(&f->cv_work);
	pthread_cond_destroy(&f->cv_ready);
	pthread_mutex_destroy(&f->mu);
	f->threaded = 0;
}

/* The next chunk of a compressed stream, as the reader sees it. NULL: final status in it. */
static struct slot *next_chunk(struct tdat_file *f, struct stream *s)
{
	struct slot *sl;

	if (!f->threaded) {
		sl = &s->q[0];
		if (!s->wend && !chunk(f, &f->dctx, s, sl))
			s->wend = 1;
		return s->wend ? NULL : sl;
	}
	pthread_mutex_lock(&f->mu);
	if (s->held) {				/* the chunk just read out: its slot is free */
		s->qhead = (s->qhead + 1) % AHEAD;
		s->qn--;
		s->held = 0;
		if (f->idle && s->qn <= AHEAD / 2)	/* wake it for a few chunks, not for each */
			pthread_cond_signal(&f->cv_work);
	}
	while (!s->qn) {
		f->waiting = 1;
		pthread_cond_wait(&f->cv_ready, &f->mu);
		f->waiting = 0;
	}
	sl = &s->q[s->qhead];
	int last = s->wend && s->qn == 1;
	pthread_mutex_unlock(&f->mu);
	if (last)
		return NULL;			/* the final slot stays: every later call ends here */
	s->held = 1;
	return sl;
}

void *tdat_file_page(struct tdat_file *f, int i, int *status, char *err, size_t errlen)
{
	struct stream *s = &f->st[i];

	*status = TDAT_END;
	if (!f->started)
		start_worker(f);
	if (s->pos >= s->len) {
		int ok;
		if (s->zip) {
			struct slot *sl = next_chunk(f, s);
			ok = sl != NULL;
			if (sl) {
				s->buf = sl->buf;
				s->len = sl->len;
				s->pos = 0;
			} else {
				sl = f->threaded ? &s->q[s->qhead] : &s->q[0];
				*status = sl->status;
				s->where = sl->where;
			}
		} else {
			s->where = s->off;
			ok = refill_plain(f, s, status);
		}
		if (!ok) {
			s->len = s->pos = 0;
			if (*status == TDAT_BAD)
				snprintf(err, errlen, "%s: damaged trace data (CPU %u of buffer %d, "
					 "offset %llu)", f->path, s->info.cpu, s->info.buffer,
					 (unsigned long long)s->where);
			return NULL;
		}
	}
	void *p = s->buf + s->pos;
	s->pos += s->psize;
	return p;
}
