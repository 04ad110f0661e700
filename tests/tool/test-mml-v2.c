/* SPDX-License-Identifier: MIT */
/*
 * test-mml-v2: version 2 of the mmaplock file (PACKED blocks) round-trips
 * exactly. Every event type (1-6) with every flag combination, tids, CPUs,
 * mms and memcgs from 0 to their widest values, hundreds of distinct values
 * in a block (tables past the packer's first hash set, indexes of two
 * bytes), time steps from 0 to 2^40 ns, a stream longer than one block,
 * and a second stream merged with it: written through mml_writer as
 * version 2 and as version 1, both files read back give exactly the events
 * written, and every metadata block (MEMCG, TASK, INFO, LOST, STACK, END)
 * gives exactly its figures. Events the packing cannot hold (type 9, flag
 * 0x20) go out as a version 1 EVENTS block inside the version 2 file and
 * come back too. A stored (codec none) PACKED block reads like a compressed
 * one. PACKED blocks whose hash is right but whose contents are wrong
 * (index out of its table, varint cut, bytes left over, count or sizes
 * wrong, a broken zstd frame, an empty table) are each one damaged block,
 * and the blocks around them are read.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>
#include "mml_pack.h"
#include "mml_writer.h"
#include "source.h"
#include "stacks.h"
#include "test-util.h"

#define N1	40000		/* stream 1: more than one block */
#define N2	1000		/* stream 2 */

static char path[64];
static struct mml_event ev1[N1], ev2[N2];

static uint64_t rnd(void)
{
	static uint64_t x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* The events: every type and flag set, extreme values, varied steps. */
static void make_events(void)
{
	static const uint64_t steps[] = { 0, 1, 127, 128, 16383, 16384, 1ull << 40, 999 };
	static const uint64_t mms[] = { 0, 0xffff888812345678ull, UINT64_MAX, 0xa };
	static const uint64_t memcgs[] = { 0, 1, UINT64_MAX, 1ull << 63 };
	uint64_t ts = 1000;

	for (uint32_t i = 0; i < N1; i++) {
		struct mml_event *e = &ev1[i];
		uint64_t r = rnd();

		/* strictly later at the block boundary: blocks merge without ties */
		ts += steps[r % 8] + (i % MML_EVENTS_PER_BLOCK == 0);
		e->ts = ts;
		e->type = (uint8_t)(1 + i % 6);
		e->flags = (uint8_t)((i / 6) % 32);
		if (i < 2000) {		/* hundreds of distinct values in the first block */
			e->tid = (uint32_t)(r >> 8) % 700;
			e->mm = mms[r % 4] + ((r >> 20) % 300) * 0x1000;
			e->memcg = (r >> 30) % 500;
			e->cpu = (uint16_t)((r >> 40) % 400);
		} else {		/* few values, changing now and then */
			e->tid = i % 97 == 0 ? UINT32_MAX : 4000 + (uint32_t)(i / 1000);
			e->mm = mms[(i / 333) % 4];
			e->memcg = memcgs[(i / 777) % 4];
			e->cpu = i % 101 == 0 ? UINT16_MAX : (uint16_t)(i / 5000);
		}
	}
	ts = 1500;
	for (uint32_t i = 0; i < N2; i++) {
		ts += 7 + i % 3;
		ev2[i] = (struct mml_event){ .ts = ts, .mm = 0xb, .memcg = 3, .tid = 77, .cpu = 1,
					     .type = (uint8_t)(1 + i % 3), .flags = MML_F_WRITE };
	}
}

static void write_meta(struct mml_writer *w)
{
	static const uint64_t addr[] = { 0xffffffff81000010ull, 0 };
	static const char *const sym[] = { "lock_mm_and_find_vma+0x3a/0x2c0", "0xffffffff8100dead" };

	CHECK(mml_writer_memcg(w, 42, "/sys/fs/cgroup/memory/a") == 0);
	CHECK(mml_writer_memcg(w, UINT64_MAX, "/b") == 0);
	CHECK(mml_writer_task(w, 4000, 3999, "worker", 42, "/a") == 0);
	CHECK(mml_writer_task(w, UINT32_MAX, 1, "fifteen-chars-x", 0, NULL) == 0);
	CHECK(mml_writer_info(w, "kernel", "6.18") == 0);
	CHECK(mml_writer_info(w, "empty", "") == 0);
	CHECK(mml_writer_lost(w, 3, 5) == 0);
	CHECK(mml_writer_lost(w, 3, 6) == 0);
	CHECK(mml_writer_stack(w, 7, addr, sym, 2) == 0);
}

static void write_file(int version, const char *p)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .ncpus = 4,
				     .clock = MML_CLOCK_MONOTONIC, .start_ts_ns = 1000,
				     .version_major = (uint16_t)version };
	struct mml_writer *w = mml_writer_open(p, &h);

	CHECK(w != NULL);
	write_meta(w);
	CHECK(mml_writer_events(w, 0, ev1, N1) == 0);
	CHECK(mml_writer_events(w, 1, ev2, N2) == 0);
	CHECK(mml_writer_close(w, N1 + N2, 11) == 0);
}

