/* SPDX-License-Identifier: MIT */
/*
 * report-run.c: argument parsing and the run of `mmaplock report` (also
 * stat's): open the source, feed batches of events to the pairing machine,
 * whose subscribers (aggregation; blame, stacks and the HTML passes when
 * asked) keep what the report needs, then sort the groups and hand the
 * view (output/report.h) to one output. Memory is the source's buffers,
 * the open pairing states and the groups: nothing per event.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "report-run.h"
#include "agg-ident.h"
#include "report.h"
#include "cmdargs.h"
#include "names.h"
#include "idmap.h"
#include "source.h"
#include "outfile.h"
#include "report-html.h"
#include "stackagg.h"
#include "stacks.h"

#define BATCH 4096

void report_usage(FILE *f)
{
	fprintf(f,
"usage: mmaplock report [FILE] [--by memcg|process|task|mm|container|pod|unit|holder]\n"
"                       [--sort wait|hold|count] [--top N] [--hist] [--json | --csv]\n"
"                       [--html OUT.html] [--html-worst N] [--stacks [N]] [--no-resolve]\n"
"                       [--pods-dir DIR]\n\n"
"Pair the mmap_lock events of FILE (default mmaplock.data) into waits and holds and\n"
"print them per group. FILE: a mmaplock trace, a trace-cmd trace.dat, or text from\n"
"the tracefs trace/trace_pipe files, trace-cmd report or perf script ('-': stdin).\n\n"
"  --by KEY     group by memcg (default: cgroup path), process (comm[tgid]),\n"
"               task (comm[tid]), mm (address space), container (Kubernetes,\n"
"               Docker or Podman container of the memcg), pod (Kubernetes pod),\n"
"               unit (systemd unit, user slice, session; docs/CONTAINERS.md),\n"
"               or holder: who held the lock while others waited, with the\n"
"               overlapping time (blamed_ns) per holder task and per holder\n"
"               cgroup -> victim memcg\n"
"  --sort KEY   order by total wait (default), total hold or acquisitions\n"
"  --top N      only the first N groups\n"
"  --hist       log2 histograms of wait and hold per group\n"
"  --json       JSON (docs/JSON.md)\n"
"  --csv        CSV: a header line and one row per group\n"
"  --html OUT   write one self-contained HTML page to OUT: summary, a latency\n"
"               heatmap over time, rates and wait p99 per interval, the\n"
"               longest waits each in a window of its mm, latency histograms,\n"
"               the blame matrix, flame graphs and top kernel stacks (traces\n"
"               of record --stack) (docs/REPORT.md); '-': to stdout\n"
"  --html-worst N  the page's longest waits: N of them (1 to 100, default 10)\n"
"  --stacks [N] after the report, the N (default 10) kernel call stacks with the\n"
"               most wait time and the N with the most hold time: count, total,\n"
"               max, share, who took them, the frames (record --stack)\n"
"  --no-resolve text and trace.dat inputs carry memcg ids without paths: by\n"
"               default an id that names a memory cgroup on this machine now is\n"
"               shown as its path with a '*' (resolved at report time: the id\n"
"               may have been reused); with this, memcg_id:N (another machine's\n"
"               trace)\n"
"  --pods-dir DIR\n"
"               the kubelet's pod log directories <namespace>_<pod>_<uid>, which\n"
"               name pods (default: $" CTR_PODS_ENV ", else " CTR_PODS_DIR_DEFAULT ")\n\n"
"Examples:\n"
"  mmaplock report                       # mmaplock.data, per memcg\n"
"  mmaplock report --by process --top 5  # the five processes that waited longest\n"
"  mmaplock report --by holder --json    # who blocked whom, in JSON\n"
"  mmaplock report --by pod              # per Kubernetes pod (namespace/name)\n"
"  mmaplock report --html report.html    # the same as pictures, for a browser\n"
"  mmaplock report --stacks 5            # which kernel paths waited and held longest\n"
"  trace-cmd report | mmaplock report -  # text from trace-cmd\n");
}

/* stat passes these through (report_options): an entry here is an option of both. */
static const struct option lo[] = {
	{ "by", required_argument, NULL, 'b' },
	{ "sort", required_argument, NULL, 's' },
	{ "top", required_argument, NULL, 't' },
	{ "hist", no_argument, NULL, 'H' },
	{ "json", no_argument, NULL, 'j' },
	{ "csv", no_argument, NULL, 'c' },
	{ "html", required_argument, NULL, 'T' },
	{ "html-worst", required_argument, NULL, 'W' },
	{ "stacks", optional_argument, NULL, 'S' },
	{ "no-resolve", no_argument, NULL, 'R' },
	{ "pods-dir", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
const struct cmdargs_opts report_options = { lo, "h" };

/* A count from 1 to max (out of range, signed or not a number: one line); 0 or -1. */
static int count_arg(const char *opt, const char *v, long max, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || !*v || *end || x <= 0 || x > max) {
		fprintf(stderr, "mmaplock report: %s %s: not a number from 1 to %ld\n", opt, v, max);
		return -1;
	}
	*out = x;
	return 0;
}

int report_parse_args(struct report_opts *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->path = "mmaplock.data";
	if (cmdargs_list(argc, argv, &report_options))
		return 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, report_options.shortopts, lo, NULL)) != -1) {
		switch (c) {
		case 'b': {
			/* holder: per task, with the blame table */
			static const char *const names[] = {
				"memcg", "process", "task", "mm", "holder", "container", "pod",
				"unit", NULL,
			};
			static const enum agg_by by[] = {
				AGG_BY_MEMCG, AGG_BY_PROCESS, AGG_BY_TASK, AGG_BY_MM, AGG_BY_TASK,
				AGG_BY_CONTAINER, AGG_BY_POD, AGG_BY_UNIT,
			};
			int i = cmdargs_keyword("mmaplock report", "--by", optarg, names);
			if (i < 0)
				return -1;
			o->by = by[i];
			o->holder = !strcmp(names[i], "holder");
			break;
		}
		case 's': {
			static const char *const names[] = { "wait", "hold", "count", NULL };
			static const enum agg_sort sort[] = { AGG_SORT_WAIT, AGG_SORT_HOLD, AGG_SORT_COUNT };
			int i = cmdargs_keyword("mmaplock report", "--sort", optarg, names);
			if (i < 0)
				return -1;
			o->sort = sort[i];
			break;
		}
		case 't':
			if (count_arg("--top", optarg, 1000000000, &o->top))
				return -1;
			break;
		case 'H': o->hist = 1; break;
		case 'j': o->json = 1; break;
		case 'c': o->csv = 1; break;
		case 'R': o->no_resolve = 1; break;
		case 'P': o->pods_dir = optarg; break;
		case 'T': o->html = optarg; break;
		case 'W': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v <= 0 || v > WORST_MAX) {
				fprintf(stderr, "mmaplock report: --html-worst %s: not a number from 1 "
					"to %d\n", optarg, WORST_MAX);
				return -1;
			}
			o->html_worst = v;
			break;
		}
		case 'S': {
			/* --stacks, --stacks=N, or --stacks N (the next argument all digits) */
			const char *v = optarg;
			if (!v)
				v = cmdargs_optional_number(argc, argv);
			if (!v) {
				o->stacks = 10;
				break;
			}
			if (count_arg("--stacks", v, 100000, &o->stacks))
				return -1;
			break;
		}
		case 'h':
			report_usage(stdout);
			return 1;
		default:
			cmdargs_bad("mmaplock report", argv, &report_options);
			return -1;
		}
	}
	if (o->html && (o->holder || o->json || o->csv || o->hist)) {
		fprintf(stderr, "mmaplock report: --html goes alone (it holds the blame and histograms)\n");
		return -1;
	}
	if (o->holder && o->hist) {
		fprintf(stderr, "mmaplock report: --hist does not apply to --by holder\n");
		return -1;
	}
	if (o->stacks && (o->csv || o->html || (o->holder && o->json))) {
		fprintf(stderr, "mmaplock report: --stacks does not go with --csv, --html (it has "
			"its own top stacks) or --by holder --json\n");
		return -1;
	}
	if (o->json + o->csv > 1) {
		fprintf(stderr, "mmaplock report: --json and --csv exclude each other\n");
		return -1;
	}
	if (o->html_worst && !o->html) {
		fprintf(stderr, "mmaplock report: --html-worst goes with --html\n");
		return -1;
	}
	if (cmdargs_input("mmaplock report", argc, argv, &o->path))
		return -1;
	if (o->html && outfile_check("mmaplock report", "--html", o->html, &o->path, 1))
		return -1;
	return 0;
}

