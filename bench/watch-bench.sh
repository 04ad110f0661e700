#!/bin/sh
# bench/watch-bench.sh BUILD: the cost of `mmaplock watch` while nothing
# crosses its threshold (issue 13, "Benchmark"). The op rate of
# `mmaplock stress` (DUR seconds, default 3; REPS rounds, default 3,
# medians), interleaved in each round:
#   untraced   no mmap_lock event enabled anywhere
#   kernel     the events enabled in a tracefs instance, nobody reading
#   record     under `mmaplock record` (the back-end watch uses, writing a file)
#   stack      under `mmaplock record --stack` (a stack on every lock taking)
#   watch      under `mmaplock watch --backend tracefs --wait-over 60000`
#              (no incident: the ring, the live pairing, stacks of write
#              acquisitions and contended waits only)
#   watchbpf   under `mmaplock watch --backend bpf --wait-over 60000` (no
#              incident: every event into the kernel's per-CPU ring, nothing
#              read; skipped, 0, where BPF does not load)
# and the per-event cost on an uncontended read-lock loop (bench/mincore-loop,
# CALLS mincore calls, three events each: (traced - untraced) ns per call / 3)
# untraced, with the events on in a tracefs instance nobody reads, and under
# watch --backend bpf; plus the CPU time (user + system) of the recorder (its whole run) and of
# watch (during the stress run) per second of stress. Prints ops/s and ratios; the last line is one JSON object.
# Needs root. Nothing here asserts a timing.
set -eu
. "$(dirname "$0")/lib.sh"	# bench_init, rate, med, bench_baselines
bench_init watch-bench "${1:-build}"
L="${1:-build}/bench/mincore-loop"
calls=${CALLS:-1000000}
wp=
bench_exit='[ -n "$wp" ] && kill $wp 2>/dev/null'

# cpu FILE: user + system seconds from /usr/bin/time -f '%U %S'
cpu() { tail -n 1 "$1" | awk '{ print $1 + $2 }'; }
# pcpu PID: user + system seconds of a running process so far (/proc/PID/stat)
pcpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' /proc/$1/stat; }

i=1
while [ $i -le $reps ]; do
	printf 'watch-bench: round %d/%d\r' $i $reps >&2
	bench_baselines		# untraced, kernel
	if [ -x "$L" ]; then
		"$L" $calls >>$tmp/loop_untraced
		bench_loop_kernel "$L" $calls $tmp/loop_kernel
	fi

	/usr/bin/time -f '%U %S' -o $tmp/t "$M" record -o $tmp/r.mml -- "$M" stress -d $dur >$tmp/o 2>$tmp/e &&
		rate $tmp/o >>$tmp/record
	echo "$(cpu $tmp/t) $dur" | awk '{ print $1 / $2 }' >>$tmp/record_cpu
	sed -n 's/.*events, \([0-9]*\) lost.*/\1/p' $tmp/e >>$tmp/record_lost
	rm -f $tmp/r.mml

	"$M" record --stack -o $tmp/r.mml -- "$M" stress -d $dur >$tmp/o 2>$tmp/e && rate $tmp/o >>$tmp/stack
	rm -f $tmp/r.mml

	"$M" watch --backend tracefs --wait-over 60000 -o $tmp/inc >$tmp/w.out 2>$tmp/w.err &
	wp=$!
	n=0
	while ! ls -d $T/instances/mmaplock-* >/dev/null 2>&1 && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	sleep 0.3
	c0=$(pcpu $wp)
	"$M" stress -d $dur >$tmp/o && rate $tmp/o >>$tmp/watch
	echo "$(pcpu $wp) $c0 $dur" | awk '{ print ($1 - $2) / $3 }' >>$tmp/watch_cpu
	kill -INT $wp; wait $wp || true; wp=
	sed -n 's/.* events, \([0-9]*\) lost.*/\1/p' $tmp/w.err >>$tmp/watch_lost
	[ -s $tmp/w.out ] && echo "watch-bench: an incident during the run: $(cat $tmp/w.out)" >&2

	"$M" watch --backend bpf --wait-over 60000 -o $tmp/inc >$tmp/b.out 2>$tmp/b.err &
	wp=$!
	n=0
	while ! grep -q 'using the bpf' $tmp/b.err && kill -0 $wp 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.05; n=$((n + 1))
	done
	if kill -0 $wp 2>/dev/null; then
		sleep 0.3
		c0=$(pcpu $wp)
		"$M" stress -d $dur >$tmp/o && rate $tmp/o >>$tmp/watchbpf
		echo "$(pcpu $wp) $c0 $dur" | awk '{ print ($1 - $2) / $3 }' >>$tmp/watchbpf_cpu
		[ -x "$L" ] && "$L" $calls >>$tmp/loop_watchbpf
		kill -INT $wp; wait $wp || true
		sed -n 's/.* events, \([0-9]*\) lost.*/\1/p' $tmp/b.err >>$tmp/watchbpf_lost
		[ -s $tmp/b.out ] && echo "watch-bench: an incident during the bpf run: $(cat $tmp/b.out)" >&2
	else
		echo "watch-bench: no bpf row: $(cat $tmp/b.err)" >&2
		echo 0 >>$tmp/watchbpf; echo 0 >>$tmp/watchbpf_cpu
	fi
	wp=
	i=$((i + 1))
done
printf '\n' >&2
u=$(med $tmp/untraced); k=$(med $tmp/kernel); r=$(med $tmp/record); s=$(med $tmp/stack); w=$(med $tmp/watch)
rc=$(med $tmp/record_cpu); wc=$(med $tmp/watch_cpu)
wb=$(med $tmp/watchbpf); wbc=$(med $tmp/watchbpf_cpu)
rl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/record_lost); wl=$(awk '{ s += $1 } END { print s + 0 }' $tmp/watch_lost)
echo "lost events, all rounds: record $rl, watch $wl"
printf '%-10s %12s %10s %10s %10s\n' setup ops/s vs-untr vs-record cpu-s/s
for x in "untraced $u -" "kernel $k -" "record $r $rc" "stack $s -" "watch $w $wc" "watchbpf $wb $wbc"; do
	set -- $x
	awk -v n=$1 -v x=$2 -v u="$u" -v r="$r" -v c=$3 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f %10s\n", n, x, x / u, x / r, c }'
done
if [ -s $tmp/loop_watchbpf ]; then
	lu=$(med $tmp/loop_untraced) lk=$(med $tmp/loop_kernel) lb=$(med $tmp/loop_watchbpf)
	awk -v lu=$lu -v lk=$lk -v lb=$lb -v calls=$calls 'BEGIN {
		ek = (lk - lu) / 3; eb = (lb - lu) / 3
		printf "mincore loop (%d calls, 3 events each): ns/call, ns/event\n", calls
		printf "  %-36s %8.1f\n", "untraced", lu
		printf "  %-36s %8.1f  %6.1f\n", "events on, tracefs, nobody reading", lk, ek
		printf "  %-36s %8.1f  %6.1f  (%.2fx the ring buffer)\n", "watch --backend bpf", lb, eb, (ek > 0 ? eb / ek : 0)
	}'
fi
printf '{"bench":"watch","dur":%s,"reps":%s,"untraced":%.0f,"kernel":%.0f,"record":%.0f,"stack":%.0f,"watch":%.0f,"watchbpf":%.0f,"record_cpu":%s,"watch_cpu":%s,"watchbpf_cpu":%s,"record_lost":%s,"watch_lost":%s}\n' \
	$dur $reps $u $k $r $s $w $wb $rc $wc $wbc $rl $wl
