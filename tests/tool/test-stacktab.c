/* SPDX-License-Identifier: MIT */
/*
 * test-stacktab.c: the stack table (stacks.c) and the kallsyms reader
 * (ksym.c) on hand-made inputs with known answers.
 */
#include <errno.h>
#include "test-util.h"
#include "stacks.h"
#include "ksym.h"

static void test_table(void)
{
	struct stacktab *t = stacktab_new();
	const char *a[] = { "lock_mm_and_find_vma+0x3a/0x2c0", "do_user_addr_fault+0x1b4/0x860" };
	const char *b[] = { "__x64_sys_mincore+0x1a7/0x1d0", "do_syscall_64+0x71/0x290" };
	uint64_t aa[] = { 0xffffffff81234567ull, 0xffffffff81000010ull };
	int is_new = -1;

	CHECK(t);
	CHECK_EQ(stacktab_intern(t, aa, a, 2, &is_new), 1);
	CHECK_EQ(is_new, 1);
	CHECK_EQ(stacktab_intern(t, NULL, b, 2, &is_new), 2);
	CHECK_EQ(stacktab_intern(t, aa, a, 2, &is_new), 1);	/* same frames, same id */
	CHECK_EQ(is_new, 0);
	CHECK_EQ(stacktab_intern(t, NULL, a, 2, &is_new), 3);	/* other addresses: another stack */
	CHECK_EQ(stacktab_intern(t, aa, a, 1, &is_new), 4);	/* a prefix is another stack */
	CHECK_EQ(stacktab_count(t), 4);

	const struct mml_stack *s = stacktab_get(t, 1);
	CHECK(s && s->n == 2 && s->addr[0] == aa[0]);
	CHECK_STR(s->sym[1], "do_user_addr_fault+0x1b4/0x860");
	CHECK(stacktab_get(t, 5) == NULL && stacktab_get(t, 0) == NULL);

	/* a file's ids: set, redefined (the later wins), then interning goes above them */
	CHECK_EQ(stacktab_set(t, 100, NULL, b, 1), 0);
	CHECK_EQ(stacktab_set(t, 100, NULL, a, 2), 0);
	s = stacktab_get(t, 100);
	CHECK(s && s->n == 2);
	CHECK_STR(s->sym[0], a[0]);
	const char *c[] = { "m" };
	CHECK_EQ(stacktab_intern(t, NULL, c, 1, NULL), 101);
	CHECK_EQ(stacktab_set(t, 0, NULL, c, 1), -1);

	/* many stacks: the indexes grow, every id still resolves, and old pointers stay valid */
	const struct mml_stack *first = stacktab_get(t, 1);
	char names[3000][24];
	for (int i = 0; i < 3000; i++) {
		const char *f[1] = { names[i] };
		snprintf(names[i], sizeof(names[i]), "f%d+0x1/0x10", i);
		CHECK_EQ(stacktab_intern(t, NULL, f, 1, NULL), 102 + i);
	}
	for (int i = 0; i < 3000; i++)
		CHECK_STR(stacktab_get(t, 102 + i)->sym[0], names[i]);
	CHECK(stacktab_get(t, 1) == first);
	CHECK_STR(first->sym[0], "lock_mm_and_find_vma+0x3a/0x2c0");
	stacktab_free(t);
	stacktab_free(NULL);
}

static void test_helpers(void)
{
	char buf[64];

	CHECK(stack_is_trace_frame("trace_event_raw_event_mmap_lock+0x10/0x20"));
	CHECK(stack_is_trace_frame("__mmap_lock_do_trace_start_locking+0x5/0x90"));
	CHECK(!stack_is_trace_frame("lock_mm_and_find_vma+0x3a/0x2c0"));
	CHECK(!stack_is_trace_frame(NULL));
	CHECK_STR(stack_func("do_mprotect_pkey+0x4e5/0x5e0", buf, sizeof(buf)), "do_mprotect_pkey");
	CHECK_STR(stack_func("xfs_fault+0x10/0x20 [xfs]", buf, sizeof(buf)), "xfs_fault");
	CHECK_STR(stack_func("0xffffffff81234567", buf, sizeof(buf)), "0xffffffff81234567");
	CHECK_STR(stack_func("do_mprotect_pkey", buf, 6), "do_mp");
}

static void test_ksyms(void)
{
	char path[] = "/tmp/mml-kallsyms.XXXXXX";
	char buf[128];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	CHECK(f);
	fputs("ffffffff81000000 T _stext\n"
	      "ffffffff81000100 t helper\n"
	      "ffffffff81000100 D data_alias\n"		/* not text: ignored */
	      "ffffffff81000180 T lock_mm_and_find_vma\n"
	      "ffffffff81000400 W weak_fn\n"
	      "ffffffffc0001000 t xfs_fault\t[xfs]\n"
	      "ffffffffc0001080 t xfs_other\t[xfs]\n"
	      "0000000000000000 A zero\n"
	      "garbage line\n", f);
	fclose(f);
	struct ksyms *k = ksyms_load(path);
	CHECK(k);
	CHECK_EQ(ksyms_count(k), 6);
	CHECK_STR(ksyms_name(k, 0xffffffff810001bauLL, buf, sizeof(buf)), "lock_mm_and_find_vma+0x3a/0x280");
	CHECK_STR(ksyms_name(k, 0xffffffff81000100uLL, buf, sizeof(buf)), "helper+0x0/0x80");
	CHECK_STR(ksyms_name(k, 0xffffffffc0001010uLL, buf, sizeof(buf)), "xfs_fault+0x10/0x80 [xfs]");
	/* the last symbol of a module has no known size */
	CHECK_STR(ksyms_name(k, 0xffffffffc0001090uLL, buf, sizeof(buf)), "xfs_other+0x10 [xfs]");
	/* before the first symbol, and far past the last: an address */
	CHECK_STR(ksyms_name(k, 0xffffffff80000000uLL, buf, sizeof(buf)), "0xffffffff80000000");
	CHECK_STR(ksyms_name(k, 0xffffffffc1001090uLL, buf, sizeof(buf)), "0xffffffffc1001090");
	CHECK_STR(ksyms_name(NULL, 0x1234, buf, sizeof(buf)), "0x1234");
	ksyms_free(k);

	/* kptr_restrict: every address 0 */
	f = fopen(path, "w");
	fputs("0000000000000000 T _stext\n0000000000000000 t helper\n", f);
	fclose(f);
	errno = 0;
	CHECK(ksyms_load(path) == NULL);
	CHECK_EQ(errno, ENODATA);
	unlink(path);
	errno = 0;
	CHECK(ksyms_load(path) == NULL);
	CHECK_EQ(errno, ENOENT);
	ksyms_free(NULL);
}

int main(void)
{
	test_table();
	test_helpers();
	test_ksyms();
	printf("test-stacktab: ok\n");
	return 0;
}
