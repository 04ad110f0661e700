#!/bin/sh
# watch-bpf.sh: `mmaplock watch --backend bpf` on the real kernel, as
# watch.sh does for tracefs. `mmaplock stress --stall 200` in a memory
# cgroup makes a mincore reader wait about 200 ms behind a thread
# (stress-stall) that holds the mmap_lock for write; watch --backend bpf
# --wait-over 50 must write an incident whose line names that thread as the
# holder, with a holder stack in the mmap path and a waiter stack in
# mincore, and `report --by holder` on the file must blame the same thread.
# With rings far too small for the window the incident is still written
# (the crossing is seen in the kernel). A threshold far above the stall
# makes no incident. --backend auto says in
# one line which back-end runs. After SIGKILL no program or link of ours is
# left (`bpftool prog`, `bpftool link`). Skipped without root, BTF, the BPF
# build, bpftool, jq or a cgroup v1 memory hierarchy.
set -u
. "$(dirname "$0")/lib.sh"
need root btf bpftool cgroup jq

scratch watchbpf
G=mmltest-watchbpf-$$
memcg_make $G

ours() { "$BT" -j prog show | jq -r '.[] | select(.name | startswith("mml_w")) | .id' | sort; }

# a usage error is one
"$M" watch --backend nosuch -d 1 -o $tmp/u >/dev/null 2>$tmp/u.err
[ $? -eq 2 ] || { echo "FAIL: --backend nosuch is not a usage error: $(cat $tmp/u.err)"; fail=1; }
"$M" watch --backend bpf -p 1 -d 1 -o $tmp/u >/dev/null 2>$tmp/u.err
[ $? -eq 2 ] || { echo "FAIL: --backend bpf -p is not a usage error: $(cat $tmp/u.err)"; fail=1; }

# 1. an incident, naming the stall thread; 2. its file an ordinary recording
stall 20
"$M" watch --backend bpf --wait-over 50 --json --max-incidents 4 -d 15 -o $tmp/inc >$tmp/w.json 2>$tmp/w.err
rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
if [ $rc -ne 0 ] && grep -Eq 'bpf: (not built|no privileges|no BTF|the kernel has no)' $tmp/w.err; then
	echo "watch-bpf.sh: skipped: $(cat $tmp/w.err)"
	exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: watch exit $rc: $(cat $tmp/w.err)"; fail=1; }
grep -q 'using the bpf back-end' $tmp/w.err || { echo "FAIL: no line saying bpf runs: $(cat $tmp/w.err)"; fail=1; }
check_stall_incident $tmp/w.json $tmp/inc bpf
"$M" report --html $tmp/r.html "$file" >/dev/null 2>$tmp/html.err ||
	{ echo "FAIL: report --html: $(cat $tmp/html.err)"; fail=1; }

# 2b. the crossing is seen in the kernel: with rings far too small to keep the
# window (4096 records a CPU), the incident is still written, and readable
stall 20
"$M" watch --backend bpf --ring-mb 1 --wait-over 50 --json --max-incidents 1 -d 15 -o $tmp/tiny >$tmp/t.json 2>$tmp/t.err
rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ $rc -eq 0 ] || { echo "FAIL: watch --ring-mb 1: exit $rc: $(cat $tmp/t.err)"; fail=1; }
tl=$(head -n 1 $tmp/t.json)
[ "$(echo "$tl" | jq -r '.ms > 50')" = true ] ||
	{ echo "FAIL: --ring-mb 1: no incident over 50 ms: $tl $(cat $tmp/t.err)"; fail=1; }
tf=$(echo "$tl" | jq -r .file)
[ -f "$tf" ] && "$M" report "$tf" >/dev/null 2>$tmp/tr.err ||
	{ echo "FAIL: --ring-mb 1: the incident file does not read: $(cat $tmp/tr.err)"; fail=1; }

# 3. a threshold above the longest wait: no incident
stall 6
"$M" watch --backend bpf --wait-over 3000 --json -d 4 -o $tmp/none >$tmp/n.json 2>$tmp/n.err
rc=$?
kill $spid 2>/dev/null; wait $spid 2>/dev/null; spid=
[ $rc -eq 0 ] || { echo "FAIL: watch --wait-over 3000: exit $rc: $(cat $tmp/n.err)"; fail=1; }
[ -s $tmp/n.json ] && { echo "FAIL: incident over a 3 s threshold (stall 200 ms): $(cat $tmp/n.json)"; fail=1; }
[ -z "$(ls $tmp/none 2>/dev/null)" ] || { echo "FAIL: files with no incident: $(ls $tmp/none)"; fail=1; }

# 4. auto takes bpf and says so; after SIGKILL none of our programs or links is left
ours >$tmp/before
"$M" watch --wait-over 50 -o $tmp/sig >/dev/null 2>$tmp/sig.err &
wp=$!
i=0
while { [ -z "$(ours | comm -13 $tmp/before -)" ] || ! grep -q 'using the' $tmp/sig.err; } && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
ours | comm -13 $tmp/before - >$tmp/mine
[ -s $tmp/mine ] || { echo "FAIL: watch (auto) loaded no program: $(cat $tmp/sig.err)"; fail=1; }
grep -q 'using the bpf back-end' $tmp/sig.err || { echo "FAIL: auto: no line saying bpf runs: $(cat $tmp/sig.err)"; fail=1; }
kill -KILL $wp
wait $wp 2>/dev/null
i=0
while [ -n "$(ours | comm -12 $tmp/mine -)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
left=$(ours | comm -12 $tmp/mine -)
[ -z "$left" ] || { echo "FAIL: programs left after SIGKILL: $left"; fail=1; }
for id in $(cat $tmp/mine); do
	"$BT" -j link show | jq -e ".[] | select(.prog_id == $id)" >/dev/null 2>&1 &&
		{ echo "FAIL: a link to program $id left after SIGKILL"; fail=1; }
done

[ $fail -eq 0 ] && echo "watch-bpf.sh: ok ($n incident, holder $(j '.holders[0].comm'), $(j .ms) ms)"
exit $fail
