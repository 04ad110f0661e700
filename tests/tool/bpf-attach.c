/* SPDX-License-Identifier: MIT */
/*
 * bpf-attach.c: a test helper: load a BPF object, store VALUE in slot 0 of
 * its array map "target", attach every program, say "attached" on stderr,
 * and on SIGTERM or SIGINT detach and print slot 0 of its map "calls".
 * The links are this process's descriptors: nothing outlives it.
 * usage: bpf-attach OBJ VALUE
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_link *links[8];
	struct bpf_map *m;
	unsigned long long v, n = 0;
	__u32 k = 0;
	int nl = 0, err;

	if (argc != 3) {
		fprintf(stderr, "usage: bpf-attach OBJ VALUE\n");
		return 2;
	}
	v = strtoull(argv[2], NULL, 10);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bpf-attach: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((err = bpf_object__load(obj))) {
		fprintf(stderr, "bpf-attach: %s: the kernel refused it: %s\n", argv[1], strerror(-err));
		return 77;
	}
	if (!(m = bpf_object__find_map_by_name(obj, "target")) ||
	    bpf_map_update_elem(bpf_map__fd(m), &k, &v, BPF_ANY)) {
		fprintf(stderr, "bpf-attach: %s: no map target\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (nl == 8 || !(links[nl] = bpf_program__attach(prog))) {
			fprintf(stderr, "bpf-attach: %s: cannot attach\n", bpf_program__name(prog));
			return 1;
		}
		nl++;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "bpf-attach: attached\n");
	while (!stop)
		pause();
	while (nl)
		bpf_link__destroy(links[--nl]);
	if ((m = bpf_object__find_map_by_name(obj, "calls")))
		bpf_map_lookup_elem(bpf_map__fd(m), &k, &n);
	printf("%llu\n", n);
	bpf_object__close(obj);
	return 0;
}
