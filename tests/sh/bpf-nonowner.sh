#!/bin/sh
# bpf-nonowner.sh: a release of the mmap_lock by a task other than its
# holder, provoked for real, is shown by both back-ends. tests/tool/
# nonowner.bpf.c (loaded by bpf-attach) calls bpf_find_vma() on a target
# process each time it is switched out: the kernel takes the target's
# mmap_lock with a trylock in the scheduler, with interrupts off, and
# defers the unlock to an irq_work that runs after the switch, in the next
# task: mmap_read_unlock_non_owner(). Meanwhile `exporter --backend bpf`
# and `exporter --backend tracefs` serve mmaplock_non_owner_releases_total,
# which grows (tracefs: by at least the number of those trylocks), and
# `top --backend bpf` shows them in its header. Skipped without root, BTF, the
# BPF back-end and its test program, curl or python3.
set -u
. "$(dirname "$0")/lib.sh"
B=${MMAPLOCK_BUILD:-build}
X=$B/tests/bpf-attach
O=$B/tests/nonowner.bpf.o
need root btf curl python3
[ -x "$X" ] && [ -r "$O" ] || skip "$X or $O not built (no BPF back-end)"
scratch bpfno
tp= xb= xt= ap=
at_exit 'stop $ap $xb $xt $tp'
no() { bad "$@"; }

# the target: switched out about every 2 ms, takes the lock itself rarely
python3 -c 'import time
while True: time.sleep(0.002)' &
tp=$!

serve() {	# serve BACKEND: an exporter in the background; its URL in $tmp/BACKEND.url
	"$M" exporter --backend $1 --listen 127.0.0.1:0 -i 0.5 >/dev/null 2>$tmp/$1.err &
	eval x$2=\$!
	i=0
	until grep -ho 'http://[^ ]*/metrics' $tmp/$1.err >$tmp/$1.url 2>/dev/null; do
		[ $i -lt 100 ] || { echo "FAIL exporter --backend $1 did not start: $(cat $tmp/$1.err)"; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done
}
metric() {	# metric BACKEND NAME: the value served now
	curl -s --max-time 5 "$(head -1 $tmp/$1.url)" | awk -v n="$2" '$1 == n { print $2 }'
}
serve bpf b
serve tracefs t
sleep 1.2	# the releases of holds taken before they attached are behind us
b0=$(metric bpf mmaplock_non_owner_releases_total)
t0=$(metric tracefs mmaplock_non_owner_releases_total)
l0=$(metric tracefs mmaplock_lost_events_total)
curl -s --max-time 5 "$(head -1 $tmp/bpf.url)" >$tmp/m0
grep -q '^# TYPE mmaplock_non_owner_releases_total counter$' $tmp/m0 &&
	grep -q '^# HELP mmaplock_non_owner_releases_total ' $tmp/m0 &&
	ok "/metrics: mmaplock_non_owner_releases_total with HELP and TYPE counter" ||
	no "/metrics: no HELP/TYPE for mmaplock_non_owner_releases_total"

"$X" "$O" $tp >$tmp/calls 2>$tmp/a.err &
ap=$!
i=0
until grep -q attached $tmp/a.err 2>/dev/null; do
	if ! kill -0 $ap 2>/dev/null; then
		wait $ap
		rc=$?
		ap=
		[ $rc = 77 ] && { echo "bpf-nonowner.sh: skipped: $(cat $tmp/a.err)"; exit 77; }
		echo "FAIL bpf-attach exited $rc: $(cat $tmp/a.err)"
		exit 1
	fi
	[ $i -lt 100 ] || { echo "FAIL bpf-attach never attached"; exit 1; }
	sleep 0.05
	i=$((i + 1))
done
"$M" top --backend bpf -n 3 -i 0.5 >$tmp/top.out 2>$tmp/top.err ||
	no "top --backend bpf: $(cat $tmp/top.err)"
kill -TERM $ap
wait $ap
ap=
n=$(cat $tmp/calls)
sleep 1.2	# a window after the last one
b1=$(metric bpf mmaplock_non_owner_releases_total)
t1=$(metric tracefs mmaplock_non_owner_releases_total)
l1=$(metric tracefs mmaplock_lost_events_total)

[ "${n:-0}" -gt 0 ] && ok "the kernel took the target's lock $n times for bpf_find_vma()" ||
	no "no trylock of the target's lock succeeded: nothing provoked"
# bpf: shown and counted; not asserted equal to n: on this kernel the BPF
# side has been seen to miss about 1 in 1000 of them (docs/PERFORMANCE.md)
[ -n "$b0" ] && [ -n "$b1" ] && [ $((b1 - b0)) -gt 0 ] &&
	ok "bpf: non-owner releases $b0 -> $b1 (+$((b1 - b0)) of $n)" ||
	no "bpf: non-owner releases ${b0:-none} -> ${b1:-none}: none of $n counted"
if [ "${l1:-0}" != "${l0:-0}" ]; then
	echo "note tracefs lost events meanwhile ($l0 -> $l1): its count is not compared"
else
	[ -n "$t0" ] && [ -n "$t1" ] && [ $((t1 - t0)) -ge "${n:-1}" ] &&
		ok "tracefs: non-owner releases $t0 -> $t1 (+$((t1 - t0)) >= $n)" ||
		no "tracefs: non-owner releases ${t0:-none} -> ${t1:-none}, fewer than $n"
fi
awk '/^mmaplock top / { for (i = 1; i < NF; i++) if ($i == "non-owner" && $(i + 1) > 0) f = 1 } END { exit !f }' $tmp/top.out &&
	ok "top --backend bpf: non-owner releases in the header" ||
	no "top --backend bpf: no interval with non-owner releases: $(grep '^mmaplock top' $tmp/top.out | head -3)"
[ $fail = 0 ] && echo "bpf-nonowner.sh: ok"
exit $fail
