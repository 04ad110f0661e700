/* SPDX-License-Identifier: MIT */
/*
 * watch-args.c: the incident options shared by watch and exporter
 * --incidents (watch-args.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "watch-args.h"

void watch_args_defaults(struct watch_opts *o, const char *prog)
{
	*o = (struct watch_opts){ .wait_over_ns = 50000000ull, .before_ns = 2000000000ull,
				  .after_ns = 1000000000ull, .dir = ".", .max_incidents = 100,
				  .rate_limit_s = 10, .max_bytes = 1024ull << 20, .prog = prog };
}

static int num(const char *prog, const char *opt, const char *val, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(val, &end);
	if (errno || end == val || *end || !(*out >= min) || *out > max) {
		fprintf(stderr, "%s: --%s: '%s' is not a number from %.15g to %.15g\n", prog, opt, val, min, max);
		return -1;
	}
	return 0;
}

int watch_args_opt(struct watch_opts *o, const char *name, const char *val)
{
	static const struct { const char *name; double min, max; } t[] = {
		{ "wait-over", 0, 3.6e6 }, { "hold-over", 0, 3.6e6 }, { "before", 0, 60 },
		{ "after", 0, 60 }, { "max-incidents", 0, 1e6 }, { "rate-limit", 0, 86400 },
		{ "max-disk", 1, 1e7 },
	};
	double v;
	int i;

	for (i = 0; i < (int)(sizeof(t) / sizeof(t[0])) && strcmp(t[i].name, name); i++)
		;
	if (i == (int)(sizeof(t) / sizeof(t[0])))
		return -1;
	if (num(o->prog, name, val, t[i].min, t[i].max, &v))
		return 2;
	switch (i) {
	case 0: o->wait_over_ns = (uint64_t)(v * 1e6); break;
	case 1: o->hold_over_ns = (uint64_t)(v * 1e6); break;
	case 2: o->before_ns = (uint64_t)(v * 1e9); break;
	case 3: o->after_ns = (uint64_t)(v * 1e9); break;
	case 4: o->max_incidents = (unsigned)v; break;
	case 5: o->rate_limit_s = v; break;
	default: o->max_bytes = (uint64_t)(v * 1048576.0); break;
	}
	return 0;
}

int watch_args_check(const struct watch_opts *o)
{
	if (!o->wait_over_ns && !o->hold_over_ns) {
		fprintf(stderr, "%s: --wait-over and --hold-over are both 0: nothing to watch\n", o->prog);
		return 2;
	}
	return 0;
}

/* The shallowest directory watch_args_dir() made, "" when it made none. */
static char made[PATH_MAX];

/* mkdir -p: each missing parent made too (the first one noted in made). 0, or -1 with errno. */
static int make_path(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755)) {
			if (errno != EEXIST)
				return -1;
		} else if (!made[0]) {
			memcpy(made, p, (size_t)(s - p) + 1);
		}
		if (!c)
			return 0;
		*s = c;
	}
}

void watch_args_dir_unmake(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(made);

	if (!n || strlen(dir) >= sizeof(p))
		return;
	strcpy(p, dir);
	/* from dir up to made, each only while empty (rmdir refuses otherwise) */
	while (strlen(p) >= n && !rmdir(p)) {
		char *slash = strrchr(p, '/');
		if (strlen(p) == n || !slash)
			break;
		*slash = '\0';
	}
	made[0] = '\0';
}

int watch_args_dir(const char *prog, const char *dir)
{
	struct stat st;

	if (!*dir) {
		fprintf(stderr, "%s: an empty directory name\n", prog);
		return -1;
	}
	if (make_path(dir)) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", prog, dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: %s: not a directory\n", prog, dir);
		return -1;
	}
	if (access(dir, W_OK)) {
		fprintf(stderr, "%s: %s: %s\n", prog, dir, strerror(errno));
		return -1;
	}
	return 0;
}