/* The memcg ids of a batch's mmap_lock events, into the set ids. 0 or -1 (no memory). */
static int note_memcgs(struct idmap *ids, const struct mml_event *ev, long n)
{
	uint64_t last = 0;

	for (long i = 0; i < n; i++)
		if (ev[i].type <= MML_EV_RELEASED && ev[i].memcg && ev[i].memcg != last) {
			last = ev[i].memcg;
			if (idmap_put(ids, last, NULL) < 0)
				return -1;
		}
	return 0;
}

/*
 * pump(): feed every event of s, in batches, to the pairing (and through it
 * to the aggregation and any interval hook); ids (or NULL) collects the
 * memcg ids met. 0 at the end of the input; 1 out of memory, 2 bad input,
 * each with its one-line message printed.
 */
static int pump(struct source *s, struct pair *p, struct mml_event *ev, struct idmap *ids)
{
	long n;

	while ((n = source_next(s, ev, BATCH)) > 0)
		if (pair_feed(p, ev, (size_t)n) || (ids && note_memcgs(ids, ev, n))) {
			/* every subscriber fails only for want of memory */
			fprintf(stderr, "mmaplock report: out of memory\n");
			return 1;
		}
	if (n < 0) {
		fprintf(stderr, "mmaplock report: %s\n", source_error(s));
		return 2;
	}
	return 0;
}

