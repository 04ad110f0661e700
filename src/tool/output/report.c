/* SPDX-License-Identifier: MIT */
/*
 * report.c: argument parsing and the run of `mmaplock report`: open the
 * source, feed batches of events to the pairing machine (which feeds the
 * aggregation), then sort the groups and hand them to one sink. Memory is
 * the source's buffers, the open pairing states and the groups: nothing
 * per event.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "cmdargs.h"
#include "cgroupfs.h"
#include "idmap.h"
#include "source.h"
#include "export.h"
#include "outfile.h"
#include "stackagg.h"
#include "stacks.h"
#include "agg-ident.h"

#define BATCH 4096

void report_usage(FILE *f)
{
	fprintf(f,
"usage: mmaplock report [FILE] [--by memcg|process|task|mm|container|pod|unit|holder]\n"
"                       [--sort wait|hold|count] [--top N] [--hist] [--json | --csv]\n"
"                       [--html OUT.html] [--stacks [N]] [--no-resolve] [--pods-dir DIR]\n\n"
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
"  --html OUT   write one self-contained HTML page to OUT: summary, latency\n"
"               histograms, a timeline of the busiest mm, the blame matrix,\n"
"               the top kernel stacks (traces of record --stack)\n"
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
	{ "stacks", optional_argument, NULL, 'S' },
	{ "no-resolve", no_argument, NULL, 'R' },
	{ "pods-dir", required_argument, NULL, 'P' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
const struct cmdargs_opts report_options = { lo, "h" };

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
			if (!strcmp(names[i], "holder"))
				o->holder = 1;
			break;
		}
		case 's': {
			/* in enum report_sort's order */
			static const char *const names[] = { "wait", "hold", "count", NULL };
			int i = cmdargs_keyword("mmaplock report", "--sort", optarg, names);
			if (i < 0)
				return -1;
			o->sort = (enum report_sort)i;
			break;
		}
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end || v <= 0) {
				fprintf(stderr, "mmaplock report: --top %s: not a positive number\n", optarg);
				return -1;
			}
			o->top = v;
			break;
		}
		case 'H': o->hist = 1; break;
		case 'j': o->json = 1; break;
		case 'c': o->csv = 1; break;
		case 'R': o->no_resolve = 1; break;
		case 'P': o->pods_dir = optarg; break;
		case 'T': o->html = optarg; break;
		case 'S': {
			/* --stacks, --stacks=N, or --stacks N (the next argument all digits) */
			const char *v = optarg;
			char *end;
			long x;
			if (!v)
				v = cmdargs_optional_number(argc, argv);
			if (!v) {
				o->stacks = 10;
				break;
			}
			x = strtol(v, &end, 10);
			if (!*v || *end || x <= 0 || x > 100000) {
				fprintf(stderr, "mmaplock report: --stacks %s: not a number from 1 to 100000\n", v);
				return -1;
			}
			o->stacks = x;
			break;
		}
		case 'h':
			report_usage(stdout);
			return 1;
		default:
			cmdargs_bad_option("mmaplock report", argv, "h", "bstTP");
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
	if (cmdargs_input("mmaplock report", argc, argv, &o->path))
		return -1;
	if (o->html && outfile_check("mmaplock report", "--html", o->html, &o->path, 1))
		return -1;
	return 0;
}

const char *report_damage(const struct report *r, char *buf, size_t len)
{
	if (!r->damaged_blocks && !r->truncated)
		return NULL;
	if (!r->damaged_blocks)
		snprintf(buf, len, "truncated (not closed by its writer)");
	else
		snprintf(buf, len, "%s%" PRIu64 " damaged block%s (%" PRIu64 " bytes) skipped",
			 r->truncated ? "truncated, " : "", r->damaged_blocks,
			 r->damaged_blocks == 1 ? "" : "s", r->damaged_bytes);
	return buf;
}

uint64_t report_acquisitions(const struct agg_group *g)
{
	return g->acq_read + g->acq_write;
}

uint64_t report_contended(const struct report *r, const struct agg_group *g)
{
	return r->pair->contention_events ? g->contended_marked : g->contended_long;
}

static enum report_sort sort_key;

static int cmp_group(const void *a, const void *b)
{
	const struct agg_group *x = *(const struct agg_group *const *)a;
	const struct agg_group *y = *(const struct agg_group *const *)b;
	uint64_t u, v;

	switch (sort_key) {
	case SORT_HOLD:
		u = x->hold.total, v = y->hold.total;
		break;
	case SORT_COUNT:
		u = report_acquisitions(x), v = report_acquisitions(y);
		break;
	default:
		u = x->wait.total, v = y->wait.total;
		break;
	}
	if (u != v)
		return u > v ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;	/* stable output */
}

