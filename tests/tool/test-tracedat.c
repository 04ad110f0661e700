/* SPDX-License-Identifier: MIT */
/*
 * test-tracedat: src-tracedat.c on a real trace.dat. Captures the kernel's
 * mmap_lock and rwsem contention events in a private tracefs instance while
 * this process churns its own mmap_lock, saves the instance's text `trace`
 * and a trace.dat (`trace-cmd extract -B`), then reads the trace.dat through
 * source_tracedat_ops and checks: per-type counts equal those of the text,
 * time order, the comm of this process from the file's cmdlines, and a cut
 * file fails with a one-line error; both captures read page-wise give the
 * record-wise reading's events exactly (tdat-same.h). Needs root, tracefs and trace-cmd:
 * exits 77 elsewhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source.h"
#include "meta.h"
#include "stacks.h"
#include "tdat-same.h"

/*
 * libtraceevent 1.7 leaks a few bytes of every format it parses for
 * libtracecmd (a strdup in its print-format parser): not ours, and not
 * reachable from our code. Suppressed for LeakSanitizer in this test only.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\n";
}

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

#define NCPU 64

/*
 * Read path through ops; per CPU, one line per event: "type tid |frames"
 * (each frame "sym@addr"; nothing when the event got no stack). Counts
 * this process's mmap_lock events, those of them with a stack, and those
 * whose stack names do_mprotect_pkey or __vm_munmap.
 */
struct seen { char *buf[NCPU]; size_t len[NCPU]; long mine, mine_stacked, mprotect, munmap, stacks; };

static int collect(const char *path, const struct source_ops *ops, struct seen *out)
{
	struct mml_meta *meta = meta_new();
	struct source s = { .ops = ops, .meta = meta };
	FILE *f[NCPU];
	static struct mml_event ev[1000];
	uint32_t pend_id = 0;		/* ids, not pointers: the table grows under them */
	long n;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < NCPU; c++)
		f[c] = open_memstream(&out->buf[c], &out->len[c]);
	if (ops->open(&s, path)) {
		fprintf(stderr, "%s: %s\n", path, s.err);
		return -1;
	}
	while ((n = ops->next(&s, ev, 1000)) > 0) {
		for (long i = 0; i < n; i++) {
			FILE *o = f[ev[i].cpu % NCPU];
			if (ev[i].type == MML_EV_STACK) {
				pend_id = (uint32_t)ev[i].memcg;
				out->stacks++;
				continue;
			}
			fprintf(o, "%u %u |", ev[i].type, ev[i].tid);
			const struct mml_stack *pend = pend_id ? meta_stack(meta, pend_id) : NULL;
			int mp = 0, mu = 0;
			for (unsigned k = 0; pend && k < pend->n; k++) {
				fprintf(o, " %s@%llx", pend->sym[k], (unsigned long long)pend->addr[k]);
				mp |= !strncmp(pend->sym[k], "do_mprotect_pkey", 16);
				mu |= !strncmp(pend->sym[k], "__vm_munmap", 11);
			}
			fputc('\n', o);
			if (ev[i].tid == (uint32_t)getpid() && ev[i].type <= MML_EV_RELEASED) {
				out->mine++;
				out->mine_stacked += pend != NULL;
				out->mprotect += mp;
				out->munmap += mu;
			}
			pend_id = 0;
		}
	}
	ops->close(&s);
	for (int c = 0; c < NCPU; c++)
		fclose(f[c]);
	meta_free(meta);
	return n < 0 ? -1 : 0;
}

/*
 * One capture into dir/s.txt and dir/s.dat. 1 when the trace.dat holds
 * every mmap_lock event of the text, by trace-cmd's own count: trace-cmd
 * extract has, rarely and with other sessions tracing at the same time,
 * written a file with a fraction of the buffer (or none of it).
 */
