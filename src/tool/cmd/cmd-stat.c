/* SPDX-License-Identifier: MIT */
/*
 * cmd-stat.c: `mmaplock stat [-d SECONDS] [--report FILE] [report options]
 * [-- CMD [ARGS]]`: record (record.c) into a temporary file, then report
 * it, then remove the file: like perf stat. The recording covers the whole
 * system, for -d seconds or for the life of CMD.
 *
 * The report runs as `mmaplock report FILE [options]` in a child process
 * (this same binary, /proc/self/exe), so stat prints exactly its output.
 * stat parses one table: record's options, its own --report, and report's
 * options (report_options), which it hands to the child as they were
 * written; so stat accepts exactly report's options, with or without
 * values, and no list of them is kept here.
 *
 * Where the report goes, as perf stat does it: with CMD, to stderr (CMD
 * keeps stdout, and `stat --json -- CMD` stays parseable whatever CMD
 * prints there); with -d alone, to stdout; with --report FILE, to FILE (a
 * temporary file beside it, renamed when the report succeeds, so a failed
 * report leaves an existing FILE as it was).
 *
 * The temporary recording is removed on every path (the report child has
 * opened it or failed by then). It is made in a directory of its own in
 * $TMPDIR, else /tmp. With -o FILE the recording goes to FILE instead and
 * is kept (record, then report, in one command).
 *
 * SIGKILL runs no handler: a janitor process forked first outlives stat and
 * removes what stat would have removed (that directory, --report's file
 * beside FILE), so a killed stat leaves no recording to fill /tmp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend.h"
#include "cmdargs.h"
#include "cmds.h"
#include "cmdpath.h"
#include "record-args.h"
#include "report-run.h"
#include "signals.h"
#include "watchdog.h"

/* vals in stat's table: record's are below 128, report's are PASS + their index */
enum { OPT_REPORT = 200, OPT_BACKEND, PASS = 256 };

struct stat_args {
	struct record_opts o;
	const char *report;	/* --report FILE, or NULL */
	const char *backend;	/* --backend NAME */
	char **rest;		/* report's options, as written (room for argc) */
	int nrest;
};

/* record's options, --report, --backend, then report's (those record has not: --help) */
static struct option *stat_table(void)
{
	const struct option *r = record_options.lo, *p = report_options.lo;
	size_t n = 0, k = 0;
	struct option *t;

	while (r[n].name)
		n++;
	while (p[k].name)
		k++;
	t = calloc(n + k + 3, sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t, r, n * sizeof(*t));
	t[n++] = (struct option){ "report", required_argument, NULL, OPT_REPORT };
	t[n++] = (struct option){ "backend", required_argument, NULL, OPT_BACKEND };
	for (size_t i = 0; i < k; i++) {
		size_t j;
		for (j = 0; j < n && strcmp(t[j].name, p[i].name); j++)
			;
		if (j == n)
			t[n++] = (struct option){ p[i].name, p[i].has_arg, NULL, PASS + (int)i };
	}
	return t;	/* calloc: ends with a NULL name */
}

