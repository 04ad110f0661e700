/* SPDX-License-Identifier: MIT */
/*
 * test-names: the naming service (model/names.h) without root: saved
 * comms from a tracing directory made here (read, cut at 15 bytes, read
 * again only when older than asked), memcg id 0 never looked up, ids not
 * named twice, and report-time naming leaving ids the trace names alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "meta.h"
#include "names.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static void put(const char *dir, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/saved_cmdlines", dir);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void test_comms(void)
{
	char dir[] = "/tmp/mml-tnames.XXXXXX";
	struct names n;
	const char *c;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	put(dir, "123 foo\n456 averyveryverylongcommname\n0 zero\nbad line\n");
	names_init(&n, dir);
	CHECK((c = names_saved_comm(&n, 123, 60)) && !strcmp(c, "foo"));
	CHECK((c = names_saved_comm(&n, 456, 60)) && !strcmp(c, "averyveryverylo"));	/* 15 bytes */
	CHECK(names_saved_comm(&n, 0, 60) == NULL && names_saved_comm(&n, 789, 60) == NULL);
	put(dir, "789 bar\n");
	CHECK(names_saved_comm(&n, 789, 60) == NULL);	/* the copy is recent: not read again */
	CHECK((c = names_saved_comm(&n, 789, 0)) && !strcmp(c, "bar"));	/* older than 0 s */
	CHECK(names_saved_comm(&n, 123, NAMES_ANY_AGE) == NULL);	/* the new copy only */
	names_fini(&n);

	names_init(&n, NULL);		/* no tracing directory: nothing, no error */
	CHECK(names_saved_comm(&n, 123, 0) == NULL);
	names_fini(&n);
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/saved_cmdlines", dir);
		unlink(path);
		rmdir(dir);
	}
}

static void test_memcg(void)
{
	struct names n = { 0 };
	struct mml_meta *m = meta_new();
	struct idmap ids = { 0 };

	CHECK(m);
	CHECK(names_memcg(&n, 0, NULL, NULL) == NULL && n.walked == 0);	/* 0: no memcg, no walk */
	CHECK(names_memcg_now_id(&n, m, 0) == 0 && n.walked == 0);
	/* a path the trace has is never replaced by this machine's */
	meta_set_memcg(m, 5, "/from-trace");
	CHECK(names_memcg_now_id(&n, m, 5) == 0 && !meta_memcg_now(m, 5));
	idmap_put(&ids, 5, NULL);
	names_memcg_now(&n, m, &ids);
	CHECK(!strcmp(meta_memcg(m, 5), "/from-trace") && !meta_memcg_now(m, 5));
	/* an id no memcg has (inode numbers are far below this): stays unnamed */
	CHECK(names_memcg_now_id(&n, m, 1ull << 61) == 0 && !meta_memcg(m, 1ull << 61));
	idmap_free(&ids);
	names_fini(&n);
	meta_free(m);
}

int main(void)
{
	test_comms();
	test_memcg();
	if (fails)
		return 1;
	printf("test-names: ok\n");
	return 0;
}