static int capture(const char *T, const char *dir)
{
	char inst[256], cmd[4096];

	snprintf(inst, sizeof(inst), "%s/instances/mmltest-tstk-%d", T, (int)getpid());
	if (mkdir(inst, 0755)) {
		perror(inst);
		fails++;
		return 1;
	}
	snprintf(cmd, sizeof(cmd),
		 "echo mono > %1$s/trace_clock && echo 16384 > %1$s/buffer_size_kb && "
		 "for e in start_locking acquire_returned released; do "
		 "echo stacktrace > %1$s/events/mmap_lock/mmap_lock_$e/trigger || exit 1; done && "
		 "echo 1 > %1$s/events/mmap_lock/enable && "
		 "{ [ ! -d %1$s/events/lock/contention_end ] || echo 1 > %1$s/events/lock/contention_end/enable; }",
		 inst);
	CHECK(sh(cmd) == 0);
	for (int i = 0; i < 300; i++) {
		char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			p[0] = 1;
			mprotect(p, 4096, PROT_READ);
			munmap(p, 65536);
		}
	}
	snprintf(cmd, sizeof(cmd),
		 "echo 0 > %1$s/events/enable && echo 1 > %1$s/options/sym-offset && "
		 "echo 1 > %1$s/options/sym-addr && cat %1$s/trace > %2$s/s.txt && "
		 "for e in start_locking acquire_returned released; do "
		 "echo '!stacktrace' > %1$s/events/mmap_lock/mmap_lock_$e/trigger; done; "
		 "rm -f %2$s/s.dat; cd %2$s && trace-cmd extract -B %3$s -o %2$s/s.dat >%2$s/x.log 2>&1; "
		 "[ -d %1$s ] && rmdir %1$s; true", inst, dir, strrchr(inst, '/') + 1);
	sh(cmd);
	snprintf(cmd, sizeof(cmd),
		 "t=$(grep -c ': mmap_lock_' %1$s/s.txt); "
		 "d=$(trace-cmd report -i %1$s/s.dat 2>/dev/null | grep -c ': mmap_lock_'); "
		 "[ \"$t\" -eq \"$d\" ] || { echo \"test-tracedat: trace-cmd extract wrote $d of the "
		 "text's $t events: $(tail -c 200 %1$s/x.log | tr '\\n' ' ')\" >&2; exit 1; }", dir);
	return sh(cmd) == 0;
}

/*
 * The "<stack trace>" records the kernel wrote for this process's
 * mmap_lock events, read from the instance's text (dir/s.txt), as an
 * oracle independent of stackq.c: per CPU, a stack record of this pid
 * counts when the last record before it other than a contention event
 * (an interrupt may put one between an event and its stack) is an
 * mmap_lock event of this pid. Lines: "  comm-PID  [CPU] flags  ts: name".
 * Stack records with no event before them are not counted: a trigger
 * fires while its event is soft-disabled (set before `enable`, still set
 * after `echo 0 > enable`), and posix_spawn's parent side unmaps the
 * child's stack while the shell flips those switches.
 */
static long own_stacks(const char *dir)
{
	char path[512], line[1024], me[32];
	unsigned char after_mine[NCPU] = { 0 };
	long n = 0;

	snprintf(path, sizeof(path), "%s/s.txt", dir);
	snprintf(me, sizeof(me), "-%d", (int)getpid());
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *br = strstr(line, " [");
		char *name = br ? strstr(br, ": ") : NULL;
		if (line[0] == '#' || !name)
			continue;
		char *end = br;
		while (end > line && end[-1] == ' ')
			end--;
		size_t l = strlen(me);
		int mine = (size_t)(end - line) >= l && !memcmp(end - l, me, l);
		unsigned cpu = (unsigned)strtoul(br + 2, NULL, 10) % NCPU;
		name += 2;
		if (!strncmp(name, "<stack trace>", 13)) {
			n += mine && after_mine[cpu];
			after_mine[cpu] = 0;
		} else if (!strncmp(name, "mmap_lock_", 10)) {
			after_mine[cpu] = (unsigned char)mine;
		} else if (strncmp(name, "contention_", 11)) {
			after_mine[cpu] = 0;
		}
	}
	fclose(f);
	return n;
}

/*
 * The stacktrace trigger on the mmap_lock events of an instance while this
 * process maps, protects and unmaps; the instance's text (with the
 * sym-offset and sym-addr options: the kernel's own symbols and
 * addresses) and its trace.dat must give every event the same stack, frame
 * for frame, CPU by CPU.
 */
