/* SPDX-License-Identifier: MIT */
/*
 * bench/tdat-floor.c: what reading a trace.dat costs at the least, for
 * bench/tracedat-bench.sh (issue 12: is `report` 10x the libtracecmd
 * reading physically possible on this machine?).
 *
 *   tdat-floor [-t THREADS] [-w] [-p] [-o] FILE.dat
 *
 * The file is opened by the tool's own reader (tdat-file.c: headers and
 * where each CPU's data lies), then every zstd chunk of every CPU stream
 * is decompressed with libzstd (ZSTD_decompressDCtx, one context a
 * thread) and the result thrown away: no walk, no decode, no merge, no
 * pairing. -t 1 (the default) does every stream on one thread; -t 0 one
 * thread per stream. -w also walks each decompressed page into its
 * records (tdat-page.c) and counts them: the floor plus the walk. -p
 * reads instead through tdat_file_page(), the reader `report` uses (its
 * decompression threads and hand-off), taking one page of each stream in
 * turn: decompression plus the hand-off, nothing done with the pages.
 * -o only opens and closes the file (what every reading pays first).
 * Prints "chunks N bytes N records N" (records: -w only).
 *
 * Uncompressed (v6) streams are read and discarded with pread. Only the
 * timing matters: /usr/bin/time around it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "tdat-local.h"
#include "tdat-page.h"

struct job {
	struct tdat_file *f;
	int first, step;		/* the streams first, first + step, ... */
	int walk;
	unsigned long long chunks, bytes, recs;
	int bad;
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * n bytes of stream s's compressed data at off, read ZREAD bytes at a time
 * into w (as tdat-chunks.c reads them). NULL past the stream's end.
 */
struct win {
	unsigned char *b;
	size_t cap, len;
	uint64_t off;
};

static const unsigned char *get(const struct tdat_file *f, const struct stream *s, struct win *w,
				uint64_t off, size_t n)
{
	if (off >= w->off && n <= w->len && off - w->off <= w->len - n)
		return w->b + (off - w->off);
	if (off > s->end || n > s->end - off)
		return NULL;
	size_t want = n > ZREAD ? n : ZREAD;
	if (want > s->end - off)
		want = (size_t)(s->end - off);
	if (want > w->cap) {
		free(w->b);
		w->cap = want;
		if (!(w->b = malloc(want)))
			return NULL;
	}
	w->off = off;
	w->len = tdat_pread(f->fd, w->b, want, off);
	return n <= w->len ? w->b : NULL;
}

static void walk(struct job *j, struct tdat_walker *w, struct tdat_rec *rec,
		 const unsigned char *pages, size_t len, uint32_t psize)
{
	long long missed;
	const char *what;

	for (size_t k = 0; k + psize <= len; k += psize) {
		int n = tdat_walk_page(w, pages + k, psize, rec, &missed, &what);
		if (n > 0)
			j->recs += (unsigned long long)n;
	}
}

/* Every chunk of stream s decompressed into out (and walked with -w). */
static void one_stream(struct job *j, const struct stream *s, ZSTD_DCtx *dc, struct win *zw,
		       unsigned char **out, size_t *cap, struct tdat_walker *w, struct tdat_rec *rec)
{
	uint64_t off = s->off;
	const unsigned char *p = get(j->f, s, zw, off, 4);

	if (!p) {
		j->bad = 1;
		return;
	}
	off += 4;
	for (uint32_t c = le32(p); c; c--) {
		if (!(p = get(j->f, s, zw, off, 8)))
			break;
		uint32_t zlen = le32(p), ulen = le32(p + 4);
		off += 8;
		if (ulen > MAX_CHUNK || !(p = get(j->f, s, zw, off, zlen))) {
			j->bad = 1;
			break;
		}
		if (ulen + PAD > *cap) {
			free(*out);
			*cap = ulen + PAD;
			*out = malloc(*cap);
			if (!*out) {
				j->bad = 1;
				break;
			}
		}
		size_t got = ZSTD_decompressDCtx(dc, *out, ulen, p, zlen);
		if (ZSTD_isError(got)) {
			j->bad = 1;
			break;
		}
		memset(*out + got, 0, PAD);
		if (w)
			walk(j, w, rec, *out, got, s->psize);
		j->chunks++;
		j->bytes += got;
		off += zlen;
	}
}

