/* SPDX-License-Identifier: MIT */
/*
 * test-check-lib: `mmaplock check` on the recording of a real libmmaplock
 * program with an ABBA order inversion.
 *
 * The test runs itself again (/proc/self/exe MODE) with MMAPLOCK_TRACE set.
 * There two threads lock two mms: the first A then B, the second B then A,
 * one after the other (so the program never deadlocks, yet both orders are
 * in the trace). The outer locks are write locks; the inner ones are write
 * locks (MODE "write": what fork's dup_mmap() looks like in a kernel trace,
 * which a library recording must never be read as) or read locks (MODE
 * "read"). Then `mmaplock check` (text and --json) must exit 1 with exactly
 * one order_inversion: the second thread, holding B, takes A; the first
 * took B while holding A.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <mmaplock/config.h>
#include <mmaplock/mmap_lock.h>

#include "test-util.h"

extern char **environ;

/* ------------------------------------------------------------ the program */

static struct mm_struct mm_a, mm_b;
static int inner_write;

struct order {
	struct mm_struct *outer, *inner;
};

static void *locker(void *arg)
{
	const struct order *o = arg;

	mmap_write_lock(o->outer);
	if (inner_write) {
		mmap_write_lock(o->inner);
		mmap_write_unlock(o->inner);
	} else {
		mmap_read_lock(o->inner);
		mmap_read_unlock(o->inner);
	}
	mmap_write_unlock(o->outer);
	return NULL;
}

/* Two threads, A -> B then B -> A. Prints the mms' addresses for the test. */
static int program(const char *mode)
{
	struct order ab = { &mm_a, &mm_b }, ba = { &mm_b, &mm_a };
	pthread_t t;

	inner_write = !strcmp(mode, "write");
	mmap_init_lock(&mm_a);
	mmap_init_lock(&mm_b);
	printf("%" PRIxPTR " %" PRIxPTR "\n", (uintptr_t)&mm_a, (uintptr_t)&mm_b);
	fflush(stdout);
	if (pthread_create(&t, NULL, locker, &ab) || pthread_join(t, NULL) ||
	    pthread_create(&t, NULL, locker, &ba) || pthread_join(t, NULL))
		return 1;
	return 0;
}

/* ------------------------------------------------------------ the test */

/* Run argv with stdout to out (envp: extra "K=V" or NULL). Returns the exit status. */
static int run(char *const argv[], const char *out, const char *env)
{
	posix_spawn_file_actions_t fa;
	char **envp = environ;
	int status;
	pid_t pid;

	if (env) {
		size_t n = 0;
		while (environ[n])
			n++;
		envp = calloc(n + 2, sizeof(*envp));
		CHECK(envp);
		memcpy(envp, environ, n * sizeof(*envp));
		envp[n] = (char *)env;
	}
	CHECK(posix_spawn_file_actions_init(&fa) == 0);
	CHECK(posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644) == 0);
	CHECK(posix_spawn(&pid, argv[0], &fa, NULL, argv, envp) == 0);
	posix_spawn_file_actions_destroy(&fa);
	if (env)
		free(envp);
	CHECK(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	CHECK(f && buf);
	if (fread(buf, 1, (1 << 16) - 1, f) == 0)
		buf[0] = 0;
	fclose(f);
	return buf;
}

static int contains(const char *hay, const char *needle, const char *what)
{
	if (strstr(hay, needle))
		return 1;
	fprintf(stderr, "test-check-lib: %s: no \"%s\" in:\n%s\n", what, needle, hay);
	return 0;
}

static void one_mode(const char *tool, const char *dir, const char *mode)
{
	char trace[512], out[512], env[600], want[256];
	char *self[] = { "/proc/self/exe", (char *)mode, NULL };
	char *text[] = { (char *)tool, "check", trace, NULL };
	char *json[] = { (char *)tool, "check", "--json", trace, NULL };
	unsigned long a, b;
	char *s;
	int rc;

	snprintf(trace, sizeof(trace), "%s/%s.mml", dir, mode);
	snprintf(out, sizeof(out), "%s/%s.out", dir, mode);
	snprintf(env, sizeof(env), "MMAPLOCK_TRACE=%s", trace);
	CHECK_EQ(run(self, out, env), 0);
	s = slurp(out);
	CHECK(sscanf(s, "%lx %lx", &a, &b) == 2);
	free(s);
	if (access(trace, F_OK))
		skip("MMAPLOCK_TRACE wrote no file (tracing compiled out?)");

	/* text: the second thread holds B and takes A; the first took B holding A */
	rc = run(text, out, NULL);
	s = slurp(out);
	CHECK_SOFT(rc == 1, "%s: check exit %d, not 1", mode, rc);
	CHECK_SOFT(contains(s, " 1 findings, order_inversion 1\n", mode), "%s: findings", mode);
	snprintf(want, sizeof(want), "order_inversion: ");
	CHECK_SOFT(contains(s, want, mode), "%s", mode);
	snprintf(want, sizeof(want), " mm 0x%lx at ", b);	/* after comm[tid] and its memcg */
	CHECK_SOFT(contains(s, want, mode), "%s: the finding's mm is the one held", mode);
	snprintf(want, sizeof(want), ": takes mm 0x%lx (%s) while holding mm 0x%lx; ", a, mode, b);
	CHECK_SOFT(contains(s, want, mode), "%s: text names what it takes and holds", mode);
	snprintf(want, sizeof(want), "] took mm 0x%lx while holding mm 0x%lx at ", b, a);
	CHECK_SOFT(contains(s, want, mode), "%s: text names the other order", mode);
	free(s);

	/* JSON: mm held, mm2 taken, write the mode taken in */
	rc = run(json, out, NULL);
	s = slurp(out);
	CHECK_SOFT(rc == 1, "%s: check --json exit %d, not 1", mode, rc);
	CHECK_SOFT(contains(s, "\"findings_total\": 1,", mode), "%s", mode);
	snprintf(want, sizeof(want), "\"kind\": \"order_inversion\"");
	CHECK_SOFT(contains(s, want, mode), "%s", mode);
	snprintf(want, sizeof(want), "\"mm\": \"0x%lx\"", b);
	CHECK_SOFT(contains(s, want, mode), "%s", mode);
	snprintf(want, sizeof(want), "\"write\": %s", strcmp(mode, "write") ? "false" : "true");
	CHECK_SOFT(contains(s, want, mode), "%s", mode);
	snprintf(want, sizeof(want), "\"mm2\": \"0x%lx\"", a);
	CHECK_SOFT(contains(s, want, mode), "%s", mode);
	free(s);
}

int main(int argc, char **argv)
{
	const char *build = getenv("MMAPLOCK_BUILD");
	char tool[512], dir[] = "/tmp/mml-check-lib.XXXXXX", cmd[600];

	if (argc == 2)
		return program(argv[1]);
	if (!MMAPLOCK_TRACING)
		skip("libmmaplock built without tracing");
	if (!build)
		skip("MMAPLOCK_BUILD not set (run through ctest)");
	snprintf(tool, sizeof(tool), "%s/mmaplock", build);
	if (access(tool, X_OK))
		skip("%s: not built", tool);
	watchdog(120);
	CHECK(mkdtemp(dir));
	one_mode(tool, dir, "write");
	one_mode(tool, dir, "read");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "test-check-lib: could not remove %s\n", dir);
	if (test_failures)
		return 1;
	printf("test-check-lib: ok\n");
	return 0;
}
