/* SPDX-License-Identifier: MIT */
/*
 * test-recorder.c: MMAPLOCK_TRACE=FILE round-trips every event.
 *
 * The test runs itself again (/proc/self/exe SCENARIO) with MMAPLOCK_TRACE
 * set, so that the library's constructor starts the recorder, then reads
 * the file back with its own small reader (checking every block's magic,
 * length and hash, and that events come in version 2's PACKED blocks,
 * unpacked with src/common/mml_pack.c) and compares it with what the child did:
 *
 *   basic     3 threads, each on its own mm, a fixed sequence of every kind of
 *             lock call (several buffers each): per thread, the exact events
 *             in order (type, write, success, mm, tid), nondecreasing
 *             timestamps, memcg ids that a MEMCG block maps to the process's
 *             path, a TASK entry per thread, END totals;
 *   exit      a second thread calls exit() while the main thread waits: the
 *             events of both threads are all there;
 *   overload  tiny buffers (MMAPLOCK_TRACE_BUF=16), 4 busy threads: whatever
 *             was dropped is counted, recorded + lost == fired per thread;
 *   bad path  MMAPLOCK_TRACE in a missing directory: one line on stderr, the
 *             program runs normally and exits 0.
 * Built without tracing, the child must run untraced and write no file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <mmaplock/mmap_lock.h>
#include <mmaplock/trace.h>
#include "mml_format.h"
#include "mml_pack.h"
#include "memcg-util.h"
#if MML_HAVE_ZSTD
#include <zstd.h>
#endif

#include "test-util.h"

/* ------------------------------------------------------------ the workload */

#define MAXT 8

/* One compact expected event: type, flags. */
struct xev {
	uint8_t type, flags;
};

/*
 * One round of the basic workload on a private mm, with the events it fires.
 * Fills x (if not NULL) and returns the number of events.
 */
static int round_ops(struct mm_struct *mm, struct xev *x)
{
	int n = 0;
#define X(t, f) do { if (x) { x[n].type = (t); x[n].flags = (f); } n++; } while (0)
	const uint8_t W = MML_F_WRITE, S = MML_F_SUCCESS;

	if (mm) {
		mmap_write_lock(mm);
		mmap_write_unlock(mm);
	}
	X(MML_EV_START_LOCKING, W); X(MML_EV_ACQUIRE_RETURNED, W | S); X(MML_EV_RELEASED, W);
	if (mm) {
		mmap_read_lock(mm);
		(void)mmap_write_trylock(mm);	/* fails: we hold it for read */
		mmap_read_unlock(mm);
	}
	X(MML_EV_START_LOCKING, 0); X(MML_EV_ACQUIRE_RETURNED, S);
	X(MML_EV_START_LOCKING, W); X(MML_EV_ACQUIRE_RETURNED, W);
	X(MML_EV_RELEASED, 0);
	if (mm) {
		mmap_write_lock_killable(mm);
		mmap_write_downgrade(mm);
		(void)mmap_read_trylock(mm);
		mmap_read_unlock(mm);
		mmap_read_unlock_non_owner(mm);
	}
	X(MML_EV_START_LOCKING, W); X(MML_EV_ACQUIRE_RETURNED, W | S);
	X(MML_EV_ACQUIRE_RETURNED, S);
	X(MML_EV_START_LOCKING, 0); X(MML_EV_ACQUIRE_RETURNED, S);
	X(MML_EV_RELEASED, 0); X(MML_EV_RELEASED, 0);
#undef X
	return n;
}

static int rounds;
static struct mm_struct mms[MAXT];
static pthread_barrier_t start_bar;

static void *worker(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&start_bar);
	for (int r = 0; r < rounds; r++)
		round_ops(&mms[i], NULL);
	printf("thread %ld tid %d mm %p\n", i, (int)__mml_gettid(), (void *)&mms[i]);
	return NULL;
}

