/* SPDX-License-Identifier: MIT */
/*
 * cmd-check.c: `mmaplock check`: read a trace, run the usage rules of
 * check.c over it, print the findings (text, or --json), exit 0 when clean,
 * 1 with findings, 2 on bad arguments or input. Findings are kept (up to
 * CHECK_KEEP; all are counted) and printed at the end, when the trace's
 * task names are known. A finding whose events had kernel stacks prints
 * them: frames indented under it, or "stack" / "stack2" arrays in JSON.
 * The memcg ids of the findings of a text or trace.dat input (which carry
 * no paths) are named from this machine's cgroups as report names them
 * (names_memcg_now: marked '*', with report's footnote) unless --no-resolve.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cmds.h"
#include "cmdargs.h"
#include "idmap.h"
#include "names.h"
#include "ob.h"
#include "report.h"
#include "source.h"
#include "stacks.h"

#define CHECK_KEEP 10000
#define BATCH 4096

static void usage(FILE *f)
{
	fprintf(f,
"usage: mmaplock check [FILE] [--max-hold MS] [--json] [--no-resolve]\n\n"
"Verify how the mmap_lock is used in FILE (default mmaplock.data; any input that\n"
"`mmaplock report` reads: kernel or libmmaplock traces, trace.dat, text, '-').\n"
"Findings: release_without_acquire, double_release, self_deadlock (start_locking\n"
"on an mm the task holds), write_after_read (asks for write while holding for\n"
"read), irq_context (acquisition in hardirq, softirq or NMI context),\n"
"long_hold (with --max-hold) and order_inversion (mm A then B held together in\n"
"one task, B then A in another). Each names tasks, mms, the memcg and timestamps,\n"
"and prints the kernel stacks of its events when the trace has them (record --stack).\n"
"Exit status: 0 clean, 1 findings, 2 bad arguments or input, 3 damaged input\n"
"(read past the damage; docs/CHECK.md).\n\n"
"  --max-hold MS  report holds longer than MS milliseconds (default: not checked)\n"
"  --json         JSON: counts per kind and the findings\n"
"  --no-resolve   text and trace.dat inputs carry memcg ids without paths: by\n"
"                 default an id that names a memory cgroup on this machine now\n"
"                 is shown as its path with a '*' (looked up now: the id may\n"
"                 have been reused); with this, memcg_id:N (another machine's)\n\n"
"Examples:\n"
"  mmaplock check                        # mmaplock.data\n"
"  mmaplock check --max-hold 10 app.mml  # also holds over 10 ms\n"
"  mmaplock check --json trace.dat | jq .counts\n");
}

struct run {
	struct mml_meta *meta;
	struct check_finding *keep;
	size_t nkeep;
};

static void keep(void *ctx, const struct check_finding *f)
{
	struct run *r = ctx;

	if (r->nkeep < CHECK_KEEP)
		r->keep[r->nkeep++] = *f;
}

static const char *comm(const struct run *r, uint32_t tid)
{
	const struct mml_task_info *t = meta_task(r->meta, tid);

	return t && t->comm[0] ? t->comm : "?";
}

/* " (memcg)" after a finding's task, when its event carried one */
static void text_memcg(const struct run *r, uint64_t memcg, struct ob *o)
{
	char buf[300];

	if (memcg)
		ob_printf(o, " (%s)", meta_memcg_name(r->meta, memcg, buf, sizeof(buf)));
}

/* "memcg_path", "memcg_id" and, when named now, "memcg_resolved": as report's groups */
static void json_memcg(const struct run *r, uint64_t memcg, struct ob *o)
{
	const char *p = memcg ? meta_memcg(r->meta, memcg) : NULL;

	ob_printf(o, ", \"memcg_path\": ");
	if (p)
		ob_json_str(o, p);
	else
		ob_printf(o, "null");
	ob_printf(o, ", \"memcg_id\": %" PRIu64, memcg < (1ull << 62) ? memcg : 0);
	if (meta_memcg_now(r->meta, memcg))
		ob_printf(o, ", \"memcg_resolved\": \"now\"");
}

static const char *ctx_name(uint8_t x)
{
	return x & MML_F_NMI ? "nmi" : x & MML_F_HARDIRQ ? "hardirq" : "softirq";
}

