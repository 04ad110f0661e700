/* SPDX-License-Identifier: MIT */
/*
 * test-prom: the exporter's exposition (prom.c): label escaping, exact
 * folding of the log-linear histograms into the x4 buckets (edges
 * included), cumulative buckets, _sum/_count, the cardinality bound folding
 * new label values into memcg="other", and "other" hidden while empty; the
 * container identity labels (prom_ident_labels) after memcg and mode;
 * prom_drop: only idle series whose owner is gone, never "other" or kept
 * ones, the rest in order and still found, the freed slots reusable, the
 * series gauge and the dropped counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "prom.h"

#define ID64 "4f9d0c8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

static int has(const struct ob *b, const char *line)
{
	char *l = malloc(strlen(line) + 3);
	int r;

	sprintf(l, "\n%s\n", line);
	r = strstr(b->buf, l) != NULL;
	if (!r)
		fprintf(stderr, "missing line: %s\n", line);
	free(l);
	return r;
}

static int gone_if_g(const struct prom_series *s, void *ctx)
{
	(*(int *)ctx)++;
	return s->memcg[1] == 'g';	/* "/g...": gone */
}

static void test_drop(void)
{
	static const char *const names[] = { "/a", "/g1", "/b", "/g2", "/g3", "/c" };
	struct prom_set p;
	struct ob b;
	int asked = 0;

	CHECK(prom_set_init(&p, 12) == 0);
	for (int i = 0; i < 6; i++)
		for (int w = 0; w < 2; w++) {
			struct prom_series *s = prom_series(&p, names[i], w);
			s->acq = (uint64_t)(10 * i + w);
			s->seen = 100;
		}
	prom_series(&p, "/g3", 0)->seen = 200;		/* recent: stays */
	prom_series(&p, "/g3", 1)->seen = 200;
	prom_series(&p, "/g2", 1)->keep = 1;		/* kept: stays */
	prom_series(&p, "/x", 0)->acq = 7;		/* past max 12: "other" */
	CHECK(p.s[0].acq == 7);
	CHECK(prom_drop(&p, 150, gone_if_g, &asked) == 3);	/* /g1 read, write; /g2 read */
	CHECK(asked == 9);		/* the idle ones not kept; "other" never */
	CHECK(p.n == 2 + 9 && p.dropped == 3);
	CHECK(strcmp(p.s[2].memcg, "/a") == 0 && strcmp(p.s[4].memcg, "/b") == 0);
	for (int i = 0; i < 6; i++)
		for (int w = 0; w < 2; w++) {
			int in = (i != 1 && (i != 3 || w)) || i == 4;
			struct prom_series *s = in ? prom_series(&p, names[i], w) : NULL;
			CHECK(!in || (s && s->acq == (uint64_t)(10 * i + w) && s != &p.s[w]));
		}
	CHECK(prom_drop(&p, 150, gone_if_g, &asked) == 0);
	/* the freed room: new memcgs get their own series again, not "other" */
	CHECK(prom_series(&p, "/y", 0) != &p.s[0]);
	CHECK(prom_series(&p, "/g1", 1)->acq == 0);	/* back: from zero */
	ob_init_mem(&b);
	CHECK(prom_render(&p, &b) == 0);
	CHECK(has(&b, "mmaplock_series 11"));
	CHECK(has(&b, "mmaplock_series_dropped_total 3"));
	CHECK(!strstr(b.buf, "memcg=\"/g1\",mode=\"read\""));
	ob_free(&b);
	prom_set_fini(&p);

	/* a wave of churn: the table gives memory back, the survivors are still found */
	char name[32];
	size_t cap;
	CHECK(prom_set_init(&p, 1000) == 0);
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), i % 30 ? "/g%d" : "/a%d", i);
		prom_series(&p, name, 0)->acq = (uint64_t)i;
	}
	cap = p.cap;
	CHECK(prom_drop(&p, 1, gone_if_g, &asked) == 290);
	CHECK(p.n == 12 && p.cap < cap);
	for (int i = 0; i < 300; i += 30) {
		snprintf(name, sizeof(name), "/a%d", i);
		struct prom_series *s = prom_series(&p, name, 0);
		CHECK(s && s->acq == (uint64_t)i);
	}
	CHECK(p.n == 12);
	prom_set_fini(&p);
}

