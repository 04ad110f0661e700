/* SPDX-License-Identifier: MIT */
/*
 * instance.h: creating is libtracefs's job (tracefs_instance_create); this
 * is the rest of a recorder instance's life: removal on every exit path,
 * including our own SIGKILL (a watchdog process) and a previous run's death
 * (a scan at start).
 */
#ifndef MML_INSTANCE_H
#define MML_INSTANCE_H

#include <sys/types.h>

struct tracefs_instance;

/* Stop tracing in ti, disable its events and pid filter, and rmdir it. ti is not freed. */
void instance_destroy(struct tracefs_instance *ti);
/* Remove the instance called name, retrying tries times 50 ms apart while busy. 0 or -1. */
int instance_destroy_named(const char *name, int tries);
/*
 * Remove instances named <prefix><pid> whose pid is not alive, saying so in
 * one line per instance on stderr (prog: the line's prefix). Returns how many.
 */
int instance_cleanup_stale(const char *prefix, const char *prog);
/*
 * Fork a watchdog (watchdog.h) that removes the instance name once we are
 * gone: watchdog_release() it after removing the instance yourself (it
 * finds nothing left). Returns its pid, or -1.
 */
pid_t instance_watchdog(const char *name, int *wfd);
/* Mark every open descriptor on the tracing file system close-on-exec. */
void instance_cloexec_fds(void);

#endif
