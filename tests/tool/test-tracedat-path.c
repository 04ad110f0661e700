/* SPDX-License-Identifier: MIT */
/*
 * test-tracedat-path: a trace.dat of the mmap_lock events as kernels 5.11
 * to 6.13 print them (memcg_path strings, no memcg_id), without root. The
 * files the other trace.dat tests capture come from the test machine's
 * kernel (6.14+, memcg_id); this one is written by gen-tdat-path (built
 * beside this test) with the path-era formats of tests/fixtures, and the
 * generator says what it wrote: the event count, the figures per memcg
 * path, the events in each ring-buffer page.
 *
 *   - trace-cmd (when installed) reads it: `trace-cmd report -t` prints
 *     every event, comms from the saved cmdlines, and that text read by
 *     `mmaplock report --json` gives the generator's figures; `trace-cmd
 *     convert` makes the file versions 7 zstd and 7 uncompressed of it;
 *   - each version read page-wise gives exactly libtracecmd's record-wise
 *     reading (tdat-same.h), as many events as were written;
 *   - `mmaplock report --json` on each gives the generator's acquisitions,
 *     failures, contentions, waits and holds (count, total, max) per
 *     memcg path ("" is the no-memcg group), the lost events of the
 *     page marked so, no unmatched event;
 *   - tests/fixtures/tracedat-path.dat (the v7 zstd file, committed for the
 *     fixture tests: test-tracedat-pages, golden.sh) holds the same events
 *     as a fresh run of the generator;
 *   - copies of the v6 file cut in its headers fail with a one-line error
 *     (report: exit 2); cut in its data they read exactly the events of
 *     the whole pages before the cut, each CPU's a prefix of the full
 *     reading's, marked truncated (report: one line on stderr, exit 3);
 *   - a v7 copy whose options pointer lies past the file's end (2^64 - 1
 *     among others): a one-line error.
 *
 * Needs MMAPLOCK_BUILD and MMAPLOCK_SRC (ctest sets them): exits 77 without.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "tdat-same.h"

/* libtraceevent / libtracecmd leaks on the record-wise side: see test-tracedat-pages.c */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\nleak:libtracecmd.so\nleak:__isoc99_vsscanf\n";
}

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

#define PAGE 4096
#define NGROUP 8
#define MAXCPU 4

struct expect {
	long events, lost;
	int ngroup;
	struct { uint64_t v[10]; char path[512]; } g[NGROUP];
	int ncpu;
	struct { uint64_t off; long npages; long *nper; } cpu[MAXCPU];
};

static const char *build, *src;
static char dir[256];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	b = malloc(1 << 22);
	if (b)
		len = fread(b, 1, (1 << 22) - 1, f);
	fclose(f);
	if (b)
		b[len] = 0;
	return b;
}

static void read_expect(const char *path, struct expect *x)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	memset(x, 0, sizeof(*x));
	if (!f) {
		fprintf(stderr, "%s: cannot read\n", path);
		exit(1);
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		int at = 0;
		if (sscanf(line, "events %ld", &x->events) == 1 || sscanf(line, "lost %ld", &x->lost) == 1)
			continue;
		if (!strncmp(line, "group ", 6) && x->ngroup < NGROUP) {
			uint64_t *v = x->g[x->ngroup].v;
			if (sscanf(line + 6, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %"
				   SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &v[0], &v[1],
				   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &at) == 10 && at)
				snprintf(x->g[x->ngroup++].path, 512, "%s", line + 6 + at);
			continue;
		}
		int c;
		uint64_t off;
		long np;
		if (sscanf(line, "cpu %d %" SCNu64 " %ld%n", &c, &off, &np, &at) == 3 && c == x->ncpu &&
		    c < MAXCPU) {
			x->cpu[c].off = off;
			x->cpu[c].npages = np;
			x->cpu[c].nper = calloc((size_t)np + 1, sizeof(long));
			char *p = line + at;
			for (long k = 0; k < np; k++)
				x->cpu[c].nper[k] = strtol(p, &p, 10);
			x->ncpu++;
		}
	}
	fclose(f);
	CHECK(x->events > 0 && x->ngroup >= 4 && x->ncpu >= 2);
}

