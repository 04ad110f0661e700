/* SPDX-License-Identifier: MIT */
/*
 * bpf-load.h: what the two BPF users of live/ (backend-bpf.c with
 * bpf/mmaplock.bpf.c, watch-bpf.c with bpf/watch.bpf.c) share before and
 * around loading their skeletons: the programs' clock, the kernel's
 * tracepoint form read from BTF, libbpf's messages and the one-line
 * reasons ("bpf: ...") a load can fail with.
 *
 * Both objects carry each mmap_lock program twice, one a kernel form: the
 * 6.14+ one (mm, write[, success]) and the 5.11-6.13 one with a memcg_path
 * string after mm, whose programs are named *_path; bpfl_set_form() turns
 * off the autoload of the other form's.
 */
#ifndef MML_BPF_LOAD_H
#define MML_BPF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#define BPFL_NOT_BUILT	"bpf: not built (no clang, bpftool, libbpf or BTF at build time)"

/* CLOCK_MONOTONIC in ns: the clock of the programs' bpf_ktime_get_ns() */
uint64_t bpfl_now_ns(void);

#ifdef MMAPLOCK_HAVE_BPF

struct bpf_object;

struct bpfl_form {
	int path;		/* 5.11-6.13: the tracepoints carry memcg_path */
	int contention;		/* lock:contention_begin is there (5.19+) */
};

/*
 * Before a skeleton's open: the kernel's BTF is there, libbpf is quiet
 * (MMAPLOCK_BPF_DEBUG=1: its warnings and the verifier log on stderr),
 * and the form of this kernel's tracepoints. 0, or -1 with a one-line
 * reason in err.
 */
int bpfl_prepare(struct bpfl_form *f, char *err, size_t errlen);
/* After the open: the programs of the other form not loaded. */
void bpfl_set_form(struct bpf_object *obj, const struct bpfl_form *f);
/* The one-line reason of a skeleton's open (err 0: errno) or load (err < 0) failing. */
void bpfl_open_error(char *buf, size_t len);
void bpfl_load_error(int err, char *buf, size_t len);

#endif
#endif
