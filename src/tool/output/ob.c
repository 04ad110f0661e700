/* SPDX-License-Identifier: MIT */
/*
 * ob.c: the output buffer's sinks, printf and the per-format escapers
 * (ob.h). The escapers copy the runs of bytes that need no escape in one
 * ob_mem each: names are mostly plain.
 */
#include <stdarg.h>
#include <stdlib.h>
#include "ob.h"

void ob_init_file(struct ob *o, FILE *f, char *buf, size_t cap)
{
	*o = (struct ob){ .buf = buf, .cap = cap, .f = f };
}

void ob_init_mem(struct ob *o)
{
	*o = (struct ob){ .grow = 1 };
}

void ob_init_fixed(struct ob *o, char *buf, size_t cap)
{
	*o = (struct ob){ .buf = buf, .cap = cap };
}

void ob_free(struct ob *o)
{
	if (o->grow)
		free(o->buf);
	o->buf = NULL;
	o->n = o->cap = 0;
}

int ob_flush(struct ob *o)
{
	if (o->f && o->n) {
		if (!o->err && fwrite(o->buf, 1, o->n, o->f) != o->n)
			o->err = 1;
		o->n = 0;
	}
	return o->err ? -1 : 0;
}

static int grow(struct ob *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 4096;
	char *b;

	while (cap - o->n < n)
		cap *= 2;
	if (!(b = realloc(o->buf, cap))) {
		o->err = 1;
		return -1;
	}
	o->buf = b;
	o->cap = cap;
	return 0;
}

int ob_room(struct ob *o, size_t n)
{
	if (o->cap - o->n >= n)
		return 0;
	if (o->grow)
		return grow(o, n);
	if (o->f) {
		ob_flush(o);
		return n <= o->cap ? 0 : -1;
	}
	o->err = 1;
	return -1;
}

void ob_mem_slow(struct ob *o, const char *s, size_t n)
{
	if (!n)
		return;
	if (!ob_room(o, n)) {
		memcpy(o->buf + o->n, s, n);
		o->n += n;
	} else if (o->f && !o->err) {		/* larger than the buffer: straight out */
		if (fwrite(s, 1, n, o->f) != n)
			o->err = 1;
	}
}

void ob_printf(struct ob *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->cap - o->n;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf ? o->buf + o->n : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		o->err = 1;
		return;
	}
	if ((size_t)n < room) {
		o->n += (size_t)n;
		return;
	}
	if (!ob_room(o, (size_t)n + 1)) {
		va_start(ap, fmt);
		vsnprintf(o->buf + o->n, o->cap - o->n, fmt, ap);
		va_end(ap);
		o->n += (size_t)n;
	} else if (o->f && !o->err) {		/* longer than the buffer (never, in practice) */
		va_start(ap, fmt);
		if (vfprintf(o->f, fmt, ap) < 0)
			o->err = 1;
		va_end(ap);
	}
}

/*
 * s with each byte that esc() maps to a replacement written as that
 * replacement, the runs between them copied whole.
 */
static void escape(struct ob *o, const char *s, const char *(*esc)(unsigned char c, char *t))
{
	const char *run = s;
	char t[8];

	for (; *s; s++) {
		const char *r = esc((unsigned char)*s, t);
		if (!r)
			continue;
		ob_mem(o, run, (size_t)(s - run));
		ob_str(o, r);
		run = s + 1;
	}
	ob_mem(o, run, (size_t)(s - run));
}

static const char *json_esc(unsigned char c, char *t)
{
	if (c == '"')
		return "\\\"";
	if (c == '\\')
		return "\\\\";
	if (c >= 0x20)
		return NULL;
	snprintf(t, 8, "\\u%04x", c);
	return t;
}

void ob_json_str(struct ob *o, const char *s)
{
	OBL(o, "\"");
	escape(o, s, json_esc);
	OBL(o, "\"");
}

static const char *csv_esc(unsigned char c, char *t)
{
	(void)t;
	return c == '"' ? "\"\"" : NULL;
}

void ob_csv_field(struct ob *o, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		ob_str(o, s);
		return;
	}
	OBL(o, "\"");
	escape(o, s, csv_esc);
	OBL(o, "\"");
}

static const char *html_esc(unsigned char c, char *t)
{
	(void)t;
	switch (c) {
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '&': return "&amp;";
	case '"': return "&quot;";
	}
	return NULL;
}

void ob_html(struct ob *o, const char *s)
{
	escape(o, s, html_esc);
}

/* One escaper straight to a FILE, through a small buffer of its own. */
static void to_file(FILE *f, const char *s, void (*esc)(struct ob *, const char *))
{
	char buf[256];
	struct ob o;

	ob_init_file(&o, f, buf, sizeof(buf));
	esc(&o, s);
	ob_flush(&o);
}

void ob_html_file(FILE *f, const char *s)
{
	to_file(f, s, ob_html);
}

void ob_json_file(FILE *f, const char *s)
{
	to_file(f, s, ob_json_str);
}

static const char *prom_esc(unsigned char c, char *t)
{
	(void)t;
	switch (c) {
	case '\\': return "\\\\";
	case '"': return "\\\"";
	case '\n': return "\\n";
	}
	return NULL;
}

void ob_prom_label(struct ob *o, const char *s)
{
	escape(o, s, prom_esc);
}
