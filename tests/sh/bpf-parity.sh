#!/bin/sh
# bpf-parity.sh: the BPF back-end counts what tracefs records. `mmaplock
# stress` runs in two memory cgroups while the BPF back-end (bpf-dump, which
# uses backend_bpf_ops through backend.h) and an independent tracefs
# instance (`mmaplock record -G` of the two memcgs, then `mmaplock report
# --json --by memcg`) watch the same period: for each of
# the two memcgs, acquisitions per mode and failures are equal, nothing is
# lost on either side, wait and hold totals agree within 2%, and p50/p99
# within the histogram's error (two buckets: 1/32) plus 40 ns, the distance
# between where the two tracers take their timestamps. The BPF programs
# attach after the recorder's events, so that at every tracepoint the
# recorder's probe runs first: its own cost then shifts both ends of the
# BPF side's intervals alike (the other way round, the BPF acquire
# program's cost, larger than its start_locking one, would lengthen every
# wait the recorder sees). Skipped without
# root, BTF, the BPF back-end, tracefs events or jq.
set -u
. "$(dirname "$0")/lib.sh"
need root btf tracefs cgroup jq bpf
scratch bpfpar
A=mmltest-bpf-a-$$
B=mmltest-bpf-b-$$
dp= rp=
at_exit 'stop $dp $rp'
memcg_make $A $B
"$M" record -G /$A -G /$B --buffer-size 65536 -o $tmp/t.mml 2>$tmp/rec.err &
rp=$!
wait_recording $rp || { echo "FAIL recorder $rp never started"; exit 1; }
"$D" -d 600 >$tmp/bpf.json 2>$tmp/bpf.err &
dp=$!
wait_attached $dp $tmp/bpf.err || { echo "FAIL bpf-dump never attached: $(cat $tmp/bpf.err)"; exit 1; }

sps=
for g in $A $B; do
	spawn_in s $g "$M" stress -t 3 -d 2
	sps="$sps $s"
done
wait $sps
# both stresses are done: the BPF side stops, then the recorder (and drains)
sides_stop memcg

# group G of FILE, by memcg path
for g in $A $B; do
	for k in acquisitions.read acquisitions.write failed wait_ns.count hold_ns.count; do
		x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/tfs.json)
		[ -n "$x" ] && [ "$x" = "$y" ] && ok "$g $k: $x = $y" ||
			bad "$g $k: bpf ${x:-none}, tracefs ${y:-none}"
	done
	for k in wait_ns.total hold_ns.total; do
		x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/tfs.json)
		if [ -n "$x" ] && [ -n "$y" ] && [ "$y" -gt 0 ] &&
		   awk -v x="$x" -v y="$y" 'BEGIN { d = x - y; if (d < 0) d = -d; exit !(d <= y * 0.02) }'; then
			ok "$g $k: $x ~ $y (2%)"
		else
			bad "$g $k: bpf ${x:-none}, tracefs ${y:-none} (more than 2% apart)"
		fi
	done
	# the two ends of a wait stamped alike by both: a clock read later at
	# one end on one side (the start_locking program's once came after its
	# task-storage lookup: -6 to -9 ns a wait) biases every wait, and the
	# p50/p99 of waits of 150-400 ns with it
	x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .wait_ns.total" $tmp/bpf.json)
	y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .wait_ns.total" $tmp/tfs.json)
	n=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .wait_ns.count" $tmp/tfs.json)
	if [ -n "$x" ] && [ -n "$y" ] && [ "${n:-0}" -gt 0 ] &&
	   awk -v x="$x" -v y="$y" -v n="$n" 'BEGIN { d = (x - y) / n; exit !(d > -4 && d < 4) }'; then
		ok "$g waits: $(awk -v x="$x" -v y="$y" -v n="$n" 'BEGIN { printf "%.1f", (x - y) / n }') ns apart on average (< 4)"
	else
		no "$g waits: bpf ${x:-none}, tracefs ${y:-none} over ${n:-none} waits: 4 ns or more apart on average"
	fi
	for k in wait_ns.p50 wait_ns.p99 hold_ns.p50 hold_ns.p99; do
		x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/tfs.json)
		if [ -n "$x" ] && [ -n "$y" ] &&
		   awk -v x="$x" -v y="$y" 'BEGIN { d = x - y; if (d < 0) d = -d; m = x > y ? x : y; exit !(d <= m / 32 + 40) }'; then
			ok "$g $k: $x ~ $y"
		else
			bad "$g $k: bpf ${x:-none}, tracefs ${y:-none} (beyond the histogram's error)"
		fi
	done
done
[ $fail = 0 ] && echo "bpf-parity.sh: ok"
exit $fail
