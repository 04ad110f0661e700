/* SPDX-License-Identifier: MIT */
/*
 * tdat-chunks.c: each stream's ring-buffer pages (tdat_file_page(),
 * tdat-local.h). An uncompressed stream is read READAHEAD bytes at a
 * time; a zstd one chunk by chunk, threads (one per compressed stream, up
 * to the CPUs less one) decompressing every stream's next AHEAD chunks, and
 * handing each to the chunk function (tdat_file_set_chunk_fn:
 * src-tracedat.c walks and decodes its pages there), while the reader reads
 * the current one. The reader makes chunks too, when it would otherwise
 * wait; threads sleep only when every queue is full and are woken when one
 * runs low, so there are few wake-ups (a few hundred on a 9 M event file).
 * Memory: at most AHEAD chunks per stream, whatever the file's size.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tdat-local.h"

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
	size_t got = tdat_pread(f->fd, s->buf, want, s->off);
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
 * n bytes of stream s's compressed data at off, read ZREAD bytes at a time
 * (two preads a ~1 KB chunk were a tenth of the time). NULL when the file
 * ends first (*bad 0), or out of memory (*bad 1).
 */
static const unsigned char *zread(struct tdat_file *f, struct stream *s, uint64_t off, size_t n,
				  int *bad)
{
	*bad = 0;
	if (off >= s->zoff && n <= s->zlen && off - s->zoff <= s->zlen - n)
		return s->zra + (off - s->zoff);
	if (off > s->end || n > s->end - off)
		return NULL;
	size_t want = n > ZREAD ? n : ZREAD;
	if (want > s->end - off)
		want = (size_t)(s->end - off);
	if (grow(&s->zra, &s->zcap, want ? want : 1)) {
		*bad = 1;
		return NULL;
	}
	s->zoff = off;
	s->zlen = tdat_pread(f->fd, s->zra, want, off);
	return n <= s->zlen ? s->zra : NULL;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The next chunk of stream s into sl (a thread's, or the reader's when
 * there is no thread). 1, or 0 with sl->status (and sl->where) set.
 */
static int chunk(struct tdat_file *f, ZSTD_DCtx **dctx, struct stream *s, struct slot *sl)
{
	const unsigned char *p;
	uint64_t off = s->off;
	int bad;

	sl->where = off;
	if (s->chunks < 0) {
		p = zread(f, s, off, 4, &bad);
		s->chunks = p ? le32(p) : 0;
		if (!p) {
			sl->status = bad ? TDAT_BAD : TDAT_CUT;
			return 0;
		}
		off += 4;
	}
	if (!s->chunks) {
		sl->status = TDAT_END;
		return 0;
	}
	p = zread(f, s, off, 8, &bad);
	if (!p) {
		sl->status = bad ? TDAT_BAD : TDAT_CUT;
		return 0;
	}
	uint32_t zlen = le32(p), len = le32(p + 4);
	off += 8;
	if (zlen > s->end - off) {
		sl->status = TDAT_CUT;		/* the file ends inside the chunk */
		return 0;
	}
	sl->where = off - 8;
	sl->status = TDAT_BAD;
	if (!len || len > MAX_CHUNK || !zlen ||
	    grow(&sl->buf, &sl->cap, (size_t)len + s->psize + PAD) ||
	    !(p = zread(f, s, off, zlen, &bad)))
		return 0;
	long got = tdat_unzstd(dctx, sl->buf, len, p, zlen);
	if (got <= 0)
		return 0;
	size_t whole = ((size_t)got + s->psize - 1) / s->psize * s->psize;
	memset(sl->buf + got, 0, whole - (size_t)got + PAD);
	s->off = off + zlen;
	s->chunks--;
	sl->len = whole;
	sl->status = TDAT_END;
	return 1;
}

/*
 * Under mu: the compressed stream with the shortest queue that has room
 * and no thread on it (the one the reader will miss first), or NULL.
 */
static struct stream *shortest(struct tdat_file *f)
{
	struct stream *s = NULL;

	for (int k = 0; k < f->nst; k++) {
		struct stream *c = &f->st[k];
		if (c->zip && !c->wend && !c->busy && c->qn < AHEAD && (!s || c->qn < s->qn))
			s = c;
	}
	return s;
}

/*
 * Under mu: stream s's next chunk made into its queue, the lock dropped
 * meanwhile (s->busy keeps others off the stream: its off/chunks belong to
 * whoever holds it, so its chunks are made in order). A failed chunk is
 * the queue's last slot, carrying the stream's final status. The reader
 * waiting for s is woken, outside the lock (else it would wake only to
 * wait for the lock).
 */
static void make(struct tdat_file *f, ZSTD_DCtx **dctx, struct stream *s)
{
	struct slot *sl = &s->q[(s->qhead + s->qn) % AHEAD];

	s->busy = 1;
	pthread_mutex_unlock(&f->mu);
	int ok = chunk(f, dctx, s, sl);
	if (ok && f->chunk_fn)
		f->chunk_fn(f->chunk_arg, (int)(s - f->st), sl->buf, sl->len, s->psize, &sl->user);
	pthread_mutex_lock(&f->mu);
	s->busy = 0;
	s->qn++;
	if (!ok)
		s->wend = 1;
	if (f->waiting == s - f->st + 1) {
		pthread_mutex_unlock(&f->mu);
		pthread_cond_signal(&f->cv_ready);
		pthread_mutex_lock(&f->mu);
	}
}

/*
 * A decompression thread: keeps every compressed stream up to AHEAD
 * chunks ahead of the reader, the shortest queue first, one chunk at a
 * time (the lock is cheap next to a chunk; a wake-up is not), and sleeps
 * when every queue is full until the reader finds one run low (LOW). The
 * reader makes chunks too rather than wait (next_chunk()), so there is
 * one thread fewer than CPUs (nworkers()).
 */
static void *worker(void *arg)
{
	struct tdat_file *f = arg;
	ZSTD_DCtx *dctx = NULL;

	pthread_mutex_lock(&f->mu);
	while (!f->quit) {
		struct stream *s = shortest(f);
		if (s) {
			make(f, &dctx, s);
			continue;
		}
		f->idle++;
		pthread_cond_wait(&f->cv_work, &f->mu);
		f->idle--;
	}
	pthread_mutex_unlock(&f->mu);
	ZSTD_freeDCtx(dctx);
	return NULL;
}

/*
 * One thread per compressed stream, as many as there are CPUs less the
 * reader's (it makes chunks too when it would wait: next_chunk()), at
 * least one, at most MAX_WORKERS.
 */
static int nworkers(const struct tdat_file *f)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	int zip = 0;

	for (int i = 0; i < f->nst; i++)
		zip += f->st[i].zip;
	if (ncpu < 1)
		ncpu = 1;
	if (zip > ncpu)
		zip = (int)ncpu;
	return zip < MAX_WORKERS ? zip : MAX_WORKERS;
}

