/* SPDX-License-Identifier: MIT */
/*
 * cmd-exporter.c: `mmaplock exporter [--listen ADDR:PORT] [--textfile DIR]
 * [--max-series N] [--series-ttl S] [-i SECONDS] [--backend NAME]
 * [--web.config.file FILE]`:
 * takes windows from a live back-end (backend.h) continuously and serves
 * the cumulative figures at /metrics in the Prometheus text format (prom.c), through
 * libmicrohttpd. Default address 127.0.0.1:9477 (loopback: exposing it is
 * a choice the user makes).
 *
 * Threads. The main thread runs the back-end (windows of groups keyed by
 * memcg and mode, AGG_BY_MEMCG_MODE), and at the end of each window (-i,
 * default 1 s) folds the window into the series, renders the whole
 * exposition once and publishes it: a reference-counted text swapped in under a mutex. The HTTP
 * thread (libmicrohttpd's) only takes a reference under that mutex and
 * sends the text from it, released by libmicrohttpd when sent: a scrape
 * costs the same whatever the event rate, and never waits for the back-end
 * beyond a pointer swap. --textfile DIR writes the same text to
 * DIR/mmaplock.prom each window, atomically (outfile.h: a temporary file
 * in DIR, then rename), for node_exporter's textfile collector.
 *
 * Exposure: --web.config.file (webcfg.h) adds TLS (libmicrohttpd's, on
 * GnuTLS) and basic authentication. Connections: one client must not be able
 * to blind the monitoring, so each address gets at most
 * EXPORTER_PER_IP_CONNS connections (further ones are closed at once), an
 * idle or slow connection is closed after EXPORTER_IDLE_S seconds, and the
 * total is large enough that other addresses still get in; a connection's
 * memory is libmicrohttpd's pool (EXPORTER_CONN_MEM), so the total is
 * bounded. Two threads serve, so that one bcrypt check (tens of ms, on a
 * wrong password) does not delay a scrape.
 *
 * Series end: a series whose memcg is gone and that was idle for
 * --series-ttl seconds is dropped (exporter-gc.h), at the end of a window,
 * on the cumulative series: the same for every back-end.
 *
 * Incidents (--incidents DIR): the events that make the windows also go
 * to the watch engine (analysis/watch.h), as in `mmaplock watch`: incident
 * files into DIR, one line each on stderr, and mmaplock_incidents_total
 * per (memcg, mode, kind) in the same series set (same --max-series cap,
 * same identity labels). It needs events, so the tracefs back-end.
 *
 * Live line: on a terminal, stderr shows scrapes served, series, the last
 * window's events/s and incidents (signals.h's progress line, as record
 * and watch), refreshed about once a second; nothing when it is not one.
 *
 * Stop: SIGINT/SIGTERM end the back-end's run (it leaves nothing on in the
 * kernel), then the HTTP daemon stops and its socket is closed.
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
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "backend.h"
#include "cmdargs.h"
#include "cmds.h"
#include "exporter-gc.h"
#include "outfile.h"
#include "prom.h"
#include "record.h"
#include "signals.h"
#include "watch-args.h"
#include "watch-line.h"
#include "webcfg.h"

#define DEFAULT_LISTEN	"127.0.0.1:9477"
#define EXPORTER_PERIOD_MS	20	/* the back-end's poll */
#define EXPORTER_PER_IP_CONNS	8	/* Prometheus HA pairs, a curl or two */
#define EXPORTER_MAX_CONNS	1024	/* total: 128 addresses at their limit */
#define EXPORTER_IDLE_S		5	/* seconds without a byte: closed */
#define EXPORTER_CONN_MEM	(16 * 1024)	/* request headers; the response is not copied */
#define EXPORTER_THREADS	2

struct snap {
	int refs;			/* under exporter.mu */
	size_t len;
	char text[];
};

struct exporter {
	struct prom_set set;
	pthread_mutex_t mu;
	struct snap *cur;		/* under mu */
	const char *textfile;		/* directory, or NULL */
	char tf_path[4096];
	int tf_warned;
	char url[128];			/* announced once the back-end runs */
	struct webcfg web;		/* --web.config.file; all zero without one */
	struct ctr_pods *pods;		/* --pods-dir: names pods for the labels */
	struct watch *watch;		/* --incidents, or NULL */
	int watch_err;			/* out of memory in the engine */
	unsigned long scrapes;		/* /metrics served; under mu */
	double rate;			/* events/s of the last window */
	uint64_t incidents;		/* written, suspect ones included */
	double next_line;		/* monotonic seconds of the next live line */
	struct xgc gc;			/* --series-ttl */
	uint64_t now;			/* monotonic ns of the window being folded: series' seen */
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
	struct ob b;
	struct snap *s, *old;

