/* SPDX-License-Identifier: MIT */
/*
 * export.c: what the export sinks share (export.h): names from meta and a
 * JSON string writer.
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

void ob_jstr(struct export *x, const char *s)
{
	ob_mem(x, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char t[8];
		if (c == '"' || c == '\\') {
			t[0] = '\\', t[1] = (char)c;
			ob_mem(x, t, 2);
		} else if (c < 0x20) {
			snprintf(t, sizeof(t), "\\u%04x", c);
			ob_mem(x, t, 6);
		} else {
			ob_mem(x, (const char *)&c, 1);
		}
	}
	ob_mem(x, "\"", 1);
}
