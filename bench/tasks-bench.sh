#!/bin/sh
# bench/tasks-bench.sh BUILD: report on many short-lived tasks (issue 10,
# "Targets"): a text trace of 60,000 tasks (bench/gen-tasks, env TASKS to
# change; 3 events each) grouped --by memcg (16 groups: the baseline),
# --by task, --by process and --by mm (60,000 groups each). Each runs REPS
# times (default 5), interleaved, output to /dev/null; per grouping the
# median wall time, the fastest run, the peak RSS (/usr/bin/time %M) and the
# ratio of the median to --by memcg's. Prints a table; the last line is
# JSON. Nothing here asserts a figure.
set -eu
build=${1:-build}
M="$build/mmaplock"
G="$build/bench/gen-tasks"
reps=${REPS:-5}
tasks=${TASKS:-60000}
for x in "$M" "$G" /usr/bin/time; do
	[ -x "$x" ] || { echo "tasks-bench: $x: not built or missing" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/mml-tbench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$G" "$tmp/t.txt" "$tasks" >/dev/null

now() { date +%s.%N; }
# run BY: one timed run of report --by BY; wall seconds (date: finer than
# time's %e) and peak KB appended
run() {
	t0=$(now)
	/usr/bin/time -f '%M' -o "$tmp/time" "$M" report "$tmp/t.txt" --by "$1" >/dev/null ||
		{ echo "tasks-bench: report --by $1 failed" >&2; exit 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }' >>"$tmp/$1.s"
	tail -n 1 "$tmp/time" >>"$tmp/$1.kb"
}
i=0
while [ $i -lt "$reps" ]; do
	printf 'tasks-bench: round %d/%d\r' $((i + 1)) "$reps" >&2
	for by in memcg task process mm; do
		run $by
	done
	i=$((i + 1))
done
printf '%40s\r' '' >&2

med() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "many tasks: $tasks tasks, $((3 * tasks)) events (bench/gen-tasks, text), median and best of $reps runs, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %9s %9s %10s %12s\n' command seconds best-s rss-MB vs-memcg
base=$(med "$tmp/memcg.s")
js=""
for by in memcg task process mm; do
	s=$(med "$tmp/$by.s")
	b=$(sort -g "$tmp/$by.s" | head -n 1)
	kb=$(sort -g "$tmp/$by.kb" | tail -n 1)
	awk -v by="$by" -v s="$s" -v b="$b" -v kb="$kb" -v base="$base" 'BEGIN {
		printf "%-22s %9.3f %9.3f %10.1f %11.1fx\n", "report --by " by, s, b, kb / 1024, s / (base > 0 ? base : 0.01) }'
	js="$js,\"${by}_s\":$s,\"${by}_best_s\":$b,\"${by}_rss_kb\":$kb"
done
echo "{\"bench\":\"tasks\",\"tasks\":$tasks,\"reps\":$reps$js}"
