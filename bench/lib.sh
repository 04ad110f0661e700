# bench/lib.sh: what the tracefs benchmarks (record-bench.sh,
# exporter-bench.sh) share, sourced by both (not run). The caller sets M
# (the mmaplock binary), tmp (its scratch directory), I (the path of the
# tracefs instance it may create: bench_cleanup removes it) and dur (the
# seconds of each stress run). Each figure is one line appended to
# $tmp/NAME; med turns a file of figures into one.

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
