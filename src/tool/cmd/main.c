/* SPDX-License-Identifier: MIT */
/*
 * main.c: `mmaplock <subcommand>`, in the style of git and perf. Each
 * subcommand lives in its own cmd-*.c and gets argv from its own name on.
 */
#include <stdio.h>
#include <string.h>
#include "cmds.h"

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "record", cmd_record, "record the kernel's mmap_lock events to a file" },
	{ "report", cmd_report, "wait and hold times per memcg, process, task or mm" },
	{ "stat",   cmd_stat,   "record and report in one go (like perf stat)" },
	{ "stress", cmd_stress, "built-in workload that contends on mmap_lock" },
	{ "export", cmd_export, "waits and holds as Chrome trace JSON, folded stacks or CSV" },
	{ "check",  cmd_check,  "verify lock usage: bad releases, self-deadlocks, irq context, order" },
	{ "top",    cmd_top,    "live table of mmap_lock contention per memcg, process or mm" },
	{ "exporter", cmd_exporter, "serve mmap_lock metrics to Prometheus (/metrics)" },
	{ "watch",  cmd_watch,  "catch long waits and holds: incident files naming who blocked whom" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\n'mmaplock <command> --help' describes a command; man mmaplock-<command>.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") && argc == 3) {	/* as git: `mmaplock help report` */
		char *av[] = { argv[2], "--help", NULL };

		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(argv[2], cmds[i].name))
				return cmds[i].fn(2, av);
		fprintf(stderr, "mmaplock: '%s' is not a command (see mmaplock --help)\n", argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mmaplock " MMAPLOCK_VERSION "\n");
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "mmaplock: '%s' is not a command (see mmaplock --help)\n", argv[1]);
	return 2;
}
