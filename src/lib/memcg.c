/* SPDX-License-Identifier: MIT */
/*
 * memcg.c: the memory cgroup path that events carry, looked up cheaply.
 *
 * The path is the memcg of the process that owns the address space
 * (mm->owner_pid; 0 or our own pid means this process), read from
 * /proc/<pid>/cgroup with this rule:
 *   1. if a cgroup v1 hierarchy has the memory controller (a line
 *      "N:...memory...:/path", N != 0), that path: it is the memcg;
 *   2. otherwise the cgroup v2 line "0::/path";
 *   3. otherwise "" (the kernel prints an empty path when it finds no memcg).
 * Paths are relative to the hierarchy's root, as the kernel's cgroup_path()
 * prints them, and cut at MEMCG_PATH_BUF_SIZE - 1 = 255 bytes.
 *
 * The kernel looks the path up on every event; reading a file per event
 * would cost microseconds here, so this process's path is cached:
 * - every lookup returns the cached entry;
 * - one lookup in MMAP_LOCK_MEMCG_CHECK_EVERY per thread reads the coarse
 *   monotonic clock, and if MMAP_LOCK_MEMCG_REFRESH_MS have passed since the
 *   last read, re-reads /proc/self/cgroup (one thread at a time: the others
 *   keep using the cached entry meanwhile);
 * - registration of an event's first probe and fork() force a re-read at the
 *   next lookup.
 * So after the process moves to another cgroup, events carry the new path
 * within 100 ms plus at most 16 events per thread. An address space owned by
 * another process is looked up without a cache (a file read per event).
 *
 * Every distinct path is interned once in a struct mml_memcg that is never
 * changed nor freed, and published with a release store: a probe may keep
 * the pointer, the recorder maps it back to an id. At most
 * MML_MEMCG_MAX_PATHS distinct paths are interned (bounded memory, about
 * 70 KiB); past that, a re-read that finds a new path keeps the old entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "trace-internal.h"

const struct mml_memcg mml_memcg_none = { .id = 0, .len = 0, .path = "" };

#if MMAPLOCK_TRACING && MMAPLOCK_MEMCG

static pthread_mutex_t intern_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct mml_memcg *interned;		/* atomic head, newest first */
static unsigned int ninterned;			/* under intern_mutex */
const struct mml_memcg *mml_memcg_current;	/* atomic: this process's path */
static long next_check_ms;			/* atomic: coarse clock of the next re-read */
int mml_memcg_stale;				/* atomic: re-read at the next lookup */
static pthread_mutex_t refresh_mutex = PTHREAD_MUTEX_INITIALIZER;

static long coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Parse the text of /proc/<pid>/cgroup (NUL-terminated) and copy the memcg
 * path by the rule above into out (MEMCG_PATH_BUF_SIZE bytes).
 */
static void parse_cgroup(const char *text, char *out)
{
	const char *v1 = NULL, *v2 = NULL, *line = text;
	size_t v1len = 0, v2len = 0;

	while (*line) {
		const char *eol = strchr(line, '\n');
		const char *c1 = strchr(line, ':'), *c2;

		if (!eol)
			eol = line + strlen(line);
		if (c1 && c1 < eol && (c2 = memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)))) {
			const char *ctl = c1 + 1;
			size_t ctllen = (size_t)(c2 - ctl);

			if (line[0] == '0' && c1 == line + 1 && ctllen == 0) {
				v2 = c2 + 1;
				v2len = (size_t)(eol - v2);
			} else {
				/* Is "memory" one of the comma-separated controllers? */
				const char *s = ctl;

				while (s < c2) {
					const char *e = memchr(s, ',', (size_t)(c2 - s));

					if (!e)
						e = c2;
					if (e - s == 6 && !memcmp(s, "memory", 6)) {
						v1 = c2 + 1;
						v1len = (size_t)(eol - v1);
					}
					s = e + 1;
				}
			}
		}
		line = *eol ? eol + 1 : eol;
	}
	if (!v1) {
		v1 = v2;
		v1len = v2len;
	}
	if (!v1)
		v1len = 0;
	if (v1len > MEMCG_PATH_BUF_SIZE - 1)
		v1len = MEMCG_PATH_BUF_SIZE - 1;
	if (v1len)
		memcpy(out, v1, v1len);
	out[v1len] = '\0';
}

