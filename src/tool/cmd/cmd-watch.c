/* SPDX-License-Identifier: MIT */
/*
 * cmd-watch.c: `mmaplock watch`: run until stopped (or -d), and when an
 * mmap_lock wait or hold crosses its threshold, write the seconds around it
 * as an incident file into DIR and print one line (or a JSON line) naming
 * the waiter and the holders that blocked it, with their kernel stacks.
 *
 * The tracefs back-end streams every event (BACKEND_CAP_EVENTS) into the
 * watch engine (analysis/watch.c); stacks are taken in the kernel only on
 * write acquisitions and on contended rwsem waits (record_opts.watch_stacks).
 * Everything we set in tracefs lives in our private instance, which the
 * back-end removes on every exit path (instance.c: watchdog, stale scan).
 *
 * --backend bpf (live/watch-bpf.c): the kernel keeps the events in a
 * per-CPU ring and says when something crossed; only then do events reach
 * the same engine, so the incident files and lines are the same. auto (the
 * default) takes it when it loads and no -G/-p filter is asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "backend.h"
#include "cmdargs.h"
#include "cmds.h"
#include "record.h"
#include "record-args.h"
#include "ob.h"
#include "report.h"
#include "signals.h"
#include "stacks.h"
#include "watch.h"
#include "watch-args.h"
#include "watch-bpf.h"
#include "watch-line.h"

#define PROG	"mmaplock watch"
/* per-CPU KB: 4 times record's default; the ring's growth (a copy) pauses the draining */
#define WATCH_BUFFER_KB	(4 * RECORD_DEFAULT_KB)

enum { OPT_WAIT = 256, OPT_HOLD, OPT_BEFORE, OPT_AFTER, OPT_MAXINC, OPT_RATE, OPT_DISK,
       OPT_RING, OPT_JSON, OPT_BUFFER, OPT_BACKEND };

static const struct option lo[] = {
	{ "wait-over", required_argument, NULL, OPT_WAIT },
	{ "hold-over", required_argument, NULL, OPT_HOLD },
	{ "before", required_argument, NULL, OPT_BEFORE },
	{ "after", required_argument, NULL, OPT_AFTER },
	{ "output", required_argument, NULL, 'o' },
	{ "max-incidents", required_argument, NULL, OPT_MAXINC },
	{ "rate-limit", required_argument, NULL, OPT_RATE },
	{ "max-disk", required_argument, NULL, OPT_DISK },
	{ "ring-mb", required_argument, NULL, OPT_RING },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER },
	{ "cgroup", required_argument, NULL, 'G' },
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const struct cmdargs_opts watch_options = { lo, "o:G:p:d:h" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmaplock watch [--wait-over MS] [--hold-over MS] [--before S] [--after S]\n"
		"                      [-o DIR] [--max-incidents N] [--rate-limit S] [--max-disk MB]\n"
		"                      [-G CGROUP] [-p PID] [-d SECONDS] [--json]\n"
		"                      [--backend tracefs|bpf|auto]\n\n"
		"Watch the mmap_lock until stopped; when a wait or a hold crosses its threshold,\n"
		"write the seconds around it to DIR as an incident (an mmaplock file: report,\n"
		"check, export and the HTML page read it) and print one line naming the waiter\n"
		"and the holders that blocked it, with the top frames of their kernel stacks.\n\n"
		"  --wait-over MS      a wait longer than MS ms is an incident (default 50)\n"
		"  --hold-over MS      a hold longer than MS ms is one too (default: off)\n"
		"  --before S          seconds kept before the crossing (default 2)\n"
		"  --after S           seconds recorded after it (default 1)\n"
		"  -o, --output DIR    where incident files go (default .; made if missing)\n"
		"  --max-incidents N   stop after N incidents (default 100; 0: no limit)\n"
		"  --rate-limit S      at least S seconds between incidents (default 10)\n"
		"  --max-disk MB       write no incident past MB of files (default 1024)\n"
		"  --ring-mb MB        memory for the events kept (default 256; bpf: the kernel's\n"
		"                      rings, all CPUs together)\n"
		"  --buffer-size KB    per-CPU ring buffer in the kernel (default %u)\n"
		"  -G, --cgroup CG     only lock events of this memory cgroup (repeatable)\n"
		"  -p, --pid PID       only this process and its threads (repeatable)\n"
		"  -d, --duration S    stop after S seconds (default: until Ctrl-C)\n"
		"  --json              one JSON object per incident line (docs/WATCH.md)\n"
		"  --backend NAME      tracefs, bpf or auto (default): bpf keeps the events in\n"
		"                      the kernel until a crossing (no -G/-p); auto: bpf when it\n"
		"                      loads, else tracefs\n\n"
		"Examples:\n"
		"  mmaplock watch -o /var/tmp/stalls            # waits over 50 ms, until Ctrl-C\n"
		"  mmaplock watch --wait-over 500 --hold-over 1000 --json -o inc\n"
		"  mmaplock report --by holder $(ls inc/incident-*.mml | tail -1)  # the latest: who blocked whom\n",
		WATCH_BUFFER_KB);
}

