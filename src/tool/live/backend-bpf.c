/* SPDX-License-Identifier: MIT */
/*
 * backend-bpf.c: the BPF back-end (backend.h): mmap_lock waits and holds
 * aggregated in the kernel (bpf/mmaplock.bpf.c), read once per window.
 *
 * The kernel only adds to its maps (per CPU: no atomics, no shared cache
 * lines). Each window, this side reads them whole (batch lookups), folds
 * the CPUs' values, sorts the snapshot by key and subtracts the
 * previous one, merge-join style: the window's figures are differences of
 * cumulative counts, so there is no reset racing with the programs. Totals
 * are exact; a window's maximum is the cumulative maximum capped at the end
 * of the window's highest non-empty bucket (the kernel keeps only the
 * running maximum).
 *
 * Groups: (memcg, mode) folded into AGG_BY_MEMCG or kept apart for
 * AGG_BY_MEMCG_MODE (the exporter); with AGG_BY_PROCESS the kernel keys by
 * the process as well (by_process) and this side folds by tgid, naming the
 * process by the comm the kernel stored with the entry.
 *
 * Bounded under churn, in the window the owner goes: each window reads the
 * aggregates, judges their owners (keyed by process: kill(tgid, 0) says
 * ESRCH; by memcg only: its id no longer opens as a file handle of the
 * hierarchy, open_by_handle_at(), or, where that is not supported, is not
 * in a walk of it), then reads the buckets, and takes each entry of a dead
 * owner out of its map with its value (BPF_MAP_LOOKUP_AND_DELETE_ELEM).
 * That value is the entry's last: the window counts it (its difference from
 * the previous snapshot) and the entry leaves the snapshot. Nothing is lost
 * or counted twice: an event before the deletion is in the value taken,
 * one after it (a hold of a memcg removed meanwhile, a reused pid) makes a
 * new entry, counted from zero. An owner judged before the buckets are read
 * has all its buckets in that read: a gone process makes no more events.
 * (The one addition that can go astray: a program that found an entry just
 * before its deletion and adds to it after; its owner must then have been
 * alive, i.e. judged wrongly, or its pid reused, in the instant between.)
 *
 * Safety: the links are file descriptors of this process and nothing is
 * pinned, so any exit (SIGKILL included) detaches and frees everything.
 *
 * Compiled with MMAPLOCK_HAVE_BPF when CMake found clang, bpftool, libbpf
 * and BTF; otherwise open() says "not built" and the rest is absent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "backend.h"
#include "bpf-load.h"

#ifndef MMAPLOCK_HAVE_BPF

static int bpf_open(struct backend *b, const struct backend_opts *o)
{
	snprintf(b->err, sizeof(b->err), "%s", BPFL_NOT_BUILT);
	return -1;
}

const struct backend_ops backend_bpf_ops = {
	.name = "bpf",
	.caps = BACKEND_CAP_WINDOWS,
	.open = bpf_open,
};

#else

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "cgroupfs.h"
#include "idmap.h"
#include "names.h"
#include "mmaplock.h"
#include "mmaplock.skel.h"

struct akv { struct mmlb_key k; struct mmlb_agg v; uint32_t dead; };
/* the words of struct mmlb_agg that are maxima, not sums, over the CPUs */
#define AGG_MAX_WORDS	(1ull << (offsetof(struct mmlb_agg, wait_max) / 8) | \
			 1ull << (offsetof(struct mmlb_agg, hold_max) / 8))
/* ... and those of the comm: the one CPU's that made the entry */
#define AGG_KEEP_WORDS	(3ull << (offsetof(struct mmlb_agg, comm) / 8))
struct hkv { struct mmlb_hkey k; struct mmlb_hval v; uint32_t dead; };
#define HVAL_MAX_WORDS	(1ull << (offsetof(struct mmlb_hval, max) / 8))

struct snap {
	struct akv *a;
	size_t na;
	struct hkv *h;
	size_t nh;
	uint64_t c[MMLB_C_NR];
};