	ob_init_mem(&b);
	if (prom_render(&x->set, &b)) {
		ob_free(&b);
		return -1;
	}
	s = malloc(sizeof(*s) + b.n);
	if (!s) {
		ob_free(&b);
		return -1;
	}
	s->refs = 1;
	s->len = b.n;
	memcpy(s->text, b.buf, b.n);
	ob_free(&b);
	if (x->textfile)
		write_textfile(x, s->text, s->len);
	pthread_mutex_lock(&x->mu);
	old = x->cur;
	x->cur = s;
	pthread_mutex_unlock(&x->mu);
	snap_put(old);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

/*
 * The identity labels of a new series (container.h), from its memcg path;
 * a pod not named yet (started after the pods directory was read) is
 * looked up again on later windows, the reader rate-limiting its reads.
 */
static void ident_labels(struct exporter *x, struct prom_series *s, const char *path)
{
	struct ctr_id id;

	if (s == &x->set.s[0] || s == &x->set.s[1] || (s->ident_done && !s->ident_retry))
		return;
	ctr_identify(x->pods, path, &id);
	if (s->ident_done && !id.pod[0])
		return;
	s->ident_done = 1;
	free(s->ident);
	s->ident = prom_ident_labels(&id);
	s->ident_retry = id.pod_uid[0] && !id.pod[0];
}

/* The live line (a terminal only), about once a second. */
static void live_line(struct exporter *x)
{
	struct timespec ts;
	unsigned long scrapes;
	double t;

	if (!progress_enabled())
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (t < x->next_line)
		return;
	x->next_line = t + 1.0;
	pthread_mutex_lock(&x->mu);
	scrapes = x->scrapes;
	pthread_mutex_unlock(&x->mu);
	if (x->watch)
		progress("mmaplock exporter: %lu scrape%s, %zu series, %.0f events/s, %llu incident%s",
			 scrapes, scrapes == 1 ? "" : "s", x->set.n - 2, x->rate,
			 (unsigned long long)x->incidents, x->incidents == 1 ? "" : "s");
	else
		progress("mmaplock exporter: %lu scrape%s, %zu series, %.0f events/s",
			 scrapes, scrapes == 1 ? "" : "s", x->set.n - 2, x->rate);
}

/* After the back-end's start (and each poll): say where the figures are, once; incidents due. */
static int on_poll(void *ctx)
{
	struct exporter *x = ctx;

	if (x->url[0]) {
		fprintf(stderr, "mmaplock exporter: serving %s\n", x->url);
		x->url[0] = '\0';
	}
	live_line(x);
	if (x->watch) {
		uint64_t now = mono_ns();
		/* delivered: everything stamped before the last drain minus its slack (as watch) */
		if (watch_tick(x->watch, now > 100000000ull ? now - 100000000ull : 0) < 0)
			x->watch_err = 1;
	}
	return x->watch_err;
}

/* --incidents: the events, into the watch engine; max-incidents reached only ends the files. */
static int on_events(void *ctx, const struct mml_event *ev, size_t n)
{
	struct exporter *x = ctx;

	if (watch_events(x->watch, ev, n) < 0) {
		x->watch_err = 1;
		return -1;
	}
	return 0;
}

static void on_lost(void *ctx, uint32_t cpu, uint64_t count, uint64_t from_ts, uint64_t to_ts)
{
	struct exporter *x = ctx;

	watch_lost(x->watch, cpu, count, from_ts, to_ts);
}

static int on_window(void *ctx, const struct window *w)
{
	struct exporter *x = ctx;
	char buf[64];

	x->now = mono_ns();
	for (struct agg_group **e = agg_tab_next(&w->agg->tab, NULL); e;
	     e = agg_tab_next(&w->agg->tab, e)) {
		const struct agg_group *g = *e;
		if (!(g->acq_read + g->acq_write + g->failed + g->wait.count + g->hold.count))
			continue;
		struct prom_series *s = prom_series(&x->set, memcg_label(w->meta, agg_key_memcg(g->key),
						    buf, sizeof(buf)), agg_key_write(g->key));
		if (!s)
			return -1;
		ident_labels(x, s, meta_memcg(w->meta, agg_key_memcg(g->key)));
		s->seen = x->now;
		s->acq += g->acq_read + g->acq_write;
		s->failed += g->failed;
		prom_hist_fold(&s->wait, &g->wait);
		prom_hist_fold(&s->hold, &g->hold);
	}
	x->rate = w->len_ns ? (double)w->stats.events * 1e9 / (double)w->len_ns : 0;
	x->set.lost = w->total.lost;
	x->set.non_owner = run_non_owner(&w->total);
	x->set.events = w->total.events;
	xgc_run(&x->gc, &x->set, x->now);
	return publish(x) ? -1 : 0;
}

/* An incident written: one line on stderr, counted by the memcg and mode of its waiter (or holder). */
static void on_incident(void *ctx, const struct watch_incident *inc)
{
	struct exporter *x = ctx;
	const struct watch_party *p = inc->is_hold ? &inc->holders[0] : &inc->waiter;
	char buf[64];

	x->incidents++;
	progress_clear();
	fprintf(stderr, "mmaplock exporter: incident: ");
	watch_line(stderr, inc, 0);
	if (inc->suspect) {
		x->set.incidents_suspect++;
		return;
	}
	struct prom_series *s = prom_series(&x->set, memcg_label(inc->meta, p->memcg, buf, sizeof(buf)),
					    p->write);
	if (!s) {
		x->watch_err = 1;
		return;
	}
	ident_labels(x, s, meta_memcg(inc->meta, p->memcg));
	s->seen = mono_ns();
	s->incidents[inc->is_hold]++;
}

/* client_auth_type: the TLS session's client certificate. */
static int client_allowed(struct exporter *x, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	if (!x->web.cert || x->web.client_auth == WEBCFG_NO_CLIENT_CERT)
		return 1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return ci && webcfg_client_ok(&x->web, ci->tls_session);
}

/* basic_auth_users: the request's Authorization header. */
static int user_allowed(struct exporter *x, struct MHD_Connection *c)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	int ok = webcfg_auth(&x->web, user, pass);

	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct exporter *x = cls;
	struct MHD_Response *r;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;

