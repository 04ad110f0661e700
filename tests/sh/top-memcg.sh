#!/bin/sh
# top-memcg.sh: `mmaplock top --by memcg` on two containers of one pod: two
# memory cgroups whose long paths differ only in their last characters, a
# `mmaplock stress` in each. One runs a single thread (acquisitions, but
# nobody to wait for), the other three threads that contend.
# Not a terminal: the paths are printed in full, WAITS/s counts waits (the
# single thread shows 0 while its ACQ/s is not), the rows are in order of
# total wait time, marked as the sort column. In tmux (a real terminal, 150
# and then 120 columns): the names are cut in the middle to fit, and the
# two stay distinct, ending as their paths do.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs cgroup tmux
scratch topmc
sock=mmltopmc$$
TOP=mmltop-$$
POD=$TOP/kubepods/burstable/pod6f1c2d3e-8a4b-4c5d-9e6f-0123456789ab
A=$POD/cri-containerd-4f2a9c0d1e8b7a6f5c4d3e2f1a0b9c8d-aaaa
B=$POD/cri-containerd-4f2a9c0d1e8b7a6f5c4d3e2f1a0b9c8d-bbbb
at_exit 'tmux -L $sock kill-server 2>/dev/null; stop ${sa:-} ${sb:-}; wait'

memcg_make $A $B
spawn_in sa $A "$M" stress -t 1 -d 20
spawn_in sb $B "$M" stress -t 3 -d 20
sleep 0.3

# ---- not a terminal
"$M" top -n 3 -i 0.5 --by memcg >$tmp/plain 2>$tmp/plain.err
rc=$?
snaps=$(grep -c '^mmaplock top ' $tmp/plain)
[ $rc -eq 0 ] && [ "$snaps" -eq 3 ] && ok "top -n 3: three snapshots" ||
	bad "top -n 3: exit $rc, $snaps snapshots: $(cat $tmp/plain.err)"
# full paths, each in every snapshot
for g in "/$A" "/$B"; do
	n=$(awk -v g="$g" '$1 == g { n++ } END { print n + 0 }' $tmp/plain)
	[ "$n" -eq 3 ] && ok "full path in all 3 snapshots: ...${g#"/$POD"}" ||
		bad "full path $g in $n of 3 snapshots: $(cat $tmp/plain)"
done
# WAITS/s counts waits: the lone thread acquires but never waits
n=$(awk -v g="/$A" '$1 == g && $2 > 0 && $3 == 0 { n++ } END { print n + 0 }' $tmp/plain)
[ "$n" -eq 3 ] && ok "single thread: ACQ/s > 0, WAITS/s 0 in every snapshot" ||
	bad "single thread: ACQ/s > 0 and WAITS/s 0 in $n of 3 snapshots: $(grep -e "^/$A " -e '^GROUP' $tmp/plain)"
n=$(awk -v g="/$B" '$1 == g && $3 > 0 { n++ } END { print n + 0 }' $tmp/plain)
[ "$n" -ge 1 ] && ok "three threads: WAITS/s > 0 in $n snapshots" ||
	bad "three threads: never a wait: $(grep -e "^/$B " -e '^GROUP' $tmp/plain)"
# sorted by the total wait of the interval, and marked so
n=$(grep -c 'sort: total wait' $tmp/plain)
m=$(grep -c '^GROUP .* WAIT_TOTAL\* ' $tmp/plain)
[ "$n" -eq 3 ] && [ "$m" -eq 3 ] && ok "default sort: total wait, marked" ||
	bad "default sort: header $n, marker $m of 3: $(grep -e '^mmaplock top' -e '^GROUP' $tmp/plain)"
awk '
	function ns(v) {
		if (v ~ /ns$/) return v + 0
		if (v ~ /us$/) return v * 1e3
		if (v ~ /ms$/) return v * 1e6
		return v * 1e9
	}
	/^GROUP/ { on = 1; col = 0; for (i = 1; i <= NF; i++) if ($i ~ /^WAIT_TOTAL/) col = i; last = -1; next }
	/^$/ { on = 0; next }
	on && col {
		v = ns($col)
		if (last >= 0 && v > last) { print "out of order: " $0; bad = 1 }
		last = v; rows++
	}
	END { exit !(rows >= 6 && !bad) }' $tmp/plain >$tmp/order &&
	ok "rows in order of WAIT_TOTAL" || bad "order: $(cat $tmp/order) $(cat $tmp/plain)"

# ---- a terminal
waitfor() {	# $1: seconds, then awk's arguments: true on the pane; its text in $tmp/pane
	t=$1
	shift
	i=0
	while [ $i -lt $((t * 10)) ]; do
		tmux -L $sock capture-pane -p -J -t t >$tmp/pane 2>/dev/null
		LC_ALL=C awk "$@" $tmp/pane && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# both container rows cut (an ellipsis), still distinct and ending as their
# paths do, not as they were (was); no line wider than w columns (bytes,
# less 2 per 3-byte ellipsis; wrapped lines joined)
cut_rows='
	{ for (i = 1; i <= NF; i++) if ($i ~ /-aaaa$/) a = $i; else if ($i ~ /-bbbb$/) b = $i }
	{ sub(/ +$/, ""); l = length($0); n = gsub(/\342\200\246/, "&"); if (l - 2 * n > w) long = 1 }
	END { exit !(a != "" && b != "" && a != b && index(a, "\342\200\246") && a != was &&
		     substr(a, 1, length(a) - 4) == substr(b, 1, length(b) - 4) && !long) }'
tmux -L $sock -f /dev/null new-session -d -s t -x 150 -y 30 \
	"$M top -i 0.3 --by memcg; echo \$? >$tmp/rc; sleep 5"
if waitfor 10 -v w=150 "$cut_rows"; then
	was=$(grep -o '[^ ]*-aaaa' $tmp/pane)
	ok "tmux 150 columns: names cut in the middle, distinct: $was"
	tmux -L $sock resize-window -t t -x 120
	if waitfor 5 -v w=120 -v was="$was" "$cut_rows"; then
		ok "tmux 120 columns: cut again to fit, distinct: $(grep -o '[^ ]*-aaaa' $tmp/pane)"
	else
		bad "tmux 120 columns: $(cat $tmp/pane)"
	fi
	tmux -L $sock send-keys -t t q
	i=0
	while [ $i -lt 50 ] && [ ! -s $tmp/rc ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(cat $tmp/rc 2>/dev/null)" = 0 ] && ok "tmux: q exits with status 0" || bad "tmux: q: rc=$(cat $tmp/rc 2>/dev/null)"
else
	bad "tmux 150 columns: no distinct cut names within 10 s: $(cat $tmp/pane)"
fi
exit $fail
