/* SPDX-License-Identifier: MIT */
/*
 * watch-args.h: the incident options that `mmaplock exporter --incidents`
 * shares with `mmaplock watch` (docs/WATCH.md): the same names, ranges,
 * defaults and messages.
 */
#ifndef MML_WATCH_ARGS_H
#define MML_WATCH_ARGS_H

#include "watch.h"

/* watch's defaults: waits over 50 ms, 2 s before, 1 s after, 100 incidents, 10 s, 1024 MB. */
void watch_args_defaults(struct watch_opts *o, const char *prog);
/*
 * name (without "--") is one of wait-over, hold-over, before, after,
 * max-incidents, rate-limit, max-disk: val into o, 0; or 2 after a one-line
 * error. Any other name: -1.
 */
int watch_args_opt(struct watch_opts *o, const char *name, const char *val);
/* Both thresholds 0: one line, 2. Else 0. */
int watch_args_check(const struct watch_opts *o);
/* DIR made if missing, a writable directory: 0; else -1 after one line. */
int watch_args_dir(const char *prog, const char *dir);
/*
 * After a run that failed before writing anything: the directories
 * watch_args_dir() made for dir are removed again, each only if empty.
 */
void watch_args_dir_unmake(const char *dir);

#endif