/* Read /proc/<pid>/cgroup (pid 0: self) and parse it; "" if unreadable. */
static void read_memcg_path(int pid, char *out)
{
	char file[64], text[8192];
	size_t len = 0;
	int fd;

	if (pid)
		snprintf(file, sizeof(file), "/proc/%d/cgroup", pid);
	else
		strcpy(file, "/proc/self/cgroup");
	out[0] = '\0';
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (len < sizeof(text) - 1) {
		ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	parse_cgroup(text, out);
}

/* The interned entry for path (created if new); NULL when the table is full. */
static const struct mml_memcg *intern(const char *path)
{
	struct mml_memcg *m;
	size_t len = strlen(path);

	if (!len)
		return &mml_memcg_none;
	pthread_mutex_lock(&intern_mutex);
	for (m = interned; m; m = m->next)
		if (m->len == len && !memcmp(m->path, path, len))
			break;
	if (!m && ninterned < MML_MEMCG_MAX_PATHS && (m = calloc(1, sizeof(*m)))) {
		m->id = ++ninterned;
		m->len = (uint16_t)len;
		memcpy(m->path, path, len + 1);
		m->next = interned;
		__atomic_store_n(&interned, m, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&intern_mutex);
	return m;
}

const struct mml_memcg *mml_memcg_list(void)
{
	return __atomic_load_n(&interned, __ATOMIC_ACQUIRE);
}

void mml_memcg_invalidate(void)
{
	__atomic_store_n(&mml_memcg_stale, 1, __ATOMIC_RELEASE);
}

/* Re-read our own path; wait for a concurrent re-read only if we have nothing. */
static const struct mml_memcg *refresh(const struct mml_memcg *cur)
{
	char path[MEMCG_PATH_BUF_SIZE];
	const struct mml_memcg *m;

	if (cur) {
		if (pthread_mutex_trylock(&refresh_mutex))
			return cur;
	} else {
		pthread_mutex_lock(&refresh_mutex);
	}
	__atomic_store_n(&mml_memcg_stale, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&next_check_ms, coarse_ms() + MMAP_LOCK_MEMCG_REFRESH_MS,
			 __ATOMIC_RELAXED);
	read_memcg_path(0, path);
	m = intern(path);
	if (m)
		__atomic_store_n(&mml_memcg_current, m, __ATOMIC_RELEASE);
	else
		m = cur ? cur : &mml_memcg_none;	/* table full: keep what we had */
	pthread_mutex_unlock(&refresh_mutex);
	return m;
}

/*
 * The slow part of mml_memcg_lookup() (trace-internal.h): an address space
 * of another process, a forced re-read, or a clock check.
 */
const struct mml_memcg *mml_memcg_lookup_slow(const struct mm_struct *mm, struct mml_thread *t,
					      int why)
{
	const struct mml_memcg *cur = __atomic_load_n(&mml_memcg_current, __ATOMIC_ACQUIRE);

	if (why == MML_MEMCG_OTHER) {
		char path[MEMCG_PATH_BUF_SIZE];

		read_memcg_path(mm->owner_pid, path);
		cur = intern(path);
		return cur ? cur : &mml_memcg_none;
	}
	if (why == MML_MEMCG_TICK) {
		t->memcg_tick = 0;
		if (coarse_ms() < __atomic_load_n(&next_check_ms, __ATOMIC_RELAXED))
			return cur;
	}
	return refresh(cur);
}

#elif MMAPLOCK_TRACING /* tracing without memcg: every path is "" and never looked up */

void mml_memcg_invalidate(void)
{
}

const struct mml_memcg *mml_memcg_list(void)
{
	return NULL;
}

#endif
