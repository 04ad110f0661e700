/* SPDX-License-Identifier: MIT */
/*
 * cmd-export.c: `mmaplock export FILE --format chrome|folded|csv -o OUT`:
 * read any input `report` reads, pair it (pair.c) and hand the intervals to
 * one export sink (export.h). Streams: memory is the pairing's open states
 * plus the sink's own (per mm and per task), never per event. OUT is
 * written beside and renamed when complete (outfile.h): on bad input it is
 * left as it was, one line, exit 2. A damaged input is read past its
 * damage: exit 3 (source.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmds.h"
#include "cmdargs.h"
#include "export.h"
#include "outfile.h"
#include "names.h"
#include "source.h"

#define BATCH 4096

static void usage(FILE *f)
{
	fprintf(f,
"usage: mmaplock export [FILE] --format chrome|folded|csv [-o OUT] [--weight wait|hold|both]\n"
"                       [--no-resolve]\n\n"
"Write the waits and holds of FILE (default mmaplock.data; any input `mmaplock\n"
"report` reads, '-' for text on stdin) to OUT (default stdout) as\n"
"  chrome   Chrome trace-event JSON for Perfetto UI (ui.perfetto.dev) or\n"
"           chrome://tracing: a track per task with wait / hold / failed slices\n"
"           named by mode and mm, and a counter of waiters per mm\n"
"  folded   folded stacks 'comm;memcg;mode;wait NS' weighted by ns, for\n"
"           flamegraph.pl or speedscope (--weight: wait, hold or both, default);\n"
"           a trace of record --stack adds the kernel frames, root first\n"
"  csv      one row per interval: kind,tid,comm,mm,memcg,mode,start_ns,end_ns,...\n"
"docs/EXPORT.md describes each format.\n\n"
"      --format F       chrome, folded or csv (required)\n"
"  -o, --output OUT     write to OUT (default stdout)\n"
"      --weight W       folded: wait, hold or both (default)\n"
"      --no-resolve     keep the memcg ids of text and trace.dat inputs as\n"
"                       memcg_id:N (by default they are named from this\n"
"                       machine's cgroups, marked '*', as report does)\n\n"
"Examples:\n"
"  mmaplock export --format chrome -o trace.json   # then open it in ui.perfetto.dev\n"
"  mmaplock export app.mml --format folded --weight wait | flamegraph.pl > waits.svg\n"
"  mmaplock export app.mml --format csv -o intervals.csv\n");
}

struct export_sub {
	struct export *x;
	const struct export_ops *ops;
	struct mml_meta *meta;
	struct names *names;		/* name memcg ids from this machine (as report), or NULL */
	uint64_t named;			/* the last memcg id looked at */
};

/* The pairing subscriber: the format's hook; a failed allocation stops the run. */
static int export_interval(void *ctx, const struct pair_interval *iv)
{
	struct export_sub *es = ctx;

	es->ops->hook(es->x, iv);
	return es->x->oom ? -1 : 0;
}

/*
 * The same for an input whose memcg ids come without paths: an interval's
 * id is named from this machine first (marked '*', as report does), so that
 * every line has the name. A subscriber of its own: other inputs pay nothing.
 */
static int export_interval_named(void *ctx, const struct pair_interval *iv)
{
	struct export_sub *es = ctx;

	if (iv->memcg != es->named) {
		names_memcg_now_id(es->names, es->meta, iv->memcg);
		es->named = iv->memcg;
	}
	return export_interval(ctx, iv);
}

struct export_args {
	const struct export_ops *ops;	/* --format */
	const char *path, *outp;	/* FILE, -o (NULL: stdout) */
	int weight;			/* --weight: EXPORT_W_* */
	int no_resolve;			/* --no-resolve */
};

/* --format and --weight: 0, or 2 after the one-line error. */
static int keyword_opt(int c, const char *arg, struct export_args *a)
{
	static const char *const fnames[] = { "chrome", "folded", "csv", NULL };
	static const struct export_ops *const fmts[] = {
		&export_chrome_ops, &export_folded_ops, &export_csv_ops,
	};
	static const char *const wnames[] = { "wait", "hold", "both", NULL };
	static const int weights[] = {
		EXPORT_W_WAIT, EXPORT_W_HOLD, EXPORT_W_WAIT | EXPORT_W_HOLD,
	};
	int i;

	if (c == 'f') {
		if ((i = cmdargs_keyword("mmaplock export", "--format", arg, fnames)) < 0)
			return 2;
		a->ops = fmts[i];
	} else {
		if ((i = cmdargs_keyword("mmaplock export", "--weight", arg, wnames)) < 0)
			return 2;
		a->weight = weights[i];
	}
	return 0;
}

