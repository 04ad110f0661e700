/* SPDX-License-Identifier: MIT */
/*
 * cmd-record.c: `mmaplock record`: options, then record.c does the work.
 * Exit status: 0 recorded, 1 failed, 2 bad usage; with -- CMD, CMD's
 * failure does not make the recording fail (its status is shown).
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include "cmdargs.h"
#include "cmds.h"
#include "cmdpath.h"
#include "record.h"
#include "signals.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock record [-o FILE] [-d SECONDS] [-p PID]... [-G CGROUP]... "
		   "[--buffer-size KB] [-- CMD [ARGS]]\n\n"
		   "Record the kernel's mmap_lock events on all CPUs until CMD exits, -d elapses,\n"
		   "or SIGINT/SIGTERM. Needs root (tracefs).\n\n");
	record_usage(f, "write to FILE (default mmaplock.data)");
	fprintf(f, "\nExamples:\n"
		   "  mmaplock record -d 10                 # whole system, 10 s, to mmaplock.data\n"
		   "  mmaplock record -p 1234 -o db.data    # one process and its threads\n"
		   "  mmaplock record -G /system.slice/x -d 30  # one memory cgroup\n"
		   "  mmaplock record -- make -j8           # the whole system while make runs\n"
		   "  mmaplock record --stack -d 10         # with the lock takers' kernel stacks\n"
		   "  mmaplock report --stacks              # then: which code paths wait and hold\n");
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = { .prog = "mmaplock record" };
	struct record_result res;
	int rc;

	if (cmdargs_list(argc, argv, &record_options))
		return 0;
	rc = record_parse_args(argc, argv, &o);
	if (rc == 1) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (o.cmd && (rc = cmdpath_check(o.cmd[0]))) {
		fprintf(stderr, "mmaplock record: cannot run %s: %s\n", o.cmd[0], strerror(rc));
		return 1;
	}
	sig_install();
	rc = record_run(&o, &res);
	if (!rc && res.cmd_status >= 0) {
		if (WIFSIGNALED(res.cmd_status))
			fprintf(stderr, "mmaplock record: %s killed by signal %d\n", o.cmd[0],
				WTERMSIG(res.cmd_status));
		else if (WIFEXITED(res.cmd_status) && WEXITSTATUS(res.cmd_status))
			fprintf(stderr, "mmaplock record: %s exited with status %d\n", o.cmd[0],
				WEXITSTATUS(res.cmd_status));
	}
	return rc;
}
