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

#define PROG	"mmaplock watch"
/* per-CPU KB: 4 times record's default; the ring's growth (a copy) pauses the draining */
#define WATCH_BUFFER_KB	(4 * RECORD_DEFAULT_KB)

enum { OPT_WAIT = 256, OPT_HOLD, OPT_BEFORE, OPT_AFTER, OPT_MAXINC, OPT_RATE, OPT_DISK,
       OPT_RING, OPT_JSON, OPT_BUFFER };

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
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const struct cmdargs_opts watch_options = { lo, "o:G:p:d:h" };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmaplock watch [--wait-over MS] [--hold-over MS] [--before S] [--after S]\n"
		"                      [-o DIR] [--max-incidents N] [--rate-limit S] [--max-disk MB]\n"
		"                      [-G CGROUP] [-p PID] [-d SECONDS] [--json]\n\n"
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
		"  --ring-mb MB        memory for the events kept (default 256)\n"
		"  --buffer-size KB    per-CPU ring buffer in the kernel (default %u)\n"
		"  -G, --cgroup CG     only lock events of this memory cgroup (repeatable)\n"
		"  -p, --pid PID       only this process and its threads (repeatable)\n"
		"  -d, --duration S    stop after S seconds (default: until Ctrl-C)\n"
		"  --json              one JSON object per incident line (docs/WATCH.md)\n\n"
		"Examples:\n"
		"  mmaplock watch -o /var/tmp/stalls            # waits over 50 ms, until Ctrl-C\n"
		"  mmaplock watch --wait-over 500 --hold-over 1000 --json -o inc\n"
		"  mmaplock report --by holder inc/incident-*.mml   # who blocked whom, in one\n",
		WATCH_BUFFER_KB);
}

