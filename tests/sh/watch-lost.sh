#!/bin/sh
# watch-lost.sh: `mmaplock watch` when the kernel's ring loses events. A
# one-page per-CPU buffer (--buffer-size 4) under `mmaplock stress` (writers,
# mincore and smaps readers) plus a stall thread makes the ring overwrite
# events; a lost acquire_returned or released pairs a wait or a hold with a
# later event, a crossing that never happened. watch must not pass such a
# crossing off as an incident: every incident line says "suspect" (true or
# false), no incident that is not suspect lacks a holder, and every file
# carries the loss of its window (LOST blocks) so that `mmaplock report` on
# it says how many events were lost - more than 0 for a suspect one.
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
[ "$(id -u)" -eq 0 ] || { echo "watch-lost.sh: skipped: needs root"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "watch-lost.sh: skipped: no tracefs mmap_lock events"; exit 77; }
[ -e $T/events/ftrace/kernel_stack ] || { echo "watch-lost.sh: skipped: no ftrace:kernel_stack event"; exit 77; }
command -v jq >/dev/null || { echo "watch-lost.sh: skipped: jq missing (scripts/bootstrap.sh)"; exit 77; }

tmp=$(mktemp -d /tmp/mml-watch-lost.XXXXXX)
p1= p2=
cleanup() {
	for p in $p1 $p2; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0

"$M" stress -t 6 -d 12 >/dev/null 2>&1 &
p1=$!
"$M" stress --stall 200 -t 1 -d 12 >/dev/null 2>&1 &
p2=$!
"$M" watch --backend tracefs --buffer-size 4 --wait-over 50 --hold-over 50 --rate-limit 1 --max-incidents 0 \
	-d 8 --json -o $tmp/inc >$tmp/w.json 2>$tmp/w.err
rc=$?
kill $p1 $p2 2>/dev/null; wait $p1 $p2 2>/dev/null; p1= p2=
[ $rc -eq 0 ] || { echo "FAIL: watch exit $rc: $(cat $tmp/w.err)"; exit 1; }
lost=$(sed -n 's/.* events, \([0-9]*\) lost;.*/\1/p' $tmp/w.err)
[ "${lost:-0}" -gt 0 ] || { echo "FAIL: no event lost with a 4 KB buffer under stress: $(cat $tmp/w.err)"; exit 1; }
n=$(grep -c '^{' $tmp/w.json)
[ "$n" -ge 1 ] || { echo "FAIL: no incident line at all (a stall of 200 ms ran): $(cat $tmp/w.err)"; exit 1; }

nsus=0 nlost=0
while read -r line; do
	j() { echo "$line" | jq -r "$1"; }
	[ "$(j 'has("suspect") and has("lost")')" = true ] ||
		{ echo "FAIL: no suspect/lost keys: $line"; fail=1; continue; }
	if [ "$(j .suspect)" = true ]; then
		nsus=$((nsus + 1))
	elif [ "$(j .kind)" = wait ] && [ "$(j '.holders | length')" -eq 0 ]; then
		echo "FAIL: an incident without holder, not marked suspect, with $lost events lost: $line"
		fail=1
	fi
	file=$(j .file)
	"$M" report --json "$file" >$tmp/r.json 2>$tmp/r.err ||
		{ echo "FAIL: report $file: $(cat $tmp/r.err)"; fail=1; continue; }
	fl=$(jq -r .lost_events $tmp/r.json)
	[ "$fl" = "$(j .lost)" ] || { echo "FAIL: $file: report says $fl lost, the line $(j .lost)"; fail=1; }
	[ "$fl" -gt 0 ] && nlost=$((nlost + 1))
	if [ "$(j .suspect)" = true ] && [ "$fl" -eq 0 ]; then
		echo "FAIL: $file: suspect, but report says no event lost in it"
		fail=1
	fi
	"$M" report "$file" 2>&1 | head -n 1 | grep -q "lost events: $fl" ||
		{ echo "FAIL: $file: the text report does not say $fl lost events"; fail=1; }
done <$tmp/w.json
[ $nlost -ge 1 ] || { echo "FAIL: no incident file carries lost events ($lost lost in the run)"; fail=1; }

[ $fail -eq 0 ] && echo "watch-lost.sh: ok ($lost lost, $n incidents, $nsus suspect, $nlost with loss in the file)"
exit $fail