static void start_worker(struct tdat_file *f)
{
	int n = nworkers(f);

	f->started = 1;
	if (!n || pthread_mutex_init(&f->mu, NULL))
		return;
	if (pthread_cond_init(&f->cv_work, NULL) || pthread_cond_init(&f->cv_ready, NULL)) {
		pthread_mutex_destroy(&f->mu);
		return;			/* the reader decompresses itself */
	}
	/* no thread yet: nothing to lock; one is enough to go on with */
	while (f->threaded < n && !pthread_create(&f->th[f->threaded], NULL, worker, f))
		f->threaded++;
	if (!f->threaded) {
		pthread_cond_destroy(&f->cv_work);
		pthread_cond_destroy(&f->cv_ready);
		pthread_mutex_destroy(&f->mu);
	}
}

void tdat_stop_worker(struct tdat_file *f)
{
	if (!f->threaded)
		return;
	pthread_mutex_lock(&f->mu);
	f->quit = 1;
	pthread_cond_broadcast(&f->cv_work);
	pthread_mutex_unlock(&f->mu);
	for (int i = 0; i < f->threaded; i++)
		pthread_join(f->th[i], NULL);
	pthread_cond_destroy(&f->cv_work);
	pthread_cond_destroy(&f->cv_ready);
	pthread_mutex_destroy(&f->mu);
	f->threaded = 0;
}

/*
 * The next chunk of a compressed stream, as the reader sees it. NULL:
 * final status in it. The reader takes the lock only when the chunks it
 * knew ready are used up, or when it has BATCH slots to give back.
 */
static struct slot *next_chunk(struct tdat_file *f, struct stream *s)
{
	struct slot *sl;

	if (!f->threaded) {
		sl = &s->q[0];
		if (!s->wend && !chunk(f, &f->dctx, s, sl))
			s->wend = 1;
		return s->wend ? NULL : sl;
	}
	if (s->held) {				/* the chunk just read out: its slot is free */
		s->rhead = (s->rhead + 1) % AHEAD;
		s->freed++;
		s->held = 0;
	}
	if (s->ready && s->freed < BATCH) {
		s->ready--;
		s->held = 1;
		return &s->q[s->rhead];
	}
	pthread_mutex_lock(&f->mu);
	s->qhead = s->rhead;
	s->qn -= s->freed;
	s->freed = 0;
	/*
	 * A sleeping thread is woken when a queue runs low, not each time there
	 * is room: it then fills every queue (AHEAD - LOW chunks or more a
	 * wake-up). Should this one run dry first, the reader makes its next
	 * chunk itself rather than wait (below).
	 */
	if (f->idle && s->qn <= LOW) {
		pthread_mutex_unlock(&f->mu);
		pthread_cond_signal(&f->cv_work);	/* outside the lock: see make() */
		pthread_mutex_lock(&f->mu);
	}
	/*
	 * The queue empty: the reader makes the chunk itself when no thread is
	 * on the stream, else another stream's while that thread finishes,
	 * and waits only when there is nothing to make.
	 */
	while (!s->qn) {
		struct stream *o = s->busy ? shortest(f) : s;
		if (o) {
			make(f, &f->dctx, o);
			continue;
		}
		f->waiting = (int)(s - f->st) + 1;
		pthread_cond_wait(&f->cv_ready, &f->mu);
		f->waiting = 0;
	}
	int chunks = s->qn - s->wend;		/* the final slot holds no chunk */
	pthread_mutex_unlock(&f->mu);
	if (!chunks)
		return NULL;			/* the final slot stays: every later call ends here */
	s->ready = chunks - 1;
	s->held = 1;
	return &s->q[s->rhead];
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
				s->user = f->threaded ? sl->user : NULL;
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
	s->upage = s->pos / s->psize;
	s->pos += s->psize;
	return p;
}

void tdat_file_set_chunk_fn(struct tdat_file *f, tdat_chunk_fn fn, void (*free_fn)(void *),
			    void *arg)
{
	f->chunk_fn = fn;
	f->chunk_free = free_fn;
	f->chunk_arg = arg;
}

void *tdat_file_page_user(const struct tdat_file *f, int i, size_t *page)
{
	*page = f->st[i].upage;
	return f->st[i].user;
}
