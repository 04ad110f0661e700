/* SPDX-License-Identifier: MIT */
/*
 * outfile.h: every file the tool writes whole (report --html, export -o,
 * exporter --textfile) goes through here. It is written to a temporary
 * file beside its name (same directory: the rename is atomic) and renamed
 * over the name only when complete, so a failed or interrupted run leaves
 * the previous file as it was and no temporary behind. And an output is
 * never an input, nor a trace that happens to have its name.
 */
#ifndef MML_OUTFILE_H
#define MML_OUTFILE_H

#include <stdio.h>

struct outfile {
	FILE *f;		/* write here */
	char *path;		/* the name the caller gave */
	char *tmp;		/* the temporary beside the target; NULL: writing path itself */
	char *target;		/* where the temporary is renamed to (path, or its symlink's target) */
};

/*
 * May PROG write OUT (given as option OPT, e.g. "--html")? Not when it is
 * "" (`-o "$unset_var"`), nor when it is the same file as one of the n
 * inputs ("-": stdin), nor when it holds a trace (source_is_trace()): a
 * trace named where an output was expected is a slip of the command line,
 * not a wish to lose it. Returns 0, or -1 after one line on stderr (the
 * caller exits 2).
 */
int outfile_check(const char *prog, const char *opt, const char *out, const char *const *inputs,
		  int n);

/*
 * Open a temporary file beside path (mkstemp, mode 0666 less the umask, or
 * the mode of the file it will replace) for writing. A path that exists
 * and is not a regular file (/dev/null, a FIFO) is written directly. The
 * temporary is removed if SIGINT, SIGTERM or SIGHUP kills the process (when
 * they still have their default action). Returns 0, or -1 after one line
 * on stderr naming PROG and path (none when prog is NULL); o is then closed.
 */
int outfile_open(struct outfile *o, const char *prog, const char *path);

/* Flush, close and rename the temporary over the target. 0, or -1 after one line (aborted). */
int outfile_commit(struct outfile *o, const char *prog);

/* Close and remove the temporary; the target is left as it was. An unopened o is fine. */
void outfile_abort(struct outfile *o);

#endif
