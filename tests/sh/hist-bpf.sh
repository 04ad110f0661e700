#!/bin/sh
# hist-bpf.sh: the latency bucket function (src/common/mml_hist.h) builds
# for BPF, so that an in-kernel back-end buckets as the tool reads: the
# header compiled with clang -target bpf inside a program that fills a
# histogram map the way such a back-end would; no #include and no
# __builtin in the header outside its non-BPF branch; the object calls no
# helper or function for the bucket (llvm-objdump, when present). Skipped
# without clang or without the BPF target. The values it computes are
# test-hist's (the shift ladder against the bit scan).
set -u
. "$(dirname "$0")/lib.sh"
SRC=${MMAPLOCK_SRC:?}
H=$SRC/src/common/mml_hist.h
need clang
clang -print-targets 2>/dev/null | grep -qw bpf || skip "clang without the bpf target"
scratch histbpf

grep -q '^#include' "$H" && bad "mml_hist.h includes a header (BPF programs have no libc)"
# __builtin only in the user-space branch (between #if ...__BPF__ and #else), comments aside
awk '/^#if .*__BPF__/ { skip = 1 } /^#else/ { skip = 0 } !skip && /__builtin/ && !/^ \*/ { print FILENAME ": " FNR ": " $0; n++ } END { exit n > 0 }' "$H" ||
	bad "mml_hist.h uses a __builtin outside its user-space branch"

cat >"$tmp/prog.c" <<'EOF'
/* what a BPF back-end does with a wait: bucket it, count it in an array map slot */
#include "mml_hist.h"

unsigned long long counts[MML_HIST_BUCKETS] __attribute__((section(".bss")));

__attribute__((section("tp/mmap_lock/mmap_lock_acquire_returned"), used))
int on_acquire(unsigned long long *ctx)
{
	unsigned int idx = mml_hist_bucket(ctx[1] - ctx[0]);

	if (idx < MML_HIST_BUCKETS)
		__sync_fetch_and_add(&counts[idx], 1);
	return 0;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
clang -target bpf -O2 -Wall -Werror -I"$SRC/src/common" -c "$tmp/prog.c" -o "$tmp/prog.o" 2>"$tmp/err" ||
	{ bad "clang -target bpf failed:"; cat "$tmp/err"; }
if [ -s "$tmp/prog.o" ]; then
	od=$(command -v llvm-objdump || ls /usr/bin/llvm-objdump-* 2>/dev/null | head -n 1)
	if [ -n "$od" ]; then
		"$od" -d "$tmp/prog.o" >"$tmp/dis" || bad "llvm-objdump failed"
		grep -q 'call' "$tmp/dis" && bad "the BPF code calls something: $(grep call "$tmp/dis" | head -n 3)"
	else
		echo "hist-bpf.sh: llvm-objdump missing: the no-call check skipped"
	fi
fi
[ $fail = 0 ] && echo "hist-bpf.sh: ok"
exit $fail
