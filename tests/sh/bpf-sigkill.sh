#!/bin/sh
# bpf-sigkill.sh: a SIGKILLed user of the BPF back-end leaves nothing in the
# kernel. bpf-dump attaches (its programs show in `bpftool prog`, their
# links in `bpftool link`), is killed with SIGKILL mid-run, and within a
# few seconds neither its programs nor any link to them exist (links are
# file descriptors, nothing is pinned). Skipped without root, BTF, the BPF
# back-end, bpftool or jq.
set -u
. "$(dirname "$0")/lib.sh"
need root btf bpftool jq bpf
scratch bpfkill

progs() { "$BT" -j prog show | jq -r '.[] | select(.name | startswith("mml_")) | .id' | sort; }
links() { "$BT" -j link show | jq -r '.[] | .prog_id' | sort; }

progs >$tmp/before
"$D" -d 600 >/dev/null 2>$tmp/err &
dp=$!
wait_attached $dp $tmp/err || { kill -9 $dp; echo "FAIL bpf-dump never attached: $(cat $tmp/err)"; exit 1; }
progs | comm -13 $tmp/before - >$tmp/ours
n=$(wc -l <$tmp/ours)
[ "$n" -ge 3 ] && ok "attached: $n programs" || bad "attached but $n programs of ours in bpftool prog"
nl=$(links | grep -cxFf $tmp/ours)
[ "$nl" -ge 3 ] && ok "attached: $nl links" || bad "attached but $nl links to our programs"

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
	bad "after SIGKILL: $left of our programs remain"
[ "$nl" = 0 ] && ok "after SIGKILL: no link to them in bpftool link" ||
	bad "after SIGKILL: $nl links remain"
[ $fail = 0 ] && echo "bpf-sigkill.sh: ok"
exit $fail
