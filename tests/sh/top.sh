#!/bin/sh
# top.sh: `mmaplock top` end to end. Not a terminal: -n 2 prints exactly two
# snapshots, the running stress among the processes. In tmux (a real
# terminal): the table appears, sort keys move the header's '*' marker, q
# and Ctrl-C leave with the terminal restored and no tracefs instance left;
# on an 80-column terminal the lines are cut at its width, not wrapped.
# Bad options: one line, exit 2. Snapshots that cannot be written: one line, exit 1.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs tmux
scratch top
sock=mmltop$$
at_exit 'tmux -L $sock kill-server 2>/dev/null; kill ${sp:-} ${sp2:-} ${sp3:-} 2>/dev/null'
no_instance() {	# $1: pid of the top that ran
	if [ -e /sys/kernel/tracing/instances/mmaplock-$1 ]; then
		bad "$2: instance mmaplock-$1 left behind"
	else
		ok "$2: no instance left"
	fi
}

# ---- bad input
for args in "-i 0" "-i x" "--by nonsense" "-n 0" "--frobnicate 1"; do
	# shellcheck disable=SC2086
	"$M" top $args >$tmp/o 2>$tmp/e
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <$tmp/e)" -eq 1 ] && [ ! -s $tmp/o ]; then
		ok "top $args: exit 2, $(cat $tmp/e)"
	else
		bad "top $args: exit $rc, $(cat $tmp/e)"
	fi
done

# ---- not a terminal: two snapshots
"$M" stress -d 6 >/dev/null 2>&1 &
sp=$!
sleep 0.3
"$M" top -n 2 -i 0.5 --by process >$tmp/plain 2>$tmp/plain.err &
tp=$!
wait $tp
rc=$?
snaps=$(grep -c '^mmaplock top ' $tmp/plain)
heads=$(grep -c '^GROUP ' $tmp/plain)
if [ $rc -eq 0 ] && [ "$snaps" -eq 2 ] && [ "$heads" -eq 2 ]; then
	ok "top -n 2 (not a tty): two snapshots"
else
	bad "top -n 2: exit $rc, $snaps snapshots: $(head -c 600 $tmp/plain) $(cat $tmp/plain.err)"
fi
# the stress process is in each snapshot, with acquisitions
n=$(awk -v g="mmaplock[$sp]" '$1 == g && $2 > 0 { n++ } END { print n + 0 }' $tmp/plain)
[ "$n" -eq 2 ] && ok "stress appears in both snapshots with acquisitions/s > 0" ||
	bad "stress rows with acquisitions: $n of 2: $(cat $tmp/plain)"
grep -q "$(printf '\033')" $tmp/plain && bad "escape sequences in plain output" || ok "plain output has no escape sequences"
no_instance $tp "top -n 2"

