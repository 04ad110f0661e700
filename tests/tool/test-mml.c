/* SPDX-License-Identifier: MIT */
/*
 * test-mml: the mmaplock file reader (src-mml.c) on files written with
 * mml_writer: blocks out of time order across streams come out merged in
 * time order, metadata reaches the meta, a file cut at every byte offset
 * reads its complete blocks, says it is truncated (no END block) and counts
 * the partial block at its end as one damaged block of the bytes cut. Damage
 * in the middle is skipped, counted and read past (resync on the next whole
 * block): a flipped payload byte, a broken block magic, a wrong length,
 * garbage between two blocks each cost exactly the damaged block's events.
 * Format 1.1: STACK blocks reach the meta's stack table (ids, frames,
 * symbols, the 128-frame cut), stack events (type 6) come out like others,
 * and a STACK entry running past its block (hash right) is a damaged block
 * too. All of it twice: on a version 1 file (32-byte EVENTS blocks) and on
 * a version 2 file (PACKED blocks, what the writers write by default).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mml_writer.h"
#include "source.h"
#include "stacks.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static char path[64], cut[64];
static uint64_t dmg_blocks, dmg_bytes;	/* of the last read_all() */
static int version;			/* of the files written: 1 or 2 */

/* Stream k holds events with ts = k + 3 * i, written in blocks of 4, streams interleaved
 * in reverse so that blocks are not ordered on disk. */
static uint64_t write_file(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_LIB, .ncpus = 2, .clock = MML_CLOCK_MONOTONIC,
				     .version_major = (uint16_t)version };
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
	dmg_blocks = s->damaged_blocks;
	dmg_bytes = s->damaged_bytes;
	*last_ts_ok = ordered;
	source_close(s);
	if (mp)
		*mp = m;
	else
		meta_free(m);
	return tot;
}

