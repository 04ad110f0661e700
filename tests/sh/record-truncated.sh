#!/bin/sh
# record-truncated.sh: a recording killed with SIGKILL still names what it
# holds. A memory cgroup is created after `mmaplock record` started, a
# stress runs in it, and the recorder is killed mid-run: the file, read up
# to its last complete block, must attribute events to that cgroup by its
# path (the MEMCG entry went out before the events that use it), not as a
# bare memcg_id; and the watchdog must have removed the tracefs instance.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup jq
scratch trunc
A=mmltest-late-$$
at_exit 'kill ${sp:-} 2>/dev/null; sleep 0.2'

"$M" record -o $tmp/t.mml 2>$tmp/rec.err &
rp=$!
i=0
while [ ! -d $T/instances/mmaplock-$rp ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
memcg_make $A
spawn_in sp $A "$M" stress -d 4
sleep 2.5
kill -KILL $rp
wait $rp 2>/dev/null
kill $sp 2>/dev/null
wait $sp 2>/dev/null
sp=
i=0
while ls $T/instances | grep -q "^mmaplock-$rp\$" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ls $T/instances | grep -q "^mmaplock-$rp\$" && { echo "FAIL: the instance outlived the recorder"; fail=1; }

"$M" report --by memcg --json $tmp/t.mml > $tmp/r.json 2>$tmp/rep.err
rc=$?
# a file its writer did not close is read with damage: exit 3, the rest reported
[ $rc -eq 3 ] || { echo "FAIL: report exit $rc (want 3): $(cat $tmp/rep.err)"; fail=1; }
[ "$(jq .truncated $tmp/r.json)" = true ] || { echo "FAIL: a killed recording should read as truncated"; fail=1; }
acq=$(jq "[.groups[] | select(.memcg_path == \"/$A\") | .acquisitions.read + .acquisitions.write] | add // 0" $tmp/r.json)
echo "record-truncated.sh: acquisitions under /$A: $acq"
[ "${acq:-0}" -gt 0 ] || {
	echo "FAIL: no events attributed to /$A by path; groups:"
	jq -c "[.groups[] | .key]" $tmp/r.json
	fail=1
}
[ $fail -eq 0 ] && echo "record-truncated.sh: ok"
exit $fail
