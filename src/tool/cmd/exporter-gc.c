/* SPDX-License-Identifier: MIT */
/*
 * exporter-gc.c: which exporter series may end (exporter-gc.h).
 *
 * "Gone" is asked of the file system, not of the back-end: a memcg label is
 * its path relative to the memory hierarchy, so a series is gone when that
 * directory is (a path made again, e.g. a restarted systemd unit, keeps its
 * series: same labels). Only a clear "no such directory" counts; any other
 * error, or no hierarchy at all, keeps the series. "/", "none" (memory
 * controller off) and "other" never go. An "id:N" series (a memcg named
 * before the walk could find it) is gone when memcg N is no longer in the
 * hierarchy (cgroupfs_id_gone: by file handle, else one walk of the
 * hierarchy, made only in a pass that has such a candidate).
 *
 * Cost: a pass runs every TTL/4 (at most every 30 s) and stats only the
 * series idle for the TTL, so a node's idle-but-alive memcgs cost one stat
 * each per pass.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroupfs.h"
#include "exporter-gc.h"

#define XGC_MAX_EVERY_NS	(30 * 1000000000ull)

void xgc_init(struct xgc *g, double ttl_s)
{
	memset(g, 0, sizeof(*g));
	g->ttl_ns = (uint64_t)(ttl_s * 1e9);
	g->every_ns = g->ttl_ns / 4 < XGC_MAX_EVERY_NS ? g->ttl_ns / 4 : XGC_MAX_EVERY_NS;
	g->root = cgroupfs_memcg_root();
	cgroupfs_ids_init(&g->ids);
}

void xgc_fini(struct xgc *g)
{
	cgroupfs_ids_fini(&g->ids);
}

static int series_gone(const struct prom_series *s, void *ctx)
{
	struct xgc *g = ctx;
	const char *l = s->memcg;
	char path[4096];
	unsigned long long id;
	struct stat st;
	int end = 0;

	if (!strcmp(l, "/") || !strcmp(l, "none") || !strcmp(l, "other"))
		return 0;
	if (l[0] == '/') {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", g->root, l) >= sizeof(path))
			return 0;
		return stat(path, &st) && (errno == ENOENT || errno == ENOTDIR);
	}
	if (sscanf(l, "id:%llu%n", &id, &end) == 1 && !l[end])
		return cgroupfs_id_gone(&g->ids, id);
	return 0;
}

size_t xgc_run(struct xgc *g, struct prom_set *set, uint64_t now_ns)
{
	size_t n;

	if (!g->ttl_ns || !g->root || now_ns < g->next_ns || now_ns < g->ttl_ns)
		return 0;
	g->next_ns = now_ns + g->every_ns;
	n = prom_drop(set, now_ns - g->ttl_ns, series_gone, g);
	cgroupfs_ids_pass(&g->ids);	/* ids churn: no stale walk kept between passes */
	return n;
}
