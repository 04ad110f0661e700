/* SPDX-License-Identifier: MIT */
/*
 * tdat-cur.c: bounded reads of a trace.dat (tdat-local.h). A cursor reads
 * the file (small reads served from a 4 KiB cache: the headers are read a
 * few bytes at a time) or a v7 section decompressed in memory; a read past
 * the cursor's end sets c->bad and returns zeros, so a parser can read a
 * whole structure and check once. Numbers are little-endian (tdat-file.c
 * leaves big-endian files to libtracecmd).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tdat-local.h"

size_t tdat_pread(int fd, void *buf, size_t n, uint64_t off)
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

void cur_file(struct cur *c, int fd, uint64_t off, uint64_t end)
{
	c->fd = fd;
	c->mem = NULL;
	c->off = off;
	c->end = end;
	c->bad = 0;
	c->clen = 0;
}

void cur_mem(struct cur *c, const unsigned char *mem, size_t len)
{
	c->fd = -1;
	c->mem = mem;
	c->off = 0;
	c->end = len;
	c->bad = 0;
}

int cur_get(struct cur *c, void *dst, uint64_t n)
{
	/* off past end (an offset read from the file): end - off would wrap */
	if (c->bad || c->off > c->end || n > c->end - c->off) {
		c->bad = 1;
		memset(dst, 0, n < 16 ? n : 16);
		return -1;
	}
	if (c->mem) {
		memcpy(dst, c->mem + c->off, n);
	} else if (n > sizeof(c->cache) / 2) {
		if (tdat_pread(c->fd, dst, n, c->off) != n) {
			c->bad = 1;
			return -1;
		}
	} else {
		if (c->off < c->cbase || c->off + n > c->cbase + c->clen) {
			c->cbase = c->off;
			c->clen = tdat_pread(c->fd, c->cache, sizeof(c->cache), c->off);
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

uint64_t cur_u(struct cur *c, int n)	/* a little-endian number of n bytes */
{
	unsigned char b[8];
	uint64_t v = 0;

	if (cur_get(c, b, (uint64_t)n))
		return 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

void cur_skip(struct cur *c, uint64_t n)
{
	if (c->bad || c->off > c->end || n > c->end - c->off)
		c->bad = 1;
	else
		c->off += n;
}

/* A NUL-terminated string of at most max bytes, into dst. */
int cur_str(struct cur *c, char *dst, size_t max)
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
char *cur_blob(struct cur *c, uint64_t n)
{
	char *b;

	if (n > MAX_BLOB || c->off > c->end || n > c->end - c->off) {
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

/* One zstd frame of srclen bytes into dst (cap bytes). Returns its size, or -1. */
long tdat_unzstd(ZSTD_DCtx **dctx, void *dst, size_t cap, const void *src, size_t srclen)
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
int tdat_section(struct tdat_file *f, uint64_t off, unsigned id, struct cur *c, unsigned char **mem)
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
	long got = tdat_unzstd(&f->dctx, *mem, len, z, zlen);
	free(z);
	if (got < 0) {
		free(*mem);
		*mem = NULL;
		return -1;
	}
	cur_mem(c, *mem, (size_t)got);
	return 0;
}