/* A 1.1 file: two stacks (one of 130 frames), stack events before their events. */
static void test_stacks(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .ncpus = 1, .clock = MML_CLOCK_MONOTONIC,
				     .version_major = (uint16_t)version };
	struct mml_writer *w = mml_writer_open(path, &h);
	static uint64_t addr[130];
	static const char *sym[130];
	static char names[130][32];
	struct mml_event ev[4] = {
		{ .ts = 100, .mm = 0xa, .memcg = 5, .tid = 7, .type = MML_EV_STACK },
		{ .ts = 100, .mm = 0xa, .memcg = 42, .tid = 7, .type = MML_EV_START_LOCKING },
		{ .ts = 200, .mm = 0xa, .memcg = 9, .tid = 7, .type = MML_EV_STACK },
		{ .ts = 200, .mm = 0xa, .memcg = 42, .tid = 7, .type = MML_EV_ACQUIRE_RETURNED,
		  .flags = MML_F_SUCCESS },
	};
	char err[300];
	int trunc;
	uint64_t ordered;
	struct mml_meta *m = NULL;

	for (int i = 0; i < 130; i++) {
		addr[i] = 0xffffffff81000000ull + (uint64_t)i;
		snprintf(names[i], sizeof(names[i]), "fn%d+0x%x/0x100", i, i);
		sym[i] = names[i];
	}
	CHECK(w != NULL);
	if (!w)
		return;
	const char *two[] = { "lock_mm_and_find_vma+0x3a/0x2c0", "do_user_addr_fault+0x1f1/0x6a0" };
	uint64_t two_a[] = { 0xffffffff81111111ull, 0 };
	CHECK(mml_writer_stack(w, 5, two_a, two, 2) == 0);
	CHECK(mml_writer_stack(w, 9, addr, sym, 130) == 0);
	CHECK(mml_writer_events(w, 0, ev, 4) == 0);
	CHECK(mml_writer_close(w, 2, 0) == 0);

	long n = read_all(path, &trunc, &ordered, err, sizeof(err), &m);
	CHECK(n == 4 && !trunc && ordered);
	const struct mml_stack *a = m ? meta_stack(m, 5) : NULL, *b = m ? meta_stack(m, 9) : NULL;
	CHECK(m && stacktab_count(meta_stacks(m)) == 2 && !meta_stack(m, 6));
	CHECK(a && a->id == 5 && a->n == 2 && a->addr[0] == 0xffffffff81111111ull && a->addr[1] == 0);
	CHECK(a && !strcmp(a->sym[0], "lock_mm_and_find_vma+0x3a/0x2c0") &&
	      !strcmp(a->sym[1], "do_user_addr_fault+0x1f1/0x6a0"));
	/* more than STACK_MAX_FRAMES: the innermost 128 are kept */
	CHECK(b && b->n == STACK_MAX_FRAMES && b->addr[127] == 0xffffffff8100007full &&
	      !strcmp(b->sym[0], "fn0+0x0/0x100") && !strcmp(b->sym[127], "fn127+0x7f/0x100"));
	meta_free(m);

	/* the type-6 events come out, in place (before their events) */
	m = meta_new();
	struct source *s = source_open(path, m, err, sizeof(err));
	struct mml_event got[8];
	CHECK(s && source_next(s, got, 8) == 4);
	CHECK(s && got[0].type == MML_EV_STACK && got[0].memcg == 5 && got[1].type == MML_EV_START_LOCKING &&
	      got[2].type == MML_EV_STACK && got[2].memcg == 9 && got[3].type == MML_EV_ACQUIRE_RETURNED);
	source_close(s);
	meta_free(m);

	/* malformed entries, each in a block of its own with a right hash: corrupt at that block */
	static const unsigned char bad[][24] = {
		/* id 3, 1 frame, sym len 200 past the end */
		{ 3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 200, 0, 'x', 'y' },
		/* id 3, 2 frames, only one present */
		{ 3, 0, 0, 0, 2, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 2, 0, 'x', 'y' },
	};
	for (int k = 0; k < 2; k++) {
		w = mml_writer_open(cut, &h);
		CHECK(w && mml_writer_events(w, 0, ev, 2) == 0);
		int fd = open(cut, O_RDONLY);
		off_t off = lseek(fd, 0, SEEK_END);	/* where the bad block goes */
		close(fd);
		CHECK(w && mml_writer_block(w, MML_BLK_STACK, bad[k], 24) == 0);
		CHECK(mml_writer_close(w, 1, 0) == 0);
		n = read_all(cut, &trunc, &ordered, err, sizeof(err), NULL);
		/* the bad block is skipped (16 + 24 bytes), the events before it are read */
		CHECK(n == 2 && !trunc && dmg_blocks == 1 && dmg_bytes == 40);
		if (n != 2 || dmg_blocks != 1 || dmg_bytes != 40)
			fprintf(stderr, "bad stack %d at %lld: got %ld events, %llu damaged (%llu bytes)\n",
				k, (long long)off, n, (unsigned long long)dmg_blocks,
				(unsigned long long)dmg_bytes);
	}
	/* a well-formed block with 4 zero bytes of padding after an entry: fine */
	{
		unsigned char ok[24] = { 4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 'o', 'k' };
		w = mml_writer_open(cut, &h);
		CHECK(w && mml_writer_block(w, MML_BLK_STACK, ok, 20) == 0);
		CHECK(mml_writer_events(w, 0, ev, 2) == 0);
		CHECK(mml_writer_close(w, 1, 0) == 0);
		n = read_all(cut, &trunc, &ordered, err, sizeof(err), &m);
		CHECK(n == 2 && m && meta_stack(m, 4) && meta_stack(m, 4)->n == 1 &&
		      meta_stack(m, 4)->addr[0] == 1 && !strcmp(meta_stack(m, 4)->sym[0], "ok"));
		meta_free(m);
	}
	unlink(cut);
}