/* ---------------------------------------------------------------- report --json */

static uint64_t num_after(const char *s, const char *key, const char **end)
{
	const char *p = strstr(s, key);

	if (!p) {
		fprintf(stderr, "no %s in the JSON\n", key);
		fails++;
		return UINT64_MAX;
	}
	p += strlen(key);
	if (end)
		*end = p;
	return strtoull(p, NULL, 10);
}

/* One group of the JSON (from its "key"): its path, and the ten figures. */
static int json_group(const char *g, char *path, size_t plen, uint64_t v[10])
{
	const char *p = strstr(g, "\"memcg_path\": "), *w, *h;

	if (!p)
		return -1;
	p += 14;
	if (!strncmp(p, "null", 4)) {
		*path = 0;
	} else {
		const char *q = strchr(p + 1, '"');
		if (*p != '"' || !q || (size_t)(q - p) > plen)
			return -1;
		snprintf(path, plen, "%.*s", (int)(q - p - 1), p + 1);
	}
	v[0] = num_after(g, "\"acquisitions\": {\"read\": ", NULL);
	v[1] = num_after(g, "\"write\": ", NULL);
	v[2] = num_after(g, "\"failed\": ", NULL);
	v[3] = num_after(g, "\"contended\": ", NULL);
	v[4] = num_after(g, "\"wait_ns\": {\"count\": ", &w);
	v[5] = num_after(w, "\"total\": ", NULL);
	v[6] = num_after(w, "\"max\": ", NULL);
	v[7] = num_after(g, "\"hold_ns\": {\"count\": ", &h);
	v[8] = num_after(h, "\"total\": ", NULL);
	v[9] = num_after(h, "\"max\": ", NULL);
	return 0;
}

/* `mmaplock report --json FILE`: its exit status; the JSON in *json. */
static int report(const char *file, char **json, char **err)
{
	int rc = sh("'%s/mmaplock' report --json '%s' >'%s/r.json' 2>'%s/r.err'", build, file, dir, dir);
	char p[512];

	snprintf(p, sizeof(p), "%s/r.json", dir);
	*json = slurp(p);
	snprintf(p, sizeof(p), "%s/r.err", dir);
	*err = slurp(p);
	if (!*json || !*err)
		exit(1);
	return rc;
}

/* Every figure of the report on file is the generator's. */
static void figures(const char *file, const struct expect *x, const char *what)
{
	char *json, *err;
	int rc = report(file, &json, &err), groups = 0, bad = fails;

	CHECK(rc == 0);
	CHECK((long)num_after(json, "\"events\": ", NULL) == x->events);
	CHECK((long)num_after(json, "\"lost_events\": ", NULL) == x->lost);
	CHECK(strstr(json, "\"truncated\": false"));
	const char *u = strstr(json, "\"unmatched\": {");
	CHECK(u);
	for (const char *p = u ? u + 14 : ""; *p && *p != '}'; p++)
		CHECK(!(*p >= '1' && *p <= '9'));	/* every count 0 */
	for (const char *g = strstr(json, "{\"key\": "); g; g = strstr(g + 1, "{\"key\": ")) {
		char path[512];
		uint64_t v[10];
		int k;
		groups++;
		CHECK(json_group(g, path, sizeof(path), v) == 0);
		for (k = 0; k < x->ngroup && strcmp(x->g[k].path, path); k++)
			;
		if (k == x->ngroup) {
			fprintf(stderr, "%s: group \"%s\" was not written\n", what, path);
			fails++;
			continue;
		}
		for (int i = 0; i < 10; i++)
			if (v[i] != x->g[k].v[i]) {
				fprintf(stderr, "%s: \"%s\": figure %d is %" PRIu64 ", written %" PRIu64 "\n",
					what, path, i, v[i], x->g[k].v[i]);
				fails++;
			}
	}
	CHECK(groups == x->ngroup);
	if (fails == bad)
		printf("ok   %s: report --json gives the written figures of %d memcg paths\n", what,
		       groups);
	else
		fprintf(stderr, "%s: stderr: %s", what, err);
	free(json);
	free(err);
}

