#!/bin/sh
# bpf-mapfull.sh: the BPF back-end's map-full path. With the aggregate map
# forced to one entry (MMAPLOCK_BPF_MAX_GROUPS=1, a test hook) and then the
# histogram map to one bucket (MMAPLOCK_BPF_MAX_BUCKETS=1), `mmaplock
# stress` (reads and writes: at least two (memcg, mode) keys, many buckets)
# runs under bpf-dump: the run ends normally (exit 0, JSON out), and what
# could not be stored is counted as lost events, never silently dropped.
# Skipped without root, BTF, the BPF back-end or jq.
set -u
M=${MMAPLOCK:-build/mmaplock}
D=${MMAPLOCK_BUILD:-build}/tests/bpf-dump
[ "$(id -u)" -eq 0 ] || { echo "bpf-mapfull.sh: skipped: needs root"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "bpf-mapfull.sh: skipped: no BTF at /sys/kernel/btf/vmlinux"; exit 77; }
command -v jq >/dev/null || { echo "bpf-mapfull.sh: skipped: jq missing"; exit 77; }
[ -x "$D" ] || { echo "bpf-mapfull.sh: skipped: $D not built"; exit 77; }

tmp=$(mktemp -d /tmp/mml-bpffull.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

for hook in MMAPLOCK_BPF_MAX_GROUPS MMAPLOCK_BPF_MAX_BUCKETS; do
	env $hook=1 "$D" -d 2 -w 300 >$tmp/out.json 2>$tmp/err &
	dp=$!
	i=0
	until grep -q attached $tmp/err 2>/dev/null || ! kill -0 $dp 2>/dev/null || [ $i -ge 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	"$M" stress -t 2 -d 1 >/dev/null
	wait $dp
	rc=$?
	if [ $rc = 77 ]; then
		echo "bpf-mapfull.sh: skipped: $(cat $tmp/err)"
		exit 77
	fi
	[ $rc = 0 ] && ok "$hook=1: bpf-dump exits 0" || no "$hook=1: bpf-dump exited $rc: $(cat $tmp/err)"
	jq -e . $tmp/out.json >/dev/null && ok "$hook=1: JSON" || no "$hook=1: no JSON"
	jq -e '.lost_events > 0' $tmp/out.json >/dev/null &&
		ok "$hook=1: map full counted ($(jq .lost_events $tmp/out.json) lost)" ||
		no "$hook=1: map full not counted: $(jq -c '{events, lost_events}' $tmp/out.json)"
	if [ $hook = MMAPLOCK_BPF_MAX_GROUPS ]; then
		n=$(jq '[.groups[] | .acquisitions.read + .acquisitions.write | select(. > 0)] | length' $tmp/out.json)
		[ "$n" -le 1 ] && ok "$hook=1: at most one group ($n)" || no "$hook=1: $n groups in a map of one"
	fi
done
[ $fail = 0 ] && echo "bpf-mapfull.sh: ok"
exit $fail
