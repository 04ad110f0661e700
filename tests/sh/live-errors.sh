#!/bin/sh
# live-errors.sh: the live commands (watch, record) refuse a filter that
# names nothing (-p of no process, -G of no memory cgroup) with exactly one
# line naming it and exit 1, and leave no tracefs instance behind; record
# and stat -p end once every process they follow has exited.
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
[ "$(id -u)" -eq 0 ] || { echo "live-errors.sh: skipped: needs root"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "live-errors.sh: skipped: no tracefs mmap_lock events"; exit 77; }
tmp=$(mktemp -d /tmp/mml-live-errors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# a pid that is not running: the highest one the kernel can give, if free
nopid=$(cat /proc/sys/kernel/pid_max)
nopid=$((nopid - 1))
[ -d /proc/$nopid ] && { echo "live-errors.sh: skipped: pid $nopid exists"; exit 77; }

for args in "watch -o $tmp/w -d 1 -p $nopid" "watch -o $tmp/w -d 1 -G /mml-no-such-cgroup" \
	    "record -o $tmp/r.mml -d 1 -p $nopid" "record -o $tmp/r.mml -d 1 -G /mml-no-such-cgroup"; do
	# shellcheck disable=SC2086
	timeout 20 "$M" $args >$tmp/out 2>$tmp/err </dev/null &
	p=$!
	wait $p
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && [ ! -s $tmp/out ]; then
		ok "$args: exit 1, $(cat $tmp/err)"
	else
		bad "$args: exit $rc, $(wc -l <$tmp/err) lines: $(cat $tmp/err)"
	fi
	ls $T/instances | grep -q -- "-$p\$" && bad "$args: instance left: $(ls $T/instances)"
	ls $tmp/w 2>/dev/null | grep -q . && bad "$args: files in the incident directory: $(ls $tmp/w)"
done

# record -p of processes that all exit (a child that outlives its parent
# included): the recording ends then, as perf record -p does, with a line
# saying why, exit 0, a complete file (it ran on, recording nothing, until
# Ctrl-C)
for cmd in "record" "stat -d 60"; do
	rm -f $tmp/child $tmp/go
	# PID forks a child once the recording follows PID, then exits: the child outlives it
	sh -c "while [ ! -e $tmp/go ]; do sleep 0.05; done; sleep 1 & echo \$! >$tmp/child; exit 0" &
	sp=$!
	f=$tmp/p-${cmd%% *}.mml
	# shellcheck disable=SC2086
	"$M" $cmd -p $sp -o $f >$tmp/out 2>$tmp/err </dev/null &
	rp=$!
	i=0
	while ! grep -qx "$sp" $T/instances/mmaplock-$rp/set_event_pid 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	touch $tmp/go
	(sleep 20; kill $rp) 2>/dev/null &
	kp=$!
	wait $rp
	rc=$?
	kill $kp 2>/dev/null
	if [ $rc -eq 0 ] && grep -q "processes of -p have exited" $tmp/err && head -c 8 $f | grep -q MMLTRACE &&
	   "$M" report $f >/dev/null 2>&1; then
		ok "$cmd -p PID: ended when PID and its children had: $(head -1 $tmp/err)"
		[ -s $tmp/child ] && kill -0 "$(cat $tmp/child)" 2>/dev/null &&
			bad "$cmd -p PID: ended while a child of PID still ran"
	else
		bad "$cmd -p PID (exits): exit $rc (still recording after 20 s if killed): $(cat $tmp/err)"
	fi
	wait $sp 2>/dev/null
done
exit $fail
