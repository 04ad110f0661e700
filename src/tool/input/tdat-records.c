/* SPDX-License-Identifier: MIT */
/*
 * tdat-records.c: a trace.dat read record-wise, through libtracecmd's
 * tracecmd_read_data(), one tep_record per event (tdat-source.h). It is
 * what src-tracedat.c falls back to for the files tdat-file.c leaves to
 * libtracecmd (big-endian files, zlib, TSC or host/guest time conversion,
 * latency traces), and the reference tests/tool/test-tracedat-pages.c
 * compares the page-wise reading with. Every record goes through the
 * stack queue when the file knows kernel_stack.
 *
 * Damaged files: libtracecmd 1.3 (and libtraceevent 1.7 under it) crash
 * on some damaged trace.dat files while opening them: a NULL dereference
 * in tracecmd_buffer_instance_handle()'s error path when a compressed
 * chunk does not decompress, format parsers walking off a damaged event
 * format. So the file is first opened, buffers included, in a child
 * process (this program started again, see open_survives()) with its
 * output sent to /dev/null; only when that child exits normally does this
 * process open it. A child killed by a signal means a one-line "corrupt"
 * error instead of a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <trace-cmd/trace-cmd.h>
#include <traceevent/event-parse.h>
#include "tdat-source.h"

/* Record-wise: the stream's next record. 1, or 0 at its end. */
int tdat_rec_advance(struct stream *st)
{
	tracecmd_free_record(st->rec);
	st->rec = tracecmd_read_data(st->h, st->cpu);
	if (!st->rec)
		return 0;
	st->ts = st->rec->ts;
	st->data = st->rec->data;
	st->size = st->rec->size;
	st->missed = st->rec->missed_events;
	return 1;
}

#define PROBE_OK	0	/* the child opened the file, or failed cleanly */
#define PROBE_ENV	"MMAPLOCK_TRACEDAT_PROBE"	/* the child's file */
#define PROBE_NAME	"mmaplock-tracedat-probe"	/* the child's argv[0] */

extern char **environ;

/*
 * The child of open_survives(): this same program started again as
 * PROBE_NAME with PROBE_ENV naming the file. It opens the file and its buffers through
 * libtracecmd and exits before main(): 0 when that went without a crash.
 */
__attribute__((constructor)) static void probe_child(int argc, char **argv)
{
	const char *path = getenv(PROBE_ENV);

	/* glibc hands constructors main's arguments: the name says it is the child */
	if (!path || argc < 1 || !argv || !argv[0] || strcmp(argv[0], PROBE_NAME))
		return;
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

/* environ plus PROBE_ENV=path, for the child (NULL: out of memory). */
static char **probe_env(const char *path, char **var)
{
	size_t n = 0;

	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	size_t len = strlen(PROBE_ENV) + strlen(path) + 2;
	*var = malloc(len);
	if (!env || !*var) {
		free(env);
		free(*var);
		return NULL;
	}
	snprintf(*var, len, "%s=%s", PROBE_ENV, path);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], PROBE_ENV "=", sizeof(PROBE_ENV)))
			env[k++] = environ[i];
	env[k] = *var;
	return env;
}

/*
 * Open PATH and all its buffers in a child process (see the top of the
 * file). Returns 1 when that went without a crash (or could not be tried:
 * no /proc/self/exe, no process), 0 when the child died.
 *
 * The child is this program started again (posix_spawn, probe_child()),
 * not a fork that goes on running: this process may have threads (the
 * decompression thread of a trace.dat read page-wise, tdat-file.c), and a
 * forked copy inherits the locks they held at that moment, with nobody to
 * release them. Under ASan a worker inside malloc left the child waiting
 * on the allocator's lock for ever.
 */
static int open_survives(const char *path)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)PROBE_NAME, NULL }, *var = NULL;
	char **env = probe_env(path, &var);
	int status, rc;
	pid_t pid;

	if (!env)
		return 1;
	fflush(NULL);
	rc = posix_spawn_file_actions_init(&fa);
	if (!rc) {
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
		rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
		posix_spawn_file_actions_destroy(&fa);
	}
	free(env);
	free(var);
	if (rc)
		return 1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) && WEXITSTATUS(status) == PROBE_OK;
}

static int add_rec_streams(struct tdat *t, struct tracecmd_input *h, int buffer)
{
	int ncpu = tep_get_cpus(tracecmd_get_tep(h));

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct stream *n = realloc(t->all, sizeof(*n) * (size_t)(t->nall + 1));
		if (!n)
			return -1;
		t->all = n;
		t->all[t->nall++] = (struct stream){ .h = h, .cpu = cpu,
			.key = (uint64_t)buffer << 32 | (uint32_t)cpu };
	}
	return 0;
}

/* Record-wise: libtracecmd opens the file (after a child survived doing so). */
int tdat_records_open(struct source *s, const char *path)
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
	if (tdat_setup(s, t, path))
		goto fail;
	if (add_rec_streams(t, t->top, 0))
		goto nomem;
	t->nsubs = tracecmd_buffer_instances(t->top);
	if (t->nsubs > 0) {
		t->subs = calloc((size_t)t->nsubs, sizeof(*t->subs));
		if (!t->subs)
			goto nomem;
		for (int i = 0; i < t->nsubs; i++) {
			t->subs[i] = tracecmd_buffer_instance_handle(t->top, i);
			if (t->subs[i] && add_rec_streams(t, t->subs[i], i + 1))
				goto nomem;
		}
	}
	t->hp = calloc((size_t)t->nall + 1, sizeof(*t->hp));
	if (!t->hp)
		goto nomem;
	return tdat_open_end(s, path, 0);
nomem:
	return tdat_open_end(s, path, TDAT_NOMEM);
fail:
	return tdat_open_end(s, path, -1);
}

/* Record-wise: every record through the stack queue (when the file knows stacks). */
long tdat_records_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct tdat *t = s->priv;
	size_t n = 0;
	struct mml_event e;

	for (;;) {
		/* records, not events, since the last pop: popping each time costs a call */
		if (!t->direct && (t->nst == 0 || ++t->since_pop >= 256)) {
			n += stackq_pop(t->q, ev + n, max - n, t->nst == 0);
			t->since_pop = 0;
		}
		if (n == max || t->nst == 0)
			break;
		struct stream *top = t->hp[0];
		struct mml_event *to = t->direct ? &ev[n] : &e;
		uint32_t pid;
		int k;

		if (top->missed > 0) {
			meta_add_lost(t->meta, (uint32_t)top->cpu, (uint64_t)top->missed);
			if (!t->direct)
				stackq_other(t->q, top->id);
		}
		int rc = decode_record(t->dec, top->data, top->size, top->ts, top->cpu, to);
		if (rc == 1) {
			if (to->tid != t->last_tid)
				tdat_see_tid(t, to->tid);
			t->last_tid = to->tid;
			if (t->direct)
				n++;
			else if (stackq_event(t->q, top->id, to)) {
				snprintf(s->err, sizeof(s->err), "out of memory");
				return -1;
			}
		} else if (t->direct) {
			;
		} else if (rc == 0 && (k = decode_stack(t->dec, top->data, top->size, &pid, t->addr,
						      STACK_MAX_FRAMES + 32)) >= 0) {
			tdat_take_stack(t, top, k, pid);
		} else {
			stackq_other(t->q, top->id);
		}
		tdat_next_record(t, top);
	}
	return tdat_batch_done(s, t, ev, n);
}