static void *run(void *arg)
{
	struct job *j = arg;
	struct tdat_file *f = j->f;
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	unsigned char *out = NULL;
	size_t cap = 0;
	struct tdat_walker *w = NULL;
	struct tdat_rec *rec = NULL;

	if (j->walk) {
		w = tdat_walker_new(tdat_file_header_page(f), tdat_file_header_event(f),
				    tdat_file_tep(f), tdat_file_long_size(f));
		rec = malloc(tdat_page_max_recs(f->psize > 65536 ? f->psize : 65536) * sizeof(*rec));
	}
	struct win zw = { 0 };

	for (int i = j->first; dc && i < f->nst; i += j->step) {
		const struct stream *s = &f->st[i];
		if (s->zip) {
			one_stream(j, s, dc, &zw, &out, &cap, w, rec);
			continue;
		}
		for (uint64_t off = s->off; off < s->end; off += zw.len) {	/* read, as the reader would */
			zw.off = UINT64_MAX;
			if (!get(f, s, &zw, off, 1))
				break;
			j->bytes += zw.len;
		}
	}
	free(zw.b);
	ZSTD_freeDCtx(dc);
	tdat_walker_free(w);
	free(rec);
	free(out);
	return NULL;
}

/* -p: through tdat_file_page(), one page of each stream in turn. */
static int pages(struct tdat_file *f, unsigned long long *bytes)
{
	int live = f->nst, status;
	char *done = calloc((size_t)f->nst + 1, 1), err[256];

	if (!done)
		return -1;
	while (live > 0)
		for (int i = 0; i < f->nst; i++) {
			if (done[i])
				continue;
			if (tdat_file_page(f, i, &status, err, sizeof(err))) {
				*bytes += tdat_file_page_size(f, i);
			} else {
				done[i] = 1;
				live--;
			}
		}
	free(done);
	return 0;
}

int main(int argc, char **argv)
{
	int threads = 1, walk_too = 0, via_pages = 0, open_only = 0, opt;
	struct tdat_file *f;
	char err[256];

	while ((opt = getopt(argc, argv, "t:wpo")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'w')
			walk_too = 1;
		else if (opt == 'p')
			via_pages = 1;
		else if (opt == 'o')
			open_only = 1;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	int rc = tdat_file_open(argv[optind], &f, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tdat-floor: %s\n", rc == TDAT_UNSUPPORTED ? "unsupported file" : err);
		return 1;
	}
	if (open_only) {
		tdat_file_close(f);
		return 0;
	}
	if (via_pages) {
		unsigned long long bytes = 0;
		pages(f, &bytes);
		printf("chunks 0 bytes %llu records 0\n", bytes);
		tdat_file_close(f);
		return 0;
	}
	if (threads <= 0 || threads > f->nst)
		threads = f->nst > 0 ? f->nst : 1;
	struct job *j = calloc((size_t)threads, sizeof(*j));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	if (!j || !th)
		return 1;
	for (int i = 0; i < threads; i++) {
		j[i] = (struct job){ .f = f, .first = i, .step = threads, .walk = walk_too };
		if (i && pthread_create(&th[i], NULL, run, &j[i]))
			return 1;
	}
	run(&j[0]);
	unsigned long long chunks = j[0].chunks, bytes = j[0].bytes, recs = j[0].recs;
	int bad = j[0].bad;
	for (int i = 1; i < threads; i++) {
		pthread_join(th[i], NULL);
		chunks += j[i].chunks;
		bytes += j[i].bytes;
		recs += j[i].recs;
		bad |= j[i].bad;
	}
	printf("chunks %llu bytes %llu records %llu\n", chunks, bytes, recs);
	free(j);
	free(th);
	tdat_file_close(f);
	if (bad)
		fprintf(stderr, "tdat-floor: %s: damaged chunk\n", argv[optind]);
	return bad;
usage:
	fprintf(stderr, "usage: tdat-floor [-t THREADS] [-w] [-p] [-o] FILE.dat\n");
	return 2;
}