/* All events of p, in order, into *out (malloc'd); the meta in *mp. Returns the count. */
static long read_file(const char *p, struct mml_event **out, struct mml_meta **mp,
		      uint64_t *damaged)
{
	char err[300];
	struct mml_meta *m = meta_new();
	struct source *s = source_open(p, m, err, sizeof(err));
	struct mml_event *ev = malloc((N1 + N2 + 100) * sizeof(*ev));
	long n = 0, tot = 0;

	if (!s) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	while (tot <= N1 + N2 && (n = source_next(s, ev + tot, 100)) > 0)
		tot += n;
	CHECK(n >= 0);
	*damaged = s->damaged_blocks;
	source_close(s);
	*out = ev;
	*mp = m;
	return tot;
}

static int same_event(const struct mml_event *a, const struct mml_event *b)
{
	return a->ts == b->ts && a->mm == b->mm && a->memcg == b->memcg && a->tid == b->tid &&
	       a->cpu == b->cpu && a->type == b->type && a->flags == b->flags;
}

/* The two streams merged by time, as a reader gives them. */
static struct mml_event *expected(void)
{
	struct mml_event *x = malloc((N1 + N2) * sizeof(*x));
	uint32_t i = 0, j = 0, k = 0;

	while (i < N1 || j < N2)
		x[k++] = j == N2 || (i < N1 && ev1[i].ts <= ev2[j].ts) ? ev1[i++] : ev2[j++];
	return x;
}

static void check_meta(struct mml_meta *m)
{
	const struct mml_task_info *t = meta_task(m, 4000), *u = meta_task(m, UINT32_MAX);
	const struct mml_stack *st = meta_stack(m, 7);

	CHECK(meta_memcg(m, 42) && !strcmp(meta_memcg(m, 42), "/sys/fs/cgroup/memory/a"));
	CHECK(meta_memcg(m, UINT64_MAX) && !strcmp(meta_memcg(m, UINT64_MAX), "/b"));
	CHECK(t && t->tgid == 3999 && !strcmp(t->comm, "worker") && t->cgroup_id == 42);
	CHECK(u && u->tgid == 1 && !strcmp(u->comm, "fifteen-chars-x"));
	CHECK(meta_info(m, "kernel") && !strcmp(meta_info(m, "kernel"), "6.18"));
	CHECK(meta_info(m, "empty") && !strcmp(meta_info(m, "empty"), ""));
	CHECK_EQ(meta_lost_total(m), 11);
	CHECK(st && st->n == 2 && st->addr[0] == 0xffffffff81000010ull && st->addr[1] == 0 &&
	      !strcmp(st->sym[0], "lock_mm_and_find_vma+0x3a/0x2c0") &&
	      !strcmp(st->sym[1], "0xffffffff8100dead"));
}

/* Count p's blocks of type; the version in its header into *ver. */
static int count_blocks(const char *p, uint16_t type, int *ver)
{
	FILE *f = fopen(p, "rb");
	struct mml_file_header h;
	struct mml_block_header bh;
	int n = 0;

	CHECK(f && fread(&h, sizeof(h), 1, f) == 1);
	*ver = h.version_major;
	while (fread(&bh, sizeof(bh), 1, f) == 1) {
		n += bh.type == type;
		CHECK(fseek(f, bh.len, SEEK_CUR) == 0);
	}
	fclose(f);
	return n;
}

static void test_round_trip(void)
{
	struct mml_event *x = expected(), *got;
	struct mml_meta *m;
	uint64_t dmg;
	int ver;

	for (int version = 1; version <= 2; version++) {
		write_file(version, path);
		CHECK_EQ(count_blocks(path, MML_BLK_PACKED, &ver), version == 2 ? 3 : 0);
		CHECK_EQ(count_blocks(path, MML_BLK_EVENTS, &ver), version == 2 ? 0 : 3);
		CHECK_EQ(ver, version);
		long n = read_file(path, &got, &m, &dmg);
		CHECK_EQ(n, N1 + N2);
		CHECK_EQ(dmg, 0);
		for (long i = 0; i < n; i++)
			if (!same_event(&got[i], &x[i])) {
				fprintf(stderr, "v%d: event %ld differs: ts %llu/%llu tid %u/%u type %u/%u\n",
					version, i, (unsigned long long)got[i].ts,
					(unsigned long long)x[i].ts, got[i].tid, x[i].tid, got[i].type,
					x[i].type);
				exit(1);
			}
		check_meta(m);
		meta_free(m);
		free(got);
	}
	free(x);
}