/* ---------------------------------------------------------------- page-wise readings */

struct rec {
	uint64_t ts, mm;
	uint32_t tid, flags;
	uint8_t type, cpu;
	uint64_t path;		/* FNV-1a of the memcg path */
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return s ? h : 0;
}

/* The events of path page-wise; -1 when it does not open (*err: why). */
static long read_all(const char *path, struct rec **out, int *truncated, char *err, size_t elen)
{
	struct mml_meta *meta = meta_new();
	struct source s = { .ops = &source_tracedat_ops, .meta = meta };
	static struct mml_event ev[512];
	long n, total = 0, cap = 0;

	*out = NULL;
	*truncated = 0;
	if (s.ops->open(&s, path)) {
		snprintf(err, elen, "%s", s.err);
		meta_free(meta);
		return -1;
	}
	while ((n = s.ops->next(&s, ev, 512)) > 0) {
		if (total + n > cap) {
			cap = (total + n) * 2;
			*out = realloc(*out, (size_t)cap * sizeof(**out));
			if (!*out)
				exit(1);
		}
		for (long i = 0; i < n; i++) {
			const struct mml_event *e = &ev[i];
			struct rec *r = &(*out)[total + i];
			*r = (struct rec){ e->ts, e->mm, e->tid, e->flags, e->type, (uint8_t)e->cpu, 0 };
			r->path = e->type <= MML_EV_RELEASED ? fnv(meta_memcg(meta, e->memcg)) : e->memcg;
		}
		total += n;
	}
	if (n < 0) {
		snprintf(err, elen, "%s", s.err);
		total = -1;
	}
	/* comm from the saved cmdlines once the task is met: "kworker/u4:2 x", with its space */
	const struct mml_task_info *t = meta_task(meta, 201);
	int met = 0;
	for (long i = 0; i < total && !met; i++)
		met = (*out)[i].tid == 201;
	if (met && !(t && !strcmp(t->comm, "kworker/u4:2 x"))) {
		fprintf(stderr, "%s: task 201: comm %s\n", path, t ? t->comm : "(none)");
		fails++;
	}
	*truncated = s.truncated;
	s.ops->close(&s);
	meta_free(meta);
	return total;
}

static int same_rec(const struct rec *a, const struct rec *b)
{
	return a->ts == b->ts && a->mm == b->mm && a->tid == b->tid && a->flags == b->flags &&
	       a->type == b->type && a->cpu == b->cpu && a->path == b->path;
}

/* Each CPU's events in cut are the first ones of that CPU in full. */
static int cpu_prefixes(const struct rec *cut, long ncut, const struct rec *full, long nfull)
{
	for (int c = 0; c < MAXCPU; c++) {
		long j = 0;
		for (long i = 0; i < ncut; i++) {
			if (cut[i].cpu != c)
				continue;
			while (j < nfull && full[j].cpu != c)
				j++;
			if (j == nfull || !same_rec(&cut[i], &full[j]))
				return 0;
			j++;
		}
	}
	return 1;
}

/* ---------------------------------------------------------------- cut copies */

static void cut_copy(const char *from, const char *to, long len)
{
	CHECK(sh("head -c %ld '%s' >'%s'", len, from, to) == 0);
}

/* Events in the whole pages of a copy cut at len. */
static long whole_pages(const struct expect *x, long len)
{
	long n = 0;

	for (int c = 0; c < x->ncpu; c++) {
		if (!x->cpu[c].npages)
			continue;
		long pages = len <= (long)x->cpu[c].off ? 0 : (len - (long)x->cpu[c].off) / PAGE;
		for (long k = 0; k < pages && k < x->cpu[c].npages; k++)
			n += x->cpu[c].nper[k];
	}
	return n;
}

