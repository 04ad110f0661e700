/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mml: libFuzzer target for the mmaplock file reader (src-mml.c) and
 * everything after it (pairing, aggregation, the per-stack sums of `report
 * --stacks` with their frames looked up, the `check` rules). The input
 * becomes a memfd read through source_open(), like a file named on the
 * command line. Seeds: tests/fixtures; mml-stacks.seed is a 1.1 file
 * (STACK blocks, stack events; tests/tool/test-stacks.c's) without its
 * 8-byte magic, which this target puts in front of every input.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"
#include "pair.h"
#include "source.h"
#include "stackagg.h"
#include "stacks.h"

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
	struct stackagg sa;
	struct check ck;
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
	if (pair_init(&pair) || agg_attach(&agg, &pair, AGG_BY_MEMCG, m) || stackagg_init(&sa, m) ||
	    pair_subscribe(&pair, stackagg_hook, &sa, STACKAGG_KINDS) ||
	    check_init(&ck, 1000, NULL, NULL))
		return 0;
	s = source_open(path, m, err, sizeof(err));
	if (s) {
		while ((n = source_next(s, ev, 64)) > 0) {
			pair_feed(&pair, ev, (size_t)n);
			check_feed(&ck, ev, (size_t)n);
		}
		pair_finish(&pair);
		check_finish(&ck);
		source_close(s);
		/* what report --stacks prints: the top entries and their frames */
		const struct stackagg_ent *top[8];
		size_t k = stackagg_top(&sa.wait, top, 8), bytes = 0;
		for (size_t i = 0; i < k; i++) {
			const struct mml_stack *st = meta_stack(m, top[i]->id);
			for (unsigned j = 0; st && j < st->n; j++)
				bytes += strlen(st->sym[j]);
		}
		(void)stackagg_top(&sa.hold, top, 8);
		(void)bytes;
	}
	check_fini(&ck);
	stackagg_fini(&sa);
	pair_fini(&pair);
	agg_fini(&agg);
	meta_free(m);
	close(fd);
	return 0;
}
