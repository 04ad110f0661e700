/* SPDX-License-Identifier: MIT */
/*
 * test-textlog.c: the text listener prints one line per event, in the
 * kernel's format with ftrace's task prefix, in order, and nothing once
 * stopped:
 *   "<comm>-<tid> [<cpu>] ..... <s>.<us>: mmap_lock_acquire_returned: mm=<hex> memcg_path=<p> write=true success=false"
 * Each line is parsed back field by field and compared with what the test
 * did. Also: -EBUSY when already started, -EINVAL for NULL, and
 * MMAPLOCK_TRACE_TEXT=FILE (checked by running the test again as a child).
 * Without tracing: start returns -ENOSYS and the env variable prints nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>
#include "memcg-util.h"

#include "test-util.h"

struct line {
	char comm[32];
	int tid, cpu;
	double ts;
	char event[64];
	unsigned long mm;
	char path[MEMCG_PATH_BUF_SIZE];
	int write, success;	/* success: -1 when absent */
};

/* Parse one line; 0 on success. */
static int parse(const char *s, struct line *l)
{
	const char *br = strstr(s, " ["), *dash, *p;
	char tail[512];
	int n;

	memset(l, 0, sizeof(*l));
	if (!br)
		return -1;
	for (dash = br; dash > s && *dash != '-'; dash--)
		;
	if (*dash != '-')
		return -1;
	p = s;
	while (*p == ' ')
		p++;
	if (dash - p <= 0 || dash - p >= (int)sizeof(l->comm))
		return -1;
	memcpy(l->comm, p, (size_t)(dash - p));
	if (sscanf(dash + 1, "%d [%d] ..... %lf: %63[^:]: mm=%lx memcg_path=%n", &l->tid, &l->cpu,
		   &l->ts, l->event, &l->mm, &n) != 5)
		return -1;
	p = dash + 1 + n;
	/* The path runs up to " write=". */
	{
		const char *w = strstr(p, " write=");

		if (!w || w - p >= MEMCG_PATH_BUF_SIZE)
			return -1;
		memcpy(l->path, p, (size_t)(w - p));
		p = w + 1;
	}
	snprintf(tail, sizeof(tail), "%s", p);
	tail[strcspn(tail, "\n")] = '\0';
	l->success = -1;
	if (!strcmp(tail, "write=true"))
		l->write = 1;
	else if (!strcmp(tail, "write=false"))
		l->write = 0;
	else if (!strcmp(tail, "write=true success=true"))
		l->write = 1, l->success = 1;
	else if (!strcmp(tail, "write=true success=false"))
		l->write = 1, l->success = 0;
	else if (!strcmp(tail, "write=false success=true"))
		l->write = 0, l->success = 1;
	else if (!strcmp(tail, "write=false success=false"))
		l->write = 0, l->success = 0;
	else
		return -1;
	return 0;
}

static struct mm_struct mm;
static int other_tid;

static void *other(void *arg)
{
	other_tid = __mml_gettid();
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	return NULL;
}

/* The workload: 9 lines from this thread, 3 from another. */
static void workload(void)
{
	pthread_t th;

	mmap_write_lock(&mm);			/* start(w), acq(w,1) */
	(void)mmap_read_trylock(&mm);		/* start(r), acq(r,0) */
	mmap_write_downgrade(&mm);		/* acq(r,1) */
	mmap_read_unlock(&mm);			/* rel(r) */
	pthread_create(&th, NULL, other, NULL);	/* start(r), acq(r,1), rel(r) */
	pthread_join(th, NULL);
	mmap_write_lock(&mm);			/* start(w), acq(w,1) */
	mmap_write_unlock(&mm);			/* rel(w) */
}

static const struct {
	const char *event;
	int write, success, other;
} want[] = {
	{ "mmap_lock_start_locking", 1, -1, 0 },
	{ "mmap_lock_acquire_returned", 1, 1, 0 },
	{ "mmap_lock_start_locking", 0, -1, 0 },
	{ "mmap_lock_acquire_returned", 0, 0, 0 },
	{ "mmap_lock_acquire_returned", 0, 1, 0 },
	{ "mmap_lock_released", 0, -1, 0 },
	{ "mmap_lock_start_locking", 0, -1, 1 },
	{ "mmap_lock_acquire_returned", 0, 1, 1 },
	{ "mmap_lock_released", 0, -1, 1 },
	{ "mmap_lock_start_locking", 1, -1, 0 },
	{ "mmap_lock_acquire_returned", 1, 1, 0 },
	{ "mmap_lock_released", 1, -1, 0 },
};
#define NWANT ((int)(sizeof(want) / sizeof(want[0])))