	if (!client_allowed(x, c))
		return MHD_NO;		/* closes the connection, as a refused handshake would */
	if (x->web.nusers && !user_allowed(x, c)) {
		static const char msg[] = "unauthorized\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		rc = MHD_queue_basic_auth_fail_response(c, "mmaplock", r);	/* 401 */
		MHD_destroy_response(r);
		return rc;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (!strcmp(url, "/metrics")) {
		struct snap *s;
		pthread_mutex_lock(&x->mu);
		s = x->cur;
		s->refs++;
		x->scrapes++;
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
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 256) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		fprintf(stderr, "mmaplock exporter: cannot listen on %s: %s\n", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port_out = ntohs(sin.sin_port);
	return fd;
}

/* libmicrohttpd on the listening socket fd, with TLS when the web config has it. */
static struct MHD_Daemon *start_http(struct exporter *x, int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const struct webcfg *w = &x->web;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)w->priorities },
		/* a trust list makes libmicrohttpd ask for a client certificate */
		{ w->ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, w->ca },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (w->cert)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, x,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)EXPORTER_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)EXPORTER_MAX_CONNS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)EXPORTER_PER_IP_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)EXPORTER_IDLE_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EXPORTER_CONN_MEM,
				w->cert ? MHD_OPTION_ARRAY : MHD_OPTION_END, tls, MHD_OPTION_END);
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
		s->keep = 1;		/* no memcg to be gone */
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
	fprintf(f, "usage: mmaplock exporter [--listen ADDR:PORT] [--textfile DIR] [--max-series N] [-i SECONDS]\n"
		   "                         [--series-ttl SECONDS] [--backend tracefs|bpf|auto]\n"
		   "                         [--web.config.file FILE]\n"
		   "                         [--pods-dir DIR] [--incidents DIR [--wait-over MS] [--hold-over MS]\n"
		   "                         [--before S] [--after S] [--max-incidents N] [--rate-limit S]\n"
		   "                         [--max-disk MB]]\n\n"
		   "Record the kernel's mmap_lock events continuously and serve them at /metrics in the\n"
		   "Prometheus text format: mmaplock_acquisitions_total, mmaplock_failed_total,\n"
		   "mmaplock_wait_seconds, mmaplock_hold_seconds (per memcg and mode), mmaplock_lost_events_total,\n"
		   "mmaplock_non_owner_releases_total, mmaplock_series, mmaplock_series_dropped_total,\n"
		   "mmaplock_backend_info (which back-end: tracefs or bpf). A memcg of a container, pod or\n"
		   "systemd unit adds the labels namespace, pod, pod_uid, container_id, qos, unit it has\n"
		   "(docs/CONTAINERS.md).\n\n"
		   "      --listen ADDR:PORT IPv4 address and port (default " DEFAULT_LISTEN "; port 0: any free one)\n"
		   "      --textfile DIR     also write DIR/mmaplock.prom (node_exporter textfile collector)\n"
		   "      --max-series N     at most N (memcg, mode) series; the rest go to memcg=\"other\"\n"
		   "                         (default %d)\n"
		   "      --series-ttl SEC   drop the series of a memcg that is gone (its cgroup directory\n"
		   "                         removed) once idle for SEC seconds (default %d; 0: keep every\n"
		   "                         series until the exporter stops)\n"
		   "  -i, --interval SEC     refresh the figures every SEC seconds (default 1)\n"
		   "      --backend NAME     where the data comes from: tracefs, bpf or auto (default:\n"
		   "                         bpf when it loads, else tracefs)\n"
		   "      --web.config.file FILE  TLS and basic authentication, in the Prometheus\n"
		   "                         exporter-toolkit's format (tls_server_config, basic_auth_users)\n"
		   "      --pods-dir DIR     the kubelet's pod log directories, which name pods for the\n"
		   "                         namespace and pod labels (default $" CTR_PODS_ENV ", else\n"
		   "                         " CTR_PODS_DIR_DEFAULT ")\n"
		   "      --incidents DIR    also catch stalls as `mmaplock watch` does: incident files into\n"
		   "                         DIR, a line each on stderr, mmaplock_incidents_total (per memcg,\n"
		   "                         mode, kind); needs the tracefs back-end (docs/WATCH.md)\n"
		   "      --wait-over MS     with --incidents: a wait over MS ms is one (default 50)\n"
		   "      --hold-over MS     a hold over MS ms is one too (default: off)\n"
		   "      --before S, --after S  seconds kept before and after it (default 2, 1)\n"
		   "      --max-incidents N  write no more than N files (default 100; 0: no limit)\n"
		   "      --rate-limit S     at least S seconds between incidents (default 10)\n"
		   "      --max-disk MB      write no incident past MB of files (default 1024)\n"
		   "      --fake-series N    add N made-up series (tests and benchmarks: a /metrics\n"
		   "                         as large as N memcgs would make it)\n"
		   "\nExamples:\n"
		   "  mmaplock exporter                          # http://127.0.0.1:9477/metrics\n"
		   "  mmaplock exporter --listen 0.0.0.0:9477    # reachable from other machines\n"
		   "  mmaplock exporter --listen 127.0.0.1:0 --textfile /var/lib/node_exporter\n"
		   "  mmaplock exporter --listen 0.0.0.0:9477 --web.config.file /etc/mmaplock/web.yml\n",
		PROM_DEFAULT_MAX, XGC_DEFAULT_TTL_S);
}

