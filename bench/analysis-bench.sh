#!/bin/sh
# bench/analysis-bench.sh BUILD: how fast the analysis commands of issue 4
# stream (issue 4, "Benchmark": check and export at >= 10 M events/s). The
# input is report's synthetic benchmark trace (bench/gen-trace, 5 M events,
# env EVENTS to change); each command runs REPS times (default 5), the
# commands interleaved in each round, output to /dev/null; the median wall
# time gives events/s, the fastest run "best" events/s (what the machine
# does when nothing else runs: on a shared machine the median moves with
# the load):
#   report             the baseline (per memcg)
#   report --by holder blame (the pairing hook, per-mm overlaps)
#   check              the usage verifier
#   export chrome|folded|csv
# For chrome and csv also the output's size (one more run each, into wc -c):
# bytes per event and MB/s at the median. Prints a table; the last line is
# JSON. Nothing here asserts a speed.
set -eu
build=${1:-build}
M="$build/mmaplock"
G="$build/bench/gen-trace"
reps=${REPS:-5}
events=${EVENTS:-5000000}
for x in "$M" "$G"; do
	[ -x "$x" ] || { echo "analysis-bench: $x: not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/mml-abench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$G" "$tmp/t.mml" "$events" >"$tmp/gen" 2>&1
n=$(sed -n 's/.*: \([0-9]*\) events.*/\1/p' "$tmp/gen")

now() { date +%s.%N; }
# run NAME CMD...: one timed run, its seconds appended to $tmp/NAME.s
run() {
	name=$1
	shift
	t0=$(now)
	"$@" >/dev/null 2>&1 || [ $? -eq 1 ] || { echo "analysis-bench: $* failed" >&2; exit 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$tmp/$name.s"
}
i=0
while [ $i -lt "$reps" ]; do
	printf 'analysis-bench: round %d/%d\r' $((i + 1)) "$reps" >&2
	run report "$M" report "$tmp/t.mml"
	run holder "$M" report --by holder "$tmp/t.mml"
	run check "$M" check "$tmp/t.mml"
	for f in chrome folded csv; do
		run export_$f "$M" export "$tmp/t.mml" --format $f -o /dev/null
	done
	i=$((i + 1))
done
printf '%40s\r' '' >&2
for f in chrome csv; do		# folded is a summary: a few kB
	"$M" export "$tmp/t.mml" --format $f | wc -c >"$tmp/export_$f.bytes"
done

echo "analysis speed: $n events (bench/gen-trace), median and best of $reps runs, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-16s %9s %12s %9s %12s %9s %9s\n' command seconds events/s best-s best-ev/s bytes/ev MB/s
js=""
for k in report holder check export_chrome export_folded export_csv; do
	sort -g "$tmp/$k.s" >"$tmp/$k.sorted"
	s=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' "$tmp/$k.sorted")
	b=$(head -n 1 "$tmp/$k.sorted")
	r=$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.000001) }')
	rb=$(awk -v n="$n" -v s="$b" 'BEGIN { printf "%.0f", n / (s > 0 ? s : 0.000001) }')
	if [ -f "$tmp/$k.bytes" ]; then
		by=$(cat "$tmp/$k.bytes")
		awk -v k="$k" -v s="$s" -v r="$r" -v b="$b" -v rb="$rb" -v by="$by" -v n="$n" 'BEGIN {
			printf "%-16s %9.3f %12s %9.3f %12s %9.1f %9.0f\n", k, s, r, b, rb, by / n, by / s / 1e6 }'
		js="$js,\"${k}_events_per_s\":$r,\"${k}_best_events_per_s\":$rb,\"${k}_bytes\":$by"
	else
		printf '%-16s %9.3f %12s %9.3f %12s %9s %9s\n' "$k" "$s" "$r" "$b" "$rb" - -
		js="$js,\"${k}_events_per_s\":$r,\"${k}_best_events_per_s\":$rb"
	fi
done
echo "{\"bench\":\"analysis\",\"events\":$n,\"reps\":$reps$js}"
