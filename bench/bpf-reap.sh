#!/bin/sh
# bench/bpf-reap.sh BUILD: how full the BPF back-end's aggregate map gets
# under process churn. The test driver (BUILD/tests/bpf-dump -b process,
# 1 s windows, the default map of 1024 entries) runs 8 s while a loop starts
# K (default 8) /bin/true, then sleeps 0.1 s, for 7 s; 6 s in, the map's
# entries and the kernel's counters are read (`bpftool map dump`). Prints
# the processes started, the windows' events and lost events (a full map),
# and the entries in the map at 6 s. Other processes of the machine count
# too: compare builds in one sitting, alternated.
set -eu
build=${1:-build}
D="$build/tests/bpf-dump"
K=${K:-8}
[ "$(id -u)" -eq 0 ] || { echo "bpf-reap: needs root" >&2; exit 1; }
command -v bpftool >/dev/null && command -v jq >/dev/null || { echo "bpf-reap: needs bpftool and jq" >&2; exit 1; }
[ -x "$D" ] || { echo "bpf-reap: $D not built" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-breap.XXXXXX)
dp=
trap '[ -n "$dp" ] && kill $dp 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
"$D" -b process -d 8 -w 1000 >$tmp/out.json 2>$tmp/err &
dp=$!
sleep 0.5
(sleep 6; bpftool map dump name mml_aggs -j | jq length >$tmp/entries) &
end=$(($(date +%s) + 7)) n=0
while [ "$(date +%s)" -lt $end ]; do
	k=0
	while [ $k -lt "$K" ]; do
		/bin/true
		k=$((k + 1))
	done
	sleep 0.1
	n=$((n + K + 1))
done
wait $dp || { echo "bpf-reap: bpf-dump failed: $(cat $tmp/err)" >&2; exit 1; }
dp=
wait
printf 'processes started %d, ' $n
jq -j '"events \(.events), lost \(.lost_events), "' $tmp/out.json
echo "aggregate map entries at 6 s: $(cat $tmp/entries) of 1024"