/* What one run of the pipeline holds: the pairing and its subscribers. */
struct run {
	struct mml_meta *meta;
	struct pair pair;
	struct agg agg;
	struct agg byid;		/* --by container|pod|unit: folded from agg (by memcg) */
	struct ctr_pods *pods;		/* names pods for the identity fields */
	struct blame blame;		/* --by holder, --html */
	struct blame_result br;
	struct report_html html;	/* --html: over time, the longest waits */
	struct stackagg sa;		/* --stacks, --html */
	struct run_stats stats;
};

/* The pairing and the subscribers that o asks for. -1: out of memory. */
static int run_subscribe(struct run *x, const struct report_opts *o)
{
	/* the aggregation first: it keeps its groups in the pairing states' slots */
	/* identity groups are folded from memcg groups at the end (agg-ident.h) */
	if (pair_init(&x->pair) ||
	    agg_attach(&x->agg, &x->pair, agg_by_identity(o->by) ? AGG_BY_MEMCG : o->by, x->meta) ||
	    !(x->pods = ctr_pods_new(o->pods_dir)))
		return -1;
	if ((o->holder || o->html) &&
	    (blame_init(&x->blame, x->meta) ||
	     pair_subscribe(&x->pair, blame_hook, &x->blame, PAIR_INTERVALS)))
		return -1;
	if (o->html && report_html_subscribe(&x->html, &x->pair, &x->agg, o->html_worst))
		return -1;
	if ((o->stacks || o->html) &&
	    (stackagg_init(&x->sa, x->meta) ||
	     pair_subscribe(&x->pair, stackagg_hook, &x->sa, STACKAGG_KINDS)))
		return -1;
	return 0;
}

static void run_free(struct run *x)
{
	stackagg_fini(&x->sa);
	report_html_free(&x->html);
	blame_result_free(&x->br);
	if (x->blame.tid_wait)
		blame_fini(&x->blame);
	pair_fini(&x->pair);
	if (x->agg.tab.cap)
		agg_fini(&x->agg);
	if (x->byid.tab.cap)
		agg_fini(&x->byid);
	ctr_pods_free(x->pods);
}

/* The view of what was read from s (after pair_finish). -1: out of memory. */
static int run_view(struct run *x, const struct report_opts *o, const struct source *s,
		    struct report *r)
{
	pair_stats(&x->pair, &x->stats);
	x->stats.lost = meta_lost_total(x->meta);
	r->format = s->ops->name;
	r->stats = &x->stats;
	r->meta = x->meta;
	r->duration_ns = s->end_ts > s->start_ts ? s->end_ts - s->start_ts : 0;
	r->start_ts = s->start_ts;
	r->skipped = s->skipped;
	r->truncated = s->truncated;
	r->damaged_blocks = s->damaged_blocks;
	r->damaged_bytes = s->damaged_bytes;
	r->agg = &x->agg;
	r->pods = x->pods;
	if (agg_by_identity(o->by)) {
		if (agg_init(&x->byid, o->by, x->meta) || agg_regroup(&x->byid, &x->agg, x->pods))
			return -1;
		r->agg = &x->byid;
	}
	r->has_stacks = x->stats.stack_events || stacktab_count(meta_stacks(x->meta));
	if (o->stacks || o->html)
		r->sa = &x->sa;
	if (x->sa.oom || !(r->groups = agg_sorted(r->agg, o->sort)))
		return -1;
	r->total_groups = r->ngroups = r->agg->tab.n;
	if (o->top && (size_t)o->top < r->ngroups)
		r->ngroups = (size_t)o->top;
	if (o->html || o->holder) {
		if (x->blame.oom || blame_result(&x->blame, &x->br))
			return -1;
		r->blame = &x->blame;
		r->br = &x->br;
	}
	return 0;
}

