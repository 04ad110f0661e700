/* SPDX-License-Identifier: MIT */
/*
 * instance.c: the life and death of the recorder's tracefs instance (see
 * instance.h): removal that copes with the kernel still holding the
 * instance's files, the watchdog that outlives a killed recorder, the scan
 * for instances of dead runs, and close-on-exec for libtracefs's
 * descriptors.
 *
 * Races: rmdir of an instance fails with EBUSY while any process has one of
 * its files open; a process that dies closes its descriptors during exit,
 * after which the pipe to the watchdog reads EOF - but in descriptor order,
 * so the watchdog may wake first. Hence the retries.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tracefs/tracefs.h>
#include "instance.h"
#include "watchdog.h"

static int pid_alive(pid_t p)
{
	return kill(p, 0) == 0 || errno == EPERM;
}

void instance_destroy(struct tracefs_instance *ti)
{
	tracefs_instance_file_write(ti, "tracing_on", "0");
	tracefs_event_disable(ti, NULL, NULL);
	tracefs_instance_file_write(ti, "set_event_pid", "");
	tracefs_instance_destroy(ti);
}

/* Remove name, retrying while the kernel still holds its files open (EBUSY). */
int instance_destroy_named(const char *name, int tries)
{
	for (int i = 0; i < tries; i++) {
		if (!tracefs_instance_exists(name))
			return 0;
		struct tracefs_instance *ti = tracefs_instance_alloc(NULL, name);
		if (ti) {
			instance_destroy(ti);
			tracefs_instance_free(ti);
		}
		if (!tracefs_instance_exists(name))
			return 0;
		poll(NULL, 0, 50);
	}
	return -1;
}

int instance_cleanup_stale(const char *prefix, const char *prog)
{
	char dir[4096];
	const char *t = tracefs_tracing_dir();
	int n = 0;

	if (!t)
		return 0;
	snprintf(dir, sizeof(dir), "%s/instances", t);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *num = e->d_name + strlen(prefix);
		char *end;
		if (strncmp(e->d_name, prefix, strlen(prefix)) || !*num)
			continue;
		long p = strtol(num, &end, 10);
		if (*end || p <= 0 || p > INT_MAX || pid_alive((pid_t)p))
			continue;
		/* said, not done silently: it may hold a run someone wants to know about */
		if (!instance_destroy_named(e->d_name, 1)) {
			fprintf(stderr, "%s: removed the tracefs instance %s left by a run that died (pid %ld)\n",
				prog, e->d_name, p);
			n++;
		} else {
			fprintf(stderr, "%s: cannot remove the tracefs instance %s left by a run that died (pid %ld): %s\n",
				prog, e->d_name, p, strerror(errno ? errno : EBUSY));
		}
	}
	closedir(d);
	return n;
}

/* The watchdog's clean-up: the dying parent may still be closing its trace_pipe_raw files. */
static int destroy_gone(void *name)
{
	return instance_destroy_named(name, 100) ? 1 : 0;
}

pid_t instance_watchdog(const char *name, int *wfd)
{
	return watchdog_fork(destroy_gone, (void *)name, wfd);
}

/*
 * libtracefs opens trace_pipe_raw without O_CLOEXEC: a CMD that inherited
 * those descriptors would keep the instance busy (rmdir: EBUSY) after we
 * are gone. Mark every descriptor on the tracing file system close-on-exec.
 */
void instance_cloexec_fds(void)
{
	const char *t = tracefs_tracing_dir();
	char link[64], target[4096];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d || !t)
		goto out;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strncmp(target, t, strlen(t)))
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
out:
	if (d)
		closedir(d);
}
