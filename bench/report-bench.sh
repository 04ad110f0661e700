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
build=${1:-build}
M="$build/mmaplock"
T=/sys/kernel/tracing
dur=${DUR:-14}
[ "$(id -u)" -eq 0 ] || { echo "report-bench: needs root (tracefs)" >&2; exit 1; }
[ -x "$M" ] || { echo "report-bench: $M: not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "report-bench: /usr/bin/time missing (scripts/bootstrap.sh)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-pbench.XXXXXX)
name=mmlbench-$$
I=$T/instances/$name
trap '[ -d $I ] && { echo 0 > $I/events/enable; rmdir $I; }; rm -rf "$tmp"' EXIT INT TERM

echo "report-bench: recording ${dur}s of stress (twice at once, then with perf)" >&2
mkdir $I
echo mono > $I/trace_clock
echo 524288 > $I/buffer_size_kb
echo 1 > $I/events/mmap_lock/enable
if [ -d $I/events/lock/contention_begin ]; then	# the same events as mmaplock record
	echo 'flags & 6' > $I/events/lock/contention_begin/filter
	echo 1 > $I/events/lock/contention_begin/enable
	echo 1 > $I/events/lock/contention_end/enable
fi
"$M" record -o $tmp/b.mml -- "$M" stress -d $dur >/dev/null 2>$tmp/rec.err
echo 0 > $I/events/enable
cat $tmp/rec.err >&2
ev=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' $tmp/rec.err)
ilost=$(cat $I/per_cpu/cpu*/stats | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
(cd $tmp && trace-cmd extract -B $name -o $tmp/b.dat >/dev/null 2>&1) || true
[ -d $I ] && rmdir $I
[ -s $tmp/b.dat ] || { echo "report-bench: trace-cmd extract failed" >&2; exit 1; }
havep=0
if command -v perf >/dev/null && perf record -q -e 'mmap_lock:*' -a -o $tmp/perf.data -- "$M" stress -d $dur >/dev/null 2>&1; then
	havep=1
fi

# run NAME CMD...: time it RUNS times (default 3), output lines counted;
# records the median wall time and the median peak RSS
runs=${RUNS:-3}
run() {
	n=$1
	shift
	: >$tmp/times
	i=0
	while [ $i -lt $runs ]; do
		/usr/bin/time -f '%e %M' -o $tmp/time "$@" 2>/dev/null | wc -l >$tmp/lines
		if grep -q "exited with non-zero" $tmp/time; then
			echo "report-bench: $* failed" >&2
			return 0
		fi
		tail -n 1 $tmp/time >>$tmp/times
		i=$((i + 1))
	done
	secs=$(sort -n -k1 $tmp/times | awk -v m=$(((runs + 1) / 2)) 'NR == m { print $1 }')
	rss=$(sort -n -k2 $tmp/times | awk -v m=$(((runs + 1) / 2)) 'NR == m { print $2 }')
	lines=$(cat $tmp/lines)
	echo "$n $secs $rss $lines" >>$tmp/results
}
run mml "$M" report $tmp/b.mml
run tracedat "$M" report $tmp/b.dat
# BASE=an older mmaplock binary: its trace.dat reading, in the same run
[ -n "${BASE:-}" ] && [ -x "$BASE" ] && run tracedat-base "$BASE" report $tmp/b.dat
run trace-cmd trace-cmd report -i $tmp/b.dat
[ $havep -eq 1 ] && run perf perf script -i $tmp/perf.data
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
