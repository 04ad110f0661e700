#!/bin/sh
# bench/tracedat-bench.sh BUILD: `mmaplock report` on trace.dat files
# against `trace-cmd report` (and an older mmaplock, BASE=...), side by
# side in one run (issue 12, "trace.dat read 10x faster").
#
# For each duration D in DURS (default "3 6"), one run of
# `mmaplock stress -d D -t 3` is captured by a tracefs instance (mono clock,
# 256 MiB a CPU, the mmap_lock events and the rwsem-filtered
# lock:contention events, as `mmaplock record` takes them) and saved with
# `trace-cmd extract -B` (trace.dat v7, zstd, as trace-cmd writes by
# default). Each reader then runs RUNS times (default 3) with
# /usr/bin/time, output to a pipe; the median wall time, CPU time (user +
# system, all threads: what a machine without a free core pays) and peak
# RSS:
#   mmaplock report FILE.dat       BUILD's reader
#   $PREV report FILE.dat          when PREV names an older mmaplock binary
#   $BASE report FILE.dat          when BASE names another (say the one
#                                  that read trace.dat through libtracecmd)
#   trace-cmd report -i FILE.dat   trace-cmd's text output
# Events are counted as the lines of trace-cmd report (less its "cpus="
# line). DIR=path keeps the trace.dat files there, and reuses those it
# finds (d3.dat, d6.dat, ...) instead of capturing again. The capture
# takes the tests' machine-wide lock (/tmp/mmaplock-tests.lock) so that it
# never traces at the same time as a test.
set -eu
build=${1:-build}
M="$build/mmaplock"
T=/sys/kernel/tracing
runs=${RUNS:-3}
[ "$(id -u)" -eq 0 ] || { echo "tracedat-bench: needs root (tracefs)" >&2; exit 1; }
[ -x "$M" ] || { echo "tracedat-bench: $M: not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "tracedat-bench: /usr/bin/time missing" >&2; exit 1; }
command -v trace-cmd >/dev/null || { echo "tracedat-bench: trace-cmd missing" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-tdbench.XXXXXX)
dir=${DIR:-$tmp}
mkdir -p "$dir"
name=mmltdbench-$$
I=$T/instances/$name
trap '[ -d $I ] && { echo 0 > $I/events/enable; rmdir $I; }; rm -rf "$tmp"' EXIT INT TERM

# capture D FILE: a trace.dat of D seconds of stress
capture() {
	echo "tracedat-bench: capturing ${1}s of stress -t 3 into $2" >&2
	mkdir $I
	echo mono > $I/trace_clock
	echo 262144 > $I/buffer_size_kb
	echo 1 > $I/events/mmap_lock/enable
	if [ -d $I/events/lock/contention_begin ]; then
		echo 'flags & 6' > $I/events/lock/contention_begin/filter
		echo 1 > $I/events/lock/contention_begin/enable
		echo 1 > $I/events/lock/contention_end/enable
	fi
	"$M" stress -d "$1" -t 3 >/dev/null
	echo 0 > $I/events/enable
	(cd $tmp && trace-cmd extract -B $name -o "$2" >/dev/null 2>&1) || true
	[ ! -d $I ] || rmdir $I	# extract -B may remove it
	[ -s "$2" ] || { echo "tracedat-bench: trace-cmd extract failed" >&2; exit 1; }
}

# run LABEL CMD...: RUNS times; "LABEL seconds rss-KB lines cpu-seconds" to results
run() {
	n=$1
	shift
	: >$tmp/times
	i=0
	while [ $i -lt $runs ]; do
		/usr/bin/time -f '%e %M %U %S' -o $tmp/time "$@" 2>/dev/null | wc -l >$tmp/lines
		if grep -q "exited with non-zero" $tmp/time; then
			echo "tracedat-bench: $* failed" >&2
			return 0
		fi
		tail -n 1 $tmp/time >>$tmp/times
		i=$((i + 1))
	done
	m=$(((runs + 1) / 2))
	secs=$(sort -n -k1 $tmp/times | awk -v m=$m 'NR == m { print $1 }')
	rss=$(sort -n -k2 $tmp/times | awk -v m=$m 'NR == m { print $2 }')
	cpu=$(awk '{ print $3 + $4 }' $tmp/times | sort -n | awk -v m=$m 'NR == m { print $1 }')
	echo "$n $secs $rss $(cat $tmp/lines) $cpu" >>$tmp/results
}

printf '%-10s %10s %-22s %8s %12s %9s %8s %8s\n' file events reader seconds events/s vs-tcmd rss-MB cpu-s
for d in ${DURS:-3 6}; do
	f="$dir/d$d.dat"
	if [ ! -s "$f" ]; then
		exec 9>/tmp/mmaplock-tests.lock
		flock 9
		capture "$d" "$f"
		flock -u 9
	fi
	: >$tmp/results
	run trace-cmd trace-cmd report -i "$f"
	run mmaplock "$M" report "$f"
	[ -n "${PREV:-}" ] && [ -x "$PREV" ] && run prev "$PREV" report "$f"
	[ -n "${BASE:-}" ] && [ -x "$BASE" ] && run base "$BASE" report "$f"
	mb=$(($(wc -c <"$f") / 1024 / 1024))
	awk -v f="d$d.dat,${mb}MB" '
		$1 == "trace-cmd" { ev = $4 - 1; tc = $2 }
		{ n[NR] = $1; s[NR] = $2; r[NR] = $3; c[NR] = $5 }
		END {
			for (i = 1; i <= NR; i++) {
				rate = ev / (s[i] > 0 ? s[i] : 0.01)
				l = n[i] == "mmaplock" ? "mmaplock report" : n[i] == "base" ? "BASE report" : n[i] == "prev" ? "PREV report" : "trace-cmd report"
				printf "%-10s %10d %-22s %8.2f %12.0f %9.1f %8.1f %8.2f\n", f, ev, l, s[i], rate,
					tc / (s[i] > 0 ? s[i] : 0.01), r[i] / 1024, c[i]
			}
		}' $tmp/results
done