static void check_lines(const char *what, FILE *f, int self_tid, unsigned long want_mm,
			const char *path)
{
	char buf[1024];
	int i = 0;
	double last = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	rewind(f);
	while (fgets(buf, sizeof(buf), f)) {
		struct line l;

		if (i >= NWANT) {
			CHECK_SOFT(0, "%s: extra line: %s", what, buf);
			break;
		}
		if (parse(buf, &l)) {
			CHECK_SOFT(0, "%s: line %d does not parse: %s", what, i, buf);
			i++;
			continue;
		}
		CHECK_SOFT(!strcmp(l.event, want[i].event), "%s: line %d: %s, want %s", what, i, l.event,
		      want[i].event);
		CHECK_SOFT(l.write == want[i].write && l.success == want[i].success,
		      "%s: line %d: write %d success %d", what, i, l.write, l.success);
		CHECK_SOFT(l.mm == want_mm, "%s: line %d: mm %lx, want %lx", what, i, l.mm, want_mm);
		CHECK_SOFT(l.tid == (want[i].other ? other_tid : self_tid) || (want[i].other && !other_tid),
		      "%s: line %d: tid %d", what, i, l.tid);
		CHECK_SOFT(!strcmp(l.comm, "test-textlog"), "%s: line %d: comm '%s'", what, i, l.comm);
		CHECK_SOFT(l.cpu >= 0 && l.cpu < ncpu, "%s: line %d: cpu %d", what, i, l.cpu);
		CHECK_SOFT(l.ts >= last, "%s: line %d: time goes back", what, i);
		CHECK_SOFT(!strcmp(l.path, path), "%s: line %d: path '%s', want '%s'", what, i, l.path,
		      path);
		last = l.ts;
		i++;
	}
	CHECK_SOFT(i == NWANT, "%s: %d lines, want %d", what, i, NWANT);
}

int main(int argc, char **argv)
{
	char path[8192];
	FILE *f;

	mmap_init_lock(&mm);
	if (argc > 1 && !strcmp(argv[1], "child")) {
		workload();
		printf("tid %d other %d mm %p\n", (int)__mml_gettid(), other_tid, (void *)&mm);
		return 0;
	}
	test_memcg_path(path, sizeof(path));
	path[MEMCG_PATH_BUF_SIZE - 1] = '\0';
	if (!MMAPLOCK_MEMCG)
		path[0] = '\0';

#if MMAPLOCK_TRACING
	f = tmpfile();
	CHECK_SOFT(mmap_lock_text_listener_start(NULL) == -EINVAL, "NULL stream");
	CHECK_SOFT(mmap_lock_text_listener_start(f) == 0, "start");
	CHECK_SOFT(mmap_lock_text_listener_start(stderr) == -EBUSY, "second start");
	workload();
	mmap_lock_text_listener_stop();
	mmap_write_lock(&mm);	/* after stop: no line */
	mmap_write_unlock(&mm);
	check_lines("api", f, __mml_gettid(), (unsigned long)(uintptr_t)&mm, path);
	fclose(f);
	CHECK_SOFT(mmap_lock_reg_refcount() == 0, "listener left probes behind");
#else
	f = stderr;
	CHECK_SOFT(mmap_lock_text_listener_start(f) == -ENOSYS, "tracing off: start");
	mmap_lock_text_listener_stop();
#endif

	/* MMAPLOCK_TRACE_TEXT=FILE, in a child. */
	{
		char file[64], line[256];
		int out[2], status, tid = 0, otid = 0;
		unsigned long m = 0;
		pid_t pid;
		FILE *o;

		snprintf(file, sizeof(file), "/tmp/test-textlog-%d.txt", (int)getpid());
		if (pipe(out))
			return 1;
		pid = fork();
		if (pid == 0) {
			dup2(out[1], 1);
			close(out[0]);
			setenv("MMAPLOCK_TRACE_TEXT", file, 1);
			/* Exec the real path, so that the child's comm is "test-textlog". */
			char self[4096];
			ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);

			self[k > 0 ? k : 0] = '\0';
			execl(self, "test-textlog", "child", (char *)NULL);
			_exit(127);
		}
		close(out[1]);
		o = fdopen(out[0], "r");
		if (!fgets(line, sizeof(line), o) ||
		    sscanf(line, "tid %d other %d mm %lx", &tid, &otid, &m) != 3)
			CHECK_SOFT(0, "env: child said nothing useful");
		fclose(o);
		waitpid(pid, &status, 0);
		CHECK_SOFT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "env: child failed");
		f = fopen(file, "r");
#if MMAPLOCK_TRACING
		CHECK_SOFT(f != NULL, "env: no file %s", file);
		if (f) {
			/* The child's mm and tids are its own: compare through them. */
			other_tid = otid;
			check_lines("env", f, tid, m, path);
			fclose(f);
		}
#else
		CHECK_SOFT(f == NULL, "tracing off: MMAPLOCK_TRACE_TEXT wrote a file");
		if (f)
			fclose(f);
		(void)check_lines;
#endif
		unlink(file);
	}
	if (test_failures) {
		fprintf(stderr, "test-textlog: %d failures\n", test_failures);
		return 1;
	}
	printf("test-textlog: ok\n");
	return 0;
}