# ---- a terminal, in tmux
waitfor() {	# $1: pattern, $2: seconds; the pane's text in $tmp/pane
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		tmux -L $sock capture-pane -p -t t >$tmp/pane 2>/dev/null
		grep -q -- "$1" $tmp/pane && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
gone() {	# the session has ended within $1 seconds
	i=0
	while [ $i -lt $(($1 * 10)) ]; do
		tmux -L $sock has-session -t t 2>/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
run_tty() {
	tmux -L $sock kill-server 2>/dev/null
	rm -f $tmp/pid $tmp/rc
	tmux -L $sock -f /dev/null new-session -d -s t -x 160 -y 40 \
		"echo \$\$ >$tmp/pid; $M top -i 0.3 $1; echo \$? >$tmp/rc"
}
# two stress processes: at least two rows by process in every interval
"$M" stress -d 10 >/dev/null 2>&1 &
sp2=$!
"$M" stress -d 10 >/dev/null 2>&1 &
sp3=$!
run_tty "--by process"
if waitfor '^GROUP ' 10; then
	ok "tmux: the table appears"
	grep -q 'WAIT_TOTAL\*' $tmp/pane && ok "tmux: default sort marked on WAIT_TOTAL" ||
		bad "tmux: no marker on WAIT_TOTAL: $(cat $tmp/pane)"
	tmux -L $sock send-keys -t t p
	waitfor 'WAIT_P99\*' 5 && ! grep -q 'WAIT_TOTAL\*' $tmp/pane && ok "tmux: p moves the marker to WAIT_P99" ||
		bad "tmux: p: $(cat $tmp/pane)"
	tmux -L $sock send-keys -t t h
	waitfor 'HOLD_P99\*' 5 && ! grep -q 'WAIT_P99\*' $tmp/pane && ok "tmux: h moves the marker to HOLD_P99" ||
		bad "tmux: h: $(cat $tmp/pane)"
	tmux -L $sock send-keys -t t c
	# the rows in ACQ/s order (at least two of them: a later refresh if needed)
	sorted() {
		awk '/^GROUP/ { on = 1; next } on && NF >= 8 { if (n++ && $(NF - 7) > last) bad = 1; last = $(NF - 7) }
			END { exit !(n >= 2 && !bad) }' $tmp/pane
	}
	i=0
	if waitfor 'ACQ/s\*' 5 && grep -q 'sort: acquisitions' $tmp/pane; then
		while [ $i -lt 30 ] && ! { tmux -L $sock capture-pane -p -t t >$tmp/pane && sorted; }; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	if grep -q 'sort: acquisitions' $tmp/pane && sorted; then
		ok "tmux: c sorts by acquisitions, descending"
	else
		bad "tmux: c: $(cat $tmp/pane)"
	fi
	tmux -L $sock send-keys -t t f
	waitfor 'FAILED\*' 5 && ok "tmux: f sorts by failed" || bad "tmux: f: $(cat $tmp/pane)"
	tmux -L $sock send-keys -t t q
	# the shell echoes top's status after it; the alternate screen is gone
	if waitfor '^0$' 5 || [ "$(cat $tmp/rc 2>/dev/null)" = 0 ]; then
		ok "tmux: q exits with status 0"
	else
		bad "tmux: q: $(cat $tmp/pane) rc=$(cat $tmp/rc 2>/dev/null)"
	fi
	gone 5 || bad "tmux: session still there after q"
	no_instance "$(cat $tmp/pid)" "tmux q"
else
	bad "tmux: no table within 10 s: $(cat $tmp/pane)"
fi

run_tty "--by mm"
if waitfor '^GROUP ' 10; then
	tmux -L $sock send-keys -t t C-c
	gone 5 && ok "tmux: Ctrl-C leaves" || bad "tmux: Ctrl-C: still running: $(cat $tmp/pane)"
	no_instance "$(cat $tmp/pid)" "tmux Ctrl-C"
else
	bad "tmux --by mm: no table within 10 s: $(cat $tmp/pane)"
fi

# an 80x24 terminal: lines are cut at its width, not wrapped (a wrapped line
# pushes the title off the screen): the title on line 1, GROUP on line 2
tmux -L $sock kill-server 2>/dev/null
tmux -L $sock -f /dev/null new-session -d -s t -x 80 -y 24 "$M top -i 0.3 --by process"
if waitfor '^GROUP ' 10; then
	if sed -n 1p $tmp/pane | grep -q '^mmaplock top ' && sed -n 2p $tmp/pane | grep -q '^GROUP ' &&
	   [ "$(awk 'length($0) >= 80' $tmp/pane | wc -l)" -eq 0 ]; then
		ok "tmux 80x24: lines fit the width"
	else
		bad "tmux 80x24: lines wrap: $(cat $tmp/pane)"
	fi
	tmux -L $sock send-keys -t t q
	gone 5 || bad "tmux 80x24: still running after q"
else
	bad "tmux 80x24: no table within 10 s: $(cat $tmp/pane)"
fi

kill $sp $sp2 $sp3 2>/dev/null
wait $sp $sp2 $sp3 2>/dev/null
sp= sp2= sp3=

# snapshots that cannot be written (a log on a full disk): one line, exit 1,
# at the first (it ran on, exit 0, every snapshot lost)
if [ -c /dev/full ]; then
	for b in tracefs auto; do
		timeout 20 "$M" top --backend $b -n 3 -i 0.2 >/dev/full 2>$tmp/full.err </dev/null &
		p=$!
		wait $p
		rc=$?
		[ $rc -eq 1 ] && grep -q "^mmaplock top: stdout: write error" $tmp/full.err &&
			[ "$(grep -vc 'using the' $tmp/full.err)" -eq 1 ] &&
			ok "top --backend $b >/dev/full: $(grep -v 'using the' $tmp/full.err)" ||
			bad "top --backend $b >/dev/full: exit $rc: $(cat $tmp/full.err)"
		no_instance $p "top >/dev/full"
	done
fi
exit $fail