struct wctx {
	int json;
	double t0;
	int werr;		/* an incident line could not be written: its errno */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_incident(void *ctx, const struct watch_incident *inc)
{
	struct wctx *c = ctx;

	progress_clear();
	watch_line(stdout, inc, c->json);
	/* the incident file is written all the same: watching goes on, the end says it */
	if ((fflush(stdout) || ferror(stdout)) && !c->werr)
		c->werr = errno ? errno : EIO;
}

struct run {
	struct watch *w;
	struct backend *bpf;		/* the BPF watch: delivers up to its own clock */
	struct wctx *c;
	double last;
	int ended;
	char note[320];			/* auto's "using tracefs" line: said once the run started */
};

/* The back-end note, once: not before the start succeeded (a refused -p/-G has its one line). */
static void say_note(struct run *r)
{
	if (r->note[0]) {
		fprintf(stderr, "%s\n", r->note);
		r->note[0] = '\0';
	}
}

static void sink_lost(void *ctx, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts)
{
	struct run *r = ctx;

	watch_lost(r->w, cpu, count, from_ts, to_ts);
}

static int sink_events(void *ctx, const struct mml_event *ev, size_t n)
{
	struct run *r = ctx;
	int rc = watch_events(r->w, ev, n);

	if (rc)
		r->ended = rc;
	return rc;
}

/* After every poll: incidents whose window has passed, the live line. */
static int each(void *ctx)
{
	struct run *r = ctx;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	/* delivered: everything stamped before the last drain minus its slack */
	uint64_t upto = r->bpf ? watch_bpf_delivered(r->bpf) : now > 100000000ull ? now - 100000000ull : 0;
	int rc;

	say_note(r);
	rc = watch_tick(r->w, upto);
	if (rc) {
		r->ended = rc;
		return 1;
	}
	double t = now_s();
	if (t - r->last >= 0.5) {
		r->last = t;
		progress(PROG ": %.0f s, %llu over threshold, %u incident%s", t - r->c->t0,
			 (unsigned long long)r->w->crossings, r->w->incidents, r->w->incidents == 1 ? "" : "s");
	}
	return r->ended != 0;
}

static int num(const char *opt, const char *val, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(val, &end);
	if (errno || end == val || *end || !(*out >= min) || *out > max) {
		fprintf(stderr, PROG ": %s: '%s' is not a number from %.15g to %.15g\n", opt, val, min, max);
		return -1;
	}
	return 0;
}

struct args {
	struct watch_opts wo;
	struct record_opts ro;
	int json;
	double ring_mb;
	const char *backend;
};

static int parse(int argc, char **argv, struct args *a)
{
	double v;
	int c, li = 0;

	watch_args_defaults(&a->wo, PROG);
	a->ro = (struct record_opts){ .prog = PROG, .quiet = 1, .buffer_kb = WATCH_BUFFER_KB,
				      .watch_stacks = 1 };
	a->ring_mb = 256;
	a->backend = "auto";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, watch_options.shortopts, lo, &li)) != -1) {
		switch (c) {
		case 'h':
			return 1;
		case OPT_WAIT:
		case OPT_HOLD:
		case OPT_BEFORE:
		case OPT_AFTER:
		case OPT_MAXINC:
		case OPT_RATE:
		case OPT_DISK:
			if (watch_args_opt(&a->wo, lo[li].name, optarg))
				return 2;
			break;
		case 'o':
			a->wo.dir = optarg;
			break;
		case OPT_RING:
			if (num("--ring-mb", optarg, 1, 65536, &v))
				return 2;
			a->ring_mb = v;
			break;
		case OPT_BUFFER:
			if (num("--buffer-size", optarg, 4, 4194304, &v))
				return 2;
			a->ro.buffer_kb = (unsigned)v;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case OPT_BACKEND:
			if (!backend_name_valid(optarg)) {
				fprintf(stderr, PROG ": --backend: '%s' is not tracefs, bpf or auto\n", optarg);
				return 2;
			}
			a->backend = optarg;
			break;
		case 'G':
		case 'p':
		case 'd': {
			int rc = record_parse_opt(&a->ro, c, optarg);
			if (rc)
				return 2;
			break;
		}
		default:
			cmdargs_bad(PROG, argv, &watch_options);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": %s: unexpected argument (see --help)\n", argv[optind]);
		return 2;
	}
	if (!strcmp(a->backend, "bpf") && (a->ro.npids || a->ro.ncgroups)) {
		fprintf(stderr, PROG ": --backend bpf: -G and -p need the tracefs back-end\n");
		return 2;
	}
	if (watch_args_check(&a->wo))
		return 2;
	a->wo.max_events = (size_t)(a->ring_mb * 1048576.0 / sizeof(struct mml_event));
	return 0;
}

static void on_gap(void *ctx, uint64_t lost)
{
	struct run *r = ctx;

	watch_gap(r->w, lost);
}

