/* SPDX-License-Identifier: MIT */
/*
 * test-text-stacks: kernel stacks in text traces (src-text.c, stackq.c), on
 * real captures from this development machine (tests/fixtures/stacks-*):
 *
 *   stacks-ftrace-trigger.txt   tracefs `trace` with the stacktrace trigger
 *                               on the three mmap_lock events, two CPUs
 *                               interleaved, two stacks whose events the
 *                               ring buffer overwrote;
 *   stacks-ftrace-symaddr.txt   the stacktrace option with the sym-offset
 *                               and sym-addr options, contention_end too,
 *                               cut in the middle of a frame line;
 *   stacks-trace-cmd-report.txt `trace-cmd report` of the same events;
 *   stacks-perf-script.txt      `perf record -e 'mmap_lock:*' -g` then
 *                               `perf script`.
 *
 * Every event is checked for the exact stack it got (frames, addresses, id
 * sharing) or for getting none; then hand-made lines for what a capture
 * rarely shows (another pid, another event's stack, a record in between,
 * lost events, an interrupt's event and stack in between, two trace-cmd
 * buffers, modules, unknown symbols).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "test-util.h"
#include "source.h"
#include "stacks.h"

#define MAXEV 256

static struct mml_meta *meta;
static struct mml_event ev[MAXEV];
static long nev;
static uint64_t skipped;

static void read_path(const char *path)
{
	struct source s = { .ops = &source_text_ops };

	meta_free(meta);
	meta = meta_new();
	s.meta = meta;
	nev = -1;
	if (source_text_ops.open(&s, path) == 0) {
		long n;
		nev = 0;
		while ((n = source_text_ops.next(&s, ev + nev, MAXEV - (size_t)nev)) > 0)
			nev += n;
		if (n < 0)
			nev = -1;
	}
	skipped = s.skipped;
	source_text_ops.close(&s);
}

static void read_fixture(const char *name)
{
	char path[4096];
	const char *src = getenv("MMAPLOCK_SRC");

	if (src)
		snprintf(path, sizeof(path), "%s/tests/fixtures/%s", src, name);
	else
		snprintf(path, sizeof(path), "%.*s/../fixtures/%s",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__, name);
	read_path(path);
	CHECK(nev > 0);
}

static void read_text(const char *text)
{
	int fd = memfd_create("test-text-stacks", 0);
	char path[64];

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	read_path(path);
	close(fd);
}

/* The events (types 1-5) in order, and each one's stack id (0: none). */
static int nreal;
static const struct mml_event *real[MAXEV];
static uint32_t sid[MAXEV];

static void split(void)
{
	nreal = 0;
	for (long i = 0; i < nev; i++) {
		if (ev[i].type == MML_EV_STACK) {
			/* a stack comes right before its event, with its tid, ts, cpu, mm */
			CHECK(i + 1 < nev && ev[i + 1].type != MML_EV_STACK);
			CHECK(ev[i].ts == ev[i + 1].ts && ev[i].tid == ev[i + 1].tid);
			CHECK(ev[i].cpu == ev[i + 1].cpu && ev[i].mm == ev[i + 1].mm);
			CHECK(ev[i].flags == 0 && ev[i].memcg >= 1);
			continue;
		}
		real[nreal] = &ev[i];
		sid[nreal] = i > 0 && ev[i - 1].type == MML_EV_STACK ? (uint32_t)ev[i - 1].memcg : 0;
		nreal++;
	}
}

/*
 * Stack id has exactly these frames: "sym" or "sym@hexaddr" each (no "@":
 * address 0), NULL-terminated.
 */
static void check_frames(int line, uint32_t id, const char *const *want)
{
	const struct mml_stack *st = meta_stack(meta, id);
	unsigned n = 0;

	while (want[n])
		n++;
	if (!st) {
		fprintf(stderr, "line %d: stack %u unknown\n", line, id);
		exit(1);
	}
	if (st->n != n) {
		fprintf(stderr, "line %d: stack %u has %u frames, want %u\n", line, id, st->n, n);
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		const char *at = strchr(want[i], '@');
		size_t l = at ? (size_t)(at - want[i]) : strlen(want[i]);
		uint64_t a = at ? strtoull(at + 1, NULL, 16) : 0;
		if (strlen(st->sym[i]) != l || memcmp(st->sym[i], want[i], l) || st->addr[i] != a) {
			fprintf(stderr, "line %d: stack %u frame %u: %s @%llx, want %s\n", line, id, i,
				st->sym[i], (unsigned long long)st->addr[i], want[i]);
			exit(1);
		}
	}
}
#define FRAMES(id, ...) check_frames(__LINE__, id, (const char *const[]){ __VA_ARGS__, NULL })

