#!/bin/sh
# bpf-mapfull.sh: the BPF back-end's map-full path. With the aggregate map
# forced to one entry (MMAPLOCK_BPF_MAX_GROUPS=1, a test hook) and then the
# histogram map to one bucket (MMAPLOCK_BPF_MAX_BUCKETS=1), `mmaplock
# stress` (reads and writes: at least two (memcg, mode) keys, many buckets)
# runs under bpf-dump: the run ends normally (exit 0, JSON out), and what
# could not be stored is counted as lost events, never silently dropped.
# Skipped without root, BTF, the BPF back-end or jq.
set -u
. "$(dirname "$0")/lib.sh"
need root btf jq bpf
scratch bpffull

for hook in MMAPLOCK_BPF_MAX_GROUPS MMAPLOCK_BPF_MAX_BUCKETS; do
	env $hook=1 "$D" -d 2 -w 300 >$tmp/out.json 2>$tmp/err &
	dp=$!
	wait_attached $dp $tmp/err
	"$M" stress -t 2 -d 1 >/dev/null
	wait $dp
	rc=$?
	[ $rc = 77 ] && skip "$(cat $tmp/err)"
	[ $rc = 0 ] && ok "$hook=1: bpf-dump exits 0" || bad "$hook=1: bpf-dump exited $rc: $(cat $tmp/err)"
	jq -e . $tmp/out.json >/dev/null && ok "$hook=1: JSON" || bad "$hook=1: no JSON"
	jq -e '.lost_events > 0' $tmp/out.json >/dev/null &&
		ok "$hook=1: map full counted ($(jq .lost_events $tmp/out.json) lost)" ||
		bad "$hook=1: map full not counted: $(jq -c '{events, lost_events}' $tmp/out.json)"
	if [ $hook = MMAPLOCK_BPF_MAX_GROUPS ]; then
		n=$(jq '[.groups[] | .acquisitions.read + .acquisitions.write | select(. > 0)] | length' $tmp/out.json)
		[ "$n" -le 1 ] && ok "$hook=1: at most one group ($n)" || bad "$hook=1: $n groups in a map of one"
	fi
done
[ $fail = 0 ] && echo "bpf-mapfull.sh: ok"
exit $fail
