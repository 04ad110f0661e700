/* SPDX-License-Identifier: MIT */
/*
 * cmd-top.c: `mmaplock top [-i SECONDS] [--by memcg|process|mm]
 * [-n ITERATIONS]`: a live table of the last interval, per group:
 * acquisitions/s, waits/s, total wait, wait p99 and max, hold p99 and max,
 * failed, and the interval's lost events, refreshed every -i seconds.
 *
 * A wait here is what report calls contended (docs/REPORT.md): a
 * lock:contention_begin inside it when the stream has those events, else
 * longer than AGG_CONTENDED_NS. Every acquisition passes through
 * start_locking -> acquire_returned, so counting those would count
 * acquisitions. The default order is the total wait time of the interval:
 * the groups that lost the most time come first, and a group whose one
 * wait was slow does not outrank one that waited all the time.
 *
 * The data comes in windows from a live back-end (backend.h, --backend):
 * the tracefs recorder's events windowed by live.c (an interval counts in
 * the window in which it ends; pairing state lives across windows), or
 * windows a back-end aggregated itself. At each window's end the groups
 * become rows (name and the figures above), which are sorted and drawn.
 *
 * On a terminal: the alternate screen, a full redraw per window with plain
 * ANSI sequences, keys read without echo after every poll of the back-end
 * (20 ms), in the one thread: w/p/h/c/f sort by total wait, wait p99, hold p99,
 * acquisitions, failed (the sorted column is marked with '*'); q quits. The
 * terminal is restored on every way out (q, -n, Ctrl-C / SIGTERM through the
 * back-end's stop, errors). The GROUP column takes the width the terminal
 * leaves (TIOCGWINSZ, read again after SIGWINCH, which also redraws); a name
 * too long for it is cut in the middle (pathfit.h) so that the end that
 * tells containers apart stays. Not a terminal: one plain snapshot per
 * window, names in full, for logs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "agg-ident.h"
#include "array.h"
#include "backend.h"
#include "cmdargs.h"
#include "cmds.h"
#include "ob.h"
#include "pathfit.h"
#include "signals.h"

#define TOP_PERIOD_MS	20		/* keys are read this often */

struct row {
	char name[512];
	uint64_t acq, waits, wait_total, wait_p99, wait_max, hold_p99, hold_max, failed;
};

/* The other columns after GROUP: " %10s %10s %11s" + 4 x " %9s" + " %8s". */
#define TOP_NUM_COLS	(2 * 11 + 12 + 4 * 10 + 9)
#define TOP_MIN_NAME	20		/* narrower terminals cut the right-hand columns */

static volatile sig_atomic_t winched;

static void on_winch(int sig)
{
	(void)sig;
	winched = 1;
}

struct top {
	enum agg_by by;
	uint64_t windows;		/* shown so far */
	int tty, raw, entered;
	char sort;			/* 'w', 'p', 'h', 'c', 'f' */
	long iterations;		/* 0: until q or a signal */
	double interval;		/* s */
	struct termios saved;
	struct row *rows;		/* the last window */
	size_t nrows, cap;
	uint64_t win_ns, events, lost;
	uint64_t non_owner, non_owner_total;	/* the interval's; the run's so far */
	int shown;
	int werr;			/* stdout could not be written: its errno */
	struct ctr_pods *pods;		/* --by container|pod|unit: names pods */
	const char *pods_dir;
};

static const char *sort_name(char s)
{
	return s == 'p' ? "wait p99" : s == 'h' ? "hold p99" : s == 'c' ? "acquisitions" :
	       s == 'f' ? "failed" : "total wait";
}

/*
 * The header line: non-owner releases only when there were some; on a
 * terminal, the keys' hint only where it fits, and the line cut to the width.
 */
