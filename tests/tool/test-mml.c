/* SPDX-License-Identifier: MIT */
/*
 * test-mml: the mmaplock file reader (src-mml.c) on files written with
 * mml_writer: blocks out of time order across streams come out merged in
 * time order, metadata reaches the meta, a file cut at every byte offset
 * reads its complete blocks and says it is truncated (a partial block or no
 * END block), a flipped payload
 * byte is a one-line "corrupt block" error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mml_writer.h"
#include "source.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static char path[64], cut[64];

/* Stream k holds events with ts = k + 3 * i, written in blocks of 4, streams interleaved
 * in reverse so that blocks are not ordered on disk. */
static uint64_t write_file(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_LIB, .ncpus = 2, .clock = MML_CLOCK_MONOTONIC };
	struct mml_writer *w = mml_writer_open(path, &h);
	struct mml_event ev[4];
	uint64_t n = 0;

	if (!w)
		exit(1);
	CHECK(mml_writer_memcg(w, 42, "/sys/fs/cgroup/memory/a") == 0);
	CHECK(mml_writer_task(w, 100, 99, "worker", 42, "/a") == 0);
	CHECK(mml_writer_info(w, "kernel", "6.18") == 0);
	CHECK(mml_writer_lost(w, 1, 5) == 0);
	for (int blk = 4; blk >= 0; blk--)
		for (uint32_t k = 0; k < 3; k++) {
			for (int i = 0; i < 4; i++) {
				uint64_t idx = (uint64_t)blk * 4 + (uint64_t)i;
				memset(&ev[i], 0, sizeof(ev[i]));
				ev[i].ts = 1000 + k + 3 * idx;
				ev[i].tid = 100 + k;
				ev[i].mm = 0xa;
				ev[i].memcg = 42;
				ev[i].type = (uint8_t)(idx % 3 + 1);	/* S, A, R cycles */
				ev[i].flags = MML_F_SUCCESS;
			}
			CHECK(mml_writer_events(w, k, ev, 4) == 0);
			n += 4;
		}
	CHECK(mml_writer_close(w, n, 5) == 0);
	return n;
}

/* Read all of p; returns events read (-1 error: err filled). */
static long read_all(const char *p, int *truncated, uint64_t *last_ts_ok, char *err, size_t errlen,
		     struct mml_meta **mp)
{
	struct mml_meta *m = meta_new();
	struct source *s = source_open(p, m, err, errlen);
	struct mml_event ev[7];
	long n, tot = 0;
	uint64_t prev = 0;
	int ordered = 1;

	if (!s) {
		meta_free(m);
		return -1;
	}
	while ((n = source_next(s, ev, 7)) > 0) {
		for (long i = 0; i < n; i++) {
			if (ev[i].ts < prev)
				ordered = 0;
			prev = ev[i].ts;
		}
		tot += n;
	}
	if (n < 0) {
		snprintf(err, errlen, "%s", source_error(s));
		tot = -1;
	}
	*truncated = s->truncated;
	*last_ts_ok = ordered;
	source_close(s);
	if (mp)
		*mp = m;
	else
		meta_free(m);
	return tot;
}

int main(void)
{
	char err[300];
	int trunc;
	uint64_t ordered;
	struct mml_meta *m = NULL;
	long n;

	snprintf(path, sizeof(path), "/tmp/test-mml.%d", (int)getpid());
	snprintf(cut, sizeof(cut), "/tmp/test-mml-cut.%d", (int)getpid());
	uint64_t written = write_file();

	{
		struct mml_meta *mm = meta_new();
		struct source *s = source_open(path, mm, err, sizeof(err));
		CHECK(s && !strcmp(s->ops->name, "mmaplock"));
		source_close(s);
		meta_free(mm);
	}
	n = read_all(path, &trunc, &ordered, err, sizeof(err), &m);
	CHECK(n == (long)written);
	CHECK(ordered == 1);
	CHECK(!trunc);
	CHECK(m && meta_memcg(m, 42) && !strcmp(meta_memcg(m, 42), "/sys/fs/cgroup/memory/a"));
	CHECK(m && meta_task(m, 100) && meta_task(m, 100)->tgid == 99 &&
	      !strcmp(meta_task(m, 100)->comm, "worker"));
	CHECK(m && meta_info(m, "kernel") && !strcmp(meta_info(m, "kernel"), "6.18"));
	CHECK(m && meta_lost_total(m) == 5);
	meta_free(m);

	/* every prefix: no crash, a multiple of 4 events (whole blocks), truncated unless whole */
	int fd = open(path, O_RDONLY);
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf = malloc((size_t)size);
	CHECK(pread(fd, buf, (size_t)size, 0) == size);
	close(fd);
	long prev = 0;
	for (off_t len = 0; len <= size; len++) {
		int o = open(cut, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(write(o, buf, (size_t)len) == len);
		close(o);
		n = read_all(cut, &trunc, &ordered, err, sizeof(err), NULL);
		if (len < 64) {
			CHECK(n == -1);		/* no header: an error, not a crash */
			continue;
		}
		CHECK(n >= prev && n % 4 == 0 && ordered);
		CHECK(trunc == (len != size));	/* no END block: not closed cleanly */
		if (len == size)
			CHECK(n == (long)written);
		prev = n;
	}

	/* a flipped byte inside the third block's payload: corrupt, named by offset */
	{
		struct mml_block_header bh;
		off_t off = 64;
		for (int b = 0; b < 2; b++) {
			memcpy(&bh, buf + off, sizeof(bh));
			off += (off_t)sizeof(bh) + bh.len;
		}
		memcpy(&bh, buf + off, sizeof(bh));
		buf[off + (off_t)sizeof(bh) + 30] ^= 0x40;
		int o = open(cut, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CHECK(write(o, buf, (size_t)size) == size);
		close(o);
		n = read_all(cut, &trunc, &ordered, err, sizeof(err), NULL);
		char want[64];
		snprintf(want, sizeof(want), "corrupt block at offset %lld", (long long)off);
		CHECK(n == -1 && strstr(err, want) && !strchr(err, '\n'));
		if (n != -1 || !strstr(err, want))
			fprintf(stderr, "got: %ld '%s', want '%s'\n", n, err, want);
	}
	free(buf);
	unlink(path);
	unlink(cut);
	if (fails) {
		fprintf(stderr, "test-mml: %d checks failed\n", fails);
		return 1;
	}
	printf("test-mml: ok (%ld events, every prefix read)\n", (long)written);
	return 0;
}
