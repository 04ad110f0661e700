/* SPDX-License-Identifier: MIT */
/*
 * memcg-util.h: the memcg tests' own, independent reading of
 * /proc/<pid>/cgroup, by the rule of docs/LIBRARY.md: the path of the v1
 * hierarchy that has the memory controller if there is one, else the v2
 * "0::" path, else "". Full length (not truncated): tests compare it with
 * what the library reports.
 */
#ifndef MEMCG_UTIL_H
#define MEMCG_UTIL_H

#include <stdio.h>
#include <string.h>

/* Fills path (size len) and says which hierarchy: 1 (v1 memory), 2 (v2), 0 (none). */
static int test_memcg_path(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[8192], v2[8192] = "";
	int found = 0;

	path[0] = '\0';
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *tok, *save;

		if (!c2)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*c2 = '\0';
		if (!strcmp(line, "0:") && c1[1] == '\0') {
			snprintf(v2, sizeof(v2), "%s", c2 + 1);
			continue;
		}
		for (tok = strtok_r(c1 + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, "memory")) {
				snprintf(path, len, "%s", c2 + 1);
				found = 1;
			}
	}
	fclose(f);
	if (!found && v2[0]) {
		snprintf(path, len, "%s", v2);
		found = 2;
	}
	return found;
}

#endif