/* --html, first pass: blame, and the wait time per mm (to find the busiest). */
struct html_pass1 {
	struct blame *blame;
	struct u64map mm_wait;
	int oom;
};

static void html_hook1(void *ctx, const struct pair_interval *iv)
{
	struct html_pass1 *h = ctx;

	blame_hook(h->blame, iv);
	if (iv->kind == PAIR_WAIT || iv->kind == PAIR_FAILED) {
		uint64_t *w = u64map_get(&h->mm_wait, iv->mm, 1);
		if (w)
			*w += iv->end_ts - iv->start_ts;
		else
			h->oom = 1;
	}
}

#define HTML_TIMELINE 4000	/* intervals of the busiest mm drawn, at most */

/* --html, second pass: the first HTML_TIMELINE intervals of r->tl_mm. */
static void html_hook2(void *ctx, const struct pair_interval *iv)
{
	struct report *r = ctx;

	if (iv->mm != r->tl_mm ||
	    (iv->kind != PAIR_WAIT && iv->kind != PAIR_FAILED && iv->kind != PAIR_HOLD))
		return;
	if (r->ntl < HTML_TIMELINE)
		r->tl[r->ntl++] = *iv;
	else
		r->tl_truncated = 1;
}

/* --stacks, --html: the per-stack sums see every interval, then the other hook. */
struct hook_chain {
	struct stackagg *sa;
	pair_hook next;
	void *next_ctx;
};

static void chain_hook(void *ctx, const struct pair_interval *iv)
{
	struct hook_chain *c = ctx;

	stackagg_hook(c->sa, iv);
	if (c->next)
		c->next(c->next_ctx, iv);
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
			fprintf(stderr, "mmaplock report: out of memory\n");
			return 1;
		}
	if (n < 0) {
		fprintf(stderr, "mmaplock report: %s\n", source_error(s));
		return 2;
	}
	return 0;
}

/* Read path again for the timeline of r->tl_mm. 0, or -1 after a message. */
static int html_pass2(struct report *r, const char *path)
{
	struct mml_meta *meta = meta_new();
	struct mml_event *ev = malloc(BATCH * sizeof(*ev));
	struct agg agg = { 0 };
	struct pair pair = { 0 };
	struct source *s = NULL;
	char err[300];
	int rc = -1;

	r->tl = malloc(HTML_TIMELINE * sizeof(*r->tl));
	if (!meta || !ev || !r->tl || agg_init(&agg, AGG_BY_MM, meta) || pair_init(&pair, &agg)) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	pair.on_interval = html_hook2;
	pair.hook_ctx = r;
	if (!(s = source_open(path, meta, err, sizeof(err)))) {
		fprintf(stderr, "mmaplock report: %s\n", err);
		goto out;
	}
	if (pump(s, &pair, ev, NULL))
		goto out;
	rc = 0;
out:
	source_close(s);
	pair_fini(&pair);
	if (agg.g)
		agg_fini(&agg);
	meta_free(meta);
	free(ev);
	return rc;
}

