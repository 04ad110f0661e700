/* SPDX-License-Identifier: MIT */
/*
 * tdat-file.h: trace-cmd's trace.dat read directly, page by page.
 *
 * The file format is documented by trace-cmd (trace-cmd.dat.v6(5),
 * trace-cmd.dat.v7(5)). This reader knows the parts mmaplock needs: the
 * header page, the event formats of the mmap_lock and lock systems and
 * ftrace's kernel_stack (parsed into a tep handle, nothing else), the saved
 * command lines, kallsyms (only when asked: stacks), the DATE and OFFSET
 * time offsets, and each buffer's per-CPU ring-buffer pages, v7's zstd
 * chunks decompressed one at a time. Memory does not grow with the file.
 *
 * What it does not know (big-endian files, another compression, TSC to ns
 * conversion, host/guest time sync, latency traces) makes open() answer
 * TDAT_UNSUPPORTED: the caller then reads the file through libtracecmd.
 */
#ifndef MML_TDAT_FILE_H
#define MML_TDAT_FILE_H

#include <stddef.h>
#include <stdint.h>

struct tep_handle;
struct tdat_file;

#define TDAT_UNSUPPORTED	1

/* One CPU of one buffer (the top buffer or an instance), in file order. */
struct tdat_stream_info {
	int buffer;			/* 0: the top buffer, 1...: instances in file order */
	uint32_t cpu;
};

/*
 * Open path and parse its headers. Returns 0, -1 (err: "PATH: reason", a
 * file that is not a readable trace.dat), or TDAT_UNSUPPORTED.
 */
int tdat_file_open(const char *path, struct tdat_file **out, char *err, size_t errlen);
void tdat_file_close(struct tdat_file *f);		/* NULL is fine */

/* Formats, cmdlines (and kallsyms once loaded); owned by f. */
struct tep_handle *tdat_file_tep(struct tdat_file *f);
/* The header_page and header_event format texts (NULL: none in the file). */
const char *tdat_file_header_page(const struct tdat_file *f);
const char *tdat_file_header_event(const struct tdat_file *f);
/* The traced kernel's long size (4 or 8). */
int tdat_file_long_size(const struct tdat_file *f);
/* Bytes per ring-buffer page of stream i. */
uint32_t tdat_file_page_size(const struct tdat_file *f, int i);
/* ns added to every timestamp (the DATE and OFFSET options). */
int64_t tdat_file_ts_offset(const struct tdat_file *f);
/* Parse the file's kallsyms into the tep, the first time. 0, or -1 (none, or unreadable). */
int tdat_file_load_kallsyms(struct tdat_file *f);

int tdat_file_nstreams(const struct tdat_file *f);
const struct tdat_stream_info *tdat_file_stream(const struct tdat_file *f, int i);

#define TDAT_END	0	/* no more pages */
#define TDAT_CUT	1	/* the file ends before the stream's data does */
#define TDAT_BAD	(-1)	/* damaged data (a chunk that does not decompress) */

/*
 * The next page of stream i: a pointer to page-size bytes (followed by a
 * few zero bytes), valid until the next call for that stream. NULL with
 * *status TDAT_END, TDAT_CUT or TDAT_BAD (err then says what and where).
 */
void *tdat_file_page(struct tdat_file *f, int i, int *status, char *err, size_t errlen);

/*
 * Work on each decompressed chunk by the thread that decompressed it (v7
 * zstd streams, while that thread runs), so that it overlaps the reader's:
 * fn(arg, i, pages, len, psize, &user) gets the chunk's len bytes of whole
 * pages of stream i (psize each). *user belongs to the chunk's slot: it is
 * kept from one chunk to the next in that slot (memory to reuse) and given
 * to free_fn at close. Set before the first tdat_file_page(); fn must not
 * touch what the reader changes.
 */
typedef void (*tdat_chunk_fn)(void *arg, int i, const unsigned char *pages, size_t len,
			      uint32_t psize, void **user);
void tdat_file_set_chunk_fn(struct tdat_file *f, tdat_chunk_fn fn, void (*free_fn)(void *),
			    void *arg);
/*
 * What fn made of the chunk the last page of stream i came from, and that
 * page's index in the chunk. NULL when fn did not see it (no thread, an
 * uncompressed stream): the caller then works on the page itself.
 */
void *tdat_file_page_user(const struct tdat_file *f, int i, size_t *page);

#endif
