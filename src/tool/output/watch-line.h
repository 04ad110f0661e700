/* SPDX-License-Identifier: MIT */
/*
 * watch-line.h: an incident's line (docs/WATCH.md, "The line"): text in
 * local time, or one JSON object (json), ended by a newline, flushed.
 */
#ifndef MML_WATCH_LINE_H
#define MML_WATCH_LINE_H

#include <stdio.h>
#include "watch.h"

void watch_line(FILE *f, const struct watch_incident *inc, int json);

#endif
