#!/bin/sh
# fuzz/run.sh [ASAN_BUILD]: run every libFuzzer target for FUZZ_SECONDS each
# (default 60), starting from the seed corpus in tests/fixtures.
set -u
cd "$(dirname "$0")/.."
dir=${1:-build-asan}
secs=${FUZZ_SECONDS:-60}
if [ ! -d "$dir/fuzz" ]; then
	CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DMMAPLOCK_SANITIZE=address >/dev/null
	cmake --build "$dir" -j "$(nproc)" >/dev/null || exit 1
fi
fail=0
for f in "$dir"/fuzz/fuzz-*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$(mktemp -d)
	cp tests/fixtures/* "$corpus"/ 2>/dev/null
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 "$corpus" \
		>"$corpus.log" 2>&1; then
		echo "fuzz: $name: ok (${secs}s, $(grep -c . "$corpus.log") log lines)"
	else
		echo "fuzz: $name: FAILED, log:"; tail -40 "$corpus.log"; fail=1
	fi
	rm -rf "$corpus" "$corpus.log"
done
exit $fail
