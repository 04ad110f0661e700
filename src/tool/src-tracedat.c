/* SPDX-License-Identifier: MIT */
/*
 * src-tracedat.c: trace-cmd's trace.dat as a source (source.h), read
 * through libtracecmd and decoded by decode.c.
 *
 * The file's event formats are already parsed into its tep (tracecmd_open
 * does that); decode.c takes the offsets from there, so files of either
 * kernel era (memcg_id or memcg_path) read alike. Records come per CPU in
 * time order; this source merges them with a small binary heap keyed by ts
 * over every (buffer, CPU) stream: the top buffer and any instance buffers
 * the file holds (`trace-cmd extract -B NAME` stores the events under
 * NAME). Only one record per stream is held, so memory does not grow with
 * the file.
 *
 * Kernel stacks: ftrace:kernel_stack records (the stacktrace trigger, or
 * trace-cmd record -T) hold return addresses, as many as the record's
 * "size" field says within the record's length (decode_stack). They are
 * symbolized with the file's own kallsyms through the tep handle
 * (tep_find_function_info: "func+0x1a/0x80", as the kernel's %pS prints
 * it; "0xffff..." when no symbol covers the address) and attached by
 * stackq.h to the event they follow in their (buffer, CPU) stream.
 *
 * Metadata: comm from the file's saved cmdlines (tep_data_comm_from_pid),
 * the first time a tid is met; lost events from the records' missed_events
 * marks; path-era memcg paths as the decoder interns them.
 *
 * Corrupt files. libtracecmd 1.3 (and libtraceevent 1.7 under it) crash on
 * some damaged trace.dat files while opening them: a NULL dereference in
 * tracecmd_buffer_instance_handle()'s error path when a compressed chunk
 * does not decompress, format parsers walking off a damaged event format.
 * That is their code, not ours, but a report must not die of a bad input.
 * So the file is first opened, buffers included, in a forked child with
 * its output sent to /dev/null; only when that child exits normally does
 * this process open it. A child killed by a signal (or stopped by a
 * sanitizer) means a one-line "corrupt" error instead of a crash. The price
 * is one more parse of the headers (about 0.3 s for a file with kallsyms).
 * Damage that only shows while records are read is not covered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include "source.h"
#include "decode.h"
#include "stackq.h"
#include "stacks.h"

#define SYMLEN	160			/* one symbolized frame */
#define SYMCACHE 4096			/* symbolized addresses remembered (stacks repeat) */

struct symc {
	uint64_t addr;
	char sym[SYMLEN];
};
_Static_assert(SYMCACHE == 1 << 12, "on_stack() hashes an address to 12 bits");

struct stream {
	struct tracecmd_input *h;
	int cpu;
	uint32_t id;			/* stable number (the heap moves streams) */
	struct tep_record *rec;		/* next record, NULL: exhausted */
};

struct tdat {
	struct tracecmd_input *top;
	struct tracecmd_input **subs;
	int nsubs;
	struct tep_handle *tep;
	struct decoder *dec;
	struct stream *st;
	int nst;			/* heap size (streams with a record) */
	uint32_t *tids;			/* open-addressing set of tids seen (+1) */
	size_t ntids, cap;
	struct mml_meta *meta;
	uint32_t nids;			/* streams numbered so far */
	struct stackq *q;		/* events held until their stack is known */
	uint64_t addr[STACK_MAX_FRAMES + 32];
	char sym[STACK_MAX_FRAMES + 32][SYMLEN];
	struct symc *symc;		/* SYMCACHE entries, by address hash; NULL until needed */
};

static void on_path(uint64_t id, const char *path, void *arg)
{
	struct tdat *t = arg;

	meta_set_memcg(t->meta, id, path);
}

static int probe(const unsigned char *head, size_t len)
{
	static const unsigned char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };

	return len >= sizeof(magic) && !memcmp(head, magic, sizeof(magic));
}

static int less(const struct stream *a, const struct stream *b)
{
	return a->rec->ts < b->rec->ts;
}

