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
. "$(dirname "$0")/lib.sh"
need root btf cgroup jq bpf
scratch bpfchurn
P=mmltest-churn-$$
dp=
at_exit 'stop $dp; wait; rmdir $CG/$P-* 2>/dev/null'

# BATCHES batches of 8 processes, each batch in its own memcg
churn() {
	b=0
	while [ $b -lt $1 ]; do
		mkdir $CG/$P-$b
		k=0 ps=
		while [ $k -lt 8 ]; do
			spawn_in s $P-$b "$M" stress -t 1 -d 0.01
			ps="$ps $s"
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
	dump_start $tmp/out.json $tmp/err env MMAPLOCK_BPF_MAX_GROUPS=$max \
		"$D" -b $mode -w 100 -d 600 || continue
	churn $batches
	sleep 0.5
	kill -TERM $dp
	wait $dp
	rc=$?
	dp=
	[ $rc = 0 ] || { bad "-b $mode: bpf-dump exited $rc: $(cat $tmp/err)"; continue; }
	# groups of a memcg fold its two modes: two keys each
	n=$(jq '.groups | length' $tmp/out.json)
	need=$max
	[ $mode = memcg ] && need=$((max / 2))
	[ "$n" -gt "$need" ] &&
		ok "-b $mode: more keys over the run than the map holds ($n groups)" ||
		bad "-b $mode: only $n churned groups: the run proves nothing"
	jq -e '.lost_events == 0' $tmp/out.json >/dev/null &&
		ok "-b $mode: nothing lost to a full map" ||
		bad "-b $mode: $(jq .lost_events $tmp/out.json) events lost to a full map (entries of the dead not reclaimed)"
	m=$(jq .maps $tmp/out.json)
	[ "$m" -ge 0 ] && [ "$m" -le $max ] && ok "-b $mode: $m entries at the end (bound $max)" ||
		bad "-b $mode: $m entries at the end"
done
[ $fail = 0 ] && echo "bpf-churn.sh: ok"
exit $fail
