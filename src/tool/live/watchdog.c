/* SPDX-License-Identifier: MIT */
/* watchdog.c: a process that cleans up after us if we die (watchdog.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "watchdog.h"

pid_t watchdog_fork(int (*gone)(void *arg), void *arg, int *wfd)
{
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[0]);
		*wfd = p[1];
		return pid;
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int null = open("/dev/null", O_RDWR);
	for (int fd = 0; fd < 1024; fd++)
		if (fd != p[0] && fd != null)
			close(fd);
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		dup2(null, fd);
	ssize_t n;
	while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
		;
	_exit(n == 0 ? gone(arg) : 0);
}

static void reap(pid_t pid, int wfd)
{
	close(wfd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void watchdog_done(pid_t pid, int wfd)
{
	if (pid <= 0)
		return;
	while (write(wfd, "d", 1) < 0 && errno == EINTR)
		;
	reap(pid, wfd);
}

void watchdog_release(pid_t pid, int wfd)
{
	if (pid > 0)
		reap(pid, wfd);
	else if (wfd >= 0)
		close(wfd);
}
