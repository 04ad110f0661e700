#!/bin/sh
# bench/report-ab.sh FILE N BIN...: `BIN report FILE` for each BIN in
# turn, N rounds (the binaries alternated, so that a change in the
# machine's load falls on all of them alike), output thrown away; then
# per BIN the median wall time and the median CPU time (user + system,
# every thread; perf stat's task-clock), in ms, and the load average.
# For comparing a change with the binary before it (copy it aside first):
#   sh bench/report-ab.sh /tmp/tdat/d3.dat 9 /tmp/old/mmaplock build/mmaplock
set -eu
[ $# -ge 3 ] || { echo "usage: report-ab.sh FILE N BIN..." >&2; exit 2; }
command -v perf >/dev/null || { echo "report-ab: perf missing" >&2; exit 1; }
f=$1 n=$2
shift 2
tmp=$(mktemp -d /tmp/mml-report-ab.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
echo "report-ab: $(basename "$f"), $n rounds, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ $i -lt "$n" ]; do
	k=0
	for b; do
		t0=$(date +%s%N)
		perf stat -x, -e task-clock -o "$tmp/p" "$b" report "$f" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo "$(((t1 - t0) / 1000000)) $(awk -F, '/task-clock/ { print $1 }' "$tmp/p")" >>"$tmp/r$k"
		k=$((k + 1))
	done
	i=$((i + 1))
done
# med COLUMN FILE: the median of a column
med() { awk -v c="$1" '{ print $c }' "$2" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
k=0
for b; do
	printf '%-40s wall %5d ms  cpu %7.1f ms\n' "$b" "$(med 1 "$tmp/r$k")" "$(med 2 "$tmp/r$k")"
	k=$((k + 1))
done
echo "report-ab: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
