/* SPDX-License-Identifier: MIT */
/*
 * container.c: memcg path -> container identity (container.h), and the
 * reader of the kubelet's pods directory that names pods.
 *
 * The shapes, as the runtimes write them (docs/CONTAINERS.md):
 *
 *   kubelet, cgroupfs driver   /kubepods[/burstable|/besteffort]/pod<uid>/<container>
 *   kubelet, systemd driver    /kubepods.slice[/kubepods-<qos>.slice]/
 *                                kubepods[-<qos>]-pod<uid with '_'>.slice/<container>
 *     <container>: <64 hex> (containerd, dockershim), cri-containerd-<id>.scope,
 *                  crio-<id>[.scope], crio-conmon-<id>[.scope], docker-<id>.scope
 *     a guaranteed pod sits directly under kubepods; kubepods may be nested
 *     (kind, k3s: /kubelet/kubepods, kubelet-kubepods.slice)
 *   Docker    /docker/<64 hex>, /system.slice/docker-<id>.scope
 *   Podman    [...]/libpod-<id>[.scope], libpod-conmon-<id>[.scope]
 *   systemd   <unit>.service (the deepest one: user@1000.service/app.slice/x.service
 *             is x.service), session-N.scope, user-<uid>.slice, else the last
 *             component when it is a unit (init.scope, system.slice)
 *
 * Kubernetes is tried first (a pod's container may be docker-<id>.scope),
 * then Docker and Podman (outermost container wins), then systemd. What
 * matches none of these is unknown, and every output keeps its path.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "container.h"
#include "hashmap.h"

#define MAX_COMP 64

struct comp {
	const char *s;
	size_t n;
};

static size_t split(const char *path, struct comp *c)
{
	size_t n = 0;

	while (*path && n < MAX_COMP) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		c[n].s = path;
		while (*path && *path != '/')
			path++;
		c[n].n = (size_t)(path - c[n].s);
		n++;
	}
	return n;
}

static int is(const struct comp *c, const char *lit)
{
	return c->n == strlen(lit) && !memcmp(c->s, lit, c->n);
}

static int starts(const struct comp *c, const char *lit)
{
	size_t l = strlen(lit);

	return c->n >= l && !memcmp(c->s, lit, l);
}

static int ends(const struct comp *c, const char *lit)
{
	size_t l = strlen(lit);

	return c->n >= l && !memcmp(c->s + c->n - l, lit, l);
}

static int hex(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * A pod UID: 8-4-4-4-12 hex with '-' or '_' (a UUID), or 32 hex digits
 * (a static pod's: the hash of its manifest). Into out with dashes.
 */
static int pod_uid(const char *s, size_t n, char *out, size_t len)
{
	if (n == 32 && hex(s, n)) {
		snprintf(out, len, "%.32s", s);
		return 1;
	}
	if (n != 36 || len < 37)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		int sep = i == 8 || i == 13 || i == 18 || i == 23;
		if (sep ? s[i] != '-' && s[i] != '_' : !hex(s + i, 1))
			return 0;
		out[i] = sep ? '-' : s[i];
	}
	out[36] = '\0';
	return 1;
}

/* A container id: hex, after one of prefixes, before an optional ".scope". */
static int container_id(const struct comp *c, const char *const *prefixes, size_t min,
			char *out, size_t len)
{
	struct comp t = *c;

	if (ends(&t, ".scope"))
		t.n -= 6;
	for (; *prefixes; prefixes++) {
		size_t l = strlen(*prefixes);
		if (!starts(&t, *prefixes))
			continue;
		if (t.n - l < min || t.n - l >= len || !hex(t.s + l, t.n - l))
			return 0;
		snprintf(out, len, "%.*s", (int)(t.n - l), t.s + l);
		return 1;
	}
	return 0;
}

static const char *const k8s_ctr_prefix[] = {
	"cri-containerd-", "crio-conmon-", "crio-", "docker-", "cri-dockerd-", NULL,
};
static const char *const bare[] = { "", NULL };

