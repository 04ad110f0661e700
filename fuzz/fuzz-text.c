/* SPDX-License-Identifier: MIT */
/*
 * fuzz-text: libFuzzer target for the text parser (src-text.c), fed through
 * a memfd with the text ops forced (auto-detection would hand files
 * starting with a known magic to another reader), then paired. Stack
 * events (the tests/fixtures/stacks-* seeds) must name a known stack and
 * come right before an event of the same task and time: anything else
 * traps.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "agg.h"
#include "pair.h"
#include "source.h"
#include "stacks.h"

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
	if (pair_init(&pair) || agg_attach(&agg, &pair, AGG_BY_PROCESS, s.meta))
		return 0;
	if (source_text_ops.open(&s, path) == 0) {
		struct mml_event stk = { 0 };	/* a stack event waiting for its event */
		while ((n = source_text_ops.next(&s, ev, 64)) > 0) {
			for (long i = 0; i < n; i++) {
				if (stk.type && (ev[i].type == MML_EV_STACK || ev[i].ts != stk.ts ||
						 ev[i].tid != stk.tid || ev[i].mm != stk.mm))
					__builtin_trap();
				stk.type = 0;
				if (ev[i].type == MML_EV_STACK) {
					const struct mml_stack *st = meta_stack(s.meta, (uint32_t)ev[i].memcg);
					if (!st || !st->n || st->n > STACK_MAX_FRAMES)
						__builtin_trap();
					stk = ev[i];
				}
			}
			pair_feed(&pair, ev, (size_t)n);
		}
		if (stk.type)
			__builtin_trap();
		pair_finish(&pair);
	}
	source_text_ops.close(&s);
	pair_fini(&pair);
	agg_fini(&agg);
	meta_free(s.meta);
	close(fd);
	return 0;
}
