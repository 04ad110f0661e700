/* SPDX-License-Identifier: MIT */
/*
 * cgroupfs.c: memcg ids and task metadata from the cgroup file system and
 * /proc (see cgroupfs.h).
 *
 * The hierarchy is found once from /proc/self/mountinfo: a cgroup (v1)
 * mount whose super options name `memory` wins; otherwise a cgroup2 mount.
 * Walking uses nftw-like recursion with openat so deep trees cost one
 * descriptor per level. Races: cgroups appear and vanish during a walk; a
 * directory that vanishes is skipped, one that appears after is found by
 * the next walk (record walks again when it meets an unknown id).
 *
 * The same walk names the ids of a trace read later on this machine
 * (names.h, names_memcg_now): text and trace.dat inputs carry ids without
 * paths. That answer is about the system now, and ids are inode numbers,
 * which the kernel reuses: hence the mark meta keeps on such a path.
 */
#define _GNU_SOURCE		/* open_by_handle_at() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroupfs.h"

static char root[512];
static int v1, looked;

static void find_root(void)
{
	char line[4096], v2[512] = "";
	FILE *f;

	if (looked)
		return;
	looked = 1;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts ... - fstype source superopts */
		char mnt[512], fstype[64], super[1024];
		char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1)
			continue;
		if (sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup")) {
			char *s, *save = NULL;
			for (s = strtok_r(super, ",", &save); s; s = strtok_r(NULL, ",", &save))
				if (!strcmp(s, "memory") && !root[0]) {
					snprintf(root, sizeof(root), "%s", mnt);
					v1 = 1;
				}
		} else if (!strcmp(fstype, "cgroup2") && !v2[0]) {
			snprintf(v2, sizeof(v2), "%s", mnt);
		}
	}
	fclose(f);
	if (!root[0] && v2[0])
		snprintf(root, sizeof(root), "%s", v2);
}

const char *cgroupfs_memcg_root(void)
{
	find_root();
	return root[0] ? root : NULL;
}

int cgroupfs_is_v1(void)
{
	find_root();
	return v1;
}

static long walk(int dfd, char *rel, size_t len, size_t cap,
		 void (*fn)(uint64_t, const char *, void *), void *arg)
{
	struct stat st;
	long n = 0;

	if (fstat(dfd, &st))
		return 0;
	fn((uint64_t)st.st_ino, len ? rel : "/", arg);
	n++;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return n;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		size_t l = strlen(e->d_name);
		if (len + 1 + l + 1 > cap)
			continue;
		int cfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;		/* vanished meanwhile */
		rel[len] = '/';
		memcpy(rel + len + 1, e->d_name, l + 1);
		n += walk(cfd, rel, len + 1 + l, cap, fn, arg);
		rel[len] = '\0';
	}
	closedir(d);
	return n;
}

long cgroupfs_walk(void (*fn)(uint64_t id, const char *path, void *arg), void *arg)
{
	const char *r = cgroupfs_memcg_root();
	char rel[4096] = "";

	if (!r) {
		errno = ENOENT;
		return -1;
	}
	int fd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return walk(fd, rel, 0, sizeof(rel), fn, arg);
}

int cgroupfs_resolve(const char *arg, uint64_t *id, char *rel, size_t rellen)
{
	const char *r = cgroupfs_memcg_root();
	char full[4096];
	struct stat st;
	size_t rl;

	if (!r) {
		errno = ENOENT;
		return -1;
	}
	rl = strlen(r);
	if (!strncmp(arg, r, rl) && (arg[rl] == '/' || arg[rl] == '\0'))
		snprintf(full, sizeof(full), "%s", arg);
	else
		snprintf(full, sizeof(full), "%s/%s", r, arg[0] == '/' ? arg + 1 : arg);
	if (stat(full, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	*id = (uint64_t)st.st_ino;
	const char *p = full + rl;
	while (p[0] == '/' && p[1] == '/')
		p++;
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	snprintf(rel, rellen, "%.*s", (int)n, n ? p : "/");
	if (!n)
		snprintf(rel, rellen, "/");
	return 0;
}

int cgroupfs_task(pid_t tid, struct cg_task *t)
{
	char path[64], line[1024];
	FILE *f;
	int ok = 0;

	memset(t, 0, sizeof(*t));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:\t", 6)) {
			line[strcspn(line, "\n")] = '\0';
			size_t l = strnlen(line + 6, sizeof(t->comm) - 1);
			memcpy(t->comm, line + 6, l);
			t->comm[l] = '\0';
			ok |= 1;
		} else if (!strncmp(line, "Tgid:", 5)) {
			t->tgid = (uint32_t)strtoul(line + 5, NULL, 10);
			ok |= 2;
			break;
		}
	}
	fclose(f);
	if (ok != 3)
		return -1;

	find_root();
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* hierarchy-id:controllers:path */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		int match = 0;
		if (v1) {
			char *s, *save = NULL;
			for (s = strtok_r(c1 + 1, ",", &save); s; s = strtok_r(NULL, ",", &save))
				if (!strcmp(s, "memory"))
					match = 1;
		} else {
			match = !strcmp(line, "0") && c1[1] == '\0';
		}
		if (!match)
			continue;
		char *p = c2 + 1;
		p[strcspn(p, "\n")] = '\0';
		snprintf(t->cgroup, sizeof(t->cgroup), "%s", p);
		char full[1100];
		struct stat st;
		snprintf(full, sizeof(full), "%s%s", root, p);
		if (!stat(full, &st))
			t->cgroup_id = (uint64_t)st.st_ino;
		break;
	}
	fclose(f);
	return 0;
}

/* the kernfs file handle type (the kernel's FILEID_KERNFS): a cgroup's by its id */
#define MML_FILEID_KERNFS	0xfe

void cgroupfs_ids_init(struct cgroupfs_ids *c)
{
	memset(c, 0, sizeof(*c));
	c->rootfd = -1;
}

void cgroupfs_ids_pass(struct cgroupfs_ids *c)
{
	idmap_free(&c->ids);
	memset(&c->ids, 0, sizeof(c->ids));
	c->walked = 0;
}

static void walked_one(uint64_t id, const char *path, void *arg)
{
	idmap_put(arg, id, NULL);
}

int cgroupfs_id_gone(struct cgroupfs_ids *c, uint64_t id)
{
	uint64_t h[3] = { 0 };	/* struct file_handle (two ints), then the id */
	struct file_handle *fh = (struct file_handle *)h;
	int fd;

	if (c->rootfd == -1) {
		const char *top = cgroupfs_memcg_root();
		c->rootfd = top ? open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (c->rootfd < 0)
			c->rootfd = -2;
	}
	if (c->rootfd >= 0 && !c->no_fh) {
		fh->handle_bytes = sizeof(id);
		fh->handle_type = MML_FILEID_KERNFS;
		h[1] = id;
		if ((fd = open_by_handle_at(c->rootfd, fh, O_RDONLY | O_CLOEXEC)) >= 0) {
			close(fd);
			return 0;
		}
		if (errno == ESTALE || errno == ENOENT)
			return 1;
		c->no_fh = 1;	/* not here (no CAP_DAC_READ_SEARCH, old kernel): walk */
	}
	if (!c->walked)
		c->walked = cgroupfs_walk(walked_one, &c->ids) > 0 ? 1 : -1;
	return c->walked > 0 && idmap_find(&c->ids, id) < 0;
}

void cgroupfs_ids_fini(struct cgroupfs_ids *c)
{
	idmap_free(&c->ids);
	if (c->rootfd >= 0)
		close(c->rootfd);
	c->rootfd = -1;
}