/* The QoS class of a kubepods child ("burstable", "kubepods-burstable.slice"); 0: none. */
static int qos_of(const struct comp *c, char *out, size_t len)
{
	static const char *const q[] = { "burstable", "besteffort" };
	char sfx[32];

	for (int i = 0; i < 2; i++) {
		snprintf(sfx, sizeof(sfx), "-%s.slice", q[i]);
		if (is(c, q[i]) || (ends(c, sfx) && starts(c, "kube"))) {
			snprintf(out, len, "%s", q[i]);
			return 1;
		}
	}
	return 0;
}

/* pod<uid> (cgroupfs) or ...-pod<uid>.slice (systemd). */
static int pod_of(const struct comp *c, char *out, size_t len)
{
	struct comp t = *c;
	const char *p;

	if (starts(&t, "pod"))
		return pod_uid(t.s + 3, t.n - 3, out, len);
	if (!ends(&t, ".slice") || !starts(&t, "kube"))
		return 0;
	t.n -= 6;
	for (p = t.s + t.n - 4; p > t.s; p--)	/* the last "-pod" */
		if (!memcmp(p, "-pod", 4))
			return pod_uid(p + 4, (size_t)(t.s + t.n - (p + 4)), out, len);
	return 0;
}

static enum ctr_kind kubernetes(const struct comp *c, size_t n, struct ctr_id *id)
{
	size_t k, i;

	for (k = 0; k < n; k++)
		if (is(&c[k], "kubepods") || (starts(&c[k], "kube") && ends(&c[k], "kubepods.slice")))
			break;
	if (k + 1 >= n)
		return CTR_UNKNOWN;
	i = k + 1;
	if (qos_of(&c[i], id->qos, sizeof(id->qos)))
		i++;
	else
		snprintf(id->qos, sizeof(id->qos), "guaranteed");
	if (i >= n || !pod_of(&c[i], id->pod_uid, sizeof(id->pod_uid)))
		return CTR_UNKNOWN;
	i++;
	if (i < n && (container_id(&c[i], k8s_ctr_prefix, CTR_SHORT_ID, id->container_id,
				   sizeof(id->container_id)) ||
		      (c[i].n == 64 && container_id(&c[i], bare, 64, id->container_id,
						    sizeof(id->container_id)))))
		return CTR_K8S_CONTAINER;
	return CTR_K8S_POD;
}

static enum ctr_kind engine(const struct comp *c, size_t n, struct ctr_id *id)
{
	static const char *const docker[] = { "docker-", NULL };
	static const char *const libpod[] = { "libpod-conmon-", "libpod-", NULL };
	char *out = id->container_id;
	size_t len = sizeof(id->container_id);

	for (size_t i = 0; i < n; i++) {
		if (is(&c[i], "docker") && i + 1 < n && c[i + 1].n == 64 &&
		    container_id(&c[i + 1], bare, 64, out, len))
			return CTR_DOCKER;
		if (ends(&c[i], ".scope") && container_id(&c[i], docker, CTR_SHORT_ID, out, len))
			return CTR_DOCKER;
		if (container_id(&c[i], libpod, CTR_SHORT_ID, out, len))
			return CTR_PODMAN;
	}
	return CTR_UNKNOWN;
}

static int unit_suffix(const struct comp *c)
{
	static const char *const sfx[] = { ".service", ".scope", ".slice", ".socket", ".mount",
					   ".swap", NULL };

	for (const char *const *s = sfx; *s; s++)
		if (ends(c, *s) && c->n > strlen(*s))
			return 1;
	return 0;
}

/* session-<digits>.scope */
static int session(const struct comp *c)
{
	size_t i = 8;

	if (!starts(c, "session-") || !ends(c, ".scope") || c->n <= 8 + 6)
		return 0;
	for (; i < c->n - 6; i++)
		if (c->s[i] < '0' || c->s[i] > '9')
			return 0;
	return 1;
}