static void usage(FILE *f)
{
	const struct option *p;
	int col = 2;

	fprintf(f, "usage: mmaplock stat [-d SECONDS] [--report FILE] [--backend tracefs|bpf|auto]\n"
		   "                     [report options] [record options] [-- CMD [ARGS]]\n\n"
		   "Record the kernel's mmap_lock events (whole system) for -d seconds or while CMD\n"
		   "runs, then print the report of them. The recording is a temporary file, removed\n"
		   "afterwards, unless -o FILE is given.\n\n"
		   "Where the report goes (like perf stat): with CMD, to stderr, so that CMD keeps\n"
		   "stdout; with -d alone, to stdout; with --report FILE, to FILE. --json is one JSON\n"
		   "document there (on stderr, only if nothing else writes there, CMD included: use\n"
		   "--report FILE in scripts).\n"
		   "Exit status: 1 if the recording failed, 2 on bad usage, else the report's if\n"
		   "it failed, else CMD's (128+N if signal N killed it; 0 if -d stopped it), else 0.\n\n"
		   "      --report FILE      write the report to FILE (an existing FILE is replaced only\n"
		   "                         when the report succeeds; never the recording of -o)\n"
		   "      --backend NAME     tracefs, bpf or auto (default): the live back-end; the\n"
		   "                         report needs a recording, which tracefs makes\n\n"
		   "Report's options (mmaplock report --help describes them):\n ");
	for (p = report_options.lo; p->name; p++) {
		const char *arg = p->has_arg == required_argument ? " ARG" :
				  p->has_arg == optional_argument ? " [ARG]" : "";
		int w = (int)(strlen(p->name) + strlen(arg)) + 3;
		if (!strcmp(p->name, "help"))
			continue;
		if (col + w > 80) {
			fprintf(f, "\n ");
			col = 2;
		}
		fprintf(f, " --%s%s", p->name, arg);
		col += w;
	}
	fprintf(f, "\n\nRecord's options:\n");
	record_usage(f, "keep the recording in FILE (default: a temporary file, removed)");
	fprintf(f, "\nExamples:\n"
		   "  mmaplock stat -- mmaplock stress      # the built-in workload, per memcg\n"
		   "  mmaplock stat -d 5 --by process --top 5  # the whole system for 5 s\n"
		   "  mmaplock stat --json --report out.json -- ./app  # JSON in a file, ./app's output as it is\n"
		   "  mmaplock stat --stack --stacks 3 --only-cmd -- ./app  # one program, its top kernel stacks\n");
}

/* Returns 0, 1 for --help or --list-options (printed), 2 after a usage error. */
static int parse(int argc, char **argv, struct stat_args *a)
{
	struct cmdargs_opts t = { stat_table(), record_options.shortopts };
	int c, rc = 0;

	if (!t.lo) {
		fprintf(stderr, "mmaplock stat: out of memory\n");
		return 2;
	}
	if (cmdargs_list(argc, argv, &t)) {
		free((void *)t.lo);
		return 1;
	}
	optind = 0;	/* GNU getopt: start afresh, '+' included */
	opterr = 0;
	for (;;) {
		int first = optind ? optind : 1;
		const char *v;

		c = getopt_long(argc, argv, t.shortopts, t.lo, NULL);
		if (c == -1)
			break;
		if (c >= PASS) {
			/* report's option: hand it on as it was written, value included */
			while (first < optind)
				a->rest[a->nrest++] = argv[first++];
			if (!optarg && report_options.lo[c - PASS].has_arg == optional_argument &&
			    (v = cmdargs_optional_number(argc, argv)))
				a->rest[a->nrest++] = (char *)v;
			continue;
		}
		if (c == OPT_REPORT) {
			a->report = optarg;
			continue;
		}
		if (c == OPT_BACKEND) {
			a->backend = optarg;
			/* a usage error, before anything starts: the report needs a recording */
			if (!strcmp(optarg, "bpf") && !(backend_bpf_ops.caps & BACKEND_CAP_FILE)) {
				fprintf(stderr, "mmaplock stat: --backend bpf: stat needs every event "
					"(a recording); use tracefs or auto\n");
				rc = 2;
				break;
			}
			if (backend_name_valid(optarg))
				continue;
			fprintf(stderr, "mmaplock stat: --backend: '%s' is not tracefs, bpf or auto\n", optarg);
			rc = 2;
			break;
		}
		rc = record_parse_opt(&a->o, c, optarg);
		if (rc == 1)
			usage(stdout);
		if (rc < 0) {
			cmdargs_bad("mmaplock stat", argv, &t);
			rc = 2;
		}
		if (rc)
			break;
	}
	free((void *)t.lo);
	return rc ? rc : record_parse_finish(&a->o, argc, argv);
}

