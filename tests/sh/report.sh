#!/bin/sh
# report.sh: `mmaplock report` end to end on the hand-made text traces of
# tests/fixtures (one scenario in four dialects: tracefs trace with a tgid
# column, older 4-flag ftrace with memcg_path, trace-cmd report -t, perf
# script -F with pid/tid) -> exact figures in JSON, table and CSV; bad
# arguments and bad input (a binary trace on stdin too) -> exit 2 with one
# line; damaged input -> read past the damage, exit 3 with one line; an
# output that cannot be written -> exit 1 with one line.
#
# The scenario: bash[100] in memcg 42 (/a) waits 1 us for write, holds 3 us,
# waits 2 us for read, holds 8 us. "kworker/u4:2 x"[201] (tgid 200), memcg 43
# ("/b/c d"), waits 15 us with a contention_begin inside (contended), holds
# 5 us, fails a write attempt, then releases an mm nobody acquired.
set -u
M=${MMAPLOCK:?MMAPLOCK: path of the mmaplock binary}
F=${MMAPLOCK_SRC:?}/tests/fixtures
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { :; }
bad() { echo "report.sh: FAIL: $*"; fail=1; }
command -v python3 >/dev/null || { echo "report.sh: python3 missing: skipped"; exit 77; }

check_json() {	# file era
	python3 - "$1" "$2" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
era = sys.argv[2]
ka, kb = ("memcg_id:42", "memcg_id:43") if era == "id" else ("/a", "/b/c d")
assert d["events"] == 14, d["events"]
assert d["lost_events"] == 0
assert d["duration_ns"] == 79000, d["duration_ns"]
assert d["by"] == "memcg"
u = d["unmatched"]
assert u["release_without_acquire"] == 1 and u["open_at_end"] == 0 and u["restart"] == 0, u
assert u["non_owner_releases"] == 0 and u["negative"] == 0, u
g = {x["key"]: x for x in d["groups"]}
assert list(g) == [kb, ka], list(g)          # sorted by total wait
a, b = g[ka], g[kb]
assert a["acquisitions"] == {"read": 1, "write": 1}, a
assert a["failed"] == 0 and a["contended"] == 0 and a["downgrades"] == 0
w = a["wait_ns"]; h = a["hold_ns"]
assert (w["total"], w["mean"], w["max"]) == (3000, 1500, 2000), w
assert (h["total"], h["max"]) == (11000, 8000), h
def near(v, want): return abs(v - want) <= want / 64
assert near(w["p50"], 1000) and near(w["p99"], 2000), w
assert near(h["p50"], 3000) and near(h["p99"], 8000), h
assert b["acquisitions"] == {"read": 1, "write": 0} and b["failed"] == 1 and b["contended"] == 1, b
assert (b["wait_ns"]["total"], b["wait_ns"]["max"], b["hold_ns"]["total"]) == (15000, 15000, 5000), b
assert near(b["wait_ns"]["p50"], 15000)
if era == "path":
    assert a["memcg_path"] == "/a" and b["memcg_path"] == "/b/c d"
else:
    assert a["memcg_path"] is None
PY
}

for f in text-ftrace-id.txt:id text-ftrace-path.txt:path text-tracecmd-t-path.txt:path text-perf-id.txt:id; do
	file=${f%%:*}; era=${f##*:}
	if ! "$M" report "$F/$file" --json >"$T/out.json" 2>"$T/err"; then
		bad "$file: exit $? $(cat "$T/err")"; continue
	fi
	check_json "$T/out.json" "$era" || bad "$file: JSON figures wrong"
	# the same from stdin, and options after the file
	"$M" report --json - <"$F/$file" >"$T/stdin.json" || bad "$file: stdin"
	check_json "$T/stdin.json" "$era" || bad "$file: stdin JSON figures wrong"
done

# process grouping: tgid from the trace where it is printed
"$M" report "$F/text-perf-id.txt" --by process --json >"$T/p.json" || bad "by process"
python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); k=sorted(x["key"] for x in d["groups"])
assert k == ["bash[100]", "kworker/u4:2 x[200]"], k' "$T/p.json" || bad "by process keys"
"$M" report "$F/text-ftrace-path.txt" --by task --json >"$T/t.json" || bad "by task"
python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); k=sorted(x["key"] for x in d["groups"])
assert k == ["bash[100]", "kworker/u4:2 x[201]"], k' "$T/t.json" || bad "by task keys"
"$M" report "$F/text-ftrace-id.txt" --by mm --sort count --top 1 --json >"$T/m.json" || bad "by mm"
python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); k=[x["key"] for x in d["groups"]]
assert k == ["0x11112222"], k' "$T/m.json" || bad "by mm --sort count --top 1"

