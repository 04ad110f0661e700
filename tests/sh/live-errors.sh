#!/bin/sh
# live-errors.sh: the live commands (watch, record) refuse a filter that
# names nothing (-p of no process, -G of no memory cgroup) with exactly one
# line naming it and exit 1, and leave no tracefs instance behind.
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
exit $fail
