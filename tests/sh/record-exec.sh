#!/bin/sh
# record-exec.sh: a task is named after its last exec. The command
#	sh -c 'echo $$ >PIDFILE; sleep 0.3; exec PROBE stress ...'
# (PROBE: a copy of the mmaplock binary under a name of its own, so that its
# comm says which program ran) takes the mmap_lock as `sh` (its own exec and
# the fork of sleep), is looked up in /proc while sleep runs, then execs
# PROBE and takes the lock much more. A recording of it (`record -- CMD`,
# and `stat -o FILE -- CMD`) must name that process PROBE in report --by
# process and --by task (the kernel's task:task_rename event, which the
# recorder traces, renames it), not `sh`, the name it had when first seen.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs jq
[ -d $T/events/task/task_rename ] || skip "no task:task_rename event"
scratch exec
P=mmlexecprobe
cp "$M" $tmp/$P || skip "cannot copy $M"
CMD="echo \$\$ >$tmp/pid; sleep 0.3; exec $tmp/$P stress -t 1 -d 0.5 >/dev/null"

# named NAME FILE: the CMD's process and its main task are PROBE[PID] in FILE
named() {
	name=$1 f=$2 pid=$(cat $tmp/pid 2>/dev/null)
	[ -n "$pid" ] || { bad "$name: CMD did not run"; return; }
	for by in process task; do
		"$M" report --by $by --json "$f" >$tmp/rep.json 2>$tmp/rep.err ||
			{ bad "$name: report --by $by: exit $?: $(cat $tmp/rep.err)"; continue; }
		got=$(jq -r "[.groups[].key | select(endswith(\"[$pid]\"))] | join(\" \")" $tmp/rep.json)
		[ "$got" = "$P[$pid]" ] && ok "$name: --by $by: $got" ||
			bad "$name: --by $by: the CMD's row is '$got', not $P[$pid]"
	done
}

"$M" record -o $tmp/r.mml -- sh -c "$CMD" 2>$tmp/rec.err || bad "record: exit $?: $(cat $tmp/rec.err)"
named record $tmp/r.mml

rm -f $tmp/pid
"$M" stat -o $tmp/s.mml -- sh -c "$CMD" 2>$tmp/stat.err || bad "stat: exit $?: $(cat $tmp/stat.err)"
named "stat -o" $tmp/s.mml

i=0
while ls $T/instances | grep -q '^mmaplock-' && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
exit $fail
