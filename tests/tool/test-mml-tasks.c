/* SPDX-License-Identifier: MIT */
/*
 * test-mml-tasks: task names survive tid 0 (the kernel's idle task,
 * "swapper"). Earlier recorders wrote a TASK entry for tid 0,
 * and readers stopped the TASK block at it, so every task named after it in
 * that block printed as "?[tid]". Checked here:
 *   - a TASK block written that way (tid 0 first, then real tasks) still
 *     names every task after it;
 *   - the writer never puts a tid 0 entry in a TASK block (so older readers
 *     read its files whole);
 *   - a kernel recording names tid 0 "swapper" without any entry for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mml_writer.h"
#include "meta.h"
#include "source.h"
#include "test-util.h"

static char path[64];

static void task_entry(unsigned char *e, size_t *len, uint32_t tid, uint32_t tgid, const char *comm)
{
	unsigned char *p = e + *len;
	uint16_t l = 0;
	uint64_t cg = 0;

	memset(p, 0, 34);
	memcpy(p, &tid, 4);
	memcpy(p + 4, &tgid, 4);
	strncpy((char *)p + 8, comm, 16);
	memcpy(p + 24, &cg, 8);
	memcpy(p + 32, &l, 2);
	*len += 34;
}

static void one_event(struct mml_writer *w, uint32_t tid)
{
	struct mml_event ev = { .ts = 1000 + tid, .mm = 0xa, .tid = tid,
				.type = MML_EV_START_LOCKING };

	CHECK(mml_writer_events(w, 0, &ev, 1) == 0);
}

static struct mml_meta *read_meta(void)
{
	struct mml_meta *m = meta_new();
	char err[256] = "";
	struct source *s = source_open(path, m, err, sizeof(err));
	struct mml_event ev[8];

	if (!s) {
		fprintf(stderr, "test-mml-tasks: %s\n", err);
		exit(1);
	}
	while (source_next(s, ev, 8) > 0)
		;
	source_close(s);
	return m;
}

static void check_task(const struct mml_meta *m, uint32_t tid, uint32_t tgid, const char *comm)
{
	const struct mml_task_info *t = meta_task(m, tid);

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_EQ(t->tgid, tgid);
	CHECK_STR(t->comm, comm);
}

/* A file as the recorder wrote it when the idle task was seen first. */
static void old_file_with_tid0(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .ncpus = 1,
				     .clock = MML_CLOCK_MONOTONIC };
	struct mml_writer *w = mml_writer_open(path, &h);
	unsigned char blk[4 * 34];
	size_t len = 0;

	CHECK(w != NULL);
	task_entry(blk, &len, 0, 0, "swapper");
	task_entry(blk, &len, 100, 99, "worker");
	task_entry(blk, &len, 101, 99, "worker-2");
	task_entry(blk, &len, 7, 7, "kcompactd0");
	CHECK(mml_writer_block(w, MML_BLK_TASK, blk, (uint32_t)len) == 0);
	one_event(w, 100);
	CHECK(mml_writer_close(w, 1, 0) == 0);

	struct mml_meta *m = read_meta();
	check_task(m, 100, 99, "worker");
	check_task(m, 101, 99, "worker-2");
	check_task(m, 7, 7, "kcompactd0");
	check_task(m, 0, 0, "swapper");
	meta_free(m);
}

/* The TASK entries of the file at path: how many, how many with tid 0. */
static void scan_tasks(int *n, int *zero)
{
	FILE *f = fopen(path, "rb");
	struct mml_file_header h;
	struct mml_block_header bh;

	*n = *zero = 0;
	CHECK(f && fread(&h, sizeof(h), 1, f) == 1);
	while (f && fread(&bh, sizeof(bh), 1, f) == 1) {
		unsigned char *p = malloc(bh.len ? bh.len : 1);

		CHECK(p && fread(p, 1, bh.len, f) == bh.len);
		for (uint32_t o = 0; bh.type == MML_BLK_TASK && bh.len - o >= 34;) {
			uint32_t tid;
			uint16_t l;

			memcpy(&tid, p + o, 4);
			memcpy(&l, p + o + 32, 2);
			(*n)++;
			*zero += tid == 0;
			o += 34 + l;
		}
		free(p);
	}
	if (f)
		fclose(f);
}

/* What the writer does with tid 0 now. */
static void writer_skips_tid0(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .ncpus = 1,
				     .clock = MML_CLOCK_MONOTONIC };
	struct mml_writer *w = mml_writer_open(path, &h);
	int n, zero;

	CHECK(w != NULL);
	CHECK(mml_writer_task(w, 0, 0, "swapper", 0, NULL) == 0);
	CHECK(mml_writer_task(w, 200, 200, "main", 0, "/a") == 0);
	one_event(w, 0);
	one_event(w, 200);
	CHECK(mml_writer_close(w, 2, 0) == 0);
	scan_tasks(&n, &zero);
	CHECK_EQ(zero, 0);
	CHECK_EQ(n, 1);

	struct mml_meta *m = read_meta();
	check_task(m, 200, 200, "main");
	check_task(m, 0, 0, "swapper");		/* named by the reader: a kernel file */
	meta_free(m);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test-mml-tasks.%d", (int)getpid());
	old_file_with_tid0();
	writer_skips_tid0();
	unlink(path);
	printf("test-mml-tasks: ok\n");
	return 0;
}
