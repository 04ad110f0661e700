/* SPDX-License-Identifier: MIT */
/*
 * fuzz-mml: libFuzzer target for the mmaplock file reader (src-mml.c) and
 * everything after it (pairing, aggregation, the per-stack sums of `report
 * --stacks` with their frames looked up, the `check` rules). The input
 * becomes a memfd read through source_open(), like a file named on the
 * command line. Seeds: tests/fixtures; mml-stacks.seed is a 1.1 file
 * (STACK blocks, stack events; tests/tool/test-stacks.c's) without its
 * 8-byte magic, which this target puts in front of every input;
 * mml-v2-stacks.seed is the same events in a version 2 file (PACKED
 * blocks, zstd), mml-v2-lib.seed a version 2 recording of libmmaplock's
 * recorder (bench-lock).
 *
 * Every block's hash guards its payload, so mutated payloads would mostly
 * stop at the hash check and never reach the parsers behind it (PACKED
 * blocks' zstd frames and packed columns, STACK entries). So when the
 * input's last byte is odd, the target first rewrites the hash of every
 * block whose header is whole, and the mutated payload gets parsed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "agg.h"
#include "check.h"
#include "pair.h"
#include "source.h"
#include "stackagg.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file (magic included) with every whole block's hash made right. */
static void fix_hashes(unsigned char *f, size_t size)
{
	for (size_t off = 64; off + sizeof(struct mml_block_header) <= size;) {
		struct mml_block_header bh;

		memcpy(&bh, f + off, sizeof(bh));
		if (bh.len % 8 || bh.len > size - off - sizeof(bh))
			break;
		bh.hash = mml_hash(f + off + sizeof(bh), bh.len);
		memcpy(f + off, &bh, sizeof(bh));
		off += sizeof(bh) + bh.len;
	}
}

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
	unsigned char *f = malloc(size + 8);
	if (!f) {
		close(fd);
		return 0;
	}
	memcpy(f, MML_FILE_MAGIC, 8);
	if (size)
		memcpy(f + 8, data, size);
	if (size && (data[size - 1] & 1))
		fix_hashes(f, size + 8);
	if (write(fd, f, size + 8) != (ssize_t)(size + 8)) {
		free(f);
		close(fd);
		return 0;
	}
	free(f);
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
