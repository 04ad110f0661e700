/* SPDX-License-Identifier: MIT */
/*
 * cmdpath.c: execvp()'s lookup of a command, without the exec (cmdpath.h).
 * Used by `record` and `stat` to refuse a CMD that cannot run before any
 * tracefs instance is made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cmdpath.h"

/* 0 if PATH names an executable regular file, else why not */
static int runnable(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno;
	if (S_ISDIR(st.st_mode))
		return EISDIR;
	if (!S_ISREG(st.st_mode) || access(path, X_OK))
		return EACCES;
	return 0;
}

int cmdpath_check(const char *cmd)
{
	const char *dirs = getenv("PATH");
	char path[PATH_MAX];
	int why = ENOENT;

	if (!cmd || !*cmd)
		return ENOENT;
	if (strchr(cmd, '/'))
		return runnable(cmd);
	if (!dirs)
		dirs = "/bin:/usr/bin";
	for (const char *d = dirs;; d++) {
		const char *end = strchrnul(d, ':');
		int len = (int)(end - d);
		/* an empty entry means the current directory, as for execvp */
		if (snprintf(path, sizeof(path), "%.*s%s%s", len, d, len ? "/" : "", cmd) <
		    (int)sizeof(path)) {
			int r = runnable(path);
			if (!r)
				return 0;
			if (r == EACCES)	/* execvp reports EACCES if no later hit */
				why = EACCES;
		}
		if (!*end)
			break;
		d = end;
	}
	return why;
}
