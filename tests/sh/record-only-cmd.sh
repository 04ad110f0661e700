#!/bin/sh
# record-only-cmd.sh: `record --only-cmd -- CMD` records CMD and its
# threads and children only. A second stress runs outside CMD at the same
# time: a plain `record -- CMD` sees both processes, --only-cmd must see
# CMD's process alone (every task in the report has CMD's tgid) and still
# see all of CMD's threads (stress -t 3: three workers plus main).
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs jq
scratch onlycmd
at_exit 'kill ${op:-} 2>/dev/null'

"$M" stress -d 6 >/dev/null &	# the other process
op=$!
op_pid=$op
sleep 0.2
for mode in all only; do
	flag=; [ $mode = only ] && flag=--only-cmd
	"$M" record $flag -o $tmp/$mode.mml -- sh -c "echo \$\$ > $tmp/$mode.pid; exec \"$M\" stress -t 3 -d 1" \
		>/dev/null 2>$tmp/$mode.err || { echo "FAIL: record $flag: $(cat $tmp/$mode.err)"; exit 1; }
	for by in process task; do
		"$M" report --by $by --json $tmp/$mode.mml > $tmp/$mode.$by.json 2>$tmp/$mode.rerr ||
			{ echo "FAIL: report ($mode): $(cat $tmp/$mode.rerr)"; exit 1; }
	done
done
kill $op 2>/dev/null
wait $op 2>/dev/null
op=

# process keys are comm[tgid]
jq -r '.groups[].key' $tmp/all.process.json | sed -n 's/.*\[\([0-9]*\)\]$/\1/p' | sort -u > $tmp/all.tgids
jq -r '.groups[].key' $tmp/only.process.json | sed -n 's/.*\[\([0-9]*\)\]$/\1/p' | sort -u > $tmp/only.tgids
cmd=$(cat $tmp/only.pid)
grep -qx "$op_pid" $tmp/all.tgids || { echo "FAIL: the whole-system recording misses the other process $op_pid"; fail=1; }
[ "$(cat $tmp/only.tgids)" = "$cmd" ] || { echo "FAIL: --only-cmd recorded processes $(tr '\n' ' ' < $tmp/only.tgids), expected only $cmd"; fail=1; }
n_cmd=$(jq '.groups | length' $tmp/only.task.json)
[ "${n_cmd:-0}" -ge 3 ] || { echo "FAIL: --only-cmd saw $n_cmd of CMD's threads, expected at least 3"; fail=1; }
echo "record-only-cmd.sh: whole system: processes $(tr '\n' ' ' < $tmp/all.tgids); --only-cmd: $n_cmd tasks of $cmd"

# usage error
"$M" record --only-cmd -d 1 -o $tmp/x.mml 2>$tmp/u.err
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < $tmp/u.err)" -eq 1 ] || { echo "FAIL: --only-cmd without CMD: exit $rc, $(cat $tmp/u.err)"; fail=1; }
[ $fail -eq 0 ] && echo "record-only-cmd.sh: ok"
exit $fail
