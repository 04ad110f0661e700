#!/bin/sh
# record-tracedat.sh: trace.dat input. The same kernel events, captured in
# a tracefs instance, are saved twice: as the instance's text (`trace`) and
# as trace.dat (`trace-cmd extract -B`; `trace-cmd record` is refused on
# some machines). `mmaplock report --json --by memcg` must count the same
# events, acquisitions and failures from both (times differ: the text has
# microseconds only). The page-wise reading gives exactly libtracecmd's
# record-wise events (tests/tool/test-tracedat-pages on both captures).
# Damaged files end with one line, never a crash.
# Kernel stacks: a second capture with the stacktrace trigger on the
# mmap_lock events (what `trace-cmd record -R stacktrace` sets); `report
# --stacks --json` must show stacks from the trace.dat, none of them led
# by the tracing machinery, and the same stacks with the same wait and
# hold counts from the text (sym-offset: the kernel's own "func+0x1a/0x80");
# the folded export of the trace.dat carries the frames.
set -u
M=${MMAPLOCK:-build/mmaplock}
T=/sys/kernel/tracing
[ "$(id -u)" -eq 0 ] || { echo "record-tracedat.sh: skipped: needs root"; exit 77; }
[ -d $T/events/mmap_lock ] || { echo "record-tracedat.sh: skipped: no tracefs mmap_lock events"; exit 77; }
command -v trace-cmd >/dev/null || { echo "record-tracedat.sh: skipped: trace-cmd missing"; exit 77; }
command -v jq >/dev/null || { echo "record-tracedat.sh: skipped: jq missing (scripts/bootstrap.sh)"; exit 77; }
tmp=$(mktemp -d /tmp/mml-tdat.XXXXXX)
name=mmltest-dat-$$
I=$T/instances/$name
I2=$T/instances/mmltest-dstk-$$
drop() {	# an instance, its stacktrace triggers first
	[ -d "$1" ] || return 0
	echo 0 > "$1"/events/enable
	for e in start_locking acquire_returned released; do
		echo '!stacktrace' > "$1"/events/mmap_lock/mmap_lock_$e/trigger 2>/dev/null
	done
	rmdir "$1"
}
trap 'drop $I; drop $I2; rm -rf "$tmp"' EXIT
mkdir $I
echo mono > $I/trace_clock
echo 65536 > $I/buffer_size_kb
# only this script's processes: other load on the machine must not overflow the buffer
echo $$ > $I/set_event_pid
echo 1 > $I/options/event-fork
echo 1 > $I/events/mmap_lock/enable
"$M" stress -d 0.15 >/dev/null
echo 0 > $I/events/mmap_lock/enable
lost=$(cat $I/per_cpu/cpu*/stats | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
cat $I/trace > $tmp/t.txt
(cd $tmp && trace-cmd extract -B $name -o $tmp/t.dat >/dev/null 2>&1)
[ -s $tmp/t.dat ] || { echo "FAIL: trace-cmd extract wrote nothing"; exit 1; }
n=$(grep -c ': mmap_lock_' $tmp/t.txt)
fail=0
[ "$lost" -eq 0 ] || { echo "FAIL: the capture lost $lost events"; fail=1; }
"$M" report $tmp/t.dat --json --by memcg >$tmp/dat.json 2>$tmp/err || { echo "FAIL report t.dat: $(cat $tmp/err)"; exit 1; }
"$M" report $tmp/t.txt --json --by memcg >$tmp/txt.json 2>$tmp/err || { echo "FAIL report t.txt: $(cat $tmp/err)"; exit 1; }
sel='[.events, ([.groups[] | {key, acquisitions, failed}] | sort_by(.key))]'
jq -c "$sel" $tmp/dat.json >$tmp/a
jq -c "$sel" $tmp/txt.json >$tmp/b
ev=$(jq .events $tmp/dat.json)
if [ "$ev" = "$n" ] && [ "$n" -gt 1000 ] && cmp -s $tmp/a $tmp/b; then
	echo "ok   trace.dat and text agree: $ev events, $(jq '.groups | length' $tmp/dat.json) memcgs"
else
	echo "FAIL: text has $n events; trace.dat report: $(head -c 300 $tmp/a); text report: $(head -c 300 $tmp/b)"
	fail=1
fi
# read page by page, the same events as libtracecmd's record-wise reading
B=${MMAPLOCK_BUILD:-build}
if [ -x "$B/tests/test-tracedat-pages" ]; then
	if "$B/tests/test-tracedat-pages" $tmp/t.dat >$tmp/same 2>&1; then echo "$(cat $tmp/same)"; else echo "FAIL page-wise vs record-wise: $(tail -c 600 $tmp/same)"; fail=1; fi
fi
# a damaged trace.dat: one line, non-zero exit
head -c 3000 $tmp/t.dat > $tmp/cut.dat
"$M" report $tmp/cut.dat >/dev/null 2>$tmp/err
rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <$tmp/err)" -eq 1 ]; then echo "ok   cut trace.dat: $(cat $tmp/err)"; else echo "FAIL cut trace.dat: exit $rc: $(cat $tmp/err)"; fail=1; fi
# a damaged compressed chunk in the events' buffer: libtracecmd 1.3 crashes
# opening such a file (tracecmd_buffer_instance_handle); the report must
# end with one line and exit 1 or 2, never a signal. The first zstd frame
# after the instance's "buffer flyrecord" section header is damaged (its
# magic, then its compressed size); files written without zstd skip this.
off=$(trace-cmd dump --sections -i $tmp/t.dat 2>/dev/null | awk -v n="buffer flyrecord $name" 'index($0, n) { sub(/.*@ */, ""); print $1 + 0; exit }')
if [ -n "$off" ] && command -v python3 >/dev/null; then
	for what in magic size; do
		python3 - "$tmp/t.dat" "$tmp/bad.dat" "$off" $what <<'PY' || { echo "skip damaged chunk ($what): no zstd frame"; continue; }
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
i = d.find(b'\x28\xb5\x2f\xfd', int(sys.argv[3]))
if i < 0:
    sys.exit(1)
