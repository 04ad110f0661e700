#!/bin/sh
# bpf-groups.sh: the BPF back-end's groupings through the commands that
# take windows. (1) `mmaplock exporter --backend bpf` (groups of memcg and
# mode) runs and serves, for a memory cgroup running `mmaplock stress`,
# rising acquisition counters labelled with the cgroup path, and
# mmaplock_backend_info{backend="bpf"}. (2) `mmaplock top --backend bpf --by
# process` shows the stress process by name. (3) Parity by process: two
# stress processes in one memcg, watched at the same time by the BPF
# back-end by process (bpf-dump -b process) and an independent tracefs
# recording (`report --json --by process`): per process, acquisitions per
# mode and failures equal, nothing lost on either side. (4) --by mm is
# refused in one line naming what the back-end can do.
# Skipped without root, BTF, the BPF back-end, tracefs events, curl or jq.
set -u
. "$(dirname "$0")/lib.sh"
need root btf tracefs cgroup jq curl bpf
scratch bpfgrp
A=mmltest-bpfg-$$
xp= dp= rp=
at_exit 'stop $xp $dp $rp; wait'
memcg_make $A

# ---- (1) the exporter
"$M" exporter --backend bpf --listen 127.0.0.1:0 -i 0.5 >$tmp/x.out 2>$tmp/x.err &
xp=$!
i=0
url=
while [ $i -lt 100 ] && [ -z "$url" ]; do
	url=$(grep -ho 'http://[^ ]*/metrics' $tmp/x.err 2>/dev/null | head -1)
	kill -0 $xp 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$url" ]; then
	bad "exporter --backend bpf did not start: $(cat $tmp/x.err)"
else
	spawn_in sp $A "$M" stress -t 2 -d 2
	sleep 1.2
	curl -s --max-time 5 "$url" >$tmp/m1
	wait $sp
	sleep 1.2
	curl -s --max-time 5 "$url" >$tmp/m2
	grep -q 'mmaplock_backend_info{backend="bpf"} 1' $tmp/m2 && ok "exporter: backend bpf in /metrics" ||
		bad "exporter: no mmaplock_backend_info{backend=\"bpf\"}: $(grep backend $tmp/m2)"
	a1=$(grep "^mmaplock_acquisitions_total{.*/$A\"" $tmp/m1 | awk '{ s += $NF } END { print s + 0 }')
	a2=$(grep "^mmaplock_acquisitions_total{.*/$A\"" $tmp/m2 | awk '{ s += $NF } END { print s + 0 }')
	[ "$a2" -gt "$a1" ] && [ "$a1" -gt 0 ] && ok "exporter: acquisitions of /$A rise ($a1 -> $a2)" ||
		bad "exporter: acquisitions of /$A: $a1 -> $a2"
	grep "^mmaplock_acquisitions_total{.*/$A\"" $tmp/m2 | grep -q 'mode="write"' &&
		grep "^mmaplock_acquisitions_total{.*/$A\"" $tmp/m2 | grep -q 'mode="read"' &&
		ok "exporter: both modes of /$A" || bad "exporter: modes of /$A: $(grep "/$A" $tmp/m2 | head -3)"
	signal_wait TERM $xp
	[ $rc = 0 ] && ok "exporter: SIGTERM, exit 0" || bad "exporter: exit $rc after SIGTERM: $(cat $tmp/x.err)"
fi
xp=

# ---- (2) top by process
spawn_in sp $A "$M" stress -t 2 -d 3
sleep 0.3
"$M" top --backend bpf --by process -n 2 -i 0.5 >$tmp/top.out 2>$tmp/top.err
rc=$?
[ $rc = 0 ] && ok "top --backend bpf --by process: exit 0" || bad "top --by process: exit $rc: $(cat $tmp/top.err)"
grep -q "by process" $tmp/top.out && grep -q "^mmaplock\[$sp\]" $tmp/top.out &&
	ok "top --by process: row mmaplock[$sp]" || bad "top --by process: no row mmaplock[$sp]: $(head -5 $tmp/top.out)"
wait $sp

# ---- (3) parity by process
"$M" record -G /$A -G / --buffer-size 65536 -o $tmp/t.mml 2>$tmp/rec.err &
rp=$!
wait_recording $rp || { echo "FAIL recorder $rp never started"; exit 1; }
"$D" -b process -d 600 >$tmp/bpf.json 2>$tmp/bpf.err &
dp=$!
wait_attached $dp $tmp/bpf.err || { bad "bpf-dump -b process never attached: $(cat $tmp/bpf.err)"; exit 1; }
# forked by a shell already in $A: every event of theirs is in $A, which
# the recorder filters on (the launching shell's own events before it
# moved would count on the BPF side only), or, once the exiting process's
# mm has no owner (exit_mmap), in the root memcg: recorded too (-G /)
sh -c "echo \$\$ >$CG/$A/cgroup.procs && { \"$M\" stress -t 2 -d 2 & echo \$! >$tmp/s1;
	\"$M\" stress -t 1 -d 2 & echo \$! >$tmp/s2; wait; }" >/dev/null
s1=$(cat $tmp/s1) s2=$(cat $tmp/s2)
sides_stop process
for p in $s1 $s2; do
	for k in acquisitions.read acquisitions.write failed hold_ns.count; do
		x=$(jq ".groups[] | select(.key == \"mmaplock[$p]\") | .$k" $tmp/bpf.json)
		y=$(jq ".groups[] | select(.key == \"mmaplock[$p]\") | .$k" $tmp/tfs.json)
		[ -n "$x" ] && [ "$x" = "$y" ] && ok "mmaplock[$p] $k: $x = $y" ||
			bad "mmaplock[$p] $k: bpf ${x:-none}, tracefs ${y:-none}"
	done
done

# ---- (4) what it cannot group by
"$M" top --backend bpf --by mm -n 1 >/dev/null 2>$tmp/mm.err
rc=$?
[ $rc = 1 ] && [ "$(wc -l <$tmp/mm.err)" = 1 ] && grep -q "memcg or process" $tmp/mm.err &&
	ok "top --backend bpf --by mm: exit 1, $(cat $tmp/mm.err)" ||
	bad "top --backend bpf --by mm: exit $rc: $(cat $tmp/mm.err)"
[ $fail = 0 ] && echo "bpf-groups.sh: ok"
exit $fail
