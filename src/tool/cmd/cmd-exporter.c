/* SPDX-License-Identifier: MIT */
/*
 * cmd-exporter.c: `mmaplock exporter [--listen ADDR:PORT] [--textfile DIR]
 * [--max-series N] [-i SECONDS]`: records continuously (record.c in live
 * mode, no file) and serves the cumulative figures at /metrics in the
 * Prometheus text format (prom.c), through libmicrohttpd. Default address
 * 127.0.0.1:9477 (loopback: exposing it is a choice the user makes).
 *
 * Threads. The recorder's thread pairs and aggregates (live.c, groups keyed
 * by memcg and mode), and at the end of each window (-i, default 1 s) folds
 * the window into the series, renders the whole exposition once and
 * publishes it: a reference-counted text swapped in under a mutex. The HTTP
 * thread (libmicrohttpd's) only takes a reference under that mutex and
 * sends the text from it, released by libmicrohttpd when sent: a scrape
 * costs the same whatever the event rate, and never waits for the recorder
 * beyond a pointer swap. --textfile DIR writes the same text to
 * DIR/mmaplock.prom each window, atomically (outfile.h: a temporary file
 * in DIR, then rename), for node_exporter's textfile collector.
 *
 * Stop: SIGINT/SIGTERM end the recording (its instance is removed by
 * record.c), then the HTTP daemon stops and its socket is closed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>
#include "cmdargs.h"
#include "cmds.h"
#include "live.h"
#include "outfile.h"
#include "prom.h"
#include "record.h"
#include "signals.h"

#define DEFAULT_LISTEN	"127.0.0.1:9477"

struct snap {
	int refs;			/* under exporter.mu */
	size_t len;
	char text[];
};

struct exporter {
	struct live live;
	struct prom_set set;
	pthread_mutex_t mu;
	struct snap *cur;		/* under mu */
	const char *textfile;		/* directory, or NULL */
	char tf_path[4096];
	int tf_warned;
	char url[128];			/* announced once the recording runs */
	int (*live_tick)(void *ctx, const struct record_tick *t);
};

static struct exporter *g_exp;		/* for the HTTP thread's release callback */

static void snap_put(struct snap *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&g_exp->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&g_exp->mu);
	if (last)
		free(s);
}

static void snap_release(void *cls)
{
	snap_put(cls);
}

/* Beside and renamed (outfile.h). The first failure is one line; the exporter goes on. */
static void write_textfile(struct exporter *x, const char *text, size_t len)
{
	const char *prog = x->tf_warned ? NULL : "mmaplock exporter";
	struct outfile of;

	if (outfile_open(&of, prog, x->tf_path)) {
		x->tf_warned = 1;
		return;
	}
	fwrite(text, 1, len, of.f);
	if (outfile_commit(&of, prog))
		x->tf_warned = 1;
}

/* Render the series and publish them (and the textfile). */
static int publish(struct exporter *x)
{
	struct prom_buf b = { 0 };
	struct snap *s, *old;

	if (prom_render(&x->set, &b)) {
		free(b.s);
		return -1;
	}
	s = malloc(sizeof(*s) + b.len);
	if (!s) {
		free(b.s);
		return -1;
	}
	s->refs = 1;
	s->len = b.len;
	memcpy(s->text, b.s, b.len);
	free(b.s);
	if (x->textfile)
		write_textfile(x, s->text, s->len);
	pthread_mutex_lock(&x->mu);
	old = x->cur;
	x->cur = s;
	pthread_mutex_unlock(&x->mu);
	snap_put(old);
	return 0;
}

/* Before pairing: the mode goes into the memcg key, so groups are (memcg, mode). */
static int key_mode(struct live *l, struct mml_event *e)
{
	e->memcg = e->memcg * 2 + ((e->flags & MML_F_WRITE) != 0);
	return 0;
}

static const char *memcg_label(const struct mml_meta *m, uint64_t id, char *buf, size_t len)
{
	const char *p;

	if (!id)
		return "none";		/* memory controller disabled */
	if ((p = meta_memcg(m, id)))
		return *p ? p : "/";
	snprintf(buf, len, "id:%llu", (unsigned long long)id);
	return buf;
}