static void sift_down(struct tdat *t, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < t->nst && less(&t->st[l], &t->st[m]))
			m = l;
		if (r < t->nst && less(&t->st[r], &t->st[m]))
			m = r;
		if (m == i)
			return;
		struct stream x = t->st[i];
		t->st[i] = t->st[m];
		t->st[m] = x;
		i = m;
	}
}

static int add_streams(struct tdat *t, struct tracecmd_input *h)
{
	int ncpu = tep_get_cpus(tracecmd_get_tep(h));

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct tep_record *r = tracecmd_read_data(h, cpu);
		if (!r)
			continue;
		struct stream *n = realloc(t->st, sizeof(*n) * (size_t)(t->nst + 1));
		if (!n) {
			tracecmd_free_record(r);
			return -1;
		}
		t->st = n;
		t->st[t->nst++] = (struct stream){ h, cpu, t->nids++, r };
	}
	return 0;
}

static void tdat_close(struct source *s)
{
	struct tdat *t = s->priv;

	if (!t)
		return;
	for (int i = 0; i < t->nst; i++)
		tracecmd_free_record(t->st[i].rec);
	free(t->st);
	free(t->symc);
	stackq_free(t->q);
	decoder_free(t->dec);
	for (int i = 0; i < t->nsubs; i++)
		if (t->subs[i])
			tracecmd_close(t->subs[i]);
	free(t->subs);
	if (t->top)
		tracecmd_close(t->top);
	free(t->tids);
	free(t);
	s->priv = NULL;
}

#define PROBE_OK	0	/* the child opened the file, or failed cleanly */

/*
 * Open PATH and all its buffers in a child process (see the top of the
 * file). Returns 1 when that went without a crash (or could not be tried:
 * no fork), 0 when the child died.
 */
static int open_survives(const char *path)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		tracecmd_set_loglevel(TEP_LOG_NONE);
		struct tracecmd_input *h = tracecmd_open(path, 0);
		if (h) {
			int n = tracecmd_buffer_instances(h);
			for (int i = 0; i < n; i++) {
				struct tracecmd_input *b = tracecmd_buffer_instance_handle(h, i);
				if (b)
					tracecmd_close(b);
			}
			tracecmd_close(h);
		}
		_exit(PROBE_OK);	/* _exit: no atexit handlers, no leak report */
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == PROBE_OK;
}

