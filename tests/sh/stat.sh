#!/bin/sh
# stat.sh: `mmaplock stat` records and reports in one go: with -- CMD and
# with -d, JSON that has events and groups; its temporary file is removed,
# also when the report fails; with -o FILE the recording is kept.
set -u
M=${MMAPLOCK:-build/mmaplock}
[ "$(id -u)" -eq 0 ] || { echo "stat.sh: skipped: needs root"; exit 77; }
[ -d /sys/kernel/tracing/events/mmap_lock ] || { echo "stat.sh: skipped: no tracefs mmap_lock events"; exit 77; }
command -v jq >/dev/null || { echo "stat.sh: skipped: jq missing (scripts/bootstrap.sh)"; exit 77; }
tmp=$(mktemp -d /tmp/mml-stat.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
mkdir $tmp/t
export TMPDIR=$tmp/t	# stat's temporary file goes there

"$M" stat --json -- sh -c "exec \"$M\" stress -d 0.5 >/dev/null" >$tmp/out 2>$tmp/err
rc=$?
if [ $rc -eq 0 ] && jq -e '.events > 1000 and (.groups | length) > 0 and .lost_events == 0' $tmp/out >/dev/null; then
	echo "ok   stat -- stress: $(jq .events $tmp/out) events, $(jq '.groups | length' $tmp/out) groups"
else
	echo "FAIL stat -- stress: exit $rc: $(head -c 300 $tmp/out) $(cat $tmp/err)"
	fail=1
fi
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
"$M" stat -o $tmp/kept.mml --json -- sh -c "exec \"$M\" stress -d 0.3 >/dev/null" >$tmp/out4 2>$tmp/err4
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
exit $fail
