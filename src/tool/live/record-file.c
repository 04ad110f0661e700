/* SPDX-License-Identifier: MIT */
/*
 * record-file.c: the file a recording goes to (-o FILE), for `record` and
 * `stat -o`. Rules (docs/RECORD.md, "The output file"):
 *
 *  - FILE does not exist: it is created (O_EXCL) and written in place, so
 *    that a recording killed with SIGKILL leaves what it had written.
 *  - FILE exists: refused unless -f. With -f the recording is written to
 *    a temporary file beside it (.FILE.XXXXXX, same directory, so rename(2)
 *    is atomic) and renamed over FILE when the recording ends; a recording
 *    that fails, or is killed, leaves the old FILE as it was.
 *  - FILE is not a regular file (/dev/null, a FIFO): written in place.
 *  - One writer per FILE: every recorder holds flock(LOCK_EX) on what it
 *    writes (the new file, or with -f both the old FILE and the temporary
 *    one) until it ends; a second recorder to the same FILE finds the lock
 *    taken and fails with one line instead of writing into the first one's
 *    file. The lock is advisory: it keeps mmaplock recorders apart, not
 *    other programs.
 *
 * The file is opened before tracing is set up, so a refused FILE costs no
 * tracefs work; the header goes in later (mml_writer_fdopen).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "record-local.h"

/* flock fd for writing; a one-line error when another recorder has it. */
static int lock(const struct record_opts *o, int fd)
{
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return 0;
	if (errno == EWOULDBLOCK)
		fprintf(stderr, "%s: %s: another recording is writing it\n", o->prog, o->output);
	else
		fprintf(stderr, "%s: %s: cannot lock: %s\n", o->prog, o->output, strerror(errno));
	return -1;
}

/* .NAME.XXXXXX in FILE's directory: created, locked, its fd returned. */
static int open_beside(struct rec *r)
{
	const struct record_opts *o = r->o;
	char *d = strdup(o->output), *b = strdup(o->output);
	int fd = -1;

	if (d && b && asprintf(&r->out_tmp, "%s/.%s.XXXXXX", dirname(d), basename(b)) < 0)
		r->out_tmp = NULL;
	free(d);
	free(b);
	if (!r->out_tmp) {
		fprintf(stderr, "%s: out of memory\n", o->prog);
		return -1;
	}
	fd = mkostemp(r->out_tmp, O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: cannot create a file beside it: %s\n", o->prog, o->output,
			strerror(errno));
		free(r->out_tmp);
		r->out_tmp = NULL;
		return -1;
	}
	if (lock(r->o, fd) || fchmod(fd, 0644)) {
		close(fd);
		unlink(r->out_tmp);
		free(r->out_tmp);
		r->out_tmp = NULL;
		return -1;
	}
	return fd;
}

int rec_file_open(struct rec *r)
{
	const struct record_opts *o = r->o;
	struct stat st;
	int fd;

	r->out_fd = r->out_lock = -1;
	fd = open(o->output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		r->out_created = 1;
		if (lock(o, fd)) {	/* a recorder with -f took it between our open and flock */
			close(fd);
			return -1;
		}
		r->out_fd = fd;
		return 0;
	}
	if (errno != EEXIST || stat(o->output, &st)) {
		fprintf(stderr, "%s: cannot create %s: %s\n", o->prog, o->output, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {	/* a device or a FIFO: nothing to destroy */
		r->out_fd = open(o->output, O_WRONLY | O_CLOEXEC);
		if (r->out_fd < 0) {
			fprintf(stderr, "%s: cannot open %s: %s\n", o->prog, o->output, strerror(errno));
			return -1;
		}
		return 0;
	}
	r->out_lock = open(o->output, O_RDONLY | O_CLOEXEC);
	if (r->out_lock < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", o->prog, o->output, strerror(errno));
		return -1;
	}
	if (lock(o, r->out_lock))
		return -1;
	if (!o->force) {
		fprintf(stderr, "%s: %s exists (give -f to replace it)\n", o->prog, o->output);
		return -1;
	}
	r->out_fd = open_beside(r);
	return r->out_fd < 0 ? -1 : 0;
}

int rec_file_commit(struct rec *r)
{
	int rc = 0;

	if (r->out_tmp && rename(r->out_tmp, r->o->output)) {
		fprintf(stderr, "%s: cannot replace %s: %s (the recording is in %s)\n", r->o->prog,
			r->o->output, strerror(errno), r->out_tmp);
		rc = -1;
	}
	free(r->out_tmp);
	r->out_tmp = NULL;
	r->out_created = 0;
	if (r->out_lock >= 0)
		close(r->out_lock);
	r->out_lock = -1;
	return rc;
}

void rec_file_abort(struct rec *r)
{
	if (r->out_tmp)
		unlink(r->out_tmp);
	else if (r->out_created && !r->out_written)
		unlink(r->o->output);	/* ours and still empty: as if never made */
	free(r->out_tmp);
	r->out_tmp = NULL;
	r->out_created = 0;
	if (r->out_fd >= 0)
		close(r->out_fd);
	r->out_fd = -1;
	if (r->out_lock >= 0)
		close(r->out_lock);
	r->out_lock = -1;
}