struct bpfb {
	struct mmaplock_bpf *skel;
	struct backend_opts o;
	struct agg agg;
	struct snap prev, cur;
	int ncpu;
	int started, contention;
	uint64_t t0, win_start;		/* CLOCK_MONOTONIC ns: the programs' clock */
	struct run_stats total;
	struct idmap named;		/* memcg ids looked up in the hierarchy (named or not) */
	struct names names;		/* the hierarchy's walks */
	struct cgroupfs_ids ids;	/* is a memcg gone (reaping): by file handle, else a walk a window */
	uint64_t windows;		/* windows delivered */
	uint64_t reaped;		/* entries removed so far */
};

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 10);
	return *end || !v ? def : v;
}

static int bpf_open(struct backend *b, const struct backend_opts *o)
{
	struct bpfb *p;
	const char *root;
	struct bpfl_form form;
	struct stat st;
	int err;

	if (!(o->need & BACKEND_CAP_WINDOWS) || (o->need & ~BACKEND_CAP_WINDOWS)) {
		snprintf(b->err, sizeof(b->err), "bpf: aggregates in the kernel: no individual events, stacks or recordings");
		return -1;
	}
	if (o->by != AGG_BY_MEMCG && o->by != AGG_BY_MEMCG_MODE && o->by != AGG_BY_PROCESS) {
		snprintf(b->err, sizeof(b->err), "bpf: groups by memcg or process only (not mm or task)");
		return -1;
	}
	if (bpfl_prepare(&form, b->err, sizeof(b->err)))
		return -1;
	if (!(p = calloc(1, sizeof(*p))) || agg_init(&p->agg, o->by, b->meta)) {
		free(p);
		snprintf(b->err, sizeof(b->err), "bpf: out of memory");
		return -1;
	}
	b->priv = p;
	p->o = *o;
	cgroupfs_ids_init(&p->ids);
	p->ncpu = libbpf_num_possible_cpus();
	if (!(p->skel = mmaplock_bpf__open())) {
		bpfl_open_error(b->err, sizeof(b->err));
		return -1;
	}
	bpfl_set_form(p->skel->obj, &form);
	p->contention = form.contention;
	bpf_program__set_autoload(p->skel->progs.mml_contention, form.contention);
	/* the memory hierarchy's root directory: its inode is the root memcg's id */
	if ((root = cgroupfs_memcg_root()) && !stat(root, &st))
		p->skel->rodata->root_memcg_id = st.st_ino;
	p->skel->rodata->by_process = o->by == AGG_BY_PROCESS;
	/* test hooks: tiny maps to exercise the map-full path */
	bpf_map__set_max_entries(p->skel->maps.mml_aggs, env_num("MMAPLOCK_BPF_MAX_GROUPS", 1024));
	bpf_map__set_max_entries(p->skel->maps.mml_hists, env_num("MMAPLOCK_BPF_MAX_BUCKETS", 65536));
	if ((err = mmaplock_bpf__load(p->skel))) {
		bpfl_load_error(err, b->err, sizeof(b->err));
		return -1;
	}
	return 0;
}

static int bpf_start(struct backend *b)
{
	struct bpfb *p = b->priv;
	int err;

	if ((err = mmaplock_bpf__attach(p->skel))) {
		snprintf(b->err, sizeof(b->err), "bpf: cannot attach to the tracepoints: %s", strerror(-err));
		return -1;
	}
	p->started = 1;
	p->t0 = p->win_start = bpfl_now_ns();
	return 0;
}

static int cmp_akv(const void *x, const void *y)
{
	const struct mmlb_key *a = x, *b = y;

	if (a->memcg != b->memcg)
		return a->memcg < b->memcg ? -1 : 1;
	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return (int)a->write - (int)b->write;
}

static int cmp_hkey(const struct mmlb_hkey *a, const struct mmlb_hkey *b)
{
	if (a->memcg != b->memcg)
		return a->memcg < b->memcg ? -1 : 1;
	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if (a->write != b->write)
		return (int)a->write - (int)b->write;
	return (int)a->bucket - (int)b->bucket;
}

static int cmp_hkv(const void *x, const void *y)
{
	return cmp_hkey(x, y);
}