/* path with its directory resolved (to compare two names of a file that may not exist yet) */
static void canon(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], real[PATH_MAX];

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1,
		 slash ? path : ".");
	if (realpath(dir, real))
		snprintf(buf, size, "%s/%s", real, slash ? slash + 1 : path);
	else
		snprintf(buf, size, "%s", path);
}

/*
 * --report FILE: open a temporary file beside FILE (renamed over it by
 * report_done()). Returns the descriptor, or -1 after a one-line error.
 */
static int report_open(const char *path, const char *recording, char *tmp, size_t size)
{
	const char *slash = strrchr(path, '/');
	char a[PATH_MAX + 256], b[PATH_MAX + 256];
	struct stat st;
	int fd;

	if (!*path) {
		fprintf(stderr, "mmaplock stat: --report: an empty file name\n");
		return -1;
	}
	canon(path, a, sizeof(a));
	canon(recording, b, sizeof(b));
	if (!strcmp(a, b)) {
		fprintf(stderr, "mmaplock stat: --report %s: that is the recording (-o): "
			"give another file\n", path);
		return -1;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mmaplock stat: --report %s: is a directory\n", path);
		return -1;
	}
	snprintf(tmp, size, "%.*s.%s.%d.tmp", slash ? (int)(slash - path) + 1 : 0, path,
		 slash ? slash + 1 : path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		fprintf(stderr, "mmaplock stat: --report %s: cannot create %s: %s\n", path, tmp,
			strerror(errno));
	return fd;
}

/* The report child ended with status rc: keep its output as FILE, or drop it. */
static int report_done(const char *path, const char *tmp, int rc)
{
	if (rc) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path)) {
		fprintf(stderr, "mmaplock stat: --report %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return 0;
}

/* Everything in dir (our own: made by mkdtemp, nothing below it), then dir. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* The janitor's clean-up (top comment): dir and rtmp, either may be "". */
struct janitor { const char *dir, *rtmp; };

static int janitor_gone(void *arg)
{
	const struct janitor *j = arg;

	if (*j->dir)
		remove_dir(j->dir);
	if (*j->rtmp)
		unlink(j->rtmp);
	return 0;
}

/* Was --json among report's options? */
static int has_json(const struct stat_args *a)
{
	for (int i = 0; i < a->nrest; i++)
		if (!strcmp(a->rest[i], "--json"))
			return 1;
	return 0;
}

/*
 * Record into a.o.output through the back-end --backend names (one that can
 * write a recording). 0, or 1 after a one-line error.
 */
static int record(struct stat_args *a, struct record_result *res)
{
	struct backend_opts bo = { .need = BACKEND_CAP_EVENTS | BACKEND_CAP_FILE,
				   .impl_opts = &a->o, .prog = "mmaplock stat" };
	struct backend_sink sink = { 0 };
	char err[256], note[256];
	struct backend *b;
	int rc;

	a->o.res = res;
	b = backend_open(a->backend, &bo, &sink, NULL, err, sizeof(err), note, sizeof(note));
	if (note[0])
		fprintf(stderr, "mmaplock stat: %s\n", note);
	if (!b) {
		if (err[0])
			fprintf(stderr, "mmaplock stat: %s\n", err);
		return 1;
	}
	rc = backend_run(b, a->o.duration, 20, NULL, NULL);
	if (rc && b->err[0])
		fprintf(stderr, "mmaplock stat: %s\n", b->err);
	backend_close(b);	/* fills res: CMD's status */
	return rc;
}

/*
 * `mmaplock report RECORDING [options]` with its stdout on out_fd; returns
 * its exit status. A recording not kept is named as such, not by its path.
 */
static int run_report(const char *recording, struct stat_args *a, int out_fd, int keep)
{
	int status;

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char **av = calloc((size_t)a->nrest + 4, sizeof(char *));
		if (!av)
			_exit(1);
		av[0] = "mmaplock";
		av[1] = "report";
		av[2] = (char *)recording;
		memcpy(av + 3, a->rest, sizeof(char *) * (size_t)a->nrest);
		sig_default();
		if (!keep)	/* its path is gone when the report is read: say what it was */
			setenv("MMAPLOCK_STAT_INPUT", "stat's recording, not kept", 1);
		else
			unsetenv("MMAPLOCK_STAT_INPUT");
		if (out_fd != STDOUT_FILENO && dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(1);
		execv("/proc/self/exe", av);
		fprintf(stderr, "mmaplock stat: cannot run the report: %s\n", strerror(errno));
		_exit(1);
	}
	if (pid < 0) {
		fprintf(stderr, "mmaplock stat: cannot run the report: %s\n", strerror(errno));
		return 1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int cmd_stat(int argc, char **argv)
{
	static const char unset[] = "";	/* o.output still this: no -o given */
	struct stat_args a = { .o = { .prog = "mmaplock stat", .quiet = 1, .output = unset },
			       .backend = "auto" };
	struct record_result res;
	int rc, cmd_rc = 0, out_fd = STDOUT_FILENO, keep, jfd = -1;
	char tmp[4096], dir[4096] = "", rtmp[PATH_MAX + 64] = "";
	pid_t jpid = -1;
	const char *tdir = getenv("TMPDIR");

	a.rest = calloc((size_t)argc + 4, sizeof(char *));
	if (!a.rest)
		return 1;
	rc = parse(argc, argv, &a);
	if (rc) {
		free(a.rest);
		return rc == 1 ? 0 : rc;
	}
	if (!a.o.cmd && !(a.o.duration > 0)) {
		fprintf(stderr, "mmaplock stat: give -d SECONDS or -- CMD\n");
		free(a.rest);
		return 2;
	}
	if (a.o.cmd && (rc = cmdpath_check(a.o.cmd[0]))) {
		fprintf(stderr, "mmaplock stat: cannot run %s: %s\n", a.o.cmd[0], strerror(rc));
		free(a.rest);
		return 1;
	}
	keep = a.o.output != unset;
	if (a.report) {
		out_fd = report_open(a.report, keep ? a.o.output : "", rtmp, sizeof(rtmp));
		if (out_fd < 0) {
			free(a.rest);
			return 2;
		}
	} else if (a.o.cmd) {
		out_fd = STDERR_FILENO;	/* CMD's stdout is its own */
	}
	if (keep) {
		snprintf(tmp, sizeof(tmp), "%s", a.o.output);
	} else {
		snprintf(dir, sizeof(dir), "%s/mmaplock-stat.XXXXXX", tdir && *tdir ? tdir : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "mmaplock stat: cannot create a temporary directory in %s: %s\n",
				tdir && *tdir ? tdir : "/tmp", strerror(errno));
			dir[0] = '\0';
			rc = 1;
			goto out;
		}
		snprintf(tmp, sizeof(tmp), "%s/stat.mml", dir);	/* new: record creates it */
	}
	if (!keep || a.report)
		jpid = watchdog_fork(janitor_gone, &(struct janitor){ dir, rtmp }, &jfd);
	a.o.output = tmp;
	sig_install();
	rc = record(&a, &res);
	/*
	 * Like perf stat: CMD's status, unless the report fails. The line saying
	 * how CMD ended comes before the report, and not at all when the report
	 * is JSON on stderr: that stays one document (the status says it).
	 */
	if (!rc)
		cmd_rc = out_fd == STDERR_FILENO && has_json(&a) ? record_cmd_code(&a.o, &res)
								 : record_cmd_exit(&a.o, &res);
	if (!rc)
		rc = run_report(tmp, &a, out_fd, keep);
	if (!keep)
		remove_dir(dir);
out:
	if (a.report) {
		close(out_fd);
		rc = report_done(a.report, rtmp, rc);
	}
	watchdog_done(jpid, jfd);
	free(a.rest);
	return rc ? rc : cmd_rc;
}
