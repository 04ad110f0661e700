#!/bin/sh
# bpf-churn.sh: the BPF back-end's maps stay bounded while processes and
# memory cgroups come and go. With the aggregate map made small
# (MMAPLOCK_BPF_MAX_GROUPS, a test hook) and windows of 100 ms, batches of
# short processes run, each batch in a memory cgroup made for it and removed
# after it: far more (memcg, process, mode) keys over the run than the map
# holds. Grouped by process, then by memcg alone: nothing may be lost to a
# full map (the entries of dead processes and removed memcgs are reclaimed
# once read), and the map holds no more than its bound at the end.
# Skipped without root, BTF, the BPF back-end, cgroup v1 memory or jq.
set -u
M=${MMAPLOCK:-build/mmaplock}
D=${MMAPLOCK_BUILD:-build}/tests/bpf-dump
CG=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "bpf-churn.sh: skipped: needs root"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "bpf-churn.sh: skipped: no BTF at /sys/kernel/btf/vmlinux"; exit 77; }
[ -d $CG ] || { echo "bpf-churn.sh: skipped: no cgroup v1 memory hierarchy at $CG"; exit 77; }
command -v jq >/dev/null || { echo "bpf-churn.sh: skipped: jq missing"; exit 77; }
[ -x "$D" ] || { echo "bpf-churn.sh: skipped: $D not built"; exit 77; }

tmp=$(mktemp -d /tmp/mml-bpfchurn.XXXXXX)
P=mmltest-churn-$$
dp=
trap '[ -n "$dp" ] && kill $dp 2>/dev/null; wait 2>/dev/null; rmdir $CG/$P-* 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
fail=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

# BATCHES batches of 8 processes, each batch in its own memcg
churn() {
	b=0
	while [ $b -lt $1 ]; do
		mkdir $CG/$P-$b
		k=0 ps=
		while [ $k -lt 8 ]; do
			sh -c "echo \$\$ >$CG/$P-$b/cgroup.procs && exec \"$M\" stress -t 1 -d 0.01" >/dev/null &
			ps="$ps $!"
			k=$((k + 1))
		done
		wait $ps
		rmdir $CG/$P-$b
		sleep 0.1
		b=$((b + 1))
	done
}

for mode in process memcg; do
	[ $mode = process ] && max=512 batches=80 || max=48 batches=60
	MMAPLOCK_BPF_MAX_GROUPS=$max "$D" -b $mode -w 100 -d 600 >$tmp/out.json 2>$tmp/err &
	dp=$!
	i=0
	until grep -q attached $tmp/err 2>/dev/null; do
		if ! kill -0 $dp 2>/dev/null; then
			wait $dp
			[ $? = 77 ] && { echo "bpf-churn.sh: skipped: $(cat $tmp/err)"; dp=; exit 77; }
			no "bpf-dump -b $mode: $(cat $tmp/err)"
			dp=
			continue 2
		fi
		[ $i -lt 200 ] || { echo "FAIL bpf-dump never attached"; exit 1; }
		sleep 0.05
		i=$((i + 1))
	done
	churn $batches
	sleep 0.5
	kill -TERM $dp
	wait $dp
	rc=$?
	dp=
	[ $rc = 0 ] || { no "-b $mode: bpf-dump exited $rc: $(cat $tmp/err)"; continue; }
	# groups of a memcg fold its two modes: two keys each
	n=$(jq '.groups | length' $tmp/out.json)
	need=$max
	[ $mode = memcg ] && need=$((max / 2))
	[ "$n" -gt "$need" ] &&
		ok "-b $mode: more keys over the run than the map holds ($n groups)" ||
		no "-b $mode: only $n churned groups: the run proves nothing"
	jq -e '.lost_events == 0' $tmp/out.json >/dev/null &&
		ok "-b $mode: nothing lost to a full map" ||
		no "-b $mode: $(jq .lost_events $tmp/out.json) events lost to a full map (entries of the dead not reclaimed)"
	m=$(jq .maps $tmp/out.json)
	[ "$m" -ge 0 ] && [ "$m" -le $max ] && ok "-b $mode: $m entries at the end (bound $max)" ||
		no "-b $mode: $m entries at the end"
done
[ $fail = 0 ] && echo "bpf-churn.sh: ok"
exit $fail