/* Event i: type, tid, cpu, ts in us. */
static void check_ev(int i, int type, uint32_t tid, unsigned cpu, uint64_t ts_us)
{
	if (real[i]->type != type || real[i]->tid != tid || real[i]->cpu != cpu ||
	    real[i]->ts != ts_us * 1000) {
		fprintf(stderr, "event %d: type %u tid %u cpu %u ts %llu, want %d %u %u %llu\n", i,
			real[i]->type, real[i]->tid, real[i]->cpu, (unsigned long long)real[i]->ts,
			type, tid, cpu, (unsigned long long)ts_us * 1000);
		exit(1);
	}
}

#define SC "do_syscall_64", "entry_SYSCALL_64_after_hwframe"
#define MUNMAP "__vm_munmap", "__x64_sys_munmap", SC
#define VMS "vms_complete_munmap_vmas", "do_vmi_align_munmap", "do_vmi_munmap", MUNMAP
#define CLONE "dup_mmap", "copy_process", "kernel_clone", "__do_sys_clone", SC
#define MPROT "do_mprotect_pkey", "__x64_sys_mprotect", SC

static void ftrace_trigger(void)
{
	read_fixture("stacks-ftrace-trigger.txt");
	split();
	CHECK_EQ(nreal, 12);
	CHECK_EQ(nev, 12 + 10);
	/* 12 header lines, the two stacks whose events were overwritten */
	CHECK_EQ(skipped, 14);
	CHECK_EQ(stacktab_count(meta_stacks(meta)), 5);
	check_ev(0, 2, 1293, 0, 9160957481);
	FRAMES(sid[0], MUNMAP);
	check_ev(1, 2, 1293, 0, 9160957485);	/* the downgrade */
	FRAMES(sid[1], VMS);
	/* bash on CPU 1: its stack comes after four records of CPU 0 */
	check_ev(2, 1, 1319, 1, 9160957485);
	FRAMES(sid[2], CLONE);
	check_ev(3, 3, 1293, 0, 9160957488);
	CHECK_EQ(sid[3], sid[1]);
	check_ev(4, 1, 1293, 0, 9160957492);
	FRAMES(sid[4], "vm_mmap_pgoff", SC);
	CHECK_EQ(sid[5], sid[4]);
	check_ev(6, 3, 1293, 0, 9160957498);
	CHECK_EQ(sid[6], sid[4]);
	check_ev(7, 1, 1293, 0, 9160957501);
	FRAMES(sid[7], MPROT);
	check_ev(8, 2, 1319, 1, 9160957501);
	CHECK_EQ(sid[8], sid[2]);
	CHECK_EQ(sid[9], sid[7]);
	/* the last two: their stacks were not captured */
	check_ev(10, 3, 1293, 0, 9160957507);
	check_ev(11, 1, 1319, 1, 9160957507);
	CHECK_EQ(sid[10], 0);
	CHECK_EQ(sid[11], 0);
}

#define SCA "do_syscall_64+0x71/0x290@ffffffff8225a6c1", \
	"entry_SYSCALL_64_after_hwframe+0x76/0x7e@ffffffff81000130"
#define FAULT "do_anonymous_page+0x4c/0xaa0@ffffffff8160286c", \
	"__handle_mm_fault+0xa64/0xf80@ffffffff816051e4", "handle_mm_fault+0xd0/0x310@ffffffff816057e0", \
	"exc_page_fault+0x176/0x770@ffffffff82260286", "asm_exc_page_fault+0x22/0x30@ffffffff81000c82"

/* The symaddr capture's events: type, tid, cpu, us. */
static const struct { int type; uint32_t tid; unsigned cpu; uint64_t us; } symaddr_ev[] = {
	{ 2, 7466, 1, 9226586475 }, { 3, 7466, 1, 9226586482 }, { 1, 7466, 1, 9226586511 },
	{ 2, 7466, 1, 9226586534 }, { 5, 6371, 0, 9226586535 }, { 3, 7466, 1, 9226586541 },
	{ 1, 7466, 1, 9226586545 }, { 2, 7466, 1, 9226586549 }, { 3, 7466, 1, 9226586552 },
};