static void header(const struct top *t, const char *clock, int cols, struct ob *o)
{
	static const char hint[] = "  (w p h c f: sort, q: quit)";
	char h[320];
	int n;

	n = snprintf(h, sizeof(h), "mmaplock top  %s  interval %.1f s  by %s  sort: %s  events %llu  lost %llu",
		     clock, t->interval, agg_by_name(t->by), sort_name(t->sort),
		     (unsigned long long)t->events, (unsigned long long)t->lost);
	if (t->non_owner && n > 0 && (size_t)n < sizeof(h))
		n += snprintf(h + n, sizeof(h) - (size_t)n, "  non-owner %llu",
			      (unsigned long long)t->non_owner);
	if (t->tty && n > 0 && (size_t)n + sizeof(hint) <= sizeof(h) &&
	    (cols <= 0 || n + (int)sizeof(hint) - 1 <= cols))
		n += snprintf(h + n, sizeof(h) - (size_t)n, "%s", hint);
	if (t->tty && cols > 0 && n > cols && (size_t)cols < sizeof(h))
		h[cols] = '\0';
	ob_printf(o, "%s\n", h);
}

/* 850ns, 12.3us, 1.20ms, 2.50s: 7 columns at most */
static char *dur(uint64_t ns, char *b)
{
	if (ns < 1000)
		snprintf(b, 16, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(b, 16, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(b, 16, "%.2fms", ns / 1e6);
	else
		snprintf(b, 16, "%.2fs", ns / 1e9);
	return b;
}

static int top_cmp(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	char s = *(const char *)arg;
	uint64_t kx, ky, tx, ty;

	switch (s) {
	case 'p': kx = x->wait_p99; ky = y->wait_p99; tx = x->wait_max; ty = y->wait_max; break;
	case 'h': kx = x->hold_p99; ky = y->hold_p99; tx = x->hold_max; ty = y->hold_max; break;
	case 'c': kx = x->acq; ky = y->acq; tx = x->waits; ty = y->waits; break;
	case 'f': kx = x->failed; ky = y->failed; tx = x->acq; ty = y->acq; break;
	default: kx = x->wait_total; ky = y->wait_total; tx = x->waits; ty = y->waits; break;
	}
	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	return strcmp(x->name, y->name);
}

/*
 * Width of the GROUP column: the longest name shown; not a terminal, at
 * least 32 (the old fixed width, for logs read by eye); on a terminal at
 * most what the other columns leave of its width, TOP_MIN_NAME at least.
 */
static size_t name_width(const struct top *t, size_t shown, int cols)
{
	size_t kw = 5;			/* "GROUP" */

	for (size_t i = 0; i < shown; i++) {
		size_t l = pathfit_cols(t->rows[i].name);
		if (l > kw)
			kw = l;
	}
	if (!t->tty)
		return kw < 32 ? 32 : kw;
	/* the last column stays free: a line that fills it wraps on some terminals */
	if (cols > 0 && kw + TOP_NUM_COLS + 1 > (size_t)cols)
		kw = cols - 1 - TOP_NUM_COLS > TOP_MIN_NAME ? (size_t)cols - 1 - TOP_NUM_COLS : TOP_MIN_NAME;
	return kw;
}

/* name in kw columns: cut in the middle if longer, padded with spaces (UTF-8 aware). */
static void put_name(struct ob *o, const char *name, size_t kw)
{
	char b[sizeof(((struct row *)0)->name) + 4];
	const char *s = pathfit(name, kw, b, sizeof(b));

	ob_str(o, s);
	for (size_t c = pathfit_cols(s); c < kw; c++)
		ob_ch(o, ' ');
}

/*
 * On a terminal each line of the frame s stops before the last column:
 * the figures need about 100 columns, and a line that wraps on a narrower
 * terminal takes two screen lines, which scrolls the title and the column
 * heads off the top. Columns are counted as UTF-8 lead bytes (names).
 */
static void put_clipped(struct ob *o, const char *s, size_t n, int cols)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n, j, c = 0;

		for (j = i; j < end; j++)
			if (((unsigned char)s[j] & 0xc0) != 0x80 && c++ == (size_t)cols - 1)
				break;
		ob_mem(o, s + i, j - i);
		if (nl)
			ob_ch(o, '\n');
		i = end + 1;
	}
}

