/* SPDX-License-Identifier: MIT */
/*
 * cmd-stat.c: `mmaplock stat [-d SECONDS] [--json] [report options]
 * [-- CMD [ARGS]]`: record (record.c) into a temporary file, then report
 * it, then remove the file: like perf stat. The recording covers the whole
 * system, for -d seconds or for the life of CMD.
 *
 * The report runs as `mmaplock report FILE [options]` in a child process
 * (this same binary, /proc/self/exe), so stat accepts exactly report's
 * options and prints exactly its output. The temporary file is removed on
 * every path (the report child has opened it or failed by then). It is
 * made in $TMPDIR, else /tmp. With -o FILE the recording goes to FILE
 * instead and is kept (record, then report, in one command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cmds.h"
#include "cmdpath.h"
#include "record.h"
#include "signals.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock stat [-d SECONDS] [--json] [report options] [-- CMD [ARGS]]\n\n"
		   "Record the kernel's mmap_lock events (whole system) for -d seconds or while CMD\n"
		   "runs, then print the report (see mmaplock report --help for its options).\n"
		   "The recording is a temporary file, removed afterwards, unless -o FILE is given.\n"
		   "Exit status: 1 if the recording failed, 2 on bad usage, else the report's if\n"
		   "it failed, else CMD's (128+N if signal N killed it; 0 if -d stopped it), else 0.\n\n");
	record_usage(f);
	fprintf(f, "\nExamples:\n"
		   "  mmaplock stat -- mmaplock stress      # the built-in workload, per memcg\n"
		   "  mmaplock stat -d 5 --by process --top 5  # the whole system for 5 s\n"
		   "  mmaplock stat --stack --stacks 3 --only-cmd -- ./app  # one program, its top kernel stacks\n");
}

int cmd_stat(int argc, char **argv)
{
	static const char unset[] = "";	/* o.output still this: no -o given */
	struct record_opts o = { .prog = "mmaplock stat", .quiet = 1, .output = unset };
	struct record_result res;
	char **rest = calloc((size_t)argc + 4, sizeof(char *));
	int nrest = 0, rc, status;
	char tmp[4096];
	const char *tdir = getenv("TMPDIR");

	if (!rest)
		return 1;
	rc = record_parse_args(argc, argv, &o, rest, &nrest);
	if (rc == 1) {
		usage(stdout);
		free(rest);
		return 0;
	}
	if (rc) {
		free(rest);
		return rc;
	}
	if (!o.cmd && !(o.duration > 0)) {
		fprintf(stderr, "mmaplock stat: give -d SECONDS or -- CMD\n");
		free(rest);
		return 2;
	}
	if (o.cmd && (rc = cmdpath_check(o.cmd[0]))) {
		fprintf(stderr, "mmaplock stat: cannot run %s: %s\n", o.cmd[0], strerror(rc));
		free(rest);
		return 1;
	}
	int keep = o.output != unset;
	if (keep) {
		snprintf(tmp, sizeof(tmp), "%s", o.output);
	} else {
		snprintf(tmp, sizeof(tmp), "%s/mmaplock-stat.XXXXXX", tdir && *tdir ? tdir : "/tmp");
		int fd = mkstemp(tmp);
		if (fd < 0) {
			fprintf(stderr, "mmaplock stat: cannot create a temporary file: %s\n",
				strerror(errno));
			free(rest);
			return 1;
		}
		close(fd);
		o.force = 1;		/* our own empty file: record replaces it */
	}
	o.output = tmp;
	sig_install();
	rc = record_run(&o, &res);
	if (rc) {
		if (!keep)
			unlink(tmp);
		free(rest);
		return rc;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char **av = calloc((size_t)nrest + 4, sizeof(char *));
		if (!av)
			_exit(1);
		av[0] = "mmaplock";
		av[1] = "report";
		av[2] = tmp;
		memcpy(av + 3, rest, sizeof(char *) * (size_t)nrest);
		sig_default();
		execv("/proc/self/exe", av);
		fprintf(stderr, "mmaplock stat: cannot run the report: %s\n", strerror(errno));
		_exit(1);
	}
	if (pid < 0) {
		fprintf(stderr, "mmaplock stat: cannot run the report: %s\n", strerror(errno));
		rc = 1;
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	if (!keep)
		unlink(tmp);
	free(rest);
	status = record_cmd_exit(&o, &res);	/* like perf stat: CMD's status, unless the report failed */
	return rc ? rc : status;
}