#define SEC(ns) (ns) / 1000000000u, (ns) % 1000000000u

/* The frames of stack id under a finding: "    stack at T s:", a frame a line. */
static void text_stack(const struct run *r, uint32_t id, uint64_t ts, struct ob *o)
{
	const struct mml_stack *st = meta_stack(r->meta, id);

	if (!id)
		return;
	ob_printf(o, "    stack at %" PRIu64 ".%09" PRIu64 " s:\n", SEC(ts));
	if (!st)
		ob_printf(o, "        (stack %" PRIu32 " not defined in the trace)\n", id);
	for (unsigned i = 0; st && i < st->n; i++)
		ob_printf(o, "        %s\n", st->sym[i]);
}

/* ", "key": [frames]" when id names a stack. */
static void json_stack(const struct run *r, const char *key, uint32_t id, struct ob *o)
{
	const struct mml_stack *st = meta_stack(r->meta, id);

	if (!id)
		return;
	ob_printf(o, ", \"%s\": [", key);
	for (unsigned i = 0; st && i < st->n; i++) {
		ob_printf(o, "%s", i ? ", " : "");
		ob_json_str(o, st->sym[i]);
	}
	ob_printf(o, "]");
}

static void print_text(const struct run *r, const struct check_finding *f, struct ob *o)
{
	const char *m = f->write ? "write" : "read";

	ob_printf(o, "%s: %s[%u]", check_kind_name(f->kind), comm(r, f->tid), f->tid);
	text_memcg(r, f->memcg, o);
	ob_printf(o, " mm 0x%" PRIx64 " at %" PRIu64 ".%09" PRIu64 " s: ", f->mm, SEC(f->ts));
	switch (f->kind) {
	case CK_RELEASE_WITHOUT_ACQUIRE:
		ob_printf(o, "released (%s) without holding it\n", m);
		break;
	case CK_DOUBLE_RELEASE:
		ob_printf(o, "released (%s) again; already released at %" PRIu64 ".%09" PRIu64 " s\n",
			m, SEC(f->ts2));
		break;
	case CK_SELF_DEADLOCK:
		ob_printf(o, "takes it (%s) while holding it since %" PRIu64 ".%09" PRIu64 " s\n",
			m, SEC(f->ts2));
		break;
	case CK_WRITE_AFTER_READ:
		ob_printf(o, "asks for write while holding it for read since %" PRIu64 ".%09" PRIu64
			" s\n", SEC(f->ts2));
		break;
	case CK_IRQ_CONTEXT:
		ob_printf(o, "takes it (%s) in %s context\n", m, ctx_name(f->ctx));
		break;
	case CK_LONG_HOLD:
		ob_printf(o, "held (%s) for %" PRIu64 ".%06" PRIu64 " ms since %" PRIu64 ".%09" PRIu64
			" s\n", m, f->len / 1000000, f->len % 1000000, SEC(f->ts2));
		break;
	case CK_ORDER_INVERSION:	/* f->mm: the one held, f->mm2: the one taken */
		ob_printf(o, "takes mm 0x%" PRIx64 " (%s) while holding mm 0x%" PRIx64 "; %s[%u] took "
			"mm 0x%" PRIx64 " while holding mm 0x%" PRIx64 " at %" PRIu64 ".%09" PRIu64
			" s\n", f->mm2, m, f->mm, comm(r, f->tid2), f->tid2, f->mm, f->mm2,
			SEC(f->ts2));
		break;
	default:
		ob_printf(o, "\n");
	}
	text_stack(r, f->stack, f->ts, o);
	text_stack(r, f->stack2, f->ts2, o);
}