static void draw(struct top *t)
{
	char b0[16], b1[16], b2[16], b3[16], b4[16];
	double sec = t->win_ns / 1e9;
	int rows = 1 << 30, cols = 0;
	struct winsize ws;
	time_t now = time(NULL);
	struct tm tm;
	char clock[32];
	size_t shown, kw;
	static char buf[65536];	/* a screen: written at once, no flicker */
	struct ob o, frame, *w = &o;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	winched = 0;
	if (t->tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)) {
		if (ws.ws_row > 4)
			rows = ws.ws_row - 4;
		cols = ws.ws_col;
	}
	qsort_r(t->rows, t->nrows, sizeof(*t->rows), top_cmp, &t->sort);
	shown = t->nrows < (size_t)rows ? t->nrows : (size_t)rows;
	kw = name_width(t, shown, cols);
	ob_init_file(&o, stdout, buf, sizeof(buf));
	if (t->tty)
		OBL(&o, "\033[H\033[2J");
	if (t->tty && cols > 1) {
		ob_init_mem(&frame);
		w = &frame;
	}
	header(t, clock, cols, w);
#define MARK(c, s) (t->sort == (c) ? s "*" : s)
	put_name(w, "GROUP", kw);
	ob_printf(w, " %10s %10s %11s %9s %9s %9s %9s %8s\n", MARK('c', "ACQ/s"), "WAITS/s",
		  MARK('w', "WAIT_TOTAL"), MARK('p', "WAIT_P99"), "WAIT_MAX", MARK('h', "HOLD_P99"),
		  "HOLD_MAX", MARK('f', "FAILED"));
#undef MARK
	for (size_t i = 0; i < shown; i++) {
		const struct row *r = &t->rows[i];
		put_name(w, r->name, kw);
		ob_printf(w, " %10.0f %10.0f %11s %9s %9s %9s %9s %8llu\n", r->acq / sec, r->waits / sec,
			  dur(r->wait_total, b0), dur(r->wait_p99, b1), dur(r->wait_max, b2),
			  dur(r->hold_p99, b3), dur(r->hold_max, b4), (unsigned long long)r->failed);
	}
	if (!t->nrows)
		ob_printf(w, "(no mmap_lock activity in this interval)\n");
	if (!t->tty)
		ob_ch(w, '\n');
	if (w == &frame) {
		put_clipped(&o, frame.buf, frame.n, cols);
		ob_free(&frame);
	}
	/* a log on a full disk: said and stopped, not snapshots dropped for ever */
	if ((ob_flush(&o) | fflush(stdout)) || ferror(stdout))
		t->werr = errno ? errno : EIO;
}

/* A row of the window's group g; NULL when out of memory. */
static struct row *add_row(struct top *t)
{
	if (ARRAY_RESERVE(t->rows, t->cap, t->nrows + 1, 64) < 0)
		return NULL;
	return &t->rows[t->nrows++];
}

static int on_window(void *ctx, const struct window *w)
{
	struct top *t = ctx;
	char name[sizeof(t->rows->name)];
	struct agg byid = { 0 };
	const struct agg *a = w->agg;

	/* -n N shown: a back-end's last partial window at stop is not an interval */
	if (t->iterations && (long)t->windows >= t->iterations)
		return 1;
	if (agg_by_identity(t->by)) {	/* the window's memcg groups, folded (agg-ident.h) */
		if (agg_init(&byid, t->by, w->meta) || agg_regroup(&byid, w->agg, t->pods)) {
			if (byid.tab.cap)
				agg_fini(&byid);
			return -1;
		}
		a = &byid;
	}
	t->nrows = 0;
	for (struct agg_group **e = agg_tab_next(&a->tab, NULL); e; e = agg_tab_next(&a->tab, e)) {
		const struct agg_group *g = *e;
		if (!(g->acq_read + g->acq_write + g->failed + g->hold.count))
			continue;
		struct row *r = add_row(t);
		if (!r) {
			if (byid.tab.cap)
				agg_fini(&byid);
			return -1;
		}
		snprintf(r->name, sizeof(r->name), "%s", agg_group_name(a, g, name, sizeof(name)));
		r->acq = g->acq_read + g->acq_write;
		/* waits that waited (top comment); the rule is report's */
		r->waits = w->total.contention_marked ? g->contended_marked : g->contended_long;
		r->wait_total = g->wait.total;
		r->wait_p99 = hist_quantile(&g->wait, 0.99);
		r->wait_max = g->wait.max;
		r->hold_p99 = hist_quantile(&g->hold, 0.99);
		r->hold_max = g->hold.max;
		r->failed = g->failed;
	}
	if (byid.tab.cap)
		agg_fini(&byid);
	t->win_ns = w->len_ns;
	t->events = w->stats.events;
	t->lost = w->stats.lost;
	t->non_owner = run_non_owner(&w->total) - t->non_owner_total;
	t->non_owner_total = run_non_owner(&w->total);
	t->shown = 1;
	draw(t);
	if (t->werr)
		return 1;
	return t->iterations && (long)++t->windows >= t->iterations;
}