/* The recorder's tick: the first one says the recording is up (errors before it are alone). */
static int on_tick(void *ctx, const struct record_tick *t)
{
	struct live *l = ctx;
	struct exporter *x = l->ctx;

	if (x->url[0]) {
		fprintf(stderr, "mmaplock exporter: serving %s\n", x->url);
		x->url[0] = '\0';
	}
	return x->live_tick(ctx, t);
}

static int on_close(struct live *l, uint64_t win_ns, uint64_t events, uint64_t lost)
{
	struct exporter *x = l->ctx;
	char buf[64];

	for (size_t i = 0; i < l->agg.cap; i++) {
		const struct agg_group *g = l->agg.g[i];
		if (!g || !(g->acq_read + g->acq_write + g->failed + g->wait.count + g->hold.count))
			continue;
		struct prom_series *s = prom_series(&x->set, memcg_label(l->meta, g->key >> 1, buf, sizeof(buf)),
						    (int)(g->key & 1));
		if (!s)
			return -1;
		s->acq += g->acq_read + g->acq_write;
		s->failed += g->failed;
		prom_hist_fold(&s->wait, &g->wait);
		prom_hist_fold(&s->hold, &g->hold);
	}
	x->set.lost = l->lost_total;
	x->set.events = l->events;
	return publish(x) ? -1 : 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct exporter *x = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (!strcmp(url, "/metrics")) {
		struct snap *s;
		pthread_mutex_lock(&x->mu);
		s = x->cur;
		s->refs++;
		pthread_mutex_unlock(&x->mu);
		r = MHD_create_response_from_buffer_with_free_callback_cls(s->len, s->text, snap_release, s);
		if (!r) {
			snap_put(s);
			return MHD_NO;
		}
		MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	} else if (!strcmp(url, "/")) {
		static const char msg[] = "mmaplock exporter: metrics at /metrics\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
	} else {
		static const char msg[] = "not found (metrics are at /metrics)\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	}
	if (!r)
		return MHD_NO;
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* A listening socket on addr ("A.B.C.D:PORT"); -1 after a one-line error. */
static int listen_on(const char *addr, int *port_out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char host[64];
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;
	int fd, one = 1;
	socklen_t len = sizeof(sin);

	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "mmaplock exporter: --listen: '%s' is not ADDR:PORT\n", addr);
		return -2;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port < 0 || port > 65535) {
		fprintf(stderr, "mmaplock exporter: --listen: '%s' is not a port (0 to 65535)\n", colon + 1);
		return -2;
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "mmaplock exporter: --listen: '%s' is not an IPv4 address\n", host);
		return -2;
	}
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		fprintf(stderr, "mmaplock exporter: cannot listen on %s: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port_out = ntohs(sin.sin_port);
	return fd;
}

/* --fake-series N (tests, benchmark): N made-up series, as many memcgs would give. */
static int fake_series(struct exporter *x, long n)
{
	char name[64];

	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "/fake/memcg-%05ld", i / 2);
		struct prom_series *s = prom_series(&x->set, name, (int)(i & 1));
		if (!s)
			return -1;
		s->acq = 1000 + (uint64_t)i;
		for (unsigned k = 0; k <= PROM_NBUCKETS; k++) {
			s->wait.b[k] = (uint64_t)(i + k);
			s->hold.b[k] = (uint64_t)(2 * i + k);
			s->wait.count += s->wait.b[k];
			s->hold.count += s->hold.b[k];
		}
		s->wait.sum_ns = 123456789ull * (uint64_t)(i + 1);
		s->hold.sum_ns = 987654321ull * (uint64_t)(i + 1);
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mmaplock exporter [--listen ADDR:PORT] [--textfile DIR] [--max-series N] [-i SECONDS]\n\n"
		   "Record the kernel's mmap_lock events continuously and serve them at /metrics in the\n"
		   "Prometheus text format: mmaplock_acquisitions_total, mmaplock_failed_total,\n"
		   "mmaplock_wait_seconds, mmaplock_hold_seconds (per memcg and mode), mmaplock_lost_events_total.\n\n"
		   "      --listen ADDR:PORT IPv4 address and port (default " DEFAULT_LISTEN "; port 0: any free one)\n"
		   "      --textfile DIR     also write DIR/mmaplock.prom (node_exporter textfile collector)\n"
		   "      --max-series N     at most N (memcg, mode) series; the rest go to memcg=\"other\"\n"
		   "                         (default %d)\n"
		   "  -i, --interval SEC     refresh the figures every SEC seconds (default 1)\n"
		   "      --fake-series N    add N made-up series (tests and benchmarks: a /metrics\n"
		   "                         as large as N memcgs would make it)\n"
		   "\nExamples:\n"
		   "  mmaplock exporter                          # http://127.0.0.1:9477/metrics\n"
		   "  mmaplock exporter --listen 0.0.0.0:9477    # reachable from other machines\n"
		   "  mmaplock exporter --listen 127.0.0.1:0 --textfile /var/lib/node_exporter\n",
		PROM_DEFAULT_MAX);
}

