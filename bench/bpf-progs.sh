#!/bin/sh
# bench/bpf-progs.sh BUILD: the BPF back-end's programs one by one: with
# kernel.bpf_stats_enabled=1 for the run (restored after), `mmaplock
# exporter --backend bpf` attached, the mincore loop (N calls, default 1 M)
# and then `mmaplock stress -d DUR` (default 2); prints each program's runs
# and ns per run (run_time_ns / run_cnt, `bpftool prog show`) after each.
# The stats add their own clock reads: compare programs, not absolute ns.
set -eu
build=${1:-build}
M="$build/mmaplock"
L="$build/bench/mincore-loop"
[ "$(id -u)" -eq 0 ] || { echo "bpf-progs: needs root" >&2; exit 1; }
command -v bpftool >/dev/null && command -v jq >/dev/null || { echo "bpf-progs: needs bpftool and jq" >&2; exit 1; }
tmp=$(mktemp -d /tmp/mml-bprogs.XXXXXX)
old=$(sysctl -n kernel.bpf_stats_enabled)
xp=
trap '[ -n "$xp" ] && kill $xp 2>/dev/null; sysctl -q kernel.bpf_stats_enabled=$old; rm -rf "$tmp"' EXIT INT TERM
sysctl -q kernel.bpf_stats_enabled=1
. "$(dirname "$0")/lib.sh"	# bench_bpf_exporter
bench=bpf-progs
bench_bpf_exporter $tmp/x.err
xp=$bpf_xp
show() {
	bpftool prog show -j | jq -r --arg w "$1" '.[] | select(.name | startswith("mml_")) |
		"  \($w)  \(.name)\t\(.run_cnt) runs\t\(if .run_cnt > 0 then (.run_time_ns / .run_cnt * 10 | floor) / 10 else 0 end) ns/run"'
}
show "(start)   "
"$L" ${CALLS:-1000000} >/dev/null
show "(mincore) "
"$M" stress -d ${DUR:-2} >/dev/null
show "(+stress) "
