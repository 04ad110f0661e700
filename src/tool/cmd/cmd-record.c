/* SPDX-License-Identifier: MIT */
/*
 * cmd-record.c: `mmaplock record`: options, then record.c does the work.
 * Exit status: 1 when the recording failed, 2 bad usage; else with -- CMD,
 * CMD's (128 + signal when a signal killed it, with one line saying so), as
 * perf stat does, so that `mmaplock record -- CMD` can stand in for CMD in a
 * script; 0 otherwise.
 */
#include <stdio.h>
#include <string.h>
#include "cmdargs.h"
#include "cmds.h"
#include "cmdpath.h"
#include "record-args.h"
#include "signals.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock record [-o FILE] [-f] [-d SECONDS] [-p PID]... [-G CGROUP]... "
		   "[--buffer-size KB] [-- CMD [ARGS]]\n\n"
		   "Record the kernel's mmap_lock events on all CPUs until CMD exits, -d elapses,\n"
		   "or SIGINT/SIGTERM. Needs root (tracefs). CMD is killed if mmaplock dies.\n"
		   "Exit status: CMD's (128+N if signal N killed it; 0 if -d stopped it), else 0;\n"
		   "1 if the recording failed, 2 on bad usage.\n\n");
	record_usage(f, "write to FILE (default mmaplock.data); an existing FILE\n"
		     "                         is refused, and a FILE another recording writes too");
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
	return rc ? rc : record_cmd_exit(&o, &res);
}
