#!/bin/sh
# bench/run.sh BUILD OFF: the lock benchmark of issue 2 ("Benchmark").
#
# BUILD is the normal tree (tracing ON), OFF a tree configured with
# -DMMAPLOCK_TRACING=OFF -DMMAPLOCK_MEMCG=OFF; both hold bench/bench-lock.
# Every figure is the median of REPS runs (env REPS, default 5), the
# variants interleaved so that machine noise hits them alike:
#   pthread   glibc pthread_rwlock
#   off       libmmaplock, tracing compiled out (OFF tree)
#   idle      tracing compiled in, no listener
#   probe     a counting probe registered on the three events
#   recorder  MMAPLOCK_TRACE=FILE (the library's own recorder)
# plus 2-thread contended throughput (90% and 50% reads) for pthread_rwlock,
# libmmaplock (ON, idle) and libmmaplock OFF. Prints a table with ratios and,
# as the last line, one JSON object. Nothing here asserts a timing.
set -eu
build=${1:-build}
off=${2:-build-off}
reps=${REPS:-5}
b="$build/bench/bench-lock"
o="$off/bench/bench-lock"
for x in "$b" "$o"; do
	if [ ! -x "$x" ]; then
		echo "bench/run.sh: $x: not built (make, and cmake --build $off)" >&2
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/mmaplock-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The tool's benchmarks (issue 3): recording cost and report speed; root
# only. They run first so that the last line stays the one JSON object.
if [ "$(id -u)" -eq 0 ] && [ -x "$build/mmaplock" ] && [ -d /sys/kernel/tracing/events/mmap_lock ]; then
	for t in record-bench report-bench exporter-bench; do
		sh "$(dirname "$0")/$t.sh" "$build" | tee "$tmp/$t.out"
		tail -n 1 "$tmp/$t.out" | grep '^{' >>"$tmp/tool.json" || true
		echo
	done
else
	echo "bench: tool benchmarks skipped (need root, build/mmaplock and tracefs with mmap_lock events)"
fi

# The analysis commands' speed (issue 4: report --by holder, check, export)
# on bench/gen-trace's synthetic trace: no root needed.
if [ -x "$build/mmaplock" ] && [ -x "$build/bench/gen-trace" ]; then
	sh "$(dirname "$0")/analysis-bench.sh" "$build" | tee "$tmp/analysis-bench.out"
	tail -n 1 "$tmp/analysis-bench.out" | grep '^{' >>"$tmp/tool.json" || true
	echo
fi

# report on 60,000 short-lived tasks (issue 10: memory and time per group,
# bench/gen-tasks' text trace): no root needed.
if [ -x "$build/mmaplock" ] && [ -x "$build/bench/gen-tasks" ] && [ -x /usr/bin/time ]; then
	sh "$(dirname "$0")/tasks-bench.sh" "$build" | tee "$tmp/tasks-bench.out"
	tail -n 1 "$tmp/tasks-bench.out" | grep '^{' >>"$tmp/tool.json" || true
	echo
fi

# get FILE KEY: the value of "KEY value" in FILE
get() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

i=1
while [ "$i" -le "$reps" ]; do
	printf 'bench: round %d/%d\r' "$i" "$reps" >&2
	"$b" uncontended --pthread >"$tmp/u" && get "$tmp/u" rd_ns >>"$tmp/pthread_rd" && get "$tmp/u" wr_ns >>"$tmp/pthread_wr"
	"$o" uncontended >"$tmp/u" && get "$tmp/u" rd_ns >>"$tmp/off_rd" && get "$tmp/u" wr_ns >>"$tmp/off_wr"
	"$b" uncontended >"$tmp/u" && get "$tmp/u" rd_ns >>"$tmp/idle_rd" && get "$tmp/u" wr_ns >>"$tmp/idle_wr"
	"$b" uncontended --probe --iters 2000000 >"$tmp/u" && get "$tmp/u" rd_ns >>"$tmp/probe_rd" && get "$tmp/u" wr_ns >>"$tmp/probe_wr"
	MMAPLOCK_TRACE="$tmp/rec.mml" "$b" uncontended --iters 300000 >"$tmp/u" &&
		get "$tmp/u" rd_ns >>"$tmp/recorder_rd" && get "$tmp/u" wr_ns >>"$tmp/recorder_wr"
	rm -f "$tmp/rec.mml"
	for r in 90 50; do
		"$b" contended --reads $r --pthread >"$tmp/c" && get "$tmp/c" ops_per_s >>"$tmp/rw${r}_pthread" && get "$tmp/c" min_max >>"$tmp/rw${r}_fair_pthread"
		"$b" contended --reads $r >"$tmp/c" && get "$tmp/c" ops_per_s >>"$tmp/rw${r}_mml" && get "$tmp/c" min_max >>"$tmp/rw${r}_fair_mml"
		"$o" contended --reads $r >"$tmp/c" && get "$tmp/c" ops_per_s >>"$tmp/rw${r}_off" && get "$tmp/c" min_max >>"$tmp/rw${r}_fair_off"
	done
	i=$((i + 1))
