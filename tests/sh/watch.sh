#!/bin/sh
# watch.sh: `mmaplock watch` on the real kernel. `mmaplock stress --stall
# 200` in a memory cgroup makes mincore readers wait about 200 ms behind a
# thread (stress-stall) that holds the mmap_lock for write; watch --wait-over
# 50 must write an incident whose line names that thread as the holder, with
# a holder stack in the mmap path and a waiter stack in mincore, and
# `report --by holder` on the incident file must blame the same thread. A
# threshold far above the stall makes no incident. Incident lines that
# cannot be written (a full disk) are said at the end, exit 1. After SIGINT, SIGTERM and
# SIGKILL nothing of watch is left in tracefs (instance, triggers). The
# tracefs back-end is asked for by name (auto takes BPF where it loads:
# watch-bpf.sh).
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup jq
[ -e $T/events/ftrace/kernel_stack ] || skip "no ftrace:kernel_stack event"
[ -d $T/events/lock/contention_begin ] || skip "no lock:contention_begin event"

scratch watch
G=mmltest-watch-$$
memcg_make $G

# the top-level triggers before: watch must not touch them
for f in $T/events/mmap_lock/*/trigger $T/events/lock/contention_begin/trigger; do
	printf '%s: ' "$f"; grep -v '^#' "$f"
done > $tmp/trig.before 2>/dev/null

# 1. an incident, naming the stall thread; 2. its file an ordinary recording
stall 20
"$M" watch --backend tracefs --wait-over 50 --json --max-incidents 4 -d 15 -o $tmp/inc >$tmp/w.json 2>$tmp/w.err
rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ $rc -eq 0 ] || { echo "FAIL: watch exit $rc: $(cat $tmp/w.err)"; fail=1; }
check_stall_incident $tmp/w.json $tmp/inc tracefs

# 3. a threshold above the longest wait: no incident
stall 6
"$M" watch --backend tracefs --wait-over 3000 --json -d 4 -o $tmp/none >$tmp/n.json 2>$tmp/n.err
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ -s $tmp/n.json ] && { echo "FAIL: incident over a 3 s threshold (stall 200 ms): $(cat $tmp/n.json)"; fail=1; }
[ -z "$(ls $tmp/none 2>/dev/null)" ] || { echo "FAIL: files with no incident: $(ls $tmp/none)"; fail=1; }

# 3a. incident lines that cannot be written (stdout on a full disk): the
#     incident file is still written, the end says so in one line, exit 1
if [ -c /dev/full ]; then
	stall 8
	"$M" watch --backend tracefs --wait-over 50 --max-incidents 1 -d 6 -o $tmp/full >/dev/full 2>$tmp/full.err
	rc=$?
	kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
	if [ -z "$(ls $tmp/full 2>/dev/null)" ]; then
		echo "ok   >/dev/full: no incident in 6 s here (exit $rc), nothing to check"
	elif [ $rc -eq 1 ] && [ "$(grep -c 'stdout: write error' $tmp/full.err)" -eq 1 ]; then
		echo "ok   >/dev/full: $(grep 'write error' $tmp/full.err)"
	else
		echo "FAIL: >/dev/full: exit $rc with $(ls $tmp/full | wc -l) incident: $(cat $tmp/full.err)"
		fail=1
	fi
fi

# 3b. -o DIR is made with its missing parents (docs/WATCH.md)
"$M" watch --backend tracefs -o $tmp/a/b/c -d 0.5 >/dev/null 2>$tmp/p.err &&
	[ -d $tmp/a/b/c ] || { echo "FAIL: -o with missing parents: $(cat $tmp/p.err)"; fail=1; }

# 4. nothing left in tracefs after SIGINT, SIGTERM, SIGKILL
left() {	# $1: pid of the watch that ran
	[ -d $T/instances/mmaplock-$1 ] && return 0
	for f in $T/events/mmap_lock/*/trigger $T/events/lock/contention_begin/trigger; do
		printf '%s: ' "$f"; grep -v '^#' "$f"
	done > $tmp/trig.after 2>/dev/null
	! cmp -s $tmp/trig.before $tmp/trig.after && return 0
	[ -r $T/dynamic_events ] && grep -q mmaplock $T/dynamic_events && return 0
	return 1
}
for sig in INT TERM KILL; do
	stall 10
	"$M" watch --backend tracefs --wait-over 50 -o $tmp/sig >/dev/null 2>$tmp/sig.err &
	wp=$!
	i=0
	while [ ! -d $T/instances/mmaplock-$wp ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -d $T/instances/mmaplock-$wp ] || { echo "FAIL: SIG$sig: watch made no instance: $(cat $tmp/sig.err)"; fail=1; }
	sleep 1.5
	grep -q stacktrace $T/instances/mmaplock-$wp/events/lock/contention_begin/trigger 2>/dev/null ||
		{ echo "FAIL: SIG$sig: no stack trigger in the instance"; fail=1; }
	kill -$sig $wp
	wait $wp
	rc=$?
	kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
	[ $sig = KILL ] || [ $rc -eq 0 ] || { echo "FAIL: SIG$sig: exit $rc: $(cat $tmp/sig.err)"; fail=1; }
	i=0	# after SIGKILL the watchdog removes the instance
	while left $wp && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	left $wp && { echo "FAIL: SIG$sig: tracing left behind: $(ls $T/instances) $(cat $tmp/trig.after)"; fail=1; }
	ls -a $tmp/sig 2>/dev/null | grep -q '^\.incident' && { echo "FAIL: SIG$sig: a temporary file was left"; fail=1; }
done

[ $fail -eq 0 ] && echo "watch.sh: ok ($n incident, holder $(j '.holders[0].comm'), $(j .ms) ms)"
exit $fail
