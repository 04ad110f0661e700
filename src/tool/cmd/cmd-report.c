/* SPDX-License-Identifier: MIT */
/*
 * cmd-report.c: `mmaplock report`: parse the options, run report.c.
 */
#include <stdio.h>
#include "cmds.h"
#include "report-run.h"
#include "report.h"

int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	int r = report_parse_args(&o, argc, argv);

	if (r)
		return r > 0 ? 0 : 2;
	return report_run(&o, stdout);
}
