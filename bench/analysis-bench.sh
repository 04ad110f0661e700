#!/bin/sh
# bench/analysis-bench.sh BUILD: how fast the analysis commands of issue 4
# stream (issue 4, "Benchmark": check and export at >= 10 M events/s). The
# input is report's synthetic benchmark trace (bench/gen-trace, 5 M events,
# env EVENTS to change); each command runs REPS times (default 3), output
# to /dev/null, and the median wall time gives events/s:
#   report             the baseline (per memcg)
#   report --by holder blame (the pairing hook, per-mm overlaps)
#   check              the usage verifier
#   export chrome|folded|csv
# Prints a table; the last line is JSON. Nothing here asserts a speed.
set -eu
build=${1:-build}
M="$build/mmaplock"
G="$build/bench/gen-trace"
reps=${REPS:-3}
events=${EVENTS:-5000000}
for x in "$M" "$G"; do
	[ -x "$x" ] || { echo "analysis-bench: $x: not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/mml-abench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$G" "$tmp/t.mml" "$events" >"$tmp/gen" 2>&1
n=$(sed -n 's/.*: \([0-9]*\) events.*/\1/p' "$tmp/gen")

now() { date +%s.%N; }
# bench NAME CMD...: median seconds of REPS runs into $tmp/NAME
bench() {
	name=$1
	shift
	i=0
	: >"$tmp/$name.s"
	while [ $i -lt "$reps" ]; do
		t0=$(now)
		"$@" >/dev/null 2>&1 || [ $? -eq 1 ] || { echo "analysis-bench: $* failed" >&2; exit 1; }
		t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$tmp/$name.s"
		i=$((i + 1))
	done
	sort -g "$tmp/$name.s" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' >"$tmp/$name"
}
bench report "$M" report "$tmp/t.mml"
bench holder "$M" report --by holder "$tmp/t.mml"
bench check "$M" check "$tmp/t.mml"
for f in chrome folded csv; do
	bench export_$f "$M" export "$tmp/t.mml" --format $f -o /dev/null
done

echo "analysis speed: $n events (bench/gen-trace), median of $reps runs, $(nproc) CPUs"
printf '%-24s %10s %14s\n' command seconds events/s
js=""
for k in report holder check export_chrome export_folded export_csv; do
	s=$(cat "$tmp/$k")
	r=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.000001) }')
	printf '%-24s %10.3f %14s\n' "$k" "$s" "$r"
	js="$js,\"${k}_events_per_s\":$r"
done
echo "{\"bench\":\"analysis\",\"events\":$n$js}"
