/* SPDX-License-Identifier: MIT */
/*
 * test-memcg-move.c: the cached memcg path follows the process when it moves
 * to another cgroup, and is cut at exactly 255 bytes + NUL.
 *
 * Needs root and a cgroup hierarchy with the memory controller (v1 memory,
 * or v2); otherwise it says why and exits 77 (skipped). It makes, under the
 * process's own memcg:
 *   A = mmltest-<pid>-a
 *   B = mmltest-<pid>-bbbb...(200 b)/cccc...(100 c)   (a path over 255 bytes)
 * moves itself into A, then B, and locks until the events carry the new path
 * (the refresh bound is MMAP_LOCK_MEMCG_REFRESH_MS; the test allows 10 s
 * before calling it a failure, and prints how long it took). Then it checks
 * that registering a first probe re-reads the path at once, moves back and
 * removes what it made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>
#include "memcg-util.h"

static char seen[MEMCG_PATH_BUF_SIZE + 16];
static char root[4096], orig[4096], dir_a[8192], dir_b1[8192], dir_b[8400];
static int moved;

static void p_start(void *data, struct mm_struct *mm, const char *path, bool write)
{
	snprintf(seen, sizeof(seen), "%s", path);
}

/* Mount point of the hierarchy the rule uses: v1 with "memory", or cgroup2. */
static int find_mount(int kind, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[1024], *sep = strstr(line, " - "), fstype[64], src[256], opts[1024];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts) != 3)
			continue;
		if (kind == 1 && !strcmp(fstype, "cgroup")) {
			char *tok, *save;

			for (tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (!strcmp(tok, "memory"))
					found = 1;
		} else if (kind == 2 && !strcmp(fstype, "cgroup2")) {
			found = 1;
		}
		if (found)
			snprintf(out, len, "%s", mnt);
	}
	fclose(f);
	return found;
}

