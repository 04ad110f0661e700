#!/bin/sh
# bench/exporter-bench.sh BUILD: the cost of `mmaplock exporter` (issue 5,
# "Benchmark"). Needs root.
#  1. The op rate of `mmaplock stress` (DUR seconds, default 3; REPS rounds,
#     default 3, medians), interleaved in each round: untraced; the events
#     enabled in a tracefs instance with nobody reading (the kernel's own
#     cost); and with a running exporter (recording, pairing, aggregating,
#     rendering every second; nobody scraping).
#  2. The latency of GET /metrics with 1000 series (--fake-series 1000, as
#     500 memcgs would give, plus the machine's real ones): SCRAPES requests
#     (default 50) with the machine idle and as many during a stress run.
# Prints a table; the last line is one JSON object.
set -eu
. "$(dirname "$0")/lib.sh"	# bench_init, rate, med, bench_baselines
bench_init exporter-bench "${1:-build}" curl
scrapes=${SCRAPES:-50}
xp=
bench_exit='[ -n "$xp" ] && kill $xp 2>/dev/null'

pct() { sort -g "$1" | awk -v q="$2" '{ a[NR] = $1 } END { i = int(NR * q + 0.999); if (i < 1) i = 1; print a[i] }'; }

start_exporter() {	# $@: extra options; sets xp and port
	: >$tmp/x.err	# emptied before (not by) the child: no stale port read
	"$M" exporter --listen 127.0.0.1:0 "$@" 2>>$tmp/x.err &
	xp=$!
	port=
	n=0
	while [ -z "$port" ] && [ $n -lt 100 ]; do
		port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' $tmp/x.err)
		[ -z "$port" ] && sleep 0.05
		n=$((n + 1))
	done
	[ -n "$port" ] || { echo "exporter-bench: exporter did not start: $(cat $tmp/x.err)" >&2; exit 1; }
	sleep 0.5	# the recording is up once the port is (record starts right after)
}
stop_exporter() {
	kill -TERM $xp
	wait $xp || true
	xp=
}

i=1
while [ $i -le $reps ]; do
	printf 'exporter-bench: round %d/%d\r' $i $reps >&2
	bench_baselines		# untraced, kernel

	start_exporter
	"$M" stress -d $dur >$tmp/o && rate $tmp/o >>$tmp/exporter
	curl -s http://127.0.0.1:$port/metrics | awk '$1 == "mmaplock_events_total" { print $2 }' >>$tmp/events
	curl -s http://127.0.0.1:$port/metrics | awk '$1 == "mmaplock_lost_events_total" { print $2 }' >>$tmp/lost
	stop_exporter
	i=$((i + 1))
done
printf '\n' >&2

# scrape latency, 1000 series
start_exporter --fake-series 1000 --max-series 2000
sleep 1
curl -s -o $tmp/metrics http://127.0.0.1:$port/metrics
series=$(grep -c '^mmaplock_acquisitions_total{' $tmp/metrics)
bytes=$(wc -c <$tmp/metrics)
n=0
while [ $n -lt $scrapes ]; do
	curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:$port/metrics >>$tmp/lat_idle
	n=$((n + 1))
done
"$M" stress -d $dur >/dev/null &
sp=$!
sleep 0.3
n=0
while [ $n -lt $scrapes ] && kill -0 $sp 2>/dev/null; do
	curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:$port/metrics >>$tmp/lat_load
	n=$((n + 1))
	sleep 0.02
done
wait $sp || true
stop_exporter

u=$(med $tmp/untraced); k=$(med $tmp/kernel); x=$(med $tmp/exporter)
ev=$(med $tmp/events); lost=$(awk '{ s += $1 } END { print s + 0 }' $tmp/lost)
li50=$(pct $tmp/lat_idle 0.5); li99=$(pct $tmp/lat_idle 0.99)
ll50=$(pct $tmp/lat_load 0.5); ll99=$(pct $tmp/lat_load 0.99)
printf '%-10s %12s %10s %10s\n' setup ops/s vs-untr vs-kernel
printf '%-10s %12.0f %10s %10s\n' untraced "$u" 1.000 -
awk -v n=kernel -v x="$k" -v u="$u" -v k="$k" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f\n", n, x, x / u, x / k }'
awk -v n=exporter -v x="$x" -v u="$u" -v k="$k" 'BEGIN { printf "%-10s %12.0f %10.3f %10.3f\n", n, x, x / u, x / k }'
echo "exporter: median $ev events per ${dur}s run, $lost lost in $reps runs"
awk -v s="$series" -v b="$bytes" -v a="$li50" -v c="$li99" -v d="$ll50" -v e="$ll99" -v n="$scrapes" 'BEGIN {
	printf "GET /metrics, %d series (%d bytes), %d scrapes: idle p50 %.2f ms p99 %.2f ms; under stress p50 %.2f ms p99 %.2f ms\n",
		s, b, n, a * 1000, c * 1000, d * 1000, e * 1000 }'
awk -v u="$u" -v k="$k" -v x="$x" -v ev="$ev" -v lost="$lost" -v s="$series" -v b="$bytes" \
    -v a="$li50" -v c="$li99" -v d="$ll50" -v e="$ll99" -v dur="$dur" -v reps="$reps" 'BEGIN {
	printf "{\"bench\":\"exporter\",\"dur_s\":%s,\"reps\":%s,\"untraced_ops\":%s,\"kernel_ops\":%s,\"exporter_ops\":%s,", dur, reps, u, k, x
	printf "\"exporter_vs_untraced\":%.4f,\"exporter_vs_kernel\":%.4f,\"events\":%s,\"lost\":%s,", x / u, x / k, ev, lost
	printf "\"series\":%d,\"metrics_bytes\":%d,\"scrape_ms_p50\":%.3f,\"scrape_ms_p99\":%.3f,\"scrape_ms_p50_load\":%.3f,\"scrape_ms_p99_load\":%.3f}\n",
		s, b, a * 1000, c * 1000, d * 1000, e * 1000 }'