int main(void)
{
	struct ob b;
	struct prom_set p;
	static struct hist h;

	/* escaping */
	ob_init_mem(&b);
	ob_prom_label(&b, "a\"b\\c\nd/e");
	CHECK(b.n == strlen("a\\\"b\\\\c\\nd/e") && !memcmp(b.buf, "a\\\"b\\\\c\\nd/e", b.n));
	ob_free(&b);
	ob_init_mem(&b);

	/* bounds: powers of 4 from 1024 ns */
	CHECK(prom_bound_ns(0) == 1024 && prom_bound_ns(1) == 4096 && prom_bound_ns(12) == (1ull << 34));

	/* folding: values just below, at and above the edges */
	uint64_t vals[] = { 0, 1023, 1024, 4095, 4096, 5000, 1000000, (1ull << 34) - 1, 1ull << 34, 20000000000ull };
	uint64_t sum = 0;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		hist_add(&h, vals[i]);
		sum += vals[i];
	}
	CHECK(prom_set_init(&p, 3) == 0);
	struct prom_series *s = prom_series(&p, "/a \"x\"", 1);
	CHECK(s != NULL);
	prom_hist_fold(&s->wait, &h);
	prom_hist_fold(&s->wait, &h);		/* twice: it adds */
	CHECK(s->wait.count == 20 && s->wait.sum_ns == 2 * sum);
	CHECK(s->wait.b[0] == 4);		/* 0, 1023 */
	CHECK(s->wait.b[1] == 4);		/* 1024, 4095 */
	CHECK(s->wait.b[2] == 4);		/* 4096, 5000 */
	CHECK(s->wait.b[5] == 2);		/* 1 ms < 1048576 */
	CHECK(s->wait.b[12] == 2);		/* 2^34 - 1 */
	CHECK(s->wait.b[13] == 4);		/* 2^34 and 20 s: +Inf only */
	s->acq = 7;
	s->failed = 2;

	/* cardinality: 3 series, then "other" for each mode */
	CHECK(prom_series(&p, "/a \"x\"", 1) == s);
	CHECK(prom_series(&p, "/b", 0) != NULL);
	struct prom_series *c = prom_series(&p, "/c", 0);
	CHECK(c != NULL && strcmp(c->memcg, "/c") == 0);
	struct prom_series *o = prom_series(&p, "/d", 0);
	CHECK(o != NULL && strcmp(o->memcg, "other") == 0 && o->write == 0);
	o = prom_series(&p, "/e", 1);
	CHECK(o != NULL && strcmp(o->memcg, "other") == 0 && o->write == 1);
	CHECK(p.n == 5);
	o->acq = 5;
	p.lost = 11;

	CHECK(prom_render(&p, &b) == 0);
	CHECK(b.buf && b.buf[b.n - 1] == '\n');
	ob_ch(&b, 0);		/* a C string for strstr */
	CHECK(has(&b, "# TYPE mmaplock_acquisitions_total counter"));
	CHECK(has(&b, "mmaplock_acquisitions_total{memcg=\"/a \\\"x\\\"\",mode=\"write\"} 7"));
	CHECK(has(&b, "mmaplock_failed_total{memcg=\"/a \\\"x\\\"\",mode=\"write\"} 2"));
	CHECK(has(&b, "mmaplock_acquisitions_total{memcg=\"other\",mode=\"write\"} 5"));
	CHECK(!strstr(b.buf, "memcg=\"other\",mode=\"read\""));	/* empty: hidden */
	CHECK(has(&b, "mmaplock_acquisitions_total{memcg=\"/b\",mode=\"read\"} 0"));
	CHECK(has(&b, "# TYPE mmaplock_wait_seconds histogram"));
	CHECK(has(&b, "mmaplock_wait_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"1.024e-06\"} 4"));
	CHECK(has(&b, "mmaplock_wait_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"4.096e-06\"} 8"));
	CHECK(has(&b, "mmaplock_wait_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"0.001048576\"} 14"));
	CHECK(has(&b, "mmaplock_wait_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"17.179869184\"} 16"));
	CHECK(has(&b, "mmaplock_wait_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"+Inf\"} 20"));
	CHECK(has(&b, "mmaplock_wait_seconds_count{memcg=\"/a \\\"x\\\"\",mode=\"write\"} 20"));
	char line[256];
	snprintf(line, sizeof(line), "mmaplock_wait_seconds_sum{memcg=\"/a \\\"x\\\"\",mode=\"write\"} %llu.%09llu",
		 (unsigned long long)(2 * sum / 1000000000u), (unsigned long long)(2 * sum % 1000000000u));
	CHECK(has(&b, line));
	CHECK(has(&b, "mmaplock_hold_seconds_bucket{memcg=\"/a \\\"x\\\"\",mode=\"write\",le=\"+Inf\"} 0"));
	CHECK(has(&b, "mmaplock_lost_events_total 11"));
	/* every sample line belongs to a family announced by a TYPE line before it */
	CHECK(strstr(b.buf, "# TYPE mmaplock_hold_seconds histogram") <
	      strstr(b.buf, "mmaplock_hold_seconds_bucket"));
	ob_free(&b);
	prom_set_fini(&p);

	/* identity labels (container.h): after memcg and mode, only those known, escaped */
	struct ctr_id id;
	struct ob b2;
	ctr_parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
		  "6f1c2b9e_0c1d_4f5a_9b2e_3a4b5c6d7e8f.slice/cri-containerd-" ID64 ".scope", &id);
	strcpy(id.namespace, "shop");
	strcpy(id.pod, "c\"a");
	ob_init_mem(&b2);
	CHECK(prom_set_init(&p, 10) == 0);
	s = prom_series(&p, "/k", 0);
	s->acq = 3;
	s->ident = prom_ident_labels(&id);
	CHECK(s->ident != NULL);
	CHECK(prom_render(&p, &b2) == 0);
	CHECK(has(&b2, "mmaplock_acquisitions_total{memcg=\"/k\",mode=\"read\",namespace=\"shop\","
		  "pod=\"c\\\"a\",pod_uid=\"6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8f\",container_id=\""
		  ID64 "\",qos=\"burstable\"} 3"));
	CHECK(has(&b2, "mmaplock_wait_seconds_bucket{memcg=\"/k\",mode=\"read\",namespace=\"shop\","
		  "pod=\"c\\\"a\",pod_uid=\"6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8f\",container_id=\""
		  ID64 "\",qos=\"burstable\",le=\"+Inf\"} 0"));
	ob_free(&b2);
	prom_set_fini(&p);
	ctr_parse("/system.slice/nginx.service", &id);
	char *l = prom_ident_labels(&id);
	CHECK(l && !strcmp(l, ",unit=\"nginx.service\""));
	free(l);
	ctr_parse("/b/c", &id);
	CHECK(prom_ident_labels(&id) == NULL);	/* unknown: no labels at all */

	test_drop();
	if (fails)
		return 1;
	printf("test-prom: ok\n");
	return 0;
}
