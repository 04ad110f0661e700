#!/bin/sh
# watch.sh: `mmaplock watch` on the real kernel. `mmaplock stress --stall
# 200` in a memory cgroup makes mincore readers wait about 200 ms behind a
# thread (stress-stall) that holds the mmap_lock for write; watch --wait-over
# 50 must write an incident whose line names that thread as the holder, with
# a holder stack in the mmap path and a waiter stack in mincore, and
# `report --by holder` on the incident file must blame the same thread. A
# threshold far above the stall makes no incident. After SIGINT, SIGTERM and
# SIGKILL nothing of watch is left in tracefs (instance, triggers). The
# tracefs back-end is asked for by name (auto takes BPF where it loads:
# watch-bpf.sh).
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
CG=/sys/fs/cgroup/memory
[ "$(id -u)" -eq 0 ] || { echo "watch.sh: skipped: needs root"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "watch.sh: skipped: no tracefs mmap_lock events"; exit 77; }
[ -e $T/events/ftrace/kernel_stack ] || { echo "watch.sh: skipped: no ftrace:kernel_stack event"; exit 77; }
[ -d $T/events/lock/contention_begin ] || { echo "watch.sh: skipped: no lock:contention_begin event"; exit 77; }
[ -w $CG ] || { echo "watch.sh: skipped: no cgroup v1 memory hierarchy at $CG"; exit 77; }
command -v jq >/dev/null || { echo "watch.sh: skipped: jq missing (scripts/bootstrap.sh)"; exit 77; }

tmp=$(mktemp -d /tmp/mml-watch.XXXXXX)
G=mmltest-watch-$$
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	rmdir $CG/$G 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir $CG/$G || { echo "watch.sh: cannot create a memory cgroup"; exit 1; }
fail=0

# the top-level triggers before: watch must not touch them
for f in $T/events/mmap_lock/*/trigger $T/events/lock/contention_begin/trigger; do
	printf '%s: ' "$f"; grep -v '^#' "$f"
done > $tmp/trig.before 2>/dev/null

stall() {	# stress --stall 200 in the cgroup, for $1 seconds: one mincore reader behind it
	sh -c "echo \$\$ > $CG/$G/cgroup.procs; exec \"$M\" stress --stall 200 -t 1 -d $1" >/dev/null 2>&1 &
	spid=$!
}

# 1. an incident, naming the stall thread
stall 20
"$M" watch --backend tracefs --wait-over 50 --json --max-incidents 4 -d 15 -o $tmp/inc >$tmp/w.json 2>$tmp/w.err
rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ $rc -eq 0 ] || { echo "FAIL: watch exit $rc: $(cat $tmp/w.err)"; fail=1; }
n=$(grep -c '^{' $tmp/w.json)
[ "$n" -ge 1 ] || { echo "FAIL: no incident line: $(cat $tmp/w.err)"; exit 1; }
# On a loaded machine a stress reader can be preempted while it holds the
# lock, and the stall thread's own write wait behind it is an incident too:
# the one to check is the first whose waiter is a reader of the stall's.
line=$(jq -c 'select(.waiter.comm != "stress-stall" and .holders[0].comm == "stress-stall")' \
	$tmp/w.json 2>/dev/null | head -n 1)
[ -n "$line" ] || line=$(head -n 1 $tmp/w.json)
echo "$line" | jq -e . >/dev/null || { echo "FAIL: not JSON: $line"; exit 1; }
j() { echo "$line" | jq -r "$1"; }
[ "$(j .kind)" = wait ] || { echo "FAIL: kind $(j .kind)"; fail=1; }
[ "$(j '.ms > 50')" = true ] || { echo "FAIL: wait of $(j .ms) ms under the threshold"; fail=1; }
[ "$(j '.holders[0].comm')" = stress-stall ] ||
	{ echo "FAIL: first holder is not the stall thread: $line"; fail=1; }
[ "$(j '.holders[0].mode')" = write ] || { echo "FAIL: holder mode $(j '.holders[0].mode')"; fail=1; }
j '.holders[0].stack[]' | grep -Eq 'mmap|munmap|populate' ||
	{ echo "FAIL: holder stack without the mmap/unmap path: $(j '.holders[0].stack')"; fail=1; }
j '.waiter.stack[]' | grep -q 'mincore' ||
	{ echo "FAIL: waiter stack without the reader's mincore path: $(j '.waiter.stack')"; fail=1; }
case "$(j .waiter.memcg)" in
*/$G) ;;
*) echo "FAIL: waiter memcg $(j .waiter.memcg), not .../$G"; fail=1 ;;
esac
[ "$(j .waiter.pid)" = "$(j '.holders[0].pid')" ] ||
	{ echo "FAIL: waiter and holder are not one process"; fail=1; }
file=$(j .file)
[ -f "$file" ] || { echo "FAIL: incident file $file missing"; exit 1; }
[ "$(ls $tmp/inc | wc -l)" -eq "$n" ] || { echo "FAIL: $n incidents, files in DIR: $(ls -a $tmp/inc)"; fail=1; }
ls -a $tmp/inc | grep -q '^\.incident' && { echo "FAIL: a temporary file was left"; fail=1; }

# 2. the incident file is an ordinary recording: report --by holder agrees
"$M" report --by holder --json "$file" >$tmp/h.json 2>$tmp/h.err ||
	{ echo "FAIL: report --by holder: $(cat $tmp/h.err)"; fail=1; }
top=$(jq -r '.groups[0].key' $tmp/h.json)
case "$top" in
stress-stall\[*) ;;
*) echo "FAIL: report --by holder blames $top first, not stress-stall"; fail=1 ;;
esac
"$M" check "$file" >/dev/null 2>$tmp/c.err; [ $? -le 1 ] || { echo "FAIL: check: $(cat $tmp/c.err)"; fail=1; }
"$M" report --stacks 3 "$file" >$tmp/s.txt 2>&1 || { echo "FAIL: report --stacks"; fail=1; }
grep -q mincore $tmp/s.txt || { echo "FAIL: report --stacks shows no mincore stack"; fail=1; }

# 3. a threshold above the longest wait: no incident
stall 6
"$M" watch --backend tracefs --wait-over 3000 --json -d 4 -o $tmp/none >$tmp/n.json 2>$tmp/n.err
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ -s $tmp/n.json ] && { echo "FAIL: incident over a 3 s threshold (stall 200 ms): $(cat $tmp/n.json)"; fail=1; }
[ -z "$(ls $tmp/none 2>/dev/null)" ] || { echo "FAIL: files with no incident: $(ls $tmp/none)"; fail=1; }

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