/* The whole file test on a file of the current version. Returns the events written. */
static uint64_t test_file(void)
{
	char err[300];
	int trunc;
	uint64_t ordered;
	struct mml_meta *m = NULL;
	long n;
	uint16_t ev_type = version == 1 ? MML_BLK_EVENTS : MML_BLK_PACKED;
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
	/* where the blocks start, and the first EVENTS (version 1) or PACKED (2) block */
	static off_t starts[64];
	int nstarts = 0;
	off_t ev_off = 0;
	uint32_t ev_len = 0;
	CHECK(((struct mml_file_header *)buf)->version_major == version);
	for (off_t off = 64; off < size && nstarts < 64;) {
		struct mml_block_header bh;
		memcpy(&bh, buf + off, sizeof(bh));
		CHECK(bh.type != (version == 1 ? MML_BLK_PACKED : MML_BLK_EVENTS));
		if (bh.type == ev_type && !ev_off) {
			ev_off = off;
			ev_len = 16 + bh.len;
		}
		starts[nstarts++] = off;
		off += (off_t)sizeof(bh) + bh.len;
	}
	CHECK(ev_off > 0 && nstarts < 64);
	long prev = 0;
	int k = 0;
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
		/* a partial block at the end: one damaged block, the bytes past the last whole one */
		while (k + 1 < nstarts && starts[k + 1] <= len)
			k++;
		off_t tail = len <= starts[0] ? 0 : len == size ? 0 : len - starts[k];
		CHECK(dmg_blocks == (tail > 0) && dmg_bytes == (uint64_t)tail);
		if (dmg_blocks != (tail > 0) || dmg_bytes != (uint64_t)tail)
			fprintf(stderr, "v%d: cut at %lld: %llu damaged (%llu bytes), want %lld bytes\n",
				version, (long long)len, (unsigned long long)dmg_blocks,
				(unsigned long long)dmg_bytes, (long long)tail);
		if (len == size)
			CHECK(n == (long)written);
		prev = n;
	}

	/*
	 * damage in the middle, at the first events block (the metadata blocks
	 * before it vary in number and size): skipped and counted, every
	 * other block read. A version 1 block is 16 + 24 + 4 * 32 = 168 bytes.
	 */
	CHECK(version != 1 || ev_len == 168);
	static const struct { const char *what; off_t at; int insert; unsigned char x; } dmg[] = {
		{ "flipped payload byte", 16 + 30, 0, 0x40 },
		{ "flipped event count", 16, 0, 0x01 },
		{ "broken block magic", 0, 0, 0x20 },
		{ "broken length", 8, 0, 0x08 },
		{ "13 bytes of garbage before it", 0, 13, 'M' },
		{ "16 bytes of garbage before it", 0, 16, 'M' },
		/* version 2: the packed header's sizes, the compressed data */
		{ "flipped codec", 16 + 24, 0, 0x04 },
		{ "flipped raw length", 16 + 28, 0, 0x01 },
		{ "flipped data length", 16 + 32, 0, 0x08 },
		{ "flipped data byte", 16 + 40 + 5, 0, 0x10 },
	};
	for (size_t d = 0; d < sizeof(dmg) / sizeof(dmg[0]); d++) {
		if (version == 1 && dmg[d].at >= 16 + 24)
			continue;
		int o = open(cut, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		off_t at = ev_off + dmg[d].at;
		long want_n = (long)written - (dmg[d].insert ? 0 : 4);
		uint64_t want_bytes = dmg[d].insert ? (uint64_t)dmg[d].insert : ev_len;
		if (dmg[d].insert) {
			char junk[16];
			memset(junk, dmg[d].x, sizeof(junk));
			/* a false start: the block magic, then garbage */
			memcpy(junk, &(uint32_t){ MML_BLOCK_MAGIC }, 4);
			CHECK(write(o, buf, (size_t)at) == at);
			CHECK(write(o, junk, (size_t)dmg[d].insert) == dmg[d].insert);
			CHECK(write(o, buf + at, (size_t)(size - at)) == size - at);
		} else {
			buf[at] ^= (char)dmg[d].x;
			CHECK(write(o, buf, (size_t)size) == size);
			buf[at] ^= (char)dmg[d].x;
		}
		close(o);
		n = read_all(cut, &trunc, &ordered, err, sizeof(err), NULL);
		CHECK(n == want_n && ordered && !trunc && dmg_blocks == 1 && dmg_bytes == want_bytes);
		if (n != want_n || dmg_blocks != 1 || dmg_bytes != want_bytes)
			fprintf(stderr, "v%d: %s: got %ld events, %llu damaged (%llu bytes) '%s'; want %ld, 1 (%llu)\n",
				version, dmg[d].what, n, (unsigned long long)dmg_blocks,
				(unsigned long long)dmg_bytes, n < 0 ? err : "", want_n,
				(unsigned long long)want_bytes);
	}
	free(buf);
	test_stacks();
	return written;
}

int main(void)
{
	uint64_t written = 0;

	snprintf(path, sizeof(path), "/tmp/test-mml.%d", (int)getpid());
	snprintf(cut, sizeof(cut), "/tmp/test-mml-cut.%d", (int)getpid());
	for (version = 1; version <= 2; version++)
		written = test_file();
	unlink(path);
	unlink(cut);
	if (fails) {
		fprintf(stderr, "test-mml: %d checks failed\n", fails);
		return 1;
	}
	printf("test-mml: ok (versions 1 and 2: %ld events, every prefix read)\n", (long)written);
	return 0;
}
