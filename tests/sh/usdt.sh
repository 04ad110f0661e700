#!/bin/sh
# usdt.sh: bpftrace attaches to libmmaplock's USDT probes in a running program
# (examples/usdt.c), and sees exactly the events the program fired, with the
# memcg path: an attached USDT probe is a listener (its semaphore turns the
# inline "enabled" test on and makes the library look the path up).
# Skips (77) without root, without bpftrace, or when bpftrace cannot attach.
set -u
build=${MMAPLOCK_BUILD:-build}
prog=$build/examples/example-usdt
lib=$build/libmmaplock.so
n=2000

skip() { echo "usdt.sh: skipped: $*"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root to attach uprobes"
command -v bpftrace >/dev/null 2>&1 || skip "bpftrace is not installed"
[ -x "$prog" ] && [ -f "$lib" ] || skip "no $prog or $lib (built without tracing?)"
readelf -n "$lib" 2>/dev/null | grep -q "Provider: mmaplock" || skip "$lib has no USDT notes"

tmp=$(mktemp -d)
trap 'kill $ppid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM

"$prog" $n 60 >"$tmp/prog.out" 2>&1 &
ppid=$!
sleep 0.3
script="
usdt:$lib:mmaplock:start_locking { @s = count(); }
usdt:$lib:mmaplock:acquire_returned { @a[arg3] = count(); }
usdt:$lib:mmaplock:released { @r = count(); @path[str(arg1)] = count(); }
uprobe:$prog:example_usdt_done { exit(); }"
timeout 90 bpftrace -p $ppid -e "$script" >"$tmp/bt.out" 2>"$tmp/bt.err"
bt=$?
wait $ppid
prc=$?
if ! grep -q '^@s:' "$tmp/bt.out"; then
	# (bpftrace always complains about RLIMIT_MEMLOCK; that is not it.)
	if grep -v RLIMIT_MEMLOCK "$tmp/bt.err" | grep -qi "attach\|finding location\|permission\|not supported"; then
		skip "bpftrace cannot attach here: $(grep -v RLIMIT_MEMLOCK "$tmp/bt.err" | grep -i error | tail -1)"
	fi
	echo "usdt.sh: FAIL: bpftrace (status $bt) printed no counts"; cat "$tmp/bt.err"
	exit 1
fi
[ $prc -eq 0 ] || { echo "usdt.sh: FAIL: example-usdt exited $prc"; cat "$tmp/prog.out"; exit 1; }
grep -q "^fired:" "$tmp/prog.out" || { echo "usdt.sh: FAIL: program output"; cat "$tmp/prog.out"; exit 1; }

val() { sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$tmp/bt.out" | head -1; }
s=$(val '@s:')
a0=$(val '@a\[0\]:')
a1=$(val '@a\[1\]:')
r=$(val '@r:')
# The program's own account: "fired: start_locking S acquire_returned A (failed F) released R"
set -- $(sed -n 's/^fired: start_locking \([0-9]*\) acquire_returned \([0-9]*\) (failed \([0-9]*\)) released \([0-9]*\)$/\1 \2 \3 \4/p' "$tmp/prog.out")
ws=$1 wa=$2 wf=$3 wr=$4
fail=0
check() { [ "$2" = "$3" ] || { echo "usdt.sh: FAIL: $1: bpftrace saw '$2', program fired '$3'"; fail=1; }; }
check start_locking "$s" "$ws"
check "acquire_returned success=true" "$a1" "$((wa - wf))"
check "acquire_returned success=false" "$a0" "$wf"
check released "$r" "$wr"

# The path bpftrace read from the probe's argument is the process's memcg path.
want=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3; found=1 } END { if (!found) exit 1 }' /proc/self/cgroup ||
	awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
got=$(sed -n 's/^@path\[\(.*\)\]: [0-9]*$/\1/p' "$tmp/bt.out")
want=$(printf '%s' "$want" | cut -c1-63)	# bpftrace's default string size is 64
check "memcg path (first 63 bytes)" "$got" "$want"
[ $fail -eq 0 ] || { cat "$tmp/bt.out"; exit 1; }
echo "usdt.sh: ok: bpftrace counted $s start_locking, $a1+$a0 acquire_returned, $r released; path $got"