/* user-<digits>.slice */
static int user_slice(const struct comp *c)
{
	size_t i = 5;

	if (!starts(c, "user-") || !ends(c, ".slice") || c->n <= 5 + 6)
		return 0;
	for (; i < c->n - 6; i++)
		if (c->s[i] < '0' || c->s[i] > '9')
			return 0;
	return 1;
}

static enum ctr_kind systemd(const struct comp *c, size_t n, struct ctr_id *id)
{
	const struct comp *pick = NULL, *user = NULL;
	enum ctr_kind k = CTR_SYSTEMD_UNIT;

	for (size_t i = 0; i < n; i++) {
		if (session(&c[i])) {
			pick = &c[i];
			k = CTR_SYSTEMD_SESSION;
		} else if (ends(&c[i], ".service") && c[i].n > 8) {
			pick = &c[i];
			k = CTR_SYSTEMD_UNIT;
		} else if (user_slice(&c[i])) {
			user = &c[i];
		}
	}
	if (!pick && user) {
		pick = user;
		k = CTR_SYSTEMD_USER;
	}
	if (!pick && n && unit_suffix(&c[n - 1]))
		pick = &c[n - 1];
	if (!pick || pick->n >= sizeof(id->unit))
		return CTR_UNKNOWN;
	snprintf(id->unit, sizeof(id->unit), "%.*s", (int)pick->n, pick->s);
	return k;
}

enum ctr_kind ctr_parse(const char *path, struct ctr_id *id)
{
	struct comp c[MAX_COMP];
	size_t n = path ? split(path, c) : 0;
	enum ctr_kind k;

	memset(id, 0, sizeof(*id));
	k = kubernetes(c, n, id);
	if (k == CTR_UNKNOWN) {
		memset(id, 0, sizeof(*id));
		k = engine(c, n, id);
	}
	if (k == CTR_UNKNOWN) {
		memset(id, 0, sizeof(*id));
		k = systemd(c, n, id);
	}
	if (k == CTR_UNKNOWN)
		memset(id, 0, sizeof(*id));
	id->kind = k;
	return k;
}

