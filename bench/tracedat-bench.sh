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
# /usr/bin/time, output to a pipe; the median wall time and peak RSS:
#   mmaplock report FILE.dat       BUILD's reader
#   $PREV report FILE.dat          when PREV names an older mmaplock binary
#   $BASE report FILE.dat          when BASE names another (say the one
#                                  that read trace.dat through libtracecmd)
#   trace-cmd report -i FILE.dat   trace-cmd's text output
# and, when BUILD has bench/tdat-floor (built by CMake with the tool), what
# reading costs at the least (the floor: no walk, no decode, no pairing):
#   floor zstd, 1 thread           every zstd chunk of every CPU
#                                  decompressed, the result thrown away
#   floor zstd, thread a CPU       the same, one thread per CPU stream
#   floor zstd+walk, thread a CPU  and each page walked into its records
#   floor via the reader's threads tdat_file_page(): report's own
#                                  decompression threads and hand-off
# Events are counted as the lines of trace-cmd report (less its "cpus="
# line). DIR=path keeps the trace.dat files there, and reuses those it
# finds (d3.dat, d6.dat, ...) instead of capturing again. The capture
# takes the tests' machine-wide lock (/tmp/mmaplock-tests.lock) so that it
# never traces at the same time as a test.
set -eu
. "$(dirname "$0")/lib.sh"	# bench_init, bench_instance, bench_extract, bench_time
bench_init tracedat-bench "${1:-build}" /usr/bin/time trace-cmd
dir=${DIR:-$tmp}
mkdir -p "$dir"

# capture D FILE: a trace.dat of D seconds of stress
capture() {
	echo "tracedat-bench: capturing ${1}s of stress -t 3 into $2" >&2
	bench_instance 262144
	"$M" stress -d "$1" -t 3 >/dev/null
	bench_extract "$2"
}

printf '%-10s %10s %-22s %8s %12s %9s %8s %8s %8s\n' file events reader seconds events/s vs-tcmd rss-MB cpu-s base/this
for d in ${DURS:-3 6}; do
	f="$dir/d$d.dat"
	if [ ! -s "$f" ]; then
		exec 9>/tmp/mmaplock-tests.lock
		flock 9
		capture "$d" "$f"
		flock -u 9
	fi
	: >$tmp/results
	bench_time trace-cmd trace-cmd report -i "$f"
	bench_time mmaplock "$M" report "$f"
	[ -n "${PREV:-}" ] && [ -x "$PREV" ] && bench_time prev "$PREV" report "$f"
	[ -n "${BASE:-}" ] && [ -x "$BASE" ] && bench_time base "$BASE" report "$f"
	fl=$(dirname "$M")/bench/tdat-floor
	if [ -x "$fl" ]; then
		bench_time floor1 "$fl" -t 1 "$f"
		bench_time floorn "$fl" -t 0 "$f"
		bench_time floorw "$fl" -t 0 -w "$f"
		bench_time floorp "$fl" -p "$f"
	fi
	mb=$(($(wc -c <"$f") / 1024 / 1024))
	awk -v f="d$d.dat,${mb}MB" '
		$1 == "trace-cmd" { ev = $4 - 1; tc = $2 }
		$1 == "base" { bs = $2 }
		{ n[NR] = $1; s[NR] = $2; r[NR] = $3; c[NR] = $5 }
		END {
			for (i = 1; i <= NR; i++) {
				rate = ev / (s[i] > 0 ? s[i] : 0.01)
				l = n[i] == "mmaplock" ? "mmaplock report" : n[i] == "base" ? "BASE report" : n[i] == "prev" ? "PREV report" : "trace-cmd report"
				if (n[i] == "floor1") l = "floor zstd, 1 thread"
				if (n[i] == "floorn") l = "floor zstd, thread/CPU"
				if (n[i] == "floorw") l = "floor zstd+walk"
				if (n[i] == "floorp") l = "floor reader threads"
				printf "%-10s %10d %-22s %8.2f %12.0f %9.1f %8.1f %8.2f %8s\n", f, ev, l, s[i], rate,
					tc / (s[i] > 0 ? s[i] : 0.01), r[i] / 1024, c[i],
					bs ? sprintf("%.1f", bs / (s[i] > 0 ? s[i] : 0.01)) : "-"
			}
		}' $tmp/results
done