static void ftrace_symaddr(void)
{
	read_fixture("stacks-ftrace-symaddr.txt");
	split();
	CHECK_EQ(nreal, 9);
	CHECK_EQ(nev, 9 + 8);
	/* 11 header lines, the stack cut after its tracing frame */
	CHECK_EQ(skipped, 12);
	for (int i = 0; i < 9; i++)
		check_ev(i, symaddr_ev[i].type, symaddr_ev[i].tid, symaddr_ev[i].cpu, symaddr_ev[i].us);
	FRAMES(sid[0], "vm_mmap_pgoff+0x1bc/0x210@ffffffff815d18ac", SCA);
	FRAMES(sid[1], "vm_mmap_pgoff+0x1d6/0x210@ffffffff815d18c6", SCA);
	FRAMES(sid[2], "vm_mmap_pgoff+0x19e/0x210@ffffffff815d188e", SCA);
	CHECK_EQ(sid[3], sid[0]);
	/* contention_end of a spinlock: its stack, across CPU 1's records */
	FRAMES(sid[4], "__pv_queued_spin_lock_slowpath+0x15b/0x380@ffffffff8226f34b",
	       "_raw_spin_lock+0x3b/0x60@ffffffff8226ec8b", "__schedule+0xbd/0xf60@ffffffff8226595d",
	       "schedule+0x23/0xa0@ffffffff82266833", "exit_to_user_mode_loop+0x51/0xe0@ffffffff814232c1",
	       "do_syscall_64+0x250/0x290@ffffffff8225a8a0",
	       "entry_SYSCALL_64_after_hwframe+0x76/0x7e@ffffffff81000130");
	CHECK_EQ(sid[5], sid[1]);
	FRAMES(sid[6], "__vmf_anon_prepare+0xb2/0x100@ffffffff815fbb02", FAULT);
	FRAMES(sid[7], "__vmf_anon_prepare+0x9a/0x100@ffffffff815fbaea", FAULT);
	CHECK_EQ(sid[8], 0);
}

/* trace-cmd report of the same events: names without offsets, the same addresses. */
static void trace_cmd_report(void)
{
	read_fixture("stacks-trace-cmd-report.txt");
	split();
	CHECK_EQ(nreal, 9);
	CHECK_EQ(nev, 9 + 8);
	CHECK_EQ(skipped, 2);	/* "cpus=2", the last stack: only its tracing frame */
	for (int i = 0; i < 9; i++)
		check_ev(i, symaddr_ev[i].type, symaddr_ev[i].tid, symaddr_ev[i].cpu, symaddr_ev[i].us);
	CHECK_EQ(real[0]->mm, 0xffff888104453e80ull);
	FRAMES(sid[0], "vm_mmap_pgoff@ffffffff815d18ac", "do_syscall_64@ffffffff8225a6c1",
	       "entry_SYSCALL_64_after_hwframe@ffffffff81000130");
	FRAMES(sid[4], "__pv_queued_spin_lock_slowpath@ffffffff8226f34b",
	       "_raw_spin_lock@ffffffff8226ec8b", "__schedule@ffffffff8226595d",
	       "schedule@ffffffff82266833", "exit_to_user_mode_loop@ffffffff814232c1",
	       "do_syscall_64@ffffffff8225a8a0", "entry_SYSCALL_64_after_hwframe@ffffffff81000130");
	FRAMES(sid[7], "__vmf_anon_prepare@ffffffff815fbaea", "do_anonymous_page@ffffffff8160286c",
	       "__handle_mm_fault@ffffffff816051e4", "handle_mm_fault@ffffffff816057e0",
	       "exc_page_fault@ffffffff82260286", "asm_exc_page_fault@ffffffff81000c82");
	CHECK_EQ(sid[3], sid[0]);
	CHECK_EQ(sid[5], sid[1]);
	CHECK(sid[1] && sid[2] && sid[6] && sid[1] != sid[2] && sid[6] != sid[7]);
	CHECK_EQ(sid[8], 0);
}