/* Long-only options have vals that are not among the short options ("i:h"). */
static const struct option lo[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "textfile", required_argument, NULL, 't' },
	{ "max-series", required_argument, NULL, 'm' },
	{ "fake-series", required_argument, NULL, 'f' },
	{ "interval", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const struct cmdargs_opts exporter_options = { lo, "i:h" };

int cmd_exporter(int argc, char **argv)
{
	struct exporter x = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct record_opts o = { .prog = "mmaplock exporter", .quiet = 1, .buffer_kb = RECORD_DEFAULT_KB };
	struct record_result res;
	const char *listen_addr = DEFAULT_LISTEN;
	long max_series = PROM_DEFAULT_MAX, nfake = 0;
	double interval = 1.0;
	struct MHD_Daemon *d = NULL;
	int fd, port = 0, rc = 1, c;
	char *end;

	if (cmdargs_list(argc, argv, &exporter_options))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, exporter_options.shortopts, lo, NULL)) != -1) {
		const char *v = optarg;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			listen_addr = v;
			break;
		case 't':
			x.textfile = v;
			break;
		case 'm':
		case 'f': {
			errno = 0;
			long n = strtol(v, &end, 10);
			if (errno || end == v || *end || n < 0 || n > 10000000) {
				fprintf(stderr, "mmaplock exporter: --%s: '%s' is not a count\n",
					c == 'm' ? "max-series" : "fake-series", v);
				return 2;
			}
			*(c == 'm' ? &max_series : &nfake) = n;
			break;
		}
		case 'i':
			errno = 0;
			interval = strtod(v, &end);
			if (errno || end == v || *end || !(interval >= 0.1) || interval > 3600) {
				fprintf(stderr, "mmaplock exporter: -i: '%s' is not a number of seconds (0.1 to 3600)\n", v);
				return 2;
			}
			break;
		default:
			cmdargs_bad("mmaplock exporter", argv, &exporter_options);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmaplock exporter: %s: unexpected argument (see --help)\n", argv[optind]);
		return 2;
	}
	if (x.textfile) {
		snprintf(x.tf_path, sizeof(x.tf_path), "%s/mmaplock.prom", x.textfile);
		if (access(x.textfile, W_OK)) {
			fprintf(stderr, "mmaplock exporter: --textfile: cannot write into %s: %s\n",
				x.textfile, strerror(errno));
			return 2;
		}
	}
	g_exp = &x;
	if (prom_set_init(&x.set, (size_t)max_series) || live_init(&x.live, AGG_BY_MEMCG,
	    (uint64_t)(interval * 1e9), on_close, &x) || fake_series(&x, nfake) || publish(&x)) {
		fprintf(stderr, "mmaplock exporter: out of memory\n");
		goto out;
	}
	x.live.key = key_mode;
	fd = listen_on(listen_addr, &port);
	if (fd < 0) {
		rc = fd == -2 ? 2 : 1;
		goto out;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     handle, &x, MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mmaplock exporter: cannot start the HTTP server on %s\n", listen_addr);
		close(fd);
		goto out;
	}
	snprintf(x.url, sizeof(x.url), "http://%.*s:%d/metrics",
		 (int)(strrchr(listen_addr, ':') - listen_addr), listen_addr, port);
	struct record_sink sink = x.live.sink;
	x.live_tick = sink.tick;
	sink.tick = on_tick;
	o.sink = &sink;
	sig_install();
	rc = record_run(&o, &res);
	if (x.live.err) {
		fprintf(stderr, "mmaplock exporter: out of memory\n");
		rc = 1;
	}
out:
	if (d)
		MHD_stop_daemon(d);	/* closes the socket; no request runs after this */
	snap_put(x.cur);
	live_fini(&x.live);
	prom_set_fini(&x.set);
	return rc;
}
