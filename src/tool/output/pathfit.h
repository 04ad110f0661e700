/* SPDX-License-Identifier: MIT */
/*
 * pathfit.h: a cgroup path (or any name) cut to a column width so that what
 * tells two names apart survives. Paths of one pod's containers share a
 * long head and differ at the end
 * (/kubepods/burstable/pod6f1c.../cri-containerd-aaaa and ...-bbbb): cutting
 * the end, as "%-32.32s" does, makes them look the same. So the cut is in
 * the middle, marked with an ellipsis (U+2026, one column).
 */
#ifndef MML_PATHFIT_H
#define MML_PATHFIT_H

#include <stddef.h>

/* Display columns of s: UTF-8 code points (continuation bytes take none). */
size_t pathfit_cols(const char *s);

/*
 * s in at most width columns (width below 2 counts as 2), into buf (len
 * bytes). s unchanged when it fits. Otherwise the last path component
 * (from its '/') is kept whole with as much of the head as fits before an
 * ellipsis: "/kubepods/bu…/cri-containerd-aaaa" (33 columns). When the last
 * component alone is too long, the ellipsis and then the end of s:
 * "…cri-containerd-aaaa" (20). Code points are never split. Returns buf.
 */
const char *pathfit(const char *s, size_t width, char *buf, size_t len);

#endif
