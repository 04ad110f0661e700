/* SPDX-License-Identifier: MIT */
/*
 * test-pathfit: the middle-ellipsis cut `top` uses for group names
 * (pathfit.h). Two container paths of one pod that differ only in their
 * last characters stay distinct at every width from 20 to 80, fill exactly
 * the width they are given, keep their distinguishing end, and come out as
 * the exact strings below; short names and multi-byte names are handled.
 */
#include <stdio.h>
#include <string.h>
#include "test-util.h"
#include "pathfit.h"

#define POD "/kubepods/burstable/pod6f1c2d3e-8a4b-4c5d-9e6f-0123456789ab"
#define A POD "/cri-containerd-aaaa"	/* 79 columns */
#define B POD "/cri-containerd-bbbb"

static const struct {
	size_t width;
	const char *a, *b;
} exact[] = {
	{ 20, "…cri-containerd-aaaa", "…cri-containerd-bbbb" },
	{ 21, "…/cri-containerd-aaaa", "…/cri-containerd-bbbb" },
	{ 22, "/…/cri-containerd-aaaa", "/…/cri-containerd-bbbb" },
	{ 33, "/kubepods/bu…/cri-containerd-aaaa", "/kubepods/bu…/cri-containerd-bbbb" },
	{ 60, "/kubepods/burstable/pod6f1c2d3e-8a4b-4c…/cri-containerd-aaaa",
	      "/kubepods/burstable/pod6f1c2d3e-8a4b-4c…/cri-containerd-bbbb" },
	{ 78, "/kubepods/burstable/pod6f1c2d3e-8a4b-4c5d-9e6f-0123456789…/cri-containerd-aaaa",
	      "/kubepods/burstable/pod6f1c2d3e-8a4b-4c5d-9e6f-0123456789…/cri-containerd-bbbb" },
	{ 79, A, B },
	{ 80, A, B },
};

int main(void)
{
	char a[256], b[256];

	CHECK_EQ(pathfit_cols(A), 79);
	for (size_t w = 20; w <= 80; w++) {
		pathfit(A, w, a, sizeof(a));
		pathfit(B, w, b, sizeof(b));
		CHECK_SOFT(strcmp(a, b), "width %zu: both '%s'", w, a);
		CHECK_SOFT(pathfit_cols(a) == (w < 79 ? w : 79), "width %zu: '%s' is %zu columns",
			   w, a, pathfit_cols(a));
		CHECK_SOFT(strlen(a) >= 4 && !strcmp(a + strlen(a) - 4, "aaaa"),
			   "width %zu: '%s' lost its end", w, a);
	}
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		CHECK_STR(pathfit(A, exact[i].width, a, sizeof(a)), exact[i].a);
		CHECK_STR(pathfit(B, exact[i].width, b, sizeof(b)), exact[i].b);
	}
	/* short names are left alone; no '/' at all: the end is kept */
	CHECK_STR(pathfit("/", 20, a, sizeof(a)), "/");
	CHECK_STR(pathfit("mmaplock[1234]", 20, a, sizeof(a)), "mmaplock[1234]");
	CHECK_STR(pathfit("abcdefghijklmnopqrstuvwxyz", 20, a, sizeof(a)), "…hijklmnopqrstuvwxyz");
	/* multi-byte code points count one column each and are never split */
	CHECK_STR(pathfit("/süd/ost/wüste-ännchen", 12, a, sizeof(a)), "…ste-ännchen");
	CHECK_EQ(pathfit_cols(pathfit("/süd/ost/wüste-ännchen", 12, a, sizeof(a))), 12);
	CHECK_STR(pathfit("/süd/ost/wüste", 12, a, sizeof(a)), "/süd/…/wüste");
	/* a buffer too small is cut, not overrun */
	CHECK_EQ(strlen(pathfit(A, 60, a, 10)), 9);
	return test_failures ? 1 : 0;
}