/* The command line into a: 0 to run, -1 when done (--help, --list-options), 2 on a usage error. */
static int parse_args(int argc, char **argv, struct export_args *a)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "weight", required_argument, NULL, 'w' },
		{ "no-resolve", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmdargs_opts opts = { lo, "ho:" };
	int c;

	if (cmdargs_list(argc, argv, &opts))
		return -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, opts.shortopts, lo, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 'w':
			if (keyword_opt(c, optarg, a))
				return 2;
			break;
		case 'o':
			a->outp = optarg;
			break;
		case 'R':
			a->no_resolve = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			cmdargs_bad("mmaplock export", argv, &opts);
			return 2;
		}
	}
	if (cmdargs_input("mmaplock export", argc, argv, &a->path))
		return 2;
	if (a->outp && outfile_check("mmaplock export", "-o", a->outp, &a->path, 1))
		return 2;
	if (!a->ops) {
		fprintf(stderr, "mmaplock export: --format chrome, folded or csv is required\n");
		return 2;
	}
	if (a->outp && !strcmp(a->outp, "-"))
		a->outp = NULL;
	return 0;
}

/* Every event of s through the pairing (and so the sink). 0, or -1 after the one-line error. */
static int pump(struct source *s, struct pair *pair, struct mml_event *ev)
{
	long n;

	while ((n = source_next(s, ev, BATCH)) > 0)
		if (pair_feed(pair, ev, (size_t)n)) {
			fprintf(stderr, "mmaplock export: out of memory\n");
			return -1;
		}
	if (n < 0) {
		fprintf(stderr, "mmaplock export: %s\n", source_error(s));
		return -1;
	}
	pair_finish(pair);
	return 0;
}

/* The sink's end and the output closed (OUT renamed into place). 0, or -1 after the one-line error. */
static int finish(struct export *x, const struct export_ops *ops, struct outfile *of, int to_file)
{
	if (ops->end(x)) {
		fprintf(stderr, "mmaplock export: out of memory\n");
		return -1;
	}
	ob_flush(&x->ob);
	if (to_file)
		return outfile_commit(of, "mmaplock export") ? -1 : 0;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mmaplock export: stdout: write error\n");
		return -1;
	}
	return 0;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { .path = "mmaplock.data", .weight = EXPORT_W_WAIT | EXPORT_W_HOLD };
	static struct export x;		/* 64 KiB of output buffer */
	struct mml_meta *meta = NULL;
	struct mml_event *ev = NULL;
	struct source *s = NULL;
	struct pair pair = { 0 };
	struct export_sub es = { .x = &x };
	struct names nm = { 0 };
	struct outfile of = { 0 };
	int rc, begun = 0;
	char err[300];

	if ((rc = parse_args(argc, argv, &a)))
		return rc < 0 ? 0 : rc;
	rc = 2;
	memset(&x, 0, sizeof(x));
	x.weight = a.weight;
	meta = meta_new();
	ev = malloc(BATCH * sizeof(*ev));
	es.ops = a.ops;
	if (!meta || !ev || pair_init(&pair)) {
		fprintf(stderr, "mmaplock export: out of memory\n");
		goto out;
	}
	s = source_open(a.path, meta, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "mmaplock export: %s\n", err);
		goto out;
	}
	if (a.outp && outfile_open(&of, "mmaplock export", a.outp))
		goto out;
	ob_init_file(&x.ob, a.outp ? of.f : stdout, x.buf, sizeof(x.buf));
	x.meta = meta;
	es.meta = meta;
	/* only inputs whose ids come without paths (docs/EXPORT.md) */
	if (!a.no_resolve && (s->ops == &source_text_ops || s->ops == &source_tracedat_ops))
		es.names = &nm;
	if (pair_subscribe(&pair, es.names ? export_interval_named : export_interval, &es,
			   PAIR_INTERVALS) || a.ops->begin(&x)) {
		fprintf(stderr, "mmaplock export: out of memory\n");
		goto out;
	}
	begun = 1;
	if (pump(s, &pair, ev))
		goto out;
	begun = 0;
	if (finish(&x, a.ops, &of, a.outp != NULL))
		goto out;
	/* damaged or cut: the output covers what could be read, one line says so */
	rc = source_damage_note(s, "mmaplock export", a.path) ? EXIT_DAMAGED : 0;
out:
	if (begun)
		a.ops->end(&x);		/* frees the sink's state; the output is dropped */
	outfile_abort(&of);		/* a failed run: OUT stays as it was */
	source_close(s);
	pair_fini(&pair);
	meta_free(meta);
	names_fini(&nm);
	free(ev);
	return rc;
}