# table: the /a row, times in us to the ns
"$M" report "$F/text-ftrace-path.txt" >"$T/table" || bad "table"
grep -Eq '^/a +1 +1 +0 +0 +0 +3\.000 +1\.500 .* 2\.000 +11\.000 ' "$T/table" || { bad "table row /a"; cat "$T/table"; }
grep -q 'release_without_acquire=1' "$T/table" || bad "table footer"
# CSV: header + 2 rows, the quoted key where needed
"$M" report "$F/text-ftrace-path.txt" --csv >"$T/csv" || bad "csv"
[ "$(wc -l <"$T/csv")" = 3 ] || bad "csv lines"
grep -q '^/a,1,1,0,0,0,2,3000,1500,' "$T/csv" || { bad "csv row"; cat "$T/csv"; }
# --hist: bcc-style rows
"$M" report "$F/text-ftrace-path.txt" --hist >"$T/hist" || bad "hist"
grep -Eq '^ +8 -> 15 : 1 +\|\*+ *\|$' "$T/hist" || { bad "hist rows"; cat "$T/hist"; }

# errors: exit 2, one line, naming the problem
expect2() {	# what, then the command
	what=$1; shift
	"$@" >"$T/o" 2>"$T/e"; rc=$?
	[ $rc = 2 ] || bad "$what: exit $rc, want 2"
	[ "$(wc -l <"$T/e")" = 1 ] || bad "$what: stderr not one line: $(cat "$T/e")"
	grep -q "^mmaplock report: " "$T/e" || bad "$what: $(cat "$T/e")"
}
expect2 "missing file" "$M" report "$T/nonexistent"
printf 'hello\nworld\n' >"$T/junk"
expect2 "junk" "$M" report "$T/junk"
grep -q "no mmap_lock events found" "$T/e" || bad "junk message: $(cat "$T/e")"
expect2 "bad --by" "$M" report "$F/text-perf-id.txt" --by color
expect2 "bad --top" "$M" report "$F/text-perf-id.txt" --top x
# out of range, negative or not a number: the range, one line (not "unknown option")
expect2 "--top too large" "$M" report "$F/text-perf-id.txt" --top 99999999999999999999
grep -q -- "--top 99999999999999999999: not a number from 1 to" "$T/e" || bad "--top too large: $(cat "$T/e")"
for v in -1 "=-1" "=abc" " 99999999999999999999" " 0"; do
	# shellcheck disable=SC2086
	case $v in =*) expect2 "--stacks$v" "$M" report "$F/stacks-trigger.dat" "--stacks$v" ;;
	*) expect2 "--stacks$v" "$M" report "$F/stacks-trigger.dat" --stacks $v ;; esac
	grep -q -- "--stacks .*: not a number from 1 to 100000$" "$T/e" || bad "--stacks$v: $(cat "$T/e")"
done
"$M" report "$F/stacks-trigger.dat" --stacks >"$T/o" 2>"$T/e" && grep -q . "$T/o" ||
	bad "--stacks alone (its default): $(cat "$T/e")"
"$M" report --stacks "$F/stacks-trigger.dat" >"$T/o" 2>"$T/e" || bad "--stacks FILE: $(cat "$T/e")"
expect2 "two files" "$M" report "$F/text-perf-id.txt" "$F/text-perf-id.txt"
printf 'MMLTRACE\001\000' >"$T/short.mml"
expect2 "short mml" "$M" report "$T/short.mml"
# a binary trace on stdin (read as text): said so, not "not a trace?"
expect2 "trace.dat on stdin" sh -c '"$1" report - <"$2"' sh "$M" "$F/stacks-trigger.dat"
grep -q "binary trace.*give its path" "$T/e" || bad "trace.dat on stdin: $(cat "$T/e")"
expect2 "mmaplock file on stdin" sh -c '"$1" report - <"$2"' sh "$M" "$T/short.mml"
grep -q "binary trace.*give its path" "$T/e" || bad "mmaplock file on stdin: $(cat "$T/e")"
"$M" report --help >/dev/null || bad "--help"

# a real tracefs capture of this kernel (stress run): parses, pairs, no negative intervals
"$M" report "$F/ftrace-real.txt" --json >"$T/r.json" || bad "real capture"
python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert d["events"] > 300 and d["unmatched"]["negative"] == 0, d["unmatched"]
assert sum(g["acquisitions"]["read"] + g["acquisitions"]["write"] for g in d["groups"]) > 50' "$T/r.json" || bad "real capture figures"

# real captures of this kernel: trace-cmd report (instance-prefixed lines) with and
# without -t must give the same counts per process; perf script (default and -F):
# every event line is read, keys are comm[tid] / comm[tgid]
for v in tracecmd-real tracecmd-t-real perf-real perf-F-real; do
	"$M" report "$F/$v.txt" --by process --json >"$T/$v.json" || bad "$v"
