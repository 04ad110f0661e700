/* SPDX-License-Identifier: MIT */
/*
 * outfile.c: write beside, rename on success (outfile.h).
 *
 * The temporaries being written are kept in a small table that a signal
 * handler can read: SIGINT, SIGTERM and SIGHUP, when nobody else handles
 * them, unlink what is there and then die of the signal as before. A
 * command with its own handlers (record, exporter) stops in normal context
 * and aborts its outfile there. No fsync before the rename: the files are
 * reports, and a crash of the machine leaves the old one or the new one,
 * never a mix, on the file systems that order rename after the data
 * (ext4's auto_da_alloc, xfs, btrfs).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "outfile.h"
#include "source.h"

#define NLIVE 4

static char *volatile live[NLIVE];	/* temporaries being written */

static void on_signal(int sig)
{
	for (int i = 0; i < NLIVE; i++)
		if (live[i])
			unlink(live[i]);
	signal(sig, SIG_DFL);
	raise(sig);		/* delivered when the handler returns: the usual death */
}

static void install_once(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static int done;
	struct sigaction old, sa;

	if (done)
		return;
	done = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_DFL)
			sigaction(sigs[i], &sa, NULL);
}

static void track(char *tmp, int on)
{
	for (int i = 0; i < NLIVE; i++)
		if (on ? !live[i] : live[i] == tmp) {
			live[i] = on ? tmp : NULL;
			return;
		}
}

int outfile_check(const char *prog, const char *opt, const char *out, const char *const *inputs,
		  int n)
{
	struct stat so, si;

	if (!*out) {
		fprintf(stderr, "%s: %s: an empty file name\n", prog, opt);
		return -1;
	}
	/* only a regular file can be replaced: a device or a FIFO is just written to */
	if (!strcmp(out, "-") || stat(out, &so) || !S_ISREG(so.st_mode))
		return 0;
	for (int i = 0; i < n; i++) {
		if (!inputs[i] || (strcmp(inputs[i], "-") ? stat(inputs[i], &si) : fstat(0, &si)))
			continue;
		if (si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
			fprintf(stderr, "%s: %s %s: is the input %s; an output never replaces its "
				"input\n", prog, opt, out, inputs[i]);
			return -1;
		}
	}
	if (source_is_trace(out)) {
		fprintf(stderr, "%s: %s %s: is a trace file, not overwritten (to read it: %s %s "
			"%s OUT)\n", prog, opt, out, prog, out, opt);
		return -1;
	}
	return 0;
}

static mode_t new_mode(void)
{
	mode_t m = umask(0);

	umask(m);
	return 0666 & ~m;
}

static int fail(struct outfile *o, const char *prog, const char *what)
{
	int e = errno;

	if (prog)
		fprintf(stderr, "%s: %s: %s%s%s\n", prog, o->path ? o->path : "output", what,
			*what ? ": " : "", strerror(e));
	outfile_abort(o);
	return -1;
}

int outfile_open(struct outfile *o, const char *prog, const char *path)
{
	struct stat st;
	mode_t mode;
	char *slash;
	int fd;

	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	if (!o->path)
		return fail(o, prog, "");
	/* a symlink stays one: the file it names is what gets replaced */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode))
		o->target = realpath(path, NULL);
	if (!o->target)
		o->target = strdup(path);
	if (!o->target)
		return fail(o, prog, "");
	if (!stat(o->target, &st) && !S_ISREG(st.st_mode)) {
		o->f = fopen(o->target, "w");
		return o->f ? 0 : fail(o, prog, "");
	}
	mode = !stat(o->target, &st) ? st.st_mode & 07777 : new_mode();
	o->tmp = malloc(strlen(o->target) + 10);
	if (!o->tmp)
		return fail(o, prog, "");
	slash = strrchr(o->target, '/');
	/* ".NAME.XXXXXX" beside it: hidden, and not matching NAME's own suffix */
	sprintf(o->tmp, "%.*s.%s.XXXXXX", slash ? (int)(slash - o->target + 1) : 0, o->target,
		slash ? slash + 1 : o->target);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		free(o->tmp);
		o->tmp = NULL;
		return fail(o, prog, "cannot create a temporary file beside it");
	}
	track(o->tmp, 1);
	install_once();
	if (fchmod(fd, mode) || !(o->f = fdopen(fd, "w"))) {
		close(fd);
		return fail(o, prog, "");
	}
	return 0;
}

int outfile_commit(struct outfile *o, const char *prog)
{
	FILE *f = o->f;
	int bad;

	o->f = NULL;
	bad = fflush(f) != 0 || ferror(f);
	if (fclose(f) || bad)
		return fail(o, prog, "write error");
	if (o->tmp && rename(o->tmp, o->target))
		return fail(o, prog, "cannot replace it");
	if (o->tmp)
		track(o->tmp, 0);
	free(o->tmp);
	free(o->target);
	free(o->path);
	memset(o, 0, sizeof(*o));
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp) {
		unlink(o->tmp);
		track(o->tmp, 0);
	}
	free(o->tmp);
	free(o->target);
	free(o->path);
	memset(o, 0, sizeof(*o));
}
