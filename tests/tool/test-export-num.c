/* SPDX-License-Identifier: MIT */
/*
 * test-export-num: the output buffer's number writers (ob.h: p_u64,
 * p_hex, p_us, p_digits) against snprintf, at every power of ten and of
 * sixteen, one below and one above each, the u64 extremes, every value
 * below 10^6 and a run of pseudo-random values; and that none writes before
 * its start or more than P_SLACK bytes past the end it returns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "test-util.h"
#include "ob.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The guard bytes around what p_* wrote at g + 8 (ending at e) intact. */
static int guarded(const char *g, const char *e)
{
	for (int i = 0; i < 8; i++)
		if (g[i] != '#' || e[P_SLACK + i] != '#')
			return 0;
	return 1;
}

/* One value through the three writers, each into a guarded buffer. */
static void one(uint64_t v)
{
	char g[80], want[64], *got = g + 8, *e;

	memset(g, '#', sizeof(g));
	e = p_u64(got, v);
	snprintf(want, sizeof(want), "%" PRIu64, v);
	CHECK_EQ((long long)(e - got), (long long)strlen(want));
	CHECK_EQ(p_digits(v), strlen(want));
	CHECK(guarded(g, e));
	*e = 0;
	CHECK_STR(got, want);

	memset(g, '#', sizeof(g));
	e = p_hex(got, v);
	snprintf(want, sizeof(want), "%" PRIx64, v);
	CHECK_EQ((long long)(e - got), (long long)strlen(want));
	CHECK(guarded(g, e));
	*e = 0;
	CHECK_STR(got, want);

	memset(g, '#', sizeof(g));
	e = p_us(got, v);
	snprintf(want, sizeof(want), "%" PRIu64 ".%03u", v / 1000, (unsigned)(v % 1000));
	CHECK_EQ((long long)(e - got), (long long)strlen(want));
	CHECK(guarded(g, e));
	*e = 0;
	CHECK_STR(got, want);
}

int main(void)
{
	uint64_t p;
	int i;

	one(0);
	one(UINT64_MAX);
	one(UINT64_MAX - 1);
	for (p = 1; p <= UINT64_MAX / 10; p *= 10) {
		one(p - 1);
		one(p);
		one(p + 1);
	}
	one(p - 1), one(p), one(p + 1);		/* 10^19 */
	for (i = 0; i < 64; i++) {
		one((1ull << i) - 1);
		one(1ull << i);
		one((1ull << i) + 1);
	}
	for (p = 0; p < 1000000; p++)
		one(p);
	for (i = 0; i < 200000; i++) {
		uint64_t v = next();
		one(v);
		one(v >> (v & 63));
	}
	/* the writers into the output buffer, through a flush */
	{
		static char obuf[65536];
		struct ob x;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		CHECK(f);
		ob_init_file(&x, f, obuf, sizeof(obuf));
		for (i = 0; i < 20000; i++) {
			ob_u64(&x, 1234567890123ull);
			OBL(&x, " ");
			ob_hex(&x, 0xffff888812345678ull);
			OBL(&x, " ");
			ob_us(&x, 1000062001ull);
			OBL(&x, "\n");
		}
		CHECK(ob_flush(&x) == 0);
		fclose(f);
		CHECK_EQ((long long)len, 20000LL * 43);
		CHECK(!memcmp(buf + 39 * 43, "1234567890123 ffff888812345678 1000062.001\n", 43));
		free(buf);
	}
	printf("test-export-num: ok\n");
	return 0;
}