/* Long-only options have vals that are not among the short options ("i:h"). */
static const struct option lo[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "textfile", required_argument, NULL, 't' },
	{ "max-series", required_argument, NULL, 'm' },
	{ "series-ttl", required_argument, NULL, 'T' },
	{ "fake-series", required_argument, NULL, 'f' },
	{ "interval", required_argument, NULL, 'i' },
	{ "backend", required_argument, NULL, 'B' },
	{ "web.config.file", required_argument, NULL, 'W' },
	{ "pods-dir", required_argument, NULL, 'P' },
	{ "incidents", required_argument, NULL, 'I' },
	{ "wait-over", required_argument, NULL, 'w' },		/* these: watch-args.h */
	{ "hold-over", required_argument, NULL, 'w' },
	{ "before", required_argument, NULL, 'w' },
	{ "after", required_argument, NULL, 'w' },
	{ "max-incidents", required_argument, NULL, 'w' },
	{ "rate-limit", required_argument, NULL, 'w' },
	{ "max-disk", required_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};
static const struct cmdargs_opts exporter_options = { lo, "i:h" };

struct xargs {
	const char *listen, *backend, *webcfg, *pods_dir;
	long max_series, nfake;
	double interval;
	double series_ttl;		/* seconds; 0: forever */
	const char *incidents;		/* --incidents DIR, or NULL */
	int watch_set;			/* an incident option was given */
	struct watch_opts wo;
};

