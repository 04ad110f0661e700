/* SPDX-License-Identifier: MIT */
/*
 * test-decode: decode.c against the kernel's format files of both eras,
 * without root. tests/fixtures/format-id-* are this development machine's
 * formats (6.18: memcg_id u64); format-path-* reconstruct 6.1's
 * (memcg_path as __data_loc char[], mm at 8, memcg_path at 16, write at 20,
 * success at 21). Each is parsed with tep_parse_event(), raw records are
 * built by hand byte by byte, decoded, and every field compared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "decode.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static char fixdir[4096];

static void load(struct tep_handle *tep, const char *file, const char *sys)
{
	char path[4200], buf[8192];
	snprintf(path, sizeof(path), "%s/%s", fixdir, file);
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (tep_parse_event(tep, buf, n, sys) != 0) {
		fprintf(stderr, "%s: tep_parse_event failed\n", path);
		exit(1);
	}
}

static void put(unsigned char *p, int off, uint64_t v, int size)
{
	memcpy(p + off, &v, size);	/* little-endian host */
}

static int hdr(unsigned char *p, int type, int flags, int pid)
{
	memset(p, 0, 64);
	put(p, 0, type, 2);
	put(p, 2, flags, 1);
	put(p, 4, pid, 4);
	return 8;
}

static struct { uint64_t id; char path[64]; } seen[8];
static int nseen;
static void on_memcg(uint64_t id, const char *path, void *arg)
{
	(void)arg;
	if (nseen < 8) {
		seen[nseen].id = id;
		snprintf(seen[nseen].path, sizeof(seen[nseen].path), "%s", path);
		nseen++;
	}
}

static void test_id_era(void)
{
	struct tep_handle *tep = tep_alloc();
	load(tep, "format-id-mmap_lock_start_locking", "mmap_lock");
	load(tep, "format-id-mmap_lock_acquire_returned", "mmap_lock");
	load(tep, "format-id-mmap_lock_released", "mmap_lock");
	load(tep, "format-id-contention_begin", "lock");
	load(tep, "format-id-contention_end", "lock");
	struct decoder *d = decoder_new(tep, on_memcg, NULL);
	CHECK(d);
	if (!d)
		return;
	CHECK(decoder_has_memcg_id(d));
	CHECK(decoder_has_contention(d));
	int idsl = tep_find_event_by_name(tep, "mmap_lock", "mmap_lock_start_locking")->id;
	int idar = tep_find_event_by_name(tep, "mmap_lock", "mmap_lock_acquire_returned")->id;
	int idrl = tep_find_event_by_name(tep, "mmap_lock", "mmap_lock_released")->id;
	int idcb = tep_find_event_by_name(tep, "lock", "contention_begin")->id;
	int idce = tep_find_event_by_name(tep, "lock", "contention_end")->id;
	unsigned char r[64];
	struct mml_event ev;

	/* start_locking: mm 8, memcg_id 16 (u64), write 24 */
	hdr(r, idsl, 0x08 /* hardirq */, 4242);
	put(r, 8, 0xffff888012345678ull, 8);
	put(r, 16, 0x123456789ull, 8);
	put(r, 24, 1, 1);
	memset(&ev, 0xaa, sizeof(ev));
	CHECK(decode_record(d, r, 32, 1000, 3, &ev) == 1);
	CHECK(ev.type == MML_EV_START_LOCKING && ev.ts == 1000 && ev.cpu == 3 && ev.tid == 4242);
	CHECK(ev.mm == 0xffff888012345678ull && ev.memcg == 0x123456789ull);
	CHECK(ev.flags == (MML_F_WRITE | MML_F_HARDIRQ));

	/* acquire_returned: success at 25 */
	hdr(r, idar, 0x10 | 0x40, 7);
	put(r, 8, 0x1000, 8);
	put(r, 16, 55, 8);
	put(r, 24, 0, 1);
	put(r, 25, 1, 1);
	CHECK(decode_record(d, r, 32, 2000, 0, &ev) == 1);
	CHECK(ev.type == MML_EV_ACQUIRE_RETURNED && ev.memcg == 55 && ev.mm == 0x1000);
	CHECK(ev.flags == (MML_F_SUCCESS | MML_F_SOFTIRQ | MML_F_NMI));
	put(r, 25, 0, 1);
	CHECK(decode_record(d, r, 32, 2000, 0, &ev) == 1 && ev.flags == (MML_F_SOFTIRQ | MML_F_NMI));

	/* released */
	hdr(r, idrl, 0, 9);
	put(r, 8, 0x2000, 8);
	put(r, 16, 0, 8);
	put(r, 24, 1, 1);
	CHECK(decode_record(d, r, 32, 3, 1, &ev) == 1);
	CHECK(ev.type == MML_EV_RELEASED && ev.flags == MML_F_WRITE && ev.memcg == 0 && ev.tid == 9);
	/* truncated record: ours but malformed */
	CHECK(decode_record(d, r, 20, 3, 1, &ev) == -1);

	/* contention_begin: rwsem read wait kept, spinlock dropped */
	hdr(r, idcb, 0, 11);
	put(r, 8, 0xdead0, 8);
	put(r, 16, 1u << 1, 4);
	CHECK(decode_record(d, r, 24, 5, 0, &ev) == 1);
	CHECK(ev.type == MML_EV_CONTENTION_BEGIN && ev.mm == 0xdead0 && ev.flags == 0 && ev.memcg == 2);
	put(r, 16, 1u << 2, 4);
	CHECK(decode_record(d, r, 24, 5, 0, &ev) == 1 && ev.flags == MML_F_WRITE);
	put(r, 16, 1u << 0, 4);
	CHECK(decode_record(d, r, 24, 5, 0, &ev) == 0);
	put(r, 16, 1u << 5, 4);
	CHECK(decode_record(d, r, 24, 5, 0, &ev) == 0);

	/* contention_end: ret kept */
	hdr(r, idce, 0, 11);
	put(r, 8, 0xdead0, 8);
	put(r, 16, (uint32_t)-4, 4);
	CHECK(decode_record(d, r, 24, 6, 0, &ev) == 1);
	CHECK(ev.type == MML_EV_CONTENTION_END && ev.memcg == 0xfffffffcu);

	/* some other event type */
	hdr(r, 9999, 0, 1);
	CHECK(decode_record(d, r, 32, 1, 0, &ev) == 0);
	hdr(r, idsl - 1 > 0 ? 1 : 2, 0, 1);
	CHECK(decode_record(d, r, 32, 1, 0, &ev) == 0);
	CHECK(nseen == 0);
	decoder_free(d);
	tep_free(tep);
}

