#!/bin/sh
# bench/report-bench.sh BUILD: report speed on one real recording of at
# least 5 M events (issue 3, "Benchmark").
#
# One run of `mmaplock stress` (DUR seconds, default 14) is captured
# twice at once: by `mmaplock record` (our file) and by a second tracefs
# instance with a large buffer, saved afterwards with `trace-cmd extract -B`
# (trace.dat; `trace-cmd record` is refused on some machines). The same
# workload is then recorded by `perf record -e 'mmap_lock:*' -a`. Timed
# (wall clock and peak RSS, /usr/bin/time):
#   mmaplock report FILE.mml       our reader on our file
#   mmaplock report FILE.dat       our reader on the trace.dat
#   trace-cmd report -i FILE.dat   trace-cmd's text output
#   perf script -i perf.data       perf's text output
#   $BASE report FILE.dat          when BASE names an older mmaplock binary
# Each is run RUNS times (default 3): the median time and peak RSS.
# Both captures hold the same events (mmap_lock:* and rwsem-filtered
# lock:contention_*); perf records mmap_lock:* only. Prints the two files'
# sizes (bytes an event), events/s and ratios to trace-cmd report and peak
# RSS; the last line is JSON.
set -eu
. "$(dirname "$0")/lib.sh"	# bench_init, bench_instance, bench_extract, bench_time
bench_init report-bench "${1:-build}" /usr/bin/time trace-cmd
dur=${DUR:-14}

echo "report-bench: recording ${dur}s of stress (twice at once, then with perf)" >&2
bench_instance 524288
"$M" record -o $tmp/b.mml -- "$M" stress -d $dur >/dev/null 2>$tmp/rec.err
echo 0 > $I/events/enable
cat $tmp/rec.err >&2
ev=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' $tmp/rec.err)
ilost=$(cat $I/per_cpu/cpu*/stats | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
bench_extract $tmp/b.dat
havep=0
if command -v perf >/dev/null && perf record -q -e 'mmap_lock:*' -a -o $tmp/perf.data -- "$M" stress -d $dur >/dev/null 2>&1; then
	havep=1
fi

# each timed RUNS times (default 3), output lines counted
bench_time mml "$M" report $tmp/b.mml
bench_time tracedat "$M" report $tmp/b.dat
# BASE=an older mmaplock binary: its trace.dat reading, in the same run
[ -n "${BASE:-}" ] && [ -x "$BASE" ] && bench_time tracedat-base "$BASE" report $tmp/b.dat
bench_time trace-cmd trace-cmd report -i $tmp/b.dat
[ $havep -eq 1 ] && bench_time perf perf script -i $tmp/perf.data
pev=0
[ $havep -eq 1 ] && pev=$(awk '$1 == "perf" { print $4 }' $tmp/results)
tev=$(awk '$1 == "trace-cmd" { print $4 - 1 }' $tmp/results)	# one "cpus=" line

echo "events: $ev in the recording (trace.dat: ~$tev lines, instance lost $ilost; perf: $pev)"
msz=$(wc -c <$tmp/b.mml) dsz=$(wc -c <$tmp/b.dat)
awk -v m=$msz -v d=$dsz -v ev=$ev -v tev=$tev 'BEGIN {
	printf "size: mmaplock file %d bytes (%.2f B/event), trace.dat %d bytes (%.2f B/event)\n",
		m, m / (ev > 0 ? ev : 1), d, d / (tev > 0 ? tev : 1) }'
printf '%-26s %8s %14s %10s %10s\n' reader seconds events/s vs-tcmd rss-MB
awk -v ev="$ev" -v tev="$tev" -v pev="$pev" -v msz="$msz" -v dsz="$dsz" '
	{ n[NR] = $1; s[NR] = $2; r[NR] = $3 }
	$1 == "trace-cmd" { base = tev / ($2 > 0 ? $2 : 0.001) }
	END {
		for (i = 1; i <= NR; i++) {
			e = (n[i] == "perf") ? pev : (n[i] == "trace-cmd" || n[i] ~ /^tracedat/) ? tev : ev
			rate = e / (s[i] > 0 ? s[i] : 0.001)
			label = n[i] == "mml" ? "mmaplock report (.mml)" : n[i] == "tracedat" ? "mmaplock report (.dat)" : n[i] == "tracedat-base" ? "BASE report (.dat)" : n[i] == "trace-cmd" ? "trace-cmd report" : "perf script"
			printf "%-26s %8.2f %14.0f %10.1f %10.1f\n", label, s[i], rate, rate / base, r[i] / 1024
			js = js sprintf("%s\"%s\":{\"s\":%s,\"events_per_s\":%.0f,\"rss_kb\":%s}", i > 1 ? "," : "", n[i], s[i], rate, r[i])
		}
		printf "{\"bench\":\"report\",\"events\":%s,\"mml_bytes\":%s,\"dat_bytes\":%s,%s}\n", ev, msz, dsz, js
	}' $tmp/results
