/* placeholder until the record helper lands its real implementation */
#include <stdio.h>
#include "cmds.h"
int cmd_record(int argc, char **argv) { fprintf(stderr, "mmaplock record: not built yet\n"); return 1; }
