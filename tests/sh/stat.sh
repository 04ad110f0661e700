#!/bin/sh
# stat.sh: `mmaplock stat` records and reports in one go: with -- CMD and
# with -d, JSON that has events and groups; its temporary file is removed,
# also when the report fails or stat is killed by SIGKILL; with -o FILE the
# recording is kept.
# Where the report goes: with CMD on stderr (CMD keeps stdout), with -d
# alone on stdout, with --report FILE in FILE (one JSON document whatever
# CMD prints; an existing FILE kept when the report fails; never the -o
# recording). Every report option that takes a value passes through stat,
# as "--opt VALUE" and as "--opt=VALUE": stat's report equals report's on
# the kept recording.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs jq python3
scratch stat
mkdir $tmp/t
export TMPDIR=$tmp/t	# stat's temporary file goes there

# one JSON document: python's parser takes exactly one (jq takes a stream)
onejson() { python3 -m json.tool "$1" >/dev/null 2>&1; }
"$M" stat --json --buffer-size 32768 -- sh -c "exec \"$M\" stress -d 0.5 >/dev/null" >$tmp/out 2>$tmp/err
rc=$?
if [ $rc -eq 0 ] && [ ! -s $tmp/out ] && onejson $tmp/err &&
   jq -e '.events > 1000 and (.groups | length) > 0 and .lost_events == 0' $tmp/err >/dev/null; then
	echo "ok   stat -- stress: $(jq .events $tmp/err) events, $(jq '.groups | length' $tmp/err) groups"
else
	echo "FAIL stat -- stress: exit $rc: $(head -c 300 $tmp/out) $(head -c 300 $tmp/err)"
	fail=1
fi
# the input of a recording not kept is named as such, never by a path that is gone
in=$(jq -r .input $tmp/err)
if [ "$in" = "stat's recording, not kept" ]; then
	echo "ok   stat's input: $in"
else
	echo "FAIL stat's JSON input: '$in'"
	fail=1
fi
# CMD writes to stdout: stdout is CMD's alone, the report (stderr) one JSON document
"$M" stat --json -- sh -c "echo noise; \"$M\" stress -d 1 >/dev/null" >$tmp/out6 2>$tmp/err6
rc=$?
if [ $rc -eq 0 ] && [ "$(cat $tmp/out6)" = noise ] && onejson $tmp/err6 &&
   jq -e '.events > 1000' $tmp/err6 >/dev/null; then
	echo "ok   stat --json -- CMD: stdout is CMD's, the report on stderr parses"
else
	echo "FAIL stat --json -- CMD: exit $rc, stdout: $(head -c 200 $tmp/out6) stderr: $(head -c 300 $tmp/err6)"
	fail=1
fi
# CMD fails: stat exits with its status, and the JSON on stderr stays one document
"$M" stat --json -- sh -c "echo noise; \"$M\" stress -d 0.3 >/dev/null; exit 4" >$tmp/out8 2>$tmp/err8
rc=$?
if [ $rc -eq 4 ] && [ "$(cat $tmp/out8)" = noise ] && onejson $tmp/err8; then
	echo "ok   stat --json -- CMD that fails: exit 4, the report on stderr parses"
else
	echo "FAIL stat --json -- failing CMD: exit $rc, stderr: $(head -c 300 $tmp/err8)"
	fail=1
fi
# --report FILE: there, whatever CMD writes to stdout and stderr
"$M" stat --json --report $tmp/rep.json -- sh -c "echo noise; echo chatter >&2; \"$M\" stress -d 0.5 >/dev/null" \
	>$tmp/out7 2>$tmp/err7
rc=$?
if [ $rc -eq 0 ] && [ "$(cat $tmp/out7)" = noise ] && [ "$(cat $tmp/err7)" = chatter ] &&
   onejson $tmp/rep.json && jq -e '.events > 1000' $tmp/rep.json >/dev/null; then
	echo "ok   stat --report FILE: one JSON document in FILE, CMD's output as it was"
else
	echo "FAIL stat --report FILE: exit $rc, stdout: $(head -c 200 $tmp/out7) stderr: $(head -c 300 $tmp/err7) file: $(head -c 200 $tmp/rep.json 2>&1)"
	fail=1
fi
# a report that fails leaves an existing FILE as it was, and no temporary file beside it
echo before >$tmp/rep2.json
"$M" stat -d 0.2 --by nonsense --report $tmp/rep2.json >/dev/null 2>$tmp/err8
rc=$?
if [ $rc -ne 0 ] && [ "$(cat $tmp/rep2.json)" = before ] && [ -z "$(ls -a $tmp | grep 'rep2.json.*tmp')" ]; then
	echo "ok   stat --report FILE: a failed report keeps FILE: $(cat $tmp/err8)"
else
	echo "FAIL stat --report FILE after a failed report: exit $rc, FILE: $(head -c 100 $tmp/rep2.json), dir: $(ls -a $tmp)"
	fail=1
fi
# the report never goes over the recording
"$M" stat -o $tmp/same.mml --report $tmp/./same.mml -d 0.2 >/dev/null 2>$tmp/err9
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <$tmp/err9)" -eq 1 ] && [ ! -e $tmp/same.mml ]; then
	echo "ok   stat --report FILE -o FILE refused: $(cat $tmp/err9)"