static void cuts(const char *v6, const struct expect *x, const struct rec *full, long nfull)
{
	char cut[512], err[1024];
	struct rec *r;
	int trunc;
	long data = (long)x->cpu[0].off, n;

	snprintf(cut, sizeof(cut), "%s/cut.dat", dir);
	/* in the headers: a one-line error, page-wise and from report (exit 2) */
	long heads[] = { 16, 200, 1500 };
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		cut_copy(v6, cut, heads[i]);
		n = read_all(cut, &r, &trunc, err, sizeof(err));
		free(r);
		CHECK(n < 0 && err[0] && !strchr(err, '\n'));
		char *json, *e;
		CHECK(report(cut, &json, &e) == 2);
		CHECK(!strncmp(e, "mmaplock report: ", 17) && strchr(e, '\n') == e + strlen(e) - 1);
		free(json);
		free(e);
	}
	/* in the data: the whole pages before the cut, exactly */
	long total = data;
	for (int c = 0; c < x->ncpu; c++)
		total += x->cpu[c].npages * PAGE;
	int tested = 0;
	for (long len = data - 1; len < total; len += PAGE * 7 + 1 + (len / PAGE % 3) * 1500, tested++) {
		cut_copy(v6, cut, len);
		n = read_all(cut, &r, &trunc, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "cut at %ld: %s\n", len, err);
			fails++;
			continue;
		}
		if (n != whole_pages(x, len) || !trunc || !cpu_prefixes(r, n, full, nfull)) {
			fprintf(stderr, "cut at %ld: %ld events (whole pages: %ld), truncated %d, "
				"prefixes %d\n", len, n, whole_pages(x, len), trunc,
				cpu_prefixes(r, n, full, nfull));
			fails++;
		}
		free(r);
		if (tested % 4 == 0) {
			char *json, *e;
			CHECK(report(cut, &json, &e) == 3);
			CHECK((long)num_after(json, "\"events\": ", NULL) == whole_pages(x, len));
			CHECK(strstr(json, "\"truncated\": true"));
			CHECK(strstr(e, "truncated") && strchr(e, '\n') == e + strlen(e) - 1);
			free(json);
			free(e);
		}
	}
	printf("ok   %d cuts of the v6 file's data read their whole pages; 3 in its headers: "
	       "one-line errors\n", tested);
}

/*
 * A v7 file whose first options section is said to lie at 2^64 - 1, or
 * just past the file's end: a one-line error. (The header reader took an
 * offset past the end as in range, end - off wrapping, and copied from
 * 2^64 - 1 minus its cache's base: a crash, found by fuzz-tracedat.)
 */
static void far_options(const char *v7)
{
	FILE *f = fopen(v7, "rb");
	static unsigned char b[1 << 20];
	size_t len = f ? fread(b, 1, sizeof(b), f) : 0, at = 18;
	char bad[512], err[1024];
	struct rec *r;
	int trunc;

	if (f)
		fclose(f);
	CHECK(len > 64 && len < sizeof(b) && b[10] == '7');
	for (int i = 0; i < 2 && at < len; i++)		/* compression name, version */
		at += strlen((char *)b + at) + 1;
	uint64_t far[] = { UINT64_MAX, UINT64_MAX - 3, (uint64_t)len + 1, (uint64_t)len + 4096 };
	snprintf(bad, sizeof(bad), "%s/far.dat", dir);
	for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
		memcpy(b + at, &far[i], 8);
		FILE *o = fopen(bad, "wb");
		CHECK(o && fwrite(b, 1, len, o) == len);
		fclose(o);
		long n = read_all(bad, &r, &trunc, err, sizeof(err));
		free(r);
		CHECK(n < 0 && err[0] && !strchr(err, '\n'));
	}
	printf("ok   a v7 file with its options past its end: one-line errors\n");
}

/* ---------------------------------------------------------------- trace-cmd */

static int have_tracecmd(void)
{
	return sh("command -v trace-cmd >/dev/null 2>&1") == 0;
}

