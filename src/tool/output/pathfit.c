/* SPDX-License-Identifier: MIT */
/*
 * pathfit.c: middle-ellipsis shortening of paths for narrow columns
 * (pathfit.h). Widths are counted in code points: cgroup names are
 * ASCII in practice, but a multi-byte name must neither be split nor
 * miscounted.
 */
#include <stdio.h>
#include <string.h>
#include "pathfit.h"

#define ELLIPSIS "\xe2\x80\xa6"		/* U+2026, one column */

static int cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t pathfit_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += !cont((unsigned char)*s);
	return n;
}

/* Bytes of the first n code points of s. */
static size_t head_bytes(const char *s, size_t n)
{
	size_t i = 0;

	while (s[i] && n) {
		i++;
		while (cont((unsigned char)s[i]))
			i++;
		n--;
	}
	return i;
}

/* The last n code points of s. */
static const char *tail_of(const char *s, size_t n)
{
	const char *p = s + strlen(s);

	while (p > s && n) {
		p--;
		while (p > s && cont((unsigned char)*p))
			p--;
		n--;
	}
	return p;
}

const char *pathfit(const char *s, size_t width, char *buf, size_t len)
{
	size_t cols = pathfit_cols(s);
	const char *last = strrchr(s, '/');
	size_t lcols;

	if (width < 2)
		width = 2;
	if (cols <= width) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	lcols = last ? pathfit_cols(last) : cols;
	if (lcols + 1 < width)
		snprintf(buf, len, "%.*s" ELLIPSIS "%s", (int)head_bytes(s, width - 1 - lcols), s,
			 last);
	else
		snprintf(buf, len, ELLIPSIS "%s", tail_of(s, width - 1));
	return buf;
}