d[i if sys.argv[4] == 'magic' else i - 8] ^= 0xff
open(sys.argv[2], 'wb').write(d)
PY
		"$M" report $tmp/bad.dat --json >/dev/null 2>$tmp/err
		rc=$?
		if [ $rc -ge 1 ] && [ $rc -le 2 ] && [ "$(wc -l <$tmp/err)" -eq 1 ]; then
			echo "ok   damaged chunk ($what): $(cat $tmp/err)"
		else
			echo "FAIL damaged chunk ($what): exit $rc: $(tail -c 300 $tmp/err)"
			fail=1
		fi
	done
fi
# kernel stacks: the stacktrace trigger, trace.dat and text of the same capture
stack_capture() {	# 0 when the trace.dat holds every event of the text (trace-cmd's own count)
	mkdir $I2
	echo mono > $I2/trace_clock
	echo 32768 > $I2/buffer_size_kb
	echo $$ > $I2/set_event_pid
	echo 1 > $I2/options/event-fork
	for e in start_locking acquire_returned released; do
		echo stacktrace > $I2/events/mmap_lock/mmap_lock_$e/trigger
	done
	echo 1 > $I2/events/mmap_lock/enable
	"$M" stress -d 0.2 >/dev/null
	echo 0 > $I2/events/mmap_lock/enable
	lost=$(cat $I2/per_cpu/cpu*/stats | awk '/^overrun:/ { s += $2 } END { print s + 0 }')
	echo 1 > $I2/options/sym-offset
	cat $I2/trace > $tmp/s.txt
	rm -f $tmp/s.dat
	(cd $tmp && trace-cmd extract -B mmltest-dstk-$$ -o $tmp/s.dat >$tmp/x.log 2>&1)
	drop $I2
	ntxt=$(grep -c ': mmap_lock_' $tmp/s.txt)
	ndat=$(trace-cmd report -i $tmp/s.dat 2>/dev/null | grep -c ': mmap_lock_')
	[ "$ntxt" -eq "$ndat" ]
}
# trace-cmd extract has, rarely and only with other sessions tracing at the
# same time, written a trace.dat holding a fraction of the buffer: one more try.
if ! stack_capture; then
	echo "note: trace-cmd extract wrote $ndat of the text's $ntxt events ($(tail -c 200 $tmp/x.log | tr '\n' ' ')); again"
	stack_capture || { echo "FAIL: trace-cmd extract wrote $ndat of the text's $ntxt events twice"; fail=1; }
fi
[ "$lost" -eq 0 ] || { echo "FAIL: the stack capture lost $lost events"; fail=1; }
if "$M" report $tmp/s.dat --stacks 100000 --json >$tmp/sd.json 2>$tmp/err &&
	"$M" report $tmp/s.txt --stacks 100000 --json >$tmp/st.json 2>>$tmp/err; then
	sel='[(.stacks.wait, .stacks.hold)[] | {count, frames}] | sort_by(.frames, .count)'
	jq -c "$sel" $tmp/sd.json >$tmp/a
	jq -c "$sel" $tmp/st.json >$tmp/b
	nw=$(jq '.stacks.wait | length' $tmp/sd.json)
	nh=$(jq '.stacks.hold | length' $tmp/sd.json)
	bad=$(jq -r '(.stacks.wait, .stacks.hold)[] | .frames[0]' $tmp/sd.json |
		grep -cE '^(trace_event_raw_event_|__traceiter_|__mmap_lock_do_trace_|0x)')
	syscall=$(jq -r '(.stacks.wait, .stacks.hold)[] | .frames[]' $tmp/sd.json | grep -c '^do_syscall_64+')
	if [ "$nw" -gt 0 ] && [ "$nh" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$syscall" -gt 0 ] && cmp -s $tmp/a $tmp/b; then
		echo "ok   stacks: $nw wait and $nh hold stacks from trace.dat, the same from the text"
	else
		echo "FAIL stacks: $nw wait, $nh hold, $bad led by tracing frames, $syscall through do_syscall_64; trace.dat $(head -c 300 $tmp/a); text $(head -c 300 $tmp/b)"
		fail=1
	fi
else
	echo "FAIL report --stacks: $(cat $tmp/err)"
	fail=1
fi
if [ -x "$B/tests/test-tracedat-pages" ]; then
	if "$B/tests/test-tracedat-pages" $tmp/s.dat >$tmp/same 2>&1; then echo "$(cat $tmp/same)"; else echo "FAIL page-wise vs record-wise (stacks): $(tail -c 600 $tmp/same)"; fail=1; fi
fi
# the folded export carries the kernel frames (function names, root first, after mode and kind)
if "$M" export $tmp/s.dat --format folded -o $tmp/f.txt 2>$tmp/err &&
	grep -q ';hold;entry_SYSCALL_64_after_hwframe;do_syscall_64;' $tmp/f.txt &&
	grep -q ';wait;entry_SYSCALL_64_after_hwframe;do_syscall_64;' $tmp/f.txt; then
	echo "ok   folded export of the trace.dat: $(grep -c ';do_syscall_64;' $tmp/f.txt) lines through do_syscall_64"
else
	echo "FAIL folded export of the trace.dat: $(cat $tmp/err; head -c 300 $tmp/f.txt)"
	fail=1
fi
exit $fail
