/* SPDX-License-Identifier: MIT */
/*
 * tdat-page.c: the ring-buffer page walker of tdat-page.h.
 *
 * Why not kbuffer for every page: it reads every header word through a
 * function pointer (it may byte-swap) and hands out one record per call;
 * that was a fifth of the time of reading a trace.dat. The layout is
 * still the kernel's own description of it, read from the formats the
 * file carries (events/header_page and events/header_event in tracefs):
 *
 *	field: u64 timestamp;	offset:0;	size:8;	signed:0;
 *	field: local_t commit;	offset:8;	size:8;	signed:1;
 *	field: char data;	offset:16;	size:4080;	signed:0;
 *
 *	type_len    :    5 bits
 *	time_delta  :   27 bits
 *	padding     : type == 29
 *	time_extend : type == 30
 *	time_stamp : type == 31
 *	data max type_len  == 28
 *
 * A record's header is one little-endian u32: type_len in its low bits,
 * time_delta above. type_len 1..max: that many 4-byte words of data; 0:
 * the length follows (it counts itself); padding: the length of a
 * discarded record follows; time_extend / time_stamp: 32 more bits of a
 * delta / an absolute time follow, above time_delta's bits. The commit
 * word's top bits are the kernel's missed-events flags (RB_MISSED_EVENTS,
 * RB_MISSED_STORED: a count then follows the data); they and the commit
 * mask are not in any format, so they are kbuffer's constants.
 */
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include "tdat-page.h"

#define MISSED_EVENTS	(1ull << 31)
#define MISSED_STORED	(1ull << 30)
#define COMMIT_MASK	((1ull << 27) - 1)
#define TS_MSB		(0xf8ull << 56)	/* an absolute time stamp lacks these bits */

struct tdat_walker {
	int native;
	uint32_t ts_off, ts_size;	/* header_page fields, bytes */
	uint32_t commit_off, commit_size;
	uint32_t data_off;
	uint32_t tl_bits;		/* header_event: type_len's width, time_delta above */
	uint32_t pad, extend, stamp, max_data;	/* type_len values */
	struct kbuffer *kb;		/* !native */
};

static uint64_t rd(const unsigned char *p, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size);		/* little-endian files on little-endian hosts only */
	return v;
}