static void term_enter(struct top *t)
{
	struct termios raw;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &t->saved)) {
		raw = t->saved;
		raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);	/* ISIG stays: Ctrl-C stops cleanly */
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw))
			t->raw = 1;
	}
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	printf("mmaplock top: waiting for the first %.1f s interval ...\n", t->interval);
	fflush(stdout);
}

static void term_leave(struct top *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = 0;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
}

/*
 * After the back-end's start and each poll: the terminal once the data
 * flows (an error before this stayed on the normal screen), a redraw at a
 * new size, keys. Non-zero: q.
 */
static int on_poll(void *ctx)
{
	struct top *t = ctx;
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char c[32];

	if (t->tty && !t->entered) {
		t->entered = 1;
		term_enter(t);
	}
	if (winched && t->shown)
		draw(t);		/* the terminal's new size */
	if (t->raw)
		while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
			ssize_t n = read(STDIN_FILENO, c, sizeof(c));
			if (n <= 0)
				break;
			for (ssize_t i = 0; i < n; i++) {
				if (c[i] == 'q' || c[i] == 'Q')
					return 1;
				if (strchr("wphcf", c[i]) && c[i] != t->sort) {
					t->sort = c[i];
					if (t->shown)
						draw(t);
				}
			}
		}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock top [-i SECONDS] [--by memcg|process|mm|container|pod|unit]\n"
		   "                    [-n ITERATIONS] [--backend tracefs|bpf|auto] [--pods-dir DIR]\n\n"
		   "A live table of mmap_lock contention (whole system), one row per group: acquisitions/s,\n"
		   "waits/s (contended waits, as report counts them), total wait time, wait p99 and max,\n"
		   "hold p99 and max, failed attempts; lost events in the header. Sorted by total wait.\n"
		   "On a terminal keys sort it (w: total wait, p: wait p99, h: hold p99, c: acquisitions,\n"
		   "f: failed) and q quits, and names too long for the terminal are cut in the middle;\n"
		   "otherwise one plain snapshot is printed per interval, names in full.\n\n"
		   "  -i, --interval SEC     refresh every SEC seconds (default 1, at least 0.1)\n"
		   "      --by KEY           memcg (default), process, mm, container (Kubernetes, Docker,\n"
		   "                         Podman: namespace/pod/id), pod (namespace/pod) or unit\n"
		   "                         (systemd); a memcg of none is shown by its path\n"
		   "      --pods-dir DIR     the kubelet's pod log directories, which name pods\n"
		   "                         (default $" CTR_PODS_ENV ", else " CTR_PODS_DIR_DEFAULT ")\n"
		   "  -n, --iterations N     stop after N intervals\n"
		   "      --backend NAME     where the data comes from: tracefs, bpf or auto (default:\n"
		   "                         bpf when it loads, else tracefs)\n"
		   "\nExamples:\n"
		   "  mmaplock top                       # per memory cgroup, every second\n"
		   "  mmaplock top --by process -i 2     # per process, every 2 s\n"
		   "  mmaplock top --by pod              # per Kubernetes pod\n"
		   "  mmaplock top -n 5 > top.log        # five plain snapshots\n");
}

