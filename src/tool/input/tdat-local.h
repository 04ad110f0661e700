/* SPDX-License-Identifier: MIT */
/*
 * tdat-local.h: what the files of the trace.dat reader share (tdat-file.h
 * is its interface): the reader's structures, and each file's functions
 * for the others.
 *
 *   tdat-cur.c      bounded reads: a cursor over the file or a section
 *   tdat-file.c     open: the header, formats, cmdlines, kallsyms; streams
 *   tdat-options.c  options and buffers: where each CPU's data lies
 *   tdat-chunks.c   each stream's pages: read ahead, or zstd chunks
 *                   decompressed by threads
 *   tdat-page.c     one page into its records (used by src-tracedat.c)
 */
#ifndef MML_TDAT_LOCAL_H
#define MML_TDAT_LOCAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>
#include "tdat-file.h"

#define SEC_COMPRESSED	1		/* v7 section flag */
#define PAD		64		/* zero bytes after the last page of a buffer */
#define READAHEAD	(256u * 1024)	/* uncompressed data read at once, per stream */
#define ZREAD		(64u * 1024)	/* compressed data read at once (chunks are ~1 KB) */
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

#define AHEAD		16		/* chunks decompressed ahead of the reader, per stream */
#define MAX_WORKERS	4		/* decompression threads, at most (one per CPU or stream) */
#define BATCH		4		/* chunks the reader gives back under one lock */
#define LOW		(AHEAD / 4)	/* a sleeping thread is woken when a queue is this short */

/* One decompressed chunk, or a stream's end (status). */
struct slot {
	unsigned char *buf;		/* pages + PAD */
	size_t cap, len;
	int status;			/* when it is a stream's last slot: TDAT_END, _CUT, _BAD */
	uint64_t where;			/* the chunk's offset, for an error */
	void *user;			/* the chunk function's (tdat_file_set_chunk_fn) */
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
	int held;			/* the reader is on q[rhead] */
	int rhead, ready, freed;	/* the reader's: its slot, chunks known ready after it, */
					/* slots read out and not yet given back (qhead, qn) */
	int busy;			/* under mu: a thread makes its next chunk */
	unsigned char *zra;		/* compressed data read ahead: ZREAD bytes or a chunk */
	size_t zcap, zlen;
	uint64_t zoff;			/* zra's offset in the file */
	void *user;			/* the current chunk's slot's user, NULL: none */
	size_t upage;			/* the last page handed out, in its chunk */
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
	int started, threaded, quit;	/* the decompression threads (threaded: how many) */
	int idle;			/* under mu: threads waiting for room */
	int waiting;			/* under mu: the reader waits for stream waiting - 1 */
	pthread_t th[MAX_WORKERS];
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_ready;
	tdat_chunk_fn chunk_fn;		/* run by the thread on each chunk */
	void (*chunk_free)(void *);
	void *chunk_arg;
};

/* tdat-cur.c */
size_t tdat_pread(int fd, void *buf, size_t n, uint64_t off);
void cur_file(struct cur *c, int fd, uint64_t off, uint64_t end);
void cur_mem(struct cur *c, const unsigned char *mem, size_t len);
/* n bytes into dst; -1 (and c->bad) past the end */
int cur_get(struct cur *c, void *dst, uint64_t n);
uint64_t cur_u(struct cur *c, int n);		/* a little-endian number of n bytes */
void cur_skip(struct cur *c, uint64_t n);
int cur_str(struct cur *c, char *dst, size_t max);
char *cur_blob(struct cur *c, uint64_t n);
long tdat_unzstd(ZSTD_DCtx **dctx, void *dst, size_t cap, const void *src, size_t srclen);
int tdat_section(struct tdat_file *f, uint64_t off, unsigned id, struct cur *c, unsigned char **mem);

/* tdat-options.c */
struct buffer *tdat_add_buffer(struct tdat_file *f, const char *name);
int tdat_options7(struct tdat_file *f, uint64_t off);
int tdat_flyrecord6(struct tdat_file *f, struct cur *c, struct buffer *b, int top,
		    uint64_t *v6bufs, int *nv6);

/* tdat-chunks.c */
void tdat_stop_worker(struct tdat_file *f);	/* the decompression threads, if they run */

#endif
