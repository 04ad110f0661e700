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
M=${MMAPLOCK:-build/mmaplock}
D=${MMAPLOCK_BUILD:-build}/tests/bpf-dump
T=/sys/kernel/tracing
CG=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "bpf-parity.sh: skipped: needs root"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "bpf-parity.sh: skipped: no BTF at /sys/kernel/btf/vmlinux"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "bpf-parity.sh: skipped: no tracefs mmap_lock events"; exit 77; }
[ -d $CG ] || { echo "bpf-parity.sh: skipped: no cgroup v1 memory hierarchy at $CG"; exit 77; }
command -v jq >/dev/null || { echo "bpf-parity.sh: skipped: jq missing"; exit 77; }
[ -x "$D" ] || { echo "bpf-parity.sh: skipped: $D not built"; exit 77; }

tmp=$(mktemp -d /tmp/mml-bpfpar.XXXXXX)
A=mmltest-bpf-a-$$
B=mmltest-bpf-b-$$
cleanup() {
	[ -n "${dp:-}" ] && kill $dp 2>/dev/null
	[ -n "${rp:-}" ] && kill $rp 2>/dev/null
	wait 2>/dev/null
	rmdir $CG/$A $CG/$B 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

mkdir $CG/$A $CG/$B || exit 1
"$M" record -G /$A -G /$B --buffer-size 65536 -o $tmp/t.mml 2>$tmp/rec.err &
rp=$!
I=$T/instances/mmaplock-$rp
i=0
until [ "$(cat $I/events/mmap_lock/enable 2>/dev/null)" = 1 ] &&
      [ "$(cat $I/tracing_on 2>/dev/null)" = 1 ]; do
	[ $i -lt 400 ] || { echo "FAIL recorder $rp never started"; exit 1; }
	sleep 0.05
	i=$((i + 1))
done
"$D" -d 600 >$tmp/bpf.json 2>$tmp/bpf.err &
dp=$!
i=0
until grep -q attached $tmp/bpf.err 2>/dev/null; do
	if ! kill -0 $dp 2>/dev/null; then
		wait $dp
		rc=$?
		[ $rc = 77 ] && { echo "bpf-parity.sh: skipped: $(cat $tmp/bpf.err)"; dp=; exit 77; }
		echo "FAIL bpf-dump exited $rc: $(cat $tmp/bpf.err)"
		dp=
		exit 1
	fi
	[ $i -lt 200 ] || { echo "FAIL bpf-dump never attached"; exit 1; }
	sleep 0.05
	i=$((i + 1))
done

sps=
for g in $A $B; do
	sh -c "echo \$\$ >$CG/$g/cgroup.procs && exec \"$M\" stress -t 3 -d 2" >/dev/null &
	sps="$sps $!"
done
wait $sps
# both stresses are done: the BPF side stops, then the recorder (and drains)
kill -TERM $dp
wait $dp
rc=$?
dp=
[ $rc = 0 ] || no "bpf-dump exited $rc: $(cat $tmp/bpf.err)"
kill -INT $rp
wait $rp
rc=$?
rp=
[ $rc = 0 ] || no "record exited $rc: $(cat $tmp/rec.err)"
"$M" report --json --by memcg $tmp/t.mml >$tmp/tfs.json 2>$tmp/tfs.err ||
	no "report of the tracefs side failed: $(cat $tmp/tfs.err)"
jq -e '.lost_events == 0' $tmp/tfs.json >/dev/null && ok "tracefs lost nothing" ||
	no "tracefs lost $(jq .lost_events $tmp/tfs.json) events: the comparison is void"
jq -e '.lost_events == 0' $tmp/bpf.json >/dev/null && ok "bpf lost nothing (map full, state)" ||
	no "bpf lost events: $(jq -c '{lost_events, unmatched}' $tmp/bpf.json)"

# group G of FILE, by memcg path
for g in $A $B; do
	for k in acquisitions.read acquisitions.write failed wait_ns.count hold_ns.count; do
		x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/tfs.json)
		[ -n "$x" ] && [ "$x" = "$y" ] && ok "$g $k: $x = $y" ||
			no "$g $k: bpf ${x:-none}, tracefs ${y:-none}"
	done
	for k in wait_ns.total hold_ns.total; do
		x=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.memcg_path == \"/$g\") | .$k" $tmp/tfs.json)
		if [ -n "$x" ] && [ -n "$y" ] && [ "$y" -gt 0 ] &&
		   awk -v x="$x" -v y="$y" 'BEGIN { d = x - y; if (d < 0) d = -d; exit !(d <= y * 0.02) }'; then
			ok "$g $k: $x ~ $y (2%)"
		else
			no "$g $k: bpf ${x:-none}, tracefs ${y:-none} (more than 2% apart)"
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
			no "$g $k: bpf ${x:-none}, tracefs ${y:-none} (beyond the histogram's error)"
		fi
	done
done
[ $fail = 0 ] && echo "bpf-parity.sh: ok"
exit $fail
