/* SPDX-License-Identifier: MIT */
/*
 * bpf-load.c: what the BPF back-end and watch's BPF source share around
 * libbpf (bpf-load.h). The form is read from the kernel's BTF, not from
 * tracefs: the btf_trace_ typedef of a tracepoint is its programs' type,
 * so its parameter count tells the two forms apart even where tracefs is
 * not mounted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bpf-load.h"

uint64_t bpfl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#ifdef MMAPLOCK_HAVE_BPF

#include <bpf/libbpf.h>
#include <bpf/btf.h>

#define BTF_VMLINUX	"/sys/kernel/btf/vmlinux"

static int quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	if ((l == LIBBPF_WARN || l == LIBBPF_DEBUG) && getenv("MMAPLOCK_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* Parameters of the tracepoint's btf_trace_ typedef (ctx included); -1: none. */
static int tp_params(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);	/* pointer */
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);	/* func proto */
	return t && btf_is_func_proto(t) ? btf_vlen(t) : -1;
}

int bpfl_prepare(struct bpfl_form *f, char *err, size_t errlen)
{
	struct btf *btf;
	int n;

	if (access(BTF_VMLINUX, R_OK)) {
		snprintf(err, errlen, "bpf: no BTF at %s (CONFIG_DEBUG_INFO_BTF)", BTF_VMLINUX);
		return -1;
	}
	libbpf_set_print(quiet);
	if (!(btf = btf__load_vmlinux_btf())) {
		snprintf(err, errlen, "bpf: %s: cannot read the kernel's BTF", BTF_VMLINUX);
		return -1;
	}
	n = tp_params(btf, "mmap_lock_acquire_returned");
	f->contention = tp_params(btf, "contention_begin") >= 0;
	btf__free(btf);
	if (n < 0) {
		snprintf(err, errlen, "bpf: the kernel has no mmap_lock tracepoints (5.11+, CONFIG_TRACING)");
		return -1;
	}
	f->path = n == 5;	/* ctx, mm, memcg_path, write, success */
	return 0;
}

void bpfl_set_form(struct bpf_object *obj, const struct bpfl_form *f)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		const char *name = bpf_program__name(prog);
		size_t n = strlen(name);

		if (strncmp(sec, "tp_btf/mmap_lock_", 17))
			continue;	/* not a form's (contention_begin) */
		bpf_program__set_autoload(prog, (n > 5 && !strcmp(name + n - 5, "_path")) == !!f->path);
	}
}

void bpfl_open_error(char *buf, size_t len)
{
	snprintf(buf, len, "bpf: cannot open the programs: %s", strerror(errno));
}

void bpfl_load_error(int err, char *buf, size_t len)
{
	if (err == -EPERM || err == -EACCES)
		snprintf(buf, len, "bpf: no privileges to load BPF programs (root, or CAP_BPF and CAP_PERFMON)");
	else
		snprintf(buf, len, "bpf: the kernel refused the programs: %s (MMAPLOCK_BPF_DEBUG=1 shows the verifier log)",
			 strerror(-err));
}

#endif
