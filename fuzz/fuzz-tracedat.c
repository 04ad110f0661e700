/* SPDX-License-Identifier: MIT */
/*
 * fuzz-tracedat: libFuzzer target for the page-wise trace.dat reader
 * (tdat-file.c, tdat-options.c, tdat-chunks.c, tdat-page.c, decode.c, and
 * src-tracedat.c's merge and stack queue). The input becomes a memfd read
 * through source_tracedat_ops, as a file named on the command line. Seeds:
 * tests/fixtures' trace.dat files: stacks-trigger.dat (a capture of this
 * machine's kernel: memcg_id, kernel stacks) and tracedat-path.dat (the
 * 5.11-6.13 memcg_path form, written by tests/tool/gen-tdat-path.c; v7,
 * zstd).
 *
 * What the page-wise reader leaves to libtracecmd (tdat_file_open()'s
 * TDAT_UNSUPPORTED: big-endian, zlib, time conversions, latency traces) is
 * not fuzzed here: that side opens each file in a child process first
 * (tdat-records.c), which a fuzzer's process must not start.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "source.h"
#include "tdat-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libtraceevent 1.7 leaks a few bytes of every event format it parses (see test-tracedat.c) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mml_event ev[256];
	char path[64], err[300];
	int fd = memfd_create("fuzz-tracedat", 0);
	struct tdat_file *f;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int rc = tdat_file_open(path, &f, err, sizeof(err));
	if (rc) {
		/* refused in one line, or libtracecmd's */
		if (rc < 0 && (!err[0] || strchr(err, '\n')))
			abort();
		close(fd);
		return 0;
	}
	tdat_file_close(f);

	struct mml_meta *m = meta_new();
	struct source s = { .ops = &source_tracedat_ops, .meta = m };
	if (s.ops->open(&s, path) == 0) {
		long n;
		while ((n = s.ops->next(&s, ev, 256)) > 0)
			;
		if (n < 0 && (!s.err[0] || strchr(s.err, '\n')))
			abort();
		s.ops->close(&s);
	} else if (!s.err[0] || strchr(s.err, '\n')) {
		abort();
	}
	meta_free(m);
	close(fd);
	return 0;
}