static void stacks(const char *T, const char *dir)
{
	char path[512];

	if (!capture(T, dir) && !capture(T, dir)) {
		fprintf(stderr, "test-tracedat: trace-cmd extract failed twice\n");
		fails++;
		return;
	}
	struct seen txt, dat;
	snprintf(path, sizeof(path), "%s/s.txt", dir);
	CHECK(collect(path, &source_text_ops, &txt) == 0);
	snprintf(path, sizeof(path), "%s/s.dat", dir);
	CHECK(collect(path, &source_tracedat_ops, &dat) == 0);
	for (int c = 0; c < NCPU; c++) {
		int same = txt.len[c] == dat.len[c] && !memcmp(txt.buf[c], dat.buf[c], txt.len[c]);
		if (!same) {
			fprintf(stderr, "CPU %d differs: text %zu bytes, trace.dat %zu\n", c, txt.len[c],
				dat.len[c]);
			size_t k = 0;
			while (k < txt.len[c] && k < dat.len[c] && txt.buf[c][k] == dat.buf[c][k])
				k++;
			size_t b = k > 200 ? k - 200 : 0;
			fprintf(stderr, "text: ...%.400s\ntrace.dat: ...%.400s\n", txt.buf[c] + b,
				dat.buf[c] + b);
		}
		CHECK(same);
		free(txt.buf[c]);
		free(dat.buf[c]);
	}
	/*
	 * 300 x (mmap, mprotect, munmap): 3 events each, one more for munmap's
	 * downgrade (the fault takes the VMA lock). Every stack record the
	 * kernel wrote after an event of this process attaches to it
	 * (own_stacks() counts them); the kernel may write none for an event
	 * (CI saw 3,006 for 3,007 events), so the count to meet is the text's
	 * own, not the number of events.
	 */
	long kstacks = own_stacks(dir);
	CHECK(dat.mine >= 300 * 10);
	CHECK(kstacks >= dat.mine - dat.mine / 100);
	if (dat.mine_stacked != kstacks)
		fprintf(stderr, "test-tracedat: %ld of this process's events have a stack, the text has %ld "
			"stack records after them\n", dat.mine_stacked, kstacks);
	CHECK(dat.mine_stacked == kstacks);
	CHECK(txt.mine_stacked == kstacks);
	CHECK(dat.mprotect >= 300 * 3 && dat.munmap >= 300 * 4);
	CHECK(txt.stacks == dat.stacks);
	printf("test-tracedat: stacks: %ld of this process's %ld events (the kernel wrote %ld), %ld in all, "
	       "alike in text and trace.dat\n", dat.mine_stacked, dat.mine, kstacks, dat.stacks);
}

