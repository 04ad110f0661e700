#!/bin/sh
# stack.sh: `record --stack` on the real kernel. A stress run (writer,
# mincore and smaps readers) recorded with stacks: the summary counts
# stacks; `report --stacks --json` names the lock takers' kernel functions
# (mincore, mprotect/munmap) at the top of wait and hold stacks, never the
# tracing machinery; the folded export carries the kernel frames. Then the
# same with /proc/kallsyms hiding its addresses (kptr_restrict=2): one
# warning line, the recording goes on, stacks kept as addresses.
set -u
. "$(dirname "$0")/lib.sh"
need root tracefs
[ -d $T/events/ftrace/kernel_stack ] || skip "no ftrace:kernel_stack event"
need jq

scratch stack
ls $T/instances | grep '^mmaplock-' | sort >$tmp/inst.before
kptr=$(cat /proc/sys/kernel/kptr_restrict)
at_exit 'echo "$kptr" > /proc/sys/kernel/kptr_restrict'

"$M" record --stack -o $tmp/s.mml -- "$M" stress -t 3 -d 1 >/dev/null 2>$tmp/rec.err ||
	{ echo "FAIL: record --stack: $(cat $tmp/rec.err)"; exit 1; }
cat $tmp/rec.err
grep -q "stacks (" $tmp/rec.err || { echo "FAIL: no stack summary line"; fail=1; }
nst=$(sed -n 's/.*: \([0-9]*\) stacks (\([0-9]*\) distinct.*/\1/p' $tmp/rec.err)
[ "${nst:-0}" -gt 0 ] || { echo "FAIL: no stack recorded"; fail=1; }

"$M" report --stacks --json $tmp/s.mml > $tmp/r.json 2>$tmp/rep.err ||
	{ echo "FAIL: report --stacks: $(cat $tmp/rep.err)"; exit 1; }
for kind in wait hold; do
	n=$(jq ".stacks.$kind | length" $tmp/r.json)
	[ "${n:-0}" -gt 0 ] || { echo "FAIL: no $kind stacks in the report"; fail=1; }
	# every frame a symbol, and never the tracing machinery at the leaf
	jq -r ".stacks.$kind[].frames[0]" $tmp/r.json > $tmp/leaf.$kind
	if grep -E '^(trace_event_raw_event_|__mmap_lock_do_trace_|0x)' $tmp/leaf.$kind; then
		echo "FAIL: $kind stack leaf frames are tracing machinery or unsymbolized"; fail=1
	fi
done
jq -r '.stacks.wait[].frames[], .stacks.hold[].frames[]' $tmp/r.json > $tmp/frames
for f in mincore do_syscall_64; do
	grep -q "$f" $tmp/frames || { echo "FAIL: no stack through $f"; fail=1; }
done
grep -Eq 'mprotect|munmap|mmap_region|vm_mmap' $tmp/frames ||
	{ echo "FAIL: no writer stack (mprotect/munmap/mmap)"; fail=1; }

"$M" export $tmp/s.mml --format folded -o $tmp/f.txt 2>$tmp/exp.err ||
	{ echo "FAIL: export folded: $(cat $tmp/exp.err)"; fail=1; }
grep -q 'do_syscall_64' $tmp/f.txt || { echo "FAIL: folded export without kernel frames"; fail=1; }

# stat passes --stacks N (a separate number) through to the report
"$M" stat --stack --stacks 1 -- "$M" stress -d 0.3 > $tmp/stat.txt 2>&1 ||
	{ echo "FAIL: stat --stack --stacks 1: $(tail -3 $tmp/stat.txt)"; fail=1; }
[ "$(grep -c '^#1 stack' $tmp/stat.txt)" -eq 2 ] && ! grep -q '^#2 stack' $tmp/stat.txt ||
	{ echo "FAIL: stat --stacks 1 should show one wait and one hold stack"; fail=1; }

# symbols hidden: a warning, stacks as addresses, the recording complete
echo 2 > /proc/sys/kernel/kptr_restrict
"$M" record --stack -o $tmp/h.mml -- "$M" stress -d 0.5 >/dev/null 2>$tmp/h.err ||
	{ echo "FAIL: record --stack with kptr_restrict=2 failed: $(cat $tmp/h.err)"; fail=1; }
echo "$kptr" > /proc/sys/kernel/kptr_restrict
cat $tmp/h.err
[ "$(grep -c 'no kernel symbols' $tmp/h.err)" -eq 1 ] || { echo "FAIL: expected one warning line"; fail=1; }
grep -q " lost, written to" $tmp/h.err || { echo "FAIL: the recording did not complete"; fail=1; }
"$M" report --stacks --json $tmp/h.mml > $tmp/h.json 2>/dev/null ||
	{ echo "FAIL: report of the address-only recording"; fail=1; }
jq -r '.stacks.hold[0].frames[0]' $tmp/h.json | grep -q '^0x' ||
	{ echo "FAIL: address-only stacks should show addresses"; fail=1; }

# ours only: another mmaplock (an exporter, say) may be running on the machine
ls $T/instances | grep '^mmaplock-' | sort >$tmp/inst.after
comm -13 $tmp/inst.before $tmp/inst.after | grep -q . && { echo "FAIL: an instance was left behind"; fail=1; }
[ $fail -eq 0 ] && echo "stack.sh: ok"
exit $fail
