/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mml: libFuzzer target for the mmaplock file reader (src-mml.c) and
 * everything after it (pairing, aggregation). The input becomes a memfd
 * read through source_open(), like a file named on the command line.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "pair.h"
#include "source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mml_event ev[64];
	char path[64], err[300];
	int fd = memfd_create("fuzz-mml", 0);
	struct mml_meta *m;
	struct source *s;
	struct agg agg;
	struct pair pair;
	long n;

	if (fd < 0)
		return 0;
	/* the file magic up front so that the mml reader, not the text one, gets it */
	if (write(fd, MML_FILE_MAGIC, 8) != 8 ||
	    (size && write(fd, data, size) != (ssize_t)size)) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	m = meta_new();
	if (agg_init(&agg, AGG_BY_MEMCG, m) || pair_init(&pair, &agg))
		return 0;
	s = source_open(path, m, err, sizeof(err));
	if (s) {
		while ((n = source_next(s, ev, 64)) > 0)
			pair_feed(&pair, ev, (size_t)n);
		pair_finish(&pair);
		source_close(s);
	}
	pair_fini(&pair);
	agg_fini(&agg);
	meta_free(m);
	close(fd);
	return 0;
}