done
printf '%40s\r' '' >&2

# med NAME: the median of the figures in $tmp/NAME
med() { sort -g "$tmp/$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for k in pthread off idle probe recorder; do
	eval "${k}_rd=\$(med ${k}_rd)"
	eval "${k}_wr=\$(med ${k}_wr)"
done
for k in rw90_pthread rw90_mml rw90_off rw50_pthread rw50_mml rw50_off \
	 rw90_fair_pthread rw90_fair_mml rw90_fair_off rw50_fair_pthread rw50_fair_mml rw50_fair_off; do
	eval "$k=\$(med $k)"
done

echo "libmmaplock lock benchmark: median of $reps runs, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
awk -v prd="$pthread_rd" -v pwr="$pthread_wr" -v ord="$off_rd" -v owr="$off_wr" '
function row(name, rd, wr) {
	printf "%-28s %9.2f %9.2f %9.2fx %9.2fx %9.2fx\n", name, rd, wr, rd / prd, wr / pwr, rd / ord
}
BEGIN {
	printf "%-28s %9s %9s %10s %10s %10s\n", "uncontended lock+unlock", "read ns", "write ns", "rd/pthread", "wr/pthread", "rd/off"
}
{ row($1, $2, $3) }' <<EOT
pthread_rwlock $pthread_rd $pthread_wr
mmaplock_OFF $off_rd $off_wr
mmaplock_ON_no_listener $idle_rd $idle_wr
mmaplock_ON_counting_probe $probe_rd $probe_wr
mmaplock_ON_recorder $recorder_rd $recorder_wr
EOT
awk -v i="$idle_rd" -v r="$recorder_rd" -v p="$probe_rd" 'BEGIN {
	printf "(3 events per lock+unlock: recorder %.1f ns/event, counting probe %.1f ns/event above no listener)\n", (r - i) / 3, (p - i) / 3 }'
echo
awk -v p90="$rw90_pthread" -v p50="$rw50_pthread" '
BEGIN { printf "%-28s %14s %10s %12s\n", "contended, 2 threads", "ops/s", "vs pthread", "min/max thr" }
{ printf "%-28s %14.0f %9.2fx %12.3f\n", $1, $2, $2 / ($1 ~ /^rw90/ ? p90 : p50), $3 }' <<EOT
rw90_pthread_rwlock $rw90_pthread $rw90_fair_pthread
rw90_mmaplock_ON $rw90_mml $rw90_fair_mml
rw90_mmaplock_OFF $rw90_off $rw90_fair_off
rw50_pthread_rwlock $rw50_pthread $rw50_fair_pthread
rw50_mmaplock_ON $rw50_mml $rw50_fair_mml
rw50_mmaplock_OFF $rw50_off $rw50_fair_off
EOT
echo
{
printf '{"reps":%s,"pthread_rd_ns":%s,"off_rd_ns":%s,"idle_rd_ns":%s,"probe_rd_ns":%s,"recorder_rd_ns":%s,' \
	"$reps" "$pthread_rd" "$off_rd" "$idle_rd" "$probe_rd" "$recorder_rd"
printf '"pthread_wr_ns":%s,"off_wr_ns":%s,"idle_wr_ns":%s,"probe_wr_ns":%s,"recorder_wr_ns":%s,' \
	"$pthread_wr" "$off_wr" "$idle_wr" "$probe_wr" "$recorder_wr"
printf '"rw90_ops_per_s_pthread":%s,"rw90_ops_per_s_mml":%s,"rw90_ops_per_s_off":%s,' \
	"$rw90_pthread" "$rw90_mml" "$rw90_off"
printf '"rw50_ops_per_s_pthread":%s,"rw50_ops_per_s_mml":%s,"rw50_ops_per_s_off":%s}\n' \
	"$rw50_pthread" "$rw50_mml" "$rw50_off"
} >"$tmp/lib.json"

# The last line: one JSON object, the library's keys at the top level and the
# tool's benchmarks (when they ran) under "record", "report", "exporter",
# "analysis" and "tasks".
if [ -s "$tmp/tool.json" ] && command -v jq >/dev/null 2>&1; then
	jq -c -s '.[0] + {record: (.[1:] | map(select(.bench == "record")) | .[0]),
			  report: (.[1:] | map(select(.bench == "report")) | .[0]),
			  exporter: (.[1:] | map(select(.bench == "exporter")) | .[0]),
			  analysis: (.[1:] | map(select(.bench == "analysis")) | .[0]),
			  tasks: (.[1:] | map(select(.bench == "tasks")) | .[0])}' \
		"$tmp/lib.json" "$tmp/tool.json"
else
	cat "$tmp/lib.json"
fi
