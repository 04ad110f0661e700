/* SPDX-License-Identifier: MIT */
/*
 * out-ident.c: the container identity of a group (container.h,
 * agg-ident.h) in the report's JSON and CSV: kind, namespace, pod,
 * pod_uid, container_id, qos, unit, each only where known; full ids (the
 * table shows 12 digits). The same names as the exporter's labels.
 */
#include "ob.h"
#include "report.h"
#include "agg-ident.h"

/* The groupings whose groups have an identity: by memcg and the identity ones. */
static int has_ident(const struct report *r)
{
	return r->agg->by == AGG_BY_MEMCG || agg_by_identity(r->agg->by);
}

static void jfield(struct ob *f, const char *key, const char *v)
{
	if (!*v)
		return;
	ob_printf(f, ", \"%s\": ", key);
	ob_json_str(f, v);
}

void out_ident_json(const struct report *r, const struct agg_group *g, struct ob *f)
{
	struct ctr_id id;

	if (!has_ident(r) || !agg_group_ident(r->agg, g, r->pods, &id))
		return;
	jfield(f, "kind", ctr_kind_name(id.kind));
	jfield(f, "namespace", id.namespace);
	jfield(f, "pod", id.pod);
	jfield(f, "pod_uid", id.pod_uid);
	jfield(f, "container_id", id.container_id);
	jfield(f, "qos", id.qos);
	jfield(f, "unit", id.unit);
}

void out_ident_csv_header(const struct report *r, struct ob *f)
{
	if (has_ident(r))
		ob_str(f, ",kind,namespace,pod,pod_uid,container_id,qos,unit");
}

void out_ident_csv(const struct report *r, const struct agg_group *g, struct ob *f)
{
	struct ctr_id id;
	const char *v[7];

	if (!has_ident(r))
		return;
	if (!agg_group_ident(r->agg, g, r->pods, &id)) {
		ob_str(f, ",,,,,,,");
		return;
	}
	v[0] = ctr_kind_name(id.kind);
	v[1] = id.namespace;
	v[2] = id.pod;
	v[3] = id.pod_uid;
	v[4] = id.container_id;
	v[5] = id.qos;
	v[6] = id.unit;
	for (int i = 0; i < 7; i++) {
		ob_ch(f, ',');
		ob_csv_field(f, v[i]);
	}
}
