/* SPDX-License-Identifier: MIT */
/*
 * test-tracedat-stacks: kernel stacks from a trace.dat (src-tracedat.c),
 * without root: tests/fixtures/stacks-trigger.dat and .txt are one capture
 * on this development machine (6.18), saved both ways. A tracefs instance
 * had the stacktrace trigger on the three mmap_lock events while a small
 * program mapped, wrote, protected and unmapped memory twice; its text
 * was read with the sym-offset and sym-addr options (the kernel's own
 * "func+0x1a/0x80 <address>"), then `trace-cmd extract -B` wrote the
 * trace.dat in a mount namespace where /proc/kallsyms was bind-mounted
 * over by the symbols those stacks name plus each one's successor (so the
 * file stays small: 150 KB, most of it the kernel's event formats).
 *
 * Checked: 174 events and 174 stacks; every event's stack, read from the
 * trace.dat's kernel_stack records and symbolized with its kallsyms, is
 * the stack the kernel printed, symbol for symbol and address for address,
 * in the same order (the text source, itself checked by test-text-stacks,
 * reads the .txt); munmap's downgrade has its exact frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test-util.h"
#include "source.h"
#include "stacks.h"

/* libtraceevent 1.7 leaks a few bytes per parsed format (see test-tracedat.c). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libtraceevent.so\n";
}

static void fixture(const char *name, char *path, size_t len)
{
	const char *src = getenv("MMAPLOCK_SRC");

	if (src)
		snprintf(path, len, "%s/tests/fixtures/%s", src, name);
	else
		snprintf(path, len, "%.*s/../fixtures/%s", (int)(strrchr(__FILE__, '/') - __FILE__),
			 __FILE__, name);
}

/*
 * Read a fixture; one line per event, "cpu type tid | sym@addr ..." (its
 * stack's frames, nothing when it has none), into a malloc'd string.
 */
static char *read_all(const char *name, const struct source_ops *ops, long *events, long *stacks)
{
	char path[4096], *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);
	struct mml_meta *meta = meta_new();
	struct source s = { .ops = ops, .meta = meta };
	static struct mml_event ev[100];
	uint32_t sid = 0;
	long n;

	fixture(name, path, sizeof(path));
	CHECK(o && meta);
	if (ops->open(&s, path)) {
		fprintf(stderr, "%s: %s\n", path, s.err);
		exit(1);
	}
	*events = *stacks = 0;
	while ((n = ops->next(&s, ev, 100)) > 0) {
		for (long i = 0; i < n; i++) {
			if (ev[i].type == MML_EV_STACK) {
				sid = (uint32_t)ev[i].memcg;
				(*stacks)++;
				continue;
			}
			fprintf(o, "%u %u %u |", ev[i].cpu, ev[i].type, ev[i].tid);
			const struct mml_stack *st = sid ? meta_stack(meta, sid) : NULL;
			CHECK(!sid || st);
			for (unsigned k = 0; st && k < st->n; k++) {
				CHECK(!stack_is_trace_frame(st->sym[k]) || k > 0);
				fprintf(o, " %s@%llx", st->sym[k], (unsigned long long)st->addr[k]);
			}
			fputc('\n', o);
			sid = 0;
			(*events)++;
		}
	}
	CHECK(n == 0);
	ops->close(&s);
	meta_free(meta);
	fclose(o);
	return buf;
}

int main(void)
{
	long nd, sd, nt, st;
	char *dat = read_all("stacks-trigger.dat", &source_tracedat_ops, &nd, &sd);
	char *txt = read_all("stacks-trigger.txt", &source_text_ops, &nt, &st);

	CHECK_EQ(nd, 174);
	CHECK_EQ(sd, 174);
	CHECK_EQ(nt, 174);
	CHECK_EQ(st, 174);
	if (strcmp(dat, txt)) {
		size_t k = 0;
		while (dat[k] == txt[k])
			k++;
		size_t b = k > 300 ? k - 300 : 0;
		fprintf(stderr, "trace.dat and text differ at byte %zu:\ntrace.dat: ...%.500s\ntext: ...%.500s\n",
			k, dat + b, txt + b);
		return 1;
	}
	/* munmap downgrading its write lock: acquire_returned (read), three of them (ld.so, 2 x munmap) */
	const char *down = "0 2 31833 | vms_complete_munmap_vmas+0x155/0x190@ffffffff81627ee5 "
			   "do_vmi_align_munmap+0x246/0x2c0@ffffffff816298c6 "
			   "do_vmi_munmap+0xcc/0x1a0@ffffffff81629a1c __vm_munmap+0xd9/0x1b0@ffffffff8162be29 "
			   "__x64_sys_munmap+0x17/0x30@ffffffff8160bbc7 "
			   "do_syscall_64+0x71/0x290@ffffffff8225a6c1 "
			   "entry_SYSCALL_64_after_hwframe+0x76/0x7e@ffffffff81000130\n";
	int ndown = 0;
	for (const char *p = dat; (p = strstr(p, down)); p++)
		ndown++;
	CHECK_EQ(ndown, 3);
	free(dat);
	free(txt);
	printf("test-tracedat-stacks: ok (174 events, each with its stack, alike in trace.dat and text)\n");
	return 0;
}
