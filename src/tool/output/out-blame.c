/* SPDX-License-Identifier: MIT */
/*
 * out-blame.c: the sinks of `mmaplock report --by holder` (blame.h): a
 * table (times in us, to the ns), --json (docs/JSON.md, "report --by
 * holder") and --csv (one row per holder and victim memcg).
 */
#include <inttypes.h>
#include <string.h>
#include "report.h"

static void holder_name(const struct report *r, uint32_t tid, char *buf, size_t len)
{
	const struct mml_task_info *t = r->blame->meta ? meta_task(r->blame->meta, tid) : NULL;

	snprintf(buf, len, "%s[%u]", t && t->comm[0] ? t->comm : "?", (unsigned)tid);
}

static void us(FILE *f, int width, uint64_t ns)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
	fprintf(f, " %*s", width, b);
}

void out_blame_table(const struct report *r, FILE *f)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48], dmg[128];

	fprintf(f, "# input: %s (%s)  events: %" PRIu64 "  lost events: %" PRIu64 "\n",
		r->input, r->format, r->stats->events, r->stats->lost);
	if (report_damage(r, dmg, sizeof(dmg)))
		fprintf(f, "# warning: input %s: the figures cover the rest\n", dmg);
	fprintf(f, "# waits: %" PRIu64 " (%" PRIu64 ".%03" PRIu64 " us), %" PRIu64
		" with no recorded holder; times in us\n", b->waits, b->wait_ns / 1000,
		b->wait_ns % 1000, b->unblamed);
	fprintf(f, "%-24s %-24s %14s %14s %14s %8s\n", "holder", "holder cgroup", "blamed",
		"as writer", "as reader", "waits");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		holder_name(r, h->tid, name, sizeof(name));
		fprintf(f, "%-24s %-24s", name, blame_cgroup(b, h->tid));
		us(f, 14, h->blamed_ns);
		us(f, 14, h->write_ns);
		us(f, 14, h->read_ns);
		fprintf(f, " %8" PRIu64 "\n", h->waits);
		for (size_t k = 0; k < h->nvictims; k++) {
			fprintf(f, "  -> waits in %-35s", blame_memcg_name(b, h->victims[k]->victim_memcg,
								   buf, sizeof(buf)));
			us(f, 14, h->victims[k]->blamed_ns);
			fprintf(f, "\n");
		}
	}
	fprintf(f, "\n%-30s %-30s %14s %8s\n", "holder cgroup", "-> victim memcg", "blamed", "waits");
	for (size_t i = 0; i < br->npairs; i++) {
		const struct blame_pair *p = &br->pairs[i];
		fprintf(f, "%-30s %-30s", p->holder_cgroup,
			blame_memcg_name(b, p->victim_memcg, buf, sizeof(buf)));
		us(f, 14, p->blamed_ns);
		fprintf(f, " %8" PRIu64 "\n", p->waits);
	}
	if (b->dropped_holds)
		fprintf(f, "# warning: %" PRIu64 " holds forgotten (a wait never closed): blame is "
			"a lower bound\n", b->dropped_holds);
	out_memcg_now_note(r, f);
}

void out_blame_json(const struct report *r, FILE *f)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48];

	fprintf(f, "{\n  \"input\": ");
	out_jstr(f, r->input);
	fprintf(f, ",\n  \"format\": \"%s\",\n  \"by\": \"holder\",\n", r->format);
	fprintf(f, "  \"events\": %" PRIu64 ",\n  \"lost_events\": %" PRIu64 ",\n"
		"  \"duration_ns\": %" PRIu64 ",\n  \"truncated\": %s,\n  \"damaged_blocks\": %"
		PRIu64 ",\n  \"damaged_bytes\": %" PRIu64 ",\n", r->stats->events, r->stats->lost,
		r->duration_ns, r->truncated ? "true" : "false", r->damaged_blocks, r->damaged_bytes);
	fprintf(f, "  \"waits\": {\"count\": %" PRIu64 ", \"total_ns\": %" PRIu64
		", \"unblamed\": %" PRIu64 ", \"lost\": %" PRIu64 "},\n  \"dropped_holds\": %"
		PRIu64 ",\n", b->waits, b->wait_ns, b->unblamed, b->lost_waits, b->dropped_holds);
	fprintf(f, "  \"groups\": [");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		const char *cg = blame_cgroup(b, h->tid);
		holder_name(r, h->tid, name, sizeof(name));
		fprintf(f, "%s\n    {\"key\": ", i ? "," : "");
		out_jstr(f, name);
		fprintf(f, ", \"tid\": %u, \"cgroup\": ", (unsigned)h->tid);
		if (strcmp(cg, "?"))
			out_jstr(f, cg);
		else
			fprintf(f, "null");
		fprintf(f, ", \"blamed_ns\": %" PRIu64 ", \"blamed_write_ns\": %" PRIu64
			", \"blamed_read_ns\": %" PRIu64 ", \"waits\": %" PRIu64 ",\n     \"victims\": [",
			h->blamed_ns, h->write_ns, h->read_ns, h->waits);
		for (size_t k = 0; k < h->nvictims; k++) {
			const struct blame_rec *v = h->victims[k];
			fprintf(f, "%s{\"memcg\": ", k ? ", " : "");
			out_jstr(f, blame_memcg_name(b, v->victim_memcg, buf, sizeof(buf)));
			fprintf(f, ", \"blamed_ns\": %" PRIu64 ", \"waits\": %" PRIu64 "}",
				v->blamed_ns, v->waits);
		}
		fprintf(f, "]}");
	}
	fprintf(f, "\n  ],\n  \"pairs\": [");
	for (size_t i = 0; i < br->npairs; i++) {
		const struct blame_pair *p = &br->pairs[i];
		fprintf(f, "%s\n    {\"holder_cgroup\": ", i ? "," : "");
		out_jstr(f, p->holder_cgroup);
		fprintf(f, ", \"victim_memcg\": ");
		out_jstr(f, blame_memcg_name(b, p->victim_memcg, buf, sizeof(buf)));
		fprintf(f, ", \"blamed_ns\": %" PRIu64 ", \"waits\": %" PRIu64 "}", p->blamed_ns,
			p->waits);
	}
	fprintf(f, "\n  ]\n}\n");
}

void out_blame_csv(const struct report *r, FILE *f)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48];

	fprintf(f, "holder,tid,holder_cgroup,victim_memcg,blamed_ns,waits\n");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		holder_name(r, h->tid, name, sizeof(name));
		for (size_t k = 0; k < h->nvictims; k++) {
			const struct blame_rec *v = h->victims[k];
			out_cstr(f, name);
			fprintf(f, ",%u,", (unsigned)h->tid);
			out_cstr(f, blame_cgroup(b, h->tid));
			fputc(',', f);
			out_cstr(f, blame_memcg_name(b, v->victim_memcg, buf, sizeof(buf)));
			fprintf(f, ",%" PRIu64 ",%" PRIu64 "\n", v->blamed_ns, v->waits);
		}
	}
}
