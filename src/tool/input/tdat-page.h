/* SPDX-License-Identifier: MIT */
/*
 * tdat-page.h: one ring-buffer page of a trace.dat into its records.
 *
 * A page is a header (timestamp, commit: bytes of data and the
 * missed-events flags) and records, each behind a 4-byte event header
 * (type_len and time_delta bits, then, for some types, a length or a time
 * extension). Where each of these lies is what the file's header_page and
 * header_event formats say: the walker reads the offsets, sizes, bit
 * widths and type numbers from them, and walks a page in one tight loop
 * with no call per record. A layout it does not recognise (another
 * header, the pre-2.6.31 format, no formats at all) is walked by
 * libtraceevent's kbuffer instead, with the same result.
 *
 * Timestamps follow kbuffer (and so libtracecmd) exactly, padding deltas
 * included, so that the two readings of a file give the same events.
 */
#ifndef MML_TDAT_PAGE_H
#define MML_TDAT_PAGE_H

#include <stdint.h>

struct tep_handle;
struct tdat_walker;

/* One record of a page. */
struct tdat_rec {
	uint64_t ts;			/* ns, the page's clock, before any file offset */
	const unsigned char *data;	/* the event (common_type first) */
	uint32_t size;			/* its bytes */
	uint8_t kind;			/* the caller's (src-tracedat.c) */
	uint8_t may_stack;		/* the caller's */
};

/*
 * A walker for pages laid out as header_page / header_event say (either
 * may be NULL: kbuffer then, set up from tep and long_size). NULL when out
 * of memory.
 */
struct tdat_walker *tdat_walker_new(const char *header_page, const char *header_event,
				    struct tep_handle *tep, int long_size);
void tdat_walker_free(struct tdat_walker *w);		/* NULL is fine */
/* 1 when the walker reads pages itself, 0 when through kbuffer. */
int tdat_walker_native(const struct tdat_walker *w);

/* Records a page of psize bytes can hold at most: the size of rec[] below. */
static inline uint32_t tdat_page_max_recs(uint32_t psize)
{
	return psize / 8 + 1;
}

/*
 * The records of page (psize bytes, followed by at least 16 readable
 * bytes) into rec, in order. *missed: records lost right before the page
 * (> 0: a count, -1: some, 0: none). Returns the count, or -1 with *what
 * naming the damage (a page longer than a page, a record past its end).
 */
int tdat_walk_page(struct tdat_walker *w, const unsigned char *page, uint32_t psize,
		   struct tdat_rec *rec, long long *missed, const char **what);

#endif
