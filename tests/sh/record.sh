#!/bin/sh
# record.sh: `mmaplock record` and `stress` options and errors: bad flags
# exit 2 with one line; a CMD that cannot run: one line, exit 1, no file;
# not root: one line naming the permission, exit 1;
# a recording is an mmaplock trace file (magic, END block) whose summary
# counts events; -p restricts the recording to one process's threads.
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
tmp=$(mktemp -d /tmp/mml-record.XXXXXX)
chmod 755 $tmp
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

# usage errors: exit 2, exactly one line on stderr, nothing recorded
for args in "record -d" "record -d x" "record -d -1" "record -p abc" "record --buffer-size 1" \
	    "record --bogus" "stat -d x" "stat" "stress -t 0" "stress -d nan" "stress --bogus" "stress -t"; do
	# shellcheck disable=SC2086
	"$M" $args >$tmp/out 2>$tmp/err
	rc=$?
	lines=$(wc -l <$tmp/err)
	if [ $rc -eq 2 ] && [ "$lines" -eq 1 ]; then ok "'$args': exit 2, one line"; else no "'$args': exit $rc, $lines lines: $(cat $tmp/err)"; fi
done
"$M" record --help >$tmp/out 2>&1 && grep -q -- "--buffer-size" $tmp/out && ok "record --help" || no "record --help"

# a CMD that cannot run: exit 1, one line naming it, nothing recorded
for args in "record -o $tmp/nx.mml -- /nonexistent/cmd" "record -o $tmp/nx.mml -- mml-no-such-command" \
	    "record -o $tmp/nx.mml -- /" "stat -o $tmp/nx.mml -- mml-no-such-command"; do
	# shellcheck disable=SC2086
	"$M" $args >$tmp/out 2>$tmp/err
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "cannot run" $tmp/err && [ ! -e $tmp/nx.mml ]; then
		ok "'$args': $(cat $tmp/err)"
	else
		no "'$args': exit $rc, file $(ls $tmp/nx.mml 2>&1): $(cat $tmp/err)"
	fi
	rm -f $tmp/nx.mml
done

[ "$(id -u)" -eq 0 ] || { echo "record.sh: skipped the rest: needs root"; exit $fail; }
[ -d $T/events/mmap_lock ] || { echo "record.sh: skipped the rest: no mmap_lock events"; exit $fail; }

# not root
if command -v setpriv >/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		"$M" record -o $tmp/nobody.mml -d 0.2 >$tmp/out 2>$tmp/err
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "run as root" $tmp/err; then
		ok "as nobody: $(cat $tmp/err)"
	else
		no "as nobody: exit $rc: $(cat $tmp/err)"
	fi
	# the live commands with --backend auto: BPF refused, then tracefs too: one line, not two
	for args in "top -n 1" "stat -d 0.2" "exporter --listen 127.0.0.1:0"; do
		# shellcheck disable=SC2086
		timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
			"$M" $args >$tmp/out 2>$tmp/err </dev/null
		rc=$?
		if [ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "run as root" $tmp/err; then
			ok "as nobody, $args: $(cat $tmp/err)"
		else
			no "as nobody, $args: exit $rc: $(cat $tmp/err)"
		fi
	done
	# watch -o makes its directory (mkdir -p); refused a start, it leaves none
	# of what it made, and keeps the one that was there
	chmod 1777 $tmp && mkdir -m 777 $tmp/had
	for d in $tmp/nrw/a/b $tmp/had; do
		timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
			"$M" watch -o $d -d 0.5 >$tmp/out 2>$tmp/err </dev/null
		rc=$?
		[ $rc -eq 1 ] || no "as nobody, watch -o $d: exit $rc: $(cat $tmp/err)"
	done
	[ ! -e $tmp/nrw ] && [ -d $tmp/had ] && ok "as nobody, watch -o: made directories removed, the old one kept" ||
		no "as nobody, watch -o: $(ls -R $tmp/nrw $tmp/had 2>&1 | tr '\n' ' ')"
fi

# a recording of the workload
"$M" record -o $tmp/r.mml -- "$M" stress -d 0.5 >$tmp/out 2>$tmp/err || no "record -- stress: exit $?"
head -c 8 $tmp/r.mml | grep -q MMLTRACE && ok "file magic" || no "file magic"
n=$(sed -n 's/.*: \([0-9]*\) events, \([0-9]*\) lost, written to.*/\1/p' $tmp/err)
[ -n "$n" ] && [ "$n" -gt 10000 ] && ok "summary: $n events" || no "summary: '$(cat $tmp/err)'"
grep -q "mincore" $tmp/out && ok "stress printed its rates" || no "stress output: $(cat $tmp/out)"

# unwritable output: one line, exit 1, no instance left
"$M" record -o /nonexistent/dir/x.mml -d 0.1 2>$tmp/err &
bp=$!
wait $bp
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && ok "bad -o: $(cat $tmp/err)" || no "bad -o: exit $rc $(cat $tmp/err)"
[ -d $T/instances/mmaplock-$bp ] && no "instance left after bad -o" || ok "no instance left after bad -o"

# -p: only that process (and its threads). While a stress runs, a recording
# with -p of the stress holds many events; one with -p of an idle process
# (sleep, which takes no mmap_lock once started) holds next to none, though
# the whole system recorded at the same time holds many.
"$M" stress -d 3 >/dev/null &
sp=$!
sleep 5 &
ip=$!
sleep 0.3
"$M" record -o $tmp/all.mml -d 1 2>$tmp/all.err &
ap=$!
"$M" record -o $tmp/i.mml -p $ip -d 1 2>$tmp/i.err &
iq=$!
"$M" record -o $tmp/p.mml -p $sp -d 1 2>$tmp/p.err
wait $ap
wait $iq
wait $sp
kill $ip 2>/dev/null
ev() { sed -n 's/.*: \([0-9]*\) events,.*/\1/p' "$1"; }
np=$(ev $tmp/p.err); na=$(ev $tmp/all.err); ni=$(ev $tmp/i.err)
if [ -n "$np" ] && [ -n "$na" ] && [ -n "$ni" ] && [ "$np" -gt 1000 ] && [ "$na" -gt 1000 ] && [ "$ni" -lt 100 ]; then
	ok "-p: stress $np events, idle process $ni, whole system $na"
else
	no "-p: stress '$np', idle '$ni', whole system '$na'"
fi
"$M" record -p 999999999 -o $tmp/x.mml -d 0.1 2>$tmp/err
[ $? -ne 0 ] || no "-p of a missing process accepted"
"$M" record -p 999999 -o $tmp/x.mml -d 0.1 2>$tmp/err
rc=$?
[ $rc -eq 1 ] && grep -q "no such process" $tmp/err && ok "-p missing: $(cat $tmp/err)" || no "-p missing: exit $rc $(cat $tmp/err)"
exit $fail