done
python3 - "$T" "$F" <<'PY' || bad "real captures"
import json, sys, re
T, F = sys.argv[1], sys.argv[2]
def load(v): return json.load(open("%s/%s.json" % (T, v)))
def counts(d): return {g["key"]: (g["acquisitions"]["read"], g["acquisitions"]["write"], g["failed"], g["wait_ns"]["count"], g["hold_ns"]["count"]) for g in d["groups"]}
a, b = load("tracecmd-real"), load("tracecmd-t-real")
assert counts(a) == counts(b), (counts(a), counts(b))
assert all(not k.startswith("h3tc") for k in counts(a)), counts(a)
assert a["unmatched"]["negative"] == 0 and b["unmatched"]["negative"] == 0
for v in ("tracecmd-real", "perf-real", "perf-F-real"):
    lines = open("%s/%s.txt" % (F, v)).read().splitlines()
    want = sum(1 for l in lines if re.search(r" (mmap_lock:)?mmap_lock_\w+:\s+mm=| (lock:)?contention_(begin|end):\s", l)
               and not re.search(r"flags=SPIN\)", l))
    d = load(v)
    assert d["events"] == want, (v, d["events"], want)
p, pf = counts(load("perf-real")), counts(load("perf-F-real"))
assert all(re.match(r".+\[\d+\]$", k) for k in list(p) + list(pf)), (p, pf)
PY

# streaming: a 2 M event file (bench/gen-trace) read in bounded memory; cut mid-block, it
# still reads (one line, exit 3: damaged input); one flipped payload byte more: that block
# is skipped too, the rest read (exit 3, one line, counted in the JSON)
G=${MMAPLOCK_BUILD:-}/bench/gen-trace
if [ -x "$G" ] && [ -x /usr/bin/time ]; then
	"$G" "$T/big.mml" 2000000 2 >/dev/null || bad "gen-trace"
	/usr/bin/time -f "%M" -o "$T/rss" "$M" report "$T/big.mml" --json >"$T/big.json" || bad "big"
	rss=$(tail -1 "$T/rss")
	echo "report.sh: 2 M events read with max RSS $rss KB"
	[ "$rss" -lt 51200 ] || bad "max RSS $rss KB for 2 M events (want < 50 MB)"
	python3 -c '
import json,sys; d=json.load(open(sys.argv[1]))
assert d["events"] >= 2000000 and d["unmatched"]["open_at_end"] == 0 and d["unmatched"]["restart"] == 0
assert len(d["groups"]) == 8
assert not d["truncated"] and d["damaged_blocks"] == 0 and d["damaged_bytes"] == 0' "$T/big.json" ||
		bad "big figures"
	head -c 3000000 "$T/big.mml" >"$T/cut.mml"
	# a cut file: what its complete blocks hold is reported, then exit 3
	"$M" report --json "$T/cut.mml" >"$T/cut.json" 2>"$T/e"; rc=$?
	[ $rc -eq 3 ] || bad "cut file: exit $rc (want 3)"
	[ "$(wc -l <"$T/e")" -eq 1 ] && grep -q "truncated, 1 damaged block" "$T/e" ||
		bad "cut file: not one line naming the truncation: $(cat "$T/e")"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["truncated"] and d["events"] > 0 and d["damaged_blocks"] == 1 and 0 < d["damaged_bytes"] < 3000000' \
		"$T/cut.json" || bad "cut file: the complete blocks were not reported"
	python3 -c '
import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[200000]^=1; open(sys.argv[1],"wb").write(b)' "$T/cut.mml"
	"$M" report --json "$T/cut.mml" >"$T/flip.json" 2>"$T/e"; rc=$?
	[ $rc -eq 3 ] || bad "corrupt mml: exit $rc (want 3)"
	[ "$(wc -l <"$T/e")" -eq 1 ] && grep -q "^mmaplock report: .*cut.mml: truncated, 2 damaged blocks" "$T/e" ||
		bad "corrupt message: $(cat "$T/e")"
	python3 -c '
import json,sys; c=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
assert d["damaged_blocks"] == 2 and d["damaged_bytes"] > c["damaged_bytes"], d
assert 0 < d["events"] < c["events"], (d["events"], c["events"])' "$T/cut.json" "$T/flip.json" ||
		bad "corrupt mml: the blocks after the damage were not read"
else
	echo "report.sh: gen-trace or /usr/bin/time missing: streaming part skipped"
fi

# an output that cannot be written (disk full): one line saying so, exit 1
# (it was exit 1 and not a word), in each format
if [ -c /dev/full ]; then
	for a in "" "--json" "--csv" "--hist" "--by holder" "--by holder --json"; do
		# shellcheck disable=SC2086
		"$M" report "$F/ftrace-real.txt" $a >/dev/full 2>$T/full.err
		rc=$?
		[ $rc -eq 1 ] && [ "$(wc -l <$T/full.err)" -eq 1 ] && grep -q "write error" $T/full.err ||
			bad "report $a >/dev/full: exit $rc: $(cat $T/full.err)"
	done
fi

[ $fail = 0 ] && echo "report.sh: ok"
exit $fail
