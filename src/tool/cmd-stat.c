/* placeholder until the stat helper lands its real implementation */
#include <stdio.h>
#include "cmds.h"
int cmd_stat(int argc, char **argv) { fprintf(stderr, "mmaplock stat: not built yet\n"); return 1; }