static int move_to(const char *dir)
{
	char file[8400], pid[32];
	int fd, n, ok;

	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	fd = open(file, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	ok = write(fd, pid, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

static void cleanup(void)
{
	char d[8192];

	if (moved) {
		snprintf(d, sizeof(d), "%s%s", root, orig);
		move_to(d);
	}
	rmdir(dir_b);
	rmdir(dir_b1);
	rmdir(dir_a);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Lock until the events carry want; returns seconds it took, or -1 after 10 s. */
static double wait_for_path(struct mm_struct *mm, const char *want)
{
	double t0 = now_s();

	for (int i = 0; i < 2000; i++) {
		mmap_read_lock(mm);
		mmap_read_unlock(mm);
		if (!strcmp(seen, want))
			return now_s() - t0;
		usleep(5000);
	}
	return -1;
}

int main(void)
{
	struct mm_struct mm;
	char bname[256], cname[128], want[8192], cut[MEMCG_PATH_BUF_SIZE], d[8192];
	int kind, fails = 0;
	double t;

#if !MMAPLOCK_TRACING || !MMAPLOCK_MEMCG
	printf("test-memcg-move: built without tracing or memcg: no path to follow\n");
	(void)p_start;
	return 77;
#endif
	if (geteuid() != 0) {
		printf("test-memcg-move: needs root to make and enter cgroups\n");
		return 77;
	}
	kind = test_memcg_path(orig, sizeof(orig));
	if (!kind || !find_mount(kind, root, sizeof(root))) {
		printf("test-memcg-move: no cgroup hierarchy with the memory controller\n");
		return 77;
	}
	if (!strcmp(orig, "/"))
		orig[0] = '\0';
	memset(bname, 'b', 200);
	bname[200] = '\0';
	memset(cname, 'c', 100);
	cname[100] = '\0';
	snprintf(dir_a, sizeof(dir_a), "%s%s/mmltest-%d-a", root, orig, (int)getpid());
	snprintf(dir_b1, sizeof(dir_b1), "%s%s/mmltest-%d-%s", root, orig, (int)getpid(), bname);
	snprintf(dir_b, sizeof(dir_b), "%s/%s", dir_b1, cname);
	atexit(cleanup);
	if (mkdir(dir_a, 0755) || mkdir(dir_b1, 0755) || mkdir(dir_b, 0755)) {
		printf("test-memcg-move: cannot make cgroups under %s%s: %s\n", root, orig,
		       strerror(errno));
		return 77;
	}
	mmap_init_lock(&mm);
	if (register_trace_mmap_lock_start_locking(p_start, NULL)) {
		fprintf(stderr, "test-memcg-move: register failed\n");
		return 1;
	}

	/* One event first, so that the move below is found by the periodic re-read. */
	mmap_read_lock(&mm);
	mmap_read_unlock(&mm);
	if (move_to(dir_a)) {
		printf("test-memcg-move: cannot move into %s: %s\n", dir_a, strerror(errno));
		return 77;
	}
	moved = 1;
	snprintf(want, sizeof(want), "%s/mmltest-%d-a", orig, (int)getpid());
	t = wait_for_path(&mm, want);
	if (t < 0) {
		fprintf(stderr, "test-memcg-move: after moving to %s events still say '%s'\n", want,
			seen);
		fails++;
	} else {
		printf("test-memcg-move: path followed the move to A in %.0f ms\n", t * 1000);
	}

	if (move_to(dir_b)) {
		fprintf(stderr, "test-memcg-move: cannot move into the long cgroup: %s\n",
			strerror(errno));
		return 1;
	}
	snprintf(want, sizeof(want), "%s/mmltest-%d-%s/%s", orig, (int)getpid(), bname, cname);
	if (strlen(want) <= MEMCG_PATH_BUF_SIZE - 1) {
		fprintf(stderr, "test-memcg-move: long path is only %zu bytes\n", strlen(want));
		return 1;
	}
	memcpy(cut, want, MEMCG_PATH_BUF_SIZE - 1);	/* 255 bytes + NUL */
	cut[MEMCG_PATH_BUF_SIZE - 1] = '\0';
	t = wait_for_path(&mm, cut);
	if (t < 0 || strlen(seen) != MEMCG_PATH_BUF_SIZE - 1) {
		fprintf(stderr, "test-memcg-move: long path: events say '%s' (%zu bytes), want the "
			"first 255 bytes of '%s'\n", seen, strlen(seen), want);
		fails++;
	} else {
		printf("test-memcg-move: %zu-byte path cut to 255 bytes, in %.0f ms\n", strlen(want),
		       t * 1000);
	}
	/* The same through mmap_lock_get_memcg_path(), with a full-size buffer. */
	memset(d, 'x', sizeof(d));
	if (mmap_lock_get_memcg_path(&mm, d, MEMCG_PATH_BUF_SIZE) != MEMCG_PATH_BUF_SIZE - 1 ||
	    strcmp(d, cut) || d[MEMCG_PATH_BUF_SIZE] != 'x') {
		fprintf(stderr, "test-memcg-move: get_memcg_path at the bound: '%s'\n", d);
		fails++;
	}

	/* A first listener re-reads at once: no stale path, no waiting. */
	unregister_trace_mmap_lock_start_locking(p_start, NULL);
	snprintf(d, sizeof(d), "%s%s", root, orig);
	if (move_to(d)) {
		fprintf(stderr, "test-memcg-move: cannot move back: %s\n", strerror(errno));
		return 1;
	}
	moved = 0;
	register_trace_mmap_lock_start_locking(p_start, NULL);
	mmap_write_lock(&mm);
	mmap_write_unlock(&mm);
	if (strcmp(seen, orig[0] ? orig : "/")) {
		fprintf(stderr, "test-memcg-move: first event after registration says '%s', want '%s'\n",
			seen, orig[0] ? orig : "/");
		fails++;
	}
	unregister_trace_mmap_lock_start_locking(p_start, NULL);
	if (fails)
		return 1;
	printf("test-memcg-move: ok\n");
	return 0;
}
