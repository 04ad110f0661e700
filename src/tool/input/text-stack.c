/* SPDX-License-Identifier: MIT */
/*
 * text-stack.c: the frame lines of text traces (text-stack.h). A line is
 * taken apart from both ends: the address in "<...>" or "(...)" at its
 * end (ftrace's sym-addr, trace-cmd), the module in "([...])" (perf), and
 * what is left is the symbol.
 */
#include <stdio.h>
#include <string.h>
#include "text-stack.h"

static int is_digit(char c) { return c >= '0' && c <= '9'; }

uint64_t text_parse_hex(const char *p, const char *e)
{
	uint64_t v = 0;

	if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; p < e; p++) {
		int d;
		if (is_digit(*p))
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	return v;
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Add one frame (sym [p, e), "0x..." made from addr when empty; " mod" appended) to b. */
static void add(struct text_stack *b, uint64_t addr, const char *p, const char *e, const char *mod,
		size_t modlen)
{
	char tmp[24];
	size_t n = (size_t)(e - p);

	if (b->n >= TEXT_STACK_FRAMES)
		return;
	if (!n) {
		n = (size_t)snprintf(tmp, sizeof(tmp), "0x%llx", (unsigned long long)addr);
		p = tmp;
	}
	if (b->used + n + modlen + 2 > sizeof(b->text))
		return;
	char *d = b->text + b->used;
	memcpy(d, p, n);
	if (modlen) {
		d[n++] = ' ';
		memcpy(d + n, mod, modlen);
		n += modlen;
	}
	d[n] = '\0';
	b->addr[b->n] = addr;
	b->sym[b->n++] = d;
	b->used += n + 1;
}

int text_ftrace_frame(struct text_stack *b, const char *p, const char *e)
{
	uint64_t addr = 0;

	if (p < e && *p == ' ')
		p++;
	if (e - p < 2 || p[0] != '=' || p[1] != '>' || (e - p > 2 && p[2] != ' '))
		return 0;
	p += 2;
	while (p < e && *p == ' ')
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	if (p == e)
		return 1;			/* an empty frame: nothing to keep */
	if (e > p && (e[-1] == '>' || e[-1] == ')')) {
		const char *o = e - 1;
		char open = e[-1] == '>' ? '<' : '(';
		while (o > p && o[-1] != open)
			o--;
		const char *h = o;
		while (h < e - 1 && is_hex(*h))
			h++;
		if (o > p + 1 && o[-2] == ' ' && h == e - 1 && h > o) {
			addr = text_parse_hex(o, e - 1);
			e = o - 2;
		}
	}
	const char *h = p;
	if (e - p > 2 && p[0] == '0' && p[1] == 'x')
		h += 2;
	while (h < e && is_hex(*h))
		h++;
	if (h == e && e > p) {			/* no symbol: the address alone */
		if (!addr)
			addr = text_parse_hex(p, e);
		p = e;
	}
	add(b, addr, p, e, NULL, 0);
	return 1;
}

int text_perf_frame(struct text_stack *b, const char *p, const char *e)
{
	const char *a, *sym, *mod = NULL;
	size_t modlen = 0;

	if (p == e || (*p != '\t' && *p != ' '))
		return 0;
	while (p < e && (*p == '\t' || *p == ' '))
		p++;
	for (a = p; p < e && is_hex(*p); p++)
		;
	if (p == a || p - a > 16 || p == e || *p != ' ')
		return 0;
	uint64_t addr = text_parse_hex(a, p);
	while (p < e && *p == ' ')
		p++;
	sym = p;
	while (e > sym && (e[-1] == ' ' || e[-1] == '\r'))
		e--;
	if (e > sym && e[-1] == ')') {		/* " (dso)" */
		const char *o = e - 1;
		while (o > sym && o[-1] != '(')
			o--;
		if (o > sym + 1 && o[-2] == ' ') {
			if (o[0] == '[' && e - o > 2 && e[-2] == ']' &&
			    !(e - 1 - o == 17 && !memcmp(o, "[kernel.kallsyms]", 17)) &&
			    !(e - 1 - o == 9 && !memcmp(o, "[unknown]", 9))) {
				mod = o;
				modlen = (size_t)(e - 1 - o);
			}
			e = o - 2;
		}
	}
	if (!(addr >> 63))
		return 1;			/* user space */
	if (e - sym == 9 && !memcmp(sym, "[unknown]", 9))
		e = sym;
	add(b, addr, sym, e, mod, modlen);
	return 1;
}
