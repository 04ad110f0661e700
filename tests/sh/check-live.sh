#!/bin/sh
# check-live.sh: a clean real recording yields no finding. `mmaplock stress`
# (mmap/munmap, mincore, /proc/PID/smaps readers, and the shell's forks) is
# recorded for 1 s from the kernel's tracepoints and checked: exit 0, zero
# findings. Needs root and tracefs with the mmap_lock events (77 otherwise).
# A recording that lost events can show broken sequences: retried once.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs
scratch checklive
for try in 1 2; do
	rm -f "$tmp/r.mml"
	"$M" record --buffer-size 32768 -o "$tmp/r.mml" -- "$M" stress -d 1 >/dev/null 2>"$tmp/rec" ||
		{ echo "check-live.sh: FAIL: record: $(cat "$tmp/rec")"; exit 1; }
	grep -q ' 0 lost' "$tmp/rec" && break
	[ $try -eq 2 ] && skip "recordings lost events"
done
n=$(sed -n 's/.*: \([0-9]*\) events,.*/\1/p' "$tmp/rec")
[ "${n:-0}" -gt 1000 ] || { echo "check-live.sh: FAIL: only ${n:-0} events recorded"; exit 1; }
"$M" check "$tmp/r.mml" >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -q " $n events, 0 findings" "$tmp/out"; then
	echo "check-live.sh: FAIL: exit $rc"
	head -20 "$tmp/out"
	exit 1
fi
echo "check-live.sh: ok: $n events, no finding"