#define EXEC "bprm_execve+0x2ad@ffffffff816e0fed", \
	"do_execveat_common.isra.0+0x1a6@ffffffff816e2716", "__x64_sys_execve+0x34@ffffffff816e37e4", \
	"do_syscall_64+0x71@ffffffff8225a6c1", "entry_SYSCALL_64_after_hwframe+0x76@ffffffff81000130"
#define ELF "asm_exc_page_fault+0x22@ffffffff81000c82", "elf_load+0x28a@ffffffff81775b9a", \
	"load_elf_binary+0x65a@ffffffff8177622a", EXEC

static void perf_script(void)
{
	read_fixture("stacks-perf-script.txt");
	split();
	CHECK_EQ(nreal, 7);
	CHECK_EQ(nev, 14);
	CHECK_EQ(skipped, 0);
	check_ev(0, 1, 4608, 0, 9211729576);
	/* the leaf __mmap_lock_do_trace_start_locking and the user-space frame left out */
	FRAMES(sid[0], "setup_arg_pages+0x38f@ffffffff816e15df", "load_elf_binary+0x3d2@ffffffff81775fa2",
	       EXEC);
	FRAMES(sid[1], "setup_arg_pages+0x37a@ffffffff816e15ca", "load_elf_binary+0x3d2@ffffffff81775fa2",
	       EXEC);
	/* a page fault: nothing of the tracing machinery at the leaf */
	check_ev(2, 1, 4608, 0, 9211729791);
	FRAMES(sid[2], "lock_mm_and_find_vma+0x144@ffffffff815f5ba4",
	       "exc_page_fault+0x1d8@ffffffff822602e8", ELF);
	FRAMES(sid[3], "lock_mm_and_find_vma+0xf3@ffffffff815f5b53",
	       "exc_page_fault+0x1d8@ffffffff822602e8", ELF);
	FRAMES(sid[4], "exc_page_fault+0x3e3@ffffffff822604f3", ELF);
	/* a fault from user space: two kernel frames, then the dynamic loader */
	check_ev(5, 3, 4608, 0, 9211730248);
	FRAMES(sid[5], "exc_page_fault+0x3e3@ffffffff822604f3", "asm_exc_page_fault+0x22@ffffffff81000c82");
	/* the last event, its callchain not ended by a blank line */
	check_ev(6, 1, 4608, 0, 9211730263);
	FRAMES(sid[6], "vm_mmap_pgoff+0x19e@ffffffff815d188e", "do_syscall_64+0x71@ffffffff8225a6c1",
	       "entry_SYSCALL_64_after_hwframe+0x76@ffffffff81000130");
}

#define EV(pid, cpu, ts, what) "  x-" #pid " [00" #cpu "] ..... " ts ": " what "\n"
#define START "mmap_lock_start_locking: mm=1 memcg_id=2 write=true"
#define REL "mmap_lock_released: mm=1 memcg_id=2 write=true"
#define STK(pid, cpu, ts) "  x-" #pid " [00" #cpu "] ..... " ts ": <stack trace>\n"

