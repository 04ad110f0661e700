/* SPDX-License-Identifier: MIT */
/*
 * watch-probe.c: the stacks of read holders (docs/WATCH.md, "Read holders'
 * stacks"). The kernel gives no stack for a read acquisition, so while a
 * slow wait is still open the holders of its mm are read from
 * /proc/TID/stack, once per hold; an incident file then gets them as
 * ordinary stack events before the holds' acquisitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "watch.h"
#include "watch-local.h"
#include "mml_writer.h"
#include "stacks.h"


const struct watch_probe *watch_probe_find(const struct watch *w, uint32_t tid, uint64_t hold_ts)
{
	unsigned n = w->nprobe < WATCH_PROBES ? w->nprobe : WATCH_PROBES;

	for (unsigned i = 0; i < n; i++)
		if (w->probe[i].tid == tid && w->probe[i].hold_ts == hold_ts)
			return &w->probe[i];
	return NULL;
}

/* /proc/TID/stack ("[<0>] func+0x1a/0x80" lines) into a meta stack id; 0: none. */
static uint32_t read_proc_stack(struct watch *w, uint32_t tid)
{
	char path[64], line[256], *sym[STACK_MAX_FRAMES];
	unsigned n = 0;
	uint32_t id = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stack", tid);
	if (!(f = fopen(path, "re"))) {
		if (errno == EACCES || errno == EPERM) {
			fprintf(stderr, "%s: %s: %s: holders of the lock for read get no stack "
				"(it needs root)\n", w->o.prog, path, strerror(errno));
			w->probe_off = 1;
		}
		return 0;
	}
	while (n < STACK_MAX_FRAMES && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ']');
		if (!p)
			continue;
		p += 1 + strspn(p + 1, " ");
		p[strcspn(p, "\n")] = '\0';
		if (*p && !(sym[n++] = strdup(p)))
			n--;
	}
	if (ferror(f) && !n && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr, "%s: %s: %s: holders of the lock for read get no stack (it needs root)\n",
			w->o.prog, path, strerror(errno));
		w->probe_off = 1;
	}
	fclose(f);
	if (n)
		id = stacktab_intern(meta_stacks(w->meta), NULL, (const char *const *)sym, n, NULL);
	for (unsigned i = 0; i < n; i++)
		free(sym[i]);
	return id;
}

/* Waits open past the threshold: read the stacks of their mm's holders, once per hold. */
void watch_probe_holders(struct watch *w)
{
	struct timespec ts;
	uint64_t now;

	if (!w->o.wait_over_ns || w->probe_off)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (struct u64map_ent *e = u64map_tab_next(&w->wait_ts, NULL); e; e = u64map_tab_next(&w->wait_ts, e)) {
		uint64_t *mm, *done;
		if (now < e->val || now - e->val <= w->o.wait_over_ns)
			continue;
		if ((done = u64map_get(&w->probed, e->key, 0)) && *done == e->val)
			continue;
		if (!(mm = u64map_get(&w->wait_mm, e->key, 0)))
			continue;
		if (w->probed.n > 65536)
			u64map_free(&w->probed);
		if ((done = u64map_get(&w->probed, e->key, 1)))
			*done = e->val;
		for (struct u64map_ent *h = u64map_tab_next(&w->hold_mm, NULL); h;
		     h = u64map_tab_next(&w->hold_mm, h)) {
			uint64_t *hts = u64map_get(&w->hold_ts, h->key, 0);
			if (h->val != *mm || h->key == e->key || !hts || watch_probe_find(w, (uint32_t)h->key, *hts))
				continue;
			uint32_t id = read_proc_stack(w, (uint32_t)h->key);
			if (w->probe_off)
				return;
			if (!id)
				continue;
			w->probe[w->nprobe % WATCH_PROBES] = (struct watch_probe){ (uint32_t)h->key, id, *hts };
			w->nprobe++;
		}
	}
}

/*
 * Has the acquisition ev[i] a kernel stack? The pairing gives an
 * acquisition the stack event of its task that comes last before it, with
 * no other lock event of the task in between (contention events do not
 * take one), when it is on the same mm.
 */
static int has_stack(const struct mml_event *ev, size_t i)
{
	const struct mml_event *a = &ev[i];

	while (i-- > 0) {
		const struct mml_event *e = &ev[i];
		if (e->tid != a->tid || e->type == MML_EV_CONTENTION_BEGIN ||
		    e->type == MML_EV_CONTENTION_END)
			continue;
		return e->type == MML_EV_STACK && e->mm == a->mm;
	}
	return 0;
}

struct put {
	size_t at;			/* before this event */
	uint32_t stack;
};

static int cmp_put(const void *x, const void *y)
{
	size_t a = ((const struct put *)x)->at, b = ((const struct put *)y)->at;

	return a < b ? -1 : a > b;
}

/*
 * The holders' stacks read from /proc into the window's events, as the
 * kernel's stacks are: a stack event right before the hold's acquisition,
 * with its tid, ts, cpu and mm (docs/FILE-FORMAT.md), for an acquisition
 * that has none from the kernel. *ev grows; *n counted. Stacks put, or -1.
 */
long watch_put_probe_stacks(const struct watch *w, struct mml_event **ev, size_t *n)
{
	unsigned np = w->nprobe < WATCH_PROBES ? w->nprobe : WATCH_PROBES;
	struct put put[WATCH_PROBES];
	struct mml_event *e = *ev, *out;
	size_t k = 0, m = *n;

	for (unsigned p = 0; p < np; p++) {
		const struct watch_probe *pr = &w->probe[p];
		size_t lo = 0, hi = m;
		while (lo < hi) {		/* the first event stamped at the hold's start */
			size_t mid = lo + (hi - lo) / 2;
			if (e[mid].ts < pr->hold_ts)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < m && e[i].ts == pr->hold_ts; i++) {
			if (e[i].type != MML_EV_ACQUIRE_RETURNED || e[i].tid != pr->tid ||
			    !(e[i].flags & MML_F_SUCCESS))
				continue;
			if (!has_stack(e, i))
				put[k++] = (struct put){ i, pr->stack };
			break;
		}
	}
	if (!k)
		return 0;
	qsort(put, k, sizeof(put[0]), cmp_put);	/* one probe per hold: the places differ */
	if (!(out = malloc((m + k) * sizeof(*out))))
		return -1;
	size_t o = 0, j = 0;
	for (size_t i = 0; i < m; i++) {
		if (j < k && put[j].at == i) {
			out[o++] = (struct mml_event){ .ts = e[i].ts, .mm = e[i].mm,
						       .memcg = put[j].stack, .tid = e[i].tid,
						       .cpu = e[i].cpu, .type = MML_EV_STACK };
			j++;
		}
		out[o++] = e[i];
	}
	free(e);
	*ev = out;
	*n = o;
	return (long)k;
}
