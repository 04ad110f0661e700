/* placeholder until the report helper lands its real implementation */
#include <stdio.h>
#include "cmds.h"
int cmd_report(int argc, char **argv) { fprintf(stderr, "mmaplock report: not built yet\n"); return 1; }