/* Options into a (and x->textfile). -1: go on; else the exit status (--help: 0, usage: 2). */
static int parse(struct exporter *x, struct xargs *a, int argc, char **argv)
{
	char *end;
	int c, li = -1;

	if (cmdargs_list(argc, argv, &exporter_options))
		return 0;
	watch_args_defaults(&a->wo, "mmaplock exporter");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, exporter_options.shortopts, lo, &li)) != -1) {
		const char *v = optarg;
		if (v && !*v && strchr("ItWPl", c)) {	/* a file, directory or address: "$unset_var" */
			fprintf(stderr, "mmaplock exporter: --%s: an empty value\n", lo[li].name);
			return 2;
		}
		switch (c) {
		case 'I':
			a->incidents = v;
			break;
		case 'w':
			if (watch_args_opt(&a->wo, lo[li].name, v))
				return 2;
			a->watch_set = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			a->listen = v;
			break;
		case 't':
			x->textfile = v;
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
			*(c == 'm' ? &a->max_series : &a->nfake) = n;
			break;
		}
		case 'i':
			errno = 0;
			a->interval = strtod(v, &end);
			if (errno || end == v || *end || !(a->interval >= 0.1) || a->interval > 3600) {
				fprintf(stderr, "mmaplock exporter: -i: '%s' is not a number of seconds (0.1 to 3600)\n", v);
				return 2;
			}
			break;
		case 'T':
			errno = 0;
			a->series_ttl = strtod(v, &end);
			if (errno || end == v || *end || !(a->series_ttl >= 0) || a->series_ttl > 1e8) {
				fprintf(stderr, "mmaplock exporter: --series-ttl: '%s' is not a number of seconds "
					"(0 to 100000000)\n", v);
				return 2;
			}
			break;
		case 'B':
			if (!backend_name_valid(v)) {
				fprintf(stderr, "mmaplock exporter: --backend: '%s' is not tracefs, bpf or auto\n", v);
				return 2;
			}
			a->backend = v;
			break;
		case 'W':
			a->webcfg = v;
			break;
		case 'P':
			a->pods_dir = v;
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
	if (a->watch_set && !a->incidents) {
		fprintf(stderr, "mmaplock exporter: --wait-over, --hold-over ... need --incidents DIR\n");
		return 2;
	}
	if (a->incidents) {
		if (!strcmp(a->backend, "bpf")) {
			fprintf(stderr, "mmaplock exporter: --incidents needs the tracefs back-end "
				"(the BPF one delivers no events): --backend tracefs or auto\n");
			return 2;
		}
		if (watch_args_check(&a->wo) || watch_args_dir("mmaplock exporter", a->incidents))
			return 2;
		a->wo.dir = a->incidents;
		a->wo.max_events = (size_t)(256.0 * 1048576.0 / sizeof(struct mml_event));
	}
	if (x->textfile) {
		snprintf(x->tf_path, sizeof(x->tf_path), "%s/mmaplock.prom", x->textfile);
		if (access(x->textfile, W_OK)) {
			fprintf(stderr, "mmaplock exporter: --textfile: cannot write into %s: %s\n",
				x->textfile, strerror(errno));
			return 2;
		}
	}
	if (a->webcfg) {
		char err[512];
		if (webcfg_load(&x->web, a->webcfg, err, sizeof(err))) {
			fprintf(stderr, "mmaplock exporter: %s: %s\n", a->webcfg, err);
			webcfg_free(&x->web);
			return 2;
		}
	}
	return -1;
}