static const struct option top_lo[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "by", required_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "backend", required_argument, NULL, 'B' },
	{ "pods-dir", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
/* --by, --backend and --pods-dir are long only: 'b' and 'B' are not among the short options */
static const struct cmdargs_opts top_options = { top_lo, "i:n:h" };

/* Options into t and *backend. -1: go on; else the exit status (--help: 0, usage: 2). */
static int parse(struct top *t, int argc, char **argv, const char **backend)
{
	char *end;
	int c;

	if (cmdargs_list(argc, argv, &top_options))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, top_options.shortopts, top_options.lo, NULL)) != -1) {
		const char *v = optarg;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'i':
			errno = 0;
			t->interval = strtod(v, &end);
			if (errno || end == v || *end || !(t->interval >= 0.1) || t->interval > 86400) {
				fprintf(stderr, "mmaplock top: -i: '%s' is not a number of seconds (0.1 to 86400)\n", v);
				return 2;
			}
			break;
		case 'b':
			if (!strcmp(v, "memcg"))
				t->by = AGG_BY_MEMCG;
			else if (!strcmp(v, "process"))
				t->by = AGG_BY_PROCESS;
			else if (!strcmp(v, "mm"))
				t->by = AGG_BY_MM;
			else if (!strcmp(v, "container"))
				t->by = AGG_BY_CONTAINER;
			else if (!strcmp(v, "pod"))
				t->by = AGG_BY_POD;
			else if (!strcmp(v, "unit"))
				t->by = AGG_BY_UNIT;
			else {
				fprintf(stderr, "mmaplock top: --by: '%s' is not memcg, process, mm, "
					"container, pod or unit\n", v);
				return 2;
			}
			break;
		case 'P':
			t->pods_dir = v;
			break;
		case 'n':
			errno = 0;
			t->iterations = strtol(v, &end, 10);
			if (errno || end == v || *end || t->iterations < 1) {
				fprintf(stderr, "mmaplock top: -n: '%s' is not a positive count\n", v);
				return 2;
			}
			break;
		case 'B':
			if (!backend_name_valid(v)) {
				fprintf(stderr, "mmaplock top: --backend: '%s' is not tracefs, bpf or auto\n", v);
				return 2;
			}
			*backend = v;
			break;
		default:
			cmdargs_bad("mmaplock top", argv, &top_options);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmaplock top: %s: unexpected argument (see --help)\n", argv[optind]);
		return 2;
	}
	return -1;
}

int cmd_top(int argc, char **argv)
{
	struct top t = { .sort = 'w', .interval = 1.0, .by = AGG_BY_MEMCG };
	enum agg_by by;
	const char *backend = "auto";
	struct mml_meta *meta;
	struct backend *b;
	char err[256], note[256];
	int rc;

	rc = parse(&t, argc, argv, &backend);
	if (rc >= 0)
		return rc;
	t.tty = isatty(STDOUT_FILENO);
	if (t.tty) {
		/* SA_RESTART: a resize must not fail the back-end's reads */
		struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
	}
	meta = meta_new();
	t.pods = ctr_pods_new(t.pods_dir);
	by = agg_by_identity(t.by) ? AGG_BY_MEMCG : t.by;	/* folded per window */
	if (!meta || !t.pods) {
		ctr_pods_free(t.pods);
		meta_free(meta);
		fprintf(stderr, "mmaplock top: out of memory\n");
		return 1;
	}
	struct backend_opts bo = { .need = BACKEND_CAP_WINDOWS, .by = by,
				   .win_ns = (uint64_t)(t.interval * 1e9), .prog = "mmaplock top" };
	struct backend_sink sink = { .window = on_window, .ctx = &t };
	b = backend_open(backend, &bo, &sink, meta, err, sizeof(err), note, sizeof(note));
	if (note[0])
		fprintf(stderr, "mmaplock top: %s\n", note);
	if (!b) {
		fprintf(stderr, "mmaplock top: %s\n", err[0] ? err : "no live back-end");
		ctr_pods_free(t.pods);
		meta_free(meta);
		return 1;
	}
	sig_install();
	rc = backend_run(b, 0, TOP_PERIOD_MS, on_poll, &t);
	if (t.entered)
		term_leave(&t);
	if (rc && b->err[0])
		fprintf(stderr, "mmaplock top: %s\n", b->err);
	if (!rc && t.werr) {
		fprintf(stderr, "mmaplock top: stdout: write error: %s\n", strerror(t.werr));
		rc = 1;
	}
	backend_close(b);
	ctr_pods_free(t.pods);
	meta_free(meta);
	free(t.rows);
	return rc;
}