int report_run(const struct report_opts *o, FILE *out)
{
	struct mml_meta *meta = meta_new();
	struct mml_event *ev = malloc(BATCH * sizeof(*ev));
	struct source *s = NULL;
	struct agg agg = { 0 }, byid = { 0 };	/* byid: --by container|pod|unit */
	struct pair pair = { 0 };
	struct blame blame = { 0 };
	struct blame_result br = { 0 };
	struct html_pass1 h1 = { .blame = &blame };
	struct stackagg sa = { 0 };
	struct hook_chain chain = { .sa = &sa };
	struct report r = { .o = o, .input = o->path };
	struct idmap ids = { 0 };	/* memcg ids of the events, to name now */
	int resolve;
	char err[300];
	int rc = 1, damaged;

	/* identity groups are folded from memcg groups at the end (agg-ident.h) */
	if (!meta || !ev || agg_init(&agg, agg_by_identity(o->by) ? AGG_BY_MEMCG : o->by, meta) ||
	    pair_init(&pair, &agg) || !(r.pods = ctr_pods_new(o->pods_dir))) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	if (o->holder || o->html) {
		if (blame_init(&blame, meta)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			goto out;
		}
		pair.on_interval = blame_hook;
		pair.hook_ctx = &blame;
	}
	if (o->html) {
		pair.on_interval = html_hook1;
		pair.hook_ctx = &h1;
	}
	if (o->stacks || o->html) {
		if (stackagg_init(&sa, meta)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			goto out;
		}
		chain.next = pair.on_interval;
		chain.next_ctx = pair.hook_ctx;
		pair.on_interval = chain_hook;
		pair.hook_ctx = &chain;
		r.sa = &sa;
	}
	s = source_open(o->path, meta, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "mmaplock report: %s\n", err);
		rc = 2;
		goto out;
	}
	/* only inputs whose ids come without paths (docs/REPORT.md, "memcg names") */
	resolve = !o->no_resolve && (s->ops == &source_text_ops || s->ops == &source_tracedat_ops);
	if ((rc = pump(s, &pair, ev, resolve ? &ids : NULL)))
		goto out;
	rc = 1;
	if (resolve)
		r.memcg_now = cgroupfs_name_now(meta, &ids);
	pair_finish(&pair);
	/* damaged or cut: what could be read is reported, then exit 3 */
	damaged = source_damage_note(s, "mmaplock report", o->path);

	r.format = s->ops->name;
	r.events = pair.events;
	r.lost = meta_lost_total(meta);
	r.duration_ns = s->end_ts > s->start_ts ? s->end_ts - s->start_ts : 0;
	r.skipped = s->skipped;
	r.truncated = s->truncated;
	r.damaged_blocks = s->damaged_blocks;
	r.damaged_bytes = s->damaged_bytes;
	r.agg = &agg;
	if (agg_by_identity(o->by)) {
		if (agg_init(&byid, o->by, meta) || agg_regroup(&byid, &agg, r.pods)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			goto out;
		}
		r.agg = &byid;
	}
	r.pair = &pair;
	r.has_stacks = pair.stack_events || stacktab_count(meta_stacks(meta));
	if (sa.oom) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	r.groups = malloc((r.agg->n ? r.agg->n : 1) * sizeof(*r.groups));
	if (!r.groups) {
		fprintf(stderr, "mmaplock report: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < r.agg->cap; i++)
		if (r.agg->g[i])
			r.groups[r.ngroups++] = r.agg->g[i];
	sort_key = o->sort;
	qsort(r.groups, r.ngroups, sizeof(*r.groups), cmp_group);
	r.total_groups = r.ngroups;
	if (o->top && (size_t)o->top < r.ngroups)
		r.ngroups = (size_t)o->top;

	if (o->html) {
		struct outfile hf;
		uint64_t best = 0;

		if (blame.oom || h1.oom || blame_result(&blame, &br)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			free(r.groups);
			goto out;
		}
		r.blame = &blame;
		r.br = &br;
		/* the mm waited on longest; a tie goes to the lower mm (not to table order) */
		for (struct u64map_ent *e = NULL; (e = u64map_tab_next(&h1.mm_wait, e));)
			if (e->val > best || (e->val == best && e->key < r.tl_mm)) {
				best = e->val;
				r.tl_mm = e->key;
			}
		if (best && strcmp(o->path, "-") && html_pass2(&r, o->path)) {
			free(r.groups);
			rc = 2;
			goto out;
		}
		if (outfile_open(&hf, "mmaplock report", o->html)) {
			free(r.groups);
			goto out;
		}
		out_html(&r, hf.f);
		if (outfile_commit(&hf, "mmaplock report")) {
			free(r.groups);
			goto out;
		}
		fprintf(out, "mmaplock report: wrote %s\n", o->html);
	} else if (o->holder) {
		if (blame.oom || blame_result(&blame, &br)) {
			fprintf(stderr, "mmaplock report: out of memory\n");
			free(r.groups);
			goto out;
		}
		r.blame = &blame;
		r.br = &br;
		if (o->top && (size_t)o->top < br.nholders)
			br.nholders = (size_t)o->top;
		if (o->json)
			out_blame_json(&r, out);
		else if (o->csv)
			out_blame_csv(&r, out);
		else
			out_blame_table(&r, out);
	} else if (o->json)
		out_json(&r, out);
	else if (o->csv)
		out_csv(&r, out);
	else if (o->hist)
		out_hist(&r, out);
	else
		out_table(&r, out);
	if (o->stacks && !o->json)
		out_stacks_table(&r, out);
	if (o->stacks && o->json && !r.has_stacks)
		fprintf(stderr, "mmaplock report: no kernel stacks in this trace (record with --stack)\n");
	rc = fflush(out) ? 1 : damaged ? EXIT_DAMAGED : 0;
	free(r.groups);
out:
	idmap_free(&ids);
	free(r.tl);
	stackagg_fini(&sa);
	u64map_free(&h1.mm_wait);
	blame_result_free(&br);
	if (blame.mm)
		blame_fini(&blame);
	source_close(s);
	pair_fini(&pair);
	if (agg.g)
		agg_fini(&agg);
	if (byid.g)
		agg_fini(&byid);
	ctr_pods_free(r.pods);
	meta_free(meta);
	free(ev);
	return rc;
}