static void by_tracecmd(const char *v6, const struct expect *x)
{
	char txt[512];

	snprintf(txt, sizeof(txt), "%s/tc.txt", dir);
	CHECK(sh("trace-cmd report -t -i '%s' >'%s' 2>'%s/tc.err'", v6, txt, dir) == 0);
	int lines = sh("n=$(grep -c -E ': (mmap_lock_[a-z_]+|contention_(begin|end)):' '%s'); "
		       "[ \"$n\" = %ld ]", txt, x->events);
	CHECK(lines == 0);
	CHECK(sh("grep -q '^CPU:1 \\[%ld EVENTS DROPPED\\]' '%s'", x->lost, txt) == 0);
	CHECK(sh("grep -q 'kworker/u4:2 x-201 ' '%s' && grep -q '<...>-5000 ' '%s' && "
		 "grep -q 'memcg_path=/b/c d write=' '%s' && grep -q 'memcg_path= write=' '%s'",
		 txt, txt, txt, txt) == 0);
	if (!lines)
		printf("ok   trace-cmd report prints the %ld events\n", x->events);
	figures(txt, x, "trace-cmd report -t text");
	CHECK(sh("trace-cmd convert -i '%s' --file-version 7 --compression zstd -o '%s/v7z.dat' "
		 ">/dev/null 2>&1", v6, dir) == 0);
	CHECK(sh("trace-cmd convert -i '%s' --file-version 7 --compression none -o '%s/v7.dat' "
		 ">/dev/null 2>&1", v6, dir) == 0);
}

static void both_ways(const char *file, const struct expect *x, const char *what)
{
	long n = tdat_same(file);

	CHECK(n == x->events);
	if (n == x->events)
		printf("ok   %s: %ld events, the same page-wise and record-wise\n", what, n);
	figures(file, x, what);
}

int main(void)
{
	char v6[512], exp[512], fix[512], err[1024];
	struct expect x;
	struct rec *full, *fr;
	int trunc;

	build = getenv("MMAPLOCK_BUILD");
	src = getenv("MMAPLOCK_SRC");
	if (!build || !src) {
		printf("SKIP: MMAPLOCK_BUILD / MMAPLOCK_SRC not set\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/mml-tdatpath.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(v6, sizeof(v6), "%s/v6.dat", dir);
	snprintf(exp, sizeof(exp), "%s/expect", dir);
	if (sh("'%s/tests/gen-tdat-path' '%s/tests/fixtures' '%s' '%s'", build, src, v6, exp)) {
		fprintf(stderr, "gen-tdat-path failed\n");
		return 1;
	}
	read_expect(exp, &x);

	int tc = have_tracecmd();
	if (tc)
		by_tracecmd(v6, &x);
	else
		printf("SKIP (part): trace-cmd not installed: no trace-cmd report of the file, "
		       "no version 7 copies\n");
	both_ways(v6, &x, "v6");
	if (tc) {
		char p[512];
		snprintf(p, sizeof(p), "%s/v7z.dat", dir);
		both_ways(p, &x, "v7 zstd");
		snprintf(p, sizeof(p), "%s/v7.dat", dir);
		both_ways(p, &x, "v7 uncompressed");
	}

	long nfull = read_all(v6, &full, &trunc, err, sizeof(err));
	CHECK(nfull == x.events && !trunc);
	snprintf(fix, sizeof(fix), "%s/tests/fixtures/tracedat-path.dat", src);
	long nfix = read_all(fix, &fr, &trunc, err, sizeof(err));
	CHECK(nfix == nfull);
	for (long i = 0; nfix == nfull && i < nfull; i++)
		if (!same_rec(&fr[i], &full[i])) {
			fprintf(stderr, "%s: event %ld is not the generator's\n", fix, i);
			fails++;
			break;
		}
	free(fr);
	if (nfix == nfull)
		printf("ok   tests/fixtures/tracedat-path.dat: the generator's %ld events\n", nfix);
	figures(fix, &x, "tests/fixtures/tracedat-path.dat");
	cuts(v6, &x, full, nfull);
	far_options(fix);
	free(full);
	for (int c = 0; c < x.ncpu; c++)
		free(x.cpu[c].nper);

	if (!fails)
		sh("rm -rf '%s'", dir);
	else
		fprintf(stderr, "files kept in %s\n", dir);
	printf("%s\n", fails ? "FAIL" : "PASS");
	return fails ? 1 : 0;
}