/* Fold ncpu per-CPU values of words u64 into dst: see read_map() */
static void fold(uint64_t *dst, const uint64_t *src, int ncpu, size_t words, uint64_t maxmask,
		 uint64_t keepmask)
{
	for (int c = 0; c < ncpu; c++, src += words)
		for (size_t w = 0; w < words; w++) {
			if (keepmask & (1ull << w))
				dst[w] = dst[w] ? dst[w] : src[w];
			else if (maxmask & (1ull << w))
				dst[w] = src[w] > dst[w] ? src[w] : dst[w];
			else
				dst[w] += src[w];
		}
}

/*
 * Read a whole per-CPU hash map into an array of key+value pairs of size kv
 * (key at 0, value at voff, vsz bytes of u64 words), each value folded over
 * the CPUs: words summed, except those in maxmask (bit i: word i), maxima,
 * and those in keepmask, the first CPU's non-zero word.
 * The count, or -1 with errno.
 */
static long read_map(int fd, int ncpu, size_t max, size_t ksz, size_t vsz, size_t kv,
		     size_t voff, uint64_t maxmask, uint64_t keepmask, void **out)
{
	size_t words = vsz / 8, stride = vsz * (size_t)ncpu, n = 0;
	char *keys = malloc(max * ksz + 1), *vals = malloc(max * stride + 1), *arr;
	void *in = NULL;
	char outb[64];
	long ret = -1;

	*out = NULL;
	arr = calloc(max + 1, kv);
	if (!keys || !vals || !arr)
		goto out;
	while (n < max) {
		__u32 cnt = (__u32)(max - n);
		int err = bpf_map_lookup_batch(fd, in, outb, keys, vals, &cnt, NULL);

		for (__u32 i = 0; i < cnt; i++) {
			uint64_t *dst = (uint64_t *)(arr + (n + i) * kv + voff);
			const uint64_t *src = (const uint64_t *)(vals + i * stride);

			memcpy(arr + (n + i) * kv, keys + i * ksz, ksz);
			fold(dst, src, ncpu, words, maxmask, keepmask);
		}
		n += cnt;
		if (err) {
			if (errno == ENOENT)
				break;
			goto out;
		}
		in = outb;
	}
	*out = arr;
	arr = NULL;
	ret = (long)n;
out:
	free(keys);
	free(vals);
	free(arr);
	return ret;
}

static void snap_free(struct snap *s)
{
	free(s->a);
	free(s->h);
	memset(s, 0, sizeof(*s));
}

/* Is an entry's owner gone: its process (keyed by process), else its memcg? */
static int owner_dead(struct bpfb *p, uint64_t memcg, uint32_t tgid)
{
	if (tgid)
		return kill((pid_t)tgid, 0) && errno == ESRCH;
	if (!memcg || memcg == p->skel->rodata->root_memcg_id)
		return 0;
	return cgroupfs_id_gone(&p->ids, memcg);
}

/* Order of (memcg, tgid) pairs, the leading fields of both sort orders */
static int cmp_owner(uint64_t m1, uint32_t t1, uint64_t m2, uint32_t t2)
{
	if (m1 != m2)
		return m1 < m2 ? -1 : 1;
	return t1 == t2 ? 0 : t1 < t2 ? -1 : 1;
}

/* Mark the aggregates (sorted) whose owner is gone: one verdict per (memcg, tgid). */
static void judge_aggs(struct bpfb *p, struct snap *s)
{
	for (size_t i = 0; i < s->na; i++) {
		struct akv *x = &s->a[i];

		if (i && !cmp_owner(x[-1].k.memcg, x[-1].k.tgid, x->k.memcg, x->k.tgid))
			x->dead = x[-1].dead;
		else
			x->dead = owner_dead(p, x->k.memcg, x->k.tgid);
	}
}

/*
 * Take the entry key out of map fd with its last value, folded over the
 * CPUs into val (vsz bytes) as read_map() does. Where the kernel has no
 * lookup-and-delete for per-CPU hashes (before 5.14), a plain delete: val
 * keeps what was read. -1: no memory (the entry stays, judged again).
 */