/* Events the packing cannot hold: an EVENTS block in the version 2 file, read back. */
static void test_fallback(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .clock = MML_CLOCK_MONOTONIC };
	struct mml_event e[3] = {
		{ .ts = 10, .mm = 1, .tid = 2, .type = 9 },
		{ .ts = 11, .mm = 1, .tid = 2, .type = 1, .flags = 0x20 },
		{ .ts = 12, .mm = 1, .tid = 2, .type = 1, .flags = 0x1f },
	}, *got;
	struct mml_writer *w = mml_writer_open(path, &h);
	struct mml_meta *m;
	uint64_t dmg;
	int ver;

	CHECK(w && mml_writer_events(w, 0, e, 3) == 0 && mml_writer_events(w, 0, e + 2, 1) == 0);
	CHECK(mml_writer_close(w, 4, 0) == 0);
	CHECK_EQ(count_blocks(path, MML_BLK_EVENTS, &ver), 1);
	CHECK_EQ(count_blocks(path, MML_BLK_PACKED, &ver), 1);
	CHECK_EQ(ver, 2);
	CHECK_EQ(read_file(path, &got, &m, &dmg), 4);
	CHECK(same_event(&got[0], &e[0]) && same_event(&got[1], &e[1]) &&
	      same_event(&got[2], &e[2]) && same_event(&got[3], &e[2]) && !dmg);
	free(got);
	meta_free(m);
}

/* A PACKED block built by hand: header, then data as given (hash by the writer). */
static void packed_block(struct mml_writer *w, uint32_t count, uint64_t min_ts, uint32_t codec,
			 uint32_t raw_len, const void *data, uint32_t data_len)
{
	struct mml_packed_header ph = { .count = count, .stream = 5, .min_ts = min_ts,
					.max_ts = min_ts + 100, .codec = codec,
					.raw_len = raw_len, .data_len = data_len };
	unsigned char b[512];

	CHECK(data_len + sizeof(ph) <= sizeof(b));
	memcpy(b, &ph, sizeof(ph));
	memcpy(b + sizeof(ph), data, data_len);
	CHECK(mml_writer_block(w, MML_BLK_PACKED, b, (uint32_t)sizeof(ph) + data_len) == 0);
}

/*
 * Two events packed by hand: tables tid {7}, cpu {0}, mm {0xa, 0xb}, memcg
 * {0}; ops; times 0, 5; mm indexes 0, 1.
 */
static const unsigned char two[] = {
	1, 7, 1, 0, 2, 0xa, 0xb, 1, 0,	/* tables */
	1 | 1 << 3, 3,			/* ops: start_locking write, released */
	0, 5,				/* times */
	0, 1,				/* mm indexes */
};

