/* SPDX-License-Identifier: MIT */
/*
 * cmdpath.h: can CMD of `record/stat -- CMD` be run at all? Checked before
 * the recording starts, so that a typo is a one-line error and a failure,
 * not a recording of the system for the instant the exec took.
 */
#ifndef MMAPLOCK_TOOL_CMDPATH_H
#define MMAPLOCK_TOOL_CMDPATH_H

/*
 * Look CMD up the way execvp() does (as given when it holds a '/', else in
 * each directory of $PATH, "/bin:/usr/bin" when unset) and check that the
 * file found is an executable regular file. Returns 0, or an errno value
 * (ENOENT, EACCES, EISDIR) saying why not. The answer can change before
 * the exec (a race nobody cares about): the exec's own error is still
 * reported by record.c.
 */
int cmdpath_check(const char *cmd);

#endif
