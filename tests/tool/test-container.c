/* SPDX-License-Identifier: MIT */
/*
 * test-container: the memcg path -> container identity parser
 * (container.h) on paths as the runtimes write them: kubelet with the
 * cgroupfs and the systemd driver (cgroup v1 and v2 write the same
 * relative paths), every QoS class, containerd, CRI-O, dockershim, Docker,
 * Podman, systemd units, user slices and sessions; every field exact.
 * Shapes that are none of these stay unknown with every field empty. Then
 * the pods directory reader names pods from <namespace>_<pod>_<uid>
 * directories, and the display names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "test-util.h"
#include "container.h"

#define UID "6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8f"
#define UID_ "6f1c2b9e_0c1d_4f5a_9b2e_3a4b5c6d7e8f"
#define ID "4f9d0c8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define STATIC_UID "7f8d0d1c2a3b4c5d6e7f8091a2b3c4d5"

static const struct {
	const char *path;
	enum ctr_kind kind;
	const char *qos, *pod_uid, *container_id, *unit;
} cases[] = {
	/* kubelet, cgroupfs driver (v1 memory hierarchy or v2: the same relative path) */
	{ "/kubepods/burstable/pod" UID "/" ID, CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	{ "/kubepods/besteffort/pod" UID "/" ID, CTR_K8S_CONTAINER, "besteffort", UID, ID, "" },
	{ "/kubepods/pod" UID "/" ID, CTR_K8S_CONTAINER, "guaranteed", UID, ID, "" },
	{ "/kubepods/burstable/pod" UID, CTR_K8S_POD, "burstable", UID, "", "" },
	{ "/kubepods/pod" UID, CTR_K8S_POD, "guaranteed", UID, "", "" },
	{ "/kubepods/burstable/pod" UID "/crio-" ID, CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	{ "/kubepods/burstable/pod" UID "/crio-conmon-" ID, CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	/* a cgroup inside a container (nested cgroups of the workload) */
	{ "/kubepods/burstable/pod" UID "/" ID "/worker", CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	/* static pod: the UID is the manifest's hash, 32 hex digits */
	{ "/kubepods/burstable/pod" STATIC_UID "/" ID, CTR_K8S_CONTAINER, "burstable", STATIC_UID, ID, "" },
	/* kind / k3s: kubepods nested under the node's own cgroup */
	{ "/kubelet/kubepods/besteffort/pod" UID "/" ID, CTR_K8S_CONTAINER, "besteffort", UID, ID, "" },
	/* kubelet, systemd driver: containerd, CRI-O, cri-dockerd */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	  CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" ID ".scope",
	  CTR_K8S_CONTAINER, "besteffort", UID, ID, "" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	  CTR_K8S_CONTAINER, "guaranteed", UID, ID, "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/docker-" ID ".scope",
	  CTR_K8S_CONTAINER, "burstable", UID, ID, "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
	  CTR_K8S_POD, "burstable", UID, "", "" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice", CTR_K8S_POD, "guaranteed", UID, "", "" },
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	  CTR_K8S_CONTAINER, "besteffort", UID, ID, "" },
	/* Docker: cgroupfs driver, systemd driver */
	{ "/docker/" ID, CTR_DOCKER, "", "", ID, "" },
	{ "/system.slice/docker-" ID ".scope", CTR_DOCKER, "", "", ID, "" },
	/* Podman: rootful, rootless, cgroupfs manager, conmon, the container's own subgroup */
	{ "/machine.slice/libpod-" ID ".scope", CTR_PODMAN, "", "", ID, "" },
	{ "/machine.slice/libpod-" ID ".scope/container", CTR_PODMAN, "", "", ID, "" },
	{ "/machine.slice/libpod-conmon-" ID2 ".scope", CTR_PODMAN, "", "", ID2, "" },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	  CTR_PODMAN, "", "", ID, "" },
	{ "/libpod_parent/libpod-" ID, CTR_PODMAN, "", "", ID, "" },
	/* systemd */
	{ "/system.slice/nginx.service", CTR_SYSTEMD_UNIT, "", "", "", "nginx.service" },
	{ "/system.slice/system-getty.slice/getty@tty1.service", CTR_SYSTEMD_UNIT, "", "", "",
	  "getty@tty1.service" },
	{ "/system.slice/containerd.service", CTR_SYSTEMD_UNIT, "", "", "", "containerd.service" },
	{ "/user.slice/user-1000.slice", CTR_SYSTEMD_USER, "", "", "", "user-1000.slice" },
	{ "/user.slice/user-1000.slice/session-3.scope", CTR_SYSTEMD_SESSION, "", "", "",
	  "session-3.scope" },
	{ "/user.slice/user-1000.slice/user@1000.service", CTR_SYSTEMD_UNIT, "", "", "",
	  "user@1000.service" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope",
	  CTR_SYSTEMD_UNIT, "", "", "", "user@1000.service" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service", CTR_SYSTEMD_UNIT,
	  "", "", "", "dbus.service" },
	{ "/init.scope", CTR_SYSTEMD_UNIT, "", "", "", "init.scope" },
	{ "/system.slice", CTR_SYSTEMD_UNIT, "", "", "", "system.slice" },
	/* unknown shapes: nothing invented */
	{ "/", CTR_UNKNOWN, "", "", "", "" },
	{ "", CTR_UNKNOWN, "", "", "", "" },
	{ "/m", CTR_UNKNOWN, "", "", "", "" },
	{ "/b/c", CTR_UNKNOWN, "", "", "", "" },
	{ "/kubepods", CTR_UNKNOWN, "", "", "", "" },
	{ "/kubepods/burstable", CTR_UNKNOWN, "", "", "", "" },
	/* the QoS slice itself is no pod, but it is a systemd unit */
	{ "/kubepods.slice/kubepods-burstable.slice", CTR_SYSTEMD_UNIT, "", "", "",
	  "kubepods-burstable.slice" },
	{ "/kubepods/burstable/podnotauid", CTR_UNKNOWN, "", "", "", "" },
	{ "/kubepods/burstable/pod6f1c2b9e-0c1d-4f5a-9b2e-3a4b5c6d7e8", CTR_UNKNOWN, "", "", "", "" },
	{ "/docker", CTR_UNKNOWN, "", "", "", "" },
	{ "/docker/notanid", CTR_UNKNOWN, "", "", "", "" },
	{ "/docker/" ID2 "0", CTR_UNKNOWN, "", "", "", "" },	/* 65 digits */
	{ "/system.slice/docker-xyz.scope", CTR_SYSTEMD_UNIT, "", "", "", "docker-xyz.scope" },
	{ "/user-abc.slice", CTR_SYSTEMD_UNIT, "", "", "", "user-abc.slice" },
	{ "/.service", CTR_UNKNOWN, "", "", "", "" },
	{ "/a.service.d", CTR_UNKNOWN, "", "", "", "" },
	{ "/mmaplock-test-ab12", CTR_UNKNOWN, "", "", "", "" },
};

static void table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ctr_id id;
		enum ctr_kind k = ctr_parse(cases[i].path, &id);

		CHECK_SOFT(k == cases[i].kind && id.kind == k, "%s: kind %s, expected %s",
			   cases[i].path, ctr_kind_name(k), ctr_kind_name(cases[i].kind));
		CHECK_SOFT(!strcmp(id.qos, cases[i].qos), "%s: qos '%s'", cases[i].path, id.qos);
		CHECK_SOFT(!strcmp(id.pod_uid, cases[i].pod_uid), "%s: pod_uid '%s'", cases[i].path,
			   id.pod_uid);
		CHECK_SOFT(!strcmp(id.container_id, cases[i].container_id), "%s: container_id '%s'",
			   cases[i].path, id.container_id);
		CHECK_SOFT(!strcmp(id.unit, cases[i].unit), "%s: unit '%s'", cases[i].path, id.unit);
		CHECK_SOFT(!id.namespace[0] && !id.pod[0], "%s: a name without the pods dir",
			   cases[i].path);
	}
	struct ctr_id id;
	CHECK_EQ(ctr_parse(NULL, &id), CTR_UNKNOWN);
}

