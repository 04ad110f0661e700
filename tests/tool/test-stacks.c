/* SPDX-License-Identifier: MIT */
/*
 * test-stacks: kernel stacks through the analysis, on a format 1.1 file
 * written with mml_writer (STACK entries, stack events before their
 * events): `report --stacks` (text, JSON, HTML), `check` findings with
 * their stacks (text, JSON), `export --format folded` with the kernel
 * frames root first. Every figure is worked out by hand in the comments
 * and compared exactly; a trace without stacks says so in one line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "cmds.h"
#include "mml_writer.h"
#include "report-run.h"
#include "report.h"
#include "test-util.h"

#define S MML_EV_START_LOCKING
#define A MML_EV_ACQUIRE_RETURNED
#define R MML_EV_RELEASED
#define W MML_F_WRITE
#define OK MML_F_SUCCESS
#define MA 0xa000
#define MB 0xb000
#define MC 0xc000

/* the mm's memcg: A and C in /a (10), B in /b (20) */
#define CG(mm) ((mm) == MB ? 20 : 10)
#define EV(ts_, tid_, mm_, type_, fl_) { .ts = ts_, .mm = mm_, .memcg = CG(mm_), .tid = tid_, .type = type_, .flags = fl_ }
#define ST(ts_, tid_, mm_, id_) { .ts = ts_, .mm = mm_, .memcg = id_, .tid = tid_, .type = MML_EV_STACK }

static char dir[64], with[96], without[96], out[96];

static const char *const fault[] = { "lock_mm_and_find_vma+0x3a/0x2c0", "do_user_addr_fault+0x1f1/0x6a0",
				     "exc_page_fault+0x6c/0x150" };
static const char *const madv[] = { "do_madvise+0x10f/0x1b0", "__x64_sys_madvise+0x2b/0x40",
				    "do_syscall_64+0x82/0x170" };
static const char *const smaps[] = { "show_smaps_rollup+0x5a/0x290", "seq_read_iter+0x11f/0x4b0",
				     "vfs_read+0x24b/0x340" };
/* the same functions as fault, other call sites: folded lines merge them */
static const char *const fault2[] = { "lock_mm_and_find_vma+0x51/0x2c0", "do_user_addr_fault+0x20a/0x6a0",
				      "exc_page_fault+0x6c/0x150" };
static const char *const exit_[] = { "do_exit+0x2a1/0xa80" };

/*
 * Waits (PAIR_WAIT) and holds (PAIR_HOLD), ns:
 *   cc1[200] mm B (/b) stack 1: wait 1000-1500 (500), hold 1500-2500 (1000)
 *   worker[100] mm A (/a) stack 2: wait 3000-7000 (4000), hold 7000-9000 (2000)
 *   cc1[200] mm A (/a) stack 3: wait 8000-9100 (1100), hold 9100-9600 (500)
 *   worker[100] mm B (/b) no stack: wait 200, hold 100
 *   cc1[200] mm B (/b) stack 4: wait 300, hold 100
 *   bash[300] mm C (/a) stack 1: trylock hold 12000-13000 (1000); start_locking
 *     (stack 2) while holding it at 12500: self_deadlock; released again at
 *     14000 (stack 5): double_release
 * All waits: 5, 6100 ns (200 without a stack); holds: 6, 4700 (100 without).
 */
static const struct mml_event evs[] = {
	ST(1000, 200, MB, 1), EV(1000, 200, MB, S, 0),
	ST(1500, 200, MB, 1), EV(1500, 200, MB, A, OK),
	EV(2500, 200, MB, R, 0),
	ST(3000, 100, MA, 2), EV(3000, 100, MA, S, W),
	ST(7000, 100, MA, 2), EV(7000, 100, MA, A, W | OK),
	ST(8000, 200, MA, 3), EV(8000, 200, MA, S, 0),
	EV(9000, 100, MA, R, W),
	ST(9100, 200, MA, 3), EV(9100, 200, MA, A, OK),
	EV(9600, 200, MA, R, 0),
	EV(10000, 100, MB, S, 0), EV(10200, 100, MB, A, OK), EV(10300, 100, MB, R, 0),
	ST(11000, 200, MB, 4), EV(11000, 200, MB, S, 0),
	ST(11300, 200, MB, 4), EV(11300, 200, MB, A, OK), EV(11400, 200, MB, R, 0),
	ST(12000, 300, MC, 1), EV(12000, 300, MC, A, W | OK),
	ST(12500, 300, MC, 2), EV(12500, 300, MC, S, W),
	EV(13000, 300, MC, R, W),
	ST(14000, 300, MC, 5), EV(14000, 300, MC, R, W),
};
#define NEV (sizeof(evs) / sizeof(evs[0]))

