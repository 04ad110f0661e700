/* SPDX-License-Identifier: MIT */
/*
 * fuzz-text: libFuzzer target for the text parser (src-text.c), fed through
 * a memfd with the text ops forced (auto-detection would hand files
 * starting with a known magic to another reader), then paired.
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
	char path[64];
	int fd = memfd_create("fuzz-text", 0);
	struct source s = { .ops = &source_text_ops };
	struct agg agg;
	struct pair pair;
	long n;

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	s.meta = meta_new();
	if (agg_init(&agg, AGG_BY_PROCESS, s.meta) || pair_init(&pair, &agg))
		return 0;
	if (source_text_ops.open(&s, path) == 0) {
		while ((n = source_text_ops.next(&s, ev, 64)) > 0)
			pair_feed(&pair, ev, (size_t)n);
		pair_finish(&pair);
	}
	source_text_ops.close(&s);
	pair_fini(&pair);
	agg_fini(&agg);
	meta_free(s.meta);
	close(fd);
	return 0;
}
