/* SPDX-License-Identifier: MIT */
/*
 * signals.h: the tool's shared SIGINT/SIGTERM/SIGHUP handling and the live
 * progress line. A handler only records which signal came (sig_stop); the
 * main loops poll it, so all cleanup runs in normal context.
 */
#ifndef MML_SIGNALS_H
#define MML_SIGNALS_H

#include <signal.h>

/* The last stop signal received (SIGINT, SIGTERM or SIGHUP), 0 if none. */
extern volatile sig_atomic_t sig_stop;

/* Install the handlers (without SA_RESTART, so blocking calls return EINTR). */
void sig_install(void);
/* Restore default dispositions (in a child before exec). */
void sig_default(void);

/* 1 when stderr is a terminal: show a live line. */
int progress_enabled(void);
/* Rewrite the live line on stderr (printf format). No-op when not a tty. */
void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Erase the live line, if one was shown. */
void progress_clear(void);

#endif