const char *ctr_kind_name(enum ctr_kind k)
{
	static const char *const names[] = {
		[CTR_UNKNOWN] = "unknown",
		[CTR_K8S_POD] = "k8s-pod",
		[CTR_K8S_CONTAINER] = "k8s-container",
		[CTR_DOCKER] = "docker",
		[CTR_PODMAN] = "podman",
		[CTR_SYSTEMD_UNIT] = "systemd-unit",
		[CTR_SYSTEMD_USER] = "systemd-user",
		[CTR_SYSTEMD_SESSION] = "systemd-session",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* namespace/pod, or pod:<uid> */
static int pod_name(const struct ctr_id *id, char *buf, size_t len)
{
	if (id->namespace[0] && id->pod[0])
		return snprintf(buf, len, "%s/%s", id->namespace, id->pod);
	return snprintf(buf, len, "pod:%s", id->pod_uid);
}

const char *ctr_display(const struct ctr_id *id, const char *path, char *buf, size_t len)
{
	int n;

	if (!len)
		return buf;
	switch (id->kind) {
	case CTR_K8S_POD:
		pod_name(id, buf, len);
		break;
	case CTR_K8S_CONTAINER:
		n = pod_name(id, buf, len);
		if (n >= 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n, "/%.*s", CTR_SHORT_ID, id->container_id);
		break;
	case CTR_DOCKER:
	case CTR_PODMAN:
		snprintf(buf, len, "%s:%.*s", id->kind == CTR_DOCKER ? "docker" : "podman",
			 CTR_SHORT_ID, id->container_id);
		break;
	case CTR_SYSTEMD_UNIT:
	case CTR_SYSTEMD_USER:
	case CTR_SYSTEMD_SESSION:
		snprintf(buf, len, "%s", id->unit);
		break;
	default:
		snprintf(buf, len, "%s", path ? path : "?");
		break;
	}
	return buf;
}

/* ---- the pods directory ---- */

struct pod_ent {
	char *uid;			/* owned; NULL: empty slot */
	char *ns, *name;		/* owned */
};

#define POD_KEY(e) ((const char *)(e)->uid)
#define POD_USED(e) ((e)->uid != NULL)
HASHMAP_DEFINE(podmap, struct pod_ent, const char *, hash_str, POD_KEY, HASHMAP_STR_EQ, POD_USED)

struct ctr_pods {
	char *dir;
	struct podmap map;
	int scanned;
	struct timespec last;		/* CLOCK_MONOTONIC of the last read */
};

struct ctr_pods *ctr_pods_new(const char *dir)
{
	struct ctr_pods *p = calloc(1, sizeof(*p));

	if (!dir || !*dir)
		dir = getenv(CTR_PODS_ENV);
	if (!dir || !*dir)
		dir = CTR_PODS_DIR_DEFAULT;
	if (p && !(p->dir = strdup(dir))) {
		free(p);
		p = NULL;
	}
	return p;
}

static void clear(struct podmap *m)
{
	for (struct pod_ent *e = NULL; (e = podmap_next(m, e));) {
		free(e->uid);
		free(e->ns);
		free(e->name);
	}
	podmap_fini(m);
}

void ctr_pods_free(struct ctr_pods *p)
{
	if (!p)
		return;
	clear(&p->map);
	free(p->dir);
	free(p);
}

/*
 * <namespace>_<pod>_<uid>: neither a namespace (a DNS label) nor a pod name
 * (a DNS subdomain) holds '_', so the first and the last '_' split it.
 */
static void add_entry(struct podmap *m, const char *name)
{
	const char *a = strchr(name, '_'), *b = strrchr(name, '_');
	char uid[40], *ns, *pod, *key;
	struct pod_ent *e;
	int isnew;

	if (!a || a == b || a == name || b == a + 1 ||
	    !pod_uid(b + 1, strlen(b + 1), uid, sizeof(uid)) ||
	    (size_t)(a - name) >= sizeof(((struct ctr_id *)0)->namespace) ||
	    (size_t)(b - a - 1) >= sizeof(((struct ctr_id *)0)->pod))
		return;
	ns = strndup(name, (size_t)(a - name));
	pod = strndup(a + 1, (size_t)(b - a - 1));
	key = strdup(uid);
	e = ns && pod && key ? podmap_add(m, key, &isnew) : NULL;
	if (!e || !isnew) {	/* out of memory (this pod stays unnamed), or seen */
		free(ns);
		free(pod);
		free(key);
		return;
	}
	e->uid = key;
	e->ns = ns;
	e->name = pod;
}

static void scan(struct ctr_pods *p)
{
	struct podmap m = { 0 };
	DIR *d = opendir(p->dir);
	struct dirent *de;

	clock_gettime(CLOCK_MONOTONIC, &p->last);
	p->scanned = 1;
	if (!d)
		return;			/* no kubelet here: names stay unknown */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			add_entry(&m, de->d_name);
	closedir(d);
	clear(&p->map);
	p->map = m;
}

int ctr_pods_name(struct ctr_pods *p, struct ctr_id *id)
{
	struct pod_ent *e;
	struct timespec now;

	if (!p || !id->pod_uid[0])
		return 0;
	if (!p->scanned)
		scan(p);
	e = podmap_find(&p->map, id->pod_uid);
	if (!e) {
		/* a pod started since: read again, but not for every unknown UID of a window */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - p->last.tv_sec < CTR_PODS_RESCAN_S)
			return 0;
		scan(p);
		e = podmap_find(&p->map, id->pod_uid);
		if (!e)
			return 0;
	}
	snprintf(id->namespace, sizeof(id->namespace), "%s", e->ns);
	snprintf(id->pod, sizeof(id->pod), "%s", e->name);
	return 1;
}

enum ctr_kind ctr_identify(struct ctr_pods *p, const char *path, struct ctr_id *id)
{
	enum ctr_kind k = ctr_parse(path, id);

	if (k == CTR_K8S_POD || k == CTR_K8S_CONTAINER)
		ctr_pods_name(p, id);
	return k;
}
