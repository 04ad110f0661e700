/* SPDX-License-Identifier: MIT */
/*
 * bpf-dump.c: a test driver for the BPF back-end (backend_bpf_ops, through
 * backend.h only): attach, collect windows for -d SECONDS or until SIGINT /
 * SIGTERM, then print the sum of the windows per memcg as JSON, in the
 * shape of `mmaplock report --json --by memcg`'s groups, so that the parity
 * test compares the two with one jq program.
 *
 * With -b process the groups are processes (key "comm[tgid]", "tgid"), in
 * the shape of `report --json --by process`; -b memcg_mode keeps the modes
 * apart as the exporter does (key "path (read)"). "maps" gives the
 * entries in the kernel's aggregate map at the end (bounded under churn).
 *
 * -K FILE: after each window, two lines into FILE: "g N KEY..." the keys
 * (memcg id, or tgid by process) of the groups with figures in window N,
 * and "m N KEY..." those of the aggregate map's entries once the window was
 * read (what reaping left), read with bpftool and jq.
 *
 * usage: bpf-dump [-d SECONDS] [-w WINDOW_MS] [-b memcg|process|memcg_mode|mm] [-K FILE]
 * exit: 0, 1 (the back-end failed), 77 (the back-end cannot run here:
 * the one-line reason on stderr), 2 usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "backend.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

struct dump {
	struct agg sum;
	FILE *keys;		/* -K */
	struct run_stats total;
	unsigned windows;
	int oom;
};

/* -K: the window's group keys and the map's keys after it (see the top) */
static void log_keys(struct dump *d, const struct window *w)
{
	char cmd[200], line[256];
	FILE *f;
	size_t n;

	fprintf(d->keys, "g %u", d->windows);
	for (struct agg_group **e = agg_tab_next(&w->agg->tab, NULL); e;
	     e = agg_tab_next(&w->agg->tab, e))
		if ((*e)->acq_read || (*e)->acq_write || (*e)->failed || (*e)->hold.count)
			fprintf(d->keys, " %llu", (unsigned long long)(*e)->key);
	fprintf(d->keys, "\nm %u", d->windows);
	fflush(d->keys);
	snprintf(cmd, sizeof(cmd), "bpftool map dump name mml_aggs -j | jq -j '[.[].formatted.key.%s] | unique | map(\" \\(.)\") | add // \"\"'",
		 d->sum.by == AGG_BY_PROCESS ? "tgid" : "memcg");
	if ((f = popen(cmd, "r"))) {
		while ((n = fread(line, 1, sizeof(line), f)))
			fwrite(line, 1, n, d->keys);
		pclose(f);
	}
	fprintf(d->keys, "\n");
	fflush(d->keys);
}

static int on_window(void *ctx, const struct window *w)
{
	struct dump *d = ctx;

	d->windows++;
	if (d->keys)
		log_keys(d, w);
	d->total = w->total;
	for (struct agg_group **e = agg_tab_next(&w->agg->tab, NULL); e;
	     e = agg_tab_next(&w->agg->tab, e)) {
		const struct agg_group *g = *e;
		struct agg_group *s;

		if ((!g->acq_read && !g->acq_write && !g->failed && !g->hold.count &&
			   !g->downgrades))
			continue;
		if (!(s = agg_group_key(&d->sum, g->key, g->tid))) {
			d->oom = 1;
			return 1;
		}
		s->acq_read += g->acq_read;
		s->acq_write += g->acq_write;
		s->failed += g->failed;
		s->contended_marked += g->contended_marked;
		s->contended_long += g->contended_long;
		s->downgrades += g->downgrades;
		s->trylocks += g->trylocks;
		if (hist_merge(&s->wait, &g->wait) || hist_merge(&s->hold, &g->hold)) {
			d->oom = 1;
			return 1;
		}
	}
	return 0;
}

