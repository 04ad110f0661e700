#!/bin/sh
# check.sh BUILD ASAN TSAN OFF: run the whole test suite through CTest.
#   BUILD  every test (library, tool, end-to-end scripts)
#   ASAN   library and tool tests under AddressSanitizer + UBSan, then each fuzzer briefly
#   TSAN   library tests under ThreadSanitizer
#   OFF    library tests with MMAPLOCK_TRACING=OFF, MMAPLOCK_MEMCG=OFF
set -u
build=$1 asan=$2 tsan=$3 off=$4
jobs=$(nproc 2>/dev/null || echo 2)
fail=0

log=$(mktemp /tmp/mmaplock-check.XXXXXX)
trap 'rm -f "$log"' EXIT

run() {
	dir=$1; shift
	echo "== ctest in $dir $*"
	ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" >"$log.1" 2>&1 || fail=1
	cat "$log.1"
	cat "$log.1" >>"$log"
	rm -f "$log.1"
}

run "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run "$asan" -L 'lib|tool'
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run "$tsan" -L lib
run "$off" -L lib

if ls "$asan"/fuzz/fuzz-* >/dev/null 2>&1; then
	echo "== fuzzers (brief; fuzz/run.sh runs them longer)"
	FUZZ_SECONDS=${FUZZ_SECONDS:-10} sh fuzz/run.sh "$asan" || fail=1
fi

# One closing line over every tree (plain tree, ASan, TSan, OFF; ctest prints one per tree).
total=$(awk '/tests passed, .* tests failed out of/ { t += $NF; f += $4 } END { print t + 0, f + 0 }' "$log")
skipped=$(grep -c '(Skipped)$' "$log")
set -- $total
passed=$(( $1 - $2 - skipped ))
echo "check: $passed passed, $2 failed, $skipped skipped"
if [ $fail -ne 0 ]; then
	echo "make check: FAILED"
	exit 1
fi