static int take(struct bpfb *p, int fd, const void *key, void *val, size_t vsz, uint64_t maxmask,
		uint64_t keepmask)
{
	uint64_t *buf = calloc((size_t)p->ncpu, vsz);

	if (!buf)
		return -1;
	if (!bpf_map_lookup_and_delete_elem(fd, key, buf)) {
		memset(val, 0, vsz);
		fold(val, buf, p->ncpu, vsz / 8, maxmask, keepmask);
	} else if (errno != ENOENT) {
		bpf_map_delete_elem(fd, key);
	}
	free(buf);
	return 0;
}

/*
 * The entries of the dead owners out of the maps, their last values into
 * s (see the top). The aggregates were judged before the buckets were read;
 * a bucket whose owner has no aggregate in s (made while the aggregate was
 * being deleted) is judged now: if it is taken too late, what it misses
 * stays in a new entry, counted the next window.
 */
static void take_dead(struct bpfb *p, struct snap *s)
{
	int afd = bpf_map__fd(p->skel->maps.mml_aggs), hfd = bpf_map__fd(p->skel->maps.mml_hists);
	size_t j = 0;

	for (size_t i = 0; i < s->na; i++)
		if (s->a[i].dead && take(p, afd, &s->a[i].k, &s->a[i].v, sizeof(s->a[i].v),
					 AGG_MAX_WORDS, AGG_KEEP_WORDS))
			s->a[i].dead = 0;
	/* both arrays sorted by (memcg, tgid, ...): one merge pass */
	for (size_t i = 0; i < s->nh; i++) {
		struct hkv *h = &s->h[i];

		while (j < s->na && cmp_owner(s->a[j].k.memcg, s->a[j].k.tgid, h->k.memcg, h->k.tgid) < 0)
			j++;
		if (j < s->na && !cmp_owner(s->a[j].k.memcg, s->a[j].k.tgid, h->k.memcg, h->k.tgid))
			h->dead = s->a[j].dead;
		else if (i && !cmp_owner(h[-1].k.memcg, h[-1].k.tgid, h->k.memcg, h->k.tgid))
			h->dead = h[-1].dead;
		else
			h->dead = owner_dead(p, h->k.memcg, h->k.tgid);
		if (h->dead && take(p, hfd, &h->k, &h->v, sizeof(h->v), HVAL_MAX_WORDS, 0))
			h->dead = 0;
	}
}

/* The dead out of the snapshot once the window has counted them: it becomes the previous one. */
static void drop_dead(struct bpfb *p, struct snap *s)
{
	size_t n = 0, nh = 0;

	for (size_t i = 0; i < s->na; i++)
		if (!s->a[i].dead)
			s->a[n++] = s->a[i];
	for (size_t i = 0; i < s->nh; i++)
		if (!s->h[i].dead)
			s->h[nh++] = s->h[i];
	p->reaped += s->na - n;
	s->na = n;
	s->nh = nh;
}

static int snap_read(struct bpfb *p, struct snap *s)
{
	struct mmaplock_bpf *k = p->skel;
	uint64_t *pc = calloc((size_t)p->ncpu, sizeof(uint64_t));
	long n;
	void *arr;

	memset(s, 0, sizeof(*s));
	if (!pc)
		return -1;
	for (__u32 c = 0; c < MMLB_C_NR; c++) {
		if (bpf_map_lookup_elem(bpf_map__fd(k->maps.mml_counters), &c, pc))
			continue;
		for (int i = 0; i < p->ncpu; i++)
			s->c[c] += pc[i];
	}
	free(pc);
	n = read_map(bpf_map__fd(k->maps.mml_aggs), p->ncpu, bpf_map__max_entries(k->maps.mml_aggs),
		     sizeof(struct mmlb_key), sizeof(struct mmlb_agg), sizeof(struct akv),
		     offsetof(struct akv, v), AGG_MAX_WORDS, AGG_KEEP_WORDS, &arr);
	if (n < 0)
		return -1;
	s->a = arr;
	s->na = (size_t)n;
	qsort(s->a, s->na, sizeof(*s->a), cmp_akv);
	judge_aggs(p, s);	/* before the buckets are read: see the top */
	n = read_map(bpf_map__fd(k->maps.mml_hists), p->ncpu, bpf_map__max_entries(k->maps.mml_hists),
		     sizeof(struct mmlb_hkey), sizeof(struct mmlb_hval), sizeof(struct hkv),
		     offsetof(struct hkv, v), HVAL_MAX_WORDS, 0, &arr);
	if (n < 0)
		return -1;
	s->h = arr;
	s->nh = (size_t)n;
	qsort(s->h, s->nh, sizeof(*s->h), cmp_hkv);
	take_dead(p, s);
	return 0;
}

