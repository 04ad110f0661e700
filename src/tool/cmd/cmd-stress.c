/* SPDX-License-Identifier: MIT */
/*
 * cmd-stress.c: `mmaplock stress [-t THREADS] [-d SECONDS] [--stall MS]`: run the
 * built-in workload (stress.c) and print its op rate per kind. SIGINT and
 * SIGTERM end it early, still printing the rates.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmdargs.h"
#include "cmds.h"
#include "signals.h"
#include "stress.h"

static void tick(uint64_t ops, double elapsed)
{
	progress("mmaplock stress: %llu ops, %.0f s", (unsigned long long)ops, elapsed);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock stress [-t THREADS] [-d SECONDS] [--stall MS]\n\n"
		   "Contend on this process's mmap_lock: thread i is a writer (mmap/mprotect/munmap),\n"
		   "a mincore reader or a /proc/self/smaps reader, in turn (i %% 3).\n\n"
		   "  -t, --threads N    threads (default 2: one writer, one mincore; 1 to 256)\n"
		   "  -d, --duration S   seconds (default 3)\n"
		   "      --stall MS     one more thread, stress-stall, that holds the lock for write\n"
		   "                     about MS ms (1 to 10000) about once a second: a deterministic stall;\n"
		   "                     the threads of -t then start at mincore (-t 1: one reader)\n\n"
		   "Examples:\n"
		   "  mmaplock stress -t 3 -d 10            # writer, mincore and smaps readers\n"
		   "  mmaplock stat -- mmaplock stress      # and see it contend\n"
		   "  mmaplock stress --stall 200 -d 60     # readers stuck 200 ms behind a writer\n");
}

static const struct option lo[] = {
	{ "threads", required_argument, NULL, 't' },
	{ "duration", required_argument, NULL, 'd' },
	{ "stall", required_argument, NULL, 'S' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const struct cmdargs_opts stress_options = { lo, "t:d:h" };

int cmd_stress(int argc, char **argv)
{
	long threads = 2;
	double secs = 3;
	struct stress_result r;
	int c;

	if (cmdargs_list(argc, argv, &stress_options))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, stress_options.shortopts, lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 't':
			errno = 0;
			threads = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || threads < 1 || threads > 256) {
				fprintf(stderr, "mmaplock stress: -t: '%s' is not a thread count (1 to 256)\n", optarg);
				return 2;
			}
			break;
		case 'd':
			errno = 0;
			secs = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(secs > 0) || secs > 1e6) {
				fprintf(stderr, "mmaplock stress: -d: '%s' is not a number of seconds (more than 0, at most 1000000)\n", optarg);
				return 2;
			}
			break;
		case 'S': {
			errno = 0;
			long ms = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || ms < 1 || ms > 10000) {
				fprintf(stderr, "mmaplock stress: --stall: '%s' is not a time in ms (1 to 10000)\n", optarg);
				return 2;
			}
			stress_stall_ms = (unsigned)ms;
			break;
		}
		default:
			cmdargs_bad("mmaplock stress", argv, &stress_options);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmaplock stress: %s: unexpected argument (see --help)\n", argv[optind]);
		return 2;
	}
	sig_install();
	if (stress_run((int)threads, secs, (volatile int *)&sig_stop, tick, &r)) {
		progress_clear();
		fprintf(stderr, "mmaplock stress: cannot start threads: %s\n", strerror(errno));
		return 1;
	}
	progress_clear();
	uint64_t total = 0;
	for (int k = 0; k < STRESS_NKINDS; k++)
		total += r.ops[k];
	/* the stall thread is one more than -t: said, so the count matches what runs */
	printf("mmaplock stress: %ld thread%s%s, %.2f s, %.0f ops/s\n", threads, threads == 1 ? "" : "s",
	       stress_stall_ms ? " + 1 stall thread" : "", r.seconds, total / r.seconds);
	for (int k = 0; k < STRESS_NKINDS; k++)
		if (r.threads[k])
			printf("  %-22s %2d thread%s %12llu ops %12.0f ops/s\n", stress_kind_name[k],
			       r.threads[k], r.threads[k] == 1 ? " " : "s", (unsigned long long)r.ops[k],
			       r.ops[k] / r.seconds);
	if (stress_stall_ms)
		printf("  %-22s %2d thread  %12llu write holds of about %u ms\n", "stall", 1,
		       (unsigned long long)r.stalls, stress_stall_ms);
	if (fflush(stdout) || ferror(stdout)) {	/* the rates are what it is run for */
		fprintf(stderr, "mmaplock stress: stdout: write error: %s\n", strerror(errno ? errno : EIO));
		return 1;
	}
	return 0;
}
