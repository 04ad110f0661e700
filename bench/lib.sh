# bench/lib.sh: what the tracefs benchmarks (record-bench.sh,
# exporter-bench.sh, watch-bench.sh, report-bench.sh, tracedat-bench.sh)
# share, sourced (not run). bench_init sets the scene: M (the mmaplock
# binary), tmp (the scratch directory), I (the path of the tracefs
# instance the benchmark may create, $inst its name: bench_cleanup removes
# it), dur (the seconds of each stress run), reps and runs. Each figure is
# one line appended to $tmp/NAME; med turns a file of figures into one.

# bench_init NAME BUILD [TOOL...]: the start of `sh bench/NAME.sh BUILD`.
# Needs root, BUILD/mmaplock and each TOOL (a command on PATH or a path),
# else one line naming what is missing and exit 1. DUR (default 3), REPS
# and RUNS (default 3) from the environment. At exit (or INT, TERM):
# bench_exit (a command string the script may set), then the instance and
# the scratch directory go.
bench_init() {
	bench=$1 M=$2/mmaplock
	shift 2
	T=/sys/kernel/tracing
	dur=${DUR:-3} reps=${REPS:-3} runs=${RUNS:-3}
	[ "$(id -u)" -eq 0 ] || { echo "$bench: needs root (tracefs)" >&2; exit 1; }
	[ -x "$M" ] || { echo "$bench: $M: not built" >&2; exit 1; }
	for _t; do
		command -v "$_t" >/dev/null || { echo "$bench: $_t missing (scripts/bootstrap.sh)" >&2; exit 1; }
	done
	tmp=$(mktemp -d /tmp/mml-$bench.XXXXXX)
	inst=mml$bench-$$
	I=$T/instances/$inst
	bench_exit=
	trap 'eval "$bench_exit" || true; bench_cleanup; rm -rf "$tmp"' EXIT INT TERM
}

# rate FILE: the ops/s of a `mmaplock stress` output
rate() { awk '/^mmaplock stress:/ { for (i = 1; i <= NF; i++) if ($i == "ops/s") print $(i - 1) }' "$1"; }

# med FILE: the median of the figures in FILE (the mean of the middle two
# when their number is even)
med() { sort -g "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench_baselines: one round's two reference runs of stress, the op rates
# appended to $tmp/untraced (no mmap_lock event enabled anywhere) and
# $tmp/kernel (the events enabled in the tracefs instance I, nobody
# reading: the kernel's own cost of the tracepoints)
bench_baselines() {
	"$M" stress -d "$dur" >"$tmp/o" && rate "$tmp/o" >>"$tmp/untraced"

	mkdir "$I"
	echo 1 >"$I/events/mmap_lock/enable"
	"$M" stress -d "$dur" >"$tmp/o" && rate "$tmp/o" >>"$tmp/kernel"
	echo 0 >"$I/events/mmap_lock/enable"
	rmdir "$I"
}

# bench_cleanup: the instance gone (events off first), if still there
bench_cleanup() {
	if [ -d "$I" ]; then
		echo 0 >"$I/events/enable"
		rmdir "$I"
	fi
}

# bench_instance KB: the instance I made as `mmaplock record` sets its own:
# mono clock, KB of buffer a CPU, the mmap_lock events and the
# lock:contention events filtered to rwsems
bench_instance() {
	mkdir "$I"
	echo mono >"$I/trace_clock"
	echo "$1" >"$I/buffer_size_kb"
	echo 1 >"$I/events/mmap_lock/enable"
	if [ -d "$I/events/lock/contention_begin" ]; then
		echo 'flags & 6' >"$I/events/lock/contention_begin/filter"
		echo 1 >"$I/events/lock/contention_begin/enable"
		echo 1 >"$I/events/lock/contention_end/enable"
	fi
}

# bench_loop_kernel LOOP CALLS OUT: the mincore loop with the mmap_lock
# events on in a bare instance I nobody reads (the kernel's own cost per
# event), its figure appended to OUT
bench_loop_kernel() {
	mkdir "$I"
	echo 1 >"$I/events/mmap_lock/enable"
	"$1" "$2" >>"$3"
	echo 0 >"$I/events/mmap_lock/enable"
	rmdir "$I"
}

# bench_bpf_exporter ERR: `mmaplock exporter --backend bpf` in the
# background (its stderr in ERR, its pid in bpf_xp), back once it serves;
# exit 1 with its message when it ends or has not started in 10 s (then
# it is stopped)
bench_bpf_exporter() {
	: >"$1"
	"$M" exporter --backend bpf --listen 127.0.0.1:0 >/dev/null 2>"$1" &
	bpf_xp=$!
	_n=0
	until grep -q serving "$1"; do
		kill -0 $bpf_xp 2>/dev/null || { echo "${bench:-bench}: exporter: $(cat "$1")" >&2; exit 1; }
		[ $_n -lt 200 ] || { kill $bpf_xp; echo "${bench:-bench}: the exporter did not start" >&2; exit 1; }
		sleep 0.05
		_n=$((_n + 1))
	done
}

# bench_extract FILE: the instance's events off, its buffers saved as the
# trace.dat FILE (`trace-cmd extract -B`), the instance removed; exit 1 if
# no trace.dat came out
bench_extract() {
	echo 0 >"$I/events/enable"
	(cd "$tmp" && trace-cmd extract -B "$inst" -o "$1" >/dev/null 2>&1) || true
	[ ! -d "$I" ] || rmdir "$I"	# extract -B may remove it
	[ -s "$1" ] || { echo "$bench: trace-cmd extract failed" >&2; exit 1; }
}

# bench_time LABEL CMD...: CMD run $runs times under /usr/bin/time, its
# output counted through a pipe; "LABEL seconds rss-KB lines cpu-seconds"
# (the median wall time, peak RSS and user + system time) appended to
# $tmp/results
bench_time() {
	_n=$1
	shift
	: >"$tmp/times"
	_i=0
	while [ $_i -lt "$runs" ]; do
		/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$@" 2>/dev/null | wc -l >"$tmp/lines"
		if grep -q "exited with non-zero" "$tmp/time"; then
			echo "$bench: $* failed" >&2
			return 0
		fi
		tail -n 1 "$tmp/time" >>"$tmp/times"
		_i=$((_i + 1))
	done
	_m=$(((runs + 1) / 2))
	_secs=$(sort -n -k1 "$tmp/times" | awk -v m=$_m 'NR == m { print $1 }')
	_rss=$(sort -n -k2 "$tmp/times" | awk -v m=$_m 'NR == m { print $2 }')
	_cpu=$(awk '{ print $3 + $4 }' "$tmp/times" | sort -n | awk -v m=$_m 'NR == m { print $1 }')
	echo "$_n $_secs $_rss $(cat "$tmp/lines") $_cpu" >>"$tmp/results"
}
