/* SPDX-License-Identifier: MIT */
/*
 * test-tracedat-pages: the page-wise trace.dat reader (tdat-file.c and
 * src-tracedat.c's pages) against libtracecmd's record-wise reading,
 * without root.
 *
 *   - every .dat file in tests/fixtures, and (when trace-cmd is installed) each
 *     converted to file version 6 and to version 7 without compression
 *     (`trace-cmd convert`): the same events both ways, field by field,
 *     stacks frame by frame (tdat-same.h);
 *   - cut copies of each at 64 lengths (16 in the last 32 KiB), and 400 copies with one byte
 *     changed, read page-wise: a one-line error or events, never a crash
 *     (run it in the ASan tree); a cut v6 file (data last) that opens is
 *     marked truncated;
 *   - record-wise opens of each fixture while a page-wise reading of it
 *     runs, 50 times: no hang (the record-wise side's child process); a
 *     copy libtracecmd crashes on: a one-line error from that side;
 *   - with arguments: just those files, both ways (tests/sh and test-tracedat
 *     use it on the trace.dat files they capture).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test-util.h"
#include "tdat-same.h"

/*
 * libtraceevent 1.7 leaks a few bytes per parsed format (see
 * test-tracedat.c); libtracecmd 1.3, reading a v6 file, the trace clock's
 * name (an sscanf "%ms" in its extract_trace_clock()). Both on the
 * record-wise side only.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\nleak:libtracecmd.so\nleak:__isoc99_vsscanf\n";
}

static int fails;

static void same(const char *path)
{
	long n = tdat_same(path);

	if (n < 0) {
		fprintf(stderr, "FAIL %s: the page-wise and record-wise readings differ\n", path);
		fails++;
		return;
	}
	printf("ok   %s: %ld events, the same both ways\n", path, n);
}

/* Page-wise only. Returns events read, -1 when open failed; *cut: truncated. */
static long pages_only(const char *path, int *cut)
{
	struct mml_meta *meta = meta_new();
	struct source s = { .ops = &source_tracedat_ops, .meta = meta };
	static struct mml_event ev[512];
	long n, total = 0;

	*cut = 0;
	if (s.ops->open(&s, path)) {
		CHECK(s.err[0] && !strchr(s.err, '\n'));
		meta_free(meta);
		return -1;
	}
	while ((n = s.ops->next(&s, ev, 512)) > 0)
		total += n;
	if (n < 0)
		CHECK(s.err[0] && !strchr(s.err, '\n'));
	*cut = s.truncated;
	s.ops->close(&s);
	meta_free(meta);
	return total;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	struct stat st;

	if (!f || fstat(fileno(f), &st) || !(b = malloc((size_t)st.st_size + 1)) ||
	    fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return b;
}

static void spit(const char *path, const unsigned char *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f && fwrite(b, 1, len, f) == len);
	fclose(f);
}

/* Cut and damaged copies of path, page-wise. v6: its data comes last. */
static void damage(const char *path, const char *dir, int v6)
{
	char tmp[4096];
	size_t len;
	unsigned char *b = slurp(path, &len);
	int cut, opened = 0, marked = 0;
	long full = pages_only(path, &cut);

	CHECK(full > 0 && !cut);
	snprintf(tmp, sizeof(tmp), "%s/damaged.dat", dir);
	for (int i = 1; i <= 64; i++) {
		/* 48 over the whole file, 16 in its last 32 KiB (a v6 file's data) */
		size_t l = i <= 48 ? len * (size_t)i / 49 : len - (size_t)(i - 48) * 2048 + 1;
		if (l >= len)
			continue;
		spit(tmp, b, l);
		long n = pages_only(tmp, &cut);
		if (n < 0)
			continue;
		opened++;
		marked += cut;
		CHECK(n <= full);
		if (v6)
			CHECK(cut);
	}
	uint64_t x = 88172645463325252ull;	/* xorshift: the same copies every run */
	long errors = 0, read = 0;
	for (int i = 0; i < 400; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t at = (size_t)(x % len);
		unsigned char old = b[at];
		b[at] ^= (unsigned char)(1 + (x >> 32) % 255);
		spit(tmp, b, len);
		b[at] = old;
		long n = pages_only(tmp, &cut);
		n < 0 ? errors++ : read++;
	}
	printf("ok   %s: 64 cut copies (%d opened, %d marked truncated), 400 damaged ones "
	       "(%ld refused, %ld read), no crash\n", path, opened, marked, errors, read);
	free(b);
}