/* Child: run threads workers on mms[0..threads-1]; thread 0 is main. */
static int child_basic(int threads, int nrounds)
{
	pthread_t th[MAXT];

	rounds = nrounds;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < threads; i++)
		mmap_init_lock(&mms[i]);
	pthread_barrier_init(&start_bar, NULL, (unsigned)threads);
	for (long i = 1; i < threads; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	worker((void *)0);
	for (int i = 1; i < threads; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/* Child for "exit": thread 1 calls exit() while main waits in pthread_join. */
static void *exiter(void *arg)
{
	for (int r = 0; r < rounds; r++)
		round_ops(&mms[1], NULL);
	printf("thread 1 tid %d mm %p\n", (int)__mml_gettid(), (void *)&mms[1]);
	exit(0);
}

static int child_exit(int nrounds)
{
	pthread_t th;

	rounds = nrounds;
	setvbuf(stdout, NULL, _IOLBF, 0);
	mmap_init_lock(&mms[0]);
	mmap_init_lock(&mms[1]);
	for (int r = 0; r < rounds; r++)
		round_ops(&mms[0], NULL);
	printf("thread 0 tid %d mm %p\n", (int)__mml_gettid(), (void *)&mms[0]);
	pthread_create(&th, NULL, exiter, NULL);
	pthread_join(th, NULL);	/* never returns: exiter calls exit() */
	return 1;
}

/* ------------------------------------------------------------ the reader */

struct stream {
	uint32_t tid;
	struct mml_event *ev;
	size_t n, cap;
	uint64_t lost;
	int has_task;
	char comm[17];
	uint32_t tgid;
};

struct trace {
	struct mml_file_header h;
	struct stream s[64];
	int ns;
	uint64_t memcg_id[64];
	char memcg_path[64][MEMCG_PATH_BUF_SIZE];
	int nmemcg;
	int has_end;
	uint64_t end_events, end_lost;
	char info_program[4096];
	int info_pid;
};

static struct stream *stream_of(struct trace *t, uint32_t tid)
{
	for (int i = 0; i < t->ns; i++)
		if (t->s[i].tid == tid)
			return &t->s[i];
	if (t->ns == 64)
		return NULL;
	memset(&t->s[t->ns], 0, sizeof(t->s[0]));
	t->s[t->ns].tid = tid;
	return &t->s[t->ns++];
}

static void trace_free(struct trace *t)
{
	for (int i = 0; i < t->ns; i++)
		free(t->s[i].ev);
	free(t);
}

/*
 * A PACKED block's payload *pp into what an EVENTS block of the same events
 * holds (*pp replaced, *bh's type and len with it). 0, or -1 if malformed.
 */
static int unpack(unsigned char **pp, struct mml_block_header *bh)
{
	struct mml_packed_header ph;
	struct mml_unpacker u = { 0 };
	unsigned char *raw, *out;
	int r = -1;

	if (bh->len < sizeof(ph))
		return -1;
	memcpy(&ph, *pp, sizeof(ph));
	if (!ph.count || ph.count > MML_EVENTS_PER_BLOCK || sizeof(ph) + ph.data_len > bh->len)
		return -1;
	raw = malloc(ph.raw_len + 1);
	out = malloc(sizeof(struct mml_events_header) + ph.count * sizeof(struct mml_event));
	if (ph.codec == MML_CODEC_NONE && ph.raw_len == ph.data_len) {
		memcpy(raw, *pp + sizeof(ph), ph.raw_len);
		r = 0;
	}
#if MML_HAVE_ZSTD
	if (ph.codec == MML_CODEC_ZSTD)
		r = ZSTD_decompress(raw, ph.raw_len, *pp + sizeof(ph), ph.data_len) == ph.raw_len ? 0 : -1;
#endif
	if (!r)
		r = mml_unpack(&u, raw, ph.raw_len, ph.count, ph.min_ts,
			       (struct mml_event *)(out + sizeof(struct mml_events_header)));
	mml_unpacker_fini(&u);
	free(raw);
	if (r) {
		free(out);
		return -1;
	}
	memcpy(out, &ph, sizeof(struct mml_events_header));
	free(*pp);
	*pp = out;
	bh->type = MML_BLK_EVENTS;
	bh->len = (uint32_t)(sizeof(struct mml_events_header) + ph.count * sizeof(struct mml_event));
	return 0;
}

/* Read and check a whole trace file; NULL (with a message) if it is malformed. */
static struct trace *read_trace(const char *path)
{
	struct trace *t = calloc(1, sizeof(*t));
	FILE *f = fopen(path, "rb");
	struct mml_block_header bh;
	unsigned char *p = NULL;
	int blocks = 0;

	if (!f) {
		fprintf(stderr, "read_trace: %s: %s\n", path, strerror(errno));
		free(t);
		return NULL;
	}
	if (fread(&t->h, sizeof(t->h), 1, f) != 1 || memcmp(t->h.magic, MML_FILE_MAGIC, 8) ||
	    t->h.version_major != MML_VERSION_MAJOR || t->h.header_size != 64) {
		fprintf(stderr, "read_trace: %s: bad file header\n", path);
		goto bad;
	}
	while (fread(&bh, sizeof(bh), 1, f) == 1) {
		blocks++;
		if (t->has_end) {
			fprintf(stderr, "read_trace: block after END\n");
			goto bad;
		}
		if (bh.magic != MML_BLOCK_MAGIC || bh.len % 8 || bh.len > MML_BLOCK_MAX) {
			fprintf(stderr, "read_trace: block %d: bad header\n", blocks);
			goto bad;
		}
		p = realloc(p, bh.len ? bh.len : 8);
		if (fread(p, 1, bh.len, f) != bh.len || mml_hash(p, bh.len) != bh.hash) {
			fprintf(stderr, "read_trace: block %d: short or bad hash\n", blocks);
			goto bad;
		}
		if (bh.type == MML_BLK_EVENTS) {
			fprintf(stderr, "read_trace: block %d: version 1 EVENTS in a version 2 file\n",
				blocks);
			goto bad;
		}
		if (bh.type == MML_BLK_PACKED && unpack(&p, &bh) < 0) {
			fprintf(stderr, "read_trace: block %d: bad PACKED block\n", blocks);
			goto bad;
		}
		if (bh.type == MML_BLK_EVENTS) {
			struct mml_events_header eh;
			struct stream *s;

			memcpy(&eh, p, sizeof(eh));
			if (bh.len != sizeof(eh) + eh.count * sizeof(struct mml_event) ||
			    !eh.count || !(s = stream_of(t, eh.stream))) {
				fprintf(stderr, "read_trace: block %d: bad EVENTS length\n", blocks);
				goto bad;
			}
			if (s->n + eh.count > s->cap) {
				s->cap = (s->n + eh.count) * 2;
				s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
			}
			memcpy(s->ev + s->n, p + sizeof(eh), eh.count * sizeof(struct mml_event));
			if (s->ev[s->n].ts != eh.min_ts || s->ev[s->n + eh.count - 1].ts != eh.max_ts) {
				fprintf(stderr, "read_trace: block %d: min/max_ts wrong\n", blocks);
				goto bad;
			}
			s->n += eh.count;
		} else if (bh.type == MML_BLK_MEMCG) {
			for (uint32_t o = 0; o + 10 <= bh.len && t->nmemcg < 64;) {
				uint64_t id;
				uint16_t len;

				memcpy(&id, p + o, 8);
				memcpy(&len, p + o + 8, 2);
				if (!id && !len)
					break;	/* padding */
				if (o + 10 + len > bh.len || len >= MEMCG_PATH_BUF_SIZE)
					goto bad;
				t->memcg_id[t->nmemcg] = id;
				memcpy(t->memcg_path[t->nmemcg], p + o + 10, len);
				t->memcg_path[t->nmemcg++][len] = '\0';
				o += 10 + len;
			}
		} else if (bh.type == MML_BLK_TASK) {
			for (uint32_t o = 0; o + 34 <= bh.len;) {
				uint32_t tid, tgid;
				uint16_t len;
				struct stream *s;

				memcpy(&tid, p + o, 4);
				memcpy(&tgid, p + o + 4, 4);
				memcpy(&len, p + o + 32, 2);
				if (!tid)
					break;	/* padding */
				s = stream_of(t, tid);
				if (!s)
					goto bad;
				s->has_task = 1;
				s->tgid = tgid;
				memcpy(s->comm, p + o + 8, 16);
				o += 34 + len;
			}
		} else if (bh.type == MML_BLK_LOST) {
			for (uint32_t o = 0; o + 16 <= bh.len; o += 16) {
				uint32_t who;
				uint64_t lost;
				struct stream *s;

				memcpy(&who, p + o, 4);
				memcpy(&lost, p + o + 8, 8);
				if ((s = stream_of(t, who)))
					s->lost += lost;
			}
		} else if (bh.type == MML_BLK_INFO) {
			for (uint32_t o = 0; o < bh.len && p[o];) {
				const char *k = (const char *)p + o, *v = k + strlen(k) + 1;

				if (!strcmp(k, "program"))
					snprintf(t->info_program, sizeof(t->info_program), "%s", v);
				if (!strcmp(k, "pid"))
					t->info_pid = atoi(v);
				o = (uint32_t)((const unsigned char *)v + strlen(v) + 1 - p);
			}
		} else if (bh.type == MML_BLK_END) {
			memcpy(&t->end_events, p, 8);
			memcpy(&t->end_lost, p + 8, 8);
			t->has_end = 1;
		}
	}
	free(p);
	fclose(f);
	return t;
bad:
	free(p);
	fclose(f);
	trace_free(t);
	return NULL;
}

/* ------------------------------------------------------------ the parent */

struct child_thread {
	int tid;
	unsigned long mm;
};

/*
 * Run this program as "SCENARIO" with MMAPLOCK_TRACE=file (and extra env),
 * collect "thread I tid T mm P" lines. Returns the exit status.
 */
static int run_child(const char *scenario, const char *file, const char *extra_env,
		     struct child_thread *ct, int *nct, char *err, size_t errlen)
{
	int out[2], errp[2], status;
	pid_t pid;
	FILE *f;
	char line[512];
	ssize_t n;

	if (pipe(out) || pipe(errp))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "test-recorder", (char *)scenario, NULL };

		dup2(out[1], 1);
		dup2(errp[1], 2);
		close(out[0]);
		close(errp[0]);
		setenv("MMAPLOCK_TRACE", file, 1);
		if (extra_env) {
			/* "A=1 B=2": one putenv per word (the copy is never freed: we exec). */
			char *copy = strdup(extra_env), *save, *w;

			for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
				putenv(w);
		}
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	f = fdopen(out[0], "r");
	*nct = 0;
	while (fgets(line, sizeof(line), f)) {
		int i, tid;
		unsigned long mm;

		if (sscanf(line, "thread %d tid %d mm %lx", &i, &tid, &mm) == 3 && i >= 0 && i < MAXT) {
			ct[i].tid = tid;
			ct[i].mm = mm;
			if (i + 1 > *nct)
				*nct = i + 1;
		}
	}
	fclose(f);
	n = read(errp[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(errp[0]);
	waitpid(pid, &status, 0);
	return status;
}

static const char *path_of(struct trace *t, uint64_t id)
{
	for (int i = 0; i < t->nmemcg; i++)
		if (t->memcg_id[i] == id)
			return t->memcg_path[i];
	return id ? NULL : "";
}

/* Exact per-thread comparison with what round_ops() fires, rounds times. */
static void check_streams(const char *what, struct trace *t, struct child_thread *ct, int nct,
			  int nrounds, const char *want_path)
{
	struct xev x[64];
	int per = round_ops(NULL, x);
	uint64_t total = 0;

	CHECK_SOFT(t->has_end, "%s: no END block", what);
	CHECK_SOFT(t->h.source == MML_SOURCE_LIB && t->h.clock == MML_CLOCK_MONOTONIC,
	      "%s: header source %u clock %u", what, t->h.source, t->h.clock);
	CHECK_SOFT(t->info_pid > 0 && strstr(t->info_program, "test-recorder"),
	      "%s: INFO pid %d program '%s'", what, t->info_pid, t->info_program);
	for (int i = 0; i < nct; i++) {
		struct stream *s = NULL;
		size_t bad = 0;

		for (int k = 0; k < t->ns; k++)
			if (t->s[k].tid == (uint32_t)ct[i].tid)
				s = &t->s[k];
		CHECK_SOFT(s != NULL, "%s: no events of thread %d (tid %d)", what, i, ct[i].tid);
		if (!s)
			continue;
		CHECK_SOFT(s->n == (size_t)per * nrounds, "%s: thread %d: %zu events, want %d", what, i,
		      s->n, per * nrounds);
		CHECK_SOFT(s->lost == 0, "%s: thread %d lost %lu", what, i, (unsigned long)s->lost);
		CHECK_SOFT(s->has_task && s->tgid == (uint32_t)t->info_pid, "%s: thread %d: TASK", what, i);
		for (size_t k = 0; k < s->n && bad < 5; k++) {
			const struct mml_event *e = &s->ev[k];
			const struct xev *w = &x[k % per];
			const char *p = path_of(t, e->memcg);

			if (e->type != w->type || e->flags != w->flags || e->mm != ct[i].mm ||
			    e->tid != (uint32_t)ct[i].tid || (k && e->ts < s->ev[k - 1].ts) ||
			    !p || strcmp(p, want_path)) {
				CHECK_SOFT(0, "%s: thread %d event %zu: type %u flags %x mm %lx tid %u "
				      "path '%s'; want type %u flags %x mm %lx tid %d path '%s'",
				      what, i, k, e->type, e->flags, (unsigned long)e->mm, e->tid,
				      p ? p : "(no MEMCG entry)", w->type, w->flags, ct[i].mm,
				      ct[i].tid, want_path);
				bad++;
			}
		}
		total += s->n;
	}
	CHECK_SOFT(t->end_events == total && t->end_lost == 0, "%s: END says %lu events %lu lost, read %lu",
	      what, (unsigned long)t->end_events, (unsigned long)t->end_lost, (unsigned long)total);
}

int main(int argc, char **argv)
{
	char file[256], err[4096], want_path[8192];
	struct child_thread ct[MAXT];
	struct trace *t;
	int nct, st;

	if (argc > 1) {
		if (!strcmp(argv[1], "basic"))
			return child_basic(3, 3000);
		if (!strcmp(argv[1], "exit"))
			return child_exit(2000);
		if (!strcmp(argv[1], "overload"))
			return child_basic(4, 5000);
		return 2;
	}
	test_memcg_path(want_path, sizeof(want_path));
	want_path[MEMCG_PATH_BUF_SIZE - 1] = '\0';
	if (!MMAPLOCK_MEMCG)
		want_path[0] = '\0';
	snprintf(file, sizeof(file), "/tmp/test-recorder-%d.mml", (int)getpid());

#if MMAPLOCK_TRACING
	/* basic */
	st = run_child("basic", file, NULL, ct, &nct, err, sizeof(err));
	CHECK_SOFT(st == 0 && nct == 3, "basic: child status %d, %d threads, stderr: %s", st, nct, err);
	t = read_trace(file);
	CHECK_SOFT(t != NULL, "basic: unreadable trace");
	if (t) {
		check_streams("basic", t, ct, nct, 3000, want_path);
		trace_free(t);
	}

	/* exit() from a second thread */
	st = run_child("exit", file, NULL, ct, &nct, err, sizeof(err));
	CHECK_SOFT(st == 0 && nct == 2, "exit: child status %d, %d threads, stderr: %s", st, nct, err);
	t = read_trace(file);
	CHECK_SOFT(t != NULL, "exit: unreadable trace");
	if (t) {
		check_streams("exit", t, ct, nct, 2000, want_path);
		trace_free(t);
	}

	/* overload: whatever is dropped is counted */
	st = run_child("overload", file, "MMAPLOCK_TRACE_BUF=16 MMAPLOCK_TRACE_BUFS=3", ct, &nct, err, sizeof(err));
	CHECK_SOFT(st == 0 && nct == 4, "overload: child status %d, %d threads", st, nct);
	t = read_trace(file);
	CHECK_SOFT(t != NULL, "overload: unreadable trace");
	if (t) {
		struct xev x[64];
		int per = round_ops(NULL, x);
		uint64_t rec = 0, lost = 0;

		CHECK_SOFT(t->has_end, "overload: no END");
		for (int i = 0; i < nct; i++) {
			struct stream *s = NULL;

			for (int k = 0; k < t->ns; k++)
				if (t->s[k].tid == (uint32_t)ct[i].tid)
					s = &t->s[k];
			CHECK_SOFT(s != NULL, "overload: thread %d missing", i);
			if (!s)
				continue;
			CHECK_SOFT(s->n + s->lost == (uint64_t)per * 5000,
			      "overload: thread %d: %zu recorded + %lu lost != %d fired", i, s->n,
			      (unsigned long)s->lost, per * 5000);
			for (size_t k = 1; k < s->n; k++)
				if (s->ev[k].ts < s->ev[k - 1].ts) {
					CHECK_SOFT(0, "overload: thread %d: time goes back at %zu", i, k);
					break;
				}
			rec += s->n;
			lost += s->lost;
		}
		CHECK_SOFT(t->end_events == rec && t->end_lost == lost,
		      "overload: END %lu/%lu, read %lu/%lu", (unsigned long)t->end_events,
		      (unsigned long)t->end_lost, (unsigned long)rec, (unsigned long)lost);
		printf("test-recorder: overload: %lu events recorded, %lu dropped and counted\n",
		       (unsigned long)rec, (unsigned long)lost);
		trace_free(t);
	}
#endif

	/* Unwritable path: one line on stderr, the program runs untraced. */
	st = run_child("basic", "/nonexistent-dir/x.mml", NULL, ct, &nct, err, sizeof(err));
	CHECK_SOFT(st == 0 && nct == 3, "bad path: status %d, %d threads", st, nct);
	CHECK_SOFT(strchr(err, '\n') && strchr(err, '\n')[1] == '\0' && strstr(err, "MMAPLOCK_TRACE"),
	      "bad path: stderr should be one line naming MMAPLOCK_TRACE, got: '%s'", err);

#if !MMAPLOCK_TRACING
	/* No tracing: the child runs, says so once, writes nothing. */
	unlink(file);
	st = run_child("basic", file, NULL, ct, &nct, err, sizeof(err));
	CHECK_SOFT(st == 0 && nct == 3, "off: status %d", st);
	CHECK_SOFT(access(file, F_OK) != 0, "off: a trace file was written");
	(void)t;
	(void)check_streams;
	(void)read_trace;
#endif
	unlink(file);
	if (test_failures) {
		fprintf(stderr, "test-recorder: %d failures\n", test_failures);
		return 1;
	}
	printf("test-recorder: ok\n");
	return 0;
}