static int path_rec(unsigned char *r, int type, int pid, uint64_t mm, const char *path,
		    int write, int success)
{
	int len = (int)strlen(path) + 1, off = 24;	/* data after the 22 fixed bytes, aligned */
	hdr(r, type, 0, pid);
	put(r, 8, mm, 8);
	put(r, 16, (uint32_t)off | ((uint32_t)len << 16), 4);
	put(r, 20, write, 1);
	if (success >= 0)
		put(r, 21, success, 1);
	memcpy(r + off, path, len);
	return off + len;
}

static void test_path_era(void)
{
	struct tep_handle *tep = tep_alloc();
	load(tep, "format-path-mmap_lock_start_locking", "mmap_lock");
	load(tep, "format-path-mmap_lock_acquire_returned", "mmap_lock");
	load(tep, "format-path-mmap_lock_released", "mmap_lock");
	nseen = 0;
	struct decoder *d = decoder_new(tep, on_memcg, NULL);
	CHECK(d);
	if (!d)
		return;
	CHECK(!decoder_has_memcg_id(d));
	CHECK(!decoder_has_contention(d));
	unsigned char r[128];
	struct mml_event ev;
	int n;

	n = path_rec(r, 150, 100, 0xabc000, "/sys/fs/cgroup/memory/a", 1, -1);
	CHECK(decode_record(d, r, n, 10, 0, &ev) == 1);
	CHECK(ev.type == MML_EV_START_LOCKING && ev.flags == MML_F_WRITE && ev.mm == 0xabc000);
	uint64_t a = ev.memcg;
	CHECK(a != 0);
	CHECK(nseen == 1 && seen[0].id == a && !strcmp(seen[0].path, "/sys/fs/cgroup/memory/a"));

	n = path_rec(r, 151, 100, 0xabc000, "/sys/fs/cgroup/memory/a", 1, 1);
	CHECK(decode_record(d, r, n, 11, 0, &ev) == 1);
	CHECK(ev.type == MML_EV_ACQUIRE_RETURNED && ev.flags == (MML_F_WRITE | MML_F_SUCCESS));
	CHECK(ev.memcg == a && nseen == 1);	/* same path: same id, announced once */

	n = path_rec(r, 152, 101, 0xabc000, "/b", 0, -1);
	CHECK(decode_record(d, r, n, 12, 1, &ev) == 1);
	CHECK(ev.type == MML_EV_RELEASED && ev.flags == 0 && ev.memcg != a && ev.memcg != 0);
	CHECK(nseen == 2 && !strcmp(seen[1].path, "/b") && seen[1].id == ev.memcg);

	n = path_rec(r, 152, 101, 0xabc000, "", 0, -1);
	CHECK(decode_record(d, r, n, 12, 1, &ev) == 1 && ev.memcg == 0);

	/* string past the end of the record */
	n = path_rec(r, 150, 100, 0xabc000, "/sys/fs/cgroup/memory/a", 1, -1);
	CHECK(decode_record(d, r, n - 4, 10, 0, &ev) == -1);

	/* many paths: the intern table grows and keeps ids stable */
	char p[32];
	uint64_t ids[300];
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/g%d", i);
		ids[i] = decoder_intern_path(d, p, (int)strlen(p));
	}
	for (int i = 0; i < 300; i++) {
		snprintf(p, sizeof(p), "/g%d", i);
		CHECK(decoder_intern_path(d, p, (int)strlen(p)) == ids[i]);
		if (i)
			CHECK(ids[i] != ids[i - 1]);
	}
	decoder_free(d);
	tep_free(tep);
}