/* The back-end that makes the windows; NULL after one line (and the note, if any). */
static struct backend *open_backend(struct exporter *x, const struct xargs *a, struct mml_meta *meta)
{
	struct backend_opts bo = { .need = BACKEND_CAP_WINDOWS, .by = AGG_BY_MEMCG_MODE,
				   .win_ns = (uint64_t)(a->interval * 1e9), .prog = "mmaplock exporter" };
	struct backend_sink sink = { .window = on_window, .ctx = x };
	/* --incidents: watch's recorder settings (its buffers, stacks where a stall shows) */
	struct record_opts ro = { .prog = "mmaplock exporter", .quiet = 1,
				  .buffer_kb = 4 * RECORD_DEFAULT_KB, .watch_stacks = 1 };
	char err[256], note[256];
	struct backend *b;

	if (x->watch) {
		bo.need |= BACKEND_CAP_EVENTS | BACKEND_CAP_STACKS;
		bo.impl_opts = &ro;
		sink.events = on_events;
		sink.lost = on_lost;
	}
	b = backend_open(a->backend, &bo, &sink, meta, err, sizeof(err), note, sizeof(note));
	if (note[0])
		fprintf(stderr, "mmaplock exporter: %s\n", note);
	if (!b)
		fprintf(stderr, "mmaplock exporter: %s\n", err[0] ? err : "no live back-end");
	else
		x->set.backend = b->ops->name;
	return b;
}

int cmd_exporter(int argc, char **argv)
{
	struct exporter x = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct xargs a = { .listen = DEFAULT_LISTEN, .backend = "auto",
			   .max_series = PROM_DEFAULT_MAX, .interval = 1.0,
			   .series_ttl = XGC_DEFAULT_TTL_S };
	struct mml_meta *meta = NULL;
	struct backend *b = NULL;
	struct MHD_Daemon *d = NULL;
	struct watch w;
	int fd, port = 0, rc;

	rc = parse(&x, &a, argc, argv);
	if (rc >= 0)
		return rc;
	rc = 1;
	g_exp = &x;
	xgc_init(&x.gc, a.series_ttl);
	if (prom_set_init(&x.set, (size_t)a.max_series) || !(meta = meta_new()) ||
	    !(x.pods = ctr_pods_new(a.pods_dir))) {
		fprintf(stderr, "mmaplock exporter: out of memory\n");
		goto out;
	}
	if (a.incidents) {
		if (watch_init(&w, &a.wo, meta, on_incident, &x)) {
			fprintf(stderr, "mmaplock exporter: out of memory\n");
			goto out;
		}
		x.watch = &w;
		x.set.incidents_on = 1;
	}
	if (fake_series(&x, a.nfake) || publish(&x)) {
		fprintf(stderr, "mmaplock exporter: out of memory\n");
		goto out;
	}
	fd = listen_on(a.listen, &port);
	if (fd < 0) {
		rc = fd == -2 ? 2 : 1;
		goto out;
	}
	b = open_backend(&x, &a, meta);
	if (!b || publish(&x)) {	/* again: with the back-end's name */
		close(fd);
		goto out;
	}
	d = start_http(&x, fd);
	if (!d) {
		fprintf(stderr, "mmaplock exporter: cannot start the HTTP server on %s\n", a.listen);
		close(fd);
		goto out;
	}
	snprintf(x.url, sizeof(x.url), "%s://%.*s:%d/metrics", x.web.cert ? "https" : "http",
		 (int)(strrchr(a.listen, ':') - a.listen), a.listen, port);
	sig_install();
	rc = backend_run(b, 0, EXPORTER_PERIOD_MS, on_poll, &x);
	progress_clear();
	if (rc && b->err[0])
		fprintf(stderr, "mmaplock exporter: %s\n", b->err);
	if (x.watch_err) {
		fprintf(stderr, "mmaplock exporter: out of memory\n");
		rc = 1;
	}
out:
	if (d)
		MHD_stop_daemon(d);	/* closes the socket; no request runs after this */
	backend_close(b);		/* no window after this */
	if (x.watch) {			/* an incident being collected: written with what there is */
		watch_finish(x.watch);
		watch_fini(x.watch);
	}
	meta_free(meta);
	snap_put(x.cur);
	prom_set_fini(&x.set);
	webcfg_free(&x.web);
	ctr_pods_free(x.pods);
	xgc_fini(&x.gc);
	return rc;
}