struct wctx {
	int json;
	double t0;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Frames that are the lock itself, not the path that took it. */
static int lock_frame(const char *fn)
{
	static const char *const pre[] = { "down_", "__down_", "rwsem_", "mmap_read_lock", "mmap_write_lock",
					   "__mmap_lock", "mmap_read_trylock", "lock_acquire", NULL };

	for (int i = 0; pre[i]; i++)
		if (!strncmp(fn, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

/* The top frames (function names, lock frames skipped) of stack id. Count. */
static int top_frames(const struct mml_meta *m, uint32_t id, char out[][128], int max)
{
	const struct mml_stack *s = id ? meta_stack(m, id) : NULL;
	int n = 0;

	for (int i = 0; s && i < s->n && n < max; i++) {
		stack_func(s->sym[i], out[n], sizeof(out[n]));
		if (!lock_frame(out[n]))
			n++;
	}
	return n;
}

static const char *memcg_of(const struct mml_meta *m, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(m, id, buf, len);
}

static void text_party(const struct watch_incident *inc, const struct watch_party *p)
{
	char b[64];

	printf("%s[%u] (%s) %s", p->comm, p->tid, memcg_of(inc->meta, p->memcg, b, sizeof(b)),
	       p->write ? "write" : "read");
}

static void text_stack(const struct watch_incident *inc, const char *who, uint32_t id)
{
	char fr[3][128];
	int n = top_frames(inc->meta, id, fr, 3);

	printf(" | %s:", who);
	if (!n)
		printf(" (no stack)");
	for (int i = 0; i < n; i++)
		printf("%s%s", i ? " < " : " ", fr[i]);
}

static void json_party(const struct watch_incident *inc, const struct watch_party *p, int holder)
{
	char b[64], fr[WATCH_FRAMES][128];
	int n = top_frames(inc->meta, p->stack, fr, WATCH_FRAMES);

	printf("{\"tid\":%u,\"pid\":%u,\"comm\":", p->tid, p->tgid);
	ob_json_file(stdout, p->comm);
	printf(",\"memcg\":");
	ob_json_file(stdout, memcg_of(inc->meta, p->memcg, b, sizeof(b)));
	printf(",\"mode\":\"%s\",\"%s\":%.3f", p->write ? "write" : "read", holder ? "hold_ms" : "wait_ms",
	       p->ns / 1e6);
	if (holder)
		printf(",\"blamed_ms\":%.3f", p->blamed_ns / 1e6);
	printf(",\"stack\":[");
	for (int i = 0; i < n; i++) {
		printf("%s", i ? "," : "");
		ob_json_file(stdout, fr[i]);
	}
	printf("]}");
}

static void on_incident(void *ctx, const struct watch_incident *inc)
{
	struct wctx *c = ctx;
	time_t sec = (time_t)(inc->realtime_ns / 1000000000ull);
	unsigned ms = (unsigned)(inc->realtime_ns / 1000000ull % 1000);
	struct tm tm;
	char when[64];
	int has_waiter = !inc->is_hold || inc->waiter.tid;

	progress_clear();
	if (c->json) {
		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		printf("{\"time\":\"%s.%03uZ\",\"kind\":\"%s\",\"ms\":%.3f,\"waiter\":", when, ms,
		       inc->is_hold ? "hold" : "wait",
		       (inc->is_hold ? inc->holders[0].ns : inc->waiter.ns) / 1e6);
		if (has_waiter)
			json_party(inc, &inc->waiter, 0);
		else
			printf("null");
		printf(",\"holders\":[");
		for (int i = 0; i < inc->nholders; i++) {
			printf("%s", i ? "," : "");
			json_party(inc, &inc->holders[i], 1);
		}
		printf("],\"crossings\":%u,\"events\":%llu,\"file\":", inc->crossings,
		       (unsigned long long)inc->events);
		ob_json_file(stdout, inc->file);
		printf("}\n");
	} else {
		localtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		printf("%s.%03u %s %.1f ms: ", when, ms, inc->is_hold ? "hold" : "wait",
		       (inc->is_hold ? inc->holders[0].ns : inc->waiter.ns) / 1e6);
		if (has_waiter)
			text_party(inc, &inc->waiter);
		else
			printf("no waiter");
		for (int i = 0; i < inc->nholders; i++) {
			printf(i ? ", " : " <- ");
			text_party(inc, &inc->holders[i]);
			printf(" hold %.1f ms", inc->holders[i].ns / 1e6);
		}
		if (!inc->nholders)
			printf(" <- no holder recorded");
		if (has_waiter)
			text_stack(inc, "waiter", inc->waiter.stack);
		if (inc->nholders)
			text_stack(inc, "holder", inc->holders[0].stack);
		printf(" | %s\n", inc->file);
	}
	fflush(stdout);
}

struct run {
	struct watch *w;
	struct wctx *c;
	double last;
	int ended;
};

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
	int rc = watch_tick(r->w, now > 100000000ull ? now - 100000000ull : 0);
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
		fprintf(stderr, PROG ": %s: '%s' is not a number from %g to %g\n", opt, val, min, max);
		return -1;
	}
	return 0;
}

struct args {
	struct watch_opts wo;
	struct record_opts ro;
	int json;
	double ring_mb;
};

static int parse(int argc, char **argv, struct args *a)
{
	double v;
	int c;

	a->wo = (struct watch_opts){ .wait_over_ns = 50000000ull, .before_ns = 2000000000ull,
				     .after_ns = 1000000000ull, .dir = ".", .max_incidents = 100,
				     .rate_limit_s = 10, .max_bytes = 1024ull << 20, .prog = PROG };
	a->ro = (struct record_opts){ .prog = PROG, .quiet = 1, .buffer_kb = WATCH_BUFFER_KB,
				      .watch_stacks = 1 };
	a->ring_mb = 256;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, watch_options.shortopts, lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			return 1;
		case OPT_WAIT:
		case OPT_HOLD:
			if (num(c == OPT_WAIT ? "--wait-over" : "--hold-over", optarg, 0, 3.6e6, &v))
				return 2;
			*(c == OPT_WAIT ? &a->wo.wait_over_ns : &a->wo.hold_over_ns) = (uint64_t)(v * 1e6);
			break;
		case OPT_BEFORE:
		case OPT_AFTER:
			if (num(c == OPT_BEFORE ? "--before" : "--after", optarg, 0, 60, &v))
				return 2;
			*(c == OPT_BEFORE ? &a->wo.before_ns : &a->wo.after_ns) = (uint64_t)(v * 1e9);
			break;
		case 'o':
			a->wo.dir = optarg;
			break;
		case OPT_MAXINC:
			if (num("--max-incidents", optarg, 0, 1e6, &v))
				return 2;
			a->wo.max_incidents = (unsigned)v;
			break;
		case OPT_RATE:
			if (num("--rate-limit", optarg, 0, 86400, &v))
				return 2;
			a->wo.rate_limit_s = v;
			break;
		case OPT_DISK:
			if (num("--max-disk", optarg, 1, 1e7, &v))
				return 2;
			a->wo.max_bytes = (uint64_t)(v * 1048576.0);
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
	if (!a->wo.wait_over_ns && !a->wo.hold_over_ns) {
		fprintf(stderr, PROG ": --wait-over and --hold-over are both 0: nothing to watch\n");
		return 2;
	}
	a->wo.max_events = (size_t)(a->ring_mb * 1048576.0 / sizeof(struct mml_event));
	return 0;
}

static int check_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, PROG ": %s: cannot create: %s\n", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, PROG ": %s: not a directory\n", dir);
		return -1;
	}
	if (access(dir, W_OK)) {
		fprintf(stderr, PROG ": %s: %s\n", dir, strerror(errno));
		return -1;
	}
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
	if (check_dir(a.wo.dir))
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
	struct backend_opts bo = { .need = BACKEND_CAP_EVENTS | BACKEND_CAP_STACKS, .impl_opts = &a.ro,
				   .prog = PROG };
	struct backend_sink sink = { .events = sink_events, .ctx = &run };
	b = backend_open("tracefs", &bo, &sink, meta, err, sizeof(err), NULL, 0);
	if (!b) {
		fprintf(stderr, PROG ": %s\n", err);
		rc = 1;
		goto out;
	}
	c.t0 = now_s();
	rc = backend_run(b, a.ro.duration, 20, each, &run);
	if (rc && b->err[0])
		fprintf(stderr, PROG ": %s\n", b->err);
	if (run.ended < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		rc = 1;
	}
	watch_finish(&w);
	progress_clear();
	backend_close(b);
	b = NULL;
	if (!rc || res.events)	/* a start refused (-p, -G): its one line says it */
		fprintf(stderr, PROG ": %llu events, %llu lost; %u incident%s written, %llu crossings, %llu rate-limited, %llu events dropped from the ring\n",
			(unsigned long long)res.events, (unsigned long long)res.lost,
			w.incidents, w.incidents == 1 ? "" : "s", (unsigned long long)w.crossings,
			(unsigned long long)w.suppressed, (unsigned long long)w.ring_dropped);
	if (w.write_errors)
		rc = 1;
out:
	backend_close(b);
	watch_fini(&w);
	meta_free(meta);
	return rc;
}