static void on_late_stack(void *ctx, const struct mml_event *st)
{
	struct run *r = ctx;

	if (watch_late_stack(r->w, st))
		r->ended = -1;
}

static int on_crossing(void *ctx, const struct watch_bpf_crossing *x)
{
	struct run *r = ctx;
	int rc = watch_crossing(r->w, x->tid, x->mm, x->start_ts, x->end_ts, x->is_hold);

	if (rc)
		r->ended = rc;
	return rc;
}

/*
 * --backend bpf or auto: the BPF watch into *b, or, with auto, a line
 * saying why not (tracefs then). -1: bpf was asked for and does not load.
 */
static int open_bpf(struct args *a, struct watch *w, struct run *run, struct mml_meta *meta,
		    struct backend **b)
{
	int must = !strcmp(a->backend, "bpf");
	struct watch_bpf_opts o = { .wait_over_ns = a->wo.wait_over_ns, .hold_over_ns = a->wo.hold_over_ns,
				    .before_ns = a->wo.before_ns, .after_ns = a->wo.after_ns,
				    .ring_mb = a->ring_mb, .prog = PROG, .gap = on_gap,
				    .crossing = on_crossing, .late_stack = on_late_stack, .gap_ctx = run };
	struct backend_sink sink = { .events = sink_events, .ctx = run };
	char err[256];

	if (a->ro.npids || a->ro.ncgroups) {
		snprintf(run->note, sizeof(run->note), PROG ": bpf: no -G/-p filter in the BPF watch; using tracefs");
		return 0;
	}
	*b = watch_bpf_open(&o, &sink, meta, err, sizeof(err));
	if (!*b) {
		if (must) {
			fprintf(stderr, PROG ": %s\n", err);
			return -1;
		}
		snprintf(run->note, sizeof(run->note), PROG ": %s; using tracefs", err);
		return 0;
	}
	fprintf(stderr, PROG ": using the bpf back-end\n");
	run->bpf = *b;
	w->o.backend = "bpf";
	w->o.external = 1;	/* the kernel saw the crossings: no pairing of every event */
	w->o.stacks = "slow waiters at their acquisition, long holders at their release";
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct args a = { 0 };
	struct wctx c = { 0 };
	struct watch w;
	struct run run = { .w = &w, .c = &c };
	struct mml_meta *meta = NULL;
	struct backend *b = NULL;
	struct record_result res = { 0 };
	char err[256];
	int rc;

	if (cmdargs_list(argc, argv, &watch_options))
		return 0;
	rc = parse(argc, argv, &a);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return 2;
	if (watch_args_dir(PROG, a.wo.dir))
		return 2;
	c.json = a.json;
	a.ro.res = &res;
	meta = meta_new();
	if (!meta || watch_init(&w, &a.wo, meta, on_incident, &c)) {
		fprintf(stderr, PROG ": out of memory\n");
		meta_free(meta);
		return 1;
	}
	sig_install();
	if (strcmp(a.backend, "tracefs") && open_bpf(&a, &w, &run, meta, &b))
		goto fail;
	struct backend_opts bo = { .need = BACKEND_CAP_EVENTS | BACKEND_CAP_STACKS, .impl_opts = &a.ro,
				   .prog = PROG };
	struct backend_sink sink = { .events = sink_events, .lost = sink_lost, .ctx = &run };
	if (!b)
		b = backend_open("tracefs", &bo, &sink, meta, err, sizeof(err), NULL, 0);
	if (!b) {
		fprintf(stderr, PROG ": %s\n", err);
fail:
		rc = 1;
		goto out;
	}
	c.t0 = now_s();
	rc = backend_run(b, a.ro.duration, 20, each, &run);
	if (!rc)
		say_note(&run);
	if (rc && b->err[0])
		fprintf(stderr, PROG ": %s\n", b->err);
	if (run.ended < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = 1;
	}
	watch_finish(&w);
	progress_clear();
	if (run.bpf) {
		struct watch_bpf_stats st;
		watch_bpf_stats(b, &st);
		res.events = st.events;
		res.lost = st.lost;
	}
	backend_close(b);
	b = NULL;
	if (!rc || res.events)	/* a start refused (-p, -G): its one line says it */
		fprintf(stderr, PROG ": %llu events, %llu lost; %u incident%s written (and %u suspect: events lost), %llu crossings, %llu rate-limited, %llu events dropped from the ring\n",
			(unsigned long long)res.events, (unsigned long long)res.lost,
			w.incidents, w.incidents == 1 ? "" : "s", w.suspects, (unsigned long long)w.crossings,
			(unsigned long long)w.suppressed, (unsigned long long)w.ring_dropped);
	if (w.write_errors)
		rc = 1;
	if (c.werr) {
		fprintf(stderr, PROG ": stdout: write error: %s (the incident lines are lost, not the files)\n",
			strerror(c.werr));
		rc = 1;
	}
out:
	backend_close(b);
	if (rc && !w.incidents && !w.suspects)
		watch_args_dir_unmake(a.wo.dir);
	watch_fini(&w);
	meta_free(meta);
	return rc;
}