/* What a capture rarely shows, by hand. */
static void hand_made(void)
{
	/* another pid's stack, another event's stack, a record or lost events in between */
	read_text(EV(10, 0, "1.000001", START) STK(11, 0, "1.000002") " => f_other_pid\n"
		  EV(10, 0, "1.000003", START) STK(10, 0, "1.000004")
		  " => __traceiter_mmap_lock_released\n => f_wrong_event\n"
		  EV(10, 0, "1.000005", START) EV(12, 0, "1.000006", "sched_switch: x")
		  STK(10, 0, "1.000007") " => f_after_other\n"
		  EV(10, 0, "1.000008", START) "CPU:0 [LOST 3 EVENTS]\n"
		  STK(10, 0, "1.000009") " => f_after_lost\n"
		  EV(10, 1, "1.000010", REL) STK(10, 1, "1.000011")
		  " => __traceiter_mmap_lock_released\n => f_right+0x1/0x2 [mod]\n => 0xffffffffc0001234\n");
	split();
	CHECK_EQ(nreal, 5);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(sid[i], 0);
	FRAMES(sid[4], "f_right+0x1/0x2 [mod]", "0xffffffffc0001234@ffffffffc0001234");
	CHECK_EQ(stacktab_count(meta_stacks(meta)), 1);
	/* unattached stack headers and the sched_switch and LOST lines are skipped */
	CHECK_EQ(skipped, 6);

	/* an interrupt's event and its stack in between: the event's own stack, named, still attaches */
	read_text(EV(10, 0, "5.000001", START) EV(10, 0, "5.000002", "irq_handler_entry: irq=1 name=x")
		  STK(10, 0, "5.000003") " => trace_event_raw_event_irq_handler_entry\n => handle_irq\n"
		  STK(10, 0, "5.000004") " => trace_event_raw_event_mmap_lock\n"
		  " => __traceiter_mmap_lock_start_locking\n => f_named\n");
	split();
	CHECK_EQ(nreal, 1);
	FRAMES(sid[0], "f_named");
	CHECK_EQ(skipped, 2);

	/* trace-cmd report of two buffers: an instance's CPU 0 is another stream than the top one's */
	read_text("            x-5  [000]  1.000001: mmap_lock_start_locking: mm=1 memcg_id=2 write=true\n"
		  "inst:       y-6  [000]  1.000002: mmap_lock_released: mm=2 memcg_id=2 write=true\n"
		  "            x-5  [000]  1.000003: kernel_stack:         <stack trace >\n"
		  "=> f_top (ffffffff81000010)\n"
		  "inst:       y-6  [000]  1.000004: kernel_stack:         <stack trace >\n"
		  "=> f_inst (ffffffff81000020)\n");
	split();
	CHECK_EQ(nreal, 2);
	CHECK(real[0]->tid == 5 && real[1]->tid == 6);
	FRAMES(sid[0], "f_top@ffffffff81000010");
	FRAMES(sid[1], "f_inst@ffffffff81000020");

	/* trace-cmd: an unknown symbol is its address; perf: modules and unknown kernel symbols */
	read_text("  x-7 [001] 2.5: mmap_lock_released: mm=1 memcg_id=2 write=false\n"
		  "  x-7 [001] 2.500001: kernel_stack:         <stack trace >\n"
		  "=> ffffffffc0a1b2c3\n=> g (ffffffff81000001)\n"
		  "x 8 [000] 3.0: mmap_lock:mmap_lock_released: mm=0x1 memcg_id=2 write=false\n"
		  "\tffffffffc0a1b2c3 xfs_foo+0x10 ([xfs])\n\tffffffffc0a1b2c4 [unknown] ([unknown])\n"
		  "\t    7f0000001000 main+0x1 (/usr/bin/x)\n"
		  "\tffffffff81000002 h+0x2 ([kernel.kallsyms])\n\n");
	split();
	CHECK_EQ(nreal, 2);
	FRAMES(sid[0], "0xffffffffc0a1b2c3@ffffffffc0a1b2c3", "g@ffffffff81000001");
	FRAMES(sid[1], "xfs_foo+0x10 [xfs]@ffffffffc0a1b2c3", "0xffffffffc0a1b2c4@ffffffffc0a1b2c4",
	       "h+0x2@ffffffff81000002");

	/* broken frame lines: kept as text or ignored, never a crash; over-long stacks are cut */
	static char big[64 << 10];
	size_t o = (size_t)snprintf(big, sizeof(big), EV(5, 0, "4.0", START) STK(5, 0, "4.1"));
	o += (size_t)snprintf(big + o, sizeof(big) - o, "=>\n => \n =>  (zz)\n => <>\n => a <12\n");
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " => deep_%d\n", i);
	read_text(big);
	split();
	CHECK_EQ(nreal, 1);
	const struct mml_stack *st = meta_stack(meta, sid[0]);
	CHECK(st && st->n == STACK_MAX_FRAMES);
	CHECK_STR(st->sym[0], "(zz)");
	CHECK_STR(st->sym[1], "<>");
	CHECK_STR(st->sym[2], "a <12");
	CHECK_STR(st->sym[3], "deep_0");

	/* only stacks, no event: the usual error */
	read_text(STK(5, 0, "4.1") " => a\n");
	CHECK_EQ(nev, -1);
}

int main(void)
{
	ftrace_trigger();
	ftrace_symaddr();
	trace_cmd_report();
	perf_script();
	hand_made();
	meta_free(meta);
	printf("test-text-stacks: ok\n");
	return 0;
}