/* --html: the second reading (report-html.c), then the page. 0, 1 or 2. */
static int print_html(struct run *x, const struct report_opts *o, struct report *r, FILE *out)
{
	struct outfile hf;

	if (report_html_pass2(&x->html, r, o->path))
		return 2;
	if (!strcmp(o->html, "-")) {	/* where the report would go, as export -o - */
		out_html(r, out);
		if (fflush(out) || ferror(out)) {
			fprintf(stderr, "mmaplock report: --html -: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}
	if (outfile_open(&hf, "mmaplock report", o->html))
		return 1;
	out_html(r, hf.f);
	if (outfile_commit(&hf, "mmaplock report"))
		return 1;
	fprintf(out, "mmaplock report: wrote %s\n", o->html);
	return 0;
}

/* out could not be written (disk full, a closed pipe with SIGPIPE ignored): one line, 1. */
static int write_failed(void)
{
	fprintf(stderr, "mmaplock report: stdout: write error: %s\n", strerror(errno ? errno : EIO));
	return 1;
}

/* The one output o asks for, to out (--html: to its file). 0, 1 or 2. */
static int print(struct run *x, const struct report_opts *o, struct report *r, FILE *out)
{
	char buf[16384];
	struct ob ob;

	if (o->html)
		return print_html(x, o, r, out);
	ob_init_file(&ob, out, buf, sizeof(buf));
	if (o->holder) {
		if (o->top && (size_t)o->top < x->br.nholders)
			x->br.nholders = (size_t)o->top;
		if (o->json)
			out_blame_json(r, &ob);
		else if (o->csv)
			out_blame_csv(r, &ob);
		else
			out_blame_table(r, &ob);
	} else if (o->json)
		out_json(r, &ob);
	else if (o->csv)
		out_csv(r, &ob);
	else if (o->hist)
		out_hist(r, &ob);
	else
		out_table(r, &ob);
	if (o->stacks && !o->json)
		out_stacks_table(r, &ob);
	if (o->stacks && o->json && !r->has_stacks)
		fprintf(stderr, "mmaplock report: no kernel stacks in this trace (record with --stack)\n");
	return ob_flush(&ob) ? write_failed() : 0;
}

int report_run(const struct report_opts *o, FILE *out)
{
	struct mml_event *ev = malloc(BATCH * sizeof(*ev));
	struct source *s = NULL;
	struct run x = { .meta = meta_new() };
	/* stat's report of a recording it does not keep: a name, not a path that is gone */
	const char *shown = getenv("MMAPLOCK_STAT_INPUT");
	struct report r = { .input = shown && *shown ? shown : o->path, .stacks = o->stacks };
	struct idmap ids = { 0 };	/* memcg ids of the events, to name now */
	int resolve;
	char err[300];
	int rc = 1, damaged;

	if (!x.meta || !ev || run_subscribe(&x, o)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	s = source_open(o->path, x.meta, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "mmaplock report: %s\n", err);
		rc = 2;
		goto out;
	}
	/* only inputs whose ids come without paths (docs/REPORT.md, "memcg names") */
	resolve = !o->no_resolve && (s->ops == &source_text_ops || s->ops == &source_tracedat_ops);
	if ((rc = pump(s, &x.pair, ev, resolve ? &ids : NULL)))
		goto out;
	if (resolve) {
		struct names nm = { 0 };

		r.memcg_now = names_memcg_now(&nm, x.meta, &ids);
		names_fini(&nm);
	}
	pair_finish(&x.pair);
	/* damaged or cut: what could be read is reported, then exit 3 */
	damaged = source_damage_note(s, "mmaplock report", o->path);
	if (run_view(&x, o, s, &r)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		rc = 1;
		goto out;
	}
	if (!(rc = print(&x, o, &r, out)))
		rc = fflush(out) ? write_failed() : damaged ? EXIT_DAMAGED : 0;
out:
	free(r.groups);
	idmap_free(&ids);
	run_free(&x);
	source_close(s);
	meta_free(x.meta);
	free(ev);
	return rc;
}