static void test_stored_and_malformed(void)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .clock = MML_CLOCK_MONOTONIC };
	struct mml_event ok[2] = {
		{ .ts = 1, .mm = 1, .tid = 1, .type = 1 },
		{ .ts = 2, .mm = 1, .tid = 1, .type = 3 },
	}, *got;
	unsigned char bad[sizeof(two) + 1], z[256];
	size_t zl = ZSTD_compress(z, sizeof(z), two, sizeof(two), 1);
	struct mml_meta *m;
	uint64_t dmg;
	struct mml_writer *w;

	CHECK(!ZSTD_isError(zl));
	/* stored and compressed: both read */
	w = mml_writer_open(path, &h);
	CHECK(w != NULL);
	packed_block(w, 2, 100, MML_CODEC_NONE, sizeof(two), two, sizeof(two));
	packed_block(w, 2, 200, MML_CODEC_ZSTD, sizeof(two), z, (uint32_t)zl);
	CHECK(mml_writer_close(w, 4, 0) == 0);
	CHECK_EQ(read_file(path, &got, &m, &dmg), 4);
	CHECK_EQ(dmg, 0);
	CHECK(got[0].ts == 100 && got[0].tid == 7 && got[0].mm == 0xa && got[0].type == 1 &&
	      got[0].flags == MML_F_WRITE && got[1].ts == 105 && got[1].mm == 0xb &&
	      got[1].type == 3 && got[1].flags == 0);
	CHECK(got[2].ts == 200 && got[3].ts == 205 && got[3].mm == 0xb);
	free(got);
	meta_free(m);

	/* each malformed block (hash right) is one damaged block, between two good ones */
	static const struct { const char *what; int at, val, cut, extra, count; } cases[] = {
		{ "mm index out of its table", 14, 2, 0, 0, 2 },
		{ "an empty table", 0, 0, 0, 0, 2 },
		{ "a table longer than the block's events", 0, 3, 0, 0, 2 },
		{ "a varint cut at the end", 14, 0x81, 0, 0, 2 },
		{ "a byte left over", -1, 0, 0, 1, 2 },
		{ "one byte short", -1, 0, 1, 0, 2 },
		{ "count says 3", -1, 0, 0, 0, 3 },
		{ "count says 1", -1, 0, 0, 0, 1 },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t len = (uint32_t)sizeof(two) - (uint32_t)cases[c].cut + (uint32_t)cases[c].extra;

		memcpy(bad, two, sizeof(two));
		bad[sizeof(two)] = 0;
		if (cases[c].at >= 0)
			bad[cases[c].at] = (unsigned char)cases[c].val;
		w = mml_writer_open(path, &h);
		CHECK(w && mml_writer_events(w, 0, ok, 1) == 0);
		packed_block(w, (uint32_t)cases[c].count, 100, MML_CODEC_NONE, len, bad, len);
		CHECK(mml_writer_events(w, 0, ok + 1, 1) == 0);
		CHECK(mml_writer_close(w, 2, 0) == 0);
		long n = read_file(path, &got, &m, &dmg);
		if (n != 2 || dmg != 1)
			fprintf(stderr, "%s: %ld events, %llu damaged; want 2, 1\n", cases[c].what, n,
				(unsigned long long)dmg);
		CHECK(n == 2 && dmg == 1);
		free(got);
		meta_free(m);
	}
	/* a cpu of 65536: wider than its field */
	{
		static const unsigned char wide[] = { 1, 7, 1, 0x80, 0x80, 4, 1, 0xa, 1, 0, 1, 3, 0, 5 };

		w = mml_writer_open(path, &h);
		CHECK(w && mml_writer_events(w, 0, ok, 1) == 0);
		packed_block(w, 2, 100, MML_CODEC_NONE, sizeof(wide), wide, sizeof(wide));
		CHECK(mml_writer_events(w, 0, ok + 1, 1) == 0);
		CHECK(mml_writer_close(w, 2, 0) == 0);
		CHECK_EQ(read_file(path, &got, &m, &dmg), 2);
		CHECK_EQ(dmg, 1);
		free(got);
		meta_free(m);
		/* the same with a cpu of 65535: read */
		unsigned char fits[sizeof(wide)];
		memcpy(fits, wide, sizeof(wide));
		fits[3] = 0xff, fits[4] = 0xff, fits[5] = 3;
		w = mml_writer_open(path, &h);
		CHECK(w != NULL);
		packed_block(w, 2, 100, MML_CODEC_NONE, sizeof(fits), fits, sizeof(fits));
		CHECK(mml_writer_close(w, 2, 0) == 0);
		CHECK_EQ(read_file(path, &got, &m, &dmg), 2);
		CHECK(dmg == 0 && got[0].cpu == 65535 && got[1].cpu == 65535);
		free(got);
		meta_free(m);
	}
	/* zstd: a broken frame magic, a frame cut short, a frame of another length than raw_len */
	for (int c = 0; c < 3; c++) {
		unsigned char zb[256];

		memcpy(zb, z, zl);
		if (c == 0)
			zb[0] ^= 0x55;
		w = mml_writer_open(path, &h);
		CHECK(w && mml_writer_events(w, 0, ok, 1) == 0);
		packed_block(w, 2, 100, MML_CODEC_ZSTD, c == 2 ? sizeof(two) + 1 : sizeof(two), zb,
			     (uint32_t)zl - (c == 1 ? 3 : 0));
		CHECK(mml_writer_events(w, 0, ok + 1, 1) == 0);
		CHECK(mml_writer_close(w, 2, 0) == 0);
		CHECK_EQ(read_file(path, &got, &m, &dmg), 2);
		CHECK_EQ(dmg, 1);
		free(got);
		meta_free(m);
	}
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test-mml-v2.%d", (int)getpid());
	make_events();
	test_round_trip();
	test_fallback();
	test_stored_and_malformed();
	unlink(path);
	printf("test-mml-v2: ok\n");
	return 0;
}
