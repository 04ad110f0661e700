#!/bin/sh
# cleanup.sh: `mmaplock record` leaves no tracefs instance and nothing
# enabled behind, whatever ends it: normal exit, -d, SIGINT, SIGTERM,
# SIGHUP, CMD crashing (SIGSEGV) or killed (SIGKILL), mmaplock itself
# killed with SIGKILL (its watchdog, or the next start, removes the
# instance), and a stale instance of a dead run found at the next start.
set -u
. "$(dirname "$0")/lib.sh"
need root
[ -d $T/instances ] || mount -t tracefs nodev $T 2>/dev/null
need tracefs
scratch cleanup

# left: the instance of the run being checked (mmaplock-$pid); other tests
# may be recording at the same time (ctest -j), so only ours are looked at.
pid=0
left() {
	[ -d $T/instances/mmaplock-$pid ] && echo mmaplock-$pid
	true
}
before_top=$(cat $T/events/mmap_lock/enable)

check() { # NAME: wait (up to 5 s, the watchdog may be finishing) until nothing is left
	i=0
	while [ -n "$(left)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -n "$(left)" ]; then
		echo "FAIL $1: instance left: $(left)"
		fail=1
	elif [ "$(cat $T/events/mmap_lock/enable)" != "$before_top" ]; then
		echo "FAIL $1: top-level mmap_lock events changed"
		fail=1
	else
		echo "ok   $1"
	fi
}

# wait_instance PID: until mmaplock-PID exists (the recording is running)
wait_instance() {
	i=0
	while [ ! -d $T/instances/mmaplock-$1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -d $T/instances/mmaplock-$1 ] || { echo "FAIL: instance mmaplock-$1 never appeared"; fail=1; }
	sleep 0.2
}

"$M" record -o $tmp/a.mml -- true 2>$tmp/err &
pid=$!
wait $pid || { echo "FAIL normal: exit $?"; cat $tmp/err; fail=1; }
check "normal exit (CMD done)"
"$M" record -o $tmp/a2.mml -d 0.3 2>$tmp/err &
pid=$!
wait $pid || { echo "FAIL -d: exit $?"; fail=1; }
check "-d elapsed"

for sig in INT TERM HUP; do
	"$M" record -o $tmp/s-$sig.mml 2>$tmp/err &
	p=$!
	pid=$p
	wait_instance $p
	kill -$sig $p
	wait $p
	rc=$?
	[ $rc -eq 0 ] || { echo "FAIL SIG$sig: exit $rc"; cat $tmp/err; fail=1; }
	grep -q "events, .* lost, written to" $tmp/err || { echo "FAIL SIG$sig: no summary"; fail=1; }
	check "SIG$sig of mmaplock record"
done

# CMD crashes
"$M" record -o $tmp/c.mml -- sh -c 'kill -SEGV $$' 2>$tmp/err &
pid=$!
wait $pid
check "CMD killed by SIGSEGV"
grep -q "killed by signal 11" $tmp/err || { echo "FAIL: CMD's SIGSEGV not shown"; fail=1; }
"$M" record -o $tmp/c2.mml -- sh -c 'kill -KILL $$' 2>$tmp/err &
pid=$!
wait $pid
check "CMD killed by SIGKILL"

# SIGKILL of mmaplock itself: the watchdog removes the instance
"$M" record -o $tmp/k.mml -- sleep 2 2>$tmp/err &
p=$!
pid=$p
wait_instance $p
kill -KILL $p
wait $p 2>/dev/null
check "SIGKILL of mmaplock record (watchdog)"

# the same with --stack: the instance's stacktrace triggers go with it
"$M" record --stack -o $tmp/k2.mml -- sleep 2 2>$tmp/err &
p=$!
pid=$p
wait_instance $p
grep -q stacktrace $T/instances/mmaplock-$p/events/mmap_lock/mmap_lock_acquire_returned/trigger ||
	{ echo "FAIL: --stack set no trigger"; fail=1; }
kill -KILL $p
wait $p 2>/dev/null
check "SIGKILL of mmaplock record --stack (watchdog)"
grep -v "^#" $T/events/mmap_lock/mmap_lock_acquire_returned/trigger | grep -q stacktrace &&
	{ echo "FAIL: a stacktrace trigger at the top level"; fail=1; }

# a stale instance of a dead run (watchdog gone too): removed at the next start,
# which says so in one line naming it and the pid that owned it
sh -c 'exit 0' &
dead=$!
wait $dead
while kill -0 $dead 2>/dev/null; do dead=$((dead + 1)); done
mkdir $T/instances/mmaplock-$dead
echo 1 > $T/instances/mmaplock-$dead/events/mmap_lock/enable
"$M" record -o $tmp/z.mml -d 0.1 2>$tmp/err
pid=$dead
check "stale instance mmaplock-$dead removed at the next start"
if [ "$(grep -c "mmaplock-$dead" $tmp/err)" -eq 1 ] && grep -q "removed .*mmaplock-$dead.*pid $dead" $tmp/err; then
	echo "ok   the removal is said in one line: $(grep "mmaplock-$dead" $tmp/err)"
else
	echo "FAIL: the removal of mmaplock-$dead was not said in one line: $(cat $tmp/err)"
	fail=1
fi

# an instance of a live mmaplock is not touched
mkdir $T/instances/mmaplock-$$
"$M" record -o $tmp/z2.mml -d 0.1 2>$tmp/err
if [ -d $T/instances/mmaplock-$$ ]; then echo "ok   live instance kept"; else echo "FAIL: live instance removed"; fail=1; fi
grep -q "mmaplock-$$" $tmp/err && { echo "FAIL: a line about the live instance: $(cat $tmp/err)"; fail=1; }
rmdir $T/instances/mmaplock-$$
exit $fail
