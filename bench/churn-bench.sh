#!/bin/sh
# bench/churn-bench.sh BUILD: is the memory of `mmaplock exporter` and
# `mmaplock top` flat while processes and memory cgroups come and go?
# For DUR seconds (default 3600) both run while a churn loop creates a memory
# cgroup (cgroup v1, /sys/fs/cgroup/memory/mmlchurn-N), runs a short
# `mmaplock stress` and a burst of short-lived processes in it, and removes it
# again, CHURN_CGROUPS cgroups at a time (default 4), CHURN_PAUSE seconds
# between rounds (default 0). Every SAMPLE seconds
# (default 60) the resident size (VmRSS) of both is sampled. Prints one line
# per sample and, last, one JSON object: first, max and last RSS of each, the
# number of memcgs and processes created. Needs root and cgroup v1 memory.
set -eu
build=${1:-build}
M="$build/mmaplock"
dur=${DUR:-3600}
sample=${SAMPLE:-60}
ncg=${CHURN_CGROUPS:-4}
pause=${CHURN_PAUSE:-0}
CG=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "churn-bench: needs root" >&2; exit 1; }
[ -d $CG ] || { echo "churn-bench: needs cgroup v1 memory at $CG" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-churn.XXXXXX)
xp= tp= cp=
cleanup() {
	for p in $cp $xp $tp; do kill -TERM $p 2>/dev/null || true; done
	wait 2>/dev/null || true
	for d in $CG/mmlchurn-$$-*; do
		[ -d "$d" ] || continue
		for t in $(cat "$d/tasks" 2>/dev/null); do echo "$t" > $CG/tasks 2>/dev/null || true; done
		rmdir "$d" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$M" exporter --listen 127.0.0.1:0 >/dev/null 2>$tmp/x.err &
xp=$!
"$M" top -i 1 -n $((dur + 60)) >/dev/null 2>$tmp/t.err &
tp=$!

churn() {	# one round: ncg memcgs, each a stress and 50 short processes
	i=0
	while :; do
		for k in $(seq 1 $ncg); do
			d=$CG/mmlchurn-$$-$i-$k
			mkdir "$d"
			sh -c "echo \$\$ > $d/tasks; exec $M stress -d 0.5 -t 2 >/dev/null" &
			sh -c "echo \$\$ > $d/tasks; for j in \$(seq 1 50); do /bin/true; done" &
		done
		wait
		for k in $(seq 1 $ncg); do rmdir $CG/mmlchurn-$$-$i-$k 2>/dev/null || true; done
		i=$((i + 1))
		echo $i > $tmp/rounds
		sleep $pause
	done
}
churn &
cp=$!

rss() { awk '/^VmRSS:/ { print $2 }' /proc/$1/status 2>/dev/null || echo 0; }
t=0
xf= tf= xmax=0 tmax=0
while [ $t -lt $dur ]; do
	sleep $sample
	t=$((t + sample))
	x=$(rss $xp) y=$(rss $tp)
	[ -z "$xf" ] && xf=$x && tf=$y
	[ "$x" -gt $xmax ] && xmax=$x
	[ "$y" -gt $tmax ] && tmax=$y
	echo "t=${t}s exporter ${x} KB top ${y} KB rounds $(cat $tmp/rounds 2>/dev/null || echo 0)"
done
r=$(cat $tmp/rounds 2>/dev/null || echo 0)
echo "{\"seconds\": $dur, \"memcgs\": $((r * ncg)), \"processes\": $((r * ncg * 51)), \"exporter_kb\": {\"first\": $xf, \"max\": $xmax, \"last\": $x}, \"top_kb\": {\"first\": $tf, \"max\": $tmax, \"last\": $y}}"
