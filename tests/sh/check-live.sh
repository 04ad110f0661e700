#!/bin/sh
# check-live.sh: a clean real recording yields no finding. `mmaplock stress`
# (mmap/munmap, mincore, /proc/PID/smaps readers, and the shell's forks) is
# recorded for 1 s from the kernel's tracepoints and checked: exit 0, zero
# findings. Needs root and tracefs with the mmap_lock events (77 otherwise).
# A recording that lost events can show broken sequences: retried once.
set -u
M=${MMAPLOCK:?MMAPLOCK: path of the mmaplock binary}
[ "$(id -u)" -eq 0 ] || { echo "check-live.sh: needs root: skipped"; exit 77; }
[ -d /sys/kernel/tracing/events/mmap_lock ] || { echo "check-live.sh: no mmap_lock tracepoints: skipped"; exit 77; }
T=$(mktemp -d /tmp/mml-checklive.XXXXXX)
trap 'rm -rf "$T"' EXIT
for try in 1 2; do
	rm -f "$T/r.mml"
	"$M" record --buffer-size 32768 -o "$T/r.mml" -- "$M" stress -d 1 >/dev/null 2>"$T/rec" ||
		{ echo "check-live.sh: FAIL: record: $(cat "$T/rec")"; exit 1; }
	grep -q ' 0 lost' "$T/rec" && break
	[ $try -eq 2 ] && { echo "check-live.sh: recordings lost events: skipped"; exit 77; }
done
n=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' "$T/rec")
[ "${n:-0}" -gt 1000 ] || { echo "check-live.sh: FAIL: only ${n:-0} events recorded"; exit 1; }
"$M" check "$T/r.mml" >"$T/out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -q " $n events, 0 findings" "$T/out"; then
	echo "check-live.sh: FAIL: exit $rc"
	head -20 "$T/out"
	exit 1
fi
echo "check-live.sh: ok: $n events, no finding"
