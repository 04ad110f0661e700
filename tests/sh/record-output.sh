#!/bin/sh
# record-output.sh: `record -o FILE` and `stat -o FILE` never destroy a file
# they were not told to replace. An existing FILE is refused (exit 1, one
# line, FILE unchanged) unless -f is given; with -f the new recording
# replaces FILE when it ends, and a recording that fails leaves the old FILE
# as it was. A second recorder writing to the FILE a first one is writing
# fails with one line, with or without -f, and the first one's file reads
# cleanly.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs
scratch output
at_exit 'kill ${rp:-} 2>/dev/null'

# one_line WHAT RC WANT: exit WANT and one line on $tmp/err
one_line() {
	if [ "$2" -eq "$3" ] && [ "$(wc -l <$tmp/err)" -eq 1 ]; then
		ok "$1: exit $2: $(cat $tmp/err)"
	else
		bad "$1: exit $2 (want $3), stderr: $(cat $tmp/err)"
	fi
}
unchanged() {
	[ "$(cat "$2")" = precious ] && ok "$1: the old file is unchanged" || bad "$1: the old file was changed"
}
no_temp() {
	left=$(ls -A $tmp | grep -v -e 'err$' -e '^out$' -e '\.mml$' -e '\.old$' | tr '\n' ' ')
	[ -z "$left" ] && ok "$1: nothing left beside" || bad "$1: left beside: $left"
}

for cmd in record stat; do
	f=$tmp/$cmd.mml
	echo precious >$f
	"$M" $cmd -o $f -d 0.2 >$tmp/out 2>$tmp/err
	one_line "$cmd -o an existing file" $? 1
	grep -q -- "-f" $tmp/err || bad "$cmd: the error does not say how to replace it"
	unchanged "$cmd without -f" $f

	# -f, but the recording fails (a missing -p): the old file stays
	"$M" $cmd -f -p 999999 -o $f -d 0.2 >$tmp/out 2>$tmp/err
	one_line "$cmd -f of a failing recording" $? 1
	unchanged "$cmd -f, failed" $f
	no_temp "$cmd -f, failed"

	"$M" $cmd -f -o $f -d 0.2 >$tmp/out 2>$tmp/err
	rc=$?
	[ $rc -eq 0 ] && head -c 8 $f | grep -q MMLTRACE && ok "$cmd -f replaces the file" ||
		bad "$cmd -f: exit $rc, $(head -c 8 $f): $(cat $tmp/err)"
	no_temp "$cmd -f"
done

# a SIGKILLed recording with -f: the old file stays
echo precious >$tmp/k.mml
"$M" record -f -o $tmp/k.mml 2>/dev/null &
rp=$!
i=0
while [ ! -d $T/instances/mmaplock-$rp ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
kill -KILL $rp
wait $rp 2>/dev/null
rp=
unchanged "record -f killed by SIGKILL" $tmp/k.mml
rm -f $tmp/.k.mml.*

# two recorders, one file
"$M" record -o $tmp/two.mml 2>$tmp/first.err &
rp=$!
i=0
while [ ! -d $T/instances/mmaplock-$rp ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
"$M" record -o $tmp/two.mml -d 0.3 >$tmp/out 2>$tmp/err
one_line "a second record to the same file" $? 1
"$M" record -f -o $tmp/two.mml -d 0.3 >$tmp/out 2>$tmp/err
one_line "a second record -f to the same file" $? 1
grep -q "another" $tmp/err || bad "record -f: the error does not say another recording writes it"
"$M" stat -f -o $tmp/two.mml -d 0.3 >$tmp/out 2>$tmp/err
one_line "stat -f to a file record writes" $? 1
"$M" stress -d 0.5 >/dev/null
kill -INT $rp
wait $rp
rc=$?
rp=
[ $rc -eq 0 ] || bad "the first recorder: exit $rc: $(cat $tmp/first.err)"
"$M" report --json $tmp/two.mml >$tmp/out 2>$tmp/err
rc=$?
if [ $rc -eq 0 ] && grep -q '"truncated": false' $tmp/out && [ ! -s $tmp/err ]; then
	ok "the first recorder's file reads cleanly"
else
	bad "the first recorder's file: report exit $rc: $(cat $tmp/err)"
fi
no_temp "two recorders"
exit $fail