static void display(void)
{
	struct ctr_id id;
	char b[512];

	ctr_parse("/kubepods/burstable/pod" UID "/" ID, &id);
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "pod:" UID "/4f9d0c8e7a6b");
	strcpy(id.namespace, "shop");
	strcpy(id.pod, "cart-7d9f8b6c5-x2x4z");
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "shop/cart-7d9f8b6c5-x2x4z/4f9d0c8e7a6b");
	ctr_parse("/kubepods/pod" UID, &id);
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "pod:" UID);
	ctr_parse("/docker/" ID, &id);
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "docker:4f9d0c8e7a6b");
	ctr_parse("/machine.slice/libpod-" ID2 ".scope", &id);
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "podman:0123456789ab");
	ctr_parse("/system.slice/nginx.service", &id);
	CHECK_STR(ctr_display(&id, NULL, b, sizeof(b)), "nginx.service");
	ctr_parse("/b/c", &id);
	CHECK_STR(ctr_display(&id, "/b/c", b, sizeof(b)), "/b/c");
	/* a small buffer is cut, not overrun */
	ctr_parse("/docker/" ID, &id);
	CHECK_STR(ctr_display(&id, NULL, b, 8), "docker:");
}

static void mkdirf(const char *dir, const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK(mkdir(p, 0755) == 0);
}

