#!/bin/sh
# bench/record-bench.sh BUILD: the cost of recording (issue 3, "Benchmark").
# The op rate of `mmaplock stress` (DUR seconds, default 3; REPS rounds,
# default 3, medians) in four set-ups, interleaved in each round:
#   untraced   no mmap_lock event enabled anywhere
#   kernel     the events enabled in a tracefs instance, nobody reading:
#              the kernel's own cost of the tracepoints
#   record     under `mmaplock record` (draining and writing the file)
#   stack      under `mmaplock record --stack` (kernel stacks of the lock takers)
#   perf       under `perf record -e 'mmap_lock:*' -a`
#   perf-g     the same with callchains (-g): perf's way to stacks
#   base       when BASE names another mmaplock binary (an older build):
#              under `$BASE record`, the same workload, in the same rounds
# PERF=0 leaves perf out. Prints ops/s, ratios to untraced and to kernel,
# and lost events of record and perf; the last line is one JSON object.
# Needs root.
set -eu
. "$(dirname "$0")/lib.sh"	# bench_init, rate, med, bench_baselines
bench_init record-bench "${1:-build}"

havep=0
command -v perf >/dev/null && [ "${PERF:-1}" != 0 ] && havep=1
base=${BASE:-}
[ -z "$base" ] || [ -x "$base" ] || { echo "record-bench: BASE=$base: not executable" >&2; exit 1; }
i=1
while [ $i -le $reps ]; do
	printf 'record-bench: round %d/%d\r' $i $reps >&2
	bench_baselines		# untraced, kernel

	"$M" record -o $tmp/r.mml -- "$M" stress -d $dur >$tmp/o 2>$tmp/e && rate $tmp/o >>$tmp/record
	sed -n 's/.*events, \([0-9]*\) lost.*/\1/p' $tmp/e >>$tmp/record_lost
	sed -n 's/.*: \([0-9]*\) events,.*/\1/p' $tmp/e >>$tmp/record_events
	rm -f $tmp/r.mml

	if [ -n "$base" ]; then
		"$base" record -o $tmp/r.mml -- "$M" stress -d $dur >$tmp/o 2>$tmp/e && rate $tmp/o >>$tmp/base
		sed -n 's/.*events, \([0-9]*\) lost.*/\1/p' $tmp/e >>$tmp/base_lost
		rm -f $tmp/r.mml
	fi

	"$M" record --stack -o $tmp/r.mml -- "$M" stress -d $dur >$tmp/o 2>$tmp/e && rate $tmp/o >>$tmp/stack
	sed -n 's/.*events, \([0-9]*\) lost.*/\1/p' $tmp/e >>$tmp/stack_lost
	rm -f $tmp/r.mml

	if [ $havep -eq 1 ]; then
		perf record -q -e 'mmap_lock:*' -a -o $tmp/perf.data -- "$M" stress -d $dur >$tmp/o 2>$tmp/e &&
			rate $tmp/o >>$tmp/perf || havep=0
		# perf says "Processed N events and lost M chunks" / "lost N events"
		perf report -i $tmp/perf.data --stats 2>/dev/null | awk '/LOST/ { s += $NF } END { print s + 0 }' >>$tmp/perf_lost
		rm -f $tmp/perf.data
		perf record -q -g -e 'mmap_lock:*' -a -o $tmp/perf.data -- "$M" stress -d $dur >$tmp/o 2>$tmp/e &&
			rate $tmp/o >>$tmp/perfg
		perf report -i $tmp/perf.data --stats 2>/dev/null | awk '/LOST/ { s += $NF } END { print s + 0 }' >>$tmp/perfg_lost
		rm -f $tmp/perf.data
	fi
	i=$((i + 1))
done
printf '\n' >&2
u=$(med $tmp/untraced); k=$(med $tmp/kernel); r=$(med $tmp/record); st=$(med $tmp/stack)
sl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/stack_lost)
rl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/record_lost); re=$(med $tmp/record_events)
p=0; pl=0; pg=0; pgl=0
[ -s $tmp/perf ] 2>/dev/null && p=$(med $tmp/perf) && pl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/perf_lost)
[ -s $tmp/perfg ] 2>/dev/null && pg=$(med $tmp/perfg) && pgl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/perfg_lost)
printf '%-10s %12s %10s %10s %10s\n' setup ops/s vs-untr vs-kernel lost
printf '%-10s %12.0f %10s %10s %10s\n' untraced "$u" 1.00 - -
awk -v n=kernel -v x="$k" -v u="$u" -v k="$k" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, "-" }'
awk -v n=record -v x="$r" -v u="$u" -v k="$k" -v l="$rl" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, l }'
[ -n "$base" ] && awk -v n=base -v x="$(med $tmp/base)" -v u="$u" -v k="$k" -v l="$(awk '{ s += $1 } END { print s + 0 }' $tmp/base_lost)" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, l }'
awk -v n=stack -v x="$st" -v u="$u" -v k="$k" -v l="$sl" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, l }'
[ "$p" != 0 ] && awk -v n=perf -v x="$p" -v u="$u" -v k="$k" -v l="$pl" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, l }'
[ "$pg" != 0 ] && awk -v n=perf-g -v x="$pg" -v u="$u" -v k="$k" -v l="$pgl" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / k, l }'
awk -v r="$r" -v s="$st" 'BEGIN { printf "record --stack: %.3f of record without stacks\n", s / r }'
echo "record: median $re events per ${dur}s run, lost $rl in $reps runs"
b=0
[ -n "$base" ] && b=$(med $tmp/base)
printf '{"bench":"record","base_ops":%s,"dur_s":%s,"reps":%s,"untraced_ops":%s,"kernel_ops":%s,"record_ops":%s,"record_stack_ops":%s,"perf_ops":%s,"perf_g_ops":%s,"record_lost":%s,"record_stack_lost":%s,"perf_lost":%s,"perf_g_lost":%s,"record_events":%s}\n' \
	"$b" "$dur" "$reps" "$u" "$k" "$r" "$st" "$p" "$pg" "$rl" "$sl" "$pl" "$pgl" "$re"
