#!/bin/sh
# bench/bpf-bench.sh BUILD: the cost of the BPF back-end (issue 11,
# "Benchmark"). Needs root and a build with the BPF back-end.
#  1. The op rate of `mmaplock stress` (DUR seconds, default 3; REPS rounds,
#     default 3, medians), interleaved in each round: untraced; the events
#     enabled in a tracefs instance with nobody reading (the ring buffer's
#     floor); and `mmaplock exporter --backend bpf` running (programs
#     aggregating in the kernel, maps read every second, /metrics served).
#  2. The per-event cost on an uncontended read-lock loop (bench/mincore-loop:
#     N mincore calls, three events each), the same three ways: (traced -
#     untraced) ns per call / 3.
# Prints a table; the last line is one JSON object. The per-program cost
# (kernel.bpf_stats_enabled) is measured by bench/bpf-progs.sh.
set -eu
build=${1:-build}
M="$build/mmaplock"
D="$build/tests/bpf-dump"	# only checked: a BPF build
L="$build/bench/mincore-loop"
T=/sys/kernel/tracing
dur=${DUR:-3}
reps=${REPS:-3}
calls=${CALLS:-1000000}
[ "$(id -u)" -eq 0 ] || { echo "bpf-bench: needs root" >&2; exit 1; }
for f in "$M" "$D" "$L"; do
	[ -x "$f" ] || { echo "bpf-bench: $f: not built" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/mml-bbench.XXXXXX)
I=$T/instances/mmlbbench-$$
dp=
. "$(dirname "$0")/lib.sh"	# rate, med, bench_baselines, bench_cleanup
trap '[ -n "$dp" ] && kill $dp 2>/dev/null; bench_cleanup; rm -rf "$tmp"' EXIT INT TERM

start_bpf() {
	bench=bpf-bench
	bench_bpf_exporter $tmp/d.err
	dp=$bpf_xp
}
stop_bpf() {
	kill -TERM $dp
	wait $dp || true
	dp=
}

i=1
while [ $i -le $reps ]; do
	printf 'bpf-bench: round %d/%d\r' $i $reps >&2
	bench_baselines		# stress: untraced, kernel
	start_bpf
	"$M" stress -d $dur >$tmp/o && rate $tmp/o >>$tmp/bpf
	"$L" $calls >>$tmp/loop_bpf
	stop_bpf

	"$L" $calls >>$tmp/loop_untraced
	bench_loop_kernel "$L" $calls $tmp/loop_kernel
	i=$((i + 1))
done
printf '%40s\r' '' >&2

u=$(med $tmp/untraced) k=$(med $tmp/kernel) b=$(med $tmp/bpf)
lu=$(med $tmp/loop_untraced) lk=$(med $tmp/loop_kernel) lb=$(med $tmp/loop_bpf)
awk -v u=$u -v k=$k -v b=$b -v lu=$lu -v lk=$lk -v lb=$lb -v reps=$reps -v dur=$dur -v calls=$calls 'BEGIN {
	ek = (lk - lu) / 3; eb = (lb - lu) / 3
	printf "stress ops/s (median of %d runs of %d s)\n", reps, dur
	printf "  %-38s %12.0f  %5.3f\n", "untraced", u, 1
	printf "  %-38s %12.0f  %5.3f\n", "events on, tracefs, nobody reading", k, k / u
	printf "  %-38s %12.0f  %5.3f\n", "exporter --backend bpf", b, b / u
	printf "mincore loop (%d calls, 3 events each): ns/call, ns/event\n", calls
	printf "  %-38s %8.1f\n", "untraced", lu
	printf "  %-38s %8.1f  %6.1f\n", "events on, tracefs, nobody reading", lk, ek
	printf "  %-38s %8.1f  %6.1f  (%.2fx the ring buffer)\n", "exporter --backend bpf", lb, eb, (ek > 0 ? eb / ek : 0)
	printf "{\"untraced\": %.0f, \"kernel\": %.0f, \"bpf\": %.0f, \"bpf_ratio\": %.3f, \"kernel_ratio\": %.3f, \"event_ns_ringbuf\": %.1f, \"event_ns_bpf\": %.1f}\n",
	       u, k, b, b / u, k / u, ek, eb
}'
