/* SPDX-License-Identifier: MIT */
/*
 * backend.c: choosing a live back-end (backend.h), its life cycle around
 * the ops, and the run loop every live command shares.
 *
 * "auto" tries the BPF back-end first only when the command needs nothing
 * but windows (it aggregates in the kernel and delivers no events), and
 * tracefs otherwise or when BPF does not load; what was refused is said in
 * note, so that a command can tell the user which back-end runs.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backend.h"
#include "signals.h"

#ifndef MMAPLOCK_BPF_BACKEND
/*
 * A build without the BPF back-end (CMake defines MMAPLOCK_BPF_BACKEND when
 * live/backend-bpf.c is built): "bpf" exists and refuses to open. Weak, so
 * that a real definition linked in wins.
 */
static int bpf_missing_open(struct backend *b, const struct backend_opts *o)
{
	(void)o;
	snprintf(b->err, sizeof(b->err), "bpf: not built into this mmaplock");
	return -1;
}

__attribute__((weak)) const struct backend_ops backend_bpf_ops = {
	.name = "bpf", .caps = 0, .open = bpf_missing_open,
};
#endif

static const char *cap_words(unsigned missing)
{
	if (missing & BACKEND_CAP_FILE)
		return "cannot write a recording";
	if (missing & BACKEND_CAP_EVENTS)
		return "delivers no events";
	if (missing & BACKEND_CAP_STACKS)
		return "has no kernel stacks";
	return "delivers no windows";
}

/* A back-end that makes windows out of events serves a command that wants windows. */
static unsigned caps_of(const struct backend_ops *ops)
{
	unsigned c = ops->caps;

	return c & BACKEND_CAP_EVENTS ? c | BACKEND_CAP_WINDOWS : c;
}

static struct backend *try_open(const struct backend_ops *ops, const struct backend_opts *o,
				const struct backend_sink *sink, struct mml_meta *meta,
				char *err, size_t errlen)
{
	struct backend *b;
	unsigned missing = o->need & ~caps_of(ops);

	if (ops->caps && missing) {
		snprintf(err, errlen, "%s: %s (this command needs them)", ops->name,
			 cap_words(missing));
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->ops = ops;
	b->sink = *sink;
	b->meta = meta;
	if (ops->open(b, o)) {
		snprintf(err, errlen, "%s", b->err);	/* empty: the back-end said it */
		if (ops->close)
			ops->close(b);
		free(b);
		return NULL;
	}
	return b;
}

struct backend *backend_open(const char *name, const struct backend_opts *o,
			     const struct backend_sink *sink, struct mml_meta *meta,
			     char *err, size_t errlen, char *note, size_t notelen)
{
	struct backend *b;

	err[0] = '\0';
	if (note && notelen)
		note[0] = '\0';
	if (!name || !strcmp(name, "auto")) {
		if (o->need & ~BACKEND_CAP_WINDOWS)	/* events, stacks, a file: tracefs */
			return try_open(&backend_tracefs_ops, o, sink, meta, err, errlen);
		b = try_open(&backend_bpf_ops, o, sink, meta, err, errlen);
		if (b) {
			if (note && notelen)
				snprintf(note, notelen, "using the %s back-end", b->ops->name);
			return b;
		}
		if (note && notelen)
			snprintf(note, notelen, "%s; using tracefs", err);
		err[0] = '\0';
		b = try_open(&backend_tracefs_ops, o, sink, meta, err, errlen);
		/* both refused (not root, mostly): tracefs's reason is the one line */
		if (!b && err[0] && note && notelen)
			note[0] = '\0';
		return b;
	}
	if (!strcmp(name, "tracefs"))
		return try_open(&backend_tracefs_ops, o, sink, meta, err, errlen);
	if (!strcmp(name, "bpf"))
		return try_open(&backend_bpf_ops, o, sink, meta, err, errlen);
	snprintf(err, errlen, "--backend: '%s' is not tracefs, bpf or auto", name);
	return NULL;
}

int backend_name_valid(const char *name)
{
	return !strcmp(name, "auto") || !strcmp(name, "tracefs") || !strcmp(name, "bpf");
}

void backend_close(struct backend *b)
{
	if (!b)
		return;
	if (b->ops->close)
		b->ops->close(b);
	free(b);
}

int backend_run(struct backend *b, double duration, int period_ms,
		int (*each)(void *ctx), void *ctx)
{
	struct timespec t0, t;
	int rc = 0;

	if (b->ops->start(b))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (each && each(ctx))
		goto stop;
	while (!sig_stop) {
		rc = b->ops->poll(b, period_ms);
		if (rc)
			break;		/* 1: ended, -1: failed */
		if (each && each(ctx))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (duration > 0 && (double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
			break;
	}
stop:
	if (b->ops->stop(b))
		rc = -1;
	return rc < 0 ? 1 : 0;
}
