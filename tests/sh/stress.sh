#!/bin/sh
# stress.sh: `mmaplock stress` runs its three kinds of thread, prints a rate
# for each, ends early on SIGINT still printing them, and - recorded - really
# contends: its process shows waits that slept (lock:contention_begin inside
# the wait) on a machine with two CPUs or more.
set -u
. "$(dirname "$0")/lib.sh"
scratch stress

"$M" stress -t 3 -d 0.5 >$tmp/out 2>&1 || { echo "FAIL stress: exit $?"; fail=1; }
for k in "mmap/mprotect/munmap" mincore smaps; do
	n=$(awk -v k="$k" '$1 == k { print $4 }' $tmp/out)
	if [ -n "$n" ] && [ "$n" -gt 0 ]; then echo "ok   $k: $n ops"; else echo "FAIL $k: $(cat $tmp/out)"; fail=1; fi
done
"$M" stress -d 30 >$tmp/out 2>&1 &
p=$!
sleep 0.5
kill -INT $p
wait $p
rc=$?
if [ $rc -eq 0 ] && grep -q "^mmaplock stress: 2 threads" $tmp/out; then
	echo "ok   SIGINT: stopped after $(awk '/^mmaplock stress:/ { print $5 }' $tmp/out) s, rates printed"
else
	echo "FAIL SIGINT: exit $rc: $(cat $tmp/out)"
	fail=1
fi

# rates that cannot be written (disk full): one line saying so, exit 1
if [ -c /dev/full ]; then
	"$M" stress -d 0.1 >/dev/full 2>$tmp/err
	rc=$?
	[ $rc -eq 1 ] && [ "$(wc -l <$tmp/err)" -eq 1 ] && grep -q "write error" $tmp/err &&
		echo "ok   >/dev/full: $(cat $tmp/err)" || { echo "FAIL >/dev/full: exit $rc: $(cat $tmp/err)"; fail=1; }
fi

# --stall adds a thread to those of -t: the summary says so
"$M" stress -t 2 --stall 20 -d 0.3 >$tmp/out 2>&1 || { echo "FAIL stress --stall: exit $?"; fail=1; }
if grep -q "^mmaplock stress: 2 threads + 1 stall thread, " $tmp/out; then
	echo "ok   --stall: $(head -1 $tmp/out)"
else
	echo "FAIL --stall: the summary does not count the stall thread: $(cat $tmp/out)"
	fail=1
fi

if [ "$(id -u)" -ne 0 ] || [ ! -d /sys/kernel/tracing/events/lock/contention_begin ] ||
   [ "$(nproc)" -lt 2 ] || ! command -v jq >/dev/null; then
	echo "stress.sh: contention check skipped (needs root, lock:contention_begin, 2 CPUs, jq)"
	exit $fail
fi
# Contention is a matter of scheduling: on a loaded machine one run may see
# none. Up to three runs; one with real (sleeping) waits is enough.
try=1
while :; do
	"$M" stat --json --by process --report $tmp/j -- sh -c "exec \"$M\" stress -d 1 >/dev/null" \
		>/dev/null 2>$tmp/err
	c=$(jq '[.groups[] | select(.key | startswith("mmaplock[")) | .contended] | add // 0' $tmp/j)
	w=$(jq '[.groups[] | select(.key | startswith("mmaplock[")) | .acquisitions.write] | add // 0' $tmp/j)
	if [ "$c" -gt 0 ] && [ "$w" -gt 0 ]; then
		echo "ok   recorded (run $try): $w write acquisitions, $c contended waits"
		break
	fi
	if [ $try -ge 3 ]; then
		echo "FAIL recorded: no contended wait in 3 runs (last: write $w contended $c): $(cat $tmp/err)"
		fail=1
		break
	fi
	try=$((try + 1))
done
exit $fail