static void print_json(const struct run *r, const struct check_finding *f, struct ob *o)
{
	char name[40];

	ob_printf(o, "{\"kind\": \"%s\", \"tid\": %u, \"comm\": ", check_kind_name(f->kind), f->tid);
	snprintf(name, sizeof(name), "%s", comm(r, f->tid));
	ob_json_str(o, name);
	ob_printf(o, ", \"mm\": \"0x%" PRIx64 "\", \"ts_ns\": %" PRIu64 ", \"write\": %s", f->mm,
		f->ts, f->write ? "true" : "false");
	json_memcg(r, f->memcg, o);
	switch (f->kind) {
	case CK_DOUBLE_RELEASE:
		ob_printf(o, ", \"first_release_ns\": %" PRIu64, f->ts2);
		break;
	case CK_SELF_DEADLOCK:
	case CK_WRITE_AFTER_READ:
		ob_printf(o, ", \"held_since_ns\": %" PRIu64, f->ts2);
		break;
	case CK_IRQ_CONTEXT:
		ob_printf(o, ", \"context\": \"%s\"", ctx_name(f->ctx));
		break;
	case CK_LONG_HOLD:
		ob_printf(o, ", \"held_since_ns\": %" PRIu64 ", \"hold_ns\": %" PRIu64, f->ts2, f->len);
		break;
	case CK_ORDER_INVERSION:
		ob_printf(o, ", \"mm2\": \"0x%" PRIx64 "\", \"tid2\": %u, \"comm2\": ", f->mm2, f->tid2);
		snprintf(name, sizeof(name), "%s", comm(r, f->tid2));
		ob_json_str(o, name);
		ob_printf(o, ", \"ts2_ns\": %" PRIu64, f->ts2);
		break;
	default:
		break;
	}
	json_stack(r, "stack", f->stack, o);
	json_stack(r, "stack2", f->stack2, o);
	ob_printf(o, "}");
}

/* --json: the whole document (docs/JSON.md, "check"). */
static void print_json_doc(const struct run *r, const struct check *ck, const struct source *s,
			   const char *path, uint64_t max_hold, uint64_t total, struct ob *o)
{
	ob_printf(o, "{\n  \"input\": ");
	ob_json_str(o, path);
	ob_printf(o, ",\n  \"format\": \"%s\",\n  \"events\": %" PRIu64 ",\n  \"lost_events\": %"
		  PRIu64 ",\n  \"max_hold_ns\": %" PRIu64 ",\n  \"findings_total\": %" PRIu64
		  ",\n  \"truncated\": %s,\n  \"damaged_blocks\": %" PRIu64
		  ",\n  \"damaged_bytes\": %" PRIu64 ",\n  \"counts\": {", s->ops->name,
		  ck->events, meta_lost_total(r->meta), max_hold, total,
		  s->truncated ? "true" : "false", s->damaged_blocks, s->damaged_bytes);
	for (int k = 0; k < CK_NKINDS; k++)
		ob_printf(o, "%s\"%s\": %" PRIu64, k ? ", " : "", check_kind_name(k), ck->count[k]);
	ob_printf(o, "},\n  \"findings\": [");
	for (size_t i = 0; i < r->nkeep; i++) {
		ob_printf(o, "%s\n    ", i ? "," : "");
		print_json(r, &r->keep[i], o);
	}
	ob_printf(o, "\n  ]\n}\n");
}

/* The findings a paragraph each, then the summary line. */
static void print_text_doc(const struct run *r, const struct check *ck, const struct source *s,
			   const char *path, uint64_t total, int damaged, long named, struct ob *o)
{
	for (size_t i = 0; i < r->nkeep; i++)
		print_text(r, &r->keep[i], o);
	if (total > r->nkeep)
		ob_printf(o, "(%" PRIu64 " more findings not shown)\n", total - r->nkeep);
	ob_printf(o, "# %s: %" PRIu64 " events, %" PRIu64 " findings", path, ck->events, total);
	for (int k = 0; k < CK_NKINDS; k++)
		if (ck->count[k])
			ob_printf(o, ", %s %" PRIu64, check_kind_name(k), ck->count[k]);
	if (damaged)
		ob_printf(o, "; input %s%" PRIu64 " damaged block%s (%" PRIu64 " bytes) skipped",
			  s->truncated ? "truncated, " : "", s->damaged_blocks,
			  s->damaged_blocks == 1 ? "" : "s", s->damaged_bytes);
	ob_printf(o, "\n");
	out_memcg_now_footnote(named, o);
}

/*
 * The memcg ids of the kept findings named from this machine's cgroups, as
 * report names a text or trace.dat input's (report-run.c): how many were.
 */