static int tdat_open(struct source *s, const char *path)
{
	struct tdat *t = calloc(1, sizeof(*t));

	if (!t) {
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	s->priv = t;
	t->meta = s->meta;
	if (!open_survives(path)) {
		snprintf(s->err, sizeof(s->err),
			 "%s: corrupt trace.dat (libtracecmd crashes opening it)", path);
		goto fail;
	}
	tracecmd_set_loglevel(TEP_LOG_NONE);
	t->top = tracecmd_open(path, 0);
	if (!t->top) {
		snprintf(s->err, sizeof(s->err), "%s: not a readable trace.dat file", path);
		goto fail;
	}
	t->tep = tracecmd_get_tep(t->top);
	t->dec = decoder_new(t->tep, on_path, t);
	if (!t->dec) {
		snprintf(s->err, sizeof(s->err), "%s: trace.dat holds no mmap_lock events", path);
		goto fail;
	}
	t->q = stackq_new(t->meta);
	if (!t->q || add_streams(t, t->top))
		goto nomem;
	t->nsubs = tracecmd_buffer_instances(t->top);
	if (t->nsubs > 0) {
		t->subs = calloc((size_t)t->nsubs, sizeof(*t->subs));
		if (!t->subs)
			goto nomem;
		for (int i = 0; i < t->nsubs; i++) {
			t->subs[i] = tracecmd_buffer_instance_handle(t->top, i);
			if (t->subs[i] && add_streams(t, t->subs[i]))
				goto nomem;
		}
	}
	for (int i = t->nst / 2 - 1; i >= 0; i--)
		sift_down(t, i);
	return 0;
nomem:
	snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
fail:
	tdat_close(s);
	return -1;
}

static void see_tid(struct tdat *t, uint32_t tid)
{
	uint32_t k = tid + 1;

	if ((t->ntids + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024;
		uint32_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			return;
		for (size_t i = 0; i < t->cap; i++)
			if (t->tids[i]) {
				size_t j = (t->tids[i] * 2654435761u) & (ncap - 1);
				while (n[j])
					j = (j + 1) & (ncap - 1);
				n[j] = t->tids[i];
			}
		free(t->tids);
		t->tids = n;
		t->cap = ncap;
	}
	size_t j = (k * 2654435761u) & (t->cap - 1);
	for (; t->tids[j]; j = (j + 1) & (t->cap - 1))
		if (t->tids[j] == k)
			return;
	t->tids[j] = k;
	t->ntids++;
	const char *comm = tep_data_comm_from_pid(t->tep, (int)tid);
	if (comm && strcmp(comm, "<...>") && !meta_task(t->meta, tid)) {
		struct mml_task_info ti = { .tid = tid };
		snprintf(ti.comm, sizeof(ti.comm), "%.15s", comm);
		meta_set_task(t->meta, &ti);
	}
}

/*
 * A kernel_stack record: its return addresses, symbolized with the file's
 * own kallsyms (as the kernel's %pS prints them: "func+0x1a/0x80"), to the
 * queue.
 */
static void on_stack(struct tdat *t, const struct stream *st, int n, uint32_t pid)
{
	const char *sym[STACK_MAX_FRAMES + 32];

	if (!t->symc)
		t->symc = calloc(SYMCACHE, sizeof(*t->symc));
	for (int i = 0; i < n; i++) {
		uint64_t a = t->addr[i];
		struct symc *c = t->symc ? &t->symc[(a * 0x9e3779b97f4a7c15ull) >> 52] : NULL;
		if (c && c->addr == a && c->sym[0]) {
			memcpy(t->sym[i], c->sym, strlen(c->sym) + 1);
		} else {
			const char *name = NULL;
			unsigned long long start = 0;
			unsigned long size = 0;
			if (tep_find_function_info(t->tep, a, &name, &start, &size) && name)
				snprintf(t->sym[i], SYMLEN, "%s+0x%llx/0x%lx", name, a - start, size);
			else
				snprintf(t->sym[i], SYMLEN, "0x%llx", (unsigned long long)a);
			if (c) {
				c->addr = a;
				memcpy(c->sym, t->sym[i], SYMLEN);
			}
		}
		sym[i] = t->sym[i];
	}
	stackq_stack(t->q, st->id, pid, t->addr, sym, (unsigned)n);
}

static long tdat_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct tdat *t = s->priv;
	size_t n = 0;
	struct mml_event e;

	for (;;) {
		n += stackq_pop(t->q, ev + n, max - n, t->nst == 0);
		if (n == max || t->nst == 0)
			break;
		struct stream *top = &t->st[0];
		struct tep_record *r = top->rec;
		uint32_t pid;
		int k;

		if (r->missed_events > 0) {
			meta_add_lost(t->meta, (uint32_t)top->cpu, (uint64_t)r->missed_events);
			stackq_other(t->q, top->id);
		}
		int rc = decode_record(t->dec, r->data, r->size, r->ts, top->cpu, &e);
		if (rc == 1) {
			see_tid(t, e.tid);
			if (stackq_event(t->q, top->id, &e)) {
				snprintf(s->err, sizeof(s->err), "out of memory");
				return -1;
			}
		} else if (rc == 0 && (k = decode_stack(t->dec, r->data, r->size, &pid, t->addr,
						      STACK_MAX_FRAMES + 32)) >= 0) {
			on_stack(t, top, k, pid);
		} else {
			stackq_other(t->q, top->id);
		}
		tracecmd_free_record(r);
		top->rec = tracecmd_read_data(top->h, top->cpu);
		if (!top->rec)
			t->st[0] = t->st[--t->nst];
		if (t->nst > 0)
			sift_down(t, 0);
	}
	if (n) {
		if (!s->start_ts)
			s->start_ts = ev[0].ts;
		s->end_ts = ev[n - 1].ts;
	}
	return (long)n;
}

const struct source_ops source_tracedat_ops = {
	.name = "trace.dat",
	.probe = probe,
	.open = tdat_open,
	.next = tdat_next,
	.close = tdat_close,
};