static void write_file(const char *p, int stacks)
{
	struct mml_file_header h = { .source = MML_SOURCE_KERNEL, .ncpus = 1, .clock = MML_CLOCK_MONOTONIC };
	struct mml_writer *w = mml_writer_open(p, &h);
	static const uint64_t a3[3] = { 0xffffffff81000010ull, 0xffffffff81000020ull, 0xffffffff81000030ull };
	struct mml_event ev[NEV];
	uint32_t n = 0;

	CHECK(w);
	CHECK(mml_writer_memcg(w, 10, "/a") == 0 && mml_writer_memcg(w, 20, "/b") == 0);
	CHECK(mml_writer_task(w, 100, 100, "worker", 10, "/a") == 0);
	CHECK(mml_writer_task(w, 200, 200, "cc1", 20, "/b") == 0);
	CHECK(mml_writer_task(w, 300, 300, "bash", 10, "/a") == 0);
	if (stacks) {
		CHECK(mml_writer_stack(w, 1, a3, fault, 3) == 0);
		CHECK(mml_writer_stack(w, 2, a3, madv, 3) == 0);
		CHECK(mml_writer_stack(w, 3, a3, smaps, 3) == 0);
		CHECK(mml_writer_stack(w, 4, a3, fault2, 3) == 0);
		CHECK(mml_writer_stack(w, 5, a3, exit_, 1) == 0);
	}
	for (size_t i = 0; i < NEV; i++)
		if (stacks || evs[i].type != MML_EV_STACK)
			ev[n++] = evs[i];
	CHECK(mml_writer_events(w, 0, ev, n) == 0);
	CHECK(mml_writer_close(w, n, 0) == 0);
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	static char buf[65536];
	size_t n;

	CHECK(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* Run report with argv into out; returns its exit status. */
static int report(int argc, char **argv)
{
	struct report_opts o;
	FILE *f = fopen(out, "w");
	int rc;

	CHECK(f && report_parse_args(&o, argc, argv) == 0);
	rc = report_run(&o, f);
	fclose(f);
	return rc;
}

/* Run a command whose output goes to stdout; it lands in out. */
static int to_out(int (*cmd)(int, char **), int argc, char **argv)
{
	int save, fd, rc;

	fflush(stdout);
	save = dup(1);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(save >= 0 && fd >= 0 && dup2(fd, 1) == 1);
	close(fd);
	rc = cmd(argc, argv);
	fflush(stdout);
	dup2(save, 1);
	close(save);
	return rc;
}

#define FAULT_FRAMES "        lock_mm_and_find_vma+0x3a/0x2c0\n        do_user_addr_fault+0x1f1/0x6a0\n" \
		     "        exc_page_fault+0x6c/0x150\n"
#define MADV_FRAMES "        do_madvise+0x10f/0x1b0\n        __x64_sys_madvise+0x2b/0x40\n" \
		    "        do_syscall_64+0x82/0x170\n"
#define SMAPS_FRAMES "        show_smaps_rollup+0x5a/0x290\n        seq_read_iter+0x11f/0x4b0\n" \
		     "        vfs_read+0x24b/0x340\n"

static void test_report_text(void)
{
	char *argv[] = { "report", with, "--stacks", "3", NULL };
	/*
	 * waits: stack 2 4000/6100 = 65.57% -> 65.5, stack 3 1100/6100 = 18.03%,
	 * stack 1 500/6100 = 8.19% (shares rounded down); stack 4 (300) is cut.
	 * holds: stacks 1 and 2 tie at 2000 (42.55%): the smaller id first; stack 1
	 * is bash's 1000 in /a and cc1's 1000 in /b; stack 3 500 (10.63%).
	 */
	static const char want[] =
		"\n# top 3 of 4 stacks by wait time (all waits: 5, 6.100 us; without a stack: 1, 0.200 us)\n"
		"#1 stack 2: waits 1, total 4.000 us (65.5% of all wait time), max 4.000 us\n"
		"   by: /a worker 100.0%\n" MADV_FRAMES
		"#2 stack 3: waits 1, total 1.100 us (18.0% of all wait time), max 1.100 us\n"
		"   by: /a cc1 100.0%\n" SMAPS_FRAMES
		"#3 stack 1: waits 1, total 0.500 us (8.1% of all wait time), max 0.500 us\n"
		"   by: /b cc1 100.0%\n" FAULT_FRAMES
		"\n# top 3 of 4 stacks by hold time (all holds: 6, 4.700 us; without a stack: 1, 0.100 us)\n"
		"#1 stack 1: holds 2, total 2.000 us (42.5% of all hold time), max 1.000 us\n"
		"   by: /a bash 50.0%, /b cc1 50.0%\n" FAULT_FRAMES
		"#2 stack 2: holds 1, total 2.000 us (42.5% of all hold time), max 2.000 us\n"
		"   by: /a worker 100.0%\n" MADV_FRAMES
		"#3 stack 3: holds 1, total 0.500 us (10.6% of all hold time), max 0.500 us\n"
		"   by: /a cc1 100.0%\n" SMAPS_FRAMES;

	CHECK_EQ(report(4, argv), 0);
	char *got = slurp(out), *sec = strstr(got, "\n# top 3 of");
	/* the report before it counts lock events only: 19, not the 11 stack events */
	CHECK(strstr(got, "events: 19 "));
	if (!sec || strcmp(sec, want))
		fprintf(stderr, "got:\n%s\nwant the end:\n%s", got, want);
	CHECK(sec && !strcmp(sec, want));

	/* --stacks alone: 10, all four; --stacks=1 */
	char *argv2[] = { "report", "--stacks", with, NULL };
	CHECK_EQ(report(3, argv2), 0);
	got = slurp(out);
	CHECK(strstr(got, "# top 4 of 4 stacks by wait time") && strstr(got, "# top 4 of 4 stacks by hold time"));
	CHECK(strstr(got, "#4 stack 4: waits 1, total 0.300 us (4.9% of all wait time), max 0.300 us\n"
			  "   by: /b cc1 100.0%\n        lock_mm_and_find_vma+0x51/0x2c0\n"));
	char *argv3[] = { "report", "--stacks=1", "--by", "process", with, NULL };
	CHECK_EQ(report(5, argv3), 0);
	got = slurp(out);
	CHECK(strstr(got, "# top 1 of 4 stacks by wait time") && !strstr(got, "#2 stack"));
}

static void test_report_json(void)
{
	char *argv[] = { "report", "--json", "--stacks", "2", with, NULL };
	static const char want[] =
		"  \"stacks\": {\"wait_total_ns\": 6100, \"wait_without_stack_ns\": 200, \"hold_total_ns\": 4700, "
		"\"hold_without_stack_ns\": 100,\n"
		"    \"wait\": [\n"
		"      {\"id\": 2, \"count\": 1, \"total_ns\": 4000, \"max_ns\": 4000, \"takers\": [{\"memcg\": \"/a\", "
		"\"comm\": \"worker\", \"ns\": 4000}], \"takers_approx\": false, \"frames\": [\"do_madvise+0x10f/0x1b0\", "
		"\"__x64_sys_madvise+0x2b/0x40\", \"do_syscall_64+0x82/0x170\"]},\n"
		"      {\"id\": 3, \"count\": 1, \"total_ns\": 1100, \"max_ns\": 1100, \"takers\": [{\"memcg\": \"/a\", "
		"\"comm\": \"cc1\", \"ns\": 1100}], \"takers_approx\": false, \"frames\": [\"show_smaps_rollup+0x5a/0x290\", "
		"\"seq_read_iter+0x11f/0x4b0\", \"vfs_read+0x24b/0x340\"]}\n    ],\n"
		"    \"hold\": [\n"
		"      {\"id\": 1, \"count\": 2, \"total_ns\": 2000, \"max_ns\": 1000, \"takers\": [{\"memcg\": \"/a\", "
		"\"comm\": \"bash\", \"ns\": 1000}, {\"memcg\": \"/b\", \"comm\": \"cc1\", \"ns\": 1000}], "
		"\"takers_approx\": false, \"frames\": [\"lock_mm_and_find_vma+0x3a/0x2c0\", "
		"\"do_user_addr_fault+0x1f1/0x6a0\", \"exc_page_fault+0x6c/0x150\"]},\n"
		"      {\"id\": 2, \"count\": 1, \"total_ns\": 2000, \"max_ns\": 2000, \"takers\": [{\"memcg\": \"/a\", "
		"\"comm\": \"worker\", \"ns\": 2000}], \"takers_approx\": false, \"frames\": [\"do_madvise+0x10f/0x1b0\", "
		"\"__x64_sys_madvise+0x2b/0x40\", \"do_syscall_64+0x82/0x170\"]}\n    ]}\n}\n";

	CHECK_EQ(report(5, argv), 0);
	char *got = slurp(out), *sec = strstr(got, "  \"stacks\": {");
	if (!sec || strcmp(sec, want))
		fprintf(stderr, "got:\n%s\nwant the end:\n%s", got, want);
	CHECK(sec && !strcmp(sec, want));
	/* 19 lock events, 11 stack events; the open wait of bash, the second release */
	CHECK(strstr(got, "\"events\": 19,\n") && strstr(got, "\"stack_events\": 11,\n"));
	CHECK(strstr(got, "\"open_waits_at_end\": 1,") && strstr(got, "\"release_without_acquire\": 1,"));
	CHECK(strstr(got, "\"contention_other\": 0,\n"));
}

static void test_report_html(void)
{
	char page[128];
	char *argv[] = { "report", "--html", page, with, NULL };

	snprintf(page, sizeof(page), "%s/r.html", dir);
	CHECK_EQ(report(4, argv), 0);
	char *got = slurp(page);
	CHECK(strstr(got, "<h2>Top stacks</h2>"));
	CHECK(strstr(got, "<td style=\"text-align:left;font-family:monospace\">do_madvise+0x10f/0x1b0<br>"
			  "__x64_sys_madvise+0x2b/0x40<br>do_syscall_64+0x82/0x170<br></td><td>1</td>"
			  "<td>4.000</td><td>65.5%</td><td>4.000</td><td style=\"text-align:left\">"
			  "/a worker 100.0%<br></td></tr>"));
	CHECK(strstr(got, "<h3>By hold time</h3>"));
	unlink(page);
	/* no stacks: no table */
	char *argv2[] = { "report", "--html", page, without, NULL };
	CHECK_EQ(report(4, argv2), 0);
	CHECK(!strstr(slurp(page), "Top stacks"));
	unlink(page);
}

static void test_no_stacks(void)
{
	char *argv[] = { "report", "--stacks", without, NULL };

	CHECK_EQ(report(3, argv), 0);
	char *got = slurp(out);
	size_t l = strlen(got);
	static const char line[] = "# unmatched:";
	CHECK(strstr(got, "events: 19 "));
	/* the report, then the one line */
	CHECK(strstr(got, line) && l > 60 &&
	      !strcmp(got + l - 53, "no kernel stacks in this trace (record with --stack)\n"));
	char *argv2[] = { "report", "--json", "--stacks", without, NULL };
	CHECK_EQ(report(4, argv2), 0);
	got = slurp(out);
	CHECK(strstr(got, "\"stack_events\": 0,\n") &&
	      strstr(got, "    \"wait\": [],\n    \"hold\": []}\n}\n"));
	/* arguments */
	struct report_opts o;
	char *bad1[] = { "report", "--stacks", "--csv", with, NULL };
	char *bad2[] = { "report", "--stacks=0", with, NULL };
	char *bad3[] = { "report", "--stacks=x", with, NULL };
	fflush(stderr);
	CHECK(report_parse_args(&o, 4, bad1) == -1);
	CHECK(report_parse_args(&o, 3, bad2) == -1);
	CHECK(report_parse_args(&o, 3, bad3) == -1);
}

static void test_check(void)
{
	char *argv[] = { "check", with, NULL };
	char want[2048];

	snprintf(want, sizeof(want),
		 "self_deadlock: bash[300] (/a) mm 0xc000 at 0.000012500 s: takes it (write) while holding it "
		 "since 0.000012000 s\n"
		 "    stack at 0.000012500 s:\n" MADV_FRAMES
		 "    stack at 0.000012000 s:\n" FAULT_FRAMES
		 "double_release: bash[300] (/a) mm 0xc000 at 0.000014000 s: released (write) again; already "
		 "released at 0.000013000 s\n"
		 "    stack at 0.000014000 s:\n        do_exit+0x2a1/0xa80\n"
		 "# %s: 19 events, 2 findings, double_release 1, self_deadlock 1\n", with);
	CHECK_EQ(to_out(cmd_check, 2, argv), 1);
	char *got = slurp(out);
	if (strcmp(got, want))
		fprintf(stderr, "got:\n%s\nwant:\n%s", got, want);
	CHECK(!strcmp(got, want));

	/* --max-hold 0.0015 ms: worker's 2000 ns hold (acquired with stack 2, released without) */
	char *argv2[] = { "check", "--max-hold", "0.0015", "--json", with, NULL };
	CHECK_EQ(to_out(cmd_check, 5, argv2), 1);
	got = slurp(out);
	static const char lh[] =
		"{\"kind\": \"long_hold\", \"tid\": 100, \"comm\": \"worker\", \"mm\": \"0xa000\", \"ts_ns\": 9000, "
		"\"write\": true, \"memcg_path\": \"/a\", \"memcg_id\": 10, \"held_since_ns\": 7000, \"hold_ns\": 2000, \"stack2\": [\"do_madvise+0x10f/0x1b0\", "
		"\"__x64_sys_madvise+0x2b/0x40\", \"do_syscall_64+0x82/0x170\"]}";
	static const char sd[] =
		"{\"kind\": \"self_deadlock\", \"tid\": 300, \"comm\": \"bash\", \"mm\": \"0xc000\", \"ts_ns\": 12500, "
		"\"write\": true, \"memcg_path\": \"/a\", \"memcg_id\": 10, \"held_since_ns\": 12000, \"stack\": [\"do_madvise+0x10f/0x1b0\", "
		"\"__x64_sys_madvise+0x2b/0x40\", \"do_syscall_64+0x82/0x170\"], \"stack2\": "
		"[\"lock_mm_and_find_vma+0x3a/0x2c0\", \"do_user_addr_fault+0x1f1/0x6a0\", \"exc_page_fault+0x6c/0x150\"]}";
	static const char dr[] =
		"{\"kind\": \"double_release\", \"tid\": 300, \"comm\": \"bash\", \"mm\": \"0xc000\", \"ts_ns\": 14000, "
		"\"write\": true, \"memcg_path\": \"/a\", \"memcg_id\": 10, \"first_release_ns\": 13000, \"stack\": [\"do_exit+0x2a1/0xa80\"]}";
	if (!strstr(got, lh) || !strstr(got, sd) || !strstr(got, dr))
		fprintf(stderr, "got:\n%s\n", got);
	CHECK(strstr(got, lh) && strstr(got, sd) && strstr(got, dr));
	CHECK(strstr(got, "\"events\": 19,") && strstr(got, "\"findings_total\": 3,"));

	/* without stacks: the same findings, no stack lines */
	char *argv3[] = { "check", without, NULL };
	CHECK_EQ(to_out(cmd_check, 2, argv3), 1);
	got = slurp(out);
	CHECK(!strstr(got, "    stack at") && strstr(got, "19 events, 2 findings"));
}

static void test_folded(void)
{
	char *argv[] = { "export", with, "--format", "folded", "-o", out, NULL };
	/*
	 * frames root first, function names only; cc1's waits on B with stack 1
	 * (500) and stack 4 (300: other offsets, the same functions) merge into one
	 * line of 800, its holds 1000 + 100; worker's interval without a stack keeps
	 * the four frames; bash's open wait is not there.
	 */
	static const char want[] =
		"bash;/a;write;hold;exc_page_fault;do_user_addr_fault;lock_mm_and_find_vma 1000\n"
		"cc1;/a;read;hold;vfs_read;seq_read_iter;show_smaps_rollup 500\n"
		"cc1;/a;read;wait;vfs_read;seq_read_iter;show_smaps_rollup 1100\n"
		"cc1;/b;read;hold;exc_page_fault;do_user_addr_fault;lock_mm_and_find_vma 1100\n"
		"cc1;/b;read;wait;exc_page_fault;do_user_addr_fault;lock_mm_and_find_vma 800\n"
		"worker;/a;write;hold;do_syscall_64;__x64_sys_madvise;do_madvise 2000\n"
		"worker;/a;write;wait;do_syscall_64;__x64_sys_madvise;do_madvise 4000\n"
		"worker;/b;read;hold 100\n"
		"worker;/b;read;wait 200\n";

	CHECK_EQ(cmd_export(6, argv), 0);
	char *got = slurp(out);
	if (strcmp(got, want))
		fprintf(stderr, "got:\n%s\nwant:\n%s", got, want);
	CHECK(!strcmp(got, want));

	/* without stacks: the four frames, the same weights per line */
	char *argv2[] = { "export", without, "--format", "folded", "--weight", "wait", "-o", out, NULL };
	static const char want2[] =
		"cc1;/a;read;wait 1100\n"
		"cc1;/b;read;wait 800\n"
		"worker;/a;write;wait 4000\n"
		"worker;/b;read;wait 200\n";
	CHECK_EQ(cmd_export(8, argv2), 0);
	got = slurp(out);
	if (strcmp(got, want2))
		fprintf(stderr, "got:\n%s\nwant:\n%s", got, want2);
	CHECK(!strcmp(got, want2));
}

/* The check rules fed directly: each finding's stack and stack2, exact. */
static struct check_finding fnd[16];
static int nfnd;

static void keep(void *ctx, const struct check_finding *f)
{
	(void)ctx;
	if (nfnd < 16)
		fnd[nfnd++] = *f;
}

static void test_check_rules(void)
{
	static const struct mml_event ev[] = {
		/* bash[1]: A (trylock, stack 11), then B (wait 12, acquired 13) */
		ST(100, 1, MA, 11), EV(100, 1, MA, A, W | OK),
		ST(110, 1, MB, 12), EV(110, 1, MB, S, W), ST(120, 1, MB, 13), EV(120, 1, MB, A, W | OK),
		EV(130, 1, MB, R, W), EV(140, 1, MA, R, W),
		/* tid 2: B (21), then A (22, 23): order_inversion with tid 1's B at 120 */
		ST(200, 2, MB, 21), EV(200, 2, MB, A, OK),
		ST(210, 2, MA, 22), EV(210, 2, MA, S, 0), ST(220, 2, MA, 23), EV(220, 2, MA, A, OK),
		/* then asks A for write while holding it for read (24) */
		ST(230, 2, MA, 24), EV(230, 2, MA, S, W),
		/* tid 3: hardirq start_locking (31) */
		ST(300, 3, MC, 31), EV(300, 3, MC, S, MML_F_HARDIRQ),
		/* tid 4: a failed acquisition, then a release with stack 41; a stack for
		 * mm A before an event on C is not taken (42) */
		EV(400, 4, MC, S, 0), EV(410, 4, MC, A, 0), ST(420, 4, MC, 41), EV(420, 4, MC, R, 0),
		ST(430, 4, MA, 42), EV(430, 4, MC, R, 0),
	};
	struct check c;
	size_t n = sizeof(ev) / sizeof(ev[0]);

	CHECK(check_init(&c, 0, keep, NULL) == 0);
	CHECK(check_feed(&c, ev, 7) == 0);	/* a stack and its event in two batches */
	CHECK(check_feed(&c, ev + 7, n - 7) == 0);
	check_finish(&c);
	CHECK_EQ(c.events, 14);	/* 24 records, 10 of them stack events */
	CHECK_EQ(nfnd, 5);
	CHECK(fnd[0].kind == CK_ORDER_INVERSION && fnd[0].tid == 2 && fnd[0].mm == MB && fnd[0].mm2 == MA &&
	      fnd[0].ts == 220 && fnd[0].tid2 == 1 && fnd[0].ts2 == 120);
	CHECK_EQ(fnd[0].stack, 23);
	CHECK_EQ(fnd[0].stack2, 13);
	CHECK(fnd[1].kind == CK_WRITE_AFTER_READ && fnd[1].ts == 230 && fnd[1].ts2 == 220);
	CHECK_EQ(fnd[1].stack, 24);
	CHECK_EQ(fnd[1].stack2, 23);
	CHECK(fnd[2].kind == CK_IRQ_CONTEXT && fnd[2].ts == 300);
	CHECK_EQ(fnd[2].stack, 31);
	CHECK_EQ(fnd[2].stack2, 0);
	CHECK(fnd[3].kind == CK_RELEASE_WITHOUT_ACQUIRE && fnd[3].ts == 420);
	CHECK_EQ(fnd[3].stack, 41);
	/* the second release: a double release, its own stack not 42 (another mm) */
	CHECK(fnd[4].kind == CK_DOUBLE_RELEASE && fnd[4].ts == 430 && fnd[4].ts2 == 420);
	CHECK_EQ(fnd[4].stack, 0);
	CHECK_EQ(fnd[4].stack2, 41);
	check_fini(&c);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-stacks.%d", (int)getpid());
	CHECK(mkdir(dir, 0700) == 0);
	snprintf(with, sizeof(with), "%s/with.mml", dir);
	snprintf(without, sizeof(without), "%s/without.mml", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_file(with, 1);
	write_file(without, 0);
	test_report_text();
	test_report_json();
	test_report_html();
	test_no_stacks();
	test_check();
	test_folded();
	test_check_rules();
	unlink(with);
	unlink(without);
	unlink(out);
	rmdir(dir);
	printf("test-stacks: ok\n");
	return 0;
}
