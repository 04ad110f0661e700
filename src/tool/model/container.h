/* SPDX-License-Identifier: MIT */
/*
 * container.h: who a memory cgroup belongs to, as people name it: the
 * Kubernetes pod and container, the Docker or Podman container, the
 * systemd unit, user slice or session. One parser, from the memcg path
 * alone, shared by report (--by container|pod|unit, JSON, CSV, HTML), top
 * and the exporter's labels; docs/CONTAINERS.md lists the shapes.
 *
 * A path says the pod UID but not the pod's name: the kubelet's log
 * directories (/var/log/pods/<namespace>_<pod>_<uid>/) do, and ctr_pods
 * reads them (once, cached, again when an unknown UID shows up, at most
 * every CTR_PODS_RESCAN_S seconds).
 */
#ifndef MML_CONTAINER_H
#define MML_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

enum ctr_kind {
	CTR_UNKNOWN,		/* none of the shapes below: the path is the name */
	CTR_K8S_POD,		/* a pod's own cgroup (no container below it named) */
	CTR_K8S_CONTAINER,	/* a container of a pod (or a cgroup inside one) */
	CTR_DOCKER,		/* /docker/<id>, docker-<id>.scope */
	CTR_PODMAN,		/* libpod-<id>.scope, libpod-conmon-<id>.scope */
	CTR_SYSTEMD_UNIT,	/* <unit>.service (the deepest), other .scope/.slice units */
	CTR_SYSTEMD_USER,	/* user-<uid>.slice (nothing deeper named) */
	CTR_SYSTEMD_SESSION,	/* session-N.scope */
};

#define CTR_ID_MAX	128	/* container ids are 64 hex digits; room for odd runtimes */
#define CTR_SHORT_ID	12	/* hex digits shown for an id, as docker ps does */

struct ctr_id {
	enum ctr_kind kind;
	char qos[16];			/* burstable, besteffort, guaranteed; "" outside Kubernetes */
	char pod_uid[40];		/* with dashes (the kubelet's systemd driver writes '_') */
	char container_id[CTR_ID_MAX + 1];	/* the full id, hex */
	char unit[256];			/* systemd unit name (systemd kinds only) */
	char namespace[64];		/* from the pods directory; "" when not known */
	char pod[256];			/* the pod's name, idem */
};

/*
 * Parse a memcg path (hierarchy-relative, "/kubepods/burstable/pod.../id",
 * cgroup v1 or v2, either kubelet cgroup driver) into *id. Returns the kind
 * (also in id->kind); CTR_UNKNOWN leaves every field empty. NULL is unknown.
 */
enum ctr_kind ctr_parse(const char *path, struct ctr_id *id);

/* "k8s-container", "k8s-pod", "docker", "podman", "systemd-unit", "systemd-user", "systemd-session", "unknown". */
const char *ctr_kind_name(enum ctr_kind k);

/*
 * The name to show for id: "namespace/pod/<12 hex>" (container),
 * "namespace/pod" (pod); without the pods directory's names "pod:<uid>"
 * stands for namespace/pod; "docker:<12 hex>", "podman:<12 hex>"; the unit
 * for systemd kinds; path (or "?") for an unknown one. Into buf; returns buf.
 */
const char *ctr_display(const struct ctr_id *id, const char *path, char *buf, size_t len);

/* The pods directory reader. */
struct ctr_pods;

#define CTR_PODS_DIR_DEFAULT	"/var/log/pods"
#define CTR_PODS_ENV		"MMAPLOCK_PODS_DIR"	/* overrides the default */
#define CTR_PODS_RESCAN_S	5	/* an unknown UID reads the directory again at most this often */

/*
 * A reader of dir (NULL: $MMAPLOCK_PODS_DIR, else CTR_PODS_DIR_DEFAULT).
 * Nothing is read until the first lookup; a missing directory is no error
 * (names stay unknown). NULL: out of memory.
 */
struct ctr_pods *ctr_pods_new(const char *dir);
void ctr_pods_free(struct ctr_pods *p);	/* NULL is fine */

/*
 * Fill id->namespace and id->pod from id->pod_uid when the directory names
 * that pod. Returns 1 when named, 0 when not (no UID, unknown UID, no
 * directory). p may be NULL (then 0).
 */
int ctr_pods_name(struct ctr_pods *p, struct ctr_id *id);

/* ctr_parse, then ctr_pods_name: the identity every output uses. */
enum ctr_kind ctr_identify(struct ctr_pods *p, const char *path, struct ctr_id *id);

#endif