static uint32_t rd4(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* A header_page field: "field: TYPE NAME;\toffset:N;\tsize:N;". 0, or -1 (absent). */
static int page_field(const char *fmt, const char *name, uint32_t *off, uint32_t *size)
{
	size_t n = strlen(name);

	for (const char *l = fmt; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *f = strstr(l, "field:"), *semi, *o, *s, *nl = strchr(l, '\n');
		if (!f || (nl && f > nl) || !(semi = strchr(f, ';')) || (nl && semi > nl))
			continue;
		if ((size_t)(semi - f) < n + 1 || memcmp(semi - n, name, n) || *(semi - n - 1) != ' ')
			continue;
		o = strstr(semi, "offset:");
		s = strstr(semi, "size:");
		if (!o || !s || (nl && (o > nl || s > nl)))
			return -1;
		*off = (uint32_t)strtoul(o + 7, NULL, 10);
		*size = (uint32_t)strtoul(s + 5, NULL, 10);
		return 0;
	}
	return -1;
}

/* One number of header_event: the line starting with key, then the pattern. */
static int event_num(const char *fmt, const char *key, const char *pat, uint32_t *v)
{
	for (const char *l = fmt; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		while (*l == ' ' || *l == '\t')
			l++;
		unsigned x;
		if (!strncmp(l, key, strlen(key)) && sscanf(l + strlen(key), pat, &x) == 1) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* The layout from the two formats; 0 when this walker can read it, else -1. */
static int parse_layout(struct tdat_walker *w, const char *hp, const char *he)
{
	uint32_t dsize, td_bits;

	if (!hp || !he || page_field(hp, "timestamp", &w->ts_off, &w->ts_size) ||
	    page_field(hp, "commit", &w->commit_off, &w->commit_size) ||
	    page_field(hp, "data", &w->data_off, &dsize))
		return -1;
	if (event_num(he, "type_len", " : %u bits", &w->tl_bits) ||
	    event_num(he, "time_delta", " : %u bits", &td_bits) ||
	    event_num(he, "padding", " : type == %u", &w->pad) ||
	    event_num(he, "time_extend", " : type == %u", &w->extend) ||
	    event_num(he, "time_stamp", " : type == %u", &w->stamp) ||
	    event_num(he, "data max type_len", " == %u", &w->max_data))
		return -1;
	if (w->ts_size != 8 || (w->commit_size != 4 && w->commit_size != 8) ||
	    w->ts_off + 8 > w->data_off || w->commit_off + w->commit_size > w->data_off ||
	    w->data_off > 64)
		return -1;
	uint32_t ntypes = w->tl_bits < 8 ? 1u << w->tl_bits : 0;
	if (w->tl_bits + td_bits != 32 || !ntypes || w->max_data >= w->pad ||
	    w->pad >= ntypes || w->extend >= ntypes || w->stamp >= ntypes ||
	    w->extend <= w->max_data || w->stamp <= w->max_data || w->pad == w->extend ||
	    w->pad == w->stamp || w->extend == w->stamp)
		return -1;
	return 0;
}

struct tdat_walker *tdat_walker_new(const char *header_page, const char *header_event,
				    struct tep_handle *tep, int long_size)
{
	struct tdat_walker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (!tep_is_old_format(tep) && !parse_layout(w, header_page, header_event)) {
		w->native = 1;
		return w;
	}
	int ls = tep_get_header_page_size(tep);
	if (ls != 4 && ls != 8)
		ls = long_size;
	w->kb = kbuffer_alloc(ls == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4, KBUFFER_ENDIAN_LITTLE);
	if (!w->kb) {
		free(w);
		return NULL;
	}
	if (tep_is_old_format(tep))
		kbuffer_set_old_format(w->kb);
	return w;
}

void tdat_walker_free(struct tdat_walker *w)
{
	if (!w)
		return;
	if (w->kb)
		kbuffer_free(w->kb);
	free(w);
}

int tdat_walker_native(const struct tdat_walker *w)
{
	return w->native;
}

#define LONG_PAGE	"a page longer than a page"
#define LONG_REC	"a record past its page's end"

static int walk_kbuffer(struct tdat_walker *w, const unsigned char *page, uint32_t psize,
			struct tdat_rec *rec, long long *missed, const char **what)
{
	struct kbuffer *kb = w->kb;
	unsigned long long ts = 0;
	uint32_t max = tdat_page_max_recs(psize), n = 0;

	/* a page's length must fit its page: kbuffer trusts it */
	if (kbuffer_load_subbuffer(kb, (void *)page) < 0 ||
	    (uint64_t)kbuffer_subbuffer_size(kb) + (uint64_t)kbuffer_start_of_data(kb) > psize) {
		*what = LONG_PAGE;
		return -1;
	}
	*missed = kbuffer_missed_events(kb);
	for (void *d = kbuffer_read_event(kb, &ts); d; d = kbuffer_next_event(kb, &ts)) {
		int size = kbuffer_event_size(kb);
		if (size < 0 || n == max ||
		    (size_t)((unsigned char *)d - page) + (size_t)size > psize) {
			*what = LONG_REC;
			return -1;
		}
		rec[n++] = (struct tdat_rec){ .ts = ts, .data = d, .size = (uint32_t)size };
	}
	return (int)n;
}

int tdat_walk_page(struct tdat_walker *w, const unsigned char *page, uint32_t psize,
		   struct tdat_rec *rec, long long *missed, const char **what)
{
	if (!w->native)
		return walk_kbuffer(w, page, psize, rec, missed, what);

	uint64_t ts = rd(page + w->ts_off, 8), commit = rd(page + w->commit_off, w->commit_size);
	uint64_t size = commit & COMMIT_MASK, pos = 0;
	const unsigned char *d = page + w->data_off;
	uint32_t tl_mask = (1u << w->tl_bits) - 1, n = 0, max = tdat_page_max_recs(psize);

	if (w->data_off + size > psize) {
		*what = LONG_PAGE;
		return -1;
	}
	*missed = !(commit & MISSED_EVENTS) ? 0 :
		  (commit & MISSED_STORED) ? (long long)rd(d + size, w->commit_size) : -1;
	while (pos < size) {
		uint32_t h = rd4(d + pos), tl = h & tl_mask;
		uint64_t delta = h >> w->tl_bits;
		int64_t len;
		pos += 4;
		if (tl <= w->max_data) {
			ts += delta;			/* the common case first */
			if (tl) {
				len = 4 * (int64_t)tl;
			} else {
				len = ((int64_t)rd4(d + pos) - 4 + 3) & ~(int64_t)3;
				pos += 4;
			}
			if (len < 0 || n == max || w->data_off + pos + (uint64_t)len > psize) {
				*what = LONG_REC;
				return -1;
			}
			rec[n++] = (struct tdat_rec){ .ts = ts, .data = d + pos, .size = (uint32_t)len };
			pos += (uint64_t)len;
		} else if (tl == w->pad) {
			ts += delta;			/* as kbuffer does (the kernel ignores it) */
			pos += rd4(d + pos);
		} else if (tl == w->extend || tl == w->stamp) {
			uint64_t x = (uint64_t)rd4(d + pos) << (32 - w->tl_bits) | delta;
			pos += 4;
			ts = tl == w->extend ? ts + x : x | (ts & TS_MSB);
		} else {
			*what = LONG_REC;		/* a type_len no format names */
			return -1;
		}
	}
	return (int)n;
}