/* Add the difference of two cumulative aggregates of one (memcg, mode) to g. */
static void add_agg(struct agg_group *g, int write, const struct mmlb_agg *c, const struct mmlb_agg *o)
{
	static const struct mmlb_agg z;

	if (!o)
		o = &z;
	if (write)
		g->acq_write += c->acquired - o->acquired;
	else
		g->acq_read += c->acquired - o->acquired;
	g->failed += c->failed - o->failed;
	g->trylocks += c->trylocks - o->trylocks;
	g->contended_marked += c->contended - o->contended;
	g->contended_long += c->contended_long - o->contended_long;
	g->downgrades += c->downgrades - o->downgrades;
	g->wait.total += c->wait_sum - o->wait_sum;
	g->hold.total += c->hold_sum - o->hold_sum;
	if (c->wait_count != o->wait_count && c->wait_max > g->wait.max)
		g->wait.max = c->wait_max;
	if (c->hold_count != o->hold_count && c->hold_max > g->hold.max)
		g->hold.max = c->hold_max;
}

/* /proc/PID/comm into buf (size 16); 0, or -1 when the process is gone */
static int proc_comm(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The user-space group of a kernel key; the process named by comm (NULL: keep) */
static struct agg_group *group(struct backend *b, struct bpfb *p, uint64_t memcg, uint32_t tgid,
			       int write, const char *comm)
{
	struct mml_task_info t = { .tid = tgid, .tgid = tgid };

	switch (p->agg.by) {
	case AGG_BY_MEMCG_MODE:
		return agg_group_key(&p->agg, agg_key_memcg_mode(memcg, write), 0);
	case AGG_BY_PROCESS:
		if (comm && comm[0] && b->meta && !meta_task(b->meta, tgid)) {
			/* the name now, as the tracefs back-end's: the kernel's was
			 * taken at the first lock, often before exec renamed it */
			if (proc_comm(tgid, t.comm, sizeof(t.comm)))
				memcpy(t.comm, comm, sizeof(t.comm));
			t.comm[sizeof(t.comm) - 1] = '\0';
			meta_set_task(b->meta, &t);
		}
		return agg_group_key(&p->agg, tgid, tgid);
	default:
		return agg_group_key(&p->agg, memcg, 0);
	}
}

/* Windows' deltas of the aggregates into p->agg (already reset). */
static int fill_aggs(struct backend *b, struct bpfb *p)
{
	struct snap *c = &p->cur;
	const struct snap *o = &p->prev;
	size_t j = 0;

	for (size_t i = 0; i < c->na; i++) {
		struct akv *x = &c->a[i];
		struct agg_group *g;

		while (j < o->na && cmp_akv(&o->a[j], x) < 0)
			j++;
		if (j < o->na && !cmp_akv(&o->a[j], x) &&
		    !memcmp(&o->a[j].v, &x->v, sizeof(x->v)))
			continue;	/* nothing new */
		if (!(g = group(b, p, x->k.memcg, x->k.tgid, (int)x->k.write, x->v.comm)))
			return -1;
		add_agg(g, (int)x->k.write, &x->v,
			j < o->na && !cmp_akv(&o->a[j], x) ? &o->a[j].v : NULL);
	}
	return 0;
}

/*
 * The histograms' deltas, with the waits and holds they carry (mmaplock.h):
 * a bucket's values are its group's (their sum, acquisitions, contention
 * marks); a window's max is the largest bucket maximum among the buckets
 * that moved, capped at the highest one's end.
 */
static int fill_hists(struct backend *b, struct bpfb *p)
{
	const struct snap *c = &p->cur, *o = &p->prev;
	size_t j = 0;

	for (size_t i = 0; i < c->nh; i++) {
		const struct hkv *x = &c->h[i];
		struct mmlb_hval d = x->v;
		struct mmlb_key ak = { .memcg = x->k.memcg, .tgid = x->k.tgid, .write = x->k.write };
		struct akv *a;
		struct agg_group *g;
		struct hist *h;

		while (j < o->nh && cmp_hkey(&o->h[j].k, &x->k) < 0)
			j++;
		if (j < o->nh && !cmp_hkey(&o->h[j].k, &x->k)) {
			d.count -= o->h[j].v.count;
			d.sum -= o->h[j].v.sum;
			d.contended -= o->h[j].v.contended;
			d.contended_long -= o->h[j].v.contended_long;
		}
		if (!d.count)
			continue;
		a = bsearch(&ak, c->a, c->na, sizeof(*c->a), cmp_akv);
		if (!(g = group(b, p, x->k.memcg, x->k.tgid, x->k.write, a ? a->v.comm : NULL)))
			return -1;
		if (x->k.kind == MMLB_HOLD) {
			h = &g->hold;
		} else {
			h = &g->wait;
			if (x->k.write)
				g->acq_write += d.count;
			else
				g->acq_read += d.count;
			g->contended_marked += d.contended;
			g->contended_long += d.contended_long;
		}
		if (hist_add_bucket(h, x->k.bucket, d.count))
			return -1;
		h->total += d.sum;
		if (d.max > h->max)
			h->max = d.max;
	}
	/* max: no more than the end of the highest bucket that moved */
	for (struct agg_group **e = agg_tab_next(&p->agg.tab, NULL); e;
	     e = agg_tab_next(&p->agg.tab, e)) {
		struct agg_group *g = *e;
		struct hist *hs[2];

		hs[0] = &g->wait;
		hs[1] = &g->hold;
		for (int m = 0; m < 2; m++) {
			struct hist *h = hs[m];
			unsigned top = HIST_BUCKETS;
			uint64_t n, lo, width;

			if (!h->count) {
				h->max = 0;
				continue;
			}
			for (unsigned bk = hist_next(h, 0, &n); bk < HIST_BUCKETS;
			     bk = hist_next(h, bk + 1, &n))
				top = bk;
			hist_bucket_range(top, &lo, &width);
			if (h->max > lo + width - 1 || h->max < lo)
				h->max = h->max < lo ? lo : lo + width - 1;
		}
	}
	return 0;
}

struct name_walk { struct bpfb *p; struct mml_meta *meta; };

static void name_one(uint64_t id, const char *path, void *arg)
{
	struct name_walk *w = arg;

	if (idmap_find(&w->p->named, id) >= 0 && !meta_memcg(w->meta, id))
		meta_set_memcg(w->meta, id, path);
}

/* Name the window's memcg ids not named yet: one walk of the hierarchy, only when one is new. */
static void name_groups(struct backend *b, struct bpfb *p)
{
	struct name_walk w = { p, b->meta };
	int fresh = 0;

	if (!b->meta)
		return;
	for (struct agg_group **e = agg_tab_next(&p->agg.tab, NULL); e;
	     e = agg_tab_next(&p->agg.tab, e)) {
		struct agg_group *g = *e;
		uint64_t id;

		if (p->agg.by == AGG_BY_PROCESS)
			continue;
		id = p->agg.by == AGG_BY_MEMCG_MODE ? agg_key_memcg(g->key) : g->key;
		if (id && !meta_memcg(b->meta, id) && idmap_find(&p->named, id) < 0) {
			if (idmap_put(&p->named, id, NULL) < 0)
				return;
			fresh = 1;
		}
	}
	if (fresh)
		names_walk(&p->names, name_one, &w);
}

/* Read the maps, deliver the window [win_start, end). 0 go on, 1 the sink stops, -1 error. */
static int deliver(struct backend *b, uint64_t end)
{
	struct bpfb *p = b->priv;
	struct window w = { 0 };
	int ret;

	for (struct agg_group **e = agg_tab_next(&p->agg.tab, NULL); e;
	     e = agg_tab_next(&p->agg.tab, e))
		agg_group_reset(*e);
	if (snap_read(p, &p->cur) || fill_aggs(b, p) || fill_hists(b, p)) {
		snap_free(&p->cur);
		snprintf(b->err, sizeof(b->err), "bpf: reading the maps: %s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	name_groups(b, p);
	w.start_ns = p->win_start;
	w.len_ns = end - p->win_start;
	w.agg = &p->agg;
	w.meta = b->meta;
	w.stats.events = p->cur.c[MMLB_C_EVENTS] - p->prev.c[MMLB_C_EVENTS];
	for (int c = MMLB_C_AGG_FULL; c <= MMLB_C_STATE_FULL; c++)
		w.stats.lost += p->cur.c[c] - p->prev.c[c];
	for (int c = MMLB_C_RESTART; c <= MMLB_C_NEGATIVE; c++)
		w.stats.unmatched += p->cur.c[c] - p->prev.c[c];
	w.stats.non_owner = p->cur.c[MMLB_C_RELEASE_ORPHAN] - p->prev.c[MMLB_C_RELEASE_ORPHAN] +
			    p->cur.c[MMLB_C_NON_OWNER] - p->prev.c[MMLB_C_NON_OWNER];
	w.stats.contention_marked = p->contention;
	p->total.events += w.stats.events;
	p->total.lost += w.stats.lost;
	p->total.unmatched += w.stats.unmatched;
	p->total.non_owner += w.stats.non_owner;
	p->total.contention_marked = p->contention;
	w.total = p->total;
	p->windows++;
	cgroupfs_ids_pass(&p->ids);
	drop_dead(p, &p->cur);
	snap_free(&p->prev);
	p->prev = p->cur;
	memset(&p->cur, 0, sizeof(p->cur));
	p->win_start = end;
	ret = b->sink.window ? b->sink.window(b->sink.ctx, &w) : 0;
	return ret ? 1 : 0;
}

static int bpf_poll(struct backend *b, int timeout_ms)
{
	struct bpfb *p = b->priv;
	uint64_t now = bpfl_now_ns(), end = p->win_start + p->o.win_ns;

	if (!p->started)
		return 1;
	if (now < end) {
		uint64_t wait = end - now;
		struct timespec ts;

		if (timeout_ms >= 0 && wait > (uint64_t)timeout_ms * 1000000ull)
			wait = (uint64_t)timeout_ms * 1000000ull;
		ts.tv_sec = (time_t)(wait / 1000000000ull);
		ts.tv_nsec = (long)(wait % 1000000000ull);
		nanosleep(&ts, NULL);	/* a signal ends it early: the caller checks its flags */
		now = bpfl_now_ns();
		if (now < end)
			return 0;
	}
	return deliver(b, now);
}

static int bpf_stop(struct backend *b)
{
	struct bpfb *p = b->priv;
	int ret;

	if (!p || !p->started)
		return 0;
	mmaplock_bpf__detach(p->skel);
	p->started = 0;
	ret = deliver(b, bpfl_now_ns());	/* the last, partial window */
	return ret < 0 ? -1 : 0;
}

static void bpf_close(struct backend *b)
{
	struct bpfb *p = b->priv;

	if (!p)
		return;
	if (p->started)
		mmaplock_bpf__detach(p->skel);
	mmaplock_bpf__destroy(p->skel);
	snap_free(&p->prev);
	snap_free(&p->cur);
	agg_fini(&p->agg);
	idmap_free(&p->named);
	names_fini(&p->names);
	cgroupfs_ids_fini(&p->ids);
	free(p);
	b->priv = NULL;
}

const struct backend_ops backend_bpf_ops = {
	.name = "bpf",
	.caps = BACKEND_CAP_WINDOWS,
	.open = bpf_open,
	.start = bpf_start,
	.poll = bpf_poll,
	.stop = bpf_stop,
	.close = bpf_close,
};

#endif
