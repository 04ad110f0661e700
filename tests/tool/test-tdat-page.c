/* SPDX-License-Identifier: MIT */
/*
 * test-tdat-page: tdat-page.c's own walk of a ring-buffer page against
 * kbuffer's, on pages built here with every kind of record the kernel
 * writes: data with the length in type_len and in array[0], a time
 * extension, padding (a discarded record), an absolute time stamp, and
 * the missed-events count stored after the data. Both walkers must give
 * the same records, timestamps and count; a damaged page is refused by
 * both. The layout comes from the formats below (a 64-bit kernel's, as in
 * tracefs), read by the walker, not from constants of the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "tdat-page.h"
#include "tdat-headers.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)


#define PSIZE	4096
static unsigned char page[PSIZE + 64];
static size_t at;			/* next byte of the page's data */

static void put4(uint32_t v)
{
	memcpy(page + 16 + at, &v, 4);
	at += 4;
}

static void head(uint32_t type_len, uint32_t delta)
{
	put4(type_len | delta << 5);
}

static void body(size_t n, int fill)
{
	memset(page + 16 + at, fill, n);
	at += n;
}

/* A page of every record kind; missed: the count stored after the data (0: none). */
static void build(uint64_t missed)
{
	uint64_t ts = 1000000, commit;

	memset(page, 0, sizeof(page));
	at = 0;
	memcpy(page, &ts, 8);
	head(2, 5);				/* 8 bytes of data */
	body(8, 'a');
	head(30, 3);				/* time extend: 2 << 27 | 3 */
	put4(2);
	head(0, 7);				/* length in array[0]: 10 bytes, padded to 12 */
	put4(14);
	body(12, 'b');
	head(29, 4);				/* a discarded record of 8 bytes */
	put4(8);
	body(4, 'x');
	head(31, 11);				/* absolute: 1 << 27 | 11 */
	put4(1);
	head(1, 1);				/* 4 bytes of data */
	body(4, 'c');
	head(3, 100000);			/* 12 bytes */
	body(12, 'd');
	commit = at;
	if (missed) {
		memcpy(page + 16 + at, &missed, 8);
		commit |= 3ull << 30;		/* missed events, count stored */
	}
	memcpy(page + 8, &commit, 8);
}

static int walk(struct tdat_walker *w, struct tdat_rec *r, long long *missed)
{
	const char *what = NULL;
	int n = tdat_walk_page(w, page, PSIZE, r, missed, &what);

	CHECK(n >= 0 || what);
	return n;
}

int main(void)
{
	struct tep_handle *tep = tep_alloc();
	struct tdat_rec a[PSIZE / 8 + 1], b[PSIZE / 8 + 1];
	long long ma, mb;

	tep_set_long_size(tep, 8);
	tep_parse_header_page(tep, (char *)header_page, sizeof(header_page) - 1, 8);
	struct tdat_walker *own = tdat_walker_new(header_page, header_event, tep, 8);
	struct tdat_walker *kb = tdat_walker_new(NULL, NULL, tep, 8);
	CHECK(own && kb && tdat_walker_native(own) && !tdat_walker_native(kb));

	for (int m = 0; m < 2; m++) {
		build(m ? 42 : 0);
		int na = walk(own, a, &ma), nb = walk(kb, b, &mb);
		CHECK(na == 4 && nb == na);
		CHECK(ma == (m ? 42 : 0) && mb == ma);
		for (int i = 0; i < na && i < nb; i++) {
			if (a[i].ts != b[i].ts || a[i].data != b[i].data || a[i].size != b[i].size)
				fprintf(stderr, "record %d: own ts %llu +%ld size %u, kbuffer ts %llu +%ld size %u\n",
					i, (unsigned long long)a[i].ts, (long)(a[i].data - page), a[i].size,
					(unsigned long long)b[i].ts, (long)(b[i].data - page), b[i].size);
			CHECK(a[i].ts == b[i].ts && a[i].data == b[i].data && a[i].size == b[i].size);
		}
		/* the figures themselves, as the kernel's ring buffer means them */
		CHECK(a[0].ts == 1000005 && a[0].size == 8 && a[0].data[0] == 'a');
		CHECK(a[1].ts == 1000005 + (2ull << 27 | 3) + 7 && a[1].size == 12 && a[1].data[0] == 'b');
		CHECK(a[2].ts == (1ull << 27 | 11) + 1 && a[2].size == 4 && a[2].data[0] == 'c');
		CHECK(a[3].ts == a[2].ts + 100000 && a[3].size == 12 && a[3].data[0] == 'd');
	}

	/* a page whose length is longer than a page; a record past the page's end */
	uint64_t commit = PSIZE;
	memcpy(page + 8, &commit, 8);
	CHECK(walk(own, a, &ma) == -1 && walk(kb, b, &mb) == -1);
	build(0);
	head(0, 1);
	put4(PSIZE);				/* a record of a page's size, after the others */
	commit = at;
	memcpy(page + 8, &commit, 8);
	CHECK(walk(own, a, &ma) == -1 && walk(kb, b, &mb) == -1);

	tdat_walker_free(own);
	tdat_walker_free(kb);
	tep_free(tep);
	if (fails)
		return 1;
	printf("test-tdat-page: ok (own walk = kbuffer's on every record kind)\n");
	return 0;
}
