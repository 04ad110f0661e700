#!/bin/sh
# bpf-sigkill.sh: a SIGKILLed user of the BPF back-end leaves nothing in the
# kernel. bpf-dump attaches (its programs show in `bpftool prog`, their
# links in `bpftool link`), is killed with SIGKILL mid-run, and within a
# few seconds neither its programs nor any link to them exist (links are
# file descriptors, nothing is pinned). Skipped without root, BTF, the BPF
# back-end, bpftool or jq.
set -u
D=${MMAPLOCK_BUILD:-build}/tests/bpf-dump
[ "$(id -u)" -eq 0 ] || { echo "bpf-sigkill.sh: skipped: needs root"; exit 77; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "bpf-sigkill.sh: skipped: no BTF at /sys/kernel/btf/vmlinux"; exit 77; }
BT=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BT" ] || { echo "bpf-sigkill.sh: skipped: bpftool missing"; exit 77; }
command -v jq >/dev/null || { echo "bpf-sigkill.sh: skipped: jq missing"; exit 77; }
[ -x "$D" ] || { echo "bpf-sigkill.sh: skipped: $D not built"; exit 77; }

tmp=$(mktemp -d /tmp/mml-bpfkill.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fail=1; }

progs() { "$BT" -j prog show | jq -r '.[] | select(.name | startswith("mml_")) | .id' | sort; }
links() { "$BT" -j link show | jq -r '.[] | .prog_id' | sort; }

progs >$tmp/before
"$D" -d 600 >/dev/null 2>$tmp/err &
dp=$!
i=0
until grep -q attached $tmp/err 2>/dev/null; do
	if ! kill -0 $dp 2>/dev/null; then
		wait $dp
		[ $? = 77 ] && { echo "bpf-sigkill.sh: skipped: $(cat $tmp/err)"; exit 77; }
		echo "FAIL bpf-dump died: $(cat $tmp/err)"
		exit 1
	fi
	[ $i -lt 200 ] || { kill -9 $dp; echo "FAIL bpf-dump never attached"; exit 1; }
	sleep 0.05
	i=$((i + 1))
done
progs | comm -13 $tmp/before - >$tmp/ours
n=$(wc -l <$tmp/ours)
[ "$n" -ge 3 ] && ok "attached: $n programs" || no "attached but $n programs of ours in bpftool prog"
nl=$(links | grep -cxFf $tmp/ours)
[ "$nl" -ge 3 ] && ok "attached: $nl links" || no "attached but $nl links to our programs"

kill -KILL $dp
wait $dp 2>/dev/null
i=0
while :; do
	left=$(progs | grep -cxFf $tmp/ours)
	nl=$(links | grep -cxFf $tmp/ours)
	[ "$left" = 0 ] && [ "$nl" = 0 ] && break
	[ $i -lt 100 ] || break
	sleep 0.05
	i=$((i + 1))
done
[ "$left" = 0 ] && ok "after SIGKILL: none of our programs in bpftool prog" ||
	no "after SIGKILL: $left of our programs remain"
[ "$nl" = 0 ] && ok "after SIGKILL: no link to them in bpftool link" ||
	no "after SIGKILL: $nl links remain"
[ $fail = 0 ] && echo "bpf-sigkill.sh: ok"
exit $fail
