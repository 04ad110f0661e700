/* SPDX-License-Identifier: MIT */
/*
 * export.c: what the export sinks share (export.h): names from meta.
 */
#include <stdlib.h>
#include <string.h>
#include "export.h"

const char *export_comm(const struct export *x, uint32_t tid)
{
	const struct mml_task_info *t = x->meta ? meta_task(x->meta, tid) : NULL;

	return t && t->comm[0] ? t->comm : "?";
}

const char *export_memcg(const struct export *x, uint64_t id, char *buf, size_t len)
{
	return meta_memcg_name(x->meta, id, buf, len);
}
