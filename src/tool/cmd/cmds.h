/* SPDX-License-Identifier: MIT */
/* cmds.h: the mmaplock subcommands, one cmd-*.c file each. */
#ifndef MML_CMDS_H
#define MML_CMDS_H

/* Each returns the process exit status: 0 ok, 1 failure (check: findings), 2 usage/input. */
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_stress(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_exporter(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif
