/* SPDX-License-Identifier: MIT */
/*
 * watchdog.h: what must be undone even after our SIGKILL (a tracefs
 * instance, a temporary recording) is left to a small process forked for
 * it. It ignores the terminal's signals (we handle those and clean up
 * ourselves), keeps none of our descriptors (a reader of our stdout sees
 * EOF when we end, not when it does) and waits on a pipe whose write end
 * we hold: EOF with no byte before it means we are gone, however we went,
 * and it runs its clean-up; a byte means we cleaned up ourselves.
 */
#ifndef MML_WATCHDOG_H
#define MML_WATCHDOG_H

#include <sys/types.h>

/*
 * Fork the watchdog: gone(arg) runs in it when the pipe ends without a
 * byte, and its return value is the watchdog's exit status. *wfd: the
 * pipe's write end (close-on-exec). Returns the pid, or -1 (nothing
 * forked: then SIGKILL leaves the thing behind).
 */
pid_t watchdog_fork(int (*gone)(void *arg), void *arg, int *wfd);
/* Tell the watchdog of pid there is nothing to do (we cleaned up), and reap it. */
void watchdog_done(pid_t pid, int wfd);
/* Close our end without a word (the watchdog runs gone() now), and reap it. */
void watchdog_release(pid_t pid, int wfd);

#endif
