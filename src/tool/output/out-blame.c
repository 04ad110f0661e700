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

static void us(struct ob *o, int width, uint64_t ns)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
	ob_printf(o, " %*s", width, b);
}

void out_blame_table(const struct report *r, struct ob *o)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48], dmg[128];

	ob_printf(o, "# input: %s (%s)  events: %" PRIu64 "  lost events: %" PRIu64 "\n",
		r->input, r->format, r->stats->events, r->stats->lost);
	if (report_damage(r, dmg, sizeof(dmg)))
		ob_printf(o, "# warning: input %s: the figures cover the rest\n", dmg);
	ob_printf(o, "# waits: %" PRIu64 " (%" PRIu64 ".%03" PRIu64 " us), %" PRIu64
		" with no recorded holder; times in us\n", b->waits, b->wait_ns / 1000,
		b->wait_ns % 1000, b->unblamed);
	ob_printf(o, "%-24s %-24s %14s %14s %14s %8s\n", "holder", "holder cgroup", "blamed",
		"as writer", "as reader", "waits");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		holder_name(r, h->tid, name, sizeof(name));
		ob_printf(o, "%-24s %-24s", name, blame_cgroup(b, h->tid));
		us(o, 14, h->blamed_ns);
		us(o, 14, h->write_ns);
		us(o, 14, h->read_ns);
		ob_printf(o, " %8" PRIu64 "\n", h->waits);
		for (size_t k = 0; k < h->nvictims; k++) {
			ob_printf(o, "  -> waits in %-35s", blame_memcg_name(b, h->victims[k]->victim_memcg,
								   buf, sizeof(buf)));
			us(o, 14, h->victims[k]->blamed_ns);
			ob_printf(o, "\n");
		}
	}
	ob_printf(o, "\n%-30s %-30s %14s %8s\n", "holder cgroup", "-> victim memcg", "blamed", "waits");
	for (size_t i = 0; i < br->npairs; i++) {
		const struct blame_pair *p = &br->pairs[i];
		ob_printf(o, "%-30s %-30s", p->holder_cgroup,
			blame_memcg_name(b, p->victim_memcg, buf, sizeof(buf)));
		us(o, 14, p->blamed_ns);
		ob_printf(o, " %8" PRIu64 "\n", p->waits);
	}
	if (b->dropped_holds)
		ob_printf(o, "# warning: %" PRIu64 " holds forgotten (a wait never closed): blame is "
			"a lower bound\n", b->dropped_holds);
	out_memcg_now_note(r, o);
}

void out_blame_json(const struct report *r, struct ob *o)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48];

	ob_printf(o, "{\n  \"input\": ");
	ob_json_str(o, r->input);
	ob_printf(o, ",\n  \"format\": \"%s\",\n  \"by\": \"holder\",\n", r->format);
	ob_printf(o, "  \"events\": %" PRIu64 ",\n  \"lost_events\": %" PRIu64 ",\n"
		"  \"duration_ns\": %" PRIu64 ",\n  \"truncated\": %s,\n  \"damaged_blocks\": %"
		PRIu64 ",\n  \"damaged_bytes\": %" PRIu64 ",\n", r->stats->events, r->stats->lost,
		r->duration_ns, r->truncated ? "true" : "false", r->damaged_blocks, r->damaged_bytes);
	ob_printf(o, "  \"waits\": {\"count\": %" PRIu64 ", \"total_ns\": %" PRIu64
		", \"unblamed\": %" PRIu64 ", \"lost\": %" PRIu64 "},\n  \"dropped_holds\": %"
		PRIu64 ",\n", b->waits, b->wait_ns, b->unblamed, b->lost_waits, b->dropped_holds);
	ob_printf(o, "  \"groups\": [");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		const char *cg = blame_cgroup(b, h->tid);
		holder_name(r, h->tid, name, sizeof(name));
		ob_printf(o, "%s\n    {\"key\": ", i ? "," : "");
		ob_json_str(o, name);
		ob_printf(o, ", \"tid\": %u, \"cgroup\": ", (unsigned)h->tid);
		if (strcmp(cg, "?"))
			ob_json_str(o, cg);
		else
			ob_printf(o, "null");
		ob_printf(o, ", \"blamed_ns\": %" PRIu64 ", \"blamed_write_ns\": %" PRIu64
			", \"blamed_read_ns\": %" PRIu64 ", \"waits\": %" PRIu64 ",\n     \"victims\": [",
			h->blamed_ns, h->write_ns, h->read_ns, h->waits);
		for (size_t k = 0; k < h->nvictims; k++) {
			const struct blame_rec *v = h->victims[k];
			ob_printf(o, "%s{\"memcg\": ", k ? ", " : "");
			ob_json_str(o, blame_memcg_name(b, v->victim_memcg, buf, sizeof(buf)));
			ob_printf(o, ", \"blamed_ns\": %" PRIu64 ", \"waits\": %" PRIu64 "}",
				v->blamed_ns, v->waits);
		}
		ob_printf(o, "]}");
	}
	ob_printf(o, "\n  ],\n  \"pairs\": [");
	for (size_t i = 0; i < br->npairs; i++) {
		const struct blame_pair *p = &br->pairs[i];
		ob_printf(o, "%s\n    {\"holder_cgroup\": ", i ? "," : "");
		ob_json_str(o, p->holder_cgroup);
		ob_printf(o, ", \"victim_memcg\": ");
		ob_json_str(o, blame_memcg_name(b, p->victim_memcg, buf, sizeof(buf)));
		ob_printf(o, ", \"blamed_ns\": %" PRIu64 ", \"waits\": %" PRIu64 "}", p->blamed_ns,
			p->waits);
	}
	ob_printf(o, "\n  ]\n}\n");
}

void out_blame_csv(const struct report *r, struct ob *o)
{
	const struct blame *b = r->blame;
	const struct blame_result *br = r->br;
	char name[64], buf[48];

	ob_printf(o, "holder,tid,holder_cgroup,victim_memcg,blamed_ns,waits\n");
	for (size_t i = 0; i < br->nholders; i++) {
		const struct blame_holder *h = &br->holders[i];
		holder_name(r, h->tid, name, sizeof(name));
		for (size_t k = 0; k < h->nvictims; k++) {
			const struct blame_rec *v = h->victims[k];
			ob_csv_field(o, name);
			ob_printf(o, ",%u,", (unsigned)h->tid);
			ob_csv_field(o, blame_cgroup(b, h->tid));
			ob_ch(o, ',');
			ob_csv_field(o, blame_memcg_name(b, v->victim_memcg, buf, sizeof(buf)));
			ob_printf(o, ",%" PRIu64 ",%" PRIu64 "\n", v->blamed_ns, v->waits);
		}
	}
}