else
	echo "FAIL stat --report and -o one file: exit $rc: $(cat $tmp/err9) $(ls -l $tmp/same.mml 2>&1)"
	fail=1
fi
# --backend bpf: the BPF back-end writes no recording, stat needs one: one line, exit 2
"$M" stat -d 1 --backend bpf >$tmp/o10 2>$tmp/err10
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <$tmp/err10)" -eq 1 ] &&
	grep -q '^mmaplock stat: --backend bpf: stat needs every event (a recording); use tracefs or auto$' $tmp/err10; then
	echo "ok   stat --backend bpf refused: $(cat $tmp/err10)"
else
	echo "FAIL stat --backend bpf: exit $rc: $(cat $tmp/err10)"
	fail=1
fi
# report's options that take a value, from report's own table, both forms
n=0
valued=$("$M" report --list-options | awk '$2 != "none" { print $1 }')
[ -n "$valued" ] || { echo "FAIL report --list-options names no option with a value"; fail=1; }
for o in $valued; do
	case $o in
	--by) v=process ;;
	--sort) v=hold ;;
	--top) v=2 ;;
	--stacks) v=3 ;;
	--html) v=$tmp/page.html ;;
	--html-worst) v=3 ;;	# with --html (below)
	--pods-dir) v=$tmp ;;
	*) echo "FAIL report $o takes a value: give stat.sh a value to try it with"; fail=1; continue ;;
	esac
	for form in space eq; do
		n=$((n + 1))
		if [ $form = space ]; then set -- "$o" "$v"; else set -- "$o=$v"; fi
		[ $o = --html-worst ] && set -- --html $tmp/page.html "$@"
		rm -f $tmp/page.html
		"$M" stat -o $tmp/pass$n.mml --stack -d 0.2 "$@" >$tmp/s.out 2>$tmp/s.err
		rc=$?
		[ -f $tmp/page.html ] && mv $tmp/page.html $tmp/s.html
		"$M" report $tmp/pass$n.mml "$@" >$tmp/r.out 2>$tmp/r.err
		[ -f $tmp/page.html ] && mv $tmp/page.html $tmp/r.html
		if [ $rc -eq 0 ] && cmp -s $tmp/s.out $tmp/r.out &&
		   { [ "${o%-worst}" != --html ] || { [ -s $tmp/s.html ] && cmp -s $tmp/s.html $tmp/r.html; }; }; then
			echo "ok   stat $*: as report $*"
		else
			echo "FAIL stat $*: exit $rc: $(head -c 300 $tmp/s.err) $(diff $tmp/s.out $tmp/r.out | head -5)"
			fail=1
		fi
		rm -f $tmp/s.html $tmp/r.html
	done
done
"$M" stress -d 2 >/dev/null &
sp=$!
"$M" stat -d 0.5 --json --by process >$tmp/out2 2>$tmp/err2
rc=$?
wait $sp
if [ $rc -eq 0 ] && jq -e '[.groups[].key | test("mmaplock")] | any' $tmp/out2 >/dev/null; then
	echo "ok   stat -d: the running stress appears by process"
else
	echo "FAIL stat -d: exit $rc: $(head -c 300 $tmp/out2) $(cat $tmp/err2)"
	fail=1
fi
# and when the report fails (a report option it refuses)
"$M" stat -d 0.2 --by nonsense >/dev/null 2>$tmp/err3
rc=$?
[ $rc -ne 0 ] && echo "ok   report refused --by nonsense: exit $rc" || { echo "FAIL: --by nonsense accepted"; fail=1; }
# -o FILE: the recording is kept, and reporting it again gives the same figures
"$M" stat -o $tmp/kept.mml --json -- sh -c "exec \"$M\" stress -d 0.3 >/dev/null" >$tmp/err4 2>$tmp/out4
rc=$?
"$M" report $tmp/kept.mml --json >$tmp/out5 2>>$tmp/err4
if [ $rc -eq 0 ] && [ -s $tmp/kept.mml ] && jq -e '.events > 1000' $tmp/out4 >/dev/null &&
   [ "$(jq -c '[.events, .groups]' $tmp/out4)" = "$(jq -c '[.events, .groups]' $tmp/out5)" ]; then
	echo "ok   stat -o: recording kept, $(jq .events $tmp/out5) events, report of it equal"
else
	echo "FAIL stat -o: exit $rc, kept: $(ls -l $tmp/kept.mml 2>&1) $(cat $tmp/err4)"
	fail=1
fi
left=$(ls $tmp/t)
[ -z "$left" ] && echo "ok   temporary files removed" || { echo "FAIL: temporary file left: $left"; fail=1; }
# SIGKILL (no handler runs): the temporary recording and --report's
# temporary file beside FILE are still removed, by the process that outlives stat
mkdir $tmp/k
"$M" stat -d 30 --report $tmp/k/r.txt >/dev/null 2>&1 &
p=$!
i=0
while [ ! -d $T/instances/mmaplock-$p ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
[ -n "$(ls -A $tmp/t)" ] || bad "stat -d 30: no temporary recording in \$TMPDIR"
kill -KILL $p
wait $p 2>/dev/null
left() { echo $(ls -A $tmp/t) $(ls -A $tmp/k); }
i=0
while [ -n "$(left)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -z "$(left)" ] && ok "stat killed by SIGKILL: temporary files removed" ||
	bad "stat killed by SIGKILL: left: $(left)"
exit $fail