/*
 * Record-wise opens while a page-wise reading of the same file runs, n
 * times: the page reader's decompression thread is busy (allocating its
 * chunk buffers) when the record-wise side starts its child process, as
 * in tdat_same(). That child once hung for ever under ASan (a fork of a
 * threaded process inheriting a held allocator lock): SIGALRM turns a
 * hang into a failure.
 */
static void beside_a_reader(const char *path, int n)
{
	static struct mml_event ev[64];

	alarm(120);
	for (int i = 0; i < n; i++) {
		struct mml_meta *ma = meta_new(), *mb = meta_new();
		struct source a = { .ops = &source_tracedat_ops, .meta = ma };
		struct source b = { .ops = &source_tracedat_records_ops, .meta = mb };
		int ra = a.ops->open(&a, path);
		if (!ra)
			a.ops->next(&a, ev, 64);
		int rb = b.ops->open(&b, path);
		CHECK(ra == 0 && rb == 0);
		if (!rb) {
			CHECK(b.ops->next(&b, ev, 64) > 0);
			b.ops->close(&b);
		}
		if (!ra)
			a.ops->close(&a);
		meta_free(ma);
		meta_free(mb);
	}
	alarm(0);
}

/*
 * stacks-trigger.dat with 8 bytes of 0xff at offset 13961 makes
 * libtracecmd 1.3 crash while opening it: the record-wise side must say
 * so in one line (its probe child died), not crash.
 */
static void crashing(const char *path, const char *dir)
{
	char out[4096];
	size_t len;
	unsigned char *b = slurp(path, &len);

	if (!b || len < 13961 + 8)
		return;
	memset(b + 13961, 0xff, 8);
	snprintf(out, sizeof(out), "%s/crash.dat", dir);
	spit(out, b, len);
	free(b);
	struct mml_meta *m = meta_new();
	struct source r = { .ops = &source_tracedat_records_ops, .meta = m };
	int rc = r.ops->open(&r, out);
	if (!rc)
		r.ops->close(&r);
	CHECK(rc != 0 && strstr(r.err, "corrupt trace.dat") && !strchr(r.err, '\n'));
	meta_free(m);
}

static int has_tracecmd(void)
{
	return system("command -v trace-cmd >/dev/null 2>&1") == 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/mml-tdpages.XXXXXX", fx[2048], path[4096], cmd[16384];
	const char *src = getenv("MMAPLOCK_SRC");
	int tc = has_tracecmd(), nfix = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			same(argv[i]);
		return fails ? 1 : 0;
	}
	if (src)
		snprintf(fx, sizeof(fx), "%s/tests/fixtures", src);
	else
		snprintf(fx, sizeof(fx), "%.*s/../fixtures", (int)(strrchr(__FILE__, '/') - __FILE__),
			 __FILE__);
	CHECK(mkdtemp(dir));
	DIR *d = opendir(fx);
	CHECK(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".dat"))
			continue;
		nfix++;
		snprintf(path, sizeof(path), "%s/%s", fx, de->d_name);
		same(path);
		damage(path, dir, 0);
		beside_a_reader(path, 50);
		if (!strcmp(de->d_name, "stacks-trigger.dat"))
			crashing(path, dir);
		if (!tc)
			continue;
		/* the same file as version 6, and as version 7 uncompressed */
		snprintf(cmd, sizeof(cmd), "trace-cmd convert -i %s -o %s/v6-%s --file-version 6 >/dev/null 2>&1 && "
			 "trace-cmd convert -i %s -o %s/v7n-%s --compression none >/dev/null 2>&1",
			 path, dir, de->d_name, path, dir, de->d_name);
		if (system(cmd)) {
			fprintf(stderr, "FAIL trace-cmd convert %s\n", path);
			fails++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/v6-%s", dir, de->d_name);
		same(path);
		damage(path, dir, 1);
		snprintf(path, sizeof(path), "%s/v7n-%s", dir, de->d_name);
		same(path);
	}
	closedir(d);
	CHECK(nfix > 0);
	if (!tc)
		printf("note: trace-cmd missing: versions 6 and 7-uncompressed not tried\n");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	if (fails)
		return 1;
	printf("test-tracedat-pages: ok (%d fixtures)\n", nfix);
	return 0;
}