/* ftrace:kernel_stack (the stacktrace trigger's record), format from a 6.18 kernel */
static void test_stack(void)
{
	struct tep_handle *tep = tep_alloc();
	unsigned char r[256];
	uint64_t addr[16];
	uint32_t pid = 0;

	load(tep, "format-id-mmap_lock_acquire_returned", "mmap_lock");
	struct decoder *d = decoder_new(tep, NULL, NULL);
	CHECK(d && !decoder_has_stacks(d));
	memset(r, 0, sizeof(r));
	hdr(r, 4, 0, 77);
	CHECK(decode_stack(d, r, 80, &pid, addr, 16) == -1);	/* no kernel_stack format known */
	decoder_free(d);

	load(tep, "format-ftrace-kernel_stack", "ftrace");
	d = decoder_new(tep, NULL, NULL);
	CHECK(d && decoder_has_stacks(d));
	int id = tep_find_event_by_name(tep, "ftrace", "kernel_stack")->id;
	memset(r, 0, sizeof(r));
	hdr(r, id, 0, 4242);
	put(r, 8, 10, 4);			/* size: 10 entries, more than the format's caller[8] */
	for (int i = 0; i < 10; i++)
		put(r, 16 + 8 * i, 0xffffffff81000000ull + (uint64_t)i, 8);
	int n = decode_stack(d, r, 16 + 80, &pid, addr, 16);
	CHECK(n == 10 && pid == 4242);
	CHECK(addr[0] == 0xffffffff81000000ull && addr[9] == 0xffffffff81000009ull);
	/* the record's length bounds the count */
	CHECK(decode_stack(d, r, 16 + 40, &pid, addr, 16) == 5);
	/* so does max */
	CHECK(decode_stack(d, r, 16 + 80, &pid, addr, 3) == 3);
	/* a negative size, a record too short for the header */
	put(r, 8, (uint64_t)-5, 4);
	CHECK(decode_stack(d, r, 16 + 80, &pid, addr, 16) == 0);
	CHECK(decode_stack(d, r, 6, &pid, addr, 16) == -1);
	/* a fixed-size array with unused slots: trailing zeros dropped */
	put(r, 8, 8, 4);
	memset(r + 16 + 24, 0, 40);
	CHECK(decode_stack(d, r, 16 + 64, &pid, addr, 16) == 3);
	/* an mmap_lock record is not a stack */
	hdr(r, tep_find_event_by_name(tep, "mmap_lock", "mmap_lock_acquire_returned")->id, 0, 1);
	CHECK(decode_stack(d, r, 64, &pid, addr, 16) == -1);
	decoder_free(d);
	tep_free(tep);
}

int main(void)
{
	snprintf(fixdir, sizeof(fixdir), "%s", __FILE__);
	char *s = strrchr(fixdir, '/');
	if (!s) {
		fprintf(stderr, "test-decode: cannot locate fixtures from %s\n", __FILE__);
		return 1;
	}
	strcpy(s, "/../fixtures");
	test_id_era();
	test_path_era();
	test_stack();
	if (fails)
		return 1;
	printf("test-decode: ok\n");
	return 0;
}