static long name_memcgs(const struct run *r)
{
	struct idmap ids = { 0 };
	struct names nm = { 0 };
	long named = 0;

	for (size_t i = 0; i < r->nkeep; i++)
		if (r->keep[i].memcg && idmap_put(&ids, r->keep[i].memcg, NULL) < 0)
			goto out;	/* no memory: the ids stay as they are */
	named = names_memcg_now(&nm, r->meta, &ids);
out:
	names_fini(&nm);
	idmap_free(&ids);
	return named;
}

int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "max-hold", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-resolve", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "mmaplock.data";
	uint64_t max_hold = 0;
	int json = 0, no_resolve = 0, c, rc = 2, damaged;
	long named = 0;
	struct run r = { 0 };
	struct check ck = { 0 };
	struct source *s = NULL;
	struct mml_event *ev = NULL;
	uint64_t total = 0;
	char err[300], obuf[16384];
	struct ob o;
	long n;

	const struct cmdargs_opts opts = { lo, "h" };

	if (cmdargs_list(argc, argv, &opts))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, opts.shortopts, lo, NULL)) != -1) {
		switch (c) {
		case 'm': {
			char *end;
			double v = strtod(optarg, &end);
			if (*optarg == 0 || *end || !(v > 0) || !isfinite(v) || v > 1e12) {
				fprintf(stderr, "mmaplock check: --max-hold %s: not a number of ms (more than 0, "
					"at most 1000000000000)\n", optarg);
				return 2;
			}
			max_hold = (uint64_t)(v * 1e6);
			break;
		}
		case 'j':
			json = 1;
			break;
		case 'R':
			no_resolve = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			cmdargs_bad("mmaplock check", argv, &opts);
			return 2;
		}
	}
	if (cmdargs_input("mmaplock check", argc, argv, &path))
		return 2;
	r.meta = meta_new();
	r.keep = malloc(CHECK_KEEP * sizeof(*r.keep));
	ev = malloc(BATCH * sizeof(*ev));
	if (!r.meta || !r.keep || !ev || check_init(&ck, max_hold, keep, &r)) {
		fprintf(stderr, "mmaplock check: out of memory\n");
		goto out;
	}
	s = source_open(path, r.meta, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "mmaplock check: %s\n", err);
		goto out;
	}
	ck.library = s->origin == MML_SOURCE_LIB;
	while ((n = source_next(s, ev, BATCH)) > 0)
		if (check_feed(&ck, ev, (size_t)n)) {
			fprintf(stderr, "mmaplock check: out of memory\n");
			goto out;
		}
	if (n < 0) {
		fprintf(stderr, "mmaplock check: %s\n", source_error(s));
		goto out;
	}
	check_finish(&ck);
	/* only inputs whose ids come without paths (docs/CHECK.md) */
	if (!no_resolve && (s->ops == &source_text_ops || s->ops == &source_tracedat_ops))
		named = name_memcgs(&r);
	damaged = source_damage_note(s, "mmaplock check", path);
	if (meta_lost_total(r.meta))
		fprintf(stderr, "mmaplock check: warning: %" PRIu64 " events were lost: sequences "
			"broken by them show up as findings\n", meta_lost_total(r.meta));
	for (int k = 0; k < CK_NKINDS; k++)
		total += ck.count[k];
	ob_init_file(&o, stdout, obuf, sizeof(obuf));
	if (json)
		print_json_doc(&r, &ck, s, path, max_hold, total, &o);
	else
		print_text_doc(&r, &ck, s, path, total, damaged, named, &o);
	/* damage wins over findings: the findings cover only what could be read */
	if (ob_flush(&o) || fflush(stdout)) {
		/* disk full, a closed pipe with SIGPIPE ignored: said, not only an exit status */
		fprintf(stderr, "mmaplock check: stdout: write error: %s\n", strerror(errno ? errno : EIO));
		rc = 2;
	} else {
		rc = damaged ? EXIT_DAMAGED : total ? 1 : 0;
	}
out:
	source_close(s);
	check_fini(&ck);
	meta_free(r.meta);
	free(r.keep);
	free(ev);
	return rc;
}
