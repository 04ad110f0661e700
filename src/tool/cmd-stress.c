/* SPDX-License-Identifier: MIT */
/*
 * cmd-stress.c: `mmaplock stress [-t THREADS] [-d SECONDS]`: run the
 * built-in workload (stress.c) and print its op rate per kind. SIGINT and
 * SIGTERM end it early, still printing the rates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "signals.h"
#include "stress.h"

static void tick(uint64_t ops, double elapsed)
{
	progress("mmaplock stress: %llu ops, %.0f s", (unsigned long long)ops, elapsed);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock stress [-t THREADS] [-d SECONDS]\n\n"
		   "Contend on this process's mmap_lock: thread i is a writer (mmap/mprotect/munmap),\n"
		   "a mincore reader or a /proc/self/smaps reader, in turn (i %% 3).\n\n"
		   "  -t, --threads N    threads (default 2: one writer, one mincore; 1 to 256)\n"
		   "  -d, --duration S   seconds (default 3)\n\n"
		   "Examples:\n"
		   "  mmaplock stress -t 3 -d 10            # writer, mincore and smaps readers\n"
		   "  mmaplock stat -- mmaplock stress      # and see it contend\n");
}

int cmd_stress(int argc, char **argv)
{
	long threads = 2;
	double secs = 3;
	struct stress_result r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) && i + 1 < argc) {
			errno = 0;
			threads = strtol(argv[++i], &end, 10);
			if (errno || end == argv[i] || *end || threads < 1 || threads > 256) {
				fprintf(stderr, "mmaplock stress: -t: '%s' is not a thread count (1 to 256)\n", argv[i]);
				return 2;
			}
		} else if ((!strcmp(a, "-d") || !strcmp(a, "--duration")) && i + 1 < argc) {
			errno = 0;
			secs = strtod(argv[++i], &end);
			if (errno || end == argv[i] || *end || !(secs > 0) || secs > 1e6) {
				fprintf(stderr, "mmaplock stress: -d: '%s' is not a positive number of seconds\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "mmaplock stress: %s '%s' (see --help)\n",
				a[0] == '-' && i + 1 >= argc && (!strcmp(a, "-t") || !strcmp(a, "-d") ||
				!strcmp(a, "--threads") || !strcmp(a, "--duration")) ?
				"missing value for" : "unknown argument", a);
			return 2;
		}
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
	printf("mmaplock stress: %ld threads, %.2f s, %.0f ops/s\n", threads, r.seconds, total / r.seconds);
	for (int k = 0; k < STRESS_NKINDS; k++)
		if (r.threads[k])
			printf("  %-22s %2d thread%s %12llu ops %12.0f ops/s\n", stress_kind_name[k],
			       r.threads[k], r.threads[k] == 1 ? " " : "s", (unsigned long long)r.ops[k],
			       r.ops[k] / r.seconds);
	return 0;
}