int main(void)
{
	const char *T = "/sys/kernel/tracing";
	char inst[256], cmd[4096], dir[] = "/tmp/mml-ttdat.XXXXXX";
	struct stat st;

	if (geteuid() != 0) {
		printf("test-tracedat: skipped: needs root\n");
		return 77;
	}
	snprintf(inst, sizeof(inst), "%s/events/mmap_lock", T);
	if (stat(inst, &st) || sh("command -v trace-cmd >/dev/null")) {
		printf("test-tracedat: skipped: no tracefs mmap_lock events or no trace-cmd\n");
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(inst, sizeof(inst), "%s/instances/mmltest-tdat-%d", T, (int)getpid());
	if (mkdir(inst, 0755)) {
		perror(inst);
		return 1;
	}
	snprintf(cmd, sizeof(cmd),
		 "echo mono > %1$s/trace_clock && echo 16384 > %1$s/buffer_size_kb && "
		 "echo 1 > %1$s/events/mmap_lock/enable && "
		 "{ [ ! -d %1$s/events/lock/contention_begin ] || "
		 "{ echo 'flags & 6' > %1$s/events/lock/contention_begin/filter && "
		 "echo 1 > %1$s/events/lock/contention_begin/enable && "
		 "echo 1 > %1$s/events/lock/contention_end/enable; }; }", inst);
	CHECK(sh(cmd) == 0);
	for (int i = 0; i < 2000; i++) {
		void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			mprotect(p, 4096, PROT_READ);
			munmap(p, 65536);
		}
	}
	snprintf(cmd, sizeof(cmd), "echo 0 > %1$s/events/enable && cat %1$s/trace > %2$s/t.txt && "
		 "cd %2$s && trace-cmd extract -B %3$s -o %2$s/t.dat >/dev/null 2>&1; "
		 "[ -d %1$s ] && rmdir %1$s; head -c 2000 %2$s/t.dat > %2$s/cut.dat",
		 inst, dir, strrchr(inst, '/') + 1);
	sh(cmd);

	/* counts per type in the text */
	static const char *const names[] = { NULL, "mmap_lock_start_locking:", "mmap_lock_acquire_returned:",
		"mmap_lock_released:", "contention_begin:", "contention_end:" };
	long want[6] = { 0 }, got[6] = { 0 };
	char path[512], line[1024];
	snprintf(path, sizeof(path), "%s/t.txt", dir);
	FILE *f = fopen(path, "r");
	CHECK(f);
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		for (int t = 1; t <= 5; t++)
			if (strstr(line, names[t])) {
				/* contention_begin: only rwsem waits are mmaplock's (the filter already did that) */
				want[t]++;
				break;
			}
	}
	if (f)
		fclose(f);

	struct mml_meta *meta = meta_new();
	struct source s = { .ops = &source_tracedat_ops, .meta = meta };
	unsigned char head[16];
	snprintf(path, sizeof(path), "%s/t.dat", dir);
	f = fopen(path, "rb");
	CHECK(f && fread(head, 1, sizeof(head), f) == sizeof(head));
	if (f)
		fclose(f);
	CHECK(source_tracedat_ops.probe(head, sizeof(head)));
	CHECK(!source_tracedat_ops.probe((const unsigned char *)"MMLTRACE", 8));
	int rc = source_tracedat_ops.open(&s, path);
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "open: %s\n", s.err);
		return 1;
	}
	struct mml_event ev[1000];
	long n, total = 0;
	uint64_t last = 0;
	int order_ok = 1, mine = 0;
	while ((n = source_tracedat_ops.next(&s, ev, 1000)) > 0) {
		for (long i = 0; i < n; i++) {
			if (ev[i].ts < last)
				order_ok = 0;
			last = ev[i].ts;
			if (ev[i].type >= 1 && ev[i].type <= 5)
				got[ev[i].type]++;
			if (ev[i].tid == (uint32_t)getpid())
				mine++;
		}
		total += n;
	}
	CHECK(n == 0);
	CHECK(order_ok);
	for (int t = 1; t <= 5; t++) {
		if (got[t] != want[t])
			fprintf(stderr, "type %d: trace.dat %ld, text %ld\n", t, got[t], want[t]);
		CHECK(got[t] == want[t]);
	}
	CHECK(want[2] >= 6000);	/* 2000 x (mmap, mprotect, munmap) at least */
	CHECK(mine >= 6000);
	const struct mml_task_info *ti = meta_task(meta, (uint32_t)getpid());
	CHECK(ti && !strncmp(ti->comm, "test-tracedat", 13));
	CHECK(s.start_ts && s.end_ts >= s.start_ts);
	source_tracedat_ops.close(&s);

	/* a cut file: an error, not a crash */
	struct source c = { .ops = &source_tracedat_ops, .meta = meta };
	snprintf(path, sizeof(path), "%s/cut.dat", dir);
	rc = source_tracedat_ops.open(&c, path);
	if (rc == 0) {
		while ((n = source_tracedat_ops.next(&c, ev, 1000)) > 0)
			;
		source_tracedat_ops.close(&c);
	} else {
		CHECK(c.err[0] && !strchr(c.err, '\n'));
	}
	meta_free(meta);
	/* the page-wise reading gives exactly the record-wise one's events */
	snprintf(path, sizeof(path), "%s/t.dat", dir);
	long same = tdat_same(path);
	CHECK(same > 0);
	stacks(T, dir);
	snprintf(path, sizeof(path), "%s/s.dat", dir);
	long same_s = tdat_same(path);
	CHECK(same_s > 0);
	printf("test-tracedat: page-wise = record-wise: %ld and %ld events\n", same, same_s);
	if (fails) {
		fprintf(stderr, "test-tracedat: the captures are kept in %s\n", dir);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
	printf("test-tracedat: ok (%ld events: %ld/%ld/%ld mmap_lock, %ld/%ld contention)\n", total,
	       got[1], got[2], got[3], got[4], got[5]);
	return 0;
}