static void pods_dir(void)
{
	char dir[] = "/tmp/test-container-XXXXXX", cmd[128];
	struct ctr_pods *p;
	struct ctr_id id;

	CHECK(mkdtemp(dir));
	mkdirf(dir, "shop_cart-7d9f8b6c5-x2x4z_" UID);
	mkdirf(dir, "kube-system_etcd-node1_" STATIC_UID);
	mkdirf(dir, "junk");
	mkdirf(dir, "a_b_notauid");
	p = ctr_pods_new(dir);
	CHECK(p);
	/* systemd driver: the UID with '_' finds the directory's '-' */
	ctr_identify(p, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		     ".slice/cri-containerd-" ID ".scope", &id);
	CHECK_STR(id.namespace, "shop");
	CHECK_STR(id.pod, "cart-7d9f8b6c5-x2x4z");
	ctr_identify(p, "/kubepods/burstable/pod" STATIC_UID "/" ID, &id);
	CHECK_STR(id.namespace, "kube-system");
	CHECK_STR(id.pod, "etcd-node1");
	/* an unknown UID: no name, the rest stays */
	ctr_identify(p, "/kubepods/pod" "00000000-0000-0000-0000-000000000000", &id);
	CHECK_EQ(id.kind, CTR_K8S_POD);
	CHECK_STR(id.namespace, "");
	CHECK_STR(id.pod, "");
	/* not a pod: never named */
	ctr_identify(p, "/docker/" ID, &id);
	CHECK_STR(id.namespace, "");
	ctr_pods_free(p);
	/* a pod started after a reader's first read is named by a new reader */
	mkdirf(dir, "default_late_00000000-0000-0000-0000-000000000000");
	p = ctr_pods_new(dir);
	ctr_identify(p, "/kubepods/pod" "00000000_0000_0000_0000_000000000000", &id);
	CHECK_STR(id.pod, "late");
	ctr_pods_free(p);
	/* no directory: no names, no error */
	p = ctr_pods_new("/nonexistent/pods");
	CHECK_EQ(ctr_identify(p, "/kubepods/pod" UID, &id), CTR_K8S_POD);
	CHECK_STR(id.pod, "");
	ctr_pods_free(p);
	ctr_pods_free(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	table();
	display();
	pods_dir();
	if (test_failures)
		return 1;
	printf("test-container: ok\n");
	return 0;
}