/* Entries in our aggregate map now (bpftool and jq, when there): -1 unknown */
static long map_entries(void)
{
	long n = -1;
	FILE *f = popen("bpftool map dump name mml_aggs -j 2>/dev/null | jq length", "r");

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void print_hist(const char *name, const struct hist *h)
{
	printf("\"%s\": {\"count\": %llu, \"total\": %llu, \"p50\": %llu, \"p99\": %llu, \"max\": %llu}",
	       name, (unsigned long long)h->count, (unsigned long long)h->total,
	       (unsigned long long)hist_quantile(h, 0.5), (unsigned long long)hist_quantile(h, 0.99),
	       (unsigned long long)h->max);
}

static void print_json(const struct dump *d, const struct mml_meta *meta, int marked, long maps)
{
	const char *sep = "";
	char buf[600], name[600];

	printf("{\n  \"backend\": \"bpf\", \"windows\": %u, \"events\": %llu, \"lost_events\": %llu, \"unmatched\": %llu, \"non_owner_releases\": %llu, \"maps\": %ld,\n  \"groups\": [\n",
	       d->windows, (unsigned long long)d->total.events, (unsigned long long)d->total.lost,
	       (unsigned long long)d->total.unmatched, (unsigned long long)d->total.non_owner, maps);
	for (struct agg_group **e = agg_tab_next(&d->sum.tab, NULL); e;
	     e = agg_tab_next(&d->sum.tab, e)) {
		const struct agg_group *g = *e;

		/* paths are plain cgroup names here (the test's own): no escaping needed */
		if (d->sum.by == AGG_BY_MEMCG)
			snprintf(name, sizeof(name), "%s", meta_memcg_name(meta, g->key, buf, sizeof(buf)));
		else
			agg_group_name(&d->sum, g, name, sizeof(name));
		printf("%s    {\"key\": \"%s\", \"memcg_id\": %llu, \"tgid\": %llu, \"memcg_path\": \"%s\", \"acquisitions\": {\"read\": %llu, \"write\": %llu}, \"failed\": %llu, \"contended\": %llu, \"downgrades\": %llu, \"trylocks\": %llu,\n     ",
		       sep, name, d->sum.by == AGG_BY_MEMCG ? (unsigned long long)g->key : 0ull,
		       d->sum.by == AGG_BY_PROCESS ? (unsigned long long)g->key : 0ull,
		       d->sum.by == AGG_BY_MEMCG ? name : "",
		       (unsigned long long)g->acq_read, (unsigned long long)g->acq_write,
		       (unsigned long long)g->failed,
		       (unsigned long long)(marked ? g->contended_marked : g->contended_long),
		       (unsigned long long)g->downgrades, (unsigned long long)g->trylocks);
		print_hist("wait_ns", &g->wait);
		printf(",\n     ");
		print_hist("hold_ns", &g->hold);
		printf("}");
		sep = ",\n";
	}
	printf("\n  ]\n}\n");
}

int main(int argc, char **argv)
{
	struct backend_opts o = { .need = BACKEND_CAP_WINDOWS, .by = AGG_BY_MEMCG };
	struct backend b = { .ops = &backend_bpf_ops };
	struct sigaction sa = { .sa_handler = on_signal };
	double secs = 3600;
	long win_ms = 1000;
	struct dump d;
	struct timespec t0, t;
	int c, ret = 0, r;
	long maps;

	const char *keys = NULL;

	while ((c = getopt(argc, argv, "d:w:b:K:")) != -1) {
		if (c == 'd')
			secs = atof(optarg);
		else if (c == 'b' && !strcmp(optarg, "memcg"))
			o.by = AGG_BY_MEMCG;
		else if (c == 'b' && !strcmp(optarg, "process"))
			o.by = AGG_BY_PROCESS;
		else if (c == 'b' && !strcmp(optarg, "memcg_mode"))
			o.by = AGG_BY_MEMCG_MODE;
		else if (c == 'b' && !strcmp(optarg, "mm"))
			o.by = AGG_BY_MM;
		else if (c == 'w')
			win_ms = atol(optarg);
		else if (c == 'K')
			keys = optarg;
		else
			return 2;
	}
	if (secs <= 0 || win_ms <= 0)
		return 2;
	o.win_ns = (uint64_t)win_ms * 1000000ull;
	memset(&d, 0, sizeof(d));
	if (keys && !(d.keys = fopen(keys, "w"))) {
		perror(keys);
		return 2;
	}
	b.meta = meta_new();
	if (!b.meta || agg_init(&d.sum, o.by, b.meta))
		return 1;
	b.sink.window = on_window;
	b.sink.ctx = &d;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (b.ops->open(&b, &o)) {
		fprintf(stderr, "bpf-dump: %s\n", b.err);
		if (b.ops->close)
			b.ops->close(&b);
		return 77;
	}
	if (b.ops->start(&b)) {
		fprintf(stderr, "bpf-dump: %s\n", b.err);
		b.ops->close(&b);
		return 1;
	}
	fprintf(stderr, "bpf-dump: attached\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop) {
		r = b.ops->poll(&b, 100);
		if (r) {
			ret = r < 0;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
	}
	if (b.ops->stop(&b))
		ret = 1;
	maps = map_entries();
	if (ret)
		fprintf(stderr, "bpf-dump: %s\n", b.err[0] ? b.err : "out of memory");
	else
		print_json(&d, b.meta, 1, maps);
	b.ops->close(&b);
	agg_fini(&d.sum);
	meta_free(b.meta);
	if (d.keys)
		fclose(d.keys);
	return ret || d.oom;
}
