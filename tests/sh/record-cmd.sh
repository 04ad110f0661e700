#!/bin/sh
# record-cmd.sh: `record -- CMD` and `stat -- CMD` and their CMD.
#   - exit status: CMD's own (3 for `exit 3`), 128 + the signal for a CMD
#     killed by a signal, with one line on stderr saying how CMD ended; 0
#     and no such line when CMD succeeded;
#   - CMD dies with the recorder: SIGKILL of `mmaplock record` (which cannot
#     pass the signal on) leaves no CMD running.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs
scratch cmd
at_exit 'kill ${rp:-} ${cp:-} 2>/dev/null'
n=0

# status CMDNAME WANT_RC WANT_LINE -- ARGS: run mmaplock ARGS, check its exit and stderr
status() {
	what=$1 want=$2 line=$3
	shift 4
	n=$((n + 1))
	"$M" "$@" >$tmp/out 2>$tmp/err
	rc=$?
	if [ $rc -ne "$want" ]; then
		bad "$what: exit $rc, want $want: $(cat $tmp/err)"
	elif [ -n "$line" ] && ! grep -q "$line" $tmp/err; then
		bad "$what: exit $rc but no line '$line' on stderr: $(cat $tmp/err)"
	elif [ -z "$line" ] && grep -q "exited with\|killed by" $tmp/err; then
		bad "$what: a line about CMD although it succeeded: $(cat $tmp/err)"
	else
		ok "$what: exit $rc $(grep "exited with\|killed by" $tmp/err)"
	fi
}

for c in record stat; do
	status "$c -- exit 3" 3 "sh exited with status 3" -- $c -o $tmp/$c-3.mml -- sh -c 'exit 3'
	status "$c -- kill -TERM self" 143 "sh killed by signal 15" -- $c -o $tmp/$c-t.mml -- sh -c 'kill -TERM $$'
	status "$c -- kill -KILL self" 137 "sh killed by signal 9" -- $c -o $tmp/$c-k.mml -- sh -c 'kill -KILL $$'
	status "$c -- true" 0 "" -- $c -o $tmp/$c-0.mml -- true
	# the recording itself fails: 1, whatever CMD would have done
	status "$c -p missing -- exit 3" 1 "no such process" -- $c -p 999999 -o $tmp/$c-f.mml -- sh -c 'exit 3'
done
# -d ends the recording first: CMD is stopped by the recorder, not failed
status "record -d 0.5 -- sleep 30" 0 "" -- record -d 0.5 -o $tmp/d.mml -- sleep 30

# SIGKILL of the recorder: CMD goes with it
"$M" record -o $tmp/k.mml -- sh -c "echo \$\$ > $tmp/cmd.pid; exec sleep 60" 2>$tmp/err &
rp=$!
i=0
while [ ! -s $tmp/cmd.pid ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cp=$(cat $tmp/cmd.pid 2>/dev/null)
if [ -z "$cp" ]; then
	bad "CMD never started: $(cat $tmp/err)"
else
	kill -KILL $rp
	wait $rp 2>/dev/null
	rp=
	# gone, or a zombie of an init that does not reap
	alive() { [ -e /proc/$cp ] && ! grep -q '^[^)]*) Z' /proc/$cp/stat 2>/dev/null; }
	i=0
	while alive && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	if alive; then
		bad "CMD (pid $cp, $(cat /proc/$cp/comm 2>/dev/null)) outlived the SIGKILLed recorder"
		kill $cp 2>/dev/null
	else
		ok "CMD died with the SIGKILLed recorder"
	fi
	cp=
fi
exit $fail
