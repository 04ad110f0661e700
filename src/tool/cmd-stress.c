/* placeholder until the stress helper lands its real implementation */
#include <stdio.h>
#include "cmds.h"
int cmd_stress(int argc, char **argv) { fprintf(stderr, "mmaplock stress: not built yet\n"); return 1; }
